//! Profit-share booking from records synced off the simulator: 70/30, the high-water mark,
//! manual trades, per-trade mode, settlement and the statement export.
//!
//! The property that shares sum to the profit above the high-water mark and that losses
//! share nothing is proven on the pure rule in `perpdesk-core` (`ledger::tests`); here the
//! same facts are checked on rows booked from real exchange records.

use std::collections::BTreeMap;

use perpdesk_app::books::{ShareSettings, book_ledger, owed_now, settle, statement_csv};
use perpdesk_core::{IncomeKind, Period, ShareEntry, ShareMode, ShareRatio, TicketOrigin};
use perpdesk_store::Store;
use rust_decimal::{Decimal, RoundingStrategy};
use rust_decimal_macros::dec;

use crate::sync::{Desk, HOUR, btc, eth, new_store, sync};

/// The net profit of a booked row recomputed from the exchange's own records: realised PnL
/// and commission of its trades, and the funding rows it links.
async fn net_from_exchange(desk: &Desk, entry: &ShareEntry) -> Decimal {
    let mut net = Decimal::ZERO;
    for symbol in [btc(), eth()] {
        for t in desk
            .client
            .raw()
            .user_trades(symbol.as_str(), None, 1000)
            .await
            .expect("userTrades")
        {
            if entry.trade_ids.contains(&t.id) {
                net += t.realized_pnl - t.commission;
            }
        }
    }
    let since = chrono::DateTime::from_timestamp_millis(0).expect("epoch");
    for i in desk.client.income_since(since, 1000).await.expect("income") {
        if i.kind == IncomeKind::FundingFee && entry.income_ids.contains(&i.tran_id) {
            net += i.amount;
        }
    }
    net
}

fn assert_split(e: &ShareEntry, ratio: Decimal) {
    assert_eq!(e.platform_share + e.user_share, e.shareable, "{e:?}");
    assert_eq!(
        e.platform_share,
        (e.shareable * ratio).round_dp_with_strategy(8, RoundingStrategy::ToZero)
    );
    assert_eq!(e.platform_ratio, ratio);
}

async fn entries(store: &Store, account: i64) -> BTreeMap<String, ShareEntry> {
    store
        .share_entries(account)
        .await
        .expect("ledger")
        .into_iter()
        .map(|r| (r.entry.trade_ref.clone(), r.entry))
        .collect()
}

#[tokio::test]
async fn signal_trades_are_shared_seventy_thirty_above_the_high_water_mark() {
    let desk = Desk::new().await;
    let hold = 4 * HOUR;
    desk.trip(TicketOrigin::Signal, &btc(), true, hold).await;
    desk.trip(TicketOrigin::Signal, &btc(), false, hold).await;
    desk.trip(TicketOrigin::Signal, &eth(), true, hold).await;
    desk.trip(TicketOrigin::Manual, &btc(), true, hold).await;

    // 70/30, per-trade high-water mark, signal trips only.
    let (store, account) = new_store().await;
    let hwm = ShareSettings {
        mode: ShareMode::HighWaterMark,
        ..ShareSettings::default()
    };
    let report = sync(&desk, &store, account, &hwm).await;
    assert_eq!(report.new_fills, 8);
    assert_eq!(report.new_ledger_rows, 3, "the manual trip is not shared");
    let rows = store.share_entries(account).await.expect("ledger");
    let booked: Vec<&ShareEntry> = rows.iter().map(|r| &r.entry).collect();
    assert!(
        booked.windows(2).all(|w| w[0].time <= w[1].time),
        "closing-time order"
    );
    let (win, loss, recovery) = (booked[0], booked[1], booked[2]);
    for e in &booked {
        assert_split(e, dec!(0.7));
        assert_eq!(e.mode, ShareMode::HighWaterMark);
        assert_eq!(e.total_pnl, net_from_exchange(&desk, e).await, "{e:?}");
    }
    assert!(win.total_pnl > Decimal::ZERO && loss.total_pnl < Decimal::ZERO);
    assert!(recovery.total_pnl > Decimal::ZERO);
    assert_eq!(win.shareable, win.total_pnl);
    assert_eq!(loss.shareable, Decimal::ZERO, "no share on a loss");
    assert_eq!(
        (loss.platform_share, loss.user_share),
        (Decimal::ZERO, Decimal::ZERO)
    );
    // The loss must be earned back before anything more is shared.
    let cumulative = win.total_pnl + loss.total_pnl + recovery.total_pnl;
    assert_eq!(recovery.cumulative_net_after, cumulative);
    assert_eq!(
        recovery.shareable,
        (cumulative - win.total_pnl).max(Decimal::ZERO)
    );
    let shared: Decimal = booked.iter().map(|e| e.shareable).sum();
    assert_eq!(shared, recovery.high_water_mark_after);

    // Booking again books nothing.
    let again = book_ledger(&store, account, &hwm, desk.now())
        .await
        .expect("rebook");
    assert!(again.is_empty());

    // A database synced from scratch with manual trips included books all four, the
    // first three identically: the origin comes back from the exchange's order records.
    let (all_store, all_account) = new_store().await;
    let with_manual = ShareSettings {
        include_manual: true,
        ..hwm
    };
    let report = sync(&desk, &all_store, all_account, &with_manual).await;
    assert_eq!(report.new_ledger_rows, 4);
    let all = entries(&all_store, all_account).await;
    for e in &booked {
        assert_eq!(all.get(&e.trade_ref), Some(*e));
    }

    // Per-trade mode shares each win on its own; the loss is not carried forward.
    let (pt_store, pt_account) = new_store().await;
    let per_trade = ShareSettings {
        platform_ratio: ShareRatio::new(dec!(0.6)).expect("ratio"),
        mode: ShareMode::PerTrade,
        include_manual: false,
    };
    sync(&desk, &pt_store, pt_account, &per_trade).await;
    let pt = entries(&pt_store, pt_account).await;
    assert_eq!(pt.len(), 3);
    for e in pt.values() {
        assert_split(e, dec!(0.6));
        assert_eq!(e.shareable, e.total_pnl.max(Decimal::ZERO));
    }
    assert_eq!(pt[&recovery.trade_ref].shareable, recovery.total_pnl);
}

#[tokio::test]
async fn settlement_closes_the_period_and_the_statement_exports_it() {
    let desk = Desk::new().await;
    let (store, account) = new_store().await;
    let settings = ShareSettings::default();
    desk.trip(TicketOrigin::Signal, &btc(), true, 4 * HOUR)
        .await;

    let before = owed_now(&store, account, &settings).await.expect("owed");
    assert_eq!(before.booked.trades, 0);
    assert_eq!(before.pending.trades, 0, "nothing synced yet");

    sync(&desk, &store, account, &settings).await;
    let owed = owed_now(&store, account, &settings).await.expect("owed");
    assert_eq!(owed.booked.trades, 1);
    assert_eq!(owed.pending.trades, 0);
    assert!(owed.total.platform_share > Decimal::ZERO);
    assert_eq!(
        owed.total.platform_share + owed.total.user_share,
        owed.total.shareable
    );

    let settled = settle(&store, account, desk.now())
        .await
        .expect("settle")
        .expect("one row to settle");
    assert_eq!(settled.entries, 1);
    assert_eq!(settled.platform_share, owed.total.platform_share);
    assert_eq!(settled.user_share, owed.total.user_share);
    assert!(
        settle(&store, account, desk.now())
            .await
            .expect("settle")
            .is_none(),
        "nothing left to settle"
    );
    let after = owed_now(&store, account, &settings).await.expect("owed");
    assert_eq!(after.total.trades, 0);
    assert_eq!(after.total.platform_share, Decimal::ZERO);

    // A trade after the settlement is owed in the next period, and only it.
    desk.trip(TicketOrigin::Signal, &btc(), true, 4 * HOUR)
        .await;
    sync(&desk, &store, account, &settings).await;
    let next = owed_now(&store, account, &settings).await.expect("owed");
    assert_eq!(next.booked.trades, 1);

    let march = chrono::NaiveDate::from_ymd_opt(2022, 3, 1).expect("date");
    let csv = statement_csv(&store, account, Period::Month, march)
        .await
        .expect("csv")
        .expect("a statement for March 2022");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("time_utc,trade_ref,total_pnl"));
    assert_eq!(lines.len(), 4, "header, two trades, totals: {csv}");
    assert!(lines[3].starts_with("TOTAL 2022-03-01,2 trades"));
    let feb = chrono::NaiveDate::from_ymd_opt(2022, 2, 1).expect("date");
    assert!(
        statement_csv(&store, account, Period::Month, feb)
            .await
            .expect("csv")
            .is_none()
    );
}

/// The rule of issue 20 on rows booked from the exchange's records: a period whose early
/// gain is lost again ends below the mark and owes nothing, where the per-trade
/// high-water mark would already have shared the gain.
#[tokio::test]
async fn a_period_that_ends_below_the_mark_owes_nothing_at_settlement() {
    let desk = Desk::new().await;
    let (store, account) = new_store().await;
    let settings = ShareSettings::default();
    assert_eq!(settings.mode, ShareMode::Settlement);
    let hold = 4 * HOUR;
    desk.trip(TicketOrigin::Signal, &btc(), true, hold).await;
    sync(&desk, &store, account, &settings).await;
    let first = owed_now(&store, account, &settings).await.expect("owed");
    let rows = store.share_entries(account).await.expect("ledger");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].entry.shareable,
        Decimal::ZERO,
        "decided at settlement"
    );
    let gain = rows[0].entry.total_pnl;
    assert!(gain > Decimal::ZERO);
    let decided = first.decision.clone().expect("a row to settle");
    assert_eq!(decided.shareable, gain);
    assert_eq!(first.total.shareable, gain);
    let settled = settle(&store, account, desk.now())
        .await
        .expect("settle")
        .expect("one row");
    assert_eq!(settled.platform_share, first.total.platform_share);
    assert_eq!(
        store
            .ledger_state(account)
            .await
            .expect("state")
            .high_water_mark,
        gain,
        "a settlement at a new high moves the mark"
    );

    // The next period gains, then loses more than it gained: the replayed data is fixed,
    // so the number of losing trips this takes is too.
    desk.trip(TicketOrigin::Signal, &btc(), true, hold).await;
    let mut losses = 0;
    loop {
        desk.trip(TicketOrigin::Signal, &btc(), false, hold).await;
        losses += 1;
        sync(&desk, &store, account, &settings).await;
        let state = store.ledger_state(account).await.expect("state");
        if state.cumulative_net < state.high_water_mark {
            break;
        }
        assert!(
            losses < 8,
            "eight losing trips never took the period below the mark"
        );
    }
    let owed = owed_now(&store, account, &settings).await.expect("owed");
    assert_eq!(owed.booked.trades, 1 + losses);
    assert!(owed.booked.net_pnl < Decimal::ZERO, "{owed:?}");
    let d = owed.decision.clone().expect("rows to settle");
    assert_eq!(d.mark_before, gain);
    assert_eq!(
        (d.shareable, d.platform_share, d.user_share),
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(owed.total.platform_share, Decimal::ZERO);
    let second = settle(&store, account, desk.now())
        .await
        .expect("settle")
        .expect("rows");
    assert_eq!(
        (second.shareable, second.platform_share),
        (Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(
        store
            .ledger_state(account)
            .await
            .expect("state")
            .high_water_mark,
        gain,
        "a period below the mark leaves it"
    );

    // The same trips under the per-trade high-water mark: the second period's early gain
    // was shared as it closed, although the period lost money.
    let (hwm_store, hwm_account) = new_store().await;
    let hwm = ShareSettings {
        mode: ShareMode::HighWaterMark,
        ..ShareSettings::default()
    };
    sync(&desk, &hwm_store, hwm_account, &hwm).await;
    let hwm_rows = hwm_store.share_entries(hwm_account).await.expect("ledger");
    let second_period: Decimal = hwm_rows[1..].iter().map(|r| r.entry.platform_share).sum();
    assert!(second_period > Decimal::ZERO, "{hwm_rows:?}");
}

/// Issue 20 items 2 and 3 through the engine: the signing key is made at first run, is
/// re-sealed by a password change, and a settlement's statement is signed with it and
/// verifies against the exchange's records as sync stored them; a changed amount does not.
#[tokio::test]
async fn a_settlement_is_signed_with_the_key_made_at_first_run_and_verifies() {
    use perpdesk_core::verify::{Expectations, Records, verify};
    use perpdesk_core::{PositionSide, PublicKey, Side};

    use crate::support::{PASSWORD, engine_on, previewed_mark, start_sim, ticket};

    let engine = engine_on(start_sim().await).await;
    let key = engine.statement_key().await.expect("made at first run");
    let trusted: PublicKey = key.public_key.parse().expect("a public key");
    assert_eq!(key.fingerprint, trusted.fingerprint());

    let mut settings = engine.ledger_settings().await.expect("settings");
    assert_eq!(settings.mode, ShareMode::Settlement);
    settings.include_manual = true;
    engine
        .set_ledger_settings(
            settings,
            Some(perpdesk_vault::SecretString::new(PASSWORD.into())),
        )
        .await
        .expect("settings");
    let entry = previewed_mark(&engine).await;
    engine
        .place_order(&ticket(Side::Buy, dec!(500), entry, dec!(2), dec!(2)))
        .await
        .expect("placed");
    engine
        .close_position("BTCUSDT", PositionSide::Both)
        .await
        .expect("closed");
    engine.sync_now().await.expect("sync");

    // The key opens under the new password: it was re-sealed with the API secrets.
    let pw = |s: &str| perpdesk_vault::SecretString::new(s.into());
    let new = "another strong horse battery 77";
    engine
        .change_master_password(pw(PASSWORD), pw(new))
        .await
        .expect("password changed");
    engine.vault_lock().await.expect("lock");
    engine.vault_unlock(pw(new)).await.expect("unlock");
    assert_eq!(engine.statement_key().await.expect("key"), key);

    let done = engine.settle().await.expect("settled");
    assert_eq!(done["statement_signed"], serde_json::json!(true), "{done}");
    let settlement = done["settlement_id"].as_i64().expect("id");
    let signed = engine
        .settlement_statement(settlement)
        .await
        .expect("read")
        .expect("signed at settlement");
    assert_eq!(signed.public_key, trusted);
    assert_eq!(signed.statement.rows.len(), 1);

    let account = engine.active_account_id().await.expect("account");
    let fills = engine
        .store()
        .fills(account, i64::MIN, i64::MAX)
        .await
        .expect("fills");
    let income = engine
        .store()
        .income(account, i64::MIN, i64::MAX)
        .await
        .expect("income");
    let records = Records {
        fills: &fills,
        income: &income,
    };
    let expect = Expectations {
        agreed_ratio: Some(ShareRatio::default()),
        previous: None,
    };
    let check = verify(&signed, &trusted, records, expect);
    assert!(check.is_genuine(), "{}", check.report());

    let mut changed = signed.clone();
    changed.statement.rows[0].net += dec!(1);
    let check = verify(&changed, &trusted, records, expect);
    assert!(!check.is_genuine());
    assert!(check.report().contains("signature"), "{}", check.report());
}
