//! Public market-data replies, rendered from the replayed data.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::dec;
use crate::market::{Book, KlineRow, Level, SymbolSpec, Ticker24h};

/// Binance prints filter values with the symbol's precision (`"0.10"`, `"0.001"`).
fn fixed(v: Decimal, dp: u32) -> String {
    format!("{:.*}", dp as usize, v)
}

fn symbol(s: &SymbolSpec) -> Value {
    let pp = s.price_precision;
    let qp = s.quantity_precision;
    json!({
        "symbol": s.symbol, "pair": s.symbol, "contractType": "PERPETUAL", "deliveryDate": 4_133_404_800_000_i64,
        "onboardDate": s.onboard_date_ms, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": s.base_asset, "quoteAsset": s.quote_asset,
        "marginAsset": s.margin_asset, "pricePrecision": pp, "quantityPrecision": qp, "baseAssetPrecision": 8,
        "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": ["PoW"], "settlePlan": 0,
        "triggerProtect": fixed(s.trigger_protect, 4), "liquidationFee": fixed(s.liquidation_fee, 6),
        "marketTakeBound": dec(s.market_take_bound), "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fixed(s.min_price, pp), "maxPrice": fixed(s.max_price, pp), "tickSize": dec(s.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": dec(s.min_qty), "maxQty": dec(s.max_qty), "stepSize": dec(s.step_size)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": dec(s.market_min_qty), "maxQty": dec(s.market_max_qty), "stepSize": dec(s.market_step_size)},
            {"filterType": "MAX_NUM_ORDERS", "limit": s.max_num_orders},
            {"filterType": "MIN_NOTIONAL", "notional": dec(s.min_notional)},
            {"filterType": "PERCENT_PRICE", "multiplierUp": dec(s.multiplier_up), "multiplierDown": dec(s.multiplier_down), "multiplierDecimal": s.multiplier_decimal.to_string()},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": [["GRID", "COPY"]],
    })
}

/// `GET /fapi/v1/exchangeInfo`.
pub fn exchange_info(specs: &[&SymbolSpec], now: i64) -> Value {
    let symbols: Vec<Value> = specs.iter().map(|s| symbol(s)).collect();
    json!({
        "timezone": "UTC", "serverTime": now, "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": true, "autoAssetExchange": "-10000"}],
        "symbols": symbols,
    })
}

/// `GET /fapi/v1/klines`: rows as arrays.
pub fn klines(rows: &[KlineRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|k| {
                json!([
                    k.open_time,
                    dec(k.open),
                    dec(k.high),
                    dec(k.low),
                    dec(k.close),
                    dec(k.volume),
                    k.close_time,
                    dec(k.quote_volume),
                    k.trades,
                    dec(k.taker_buy_volume),
                    dec(k.taker_buy_quote_volume),
                    "0"
                ])
            })
            .collect(),
    )
}

/// One symbol of `GET /fapi/v1/ticker/price`.
pub fn ticker_price(symbol: &str, price: Decimal, now: i64) -> Value {
    json!({"symbol": symbol, "price": dec(price), "time": now})
}

/// One symbol of `GET /fapi/v1/ticker/24hr`. The replayed data has no individual trades, so
/// `count`, `firstId`, `lastId` are 0 and `lastQty` is "0".
pub fn ticker_24hr(t: &Ticker24h) -> Value {
    json!({
        "symbol": t.symbol, "priceChange": dec(t.price_change),
        "priceChangePercent": dec(t.price_change_percent), "weightedAvgPrice": dec(t.weighted_avg_price),
        "lastPrice": dec(t.last), "lastQty": "0", "openPrice": dec(t.open), "highPrice": dec(t.high),
        "lowPrice": dec(t.low), "volume": dec(t.volume), "quoteVolume": dec(t.quote_volume),
        "openTime": t.open_time, "closeTime": t.close_time, "firstId": 0, "lastId": 0, "count": 0,
    })
}

/// One symbol of `GET /fapi/v1/premiumIndex`; the index and settlement prices are the mark.
pub fn premium_index(
    symbol: &str,
    mark: Decimal,
    funding_rate: Decimal,
    next_funding: i64,
    now: i64,
) -> Value {
    json!({
        "symbol": symbol, "markPrice": dec(mark), "indexPrice": dec(mark), "estimatedSettlePrice": dec(mark),
        "lastFundingRate": dec(funding_rate), "interestRate": "0.00010000",
        "nextFundingTime": next_funding, "time": now,
    })
}

/// `GET /fapi/v1/depth`.
pub fn depth(book: Book, now: i64) -> Value {
    let side = |levels: Vec<Level>| -> Value {
        Value::Array(
            levels
                .into_iter()
                .map(|(p, q)| json!([dec(p), dec(q)]))
                .collect(),
        )
    };
    let (bids, asks) = book;
    json!({"lastUpdateId": now, "E": now, "T": now, "bids": side(bids), "asks": side(asks)})
}

/// One symbol of `GET /fapi/v1/ticker/bookTicker`.
pub fn book_ticker(symbol: &str, bid: Level, ask: Level, now: i64) -> Value {
    json!({
        "symbol": symbol, "bidPrice": dec(bid.0), "bidQty": dec(bid.1), "askPrice": dec(ask.0),
        "askQty": dec(ask.1), "time": now, "lastUpdateId": now,
    })
}

/// One event of `GET /fapi/v1/fundingRate`.
pub fn funding_rate(symbol: &str, time: i64, rate: Decimal, mark: Decimal) -> Value {
    json!({"symbol": symbol, "fundingTime": time, "fundingRate": dec(rate), "markPrice": dec(mark)})
}
