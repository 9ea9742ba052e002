//! The order journal: intent first, then appended state changes.

use perpdesk_core::journal::{Leg, client_order_id};
use perpdesk_core::{OrderKind, OrderRequest, OrderState, PositionSide, Side, TimeInForce};
use perpdesk_store::StoreError;
use rust_decimal_macros::dec;

use crate::{at, btc, store_with_account};

fn request(ticket: &str) -> OrderRequest {
    OrderRequest {
        symbol: btc(),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind: OrderKind::Limit {
            price: dec!(65000.10),
            time_in_force: TimeInForce::Gtc,
        },
        quantity: Some(dec!(0.002)),
        reduce_only: false,
        close_position: false,
        client_order_id: client_order_id(ticket, Leg::Entry, 0).expect("id"),
    }
}

#[tokio::test]
async fn intent_is_written_before_send_then_changes_are_appended() {
    let (store, acc) = store_with_account().await;
    let req = request("T1");
    let id = &req.client_order_id;
    store
        .journal_intent(acc, &req, at(1))
        .await
        .expect("intent");

    // What a restart right now would see: an order that may or may not have been sent.
    let unresolved = store.journal_unresolved(acc).await.expect("unresolved");
    assert_eq!(unresolved.len(), 1);
    assert_eq!(unresolved[0].request, req);
    assert_eq!(unresolved[0].state, OrderState::Intent);

    store
        .journal_transition(id, OrderState::Sent, None, None, at(2))
        .await
        .expect("sent");
    let answer = serde_json::json!({"orderId": 42, "status": "NEW"});
    store
        .journal_transition(id, OrderState::New, Some(42), Some(&answer), at(3))
        .await
        .expect("new");
    store
        .journal_transition(id, OrderState::Filled, None, None, at(4))
        .await
        .expect("filled");

    let entry = store.journal_entry(id).await.expect("get").expect("entry");
    assert_eq!(entry.state, OrderState::Filled);
    assert_eq!(entry.exchange_order_id, Some(42));
    assert_eq!(entry.created_at, at(1));
    assert_eq!(entry.updated_at, at(4));
    let events = store.journal_events(id).await.expect("events");
    let states: Vec<_> = events.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            OrderState::Intent,
            OrderState::Sent,
            OrderState::New,
            OrderState::Filled
        ]
    );
    assert_eq!(events[2].detail.as_ref(), Some(&answer));
    assert!(
        store
            .journal_unresolved(acc)
            .await
            .expect("none")
            .is_empty()
    );
}

#[tokio::test]
async fn illegal_changes_and_duplicate_intents_are_refused() {
    let (store, acc) = store_with_account().await;
    let req = request("T2");
    let id = &req.client_order_id;
    store
        .journal_intent(acc, &req, at(1))
        .await
        .expect("intent");
    assert!(matches!(
        store.journal_intent(acc, &req, at(2)).await,
        Err(StoreError::Conflict(_))
    ));
    // An intent cannot jump to an exchange state without being sent.
    assert!(matches!(
        store
            .journal_transition(id, OrderState::Filled, None, None, at(2))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.journal_events(id).await.expect("events").len(), 1);

    let other = request("T3");
    assert!(matches!(
        store
            .journal_transition(&other.client_order_id, OrderState::Sent, None, None, at(2))
            .await,
        Err(StoreError::InvalidData(_))
    ));
    assert!(
        store
            .journal_intent(acc + 100, &other, at(3))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_ticket_journals_all_its_legs_or_none() {
    let (store, acc) = store_with_account().await;
    let entry = request("T4");
    let mut stop = request("T4");
    stop.client_order_id = client_order_id("T4", Leg::StopLoss, 0).expect("id");
    stop.kind = OrderKind::StopMarket {
        stop_price: dec!(64000),
        working_type: perpdesk_core::WorkingType::MarkPrice,
    };
    let ids = store
        .journal_intents(acc, &[&entry, &stop], at(1))
        .await
        .expect("legs");
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1], "legs keep their order");
    let stored = store
        .journal_entry(&stop.client_order_id)
        .await
        .expect("read")
        .expect("stop leg");
    assert_eq!((stored.id, stored.request), (ids[1], stop.clone()));
    assert_eq!(
        store
            .journal_events(&entry.client_order_id)
            .await
            .expect("events")
            .len(),
        1
    );

    // One leg journalled before makes the whole ticket a conflict, and nothing of it lands.
    let fresh = request("T5");
    assert!(matches!(
        store.journal_intents(acc, &[&fresh, &entry], at(2)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .journal_entry(&fresh.client_order_id)
            .await
            .expect("read")
            .is_none()
    );
    // So does the same client id twice in one ticket.
    assert!(matches!(
        store.journal_intents(acc, &[&fresh, &fresh], at(3)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .journal_entry(&fresh.client_order_id)
            .await
            .expect("read")
            .is_none()
    );
}
