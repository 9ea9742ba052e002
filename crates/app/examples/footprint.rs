//! The engine's memory without a window (issue 18 item 7): starts the engine as the desktop
//! shell does (paper exchange at the default speed with its state file, the database, the
//! background work), sets up or unlocks the vault, waits for the family study and a signal,
//! and prints `/proc/self/smaps_rollup` at each stage. The desktop's own measurement is
//! `tests/e2e/examples/desktop_perf.rs`; this one isolates the engine, so each change's
//! effect is seen in seconds and can be profiled (e.g. under `heaptrack`).
//!
//! ```text
//! # the first run makes DIR (first-run screen); run it again for a returning start (unlock)
//! cargo run -p perpdesk-app --example footprint -- --dir /tmp/fp [--list A,B=A] [--settle 20]
//! ```
//!
//! A measurement, not a test: it prints what it saw. Linux only (`/proc`). It runs with the
//! allocator and allocator options the desktop binary ships; to compare with glibc, build it
//! without the `#[global_allocator]` below. heaptrack hooks glibc's `malloc` and so sees
//! nothing mimalloc serves: profile owners with that glibc build (`heaptrack_print
//! --flamegraph-cost-type leaked -F stacks.txt` lists what the idle engine holds, by stack).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use perpdesk_app::venue::{DEFAULT_SPEED, PaperSymbol, PaperVenue};
use perpdesk_app::{AppEvent, Engine, EngineConfig, Events};
use perpdesk_vault::SecretString;

/// The allocator the desktop binary ships (src-tauri/src/main.rs), so this measures what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mimalloc options the desktop binary re-executes itself with on Linux; kept in step with
/// the mimalloc entries of `perpdesk_desktop::process_env::PROCESS_ENV` (this crate cannot
/// depend on the shell; its glibc tunables and JavaScriptCore setting are for GTK and WebKit,
/// which this does not start).
const MIMALLOC_OPTIONS: [(&str, &str); 3] = [
    ("MIMALLOC_PURGE_DELAY", "0"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_ALLOW_THP", "0"),
];

/// Errors end the measurement with a message; nothing here is worth a typed error.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const PASSWORD: &str = "measure the engine footprint 42";

fn main() -> Result<()> {
    use std::os::unix::process::CommandExt;

    let missing: Vec<_> = MIMALLOC_OPTIONS
        .into_iter()
        .filter(|(key, _)| std::env::var_os(key).is_none())
        .collect();
    if !missing.is_empty() {
        // As the desktop binary does; returns only when the exec failed.
        let err = std::process::Command::new(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .envs(missing)
            .exec();
        return Err(format!("re-exec with the allocator options: {err}").into());
    }
    measure()
}

#[tokio::main]
async fn measure() -> Result<()> {
    let mut dir = None;
    let mut list = None;
    let mut settle = 20_u64;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => dir = it.next().map(PathBuf::from),
            "--list" => list = it.next(),
            "--settle" => settle = it.next().ok_or("--settle SECS")?.parse()?,
            other => return Err(format!("unknown option {other:?}").into()),
        }
    }
    let dir = dir.ok_or("--dir DIR is required")?;
    std::fs::create_dir_all(&dir)?;
    let data = PathBuf::from(std::env::var("PERPDESK_SHARED")?).join("data");
    let symbols = match &list {
        Some(l) => PaperSymbol::parse_list(l)?,
        None => PaperSymbol::defaults(),
    };
    let t0 = Instant::now();
    report("start", t0)?;

    let paper = PaperVenue::start_listing(
        &data,
        &symbols,
        Some(DEFAULT_SPEED),
        Some(dir.join("paper-exchange.json")),
    )
    .await?;
    report("paper exchange loaded", t0)?;

    let db = dir.join("perpdesk.db");
    let returning = db.exists();
    let config = EngineConfig {
        database: Some(db),
        ..EngineConfig::default()
    };
    let engine = Arc::new(Engine::open(config, Some(paper), Events::new()).await?);
    let mut events = engine.events().subscribe();
    let _background = engine.spawn_background(Duration::from_secs(5));
    report("engine open, background started", t0)?;

    let password = SecretString::new(PASSWORD.to_owned());
    if returning {
        engine.unlock(password).await?;
        report("unlocked", t0)?;
    } else {
        engine.first_run(password).await?;
        report("first run done", t0)?;
    }

    let (mut study, mut signal) = (false, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while !(study && signal) {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .map_err(|_| "no study and signal within 10 minutes")?;
        match event {
            Ok(AppEvent::StudyReady { .. }) if !study => {
                study = true;
                report("study ready", t0)?;
            }
            Ok(AppEvent::Signal { symbol, .. }) if !signal => {
                signal = true;
                report(&format!("first signal ({symbol})"), t0)?;
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => return Err(format!("events: {e}").into()),
        }
    }
    tokio::time::sleep(Duration::from_secs(settle)).await;
    report(&format!("idle {settle} s later"), t0)?;
    // Out without dropping anything, so a heap profiler's "leaked" is what the idle engine
    // holds (the paper exchange saved itself within the last 10 s).
    std::process::exit(0)
}

/// Prints the process's memory as the kernel counts it, in MiB.
fn report(stage: &str, t0: Instant) -> Result<()> {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup")?;
    let kib = |key: &str| -> f64 {
        rollup
            .lines()
            .filter(|l| l.starts_with(key))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .sum()
    };
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0);
    let mib = |k: f64| k / 1024.0;
    println!(
        "{:>7.2} s  {stage:<36} RSS {:7.1}  PSS {:7.1}  private {:7.1}  anon {:7.1}  peak RSS {:7.1} MiB",
        t0.elapsed().as_secs_f64(),
        mib(kib("Rss:")),
        mib(kib("Pss:")),
        mib(kib("Private_Clean:") + kib("Private_Dirty:")),
        mib(kib("Anonymous:")),
        mib(hwm),
    );
    Ok(())
}
