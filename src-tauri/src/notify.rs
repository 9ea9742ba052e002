//! Forwards the engine's events to the page (`app-event`), to OS notifications and to the
//! tray's tooltip.

use perpdesk_app::AppEvent;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use crate::host::Host;

/// The one event name the page listens to; its payload is tagged by `kind`.
pub const APP_EVENT: &str = "app-event";

/// Starts forwarding once the engine is open. Runs until the app quits.
pub fn spawn<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let engine = match app.state::<Host>().engine().await {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(message = %e.message, "no engine; events are not forwarded");
                return;
            }
        };
        let mut events = engine.events().subscribe();
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Err(e) = app.emit(APP_EVENT, &event) {
                        tracing::warn!(error = %e, "could not forward an event to the page");
                    }
                    if let Some((title, body)) = notification(&event) {
                        show(&app, title, &body);
                    }
                    if let Some(state) = tray_state(&event) {
                        set_tray(&app, state);
                    }
                }
                // A slow page only misses events it can re-read with a command.
                Err(RecvError::Lagged(n)) => tracing::debug!(n, "event listener lagged"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// What deserves an OS notification, in both languages (the OS shows one string).
pub fn notification(event: &AppEvent) -> Option<(&'static str, String)> {
    match event {
        AppEvent::Signal {
            symbol,
            direction,
            probability,
            strong: true,
            ..
        } => Some((
            "perpdesk · 信号 Signal",
            format!("{symbol} {direction} · p = {:.0}%", probability * 100.0),
        )),
        AppEvent::Order {
            symbol, leg, state, ..
        } if state == "FILLED" && (leg == "TakeProfit" || leg == "StopLoss") => Some((
            "perpdesk · 止盈/止损 TP/SL",
            format!(
                "{symbol}: {} filled",
                if leg == "TakeProfit" {
                    "take-profit 止盈"
                } else {
                    "stop-loss 止损"
                }
            ),
        )),
        AppEvent::Order {
            symbol, leg, state, ..
        } if state == "FILLED" && leg == "Entry" => {
            Some(("perpdesk · 成交 Fill", format!("{symbol}: entry filled")))
        }
        AppEvent::Order {
            symbol,
            state,
            message,
            ..
        } if state == "REJECTED" => Some((
            "perpdesk · 订单被拒 Order rejected",
            format!("{symbol}: {message}"),
        )),
        AppEvent::Risk { message, .. } => Some(("perpdesk · 风控 Risk", message.clone())),
        AppEvent::Connection {
            connected: false,
            message,
            ..
        } => Some(("perpdesk · 连接断开 Disconnected", message.clone())),
        AppEvent::LiquidationWarning {
            symbol,
            mark_price,
            liquidation_price,
            ..
        } => Some((
            "perpdesk · 强平预警 Liquidation warning",
            format!("{symbol}: mark {mark_price}, liquidation {liquidation_price}"),
        )),
        _ => None,
    }
}

/// The tray's state as the tooltip says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayState {
    Connected,
    Disconnected,
    RiskBlocked,
    Locked,
}

fn tray_state(event: &AppEvent) -> Option<TrayState> {
    match event {
        AppEvent::Locked => Some(TrayState::Locked),
        AppEvent::Connection { connected, .. } => Some(if *connected {
            TrayState::Connected
        } else {
            TrayState::Disconnected
        }),
        AppEvent::Risk { rule, .. } if rule == "kill_switch" || rule == "daily_loss_limit" => {
            Some(TrayState::RiskBlocked)
        }
        _ => None,
    }
}

fn set_tray<R: Runtime>(app: &AppHandle<R>, state: TrayState) {
    let text = match state {
        TrayState::Connected => "perpdesk — 已连接 connected",
        TrayState::Disconnected => "perpdesk — 连接断开 disconnected",
        TrayState::RiskBlocked => "perpdesk — 风控阻止 risk-blocked",
        TrayState::Locked => "perpdesk — 已锁定 locked",
    };
    if let Some(tray) = app.tray_by_id("main")
        && let Err(e) = tray.set_tooltip(Some(text))
    {
        tracing::warn!(error = %e, "tray tooltip");
    }
}

fn show<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!(error = %e, "notification failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_matters_notifies() {
        let weak = AppEvent::Signal {
            symbol: "BTCUSDT".into(),
            direction: "flat".into(),
            probability: 0.52,
            time_ms: 0,
            strong: false,
        };
        assert!(notification(&weak).is_none());
        let tp = AppEvent::Order {
            account_id: 1,
            symbol: "BTCUSDT".into(),
            client_order_id: "pd-x-tp0".into(),
            leg: "TakeProfit".into(),
            state: "FILLED".into(),
            message: String::new(),
        };
        let (_, body) = notification(&tp).expect("tp notifies");
        assert!(body.contains("take-profit"));
        assert_eq!(tray_state(&AppEvent::Locked), Some(TrayState::Locked));
    }
}
