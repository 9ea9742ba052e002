//! perpdesk's desktop shell: the Tauri 2 window, tray, notifications and IPC commands.
//!
//! This crate knows Tauri and nothing else. Every command parses its arguments, calls one
//! function of `perpdesk-app` and maps the error to `{code, message}`; state is the one
//! `perpdesk_app::App` managed in setup. [`builder`] holds everything the mock-runtime tests
//! exercise; [`run`] adds what needs a real desktop (tray, single instance, window state).

pub mod commands;
pub mod events;
mod floor;
mod logging;
pub mod notify;
pub mod process_env;
mod tray;
pub mod update;
mod webview;

use perpdesk_app::{App, AppPaths};
use tauri::{Manager, Runtime};

pub use tray::TrayAction;

/// Registers the commands and the plugins that work on every runtime, the mock one included.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::preferences,
            commands::app::set_preferences,
            commands::app::set_signals_paused,
            commands::app::autostart,
            commands::app::set_autostart,
            commands::security::vault_status,
            commands::security::vault_setup,
            commands::security::vault_unlock,
            commands::security::vault_lock,
            commands::security::set_auto_lock,
            commands::security::export_backup,
            commands::security::import_backup,
            commands::security::change_master_password,
            commands::security::note_activity,
            commands::accounts::accounts,
            commands::accounts::create_paper_account,
            commands::accounts::add_account,
            commands::accounts::update_account,
            commands::accounts::remove_account,
            commands::accounts::set_active_account,
            commands::accounts::test_connection,
            commands::trading::preview_order,
            commands::trading::place_order,
            commands::trading::close_position,
            commands::trading::positions,
            commands::trading::orders,
            commands::trading::risk_limits,
            commands::trading::set_risk_limits,
            commands::trading::set_kill_switch,
            commands::replay::replay_status,
            commands::replay::set_replay,
            commands::replay::advance_replay,
            commands::signals::watchlist,
            commands::signals::set_watchlist,
            commands::signals::candles,
            commands::signals::indicators,
            commands::signals::signals,
            commands::signals::model_card,
            commands::signals::signal_study,
            commands::signals::family_signals,
            commands::signals::suggest_ticket,
            commands::records::trades,
            commands::records::pnl,
            commands::records::sync_now,
            commands::records::export_csv,
            commands::records::ledger,
            commands::records::statements,
            commands::records::ledger_settings,
            commands::records::set_ledger_settings,
            commands::records::settle,
            commands::profit_share::profit_share_summary,
            commands::profit_share::verify_statement,
            commands::profit_share::export_exchange_records,
            commands::autotrade::auto_trade,
            commands::autotrade::set_auto_trade,
            commands::update::update_settings,
            commands::update::set_update_settings,
            commands::update::check_update,
            commands::update::install_update,
        ])
}

/// Opens the application state at `paths` and hands it to Tauri: the one managed state
/// every command takes (the engine inside it opens on first use).
///
/// # Errors
/// When the data or log folder cannot be created.
pub fn manage_app<R: Runtime>(
    app: &tauri::AppHandle<R>,
    paths: AppPaths,
) -> Result<(), perpdesk_app::AppError> {
    app.manage(App::open(paths)?);
    Ok(())
}

/// Resolves the OS's conventional data and log folders for this app.
fn resolve_paths<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<AppPaths> {
    let resolver = app.path();
    Ok(AppPaths {
        data_dir: resolver.app_data_dir()?,
        log_dir: resolver.app_log_dir()?,
    })
}

/// Shows, unminimises and focuses the main window (tray "show", a second launch).
pub fn focus_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        // Each step can fail only if the window is being destroyed; then there is nothing to show.
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// The app's configuration and embedded `ui/` files (one copy for both modes).
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// `perpdesk --floor`: an empty window with the app's webview settings, the floor of the
/// desktop footprint measurement (see `floor.rs`); blocks until it is closed.
pub fn run_floor() {
    if let Err(err) = floor::run(context()) {
        eprintln!("perpdesk --floor: {err}");
        std::process::exit(1);
    }
}

/// Starts the desktop app and blocks until it quits.
pub fn run() {
    // single-instance must be the first plugin, so a second launch exits before anything else
    // (the store, the log file) is opened twice.
    let result = builder(
        tauri::Builder::default()
            .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
                tracing::info!("second launch: focusing the running window");
                focus_main_window(app);
            }))
            .plugin(tauri_plugin_window_state::Builder::default().build())
            // Off until the user turns it on in the settings; the OS's own mechanism
            // (XDG autostart entry, Launch Agent, registry Run key).
            .plugin(tauri_plugin_autostart::init(
                tauri_plugin_autostart::MacosLauncher::LaunchAgent,
                None,
            ))
            // Signed updates: endpoints and the release key's public half in tauri.conf.json.
            .plugin(tauri_plugin_updater::Builder::new().build()),
    )
    .setup(|app| {
        let handle = app.handle();
        let paths = resolve_paths(handle)?;
        logging::init(&paths.log_dir);
        tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %paths.data_dir.display(), "perpdesk starting");
        let data_dir = paths.data_dir.clone();
        manage_app(handle, paths)?;
        webview::software_compositing(handle);
        tray::create(handle)?;
        // Open the engine in the background once the page's first screen is up, so the
        // market data's parse does not slow the window's start; commands wait for it.
        notify::spawn(handle.clone());
        // Beside the updater plugin, which exists only in the real app.
        handle.manage(update::Updates::new());
        update::check_on_start(handle.clone(), data_dir);
        Ok(())
    })
    .run(context());
    if let Err(err) = result {
        tracing::error!(error = %err, "perpdesk stopped with an error");
        eprintln!("perpdesk: {err}");
        std::process::exit(1);
    }
}
