//! The app's processes as Linux's `/proc` shows them, for the desktop measurements
//! (`examples/desktop_perf.rs`, `examples/web_memory.rs`): finding the app started with a
//! given HOME, its process tree (WebKit's web and network processes), waiting for it to end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use fantoccini::Client;

use crate::{Driver, app_binary, wait_until};

/// The fields of `/proc/PID/stat` after the command name (which may hold spaces): index 0 is
/// the state (field 3).
pub fn stat_fields(pid: u32) -> Result<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = &s[s.rfind(')').context("stat format")? + 2..];
    Ok(rest.split_whitespace().map(str::to_owned).collect())
}

/// The app's process: the one running the app binary with this HOME.
pub fn find_app(home: &Path) -> Result<u32> {
    let want = std::fs::canonicalize(app_binary())?;
    let home_var = format!("HOME={}", home.display());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for pid in pids()? {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            if exe != want {
                continue;
            }
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            if env.split(|b| *b == 0).any(|kv| kv == home_var.as_bytes()) {
                return Ok(pid);
            }
        }
        if Instant::now() > deadline {
            bail!("no running {} with {home_var}", want.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits up to 10 s for `pid` to end.
pub async fn wait_gone(pid: u32) {
    for _ in 0..100 {
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every process id on the machine.
pub fn pids() -> Result<Vec<u32>> {
    Ok(std::fs::read_dir("/proc")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect())
}

/// The app and every process under it (WebKit's web and network processes), with names.
pub fn tree(root: u32) -> Result<Vec<(u32, String)>> {
    let mut parent = BTreeMap::new();
    for pid in pids()? {
        if let Ok(f) = stat_fields(pid)
            && let Some(pp) = f.get(1).and_then(|p| p.parse::<u32>().ok())
        {
            parent.insert(pid, pp);
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parent.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    Ok(out
        .into_iter()
        .map(|pid| {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .unwrap_or_default()
                .trim()
                .to_owned();
            (pid, name)
        })
        .collect())
}

/// KiB of `pid`'s anonymous memory that is mapped writable and executable at once: what a
/// JavaScript JIT reserves for its code (JavaScriptCore's pool is 1 GiB on x86-64 Linux).
pub fn writable_executable_kib(pid: u32) -> Result<u64> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mut kib = 0;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        // Anonymous: no path after offset, device and inode.
        if fields.nth(3).is_some() || !(perms.contains('w') && perms.contains('x')) {
            continue;
        }
        let (start, end) = range.split_once('-').context("maps range")?;
        let size = u64::from_str_radix(end, 16)? - u64::from_str_radix(start, 16)?;
        kib += size / 1024;
    }
    Ok(kib)
}

#[allow(clippy::cast_precision_loss)]
/// KiB to MiB, for printing.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Opens `perpdesk --floor` (the same binary and webview settings with an empty page) through
/// `driver`, waits for its page to load, and gives the session and the app's process.
pub async fn open_floor(driver: &Driver) -> Result<(Client, u32)> {
    let client = driver.launch_with_args(&["--floor"]).await?;
    wait_until(
        &client,
        "the floor page to load",
        "return document.readyState === 'complete';",
        vec![],
        60,
        |v| *v == true,
    )
    .await?;
    let app = find_app(driver.home())?;
    Ok((client, app))
}
