//! The environment the desktop binary runs with: its allocators' options (mimalloc, see
//! `main.rs`, and glibc's, which GTK and WebKit use) and the webview's JavaScript engine's.
//!
//! Each is read from the environment only: mimalloc's once, before `main` (setting them from
//! code needs `unsafe`, denied in the workspace); glibc's and JavaScriptCore's by WebKit's
//! processes, which inherit this one's environment. So on Linux, where they were measured, the
//! binary re-executes itself once with the missing ones set: the same process (exec keeps the
//! pid, so single-instance and autostart see no difference), the same arguments.

use std::ffi::OsString;

/// Environment settings the allocators and the webview's JavaScript engine read at start.
///
/// mimalloc (2.3, the Rust side): return freed memory at once instead of 10 ms later, and
/// commit arena memory as it is used instead of all of it up front (its Linux default, which
/// counts untouched arena pages once the kernel backs them). Measured with
/// `crates/app/examples/footprint.rs` (debug, first run, 10 s idle after the study): 71.5 MiB
/// PSS with these against 139.7 without (glibc's default: 197.5).
///
/// mimalloc also without transparent huge pages: it asks for them on its arenas, and where the
/// system grants them (THP mode `madvise`, as on the machine measured, or `always`) a 2 MiB
/// page is resident whole however little of it is used (8 MiB of the app's first arena at
/// idle, 4 of the floor's). Measured with `tests/e2e/examples/desktop_perf.rs` (release, 2
/// watched, five runs): the perpdesk process 123.5–125.9 MiB PSS against 128.8–133.3 with
/// them, its floor 86.3–87.3 against 89.8–90.3, perpdesk 74.9–78.5 above the floor against
/// 77.1–83.0.
///
/// glibc (GTK and WebKit in this process, and the WebKit processes, which inherit the
/// environment): two arenas instead of eight per core, and freed blocks over 128 KiB returned
/// to the system. Measured with `tests/e2e/examples/desktop_perf.rs` (release, 2 watched):
/// 130.5, 132.9 and 132.3 MiB PSS above the floor with it against 139.0 and 139.2 without; the
/// web process's idle anonymous memory 49.5 against 56.5 MiB.
///
/// JavaScriptCore (the web process's engine): the interpreter only, no JIT. The dashboard's
/// scripts run on events (a candle, a signal, a click) and hand the drawing to the canvas;
/// with a JIT the web process kept its compiled code, its compilers' memory and a 1 GiB
/// writable-and-executable pool. Measured with `tests/e2e/examples/desktop_perf.rs`
/// (release, 2 watched, idle): the web process 131.3–133.9 MiB PSS in eleven runs without a JIT,
/// 138.7 with the baseline JIT only (`JSC_useDFGJIT=0`), 150.8 with every tier; the floor's
/// empty page 2–3 MiB less too. Cold start, the dashboard's time after the password and the
/// streaming frames stayed within their run-to-run spread. Without memory that is both
/// writable and executable, a bug in the page's engine is also one step further from running
/// code in the process that shows a trading account (Apple's Lockdown Mode turns the JIT off
/// for that reason).
pub const PROCESS_ENV: [(&str, &str); 5] = [
    ("MIMALLOC_PURGE_DELAY", "0"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_ALLOW_THP", "0"),
    (
        "GLIBC_TUNABLES",
        "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072",
    ),
    ("JSC_useJIT", "0"),
];

/// The settings `env` leaves unset; a value the user set is kept as it is.
pub fn missing_options(
    env: impl Fn(&str) -> Option<OsString>,
) -> Vec<(&'static str, &'static str)> {
    PROCESS_ENV
        .into_iter()
        .filter(|(key, _)| env(key).is_none())
        .collect()
}

/// Replaces this process with the same binary and arguments plus the missing settings.
///
/// Returns only when it did not: `None` when every option is already set (so the re-executed
/// process never loops), otherwise why the exec failed (e.g. the executable was replaced by an
/// update), and the caller goes on with the defaults.
#[cfg(target_os = "linux")]
pub fn reexec_with_options() -> Option<std::io::Error> {
    use std::os::unix::process::CommandExt;

    let missing = missing_options(|key| std::env::var_os(key));
    if missing.is_empty() {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => return Some(err),
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    Some(command.args(args).envs(missing).exec())
}
