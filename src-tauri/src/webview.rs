//! Settings of the system webview that Tauri's configuration does not reach.

use tauri::Runtime;

/// On Linux, turns off WebKitGTK's accelerated compositing for the main window.
///
/// Measured (tests/e2e/examples/desktop_perf.rs, Xvfb without a GPU, the paper dashboard):
/// the web process's private memory fell from 186 MiB to 106 MiB and no chart frame got
/// slower; the dashboard is text, tables and 2D canvases, which gain nothing from GL layers,
/// while the compositor's buffers cost memory. Not measured on a machine with a GPU driver.
/// Windows (WebView2) and macOS (WKWebView) are left to manage this themselves.
pub fn software_compositing<R: Runtime>(app: &tauri::AppHandle<R>) {
    #[cfg(target_os = "linux")]
    if let Some(window) = tauri::Manager::get_webview_window(app, "main") {
        let applied = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(e) = applied {
            tracing::warn!(error = %e, "could not change the webview's compositing");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}
