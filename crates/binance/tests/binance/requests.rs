//! Request parameters: order, omission and formatting of `to_query`.

use perpdesk_binance::wire::algo::NewAlgoOrderRequest;
use perpdesk_binance::wire::trade::{ModifyOrderRequest, NewOrderRequest, OrderRef};
use perpdesk_binance::wire::{
    NewOrderRespType, OrderType, PositionSide, PriceMatch, SelfTradePreventionMode, Side,
    TimeInForce, WorkingType,
};
use rust_decimal_macros::dec;

fn pairs<'a>(q: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    q.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn a_market_order_sends_only_what_is_set() {
    let order = NewOrderRequest::market("BTCUSDT", Side::Buy, dec!(0.0100));
    assert_eq!(
        pairs(&order.to_query()),
        [
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.01")
        ]
    );
}

#[test]
fn a_full_limit_order_keeps_the_documented_parameter_order() {
    let order = NewOrderRequest {
        position_side: Some(PositionSide::Long),
        reduce_only: Some(false),
        new_client_order_id: Some("pd-1".to_owned()),
        new_order_resp_type: Some(NewOrderRespType::Result),
        self_trade_prevention_mode: Some(SelfTradePreventionMode::ExpireMaker),
        good_till_date: Some(1_693_207_680_000),
        ..NewOrderRequest::limit(
            "ETHUSDT",
            Side::Sell,
            dec!(1.500),
            dec!(3000.00),
            TimeInForce::Gtd,
        )
    };
    assert_eq!(
        pairs(&order.to_query()),
        [
            ("symbol", "ETHUSDT"),
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "LIMIT"),
            ("timeInForce", "GTD"),
            ("quantity", "1.5"),
            ("price", "3000"),
            ("reduceOnly", "false"),
            ("newClientOrderId", "pd-1"),
            ("newOrderRespType", "RESULT"),
            ("selfTradePreventionMode", "EXPIRE_MAKER"),
            ("goodTillDate", "1693207680000"),
        ]
    );
}

#[test]
fn decimals_are_printed_without_trailing_zeros_or_exponents() {
    let order = NewOrderRequest::limit(
        "X",
        Side::Buy,
        dec!(100),
        dec!(0.00001000),
        TimeInForce::Gtc,
    );
    let q = order.to_query();
    assert!(q.contains(&("quantity", "100".to_owned())), "{q:?}");
    assert!(q.contains(&("price", "0.00001".to_owned())), "{q:?}");
}

#[test]
fn price_match_replaces_price() {
    let order = NewOrderRequest {
        price: None,
        price_match: Some(PriceMatch::Queue5),
        ..NewOrderRequest::limit("BTCUSDT", Side::Buy, dec!(1), dec!(1), TimeInForce::Gtc)
    };
    let q = order.to_query();
    assert!(q.iter().all(|(k, _)| *k != "price"));
    assert!(q.contains(&("priceMatch", "QUEUE_5".to_owned())));
}

#[test]
fn a_batch_element_is_an_object_of_strings() {
    let order = NewOrderRequest::market("BTCUSDT", Side::Sell, dec!(2));
    assert_eq!(
        order.to_batch_element(),
        serde_json::json!({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "2"})
    );
}

#[test]
fn a_close_position_stop_goes_to_the_algo_endpoint_shape() {
    let stop = NewAlgoOrderRequest {
        position_side: Some(PositionSide::Long),
        price_protect: Some(true),
        client_algo_id: Some("pd-sl-1".to_owned()),
        ..NewAlgoOrderRequest::close_position_stop(
            "BTCUSDT",
            Side::Sell,
            dec!(58000.10),
            WorkingType::MarkPrice,
        )
    };
    assert_eq!(
        pairs(&stop.to_query()),
        [
            ("algoType", "CONDITIONAL"),
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("positionSide", "LONG"),
            ("type", "STOP_MARKET"),
            ("triggerPrice", "58000.1"),
            ("workingType", "MARK_PRICE"),
            ("closePosition", "true"),
            ("priceProtect", "true"),
            ("clientAlgoId", "pd-sl-1"),
        ]
    );
}

#[test]
fn a_full_algo_order_keeps_the_documented_parameter_order() {
    let tp = NewAlgoOrderRequest {
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Some(dec!(0.010)),
        price: Some(dec!(750.000)),
        trigger_price: Some(dec!(750)),
        working_type: Some(WorkingType::ContractPrice),
        reduce_only: Some(true),
        new_order_resp_type: Some(NewOrderRespType::Ack),
        self_trade_prevention_mode: Some(SelfTradePreventionMode::None),
        good_till_date: Some(0),
        ..NewAlgoOrderRequest::conditional("BNBUSDT", Side::Sell, OrderType::TakeProfit)
    };
    assert_eq!(
        pairs(&tp.to_query()),
        [
            ("algoType", "CONDITIONAL"),
            ("symbol", "BNBUSDT"),
            ("side", "SELL"),
            ("type", "TAKE_PROFIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01"),
            ("price", "750"),
            ("triggerPrice", "750"),
            ("workingType", "CONTRACT_PRICE"),
            ("reduceOnly", "true"),
            ("newOrderRespType", "ACK"),
            ("selfTradePreventionMode", "NONE"),
            ("goodTillDate", "0"),
        ]
    );
}

#[test]
fn a_trailing_stop_sends_activation_and_callback() {
    let trail = NewAlgoOrderRequest {
        quantity: Some(dec!(1)),
        activate_price: Some(dec!(9020.0)),
        callback_rate: Some(dec!(0.50)),
        ..NewAlgoOrderRequest::conditional("BTCUSDT", Side::Buy, OrderType::TrailingStopMarket)
    };
    let q = trail.to_query();
    let tail: Vec<_> = pairs(&q).into_iter().skip(4).collect();
    assert_eq!(
        tail,
        [
            ("quantity", "1"),
            ("activatePrice", "9020"),
            ("callbackRate", "0.5")
        ]
    );
}

#[test]
fn modify_addresses_the_order_by_one_id() {
    let modify = ModifyOrderRequest {
        symbol: "BTCUSDT".to_owned(),
        order: OrderRef::ClientOrderId("pd-1".to_owned()),
        side: Side::Buy,
        quantity: dec!(1.0),
        price: Some(dec!(30005.00)),
        price_match: None,
    };
    assert_eq!(
        pairs(&modify.to_query()),
        [
            ("symbol", "BTCUSDT"),
            ("origClientOrderId", "pd-1"),
            ("side", "BUY"),
            ("quantity", "1"),
            ("price", "30005"),
        ]
    );
}
