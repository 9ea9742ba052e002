//! The shell's IPC commands, invoked the way the webview invokes them, on Tauri's mock runtime.

mod events;
mod process_env;
mod secrets;
mod update;

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
    invoke_in(&shell.window, cmd, body)
}

/// Invokes `cmd` from `window` as the page would; the command's `Ok` or `Err` as JSON.
fn invoke_in(window: &WebviewWindow<MockRuntime>, cmd: &str, body: Value) -> Result<Value, Value> {
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
    get_ipc_response(window, request)
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
        invoke(&shell, "preferences", json!({})).expect("get"),
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
        invoke(&shell, "preferences", json!({})).expect("get"),
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
        invoke(&shell, "preferences", json!({})).expect("get"),
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

/// The whole first-run path through the real commands: vault, paper account, preview,
/// one click, position with TP/SL, refusals as `{code, message, rule}`.
#[test]
fn first_run_then_one_click_trade_through_the_commands() {
    let shell = shell();
    let status = invoke(&shell, "vault_status", json!({})).expect("status");
    assert_eq!(status["initialized"], false);
    let weak = invoke(&shell, "vault_setup", json!({"password": "short"})).expect_err("weak");
    assert_eq!(weak["code"], "InvalidInput");
    assert!(
        weak["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("password")),
        "{weak}"
    );
    let status = invoke(
        &shell,
        "vault_setup",
        json!({"password": "correct horse battery staple 42"}),
    )
    .expect("setup");
    assert_eq!(status["locked"], false);

    let accounts = invoke(&shell, "accounts", json!({})).expect("accounts");
    let accounts = accounts.as_array().expect("a list");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["environment"], "paper");
    assert_eq!(accounts[0]["active"], true);
    let text = accounts[0].to_string();
    assert!(
        !text.contains("secret") && !text.contains("sealed"),
        "{text}"
    );
    assert!(
        accounts[0]["key_hint"]
            .as_str()
            .is_some_and(|k| k.starts_with("••••") && k.chars().count() == 8)
    );
    let check = &accounts[0]["check"];
    assert_eq!(check["ok"], true, "{check}");

    let probe = json!({"symbol": "BTCUSDT", "side": "BUY", "sizing": {"kind": "fixed_notional", "usdt": "500"},
                       "leverage": 5, "margin_type": "ISOLATED"});
    let preview = invoke(&shell, "preview_order", json!({"ticket": probe})).expect("preview");
    assert_eq!(preview["risk"]["ok"], false);
    assert_eq!(preview["risk"]["rule"], "require_stop_loss");
    let entry: f64 = preview["entry_price"]
        .as_str()
        .expect("decimal string")
        .parse()
        .expect("number");
    let ticket = json!({"symbol": "BTCUSDT", "side": "BUY", "sizing": {"kind": "fixed_notional", "usdt": "500"},
                        "leverage": 5, "margin_type": "ISOLATED",
                        "stop_loss": format!("{:.1}", entry * 0.98), "take_profit": format!("{:.1}", entry * 1.02)});
    let preview = invoke(&shell, "preview_order", json!({"ticket": ticket})).expect("preview");
    assert_eq!(preview["risk"]["ok"], true, "{preview}");
    for field in [
        "quantity",
        "margin_required",
        "liquidation_price",
        "worst_case_loss",
    ] {
        assert!(preview[field].is_string(), "{field} in {preview}");
    }
    let placed = invoke(&shell, "place_order", json!({"ticket": ticket})).expect("placed");
    assert_eq!(placed["entry"]["state"], "FILLED");
    assert_eq!(placed["stop_loss"]["state"], "NEW");
    let positions = invoke(&shell, "positions", json!({})).expect("positions");
    assert_eq!(positions[0]["side"], "LONG");
    assert!(positions[0]["stop_loss"].is_string() && positions[0]["take_profit"].is_string());

    let mut too_much = ticket.clone();
    too_much["leverage"] = json!(75);
    let err = invoke(&shell, "place_order", json!({"ticket": too_much})).expect_err("refused");
    assert_eq!(err["code"], "RiskRefused");
    assert_eq!(err["rule"], "max_leverage");
    let err = invoke(
        &shell,
        "place_order",
        json!({"ticket": {"symbol": "BTCUSDT"}}),
    )
    .expect_err("bad");
    assert_eq!(err["code"], "InvalidInput");
    let err = invoke(
        &shell,
        "set_risk_limits",
        json!({"limits": {"max_leverage": 0}}),
    )
    .expect_err("bad");
    assert_eq!(err["code"], "InvalidInput");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_leverage")),
        "{err}"
    );
    // Raising a limit loosens safety: without the master password nothing is saved and the
    // page is told to ask for it; with it the limit is saved.
    let limits = invoke(&shell, "risk_limits", json!({})).expect("limits");
    let mut higher = limits.clone();
    higher["max_leverage"] = json!(20);
    let err = invoke(&shell, "set_risk_limits", json!({"limits": higher}))
        .expect_err("needs the password");
    assert_eq!(err["code"], "PasswordRequired", "{err}");
    assert_eq!(
        invoke(&shell, "risk_limits", json!({})).expect("limits"),
        limits
    );
    let saved = invoke(
        &shell,
        "set_risk_limits",
        json!({"limits": higher, "password": "correct horse battery staple 42"}),
    )
    .expect("confirmed by the password");
    assert_eq!(saved["max_leverage"], 20);

    let locked = invoke(&shell, "vault_lock", json!({})).expect("lock");
    assert_eq!(locked["locked"], true);
    // Locked, loosening is refused even with the password; tightening still works.
    let err = invoke(
        &shell,
        "set_auto_lock",
        json!({"minutes": 0, "password": "correct horse battery staple 42"}),
    )
    .expect_err("locked");
    assert_eq!(err["code"], "Locked");
    let status = invoke(&shell, "set_auto_lock", json!({"minutes": 5})).expect("shorter");
    assert_eq!(status["auto_lock_minutes"], 5);
    let err = invoke(&shell, "positions", json!({})).expect_err("locked");
    assert_eq!(err["code"], "Locked");
    let err = invoke(
        &shell,
        "vault_unlock",
        json!({"password": "not the password at all"}),
    )
    .expect_err("wrong");
    assert_eq!(err["code"], "WrongPassword");
}

const PASSWORD: &str = "correct horse battery staple 42";

/// Saving `settings` without `confirm` is refused as `InvalidInput` on `confirm` and leaves
/// `saved` as it was.
fn refused_without_confirmation(shell: &Shell, settings: &Value, saved: &Value) {
    let err = invoke(
        shell,
        "set_auto_trade",
        json!({"settings": settings, "confirm": false}),
    )
    .expect_err("needs confirmation");
    assert_eq!(err["code"], "InvalidInput");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("confirm:")),
        "{err}"
    );
    assert_eq!(
        &invoke(shell, "auto_trade", json!({})).expect("get"),
        saved,
        "a refusal saves nothing"
    );
}

/// Auto-trade through the commands: off for every symbol at first, turning one on is
/// refused without the confirmation (and saves nothing), saved with it, and malformed or
/// out-of-range settings come back as `InvalidInput` naming the field.
#[test]
fn auto_trade_starts_off_and_turns_on_only_with_confirmation() {
    let shell = shell();
    invoke(&shell, "vault_setup", json!({"password": PASSWORD})).expect("setup");
    let nothing = json!({"symbols": {}});
    assert_eq!(
        invoke(&shell, "auto_trade", json!({})).expect("get"),
        nothing
    );
    let on = json!({"symbols": {"BTCUSDT": {"enabled": true, "usdt": "500", "leverage": 5,
                                            "margin_type": "ISOLATED", "trade_lean": false}}});
    refused_without_confirmation(&shell, &on, &nothing);
    let saved = invoke(
        &shell,
        "set_auto_trade",
        json!({"settings": on, "confirm": true, "password": PASSWORD}),
    )
    .expect("confirmed");
    assert_eq!(saved, on);
    assert_eq!(invoke(&shell, "auto_trade", json!({})).expect("get"), on);

    // On an already enabled symbol, trading its unproven lean asks for its own confirmation.
    let mut lean = on.clone();
    lean["symbols"]["BTCUSDT"]["trade_lean"] = json!(true);
    refused_without_confirmation(&shell, &lean, &on);
    assert_eq!(
        invoke(
            &shell,
            "set_auto_trade",
            json!({"settings": lean, "confirm": true, "password": PASSWORD})
        )
        .expect("confirmed"),
        lean
    );
    // Changing the notional later does not ask again.
    let mut bigger = lean.clone();
    bigger["symbols"]["BTCUSDT"]["usdt"] = json!("600");
    invoke(
        &shell,
        "set_auto_trade",
        json!({"settings": bigger, "confirm": false, "password": PASSWORD}),
    )
    .expect("no new choice to confirm, only the password for the larger size");
    invoke(
        &shell,
        "set_auto_trade",
        json!({"settings": on, "confirm": false}),
    )
    .expect("turning the lean off needs no confirmation");

    let partial = json!({"symbols": {"BTCUSDT": {"enabled": false}}});
    let err = invoke(&shell, "set_auto_trade", json!({"settings": partial}))
        .expect_err("every field is required");
    assert_eq!(err["code"], "InvalidInput");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("settings:")),
        "{err}"
    );
    let mut wild = on.clone();
    wild["symbols"]["BTCUSDT"]["leverage"] = json!(0);
    let err = invoke(
        &shell,
        "set_auto_trade",
        json!({"settings": wild, "confirm": true}),
    )
    .expect_err("leverage 0");
    assert_eq!(err["code"], "InvalidInput");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("symbols:")),
        "{err}"
    );
    assert_eq!(invoke(&shell, "auto_trade", json!({})).expect("get"), on);
}
