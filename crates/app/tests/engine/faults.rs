//! The engine recovering by itself from what goes wrong between a desktop and an exchange:
//! a wrong local clock, a storm of 429s, an expired listenKey and a dropped WebSocket. All
//! against the simulator over HTTP and WebSocket; the faults are the simulator's.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use perpdesk_app::accounts::CheckStatus;
use perpdesk_app::trading::PlacedTicket;
use perpdesk_app::{AppEvent, Engine, ErrorCode};
use perpdesk_core::{OrderState, PositionSide, Side};
use perpdesk_sim::faults::{FaultKind, FaultRule, Faults};
use perpdesk_sim::server::LISTEN_KEY_TTL_MS;
use rust_decimal_macros::dec;

/// How long a test waits for the engine to settle (a reconnect, a fill synced) before calling
/// it a failure. Generous: it only bounds a broken run, and on a loaded 2-core machine a
/// reconnect with its first sync pass took over 10 s.
const SETTLES: Duration = Duration::from_secs(60);
use tokio::sync::broadcast;

use crate::soak::{
    Counter, Figures, PAPER, check_books, check_orders, generous_limits, go_flat, mark, reconcile,
};
use crate::support::{assert_bracket_working, engine_on, start_sim, ticket};

/// Long enough that no timer pass runs during a test: what the records show arrived because
/// the user stream (or its reconnect) woke the sync.
const NO_TIMER: Duration = Duration::from_secs(600);

/// An engine whose background timer is minutes away, so what reaches its records comes
/// through the user stream: the stream is connected, one bracketed buy is placed and its
/// entry fill is already booked (which proves the stream and its listenKey are up).
async fn bracket_on_the_stream() -> (
    Arc<Engine>,
    broadcast::Receiver<AppEvent>,
    tokio::task::JoinHandle<()>,
    PlacedTicket,
) {
    let engine = Arc::new(engine_on(start_sim().await).await);
    let mut rx = engine.events().subscribe();
    let background = engine.spawn_background(NO_TIMER);
    connection(&mut rx, true, SETTLES).await;
    let placed = engine
        .place_order(&ticket(
            Side::Buy,
            dec!(1000),
            mark(&engine),
            dec!(1.5),
            dec!(1.5),
        ))
        .await
        .expect("placed");
    eventually(SETTLES, "the entry fill via the stream", || {
        let engine = engine.clone();
        async move { engine.trades(None, None, None).await.expect("trades").len() == 1 }
    })
    .await;
    (engine, rx, background, placed)
}

fn is_flat(engine: &Engine) -> bool {
    let sim = engine.paper().expect("paper").running();
    let ex = sim.shared.exchange.lock().expect("exchange");
    ex.accounts[PAPER]
        .positions
        .values()
        .all(|p| p.amount.is_zero())
}

/// The exchange's trade ids of the paper account, in order.
fn exchange_trade_ids(engine: &Engine) -> Vec<i64> {
    let sim = engine.paper().expect("paper").running();
    let ex = sim.shared.exchange.lock().expect("exchange");
    let mut ids: Vec<i64> = ex.accounts[PAPER].trades.iter().map(|t| t.id).collect();
    ids.sort_unstable();
    ids
}

async fn stored_trade_ids(engine: &Engine) -> Vec<i64> {
    let mut ids: Vec<i64> = engine
        .trades(None, None, None)
        .await
        .expect("trades")
        .iter()
        .map(|t| t.trade_id)
        .collect();
    ids.sort_unstable();
    ids
}

/// Waits up to `within` for `check` to hold.
async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < within {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {within:?}");
}

/// The message of the next `Connection` event saying `connected`, waiting up to `within`.
async fn connection(
    rx: &mut broadcast::Receiver<AppEvent>,
    connected: bool,
    within: Duration,
) -> String {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(AppEvent::Connection {
                    connected: c,
                    message,
                    ..
                }) if c == connected => return message,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("the event channel closed"),
            }
        }
    };
    tokio::time::timeout(within, wait)
        .await
        .unwrap_or_else(|_| panic!("no connection event with connected={connected} in {within:?}"))
}

/// Locking stops the background work; after an unlock the first pass announces the
/// connection again (the shell's tray shows "locked" until it hears so), without a
/// disconnect having happened in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlock_announces_the_connection_again() {
    let engine = Arc::new(engine_on(start_sim().await).await);
    let mut rx = engine.events().subscribe();
    let background = engine.spawn_background(Duration::from_millis(200));
    assert_eq!(connection(&mut rx, true, SETTLES).await, "connected");
    engine.vault_lock().await.expect("locked");
    tokio::time::sleep(Duration::from_millis(600)).await;
    engine
        .vault_unlock(perpdesk_vault::SecretString::new(
            crate::support::PASSWORD.into(),
        ))
        .await
        .expect("unlocked");
    assert_eq!(connection(&mut rx, true, SETTLES).await, "connected");
    background.abort();
}

/// The paper session signs with a clock `first` ms off the exchange's, which then jumps to
/// `second` (a clock corrected under a running app, a laptop waking up). The connection
/// test, one click with TP/SL, a close and sync all work at both; the -1021 the jump causes
/// is met, absorbed by measuring the offset again, and never reaches the user.
async fn trade_with_a_skewed_clock(first: i64, second: i64) {
    let counter = Counter::default();
    let _guard = tracing::subscriber::set_default(counter.clone());
    let engine = engine_on(start_sim().await).await;
    let paper = engine.paper().expect("paper");
    let account = engine.active_account_id().await.expect("account");
    for skew in [first, second] {
        paper.set_clock_skew(skew);
        let report = engine
            .test_connection(account)
            .await
            .expect("connection test");
        assert!(report.ok, "skew {skew}: {report:?}");
        let check = |name: &str| {
            report
                .checks
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{name} in {report:?}"))
        };
        assert_eq!(check("signature").status, CheckStatus::Ok, "{report:?}");
        let clock = check("clock_offset");
        let offset: i64 = clock
            .detail
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("an offset in ms: {clock:?}"));
        // The exchange is behind a clock that runs ahead: the offset is minus the skew.
        assert!(
            (offset + skew).abs() <= 1_000,
            "skew {skew}: the check reports {clock:?}"
        );
        assert_eq!(clock.status, CheckStatus::Warn, "worth knowing: {clock:?}");

        let placed = engine
            .place_order(&ticket(
                Side::Buy,
                dec!(600),
                mark(&engine),
                dec!(2),
                dec!(2),
            ))
            .await
            .unwrap_or_else(|e| panic!("skew {skew}: one click: {e}"));
        assert_bracket_working(&placed);
        let synced = engine
            .sync_now()
            .await
            .unwrap_or_else(|e| panic!("skew {skew}: sync: {e}"));
        assert!(synced.new_fills >= 1, "the entry's fill: {synced:?}");
        engine
            .close_position("BTCUSDT", PositionSide::Both)
            .await
            .unwrap_or_else(|e| panic!("skew {skew}: close: {e}"));
    }
    assert!(
        counter.get("timestamp rejected") >= 1,
        "the jump from {first} to {second} ms was met as a -1021"
    );
    let orders = engine.orders(100).await.expect("orders");
    assert!(
        orders.iter().all(|o| o.state != OrderState::Rejected),
        "{orders:?}"
    );
    engine.sync_now().await.expect("sync");
    let mut figures = Figures::default();
    check_orders(&engine, account, &mut figures).await;
    check_books(&engine, account, &mut figures).await;
    assert_eq!(figures.fills, 4, "two entries and two closes: {figures:?}");
}

#[tokio::test]
async fn a_local_clock_ten_seconds_ahead_then_behind_trades_and_syncs() {
    trade_with_a_skewed_clock(10_000, -10_000).await;
}

#[tokio::test]
async fn a_local_clock_ten_seconds_behind_then_ahead_trades_and_syncs() {
    trade_with_a_skewed_clock(-10_000, 10_000).await;
}

/// Most requests answered 429 for a while: every click and sync is answered (an error
/// naming the rate limit, not a hang), the background loop reports the trouble, the client
/// waits as told so the exchange never has to ban it, and when the storm ends trading and
/// sync resume without help, with no order doubled or lost.
#[tokio::test]
async fn a_429_storm_is_waited_out_and_trading_resumes_on_its_own() {
    let counter = Counter::default();
    let _guard = tracing::subscriber::set_default(counter.clone());
    let engine = Arc::new(engine_on(start_sim().await).await);
    engine
        .set_risk_limits(
            generous_limits(),
            Some(perpdesk_vault::SecretString::new(
                crate::support::PASSWORD.into(),
            )),
        )
        .await
        .expect("limits");
    let account = engine.active_account_id().await.expect("account");
    let mut rx = engine.events().subscribe();
    let _background = engine.spawn_background(Duration::from_millis(500));
    connection(&mut rx, true, SETTLES).await;
    engine
        .place_order(&ticket(
            Side::Buy,
            dec!(500),
            mark(&engine),
            dec!(2),
            dec!(2),
        ))
        .await
        .expect("a position before the storm");

    let sim = engine.paper().expect("paper").running();
    sim.shared.set_faults(Faults::new(
        429,
        vec![FaultRule {
            path: "*".into(),
            method: None,
            kind: FaultKind::RateLimited,
            probability: 0.6,
            count: None,
        }],
    ));
    let before = counter.get("rate limited");
    let started = Instant::now();
    let mut answers = Vec::new();
    while started.elapsed() < Duration::from_secs(6) {
        let storm_ticket = ticket(Side::Buy, dec!(300), mark(&engine), dec!(2), dec!(2));
        let click = engine.place_order(&storm_ticket);
        let click = tokio::time::timeout(Duration::from_secs(30), click)
            .await
            .expect("a click in the storm is answered, not left hanging");
        answers.push(("click", click.map(drop)));
        let sync = tokio::time::timeout(Duration::from_secs(30), engine.sync_now())
            .await
            .expect("a sync in the storm is answered");
        answers.push(("sync", sync.map(drop)));
    }
    let storm = started.elapsed();
    let backed_off = counter.get("rate limited") - before;
    sim.shared.set_faults(Faults::default());

    let failed: Vec<_> = answers.iter().filter(|(_, r)| r.is_err()).collect();
    eprintln!(
        "429 storm: {} calls, {} failed, {backed_off} backoffs in {storm:?}",
        answers.len(),
        failed.len()
    );
    assert!(!failed.is_empty(), "the storm was felt: {answers:?}");
    for (what, result) in &failed {
        let e = result.as_ref().expect_err("failed");
        let text = e.to_string();
        assert!(text.contains("rate limited"), "{what}: {text}");
        // A refused request is Unavailable (a banner; the engine retries); a stop-loss the
        // storm refused is a Conflict that says what was done about the position.
        assert!(
            e.code() == ErrorCode::Unavailable
                || (e.code() == ErrorCode::Conflict && text.contains("stop-loss")),
            "{what}: {e:?}"
        );
    }
    let trouble = connection(&mut rx, false, SETTLES).await;
    assert!(trouble.contains("rate limited"), "{trouble}");
    // Each 429 pauses every request for its Retry-After (1 s here), so the storm sees about
    // one per second; a client that kept going would send hundreds, which Binance answers
    // with a 418 ban (logged by the client as below).
    let per_second = backed_off as f64 / storm.as_secs_f64();
    assert!(
        backed_off > 0 && per_second < 5.0,
        "{backed_off} backoffs in {storm:?}"
    );
    assert_eq!(
        counter.get("Binance banned this IP"),
        0,
        "the exchange never had to answer 418"
    );

    let back = connection(&mut rx, true, SETTLES).await;
    assert_eq!(back, "connected");
    engine
        .place_order(&ticket(
            Side::Buy,
            dec!(300),
            mark(&engine),
            dec!(2),
            dec!(2),
        ))
        .await
        .expect("trading resumes");
    engine.sync_now().await.expect("sync resumes");

    let mut figures = Figures::default();
    reconcile(&engine, account, &mut figures).await;
    go_flat(&engine, account, &mut figures).await;
    reconcile(&engine, account, &mut figures).await;
    engine.sync_now().await.expect("sync");
    check_orders(&engine, account, &mut figures).await;
    check_books(&engine, account, &mut figures).await;
    assert!(figures.orders_sent >= 4, "{figures:?}");
}

/// The simulator expires a listenKey 60 minutes after it was made or extended (of the test's
/// manual clock; 60 × its speed on a running replay). The replay jumps past that and a
/// target fills before the stream can do anything: the engine gets a new key, the sync its
/// reconnect wakes fetches the fill it missed, once, and live updates flow again on the new
/// key.
#[tokio::test]
async fn an_expired_listen_key_is_renewed_and_the_fill_it_missed_is_synced_once() {
    let (engine, _rx, _background, placed) = bracket_on_the_stream().await;
    let paper = engine.paper().expect("paper");
    let sim = paper.running();
    // The clock has not moved since the stream's listenKey was made.
    let key_made = paper.now_ms();

    // From here to the next await nothing else runs: the key expires, then the target
    // fills, and only then can the stream read its socket.
    sim.shared
        .clock
        .set(key_made + LISTEN_KEY_TTL_MS)
        .expect("manual clock");
    sim.shared.tick();
    assert!(!is_flat(&engine), "the position outlives its listenKey");
    for _ in 0..(24 * 30) {
        paper.advance(60).expect("advance");
        if is_flat(&engine) {
            break;
        }
    }
    assert!(is_flat(&engine), "an exit triggered");
    let exchange = exchange_trade_ids(&engine);
    assert_eq!(exchange.len(), 2, "entry and exit");

    // The sync books fills and order states in separate steps, so both are awaited: a
    // busy machine can show the fill before the target's state catches up.
    let target = placed.take_profit.expect("target").client_order_id;
    eventually(
        Duration::from_secs(30),
        "the missed fill and the filled target, synced after the reconnect",
        || {
            let engine = engine.clone();
            let exchange = exchange.clone();
            let target = target.clone();
            async move {
                let orders = engine.orders(20).await.expect("orders");
                stored_trade_ids(&engine).await == exchange
                    && orders
                        .iter()
                        .any(|o| o.client_order_id == target && o.state == OrderState::Filled)
            }
        },
    )
    .await;
    let again = engine.sync_now().await.expect("sync");
    assert_eq!(again.new_fills, 0, "nothing twice: {again:?}");
    assert_eq!(stored_trade_ids(&engine).await, exchange_trade_ids(&engine));
    let ledger = engine.ledger().await.expect("ledger");
    assert_eq!(ledger.rows.len(), 1, "one round trip booked once");

    // Live updates flow on the new key: a new ticket's fill arrives without the timer.
    engine
        .place_order(&ticket(
            Side::Sell,
            dec!(600),
            mark(&engine),
            dec!(2),
            dec!(2),
        ))
        .await
        .expect("placed on the new key");
    eventually(
        Duration::from_secs(30),
        "a fill via the renewed stream",
        || {
            let engine = engine.clone();
            async move { engine.trades(None, None, None).await.expect("trades").len() == 3 }
        },
    )
    .await;
}

/// Every WebSocket is cut as by a network drop, and a target fills while the engine is
/// reconnecting: the user hears of the drop and of the reconnect, and the reconnect's sync
/// fetches the fill over REST and books it exactly once.
#[tokio::test]
async fn after_a_websocket_drop_the_fill_made_meanwhile_is_synced_once() {
    let (engine, mut rx, _background, placed) = bracket_on_the_stream().await;
    let paper = engine.paper().expect("paper");
    let sim = paper.running();

    sim.shared.drop_streams();
    let dropped = connection(&mut rx, false, SETTLES).await;
    assert!(dropped.contains("reconnecting"), "{dropped}");
    // The stream waits out its backoff before reconnecting; nothing runs until the next
    // await, so the exit fills while it is down.
    for _ in 0..(24 * 30) {
        paper.advance(60).expect("advance");
        if is_flat(&engine) {
            break;
        }
    }
    assert!(is_flat(&engine), "an exit triggered");
    let exchange = exchange_trade_ids(&engine);
    assert_eq!(exchange.len(), 2, "entry and exit");

    let back = connection(&mut rx, true, SETTLES).await;
    assert_eq!(back, "connected");
    eventually(
        SETTLES,
        "the fill made while disconnected, synced after the reconnect",
        || {
            let engine = engine.clone();
            let exchange = exchange.clone();
            async move { stored_trade_ids(&engine).await == exchange }
        },
    )
    .await;
    let again = engine.sync_now().await.expect("sync");
    assert_eq!(again.new_fills, 0, "nothing twice: {again:?}");
    let exits: Vec<_> = engine
        .orders(20)
        .await
        .expect("orders")
        .into_iter()
        .filter(|o| {
            Some(&o.client_order_id) == placed.take_profit.as_ref().map(|t| &t.client_order_id)
                || Some(&o.client_order_id) == placed.stop_loss.as_ref().map(|t| &t.client_order_id)
        })
        .map(|o| o.state)
        .collect();
    assert!(exits.contains(&OrderState::Filled), "{exits:?}");
    let ledger = engine.ledger().await.expect("ledger");
    assert_eq!(ledger.rows.len(), 1, "one round trip booked once");
}
