//! Issue 20's measured case, kept as a test: the headless replay `--days 3 --trade-lean`
//! from 2022-06-25 lost money over its three days, and under the per-trade high-water mark it
//! owed the platform a share anyway (9.25 USDT when measured). Decided at settlement, the
//! default now, a period owes the split of its net above the mark and nothing when it ends
//! below it, and its signed statement says so and verifies. The replay's trades come from the
//! live 1h models, so its sign follows them: since the GBDT bins its features into 63 (issue
//! 15, `docs/signals.md` Part 4) the same three days end up +26.42 USDT, and the test checks the
//! rule for either sign (the losing case itself is pinned without a market in
//! `crates/core/tests/core/ledger_props.rs` and `statements.rs`). About 20 s in a debug build,
//! so not ignored.

use chrono::{TimeZone, Utc};
use perpdesk_app::replay::{self, ReplayConfig};
use perpdesk_core::verify::{Expectations, verify};
use perpdesk_core::{ShareMode, ShareRatio};
use rust_decimal::Decimal;

use crate::support::data_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_day_lean_replay_owes_the_split_of_its_net_above_the_mark_and_verifies() {
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
    // Settlement shares the period's net above the mark, which starts at 0.
    let net = ledger.cumulative_net;
    let shareable = net.max(Decimal::ZERO);
    if net < Decimal::ZERO {
        // Issue 20's case: shared as each trade closed, above a mark that never falls, the
        // same trades owed the platform part of every run-up that the period then gave back.
        assert!(
            r.net < Decimal::ZERO,
            "the replay's income lost money too: {}",
            r.net
        );
        let (mut cumulative, mut mark, mut per_trade) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for row in ledger.rows.iter().rev() {
            cumulative += row.total_pnl;
            if cumulative > mark {
                per_trade += cumulative - mark;
                mark = cumulative;
            }
        }
        assert!(per_trade > Decimal::ZERO, "the old rule would have shared");
    }

    assert_eq!(ledger.high_water_mark, Decimal::ZERO, "nothing settled yet");
    assert_eq!(
        (ledger.owed_now.platform, ledger.owed_now.user),
        ShareRatio::default().split(shareable),
        "owed if settled now: the net above the mark, 70% to the platform and 30% to the user"
    );
    let decision = ledger
        .owed_now
        .detail
        .decision
        .clone()
        .expect("rows to settle");
    assert_eq!(
        (decision.shareable, decision.mark_after),
        (shareable, shareable)
    );

    let done = engine.settle().await.expect("settled");
    let id = done["settlement_id"].as_i64().expect("id");
    let signed = engine
        .settlement_statement(id)
        .await
        .expect("read")
        .expect("signed");
    let s = &signed.statement;
    assert_eq!(s.rows.len(), ledger.rows.len());
    assert_eq!(s.totals.platform_share + s.totals.user_share, shareable);
    assert_eq!(
        (s.totals.platform_share, s.totals.user_share),
        (ledger.owed_now.platform, ledger.owed_now.user)
    );
    assert_eq!(s.totals.net_pnl, ledger.cumulative_net);
    let d = s.decision.as_ref().expect("decided at settlement");
    assert_eq!((d.shareable, d.mark_after), (shareable, shareable));

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
