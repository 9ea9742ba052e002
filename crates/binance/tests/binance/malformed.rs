//! Broken payloads give errors, never panics.

use perpdesk_binance::wire::account::{ApiRestrictions, PositionRisk};
use perpdesk_binance::wire::market::{ExchangeInfo, Kline, SymbolFilter};
use perpdesk_binance::wire::stream::UserDataEvent;
use perpdesk_binance::wire::trade::{BatchOrderResult, Order};

#[test]
fn malformed_json_is_an_error() {
    assert!(serde_json::from_str::<Order>("{\"orderId\": 1,").is_err());
    assert!(serde_json::from_str::<Vec<Kline>>("[[1499040000000, \"0.1\"").is_err());
    assert!(serde_json::from_str::<UserDataEvent>("not json").is_err());
}

#[test]
fn a_missing_required_field_is_an_error() {
    // No `status`.
    let order = r#"{"orderId": 1, "symbol": "BTCUSDT", "clientOrderId": "a", "price": "0", "origQty": "1",
        "executedQty": "0", "timeInForce": "GTC", "type": "LIMIT", "origType": "LIMIT", "reduceOnly": false,
        "side": "BUY", "positionSide": "BOTH", "updateTime": 0}"#;
    let err = serde_json::from_str::<Order>(order).unwrap_err();
    assert!(err.to_string().contains("status"), "{err}");
}

#[test]
fn api_restrictions_without_the_withdrawal_flag_is_an_error_not_false() {
    // Defaulting a missing `enableWithdrawals` to false would let a dangerous key through.
    let payload =
        r#"{"ipRestrict": true, "createTime": 1, "enableReading": true, "enableFutures": true}"#;
    let err = serde_json::from_str::<ApiRestrictions>(payload).unwrap_err();
    assert!(err.to_string().contains("enableWithdrawals"), "{err}");
}

#[test]
fn wrong_types_are_errors() {
    let bad_price = r#"[{"symbol": "BTCUSDT", "positionSide": "BOTH", "positionAmt": "abc", "entryPrice": "0",
        "markPrice": "0", "unRealizedProfit": "0", "liquidationPrice": "0", "notional": "0", "updateTime": 0}]"#;
    assert!(serde_json::from_str::<Vec<PositionRisk>>(bad_price).is_err());
    let bad_bool = r#"{"ipRestrict": "maybe", "createTime": 1, "enableReading": true,
        "enableWithdrawals": false, "enableFutures": true}"#;
    assert!(serde_json::from_str::<ApiRestrictions>(bad_bool).is_err());
}

#[test]
fn a_kline_row_of_the_wrong_length_is_an_error() {
    assert!(serde_json::from_str::<Kline>("[1499040000000]").is_err());
    let thirteen = r#"[1, "1", "1", "1", "1", "1", 2, "1", 3, "1", "1", "0", "extra"]"#;
    assert!(serde_json::from_str::<Kline>(thirteen).is_err());
}

#[test]
fn a_filter_without_filter_type_is_an_error() {
    assert!(serde_json::from_str::<SymbolFilter>(r#"{"limit": 200}"#).is_err());
    // A known filter type with a broken body reports that, rather than becoming Unknown.
    assert!(
        serde_json::from_str::<SymbolFilter>(r#"{"filterType": "LOT_SIZE", "minQty": "1"}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<ExchangeInfo>(r#"{"symbols": 3}"#).is_err());
}

#[test]
fn a_known_event_with_a_broken_body_is_an_error_not_unknown() {
    let broken = r#"{"e": "ORDER_TRADE_UPDATE", "E": 1, "T": 1, "o": {"s": "BTCUSDT"}}"#;
    assert!(serde_json::from_str::<UserDataEvent>(broken).is_err());
}

#[test]
fn a_batch_element_that_is_neither_order_nor_error_is_an_error() {
    assert!(serde_json::from_str::<BatchOrderResult>(r#"{"foo": 1}"#).is_err());
}
