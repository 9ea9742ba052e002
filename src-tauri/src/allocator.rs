//! The options the desktop binary's allocator (mimalloc, see `main.rs`) runs with.
//!
//! mimalloc reads its options from the environment once, before `main`, and setting them from
//! code needs `unsafe` (denied in the workspace). So on Linux, where they were measured, the
//! binary re-executes itself once with the missing ones set: the same process (exec keeps the
//! pid, so single-instance and autostart see no difference), the same arguments.

use std::ffi::OsString;

/// Environment settings mimalloc (2.3) reads at start: return freed memory at once instead of
/// 10 ms later, and commit arena memory as it is used instead of all of it up front (its Linux
/// default, which counts untouched arena pages once the kernel backs them). Measured
/// with `crates/app/examples/footprint.rs` (debug, first run, 10 s idle after the study):
/// 71.5 MiB PSS with these against 139.7 without (glibc's default: 197.5).
pub const MIMALLOC_OPTIONS: [(&str, &str); 2] = [
    ("MIMALLOC_PURGE_DELAY", "0"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
];

/// The allocator options `env` leaves unset; a value the user set is kept as it is.
pub fn missing_options(
    env: impl Fn(&str) -> Option<OsString>,
) -> Vec<(&'static str, &'static str)> {
    MIMALLOC_OPTIONS
        .into_iter()
        .filter(|(key, _)| env(key).is_none())
        .collect()
}

/// Replaces this process with the same binary and arguments plus the missing allocator options.
///
/// Returns only when it did not: `None` when every option is already set (so the re-executed
/// process never loops), otherwise why the exec failed (e.g. the executable was replaced by an
/// update), and the caller goes on with mimalloc's defaults.
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
