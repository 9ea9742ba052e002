//! Crash recovery: the engine runs in a child process (this test binary, re-run as
//! `crash::worker`) that places and closes tickets until it is SIGKILLed at a random moment;
//! a fresh engine on the same database file then unlocks and reconciles, and the exchange
//! must show no exit order on a flat position, no position without a stop-loss, and every
//! exchange trade must reach the local store after a sync.
//!
//! The simulator lives in this (parent) process, so the exchange survives every kill. The
//! worker reaches it through a `PaperVenue` whose address is pointed at the parent's port:
//! paper sessions take their URL from the venue, and the venue's own little exchange only
//! supplies the replay clock (set to the parent's time) for signing.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use perpdesk_app::books::ShareSettings;
use perpdesk_app::sync::sync_account;
use perpdesk_app::trading::ReconcileReport;
use perpdesk_app::venue::PaperVenue;
use perpdesk_app::{Engine, EngineConfig, Events};
use perpdesk_core::{OrderState, Side, Symbol};
use perpdesk_sim::exchange::Exchange;
use perpdesk_sim::faults::{FaultKind, FaultRule, Faults};
use perpdesk_sim::market::{ClockMode, MarketData, SimClock};
use perpdesk_sim::server::{Running, Shared, serve};
use rust_decimal_macros::dec;

use crate::soak::{PAPER, Rng, engine, fast_rest, paper_client};
use crate::support::{PASSWORD, data_dir, start_sim, ticket};

const URL: &str = "PERPDESK_CRASH_SIM_ADDR";
const DB: &str = "PERPDESK_CRASH_DB";
const NOW: &str = "PERPDESK_CRASH_NOW_MS";
const SEED: &str = "PERPDESK_CRASH_SEED";
const READY: &str = "CRASH-WORKER-READY";

/// A second server on the same exchange, for an engine that may be dropped (dropping a
/// `Running` stops its server, not the exchange).
async fn second_server(sim: &Running) -> Running {
    serve(sim.shared.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind")
}

async fn venue_on(sim: &Running) -> PaperVenue {
    PaperVenue::from_running(second_server(sim).await)
}

async fn open_engine(paper: PaperVenue, db: &Path) -> Engine {
    Engine::open(
        EngineConfig {
            database: Some(db.to_path_buf()),
            kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
            rest: fast_rest(),
        },
        Some(paper),
        Events::new(),
    )
    .await
    .expect("engine opens")
}

/// The child: trades until killed. Without the environment it is a no-op.
#[tokio::test]
#[ignore = "run by crash::kills_at_random_points_lose_nothing in a child process"]
async fn worker() {
    let (Ok(addr), Ok(db), Ok(now), Ok(seed)) = (
        std::env::var(URL),
        std::env::var(DB),
        std::env::var(NOW),
        std::env::var(SEED),
    ) else {
        return;
    };
    let now: i64 = now.parse().expect("now");
    let market = MarketData::load_dir(&data_dir(), &["BTCUSDT", "ETHUSDT"]).expect("data");
    let clock = SimClock::new(ClockMode::Manual, now, market.start_ms(), market.end_ms());
    let local = serve(
        Shared::new(Exchange::new(market, now), clock),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("bind");
    let mut running = local;
    running.addr = addr.parse().expect("parent address");
    let paper = PaperVenue::from_running(running);
    let engine = open_engine(paper, Path::new(&db)).await;
    // `unlock` is what the app does at start: it reconciles before anything new is sent.
    engine
        .unlock(perpdesk_vault::SecretString::new(PASSWORD.into()))
        .await
        .expect("unlock");
    let account = engine.active_account_id().await.expect("account");
    println!("{READY}");
    let mut rng = Rng(seed.parse().expect("seed"));
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let side = if rng.next().is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        // One ticket at a time: whatever the last one left open is closed first.
        if let Ok(open) = engine.positions().await {
            for p in open {
                if engine
                    .close_position(&p.symbol, p.position_side)
                    .await
                    .is_err()
                {
                    let _ = engine.reconcile(account).await;
                }
            }
        }
        let mark = {
            let sim = engine.paper().expect("paper").running();
            sim.shared
                .exchange
                .lock()
                .expect("exchange")
                .market
                .mark_price("BTCUSDT", now)
                .expect("mark")
        };
        if engine
            .place_order(&ticket(side, dec!(800), mark, dec!(1.5), dec!(1.5)))
            .await
            .is_err()
        {
            let _ = engine.reconcile(account).await;
        }
        if !rng.next().is_multiple_of(3) {
            // Some positions are left open for the next kill to find.
            let _ = engine
                .close_position("BTCUSDT", perpdesk_core::PositionSide::Both)
                .await;
        }
    }
}

/// What the crash cycles did.
#[derive(Debug, Default)]
struct Figures {
    cycles: u32,
    /// Journal entries a kill left as INTENT, SENT or UNKNOWN.
    unresolved_at_restart: usize,
    journal_entries: usize,
    exchange_orders: usize,
    repairs: ReconcileReport,
    fills: usize,
}

fn add(total: &mut ReconcileReport, r: &ReconcileReport) {
    total.looked_up += r.looked_up;
    total.placed += r.placed;
    total.abandoned += r.abandoned;
    total.orphans_canceled += r.orphans_canceled;
    total.stops_replaced += r.stops_replaced;
    total.flattened += r.flattened;
}

/// Starts the worker and kills it `delay` after it is ready.
fn run_and_kill(sim: &Running, db: &Path, seed: u64, delay: Duration) {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["crash::worker", "--exact", "--ignored", "--nocapture"])
        .env(URL, sim.addr.to_string())
        .env(DB, db)
        .env(NOW, sim.shared.clock.now_ms().to_string())
        .env(SEED, seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut ready = false;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if line.contains(READY) {
            ready = true;
            break;
        }
    }
    assert!(ready, "the worker came up");
    std::thread::sleep(delay);
    // SIGKILL: no destructor, no flush, no goodbye.
    child.kill().expect("kill");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "the worker was killed, not finished");
}

fn sim_state(status: &str, algo: bool) -> OrderState {
    match (status, algo) {
        ("NEW", _) => OrderState::New,
        ("PARTIALLY_FILLED", false) => OrderState::PartiallyFilled,
        ("FILLED", false) | ("TRIGGERED" | "FINISHED", true) => OrderState::Filled,
        ("CANCELED", _) => OrderState::Canceled,
        ("REJECTED", _) => OrderState::Rejected,
        _ => OrderState::Expired,
    }
}

/// Restarts an engine on the file, lets it recover, and checks the invariants.
async fn recover_and_check(sim: &Running, db: &Path, figures: &mut Figures) {
    let engine = open_engine(venue_on(sim).await, db).await;
    // `vault_unlock` + `reconcile` is what `unlock` does, with the report kept.
    engine
        .vault_unlock(perpdesk_vault::SecretString::new(PASSWORD.into()))
        .await
        .expect("unlock");
    let account = engine.active_account_id().await.expect("account");
    figures.unresolved_at_restart += engine
        .store()
        .journal_unresolved(account)
        .await
        .expect("journal")
        .len();
    let report = engine.reconcile(account).await.expect("reconcile");
    add(&mut figures.repairs, &report);
    let again = engine.reconcile(account).await.expect("reconcile");
    assert_eq!(again, ReconcileReport::default(), "one pass repairs all");

    let journal = engine
        .store()
        .journal_recent(account, 1_000_000)
        .await
        .expect("journal");
    let mut on_exchange: HashMap<String, Vec<OrderState>> = HashMap::new();
    {
        let ex = sim.shared.exchange.lock().expect("exchange");
        let a = &ex.accounts[PAPER];
        for (key, p) in &a.positions {
            if p.amount.is_zero() {
                continue;
            }
            assert!(
                a.algo_orders.iter().any(|o| o.symbol == key.0
                    && o.position_side == key.1
                    && o.order_type.as_str() == "STOP_MARKET"
                    && o.status == "NEW"),
                "open position {key:?} has a stop-loss"
            );
        }
        for o in a.algo_orders.iter().filter(|o| o.status == "NEW") {
            let open = a
                .positions
                .get(&(o.symbol.clone(), o.position_side))
                .is_some_and(|p| !p.amount.is_zero());
            assert!(open, "{} rests on a flat position", o.client_algo_id);
        }
        for o in &a.orders {
            on_exchange
                .entry(o.client_order_id.clone())
                .or_default()
                .push(sim_state(o.status, false));
        }
        for o in &a.algo_orders {
            on_exchange
                .entry(o.client_algo_id.clone())
                .or_default()
                .push(sim_state(o.status, true));
        }
    }
    for e in &journal {
        let id = e.request.client_order_id.as_str();
        match e.state {
            OrderState::Intent | OrderState::Sent | OrderState::Unknown => {
                panic!("{id} is unresolved after recovery: {:?}", e.state)
            }
            OrderState::Abandoned | OrderState::NotFound => {
                assert!(!on_exchange.contains_key(id), "{id} given up but exists")
            }
            OrderState::Rejected => {}
            state => assert_eq!(
                on_exchange.get(id).map(Vec::as_slice),
                Some(&[state][..]),
                "{id}: the journal says {state:?}"
            ),
        }
    }
    for (id, states) in &on_exchange {
        assert_eq!(states.len(), 1, "{id} is on the exchange once");
        assert!(
            journal
                .iter()
                .any(|e| e.request.client_order_id.as_str() == id),
            "{id} on the exchange is journalled"
        );
    }

    let now = chrono::DateTime::from_timestamp_millis(sim.shared.clock.now_ms()).expect("now");
    sync_account(
        &paper_client(&engine),
        engine.store(),
        account,
        &[Symbol::new("BTCUSDT").expect("symbol")],
        &ShareSettings::default(),
        now,
        |_| {},
    )
    .await
    .expect("sync");
    let fills = engine
        .store()
        .fills(account, i64::MIN, i64::MAX)
        .await
        .expect("fills");
    {
        let ex = sim.shared.exchange.lock().expect("exchange");
        let trades = &ex.accounts[PAPER].trades;
        assert_eq!(fills.len(), trades.len(), "no fill lost, none twice");
        for t in trades {
            assert!(
                fills
                    .iter()
                    .any(|f| f.trade_id == t.id && f.quantity == t.qty),
                "trade {} is stored",
                t.id
            );
        }
    }
    figures.journal_entries = journal.len();
    figures.exchange_orders = on_exchange.len();
    figures.fills = fills.len();
    engine.store().close().await;
}

async fn crash_cycles(cycles: u32, seed: u64) -> Figures {
    let sim = start_sim().await;
    sim.shared.set_weight_limit(100_000_000);
    sim.shared.set_order_limits(10_000_000, 10_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = dir.path().join("perpdesk.sqlite");
    {
        let setup = engine(second_server(&sim).await, fast_rest(), Some(db.clone())).await;
        setup.store().close().await;
    }
    sim.shared.exchange.lock().expect("exchange").accounts[PAPER].wallet = dec!(10000000);
    // Requests that place orders take a little while, so kills also land mid-request.
    sim.shared.set_faults(Faults::new(
        seed,
        ["/fapi/v1/order", "/fapi/v1/algoOrder"]
            .into_iter()
            .map(|path| FaultRule {
                path: path.into(),
                method: Some("POST".into()),
                kind: FaultKind::Latency { ms: 20 },
                probability: 0.5,
                count: None,
            })
            .collect(),
    ));
    let mut rng = Rng(seed);
    let mut figures = Figures::default();
    for cycle in 0..cycles {
        // Each run starts at a later replay time, as a restarted app would.
        crate::support::advance(&sim, 60_000);
        let delay = Duration::from_millis(100 + rng.next() % 900);
        let (db2, seed2) = (db.clone(), seed + u64::from(cycle));
        let sim_ref = &sim;
        tokio::task::block_in_place(|| run_and_kill(sim_ref, &db2, seed2, delay));
        // While the app was down the market moved: exits may have triggered.
        crate::support::advance(&sim, 5 * 60_000);
        recover_and_check(&sim, &db, &mut figures).await;
        figures.cycles += 1;
    }
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_at_random_points_lose_nothing() {
    let started = Instant::now();
    let figures = crash_cycles(10, 7).await;
    eprintln!("crash: {figures:?} in {:?}", started.elapsed());
    assert_eq!(figures.cycles, 10);
    assert!(figures.exchange_orders > 10, "{figures:?}");
}

/// A paused replay clock is the same millisecond before and after a restart; the second
/// process must not make the ticket ids the first one used (the journal refuses a reused
/// client id, so the click would fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_within_the_same_replay_millisecond_can_still_trade() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = dir.path().join("perpdesk.sqlite");
    let mark = {
        let ex = sim.shared.exchange.lock().expect("exchange");
        ex.market
            .mark_price("BTCUSDT", sim.shared.clock.now_ms())
            .expect("mark")
    };
    let first = engine(second_server(&sim).await, fast_rest(), Some(db.clone())).await;
    first
        .place_order(&ticket(Side::Buy, dec!(500), mark, dec!(1.5), dec!(1.5)))
        .await
        .expect("first process trades");
    first
        .close_position("BTCUSDT", perpdesk_core::PositionSide::Both)
        .await
        .expect("closed");
    first.store().close().await;
    drop(first);

    let second = open_engine(venue_on(&sim).await, &db).await;
    second
        .unlock(perpdesk_vault::SecretString::new(PASSWORD.into()))
        .await
        .expect("unlock");
    let placed = second
        .place_order(&ticket(Side::Sell, dec!(500), mark, dec!(1.5), dec!(1.5)))
        .await;
    assert!(placed.is_ok(), "second process trades: {placed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: cargo test -p perpdesk-app --test engine crash::many -- --ignored"]
async fn many_kills_lose_nothing() {
    let started = Instant::now();
    let figures = crash_cycles(50, 2026).await;
    eprintln!("crash (long): {figures:?} in {:?}", started.elapsed());
    assert_eq!(figures.cycles, 50);
}

/// A position opened outside perpdesk (the Binance app) after a perpdesk short was closed:
/// reconciliation must protect it with a stop on its own side, not reuse the old short's
/// stop price (above the market, which a long's stop cannot be) and close it instead.
#[tokio::test]
async fn a_stop_replaced_for_a_foreign_position_protects_it() {
    let sim = start_sim().await;
    let engine = engine(sim, fast_rest(), None).await;
    let account = engine.active_account_id().await.expect("account");
    let mark = {
        let sim = engine.paper().expect("paper").running();
        let ex = sim.shared.exchange.lock().expect("exchange");
        ex.market
            .mark_price("BTCUSDT", sim.shared.clock.now_ms())
            .expect("mark")
    };
    engine
        .place_order(&ticket(Side::Sell, dec!(500), mark, dec!(1.5), dec!(1.5)))
        .await
        .expect("short");
    engine
        .close_position("BTCUSDT", perpdesk_core::PositionSide::Both)
        .await
        .expect("closed");
    engine.reconcile(account).await.expect("orphans canceled");

    let mut long = perpdesk_binance::wire::trade::NewOrderRequest::market(
        "BTCUSDT",
        perpdesk_binance::wire::Side::Buy,
        dec!(0.01),
    );
    long.new_client_order_id = Some("web_long_1".into());
    paper_client(&engine)
        .raw()
        .new_order(&long)
        .await
        .expect("foreign long");
    let report = engine.reconcile(account).await.expect("reconcile");
    let positions = engine.positions().await.expect("positions");
    assert_eq!(positions.len(), 1, "still open: {report:?}");
    let stop = positions[0].stop_loss.expect("protected");
    assert!(
        stop < mark,
        "a long's stop sits below the market: {stop} vs {mark}"
    );
}
