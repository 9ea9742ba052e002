//! Public market-data replies built from the replayed data.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::exchange::Params;
use crate::market::{MarketData, SymbolSpec};

fn dec(v: Decimal) -> String {
    v.normalize().to_string()
}

/// Binance prints filter values with the symbol's precision (`"0.10"`, `"0.001"`).
fn fixed(v: Decimal, dp: u32) -> String {
    format!("{:.*}", dp as usize, v)
}

fn symbol_json(s: &SymbolSpec) -> Value {
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
pub fn exchange_info(market: &MarketData, now: i64) -> Value {
    let symbols: Vec<Value> = market
        .symbols()
        .into_iter()
        .filter_map(|s| market.spec(s))
        .map(symbol_json)
        .collect();
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

fn symbol<'a>(market: &MarketData, p: &'a Params) -> Result<&'a str, ApiError> {
    let s = p.req("symbol")?;
    market.spec(s).map(|_| s).ok_or_else(ApiError::bad_symbol)
}

fn int(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    p.get(name)
        .map(|v| v.parse().map_err(|_| ApiError::invalid(name)))
        .transpose()
}

/// `GET /fapi/v1/klines`.
///
/// # Errors
/// -1121 unknown symbol, -1120 bad interval, -1130 bad numbers, -1023 start after end.
pub fn klines(market: &MarketData, p: &Params, now: i64) -> Result<Value, ApiError> {
    let symbol = symbol(market, p)?;
    let interval = p.req("interval")?;
    let start = int(p, "startTime")?;
    let end = int(p, "endTime")?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ApiError::bad(-1023, "Start time is greater than end time."));
    }
    let limit = match int(p, "limit")? {
        Some(l) if (1..=1500).contains(&l) => usize::try_from(l).unwrap_or(500),
        Some(_) => return Err(ApiError::invalid("limit")),
        None => 500,
    };
    let rows = market
        .klines(symbol, interval, start, end, limit, now)
        .map_err(|_| ApiError::bad(-1120, "Invalid interval."))?;
    Ok(Value::Array(
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
    ))
}

/// `GET /fapi/v1/ticker/price` and `/fapi/v2/ticker/price`: one symbol or all.
///
/// # Errors
/// -1121 unknown symbol.
pub fn ticker_price(market: &MarketData, p: &Params, now: i64) -> Result<Value, ApiError> {
    let one = |s: &str| -> Option<Value> {
        market
            .last_price(s, now)
            .map(|price| json!({"symbol": s, "price": dec(price), "time": now}))
    };
    match p.get("symbol") {
        Some(_) => one(symbol(market, p)?).ok_or_else(ApiError::bad_symbol),
        None => Ok(Value::Array(
            market.symbols().into_iter().filter_map(one).collect(),
        )),
    }
}

/// `GET /fapi/v1/ticker/24hr`: rolling 24 h statistics of the replayed prices, one symbol or
/// all. The replayed data has no individual trades, so `count`, `firstId`, `lastId` are 0 and
/// `lastQty` is "0".
///
/// # Errors
/// -1121 unknown symbol.
pub fn ticker_24hr(market: &MarketData, p: &Params, now: i64) -> Result<Value, ApiError> {
    let one = |s: &str| -> Option<Value> {
        let t = market.ticker_24h(s, now)?;
        Some(json!({
            "symbol": t.symbol, "priceChange": dec(t.price_change),
            "priceChangePercent": dec(t.price_change_percent), "weightedAvgPrice": dec(t.weighted_avg_price),
            "lastPrice": dec(t.last), "lastQty": "0", "openPrice": dec(t.open), "highPrice": dec(t.high),
            "lowPrice": dec(t.low), "volume": dec(t.volume), "quoteVolume": dec(t.quote_volume),
            "openTime": t.open_time, "closeTime": t.close_time, "firstId": 0, "lastId": 0, "count": 0,
        }))
    };
    match p.get("symbol") {
        Some(_) => one(symbol(market, p)?).ok_or_else(ApiError::bad_symbol),
        None => Ok(Value::Array(
            market.symbols().into_iter().filter_map(one).collect(),
        )),
    }
}

/// `GET /fapi/v1/premiumIndex`: one symbol or all.
///
/// # Errors
/// -1121 unknown symbol.
pub fn premium_index(market: &MarketData, p: &Params, now: i64) -> Result<Value, ApiError> {
    let one = |s: &str| -> Option<Value> {
        let mark = market.mark_price(s, now)?;
        let next = market.next_funding_time(now);
        Some(json!({
            "symbol": s, "markPrice": dec(mark), "indexPrice": dec(mark), "estimatedSettlePrice": dec(mark),
            "lastFundingRate": dec(market.funding_rate(s, next)), "interestRate": "0.00010000",
            "nextFundingTime": next, "time": now,
        }))
    };
    match p.get("symbol") {
        Some(_) => one(symbol(market, p)?).ok_or_else(ApiError::bad_symbol),
        None => Ok(Value::Array(
            market.symbols().into_iter().filter_map(one).collect(),
        )),
    }
}

/// `GET /fapi/v1/depth`.
///
/// # Errors
/// -1121 unknown symbol, -1130 bad limit.
pub fn depth(market: &MarketData, p: &Params, now: i64) -> Result<Value, ApiError> {
    let symbol = symbol(market, p)?;
    let limit = match int(p, "limit")? {
        Some(l @ (5 | 10 | 20 | 50 | 100 | 500 | 1000)) => usize::try_from(l).unwrap_or(500),
        Some(_) => return Err(ApiError::invalid("limit")),
        None => 500,
    };
    let (bids, asks) = market.depth(symbol, now, limit);
    let side = |levels: Vec<(Decimal, Decimal)>| -> Value {
        Value::Array(
            levels
                .into_iter()
                .map(|(p, q)| json!([dec(p), dec(q)]))
                .collect(),
        )
    };
    Ok(json!({"lastUpdateId": now, "E": now, "T": now, "bids": side(bids), "asks": side(asks)}))
}

/// `GET /fapi/v1/ticker/bookTicker`: the best bid and ask of the book `depth` serves at
/// the same time, one symbol or all.
///
/// # Errors
/// -1121 unknown symbol.
pub fn book_ticker(market: &MarketData, p: &Params, now: i64) -> Result<Value, ApiError> {
    let one = |s: &str| -> Option<Value> {
        let (bids, asks) = market.depth(s, now, 1);
        let (bid, bid_qty) = bids.first().copied()?;
        let (ask, ask_qty) = asks.first().copied()?;
        Some(json!({
            "symbol": s, "bidPrice": dec(bid), "bidQty": dec(bid_qty), "askPrice": dec(ask),
            "askQty": dec(ask_qty), "time": now, "lastUpdateId": now,
        }))
    };
    match p.get("symbol") {
        Some(_) => one(symbol(market, p)?).ok_or_else(ApiError::bad_symbol),
        None => Ok(Value::Array(
            market.symbols().into_iter().filter_map(one).collect(),
        )),
    }
}

/// `GET /fapi/v1/fundingRate`: the funding events of `symbol` up to now, oldest first.
///
/// # Errors
/// -1121 unknown symbol, -1130 bad numbers.
pub fn funding_rate(market: &MarketData, p: &Params, now: i64) -> Result<Value, ApiError> {
    let symbol = symbol(market, p)?;
    let limit = match int(p, "limit")? {
        Some(l) if (1..=1000).contains(&l) => usize::try_from(l).unwrap_or(100),
        Some(_) => return Err(ApiError::invalid("limit")),
        None => 100,
    };
    let end = int(p, "endTime")?.unwrap_or(now).min(now);
    // Without startTime Binance returns the most recent `limit` events.
    let start =
        int(p, "startTime")?.unwrap_or(end - i64::try_from(limit).unwrap_or(100) * 8 * 3_600_000);
    let events = market.funding_events_between(symbol, start - 1, end);
    let rows: Vec<Value> = events
        .into_iter()
        .take(limit)
        .map(|(time, rate)| {
            let mark = market.mark_price(symbol, time).unwrap_or_default();
            json!({"symbol": symbol, "fundingTime": time, "fundingRate": dec(rate), "markPrice": dec(mark)})
        })
        .collect();
    Ok(Value::Array(rows))
}
