//! The page's `app-events`: what the forwarder hands the webview for one burst of engine
//! events (issue 18: one emit, and so one script evaluation, per burst rather than per event).

use std::sync::mpsc;

use perpdesk_app::{AppEvent, Direction};
use perpdesk_desktop::events::APP_EVENTS;
use perpdesk_desktop::notify;
use serde_json::Value;
use tauri::{Listener, Manager};

fn candle(symbol: &str, close: &str) -> AppEvent {
    AppEvent::Candle {
        symbol: symbol.into(),
        open_time_ms: 1_764_072_000_000,
        open: "100".into(),
        high: "101".into(),
        low: "99".into(),
        close: close.into(),
        volume: "10".into(),
    }
}

fn signal(symbol: &str, direction: Direction) -> AppEvent {
    AppEvent::Signal {
        symbol: symbol.into(),
        direction,
        probability: 0.61,
        time_ms: 1_764_072_000_000,
        // Not strong, so no OS notification is raised on the test's desktop.
        strong: false,
        record: None,
    }
}

#[test]
fn a_burst_reaches_the_page_as_one_event_holding_every_event_in_order() {
    let shell = super::shell();
    let (tx, rx) = mpsc::channel::<String>();
    shell.app.listen_any(APP_EVENTS, move |event| {
        // A send fails only after the test has ended and dropped the receiver.
        let _ = tx.send(event.payload().to_owned());
    });
    let burst = [
        candle("BTCUSDT", "66050.0"),
        signal("BTCUSDT", Direction::Short),
        candle("ETHUSDT", "3412.5"),
        signal("ETHUSDT", Direction::Long),
        AppEvent::Connection {
            account_id: 1,
            connected: true,
            message: String::new(),
        },
    ];
    notify::forward(shell.app.app_handle(), &burst);
    // Tauri calls the shell's own listeners before `emit` returns, so all that was sent is here.
    let sent: Vec<String> = rx.try_iter().collect();
    assert_eq!(sent.len(), 1, "one emit for the burst: {sent:?}");
    let payload: Value = serde_json::from_str(&sent[0]).expect("a JSON payload");
    let kinds: Vec<&str> = payload
        .as_array()
        .expect("an array of events")
        .iter()
        .map(|e| e["kind"].as_str().expect("each event is tagged by kind"))
        .collect();
    assert_eq!(
        kinds,
        ["candle", "signal", "candle", "signal", "connection"]
    );
    assert_eq!(payload[2]["close"], "3412.5");
    assert_eq!(payload[3]["direction"], "long");
    assert_eq!(
        payload,
        serde_json::to_value(&burst).expect("events serialise")
    );
}
