//! Wire shapes the fixtures do not cover, and the leniency the contract asks for.

use perpdesk_binance::wire::account::{LeverageBracket, PositionRisk};
use perpdesk_binance::wire::algo::AlgoOrder;
use perpdesk_binance::wire::market::{ExchangeInfo, Kline, SymbolFilter, TickerPrice};
use perpdesk_binance::wire::stream::{CombinedStream, MarketEvent, UserDataEvent};
use perpdesk_binance::wire::trade::BatchOrderResult;
use perpdesk_binance::wire::{CodeMsg, OneOrMany, OrderStatus, PositionMarginType};
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::support::{check_round_trip, round_trip};

#[test]
fn a_kline_row_round_trips_as_the_same_array() {
    let raw = json!([[
        1499040000000_i64,
        "0.01634790",
        "0.80000000",
        "0.01575800",
        "0.01577100",
        "148976.11427815",
        1499644799999_i64,
        "2434.19055334",
        308,
        "1756.87402397",
        "28.46694368",
        "17928899.62484339"
    ]]);
    let klines: Vec<Kline> = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(klines[0].open_time, 1_499_040_000_000);
    assert_eq!(klines[0].high, dec!(0.8));
    assert_eq!(klines[0].trade_count, 308);
    assert_eq!(klines[0].close_time, 1_499_644_799_999);
    // Exact: decimals keep their scale, the row keeps its order and element types.
    assert_eq!(serde_json::to_value(&klines).unwrap(), raw);
}

#[test]
fn a_batch_response_mixes_orders_and_errors_in_request_order() {
    let raw = json!([
        {"clientOrderId": "a", "cumQty": "0", "executedQty": "0", "orderId": 22542179, "origQty": "10",
         "price": "100", "reduceOnly": false, "side": "SELL", "positionSide": "BOTH", "status": "NEW",
         "stopPrice": "0", "closePosition": false, "symbol": "BTCUSDT", "timeInForce": "GTC", "type": "LIMIT",
         "origType": "LIMIT", "updateTime": 1566818724722_i64, "workingType": "CONTRACT_PRICE",
         "priceProtect": false, "priceMatch": "NONE", "selfTradePreventionMode": "NONE", "goodTillDate": 0},
        {"code": -2022, "msg": "ReduceOnly Order is rejected."}
    ]);
    let items: Vec<BatchOrderResult> = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(serde_json::to_value(&items).unwrap(), raw);
    let mut results = items.into_iter().map(BatchOrderResult::into_result);
    assert_eq!(results.next().unwrap().unwrap().status, OrderStatus::New);
    assert_eq!(results.next().unwrap().unwrap_err().code, -2022);
}

#[test]
fn one_or_many_reads_both_shapes() {
    let one: OneOrMany<TickerPrice> =
        serde_json::from_value(json!({"symbol": "BTCUSDT", "price": "6000.01", "time": 1}))
            .unwrap();
    let many: OneOrMany<TickerPrice> =
        serde_json::from_value(json!([{"symbol": "BTCUSDT", "price": "6000.01", "time": 1}]))
            .unwrap();
    assert_eq!(one.into_vec(), many.into_vec());
    let bracket: OneOrMany<LeverageBracket> = serde_json::from_value(json!({"symbol": "ETHUSDT",
        "brackets": [{"bracket": 1, "initialLeverage": 75, "notionalCap": 10000, "notionalFloor": 0,
        "maintMarginRatio": 0.0065, "cum": 0.0}]}))
    .unwrap();
    assert_eq!(
        bracket.into_vec()[0].brackets[0].maint_margin_ratio,
        dec!(0.0065)
    );
}

#[test]
fn leverage_brackets_are_written_back_as_numbers() {
    let raw = json!([{"symbol": "ETHUSDT", "notionalCoef": 1.5, "brackets": [{"bracket": 1,
        "initialLeverage": 75, "notionalCap": 10000, "notionalFloor": 0, "maintMarginRatio": 0.0065, "cum": 0.0}]}]);
    let parsed: Vec<LeverageBracket> = serde_json::from_value(raw.clone()).unwrap();
    let written = serde_json::to_value(&parsed).unwrap();
    // `cum: 0.0` comes back as `0` (same number, different JSON spelling), so compare
    // normalised; but every value must still be a JSON number, not a string.
    assert!(check_round_trip(round_trip::<Vec<LeverageBracket>>, &raw, &[]).is_empty());
    assert!(written[0]["notionalCoef"].is_number());
    for (key, value) in written[0]["brackets"][0].as_object().unwrap() {
        assert!(value.is_number(), "{key} is {value}");
    }
}

#[test]
fn string_typed_numbers_and_booleans_are_accepted() {
    let expired: UserDataEvent = serde_json::from_value(
        json!({"e": "listenKeyExpired", "E": "1736996475556", "listenKey": "k"}),
    )
    .unwrap();
    let UserDataEvent::ListenKeyExpired(ev) = expired else {
        panic!("wrong variant: {expired:?}")
    };
    assert_eq!(ev.event_time, 1_736_996_475_556);

    let v2: Vec<PositionRisk> = serde_json::from_value(json!([{"entryPrice": "0.00000",
        "breakEvenPrice": "0.0", "marginType": "cross", "isAutoAddMargin": "false", "isolatedMargin": "0",
        "leverage": "10", "liquidationPrice": "0", "markPrice": 6679.5, "maxNotionalValue": "20000000",
        "positionAmt": "-0.001", "notional": "0", "isolatedWallet": "0", "symbol": "BTCUSDT",
        "unRealizedProfit": "0", "positionSide": "BOTH", "updateTime": "1625474304765"}]))
    .unwrap();
    assert_eq!(v2[0].leverage, Some(10));
    assert_eq!(v2[0].is_auto_add_margin, Some(false));
    assert_eq!(v2[0].margin_type, Some(PositionMarginType::Cross));
    assert_eq!(v2[0].mark_price, dec!(6679.5));
    assert_eq!(v2[0].position_amt, dec!(-0.001));
}

#[test]
fn blank_optional_values_read_as_none() {
    let raw = json!({"algoId": 1, "clientAlgoId": "c", "algoType": "CONDITIONAL", "orderType": "STOP_MARKET",
        "symbol": "BTCUSDT", "side": "SELL", "positionSide": "BOTH", "timeInForce": "GTC", "quantity": "",
        "algoStatus": "NEW", "triggerPrice": "58000", "price": null, "icebergQuantity": "null",
        "actualOrderId": "", "tpOrderType": "", "closePosition": true, "priceProtect": "true",
        "reduceOnly": false, "activatePrice": "", "callbackRate": "", "createTime": 1, "updateTime": 1,
        "triggerTime": 0, "goodTillDate": 0});
    let algo: AlgoOrder = serde_json::from_value(raw).unwrap();
    assert_eq!(algo.quantity, None);
    assert_eq!(algo.price, None);
    assert_eq!(algo.iceberg_quantity, None);
    assert_eq!(algo.actual_order_id, None);
    assert_eq!(algo.tp_order_type, None);
    assert_eq!(algo.activate_price, None);
    assert_eq!(algo.trigger_price, Some(dec!(58000)));
    assert!(algo.close_position && algo.price_protect);
}

#[test]
fn a_string_code_counts_as_success() {
    let ack: CodeMsg = serde_json::from_value(json!({"code": "200", "msg": "success"})).unwrap();
    assert!(ack.is_success());
}

#[test]
fn an_unknown_user_event_is_kept_raw() {
    let raw = json!({"e": "TRADE_LITE", "E": 1, "s": "BTCUSDT", "q": "0.1"});
    let event: UserDataEvent = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(event.event_type(), "TRADE_LITE");
    assert!(matches!(event, UserDataEvent::Unknown(_)));
    assert_eq!(serde_json::to_value(&event).unwrap(), raw);
}

#[test]
fn an_unknown_filter_is_kept_raw_and_known_ones_are_reachable() {
    let raw = json!({"timezone": "UTC", "serverTime": 1, "rateLimits": [], "exchangeFilters": [], "assets": [],
    "symbols": [{"symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL", "deliveryDate": 1,
    "onboardDate": 1, "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT",
    "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
    "underlyingType": "COIN", "underlyingSubType": [], "orderTypes": ["LIMIT"], "timeInForce": ["GTC"],
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
        {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
        {"filterType": "MIN_NOTIONAL", "notional": "100"},
        {"filterType": "POSITION_RISK_CONTROL", "positionControlSide": "NONE"}
    ]}]});
    let info: ExchangeInfo = serde_json::from_value(raw.clone()).unwrap();
    let btc = info.symbol("BTCUSDT").unwrap();
    assert_eq!(btc.price_filter().unwrap().tick_size, dec!(0.1));
    assert_eq!(btc.lot_size().unwrap().step_size, dec!(0.001));
    assert_eq!(btc.min_notional(), Some(dec!(100)));
    assert!(matches!(&btc.filters[3], SymbolFilter::Unknown(_)));
    assert_eq!(btc.filters[3].filter_type(), "POSITION_RISK_CONTROL");
    assert_eq!(serde_json::to_value(&info).unwrap(), raw);
}

#[test]
fn a_combined_stream_message_unwraps_to_its_event() {
    let raw = json!({"stream": "btcusdt@kline_1m", "data": {"e": "kline", "E": 1638747660000_i64,
        "s": "BTCUSDT", "k": {"t": 1638747660000_i64, "T": 1638747719999_i64, "s": "BTCUSDT", "i": "1m",
        "f": 100, "L": 200, "o": "0.0010", "c": "0.0020", "h": "0.0025", "l": "0.0015", "v": "1000", "n": 100,
        "x": true, "q": "1.0000", "V": "500", "Q": "0.500", "B": "123456"}}});
    let msg: CombinedStream<MarketEvent> = serde_json::from_value(raw.clone()).unwrap();
    let MarketEvent::Kline(kline) = &msg.data else {
        panic!("wrong variant: {:?}", msg.data)
    };
    assert!(kline.kline.is_closed);
    assert_eq!(kline.kline.close, dec!(0.002));
    assert_eq!(serde_json::to_value(&msg).unwrap(), raw);
}

/// The round-trip check itself must catch a type that drops a field; otherwise the fixture
/// tests would prove nothing.
#[test]
fn the_round_trip_check_notices_a_dropped_field() {
    #[derive(Debug, Serialize, Deserialize)]
    struct Lossy {
        symbol: String,
    }
    let problems = check_round_trip(
        round_trip::<Lossy>,
        &json!({"symbol": "X", "price": "1"}),
        &[],
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("price"), "{problems:?}");

    let same = check_round_trip(round_trip::<serde_json::Value>, &json!({"a": "1.0"}), &[]);
    assert!(same.is_empty(), "{same:?}");
}
