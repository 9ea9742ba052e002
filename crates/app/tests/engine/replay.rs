//! Issue 20's measured case, kept as a test: the headless replay `--days 3 --trade-lean`
//! from 2022-06-25 lost money over its three days, and under the per-trade high-water mark it
//! owed the platform a share anyway (9.25 USDT when measured). Decided at settlement, the
//! default now, a period that ends below its mark owes nothing, and its signed statement
//! says so and verifies. About 20 s in a debug build, so not ignored.

use chrono::{TimeZone, Utc};
use perpdesk_app::replay::{self, ReplayConfig};
use perpdesk_core::ShareMode;
use perpdesk_core::verify::{Expectations, verify};
use rust_decimal::Decimal;

use crate::support::data_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_day_lean_replay_owes_nothing_for_a_period_that_ends_below_its_mark() {
    let config = ReplayConfig {
        days: 3,
        trade_lean: true,
        data: data_dir(),
        usdt: Decimal::from(500),
    };
    let (engine, r) = replay::run(&config).await.expect("the replay runs");
    let start = Utc.with_ymd_and_hms(2022, 6, 25, 0, 0, 0).unwrap();
    assert_eq!(r.from_ms, start.timestamp_millis(), "the issue's replay");
    assert_eq!(r.to_ms - r.from_ms, 3 * 24 * 3_600_000);
    let ledger = &r.ledger;
    assert_eq!(ledger.settings.mode, ShareMode::Settlement, "the default");
    assert!(
        ledger.rows.len() >= 2,
        "trades were booked: {}",
        ledger.rows.len()
    );
    assert!(r.net < Decimal::ZERO, "the period lost money: {}", r.net);
    // The ledger's net is its round trips'; the replay's is every income row's (funding
    // outside a round trip too), a few cents apart.
    assert!(
        ledger.cumulative_net < Decimal::ZERO,
        "the period's trades lost money: {}",
        ledger.cumulative_net
    );

    // Shared as each trade closed, above a mark that never falls, the same trades owed the
    // platform part of every run-up that the period then gave back.
    let (mut cumulative, mut mark, mut per_trade) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for row in ledger.rows.iter().rev() {
        cumulative += row.total_pnl;
        if cumulative > mark {
            per_trade += cumulative - mark;
            mark = cumulative;
        }
    }
    assert!(per_trade > Decimal::ZERO, "the old rule would have shared");

    assert_eq!(ledger.high_water_mark, Decimal::ZERO);
    assert_eq!(
        (ledger.owed_now.platform, ledger.owed_now.user),
        (Decimal::ZERO, Decimal::ZERO),
        "nothing owed if settled now"
    );
    let decision = ledger
        .owed_now
        .detail
        .decision
        .clone()
        .expect("rows to settle");
    assert_eq!(decision.shareable, Decimal::ZERO);

    let done = engine.settle().await.expect("settled");
    let id = done["settlement_id"].as_i64().expect("id");
    let signed = engine
        .settlement_statement(id)
        .await
        .expect("read")
        .expect("signed");
    let s = &signed.statement;
    assert_eq!(s.rows.len(), ledger.rows.len());
    assert_eq!(s.totals.platform_share, Decimal::ZERO);
    assert_eq!(s.totals.user_share, Decimal::ZERO);
    assert_eq!(s.totals.net_pnl, ledger.cumulative_net);
    let d = s.decision.as_ref().expect("decided at settlement");
    assert_eq!((d.shareable, d.mark_after), (Decimal::ZERO, Decimal::ZERO));

    let records = engine.synced_records().await.expect("records");
    let trusted = signed.public_key;
    let check = verify(
        &signed,
        &trusted,
        records.records(),
        Expectations::default(),
    );
    assert!(check.is_genuine(), "{}", check.report());
}
