//! `perpdesk --floor`: the footprint floor the desktop measurement compares perpdesk against.
//!
//! The same binary, Tauri runtime, window configuration and webview settings
//! ([`crate::webview::software_compositing`]) as the app, but an empty page (`ui/floor.html`)
//! and nothing else: no engine, paper exchange, plugins, tray or dashboard. What perpdesk uses
//! above this is what perpdesk itself costs; the rest is Tauri and WebKitGTK.

/// Opens the floor window and blocks until it is closed.
///
/// # Errors
/// As `tauri::Builder::run`.
pub fn run(mut context: tauri::Context<tauri::Wry>) -> tauri::Result<()> {
    for window in &mut context.config_mut().app.windows {
        window.url = tauri::WebviewUrl::App("floor.html".into());
    }
    tauri::Builder::default()
        .setup(|app| {
            crate::webview::software_compositing(app.handle());
            Ok(())
        })
        .run(context)
}
