//! The shell's IPC commands, invoked the way the webview invokes them, on Tauri's mock runtime.

use perpdesk_app::AppPaths;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

struct Shell {
    app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    dir: tempfile::TempDir,
}

fn shell() -> Shell {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = AppPaths {
        data_dir: dir.path().join("data"),
        log_dir: dir.path().join("logs"),
    };
    let app = perpdesk_desktop::builder(mock_builder())
        .build(mock_context(noop_assets()))
        .expect("the shell builds on the mock runtime");
    // The real app does this in its setup hook, which the mock runtime never runs.
    perpdesk_desktop::manage_app(app.handle(), paths).expect("app state opens");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("main window");
    Shell { app, window, dir }
}

fn invoke(shell: &Shell, cmd: &str, body: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        // On Linux the app's own origin is tauri://localhost; http://tauri.localhost counts as remote.
        url: "tauri://localhost".parse().expect("valid url"),
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.into(),
    };
    get_ipc_response(&shell.window, request)
        .map(|body| body.deserialize::<Value>().expect("json response"))
}

#[test]
fn app_info_reports_paper_mode_version_and_folders() {
    let shell = shell();
    let info = invoke(&shell, "app_info", json!({})).expect("app_info succeeds");
    assert_eq!(info["name"], "perpdesk");
    assert_eq!(info["mode"], "paper");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["signalsPaused"], false);
    let data_dir = info["dataDir"].as_str().expect("dataDir is a string");
    assert_eq!(
        data_dir,
        shell.dir.path().join("data").display().to_string()
    );
}

#[test]
fn preferences_default_to_chinese_and_survive_a_save() {
    let shell = shell();
    assert_eq!(
        invoke(&shell, "get_preferences", json!({})).expect("get"),
        json!({"language": "zh-CN", "lastPanel": "signals"})
    );
    let saved = invoke(
        &shell,
        "set_preferences",
        json!({"preferences": {"language": "en", "lastPanel": "risk"}}),
    )
    .expect("set");
    assert_eq!(saved, json!({"language": "en", "lastPanel": "risk"}));
    assert_eq!(
        invoke(&shell, "get_preferences", json!({})).expect("get"),
        saved
    );
    let on_disk: Value = serde_json::from_slice(
        &std::fs::read(shell.dir.path().join("data/preferences.json")).expect("store file written"),
    )
    .expect("store file is json");
    assert_eq!(on_disk["preferences"], saved);
}

#[test]
fn bad_preferences_come_back_as_code_and_message_and_change_nothing() {
    let shell = shell();
    let err = invoke(
        &shell,
        "set_preferences",
        json!({"preferences": {"language": "fr", "lastPanel": "risk"}}),
    )
    .expect_err("fr is not offered");
    assert_eq!(err["code"], "InvalidInput");
    let message = err["message"].as_str().expect("message is a string");
    assert!(message.contains("fr"), "{message}");
    assert_eq!(
        err.as_object().map(|o| o.len()),
        Some(2),
        "only code and message: {err}"
    );
    assert!(!shell.dir.path().join("data/preferences.json").exists());
    assert_eq!(
        invoke(&shell, "get_preferences", json!({})).expect("get"),
        json!({"language": "zh-CN", "lastPanel": "signals"})
    );
}

#[test]
fn a_missing_argument_is_refused_by_tauri_before_the_app_sees_it() {
    let shell = shell();
    let err = invoke(&shell, "set_signals_paused", json!({})).expect_err("paused is required");
    assert!(err.as_str().is_some_and(|s| s.contains("paused")), "{err}");
}

#[test]
fn pausing_signals_shows_in_app_info() {
    let shell = shell();
    assert_eq!(
        invoke(&shell, "set_signals_paused", json!({"paused": true})).expect("pause"),
        json!(true)
    );
    let info = invoke(&shell, "app_info", json!({})).expect("info");
    assert_eq!(info["signalsPaused"], true);
}

#[test]
fn tray_pause_entry_flips_the_switch_the_ui_reads() {
    let shell = shell();
    perpdesk_desktop::TrayAction::TogglePauseSignals.perform(shell.app.handle());
    assert_eq!(
        invoke(&shell, "app_info", json!({})).expect("info")["signalsPaused"],
        true
    );
    perpdesk_desktop::TrayAction::TogglePauseSignals.perform(shell.app.handle());
    assert_eq!(
        invoke(&shell, "app_info", json!({})).expect("info")["signalsPaused"],
        false
    );
}
