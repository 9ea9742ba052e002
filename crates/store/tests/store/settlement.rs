//! What sync and booking ask the store: cursors, client ids of journalled orders, booked
//! trade refs, and append-only settlements.

use perpdesk_core::journal::{Leg, client_order_id};
use perpdesk_core::verify::{Records, verify_chain};
use perpdesk_core::{
    Income, IncomeKind, OrderKind, OrderRequest, OrderState, PositionSide, ShareEntry, ShareMode,
    Side, Symbol,
};
use perpdesk_core::{PublicKey, SignedStatement};
use perpdesk_store::{Store, StoreError};
use rust_decimal_macros::dec;

use crate::{at, btc, fill, funding, store_with_account};

fn entry(trade_ref: &str, trade_id: i64, shareable: rust_decimal::Decimal) -> ShareEntry {
    let (platform, user) = perpdesk_core::ShareRatio::default().split(shareable);
    ShareEntry {
        trade_ref: trade_ref.into(),
        total_pnl: shareable,
        shareable,
        platform_share: platform,
        user_share: user,
        platform_ratio: dec!(0.7),
        mode: ShareMode::HighWaterMark,
        cumulative_net_after: shareable,
        high_water_mark_after: shareable,
        time: at(trade_id),
        trade_ids: vec![trade_id],
        income_ids: vec![],
    }
}

async fn book(
    store: &Store,
    acc: i64,
    trade_ref: &str,
    trade_id: i64,
    amount: rust_decimal::Decimal,
) {
    store
        .append_share_entry(acc, &btc(), &entry(trade_ref, trade_id, amount), at(100))
        .await
        .expect("book")
        .expect("new row");
}

#[tokio::test]
async fn cursors_are_the_newest_trade_id_per_symbol_and_the_newest_income_time() {
    let (store, acc) = store_with_account().await;
    assert_eq!(
        store.last_trade_id(acc, &btc()).await.expect("cursor"),
        None
    );
    assert_eq!(store.last_income_time(acc).await.expect("cursor"), None);
    let mut eth_fill = fill(900, 5, dec!(0), dec!(0));
    eth_fill.symbol = Symbol::new("ETHUSDT").expect("symbol");
    let fills = vec![
        fill(7, 10, dec!(0), dec!(0)),
        fill(3, 20, dec!(0), dec!(0)),
        eth_fill,
    ];
    let income = vec![
        funding(1, 30, dec!(-0.1)),
        Income {
            kind: IncomeKind::Commission,
            ..funding(2, 40, dec!(-0.01))
        },
    ];
    store.sync_batch(acc, &fills, &income).await.expect("sync");
    assert_eq!(
        store.last_trade_id(acc, &btc()).await.expect("cursor"),
        Some(7)
    );
    assert_eq!(store.last_income_time(acc).await.expect("cursor"), Some(40));
    assert_eq!(
        store.last_trade_id(acc + 1, &btc()).await.expect("cursor"),
        None
    );
}

#[tokio::test]
async fn journal_gives_client_ids_of_known_exchange_orders_only() {
    let (store, acc) = store_with_account().await;
    let id = client_order_id("s1abc", Leg::Entry, 0).expect("id");
    let request = OrderRequest {
        symbol: btc(),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Some(dec!(0.01)),
        reduce_only: false,
        close_position: false,
        client_order_id: id.clone(),
    };
    store
        .journal_intent(acc, &request, at(1))
        .await
        .expect("intent");
    store
        .journal_transition(&id, OrderState::Sent, None, None, at(2))
        .await
        .expect("sent");
    store
        .journal_transition(&id, OrderState::Filled, Some(42), None, at(3))
        .await
        .expect("filled");
    let found = store
        .journal_client_ids(acc, &[41, 42, 43])
        .await
        .expect("lookup");
    assert_eq!(found.len(), 1);
    assert_eq!(found.get(&42), Some(&id));
    assert!(
        store
            .journal_client_ids(acc + 1, &[42])
            .await
            .expect("lookup")
            .is_empty()
    );
}

#[tokio::test]
async fn settlements_cover_each_ledger_row_once_and_cannot_change() {
    let (store, acc) = store_with_account().await;
    let fills: Vec<_> = (1..=3).map(|i| fill(i, i, dec!(0), dec!(0))).collect();
    store.sync_batch(acc, &fills, &[]).await.expect("sync");
    assert!(
        store
            .settle_ledger(acc, at(50))
            .await
            .expect("settle")
            .is_none()
    );

    book(&store, acc, "a", 1, dec!(10)).await;
    book(&store, acc, "b", 2, dec!(0.000000019)).await;
    let refs = store.booked_trade_refs(acc).await.expect("refs");
    assert!(refs.contains("a") && refs.contains("b") && refs.len() == 2);

    let first = store
        .settle_ledger(acc, at(200))
        .await
        .expect("settle")
        .expect("two rows");
    assert_eq!(first.entries, 2);
    assert_eq!(first.shareable, dec!(10.000000019));
    assert_eq!(first.platform_share, dec!(7.00000001));
    assert_eq!(first.user_share, dec!(3.000000009));
    assert!(
        store
            .settle_ledger(acc, at(201))
            .await
            .expect("settle")
            .is_none()
    );

    book(&store, acc, "c", 3, dec!(1)).await;
    let unsettled = store
        .share_entries_after(acc, first.through_ledger_id)
        .await
        .expect("unsettled");
    assert_eq!(unsettled.len(), 1);
    assert_eq!(unsettled[0].entry.trade_ref, "c");
    let second = store
        .settle_ledger(acc, at(300))
        .await
        .expect("settle")
        .expect("one row");
    assert_eq!(second.entries, 1);
    assert_eq!(
        store.settlements(acc).await.expect("list"),
        vec![first, second]
    );
    assert_eq!(store.share_entries(acc).await.expect("all").len(), 3);
}

#[tokio::test]
async fn a_batch_booked_from_a_stale_state_writes_nothing() {
    let (store, acc) = store_with_account().await;
    let fills: Vec<_> = (1..=3).map(|i| fill(i, i, dec!(0), dec!(0))).collect();
    store.sync_batch(acc, &fills, &[]).await.expect("sync");
    let from = store.ledger_state(acc).await.expect("state");
    let ids = store
        .append_share_entries(acc, &from, &[(btc(), entry("a", 1, dec!(10)))], at(100))
        .await
        .expect("batch");
    assert_eq!(ids.len(), 1);
    // `from` is now stale: the ledger moved to cumulative 10.
    let stale = store
        .append_share_entries(
            acc,
            &from,
            &[
                (btc(), entry("b", 2, dec!(5))),
                (btc(), entry("c", 3, dec!(5))),
            ],
            at(101),
        )
        .await;
    assert!(matches!(
        stale,
        Err(perpdesk_store::StoreError::Conflict(_))
    ));
    let now = store.ledger_state(acc).await.expect("state");
    let again = store
        .append_share_entries(acc, &now, &[(btc(), entry("a", 1, dec!(10)))], at(102))
        .await;
    assert!(
        matches!(again, Err(perpdesk_store::StoreError::Conflict(_))),
        "booked twice"
    );
    assert_eq!(store.share_entries(acc).await.expect("rows").len(), 1);
}

/// Syncs signal round trips closing with these nets (one fill opens, one closes; nets in
/// 1e-2 USDT) and books them at settlement with `core`'s rule.
async fn book_trips(store: &Store, acc: i64, first_id: i64, nets: &[i64]) {
    let mut fills = Vec::new();
    for (i, n) in nets.iter().enumerate() {
        let id = first_id + 2 * i64::try_from(i).expect("small");
        let mut open = fill(id, id * 10, dec!(0), dec!(0));
        open.client_order_id = Some(signal_entry(id));
        let mut close = fill(
            id + 1,
            id * 10 + 5,
            rust_decimal::Decimal::new(*n, 2),
            dec!(0),
        );
        close.side = Side::Sell;
        fills.extend([open, close]);
    }
    store.sync_batch(acc, &fills, &[]).await.expect("sync");
    let from = store.ledger_state(acc).await.expect("state");
    let mut state = from.clone();
    let mut rows = Vec::new();
    let mut trips = perpdesk_core::pnl::round_trips(&fills, &[]);
    trips.sort_by_key(|t| t.closed_at);
    for trip in trips {
        let trade = trip.closed_trade().expect("closed");
        let (e, next) = perpdesk_core::ledger::book(
            &state,
            &trade,
            perpdesk_core::ShareRatio::default(),
            ShareMode::Settlement,
        );
        state = next;
        rows.push((btc(), e));
    }
    store
        .append_share_entries(acc, &from, &rows, at(first_id * 10 + 9))
        .await
        .expect("book");
}

fn signal_entry(id: i64) -> perpdesk_core::ClientOrderId {
    let ticket = perpdesk_core::journal::ticket_id(perpdesk_core::TicketOrigin::Signal, id, 0);
    client_order_id(&ticket, Leg::Entry, 0).expect("client id")
}

#[tokio::test]
async fn settling_decides_above_the_mark_which_moves_only_at_a_new_high() {
    let (store, acc) = store_with_account().await;
    book_trips(&store, acc, 10, &[1000, -400, 500]).await;
    let rows = store.share_entries(acc).await.expect("rows");
    assert!(
        rows.iter().all(|r| r.entry.shareable.is_zero()),
        "nothing at booking"
    );
    let first = store
        .settle_ledger(acc, at(1000))
        .await
        .expect("settle")
        .expect("three rows");
    let d = first.decision.clone().expect("decided");
    assert_eq!(
        (d.mark_before, d.cumulative_net, d.mark_after),
        (dec!(0), dec!(11), dec!(11))
    );
    assert_eq!(
        (first.shareable, first.platform_share, first.user_share),
        (dec!(11), dec!(7.7), dec!(3.3))
    );
    assert_eq!(
        store
            .ledger_state(acc)
            .await
            .expect("state")
            .high_water_mark,
        dec!(11)
    );

    // Up to 19 and back to 8: the period ends below the mark and owes nothing.
    book_trips(&store, acc, 100, &[800, -1100]).await;
    let second = store
        .settle_ledger(acc, at(2000))
        .await
        .expect("settle")
        .expect("two rows");
    assert_eq!(second.net_pnl, dec!(-3));
    assert_eq!(
        (second.shareable, second.platform_share),
        (dec!(0), dec!(0))
    );
    assert_eq!(second.decision.expect("decided").mark_after, dec!(11));
    assert_eq!(store.settlements(acc).await.expect("list").len(), 2);
}

#[tokio::test]
async fn a_settlement_gets_one_signed_statement_that_verifies_against_the_records() {
    let (store, acc) = store_with_account().await;
    book_trips(&store, acc, 10, &[1000, -400]).await;
    let first = store
        .settle_ledger(acc, at(1000))
        .await
        .expect("settle")
        .expect("rows");
    book_trips(&store, acc, 100, &[300, 600]).await;
    let second = store
        .settle_ledger(acc, at(2000))
        .await
        .expect("settle")
        .expect("rows");
    assert_eq!(
        store
            .settlements_without_statement(acc)
            .await
            .expect("unsigned"),
        vec![first.id, second.id]
    );

    let key = perpdesk_vault::StatementSigningKey::generate().expect("key");
    let public = PublicKey::from_bytes(key.public_key()).expect("public key");
    let mut chain = Vec::new();
    for id in [first.id, second.id] {
        let period = store
            .settled_period(acc, id)
            .await
            .expect("read")
            .expect("exists");
        let statement = period.statement("main", false).expect("builds");
        let signature = key.sign(&statement.canonical_bytes());
        let signed = SignedStatement::new(statement, public, signature).expect("signed");
        store
            .append_statement(acc, id, &signed, at(3000))
            .await
            .expect("stored");
        assert!(matches!(
            store.append_statement(acc, id, &signed, at(3001)).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store.statement(acc, id).await.expect("read"),
            Some(signed.clone())
        );
        chain.push(signed);
    }
    assert!(
        store
            .settlements_without_statement(acc)
            .await
            .expect("unsigned")
            .is_empty()
    );
    assert_eq!(chain[1].statement.opening.high_water_mark, dec!(6));
    assert_eq!(
        chain[1].statement.totals.shareable,
        dec!(9),
        "15 over the mark of 6"
    );
    assert_eq!(chain[1].statement.totals.platform_share, dec!(6.3));

    // A statement of another settlement is refused.
    assert!(matches!(
        store
            .append_statement(acc, first.id + 100, &chain[0], at(3002))
            .await,
        Err(StoreError::InvalidData(_))
    ));

    let fills = store.fills(acc, i64::MIN, i64::MAX).await.expect("fills");
    let income = store.income(acc, i64::MIN, i64::MAX).await.expect("income");
    let results = verify_chain(
        &chain,
        &public,
        Records {
            fills: &fills,
            income: &income,
        },
        Some(perpdesk_core::ShareRatio::default()),
    );
    for v in &results {
        assert!(v.is_genuine(), "{}", v.report());
    }
}
