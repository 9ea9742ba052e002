//! Forwards the engine's events to the page (`app-event`), to OS notifications and to the
//! tray's tooltip.

use perpdesk_app::AppEvent;
use tauri::{AppHandle, Emitter, Manager, Runtime};
#[cfg(not(target_os = "linux"))]
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use crate::events::{APP_EVENT, NAVIGATE};
use crate::host::Host;

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
        // Until the user unlocks (the stream then reports the connection), the app is locked.
        if engine.vault_status().await.is_ok_and(|v| v.locked) {
            set_tray(&app, TrayState::Locked);
        }
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Err(e) = app.emit(APP_EVENT, &event) {
                        tracing::warn!(error = %e, "could not forward an event to the page");
                    }
                    if let Some(notice) = notification(&event) {
                        show(&app, notice);
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

/// An OS notification: its words (both languages: the OS shows one string) and the panel a
/// click on it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: &'static str,
    pub body: String,
    /// A `data-panel` name of the dashboard (ui/index.html).
    pub panel: &'static str,
}

/// What deserves an OS notification.
pub fn notification(event: &AppEvent) -> Option<Notice> {
    let (title, body, panel) = match event {
        AppEvent::Signal {
            symbol,
            direction,
            probability,
            strong: true,
            ..
        } => (
            "perpdesk · 信号 Signal",
            format!("{symbol} {direction} · p = {:.0}%", probability * 100.0),
            "signals",
        ),
        AppEvent::Order {
            symbol, leg, state, ..
        } if state == "FILLED" && (leg == "TakeProfit" || leg == "StopLoss") => (
            "perpdesk · 止盈/止损 TP/SL",
            format!(
                "{symbol}: {} filled",
                if leg == "TakeProfit" {
                    "take-profit 止盈"
                } else {
                    "stop-loss 止损"
                }
            ),
            "records",
        ),
        AppEvent::Order {
            symbol, leg, state, ..
        } if state == "FILLED" && leg == "Entry" => (
            "perpdesk · 成交 Fill",
            format!("{symbol}: entry filled"),
            "records",
        ),
        AppEvent::Order {
            symbol,
            state,
            message,
            ..
        } if state == "REJECTED" => (
            "perpdesk · 订单被拒 Order rejected",
            format!("{symbol}: {message}"),
            "trade",
        ),
        AppEvent::Risk { message, .. } => ("perpdesk · 风控 Risk", message.clone(), "risk"),
        AppEvent::Connection {
            connected: false,
            message,
            ..
        } => (
            "perpdesk · 连接断开 Disconnected",
            message.clone(),
            "api-config",
        ),
        AppEvent::LiquidationWarning {
            symbol,
            mark_price,
            liquidation_price,
            ..
        } => (
            "perpdesk · 强平预警 Liquidation warning",
            format!("{symbol}: mark {mark_price}, liquidation {liquidation_price}"),
            "records",
        ),
        _ => return None,
    };
    Some(Notice { title, body, panel })
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

impl TrayState {
    /// The colour of the dot the tray icon wears in this state (RGBA).
    pub fn badge_color(self) -> [u8; 4] {
        match self {
            TrayState::Connected => [0x22, 0xc5, 0x5e, 0xff],
            TrayState::Disconnected => [0xef, 0x44, 0x44, 0xff],
            TrayState::RiskBlocked => [0xf5, 0x9e, 0x0b, 0xff],
            TrayState::Locked => [0x94, 0xa3, 0xb8, 0xff],
        }
    }
}

/// `rgba` (`width` × `height`, 4 bytes a pixel) with a filled dot of `color`, ringed in
/// white so it reads on dark and light panels, in the lower-right quarter: the tray shows
/// the state without hovering for the tooltip. A buffer of another size comes back as is.
pub fn with_badge(rgba: &[u8], width: u32, height: u32, color: [u8; 4]) -> Vec<u8> {
    let mut out = rgba.to_vec();
    let (w, h) = (width as usize, height as usize);
    if out.len() != w * h * 4 || w == 0 || h == 0 {
        return out;
    }
    let size = w.min(h) as f32;
    let radius = size * 0.22;
    let ring = (size * 0.05).max(1.0);
    let (cx, cy) = (w as f32 - radius - ring, h as f32 - radius - ring);
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let px = if d <= radius {
                color
            } else if d <= radius + ring {
                [0xff, 0xff, 0xff, 0xff]
            } else {
                continue;
            };
            let i = (y * w + x) * 4;
            out[i..i + 4].copy_from_slice(&px);
        }
    }
    out
}

fn set_tray<R: Runtime>(app: &AppHandle<R>, state: TrayState) {
    let text = match state {
        TrayState::Connected => "perpdesk — 已连接 connected",
        TrayState::Disconnected => "perpdesk — 连接断开 disconnected",
        TrayState::RiskBlocked => "perpdesk — 风控阻止 risk-blocked",
        TrayState::Locked => "perpdesk — 已锁定 locked",
    };
    let Some(tray) = app.tray_by_id("main") else {
        return;
    };
    if let Err(e) = tray.set_tooltip(Some(text)) {
        tracing::warn!(error = %e, "tray tooltip");
    }
    if let Some(icon) = app.default_window_icon() {
        let rgba = with_badge(
            icon.rgba(),
            icon.width(),
            icon.height(),
            state.badge_color(),
        );
        let badged = tauri::image::Image::new_owned(rgba, icon.width(), icon.height());
        if let Err(e) = tray.set_icon(Some(badged)) {
            tracing::warn!(error = %e, "tray icon");
        }
    }
}

/// Brings the window forward on the notice's panel (a click on the notification).
pub fn open_panel<R: Runtime>(app: &AppHandle<R>, panel: &str) {
    crate::focus_main_window(app);
    if let Err(e) = app.emit(NAVIGATE, panel) {
        tracing::warn!(error = %e, panel, "could not open the panel");
    }
}

/// On Linux the notification plugin cannot report a click, so perpdesk talks to the desktop's
/// notification service itself (the same `notify-rust` the plugin uses): the notice carries a
/// "default" action, which is what clicking a notification's body invokes, and a thread
/// waits for it until the notification closes.
#[cfg(target_os = "linux")]
fn show<R: Runtime>(app: &AppHandle<R>, notice: Notice) {
    let app = app.clone();
    // Sending and waiting block on D-Bus: never on the async runtime.
    let spawned = std::thread::Builder::new()
        .name("notification".into())
        .spawn(move || linux::show_and_wait(&notice, |panel| open_panel(&app, panel)));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "notification thread");
    }
}

#[cfg(not(target_os = "linux"))]
fn show<R: Runtime>(app: &AppHandle<R>, notice: Notice) {
    if let Err(e) = app
        .notification()
        .builder()
        .title(notice.title)
        .body(&notice.body)
        .show()
    {
        tracing::warn!(error = %e, "notification failed");
    }
}

#[cfg(target_os = "linux")]
pub mod linux {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::Notice;

    /// Notifications whose click is still awaited, each by one parked thread. Past the cap a
    /// notice is shown without the action (a daemon that never closes notifications must
    /// not pile up threads).
    static WAITING: AtomicUsize = AtomicUsize::new(0);
    const MAX_WAITING: usize = 16;

    struct Slot;
    impl Drop for Slot {
        fn drop(&mut self) {
            WAITING.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Shows `notice` and, when the user clicks it, calls `open` with its panel. Returns once
    /// the notification is closed, clicked or could not be shown.
    pub fn show_and_wait(notice: &Notice, open: impl FnOnce(&str)) {
        let slot = (WAITING.fetch_add(1, Ordering::SeqCst) < MAX_WAITING).then_some(Slot);
        if slot.is_none() {
            WAITING.fetch_sub(1, Ordering::SeqCst);
        }
        // Listen before showing: a click the moment the notification appears must find the
        // listener there (notify-rust's own wait subscribes only after the notification is up).
        let listener = match slot.as_ref().map(|_| Clicks::listen()).transpose() {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for notification clicks");
                None
            }
        };
        let mut n = notify_rust::Notification::new();
        n.appname("perpdesk")
            .summary(notice.title)
            .body(&notice.body);
        if listener.is_some() {
            n.action("default", "打开 Open");
        }
        match n.show() {
            Ok(handle) => {
                if let Some(listener) = listener
                    && listener.clicked(handle.id())
                {
                    open(notice.panel);
                }
            }
            Err(e) => tracing::warn!(error = %e, "notification failed"),
        }
        drop(slot);
    }

    /// The notification service's `ActionInvoked` and `NotificationClosed` signals, subscribed
    /// on a connection of their own.
    struct Clicks {
        messages: zbus::blocking::MessageIterator,
    }

    impl Clicks {
        fn listen() -> zbus::Result<Self> {
            let connection = zbus::blocking::Connection::session()?;
            // The iterator first, so nothing that matches the rules below can come before it.
            let messages = zbus::blocking::MessageIterator::from(&connection);
            let bus = zbus::blocking::fdo::DBusProxy::new(&connection)?;
            for member in ["ActionInvoked", "NotificationClosed"] {
                let rule = zbus::MatchRule::builder()
                    .msg_type(zbus::message::Type::Signal)
                    .interface("org.freedesktop.Notifications")?
                    .member(member)?
                    .build();
                bus.add_match_rule(rule)?;
            }
            Ok(Self { messages })
        }

        /// Whether notification `id` was clicked (its default action) before it closed.
        fn clicked(self, id: u32) -> bool {
            for message in self.messages.flatten() {
                let header = message.header();
                let member = header.member().map(|m| m.as_str().to_owned());
                match member.as_deref() {
                    Some("ActionInvoked") => {
                        if let Ok((n, action)) = message.body().deserialize::<(u32, String)>()
                            && n == id
                        {
                            return action == "default";
                        }
                    }
                    Some("NotificationClosed") => {
                        if let Ok((n, _reason)) = message.body().deserialize::<(u32, u32)>()
                            && n == id
                        {
                            return false;
                        }
                    }
                    _ => {}
                }
            }
            false
        }
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
        let notice = notification(&tp).expect("tp notifies");
        assert!(notice.body.contains("take-profit"));
        assert_eq!(notice.panel, "records");
        assert_eq!(tray_state(&AppEvent::Locked), Some(TrayState::Locked));
    }

    #[test]
    fn the_tray_icon_wears_a_dot_of_its_state() {
        let (w, h) = (32_u32, 32_u32);
        let base = vec![10_u8; (w * h * 4) as usize];
        let px = |buf: &[u8], x: u32, y: u32| {
            let i = ((y * w + x) * 4) as usize;
            [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]
        };
        let colors: Vec<[u8; 4]> = [
            TrayState::Connected,
            TrayState::Disconnected,
            TrayState::RiskBlocked,
            TrayState::Locked,
        ]
        .into_iter()
        .map(TrayState::badge_color)
        .collect();
        for (i, c) in colors.iter().enumerate() {
            assert!(!colors[i + 1..].contains(c), "two states share a colour");
            let out = with_badge(&base, w, h, *c);
            // The dot's centre is the state's colour; the top-left stays the app's icon.
            assert_eq!(px(&out, 24, 24), *c);
            assert_eq!(px(&out, 2, 2), [10, 10, 10, 10]);
            assert_eq!(out.len(), base.len());
        }
        // A buffer that does not match its size is left alone rather than misdrawn.
        assert_eq!(with_badge(&[1, 2, 3], w, h, colors[0]), vec![1, 2, 3]);
    }

    #[test]
    fn a_click_opens_the_panel_about_the_event() {
        let html = include_str!("../../ui/index.html");
        let order = |leg: &str, state: &str| AppEvent::Order {
            account_id: 1,
            symbol: "BTCUSDT".into(),
            client_order_id: "pd-x".into(),
            leg: leg.into(),
            state: state.into(),
            message: "Margin is insufficient.".into(),
        };
        let cases = [
            (
                AppEvent::Signal {
                    symbol: "BTCUSDT".into(),
                    direction: "long".into(),
                    probability: 0.7,
                    time_ms: 0,
                    strong: true,
                },
                "signals",
            ),
            (order("Entry", "FILLED"), "records"),
            (order("StopLoss", "FILLED"), "records"),
            (order("Entry", "REJECTED"), "trade"),
            (
                AppEvent::Risk {
                    rule: "daily_loss_limit".into(),
                    message: "daily loss limit reached".into(),
                },
                "risk",
            ),
            (
                AppEvent::Connection {
                    account_id: 1,
                    connected: false,
                    message: "user stream closed".into(),
                },
                "api-config",
            ),
        ];
        for (event, panel) in cases {
            let notice = notification(&event).expect("notifies");
            assert_eq!(notice.panel, panel, "{event:?}");
            assert!(
                html.contains(&format!("data-panel=\"{panel}\"")),
                "{panel} is not a dashboard panel"
            );
        }
    }
}
