// Keeps a console window from opening next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc instead of the system allocator: glibc keeps the memory freed on its per-thread
/// arenas (the study's and the paper exchange's worker threads), ~70 MiB after the first
/// study. Engine alone (`crates/app/examples/footprint.rs`, debug, 10 s idle after the study):
/// glibc 197.5 MiB PSS, glibc with GLIBC_TUNABLES arena_max=2 and 128 KiB trim/mmap
/// thresholds 115.7, mimalloc 2 with `process_env::PROCESS_ENV` 71.5.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    #[cfg(target_os = "linux")]
    if let Some(err) = perpdesk_desktop::process_env::reexec_with_options() {
        eprintln!("perpdesk: running without its environment settings: {err}");
    }
    // `--floor` is the desktop measurement's baseline (tests/e2e/examples/desktop_perf.rs).
    if std::env::args().nth(1).as_deref() == Some("--floor") {
        perpdesk_desktop::run_floor();
    } else {
        perpdesk_desktop::run();
    }
}
