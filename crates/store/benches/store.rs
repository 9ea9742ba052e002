//! Store throughput: one large sync batch, and a 30-day PnL summary over a year of fills.
//!
//! Targets (issue 6): 100,000 fills plus 100,000 income rows in one batch within 2 s; the
//! 30-day summary over a 1,000,000-fill database within 100 ms. Both run on a real file
//! in WAL mode, as the app does.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use perpdesk_core::{Fill, Income, IncomeKind, PositionSide, Side, Symbol};
use perpdesk_store::{Environment, NewAccount, Store};
use rust_decimal::Decimal;

const DAY_MS: i64 = 86_400_000;
/// 2025-01-01T00:00:00Z: the synthetic year starts here.
const YEAR_START_MS: i64 = 1_735_689_600_000;

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().expect("time")
}

fn fill(symbol: &Symbol, id: i64, time_ms: i64) -> Fill {
    Fill {
        symbol: symbol.clone(),
        trade_id: id,
        order_id: id / 3,
        client_order_id: None,
        side: if id % 2 == 0 { Side::Buy } else { Side::Sell },
        position_side: PositionSide::Both,
        price: Decimal::new(6_500_000 + id % 10_000, 2),
        quantity: Decimal::new(1 + id % 1_000, 3),
        realized_pnl: Decimal::new(id % 20_001 - 10_000, 4),
        commission: Decimal::new(1 + id % 997, 8),
        commission_asset: "USDT".to_owned(),
        maker: id % 3 == 0,
        time: at(time_ms),
    }
}

fn income(symbol: &Symbol, id: i64, time_ms: i64) -> Income {
    Income {
        tran_id: id,
        symbol: Some(symbol.clone()),
        kind: if id % 3 == 0 {
            IncomeKind::FundingFee
        } else {
            IncomeKind::Commission
        },
        amount: Decimal::new(-(1 + id % 12_345), 8),
        asset: "USDT".to_owned(),
        trade_id: Some(id),
        info: String::new(),
        time: at(time_ms),
    }
}

async fn fresh(dir: &std::path::Path, name: &str) -> (Store, i64) {
    let store = Store::open(dir.join(name)).await.expect("open");
    let acc = store
        .create_account(
            &NewAccount {
                name: "bench".to_owned(),
                environment: Environment::Paper,
                api_key_id: "k".to_owned(),
                secret_sealed: "sealed".to_owned(),
            },
            at(0),
        )
        .await
        .expect("account");
    (store, acc)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let btc = Symbol::new("BTCUSDT").expect("symbol");

    let n = 100_000;
    let fills: Vec<_> = (1..=n).map(|i| fill(&btc, i, YEAR_START_MS + i)).collect();
    let incomes: Vec<_> = (1..=n)
        .map(|i| income(&btc, i, YEAR_START_MS + i))
        .collect();
    let mut group = c.benchmark_group("sync");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(20));
    let mut round = 0;
    group.bench_function("100k_fills_plus_100k_income_one_batch", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let (store, acc) = rt.block_on(fresh(dir.path(), &format!("sync-{round}.db")));
                let start = Instant::now();
                let counts = rt
                    .block_on(store.sync_batch(acc, &fills, &incomes))
                    .expect("sync");
                total += start.elapsed();
                assert_eq!(counts.fills, n as u64);
                rt.block_on(store.close());
            }
            total
        });
    });
    group.finish();

    // A year of history: 1,000,000 fills evenly spread, funding every 8 hours.
    let (store, acc) = rt.block_on(fresh(dir.path(), "year.db"));
    let total_fills: i64 = 1_000_000;
    let step = 365 * DAY_MS / total_fills;
    let setup = Instant::now();
    for chunk_start in (0..total_fills).step_by(100_000) {
        let batch: Vec<_> = (chunk_start..chunk_start + 100_000)
            .map(|i| fill(&btc, i + 1, YEAR_START_MS + i * step))
            .collect();
        let funding: Vec<_> = (chunk_start / 100..(chunk_start + 100_000) / 100)
            .filter(|i| i % 3 == 0)
            .map(|i| income(&btc, i, YEAR_START_MS + i * 8 * 3_600_000 / 3))
            .collect();
        rt.block_on(store.sync_batch(acc, &batch, &funding))
            .expect("setup sync");
    }
    eprintln!("setup: 1,000,000 fills stored in {:?}", setup.elapsed());
    rt.block_on(store.close());
    // Reopening runs quick_check over the whole file: the startup cost of a year of data.
    let reopen = Instant::now();
    let store = rt
        .block_on(Store::open(dir.path().join("year.db")))
        .expect("reopen");
    eprintln!("reopen with quick_check: {:?}", reopen.elapsed());
    let from = YEAR_START_MS + 200 * DAY_MS;
    let to = from + 30 * DAY_MS;
    let probe = rt
        .block_on(store.pnl_summary(acc, from, to))
        .expect("summary");
    eprintln!(
        "30-day window: {} fills, {} funding payments, realised {}",
        probe.fills, probe.funding_events, probe.realized_pnl
    );
    let mut group = c.benchmark_group("pnl_summary");
    group.sample_size(20);
    group.bench_function("30_days_of_1m_fills", |b| {
        b.iter(|| {
            rt.block_on(store.pnl_summary(acc, from, to))
                .expect("summary")
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
