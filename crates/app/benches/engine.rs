//! Speed targets of the engine, against the simulator on loopback.
//!
//! - `click_to_signed_request`: the in-process part of a click (sizing and preview, risk
//!   check, three journal writes to a SQLite file, the signed query of the entry). The
//!   market snapshot is read once beforehand: its requests are network round trips, not
//!   the engine's work. Target: p99 ≤ 1 ms. Criterion reports the mean; the p50/p99 over
//!   10,000 clicks are measured here and printed.
//! - `sync_100k_rows`: a first sync of 40,000 fills and 60,000 income rows (20,000 round
//!   trips) into a fresh database file, ledger booking included, with the rate limits
//!   raised so pacing is not what is measured. Target: ≤ 5 s.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use perpdesk_app::books::ShareSettings;
use perpdesk_app::sync::sync_account;
use perpdesk_app::trading::{EntryType, Ticket};
use perpdesk_app::venue::PaperVenue;
use perpdesk_app::{Engine, EngineConfig, Events};
use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::signing::signed_query;
use perpdesk_binance::wire::trade::NewOrderRequest;
use perpdesk_binance::wire::{self, NewOrderRespType};
use perpdesk_binance::{BaseUrls, Client, HmacSigner, RateLimit, RestClient, RestConfig};
use perpdesk_core::{MarginType, RiskLimits, Side, Sizing, Symbol, TicketOrigin, ticket_id};
use perpdesk_sim::exchange::{Exchange, IncomeRow, PositionSide, Trade};
use perpdesk_sim::testing::{START, TestSim};
use perpdesk_store::{Environment, NewAccount, Store};
use rust_decimal::Decimal;

const KEY: &str = "benchkey0000000000000000";
const SECRET: &str = "benchsecret000000000000000000000";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn unpaced() -> RestConfig {
    RestConfig {
        weight_limit: RateLimit::per(Duration::from_secs(60), u32::MAX / 2),
        order_limit_short: RateLimit::per(Duration::from_secs(10), u32::MAX / 2),
        order_limit_long: RateLimit::per(Duration::from_secs(60), u32::MAX / 2),
        ..RestConfig::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn click_to_signed_request(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, bench, mark, key, secret) = rt.block_on(async {
        // The benches measure the engine, not the limiter.
        let sim = TestSim::new().unlimited().start().await;
        let engine = Engine::open(
            EngineConfig {
                // PERPDESK_BENCH_DB=memory separates the engine from the disk's latency.
                database: (std::env::var("PERPDESK_BENCH_DB").as_deref() != Ok("memory"))
                    .then(|| dir.path().join("perpdesk.sqlite")),
                kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
                rest: unpaced(),
            },
            Some(PaperVenue::from_running(sim)),
            Events::new(),
        )
        .await
        .expect("engine");
        engine
            .first_run(perpdesk_vault::SecretString::new(
                "correct horse battery staple 42".into(),
            ))
            .await
            .expect("first run");
        engine
            .set_risk_limits(
                RiskLimits {
                    max_trades_per_day: u32::MAX,
                    ..RiskLimits::default()
                },
                Some(perpdesk_vault::SecretString::new(
                    "correct horse battery staple 42".into(),
                )),
            )
            .await
            .expect("limits");
        let bench = engine.click_bench("BTCUSDT").await.expect("snapshot");
        let (mark, key, secret) = {
            let shared = &engine.paper().expect("paper").running().shared;
            let ex = shared.exchange.lock().expect("exchange");
            (
                ex.market.mark_price("BTCUSDT", START).expect("mark"),
                ex.accounts[0].api_key.clone(),
                ex.accounts[0].secret.clone(),
            )
        };
        (engine, bench, mark, key, secret)
    });
    let signer = HmacSigner::new(key, secret);
    let hundred = Decimal::ONE_HUNDRED;
    let ticket = Ticket {
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        sizing: Sizing::FixedNotional {
            usdt: Decimal::from(500),
        },
        leverage: 5,
        margin_type: MarginType::Isolated,
        order_type: EntryType::Market,
        price: None,
        take_profit: Some((mark * (hundred + Decimal::TWO) / hundred).round_dp(1)),
        stop_loss: Some((mark * (hundred - Decimal::TWO) / hundred).round_dp(1)),
        signal_id: Some(1),
    };
    let now = DateTime::<Utc>::from_timestamp_millis(START).expect("now");
    let mut n: i64 = 0;
    let mut click = || {
        n += 1;
        // A distinct ticket per click, as the engine's clock and sequence make them.
        let id = ticket_id(TicketOrigin::Signal, START + n, 0);
        let entry = rt
            .block_on(engine.click_bench_prepare(&bench, &ticket, &id, now))
            .expect("prepared");
        let side = match entry.side {
            Side::Buy => wire::Side::Buy,
            Side::Sell => wire::Side::Sell,
        };
        let mut request = NewOrderRequest::market(
            entry.symbol.as_str(),
            side,
            entry.quantity.unwrap_or_default(),
        );
        request.position_side = Some(wire::PositionSide::Both);
        request.new_client_order_id = Some(entry.client_order_id.as_str().to_owned());
        request.new_order_resp_type = Some(NewOrderRespType::Result);
        signed_query(&request.to_query(), 5_000, START + n, &signer)
    };
    let mut times = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let t = Instant::now();
        black_box(click());
        times.push(t.elapsed());
    }
    times.sort();
    eprintln!(
        "click_to_signed_request over 10,000 clicks: p50 {:?}, p99 {:?}, max {:?} (target p99 ≤ 1 ms)",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
    // The signing step alone, to show where the time goes (the rest is sizing, the risk
    // check and three journal inserts).
    let request = NewOrderRequest::market("BTCUSDT", wire::Side::Buy, Decimal::new(1, 2));
    let mut signing: Vec<Duration> = (0..10_000)
        .map(|i| {
            let t = Instant::now();
            black_box(signed_query(&request.to_query(), 5_000, START + i, &signer));
            t.elapsed()
        })
        .collect();
    signing.sort();
    eprintln!(
        "  of which signing: p50 {:?}, p99 {:?}",
        percentile(&signing, 0.50),
        percentile(&signing, 0.99)
    );
    c.bench_function("click_to_signed_request", |b| b.iter(|| black_box(click())));
}

/// Fills the account at `index` with `trips` closed round trips on BTCUSDT, one every five
/// minutes ending before `START`: two fills, two commissions and the realised PnL each.
fn round_trips(ex: &mut Exchange, index: usize, trips: i64) {
    let a = &mut ex.accounts[index];
    let first = START - trips * 300_000 - 3_600_000;
    let qty = Decimal::new(1, 2);
    let rate = Decimal::new(5, 4);
    for i in 0..trips {
        let open_at = first + i * 300_000;
        let close_at = open_at + 120_000;
        let open = Decimal::from(40_000 + i % 100);
        let close = open + Decimal::from(i % 41 - 20);
        let long = i % 2 == 0;
        let (open_side, close_side) = if long {
            (
                perpdesk_sim::exchange::Side::Buy,
                perpdesk_sim::exchange::Side::Sell,
            )
        } else {
            (
                perpdesk_sim::exchange::Side::Sell,
                perpdesk_sim::exchange::Side::Buy,
            )
        };
        let pnl = if long { close - open } else { open - close } * qty;
        let (fee_open, fee_close) = (
            (open * qty * rate).round_dp(8),
            (close * qty * rate).round_dp(8),
        );
        let (t1, t2) = (2 * i + 1, 2 * i + 2);
        let trade = |id, side, price, realized_pnl, commission, time| Trade {
            id,
            order_id: 1_000_000 + id,
            symbol: "BTCUSDT".into(),
            side,
            position_side: PositionSide::Both,
            price,
            qty,
            realized_pnl,
            commission,
            maker: false,
            time,
        };
        a.trades
            .push(trade(t1, open_side, open, Decimal::ZERO, fee_open, open_at));
        a.trades
            .push(trade(t2, close_side, close, pnl, fee_close, close_at));
        let row = |tran_id, income_type, income, time, trade_id| IncomeRow {
            tran_id,
            symbol: "BTCUSDT".into(),
            income_type,
            income,
            info: String::new(),
            time,
            trade_id: Some(trade_id),
        };
        a.income
            .push(row(3 * i + 1, "COMMISSION", -fee_open, open_at, t1));
        a.income
            .push(row(3 * i + 2, "REALIZED_PNL", pnl, close_at, t2));
        a.income
            .push(row(3 * i + 3, "COMMISSION", -fee_close, close_at, t2));
    }
}

fn sync_100k_rows(c: &mut Criterion) {
    let rt = runtime();
    let sim = rt.block_on(
        TestSim::new()
            .unlimited()
            .account(KEY, SECRET, Decimal::from(1_000_000))
            .setup(|ex| round_trips(ex, 0, 20_000))
            .start(),
    );
    let urls = BaseUrls {
        rest: sim.url(),
        spot_rest: Some(sim.url()),
        streams: sim.url().replace("http://", "ws://"),
    };
    let shared = sim.shared.clone();
    let clock: LocalClock = Arc::new(move || shared.clock.now_ms());
    let rest = RestClient::with_clock(
        &urls,
        Some(Arc::new(HmacSigner::new(KEY, SECRET))),
        unpaced(),
        clock,
    )
    .expect("client");
    let client = Client::new(Arc::new(rest));
    let symbols = [Symbol::new("BTCUSDT").expect("symbol")];
    // Every trip is shared, so the ledger books all 20,000.
    let settings = ShareSettings {
        include_manual: true,
        ..ShareSettings::default()
    };
    let now = DateTime::<Utc>::from_timestamp_millis(START).expect("now");
    let run = || {
        rt.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(dir.path().join("perpdesk.sqlite"))
                .await
                .expect("store");
            let account = store
                .create_account(
                    &NewAccount {
                        name: "bench".into(),
                        environment: Environment::Paper,
                        api_key_id: KEY.into(),
                        secret_sealed: "sealed".into(),
                    },
                    now,
                )
                .await
                .expect("account");
            let t = Instant::now();
            let report = sync_account(&client, &store, account, &symbols, &settings, now, |_| {})
                .await
                .expect("sync");
            let took = t.elapsed();
            assert_eq!(report.new_fills, 40_000);
            // 60,000 trip rows plus the deposit the account was opened with.
            assert_eq!(report.new_income, 60_001);
            assert_eq!(report.new_ledger_rows, 20_000);
            store.close().await;
            took
        })
    };
    let first = run();
    eprintln!(
        "sync of 40,000 fills + 60,000 income rows + 20,000 ledger rows: {first:?} (target ≤ 5 s)"
    );
    let mut group = c.benchmark_group("sync");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("sync_100k_rows", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run()).sum())
    });
    group.finish();
}

criterion_group!(benches, click_to_signed_request, sync_100k_rows);
criterion_main!(benches);
