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

    // Default settings: high-water mark, 70/30, signal trips only.
    let (store, account) = new_store().await;
    let hwm = ShareSettings::default();
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
        ..ShareSettings::default()
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
