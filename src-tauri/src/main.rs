// Keeps a console window from opening next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // `--floor` is the desktop measurement's baseline (tests/e2e/examples/desktop_perf.rs).
    if std::env::args().nth(1).as_deref() == Some("--floor") {
        perpdesk_desktop::run_floor();
    } else {
        perpdesk_desktop::run();
    }
}
