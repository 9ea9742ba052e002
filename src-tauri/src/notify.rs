//! Forwards the engine's events to the page (`app-events`, a burst at a time), to OS
//! notifications and to the tray's tooltip.

use perpdesk_app::{App, AppEvent, Direction, Language};
use perpdesk_core::{Leg, OrderState};
use tauri::{AppHandle, Emitter, Manager, Runtime};
#[cfg(not(target_os = "linux"))]
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::events::{APP_EVENTS, NAVIGATE};

/// How long the engine's opening waits for the page's first screen at most.
const FIRST_SCREEN_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the engine once the page's first screen is up and forwards its events from then
/// on. Runs until the app quits.
pub fn spawn<R: Runtime>(app: AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let state = app.state::<App>();
        // After the page's first screen, so the market's parse does not slow it.
        state.first_screen_shown(FIRST_SCREEN_WAIT).await;
        let engine = match state.engine().await {
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
        while let Some(batch) = next_batch(&mut events).await {
            forward(&app, &batch);
        }
    });
}

/// The most events one batch carries. A candle close with 30 watched symbols leaves ~60
/// waiting; the cap bounds the script the page evaluates and the one turn of its thread that
/// handles it when a publisher never pauses.
pub const MAX_BATCH: usize = 256;

/// Waits for the next event, then takes every event already waiting behind it, in order, up
/// to [`MAX_BATCH`]. `None` once the bus is closed and nothing is left.
///
/// The engine publishes a candle close as a burst (a candle and a signal per watched
/// symbol); sent one by one, each became its own script evaluation on the web process's main
/// thread (WebKitGTK runs the page without a JIT here), and the ~60 of one close together
/// made frames of 53-68 ms in which no single piece of the page's work took over 16 ms. So
/// what is already waiting goes as one. There is no timer: an event never waits for ones
/// that have not come, so how much of a burst one batch holds depends on its publisher (the
/// signal loop publishes a pass over every symbol at once through `perpdesk_app::Outbox`,
/// or in parts when the exchange keeps it waiting over 100 ms; the debug line of [`forward`]
/// tells the sizes). A lagged receiver has lost only events a view can read again with a
/// command, so it goes on with what is left.
pub async fn next_batch<T: Clone>(events: &mut broadcast::Receiver<T>) -> Option<Vec<T>> {
    let first = loop {
        match events.recv().await {
            Ok(event) => break event,
            Err(RecvError::Lagged(n)) => tracing::debug!(n, "event listener lagged"),
            Err(RecvError::Closed) => return None,
        }
    };
    let mut batch = vec![first];
    // A publisher woken on this worker behind this task gets one turn to finish its burst
    // (a turn, not a timer: nothing waits for events that have not come).
    tokio::task::yield_now().await;
    while batch.len() < MAX_BATCH {
        match events.try_recv() {
            Ok(event) => batch.push(event),
            Err(TryRecvError::Lagged(n)) => tracing::debug!(n, "event listener lagged"),
            // A closed bus is seen by the next wait, after this batch has gone out.
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        }
    }
    Some(batch)
}

/// Sends `batch` to the page as one `app-events` (an array, in order), then raises each
/// event's notification and sets the tray's state, event by event in the same order.
pub fn forward<R: Runtime>(app: &AppHandle<R>, batch: &[AppEvent]) {
    // Beside the engine's line per event, what the page got at once.
    tracing::debug!(events = batch.len(), "events to the page");
    if let Err(e) = app.emit(APP_EVENTS, batch) {
        tracing::warn!(error = %e, events = batch.len(), "could not forward events to the page");
    }
    for event in batch {
        if let Some(notice) = notification(event, crate::commands::app::language(app)) {
            show(app, notice);
        }
        if let Some(state) = tray_state(event) {
            set_tray(app, state);
        }
    }
}

/// An OS notification: its words, in the user's interface language, and the panel a click on
/// it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// A `data-panel` name of the dashboard (ui/index.html).
    pub panel: &'static str,
    /// The words of the notification's "open" action.
    pub open: &'static str,
}

/// The words of one language; the dashboard's own strings live in `ui/js/i18n/`.
pub(crate) fn say(language: Language, zh: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::ZhCn => zh,
        Language::En => en,
    }
}

/// What deserves an OS notification, worded in `language`.
pub fn notification(event: &AppEvent, language: Language) -> Option<Notice> {
    let l = language;
    let direction = |d: &Direction| match d {
        Direction::Long => say(l, "做多", "long"),
        Direction::Short => say(l, "做空", "short"),
        Direction::Flat => say(l, "观望", "flat"),
    };
    let (title, body, panel) = match event {
        AppEvent::Signal {
            symbol,
            direction: d,
            probability,
            strong: true,
            ..
        } => (
            say(l, "信号", "Signal"),
            format!(
                "{symbol} {} · p = {:.0}%",
                direction(d),
                probability * 100.0
            ),
            "signals",
        ),
        AppEvent::Order {
            symbol,
            leg: leg @ (Leg::TakeProfit | Leg::StopLoss),
            state: OrderState::Filled,
            ..
        } => (
            say(l, "止盈/止损", "Take-profit/stop-loss"),
            if *leg == Leg::TakeProfit {
                format!("{symbol}: {}", say(l, "止盈已成交", "take-profit filled"))
            } else {
                format!("{symbol}: {}", say(l, "止损已成交", "stop-loss filled"))
            },
            "records",
        ),
        AppEvent::Order {
            symbol,
            leg: Leg::Entry,
            state: OrderState::Filled,
            ..
        } => (
            say(l, "成交", "Fill"),
            format!("{symbol}: {}", say(l, "开仓单已成交", "entry filled")),
            "records",
        ),
        AppEvent::Order {
            symbol,
            state: OrderState::Rejected,
            message,
            ..
        } => (
            say(l, "订单被拒", "Order rejected"),
            format!("{symbol}: {message}"),
            "trade",
        ),
        AppEvent::Risk { message, .. } => (say(l, "风控", "Risk"), message.clone(), "risk"),
        AppEvent::Connection {
            connected: false,
            message,
            ..
        } => (
            say(l, "连接断开", "Disconnected"),
            message.clone(),
            "api-config",
        ),
        AppEvent::LiquidationWarning {
            symbol,
            mark_price,
            liquidation_price,
            ..
        } => (
            say(l, "强平预警", "Liquidation warning"),
            match l {
                Language::ZhCn => {
                    format!("{symbol}：标记价 {mark_price}，强平价 {liquidation_price}")
                }
                Language::En => {
                    format!("{symbol}: mark {mark_price}, liquidation {liquidation_price}")
                }
            },
            "records",
        ),
        _ => return None,
    };
    Some(Notice {
        title: format!("perpdesk · {title}"),
        body,
        panel,
        open: say(l, "打开", "Open"),
    })
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

impl TrayState {
    /// The tray's tooltip in `language`.
    pub fn tooltip(self, language: Language) -> String {
        let words = match self {
            TrayState::Connected => say(language, "已连接", "connected"),
            TrayState::Disconnected => say(language, "连接断开", "disconnected"),
            TrayState::RiskBlocked => say(language, "风控阻止交易", "risk-blocked"),
            TrayState::Locked => say(language, "已锁定", "locked"),
        };
        format!("perpdesk — {words}")
    }
}

fn set_tray<R: Runtime>(app: &AppHandle<R>, state: TrayState) {
    let text = state.tooltip(crate::commands::app::language(app));
    let Some(tray) = app.tray_by_id("main") else {
        return;
    };
    if let Err(e) = tray.set_tooltip(Some(&text)) {
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
        .title(&notice.title)
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
            .summary(&notice.title)
            .body(&notice.body);
        if listener.is_some() {
            n.action("default", notice.open);
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

    fn candle(symbol: &str, hour: i64) -> AppEvent {
        AppEvent::Candle {
            symbol: symbol.into(),
            open_time_ms: hour * 3_600_000,
            open: "100".into(),
            high: "101".into(),
            low: "99".into(),
            close: format!("100.{hour}"),
            volume: "10".into(),
        }
    }

    fn signal(symbol: &str, hour: i64) -> AppEvent {
        AppEvent::Signal {
            symbol: symbol.into(),
            direction: Direction::Long,
            probability: 0.6,
            time_ms: hour * 3_600_000,
            strong: false,
            record: None,
        }
    }

    /// A candle close as the engine publishes it: a candle, then its signal, per symbol.
    fn close(symbols: usize, hour: i64) -> Vec<AppEvent> {
        (0..symbols)
            .flat_map(|i| {
                let symbol = format!("S{i}USDT");
                [candle(&symbol, hour), signal(&symbol, hour)]
            })
            .collect()
    }

    #[tokio::test]
    async fn a_published_burst_goes_to_the_page_as_one_batch_in_order() {
        let bus = perpdesk_app::Events::new();
        let mut events = bus.subscribe();
        let burst = close(30, 12);
        for event in &burst {
            bus.emit(event.clone());
        }
        assert_eq!(next_batch(&mut events).await, Some(burst));
        // Nothing of it is left behind: the next event is a batch of its own.
        bus.emit(candle("BTCUSDT", 13));
        assert_eq!(
            next_batch(&mut events).await,
            Some(vec![candle("BTCUSDT", 13)])
        );
    }

    // On this (current-thread) runtime the publisher runs only when the forwarder gives way,
    // so the batch shows what the forwarder's one turn lets a burst under way add to it.
    #[tokio::test]
    async fn a_burst_under_way_finishes_into_the_same_batch() {
        let bus = perpdesk_app::Events::new();
        let mut events = bus.subscribe();
        let burst = close(30, 12);
        let publisher = tokio::spawn({
            let (bus, burst) = (bus.clone(), burst.clone());
            async move {
                bus.emit(burst[0].clone());
                // Woken again only after the forwarder has taken the first event.
                tokio::task::yield_now().await;
                for event in &burst[1..] {
                    bus.emit(event.clone());
                }
            }
        });
        assert_eq!(next_batch(&mut events).await, Some(burst));
        publisher.await.expect("the publisher finishes");
    }

    #[tokio::test]
    async fn a_wait_ends_with_the_first_event_without_waiting_for_more() {
        let (tx, mut events) = broadcast::channel(16);
        let mut waiting = std::pin::pin!(next_batch(&mut events));
        tokio::select! {
            biased;
            _ = &mut waiting => panic!("a batch before any event"),
            () = std::future::ready(()) => {}
        }
        tx.send(signal("BTCUSDT", 12)).expect("a receiver listens");
        assert_eq!(waiting.await, Some(vec![signal("BTCUSDT", 12)]));
    }

    #[tokio::test]
    async fn a_lagged_receiver_goes_on_with_what_is_left() {
        let (tx, mut events) = broadcast::channel(4);
        for i in 0..10 {
            tx.send(i).expect("a receiver listens");
        }
        // Lagged before the first event: the 6 oldest are lost, the 4 kept come in order.
        assert_eq!(next_batch(&mut events).await, Some(vec![6, 7, 8, 9]));
        // Lagged while a batch is gathered: it keeps what it had and goes on after the loss.
        let publisher = tokio::spawn({
            let tx = tx.clone();
            async move {
                tx.send(10).expect("a receiver listens");
                tokio::task::yield_now().await;
                for i in 11..=20 {
                    tx.send(i).expect("a receiver listens");
                }
            }
        });
        assert_eq!(
            next_batch(&mut events).await,
            Some(vec![10, 17, 18, 19, 20])
        );
        publisher.await.expect("the publisher finishes");
    }

    #[tokio::test]
    async fn a_batch_holds_at_most_max_batch_events_and_the_rest_follows() {
        let (tx, mut events) = broadcast::channel(1024);
        for i in 0..MAX_BATCH + 44 {
            tx.send(i).expect("a receiver listens");
        }
        drop(tx);
        assert_eq!(
            next_batch(&mut events).await,
            Some((0..MAX_BATCH).collect())
        );
        assert_eq!(
            next_batch(&mut events).await,
            Some((MAX_BATCH..MAX_BATCH + 44).collect())
        );
        // The bus closed: the forwarder stops once everything sent has gone out.
        assert_eq!(next_batch(&mut events).await, None);
    }

    #[test]
    fn the_page_gets_a_batch_as_an_array_of_tagged_events() {
        let batch = [candle("BTCUSDT", 12), signal("BTCUSDT", 12)];
        let json = serde_json::to_value(batch).expect("events serialise");
        assert_eq!(json[0]["kind"], "candle");
        assert_eq!(json[0]["close"], "100.12");
        assert_eq!(json[1]["kind"], "signal");
        assert_eq!(json[1]["direction"], "long");
    }

    fn order(leg: Leg, state: OrderState) -> AppEvent {
        AppEvent::Order {
            account_id: 1,
            symbol: "BTCUSDT".into(),
            client_order_id: "pd-x".into(),
            leg,
            state,
            message: "Margin is insufficient.".into(),
        }
    }

    #[test]
    fn only_what_matters_notifies() {
        let weak = AppEvent::Signal {
            symbol: "BTCUSDT".into(),
            direction: Direction::Flat,
            probability: 0.52,
            time_ms: 0,
            strong: false,
            record: None,
        };
        assert!(notification(&weak, Language::En).is_none());
        assert!(notification(&order(Leg::TakeProfit, OrderState::New), Language::En).is_none());
        let notice = notification(&order(Leg::TakeProfit, OrderState::Filled), Language::En)
            .expect("a filled take-profit notifies");
        assert_eq!(notice.body, "BTCUSDT: take-profit filled");
        assert_eq!(notice.panel, "records");
        assert_eq!(tray_state(&AppEvent::Locked), Some(TrayState::Locked));
    }

    #[test]
    fn notifications_and_the_tray_speak_the_users_language_only() {
        let signal = AppEvent::Signal {
            symbol: "ETHUSDT".into(),
            direction: Direction::Short,
            probability: 0.634,
            time_ms: 0,
            strong: true,
            record: None,
        };
        let zh = notification(&signal, Language::ZhCn).expect("strong signals notify");
        assert_eq!(
            (zh.title.as_str(), zh.body.as_str(), zh.open),
            ("perpdesk · 信号", "ETHUSDT 做空 · p = 63%", "打开")
        );
        let en = notification(&signal, Language::En).expect("strong signals notify");
        assert_eq!(
            (en.title.as_str(), en.body.as_str(), en.open),
            ("perpdesk · Signal", "ETHUSDT short · p = 63%", "Open")
        );
        let stop = order(Leg::StopLoss, OrderState::Filled);
        assert_eq!(
            notification(&stop, Language::ZhCn)
                .expect("fills notify")
                .body,
            "BTCUSDT: 止损已成交"
        );
        // Every notice and tooltip is in one language: no Latin words in Chinese, no CJK in English.
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let english_word = |s: &str| {
            s.split(|c: char| !c.is_ascii_alphabetic())
                .any(|w| w.len() > 2 && w != "perpdesk" && !w.ends_with("USDT"))
        };
        let events = [
            signal,
            stop,
            order(Leg::Entry, OrderState::Filled),
            AppEvent::Connection {
                account_id: 1,
                connected: false,
                message: String::new(),
            },
        ];
        for event in &events {
            let zh = notification(event, Language::ZhCn).expect("notifies");
            let en = notification(event, Language::En).expect("notifies");
            assert!(
                !english_word(&zh.title) && !english_word(&zh.body),
                "{zh:?}"
            );
            assert!(!cjk(&en.title) && !cjk(&en.body), "{en:?}");
        }
        for state in [
            TrayState::Connected,
            TrayState::Disconnected,
            TrayState::RiskBlocked,
            TrayState::Locked,
        ] {
            assert!(!english_word(&state.tooltip(Language::ZhCn)), "{state:?}");
            assert!(!cjk(&state.tooltip(Language::En)), "{state:?}");
        }
    }

    #[test]
    fn order_events_name_the_leg_as_the_views_do() {
        let json = serde_json::to_value(order(Leg::TakeProfit, OrderState::Filled))
            .expect("events serialise");
        assert_eq!(json["leg"], "take_profit");
        assert_eq!(json["state"], "FILLED");
        let zh = include_str!("../../ui/js/i18n/zh-CN.js");
        for leg in [Leg::Entry, Leg::TakeProfit, Leg::StopLoss, Leg::Close] {
            let name = serde_json::to_value(leg).expect("legs serialise");
            let key = format!("'leg.{}'", name.as_str().expect("a leg is a string"));
            assert!(zh.contains(&key), "the views have no words for {key}");
        }
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
        let cases = [
            (
                AppEvent::Signal {
                    symbol: "BTCUSDT".into(),
                    direction: Direction::Long,
                    probability: 0.7,
                    time_ms: 0,
                    strong: true,
                    record: None,
                },
                "signals",
            ),
            (order(Leg::Entry, OrderState::Filled), "records"),
            (order(Leg::StopLoss, OrderState::Filled), "records"),
            (order(Leg::Entry, OrderState::Rejected), "trade"),
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
            let notice = notification(&event, Language::ZhCn).expect("notifies");
            assert_eq!(notice.panel, panel, "{event:?}");
            assert!(
                html.contains(&format!("data-panel=\"{panel}\"")),
                "{panel} is not a dashboard panel"
            );
        }
    }
}
