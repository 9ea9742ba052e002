//! Requests of the order endpoints: `order`, `batchOrders`, `algoOrder`, `orderAmendment`,
//! `userTrades`, `allOrders`.

use rust_decimal::Decimal;
use serde_json::Value;

use super::Params;
use crate::error::ApiError;
use crate::exchange::{AlgoKind, PositionSide, Side, TimeInForce, WorkingType};

/// What an order is named by: the exchange's id or the client's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// `orderId` / `algoId`.
    Id(i64),
    /// `origClientOrderId` / `clientAlgoId`.
    Client(String),
}

impl OrderRef {
    /// The id in `id_name` or, without it, the client id in `client_name`.
    ///
    /// # Errors
    /// -1130 for an id that is not a number, -1102 when neither is sent.
    pub fn parse(p: &Params, id_name: &str, client_name: &str) -> Result<Self, ApiError> {
        if let Some(id) = p.int(id_name)? {
            Ok(Self::Id(id))
        } else if let Some(cid) = p.get(client_name) {
            Ok(Self::Client(cid.to_owned()))
        } else {
            Err(ApiError::bad(
                -1102,
                format!(
                    "Param '{client_name}' or '{id_name}' must be sent, but both were empty/null!"
                ),
            ))
        }
    }

    /// The ref of an order (`orderId` / `origClientOrderId`).
    ///
    /// # Errors
    /// As [`OrderRef::parse`].
    pub fn order(p: &Params) -> Result<Self, ApiError> {
        Self::parse(p, "orderId", "origClientOrderId")
    }

    /// The ref of an algo order (`algoId` / `clientAlgoId`).
    ///
    /// # Errors
    /// As [`OrderRef::parse`].
    pub fn algo(p: &Params) -> Result<Self, ApiError> {
        Self::parse(p, "algoId", "clientAlgoId")
    }
}

/// `symbol` and the order it names: `GET`/`DELETE /fapi/v1/order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLookup {
    /// The order's symbol.
    pub symbol: String,
    /// Which order.
    pub order: OrderRef,
}

impl OrderLookup {
    /// Parses `symbol` and `orderId` or `origClientOrderId`.
    ///
    /// # Errors
    /// -1102 without `symbol` or either id, -1130 for a malformed id.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            symbol: p.string("symbol")?,
            order: OrderRef::order(p)?,
        })
    }
}

/// What kind of order `POST /fapi/v1/order` places. Conditional kinds go to the algo
/// service (`POST /fapi/v1/algoOrder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    /// Takes at the market.
    Market,
    /// Rests at `price` unless it can fill at once.
    Limit {
        /// The limit.
        price: Decimal,
        /// How long it works.
        time_in_force: TimeInForce,
    },
}

/// `newOrderRespType`: whether the reply carries the fill (`RESULT`) or only the
/// acknowledgement (`ACK`, the default; MARKET orders always reply with the result).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RespType {
    /// The order as placed.
    #[default]
    Ack,
    /// The order after matching.
    Result,
}

/// `POST /fapi/v1/order` (and one item of `POST /fapi/v1/batchOrders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// MARKET or LIMIT with its price and time in force.
    pub kind: OrderKind,
    /// `positionSide` as sent (checked against the account's mode by the exchange).
    pub position_side: Option<PositionSide>,
    /// The quantity.
    pub quantity: Decimal,
    /// `reduceOnly` as sent (hedge mode refuses it even when false).
    pub reduce_only: Option<bool>,
    /// `newClientOrderId`, when sent.
    pub client_order_id: Option<String>,
    /// What the reply shows.
    pub resp_type: RespType,
}

impl NewOrder {
    /// A MARKET order of `quantity`.
    pub fn market(symbol: &str, side: Side, quantity: Decimal) -> Self {
        Self {
            symbol: symbol.to_owned(),
            side,
            kind: OrderKind::Market,
            position_side: None,
            quantity,
            reduce_only: None,
            client_order_id: None,
            resp_type: RespType::Ack,
        }
    }

    /// A LIMIT order of `quantity` at `price`.
    pub fn limit(
        symbol: &str,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        time_in_force: TimeInForce,
    ) -> Self {
        Self {
            kind: OrderKind::Limit {
                price,
                time_in_force,
            },
            ..Self::market(symbol, side, quantity)
        }
    }

    /// The same order on a hedge-mode position side.
    #[must_use]
    pub fn on(self, position_side: PositionSide) -> Self {
        Self {
            position_side: Some(position_side),
            ..self
        }
    }

    /// Parses a new order.
    ///
    /// # Errors
    /// -1102 for a missing parameter, -1117 a bad side, -4120 a conditional type (those go
    /// to the algo endpoint), -1116 another type, -4061 a bad position side, -1130 a
    /// malformed value, -1115 a bad time in force.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let side = side(p)?;
        let limit = match p.req("type")? {
            "MARKET" => false,
            "LIMIT" => true,
            t if AlgoKind::parse(t).is_some() => {
                return Err(ApiError::bad(
                    -4120,
                    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
                ));
            }
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        };
        let position_side = position_side(p)?;
        let quantity = p.req_decimal("quantity")?;
        let reduce_only = p.bool("reduceOnly")?;
        let client_order_id = p.get("newClientOrderId").map(valid_client_id).transpose()?;
        // A MARKET order ignores `price` and `timeInForce`, whatever they hold.
        let kind = if limit {
            OrderKind::Limit {
                price: p.req_decimal("price")?,
                time_in_force: time_in_force(p.req("timeInForce")?)?,
            }
        } else {
            OrderKind::Market
        };
        let resp_type = if p.get("newOrderRespType") == Some("RESULT") {
            RespType::Result
        } else {
            RespType::Ack
        };
        Ok(Self {
            symbol,
            side,
            kind,
            position_side,
            quantity,
            reduce_only,
            client_order_id,
            resp_type,
        })
    }
}

/// The most items `batchOrders` takes when placing or modifying.
const BATCH_MAX: usize = 5;
/// The most ids a batch cancel takes.
const CANCEL_BATCH_MAX: usize = 10;

/// The items of a `batchOrders` parameter (a JSON array of objects, at most 5), each as the
/// parameters of one single-order request.
///
/// # Errors
/// -1102 without `batchOrders`, -1130 when it is not a JSON array of objects, -4082 for
/// none or more than 5.
fn batch_items(p: &Params) -> Result<Vec<Params>, ApiError> {
    let raw = p.req("batchOrders")?;
    let items: Vec<serde_json::Map<String, Value>> =
        serde_json::from_str(raw).map_err(|_| ApiError::invalid("batchOrders"))?;
    if items.is_empty() || items.len() > BATCH_MAX {
        return Err(ApiError::bad(
            -4082,
            "Invalid number of batch place orders.",
        ));
    }
    Ok(items
        .into_iter()
        .map(|item| {
            // Batch values are strings; numbers and booleans are accepted as Binance does.
            Params::from_pairs(item.into_iter().map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            }))
        })
        .collect())
}

/// `POST /fapi/v1/batchOrders`: each item parsed on its own; one that does not parse is
/// refused alone, in its place in the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOrders(pub Vec<Result<NewOrder, ApiError>>);

impl BatchOrders {
    /// Parses the batch.
    ///
    /// # Errors
    /// As [`batch_items`]: then nothing is placed.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self(batch_items(p)?.iter().map(NewOrder::parse).collect()))
    }
}

/// `priceMatch`: a price taken from the book, the best (5th, 10th, 20th) level of the other
/// side (`OPPONENT…`) or of the order's own side (`QUEUE…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceMatch {
    /// The other side's book rather than the order's own.
    pub opponent: bool,
    /// The level, 0 for the best.
    pub level: usize,
}

impl PriceMatch {
    /// Parses a `priceMatch` mode other than `NONE`.
    ///
    /// # Errors
    /// -5037 for an unknown mode.
    pub fn parse(mode: &str) -> Result<Self, ApiError> {
        let (opponent, level) = match mode {
            "OPPONENT" => (true, 0),
            "OPPONENT_5" => (true, 4),
            "OPPONENT_10" => (true, 9),
            "OPPONENT_20" => (true, 19),
            "QUEUE" => (false, 0),
            "QUEUE_5" => (false, 4),
            "QUEUE_10" => (false, 9),
            "QUEUE_20" => (false, 19),
            _ => return Err(ApiError::bad(-5037, "Invalid price match")),
        };
        Ok(Self { opponent, level })
    }
}

/// The new price of a modification: given, or matched on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModifyPrice {
    /// `price`.
    Price(Decimal),
    /// `priceMatch`.
    Match(PriceMatch),
}

/// `PUT /fapi/v1/order` (and one item of `PUT /fapi/v1/batchOrders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyOrder {
    /// The symbol.
    pub symbol: String,
    /// The order to change.
    pub order: OrderRef,
    /// Its side (must be the order's).
    pub side: Side,
    /// The new quantity.
    pub quantity: Decimal,
    /// The new price.
    pub price: ModifyPrice,
    /// The caller's `modifyId`, echoed back (0 when none was sent).
    pub modify_id: i64,
}

impl ModifyOrder {
    /// Parses a modification.
    ///
    /// # Errors
    /// -1102 for a missing parameter (`price` unless `priceMatch`), -1117 a bad side, -1130
    /// a malformed value, -1128 `price` with `priceMatch`, -5037 an unknown `priceMatch`.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let side = side(p)?;
        let quantity = p.req_decimal("quantity")?;
        let sent_price = p.decimal("price")?;
        let price_match = p.get("priceMatch").filter(|m| *m != "NONE");
        let modify_id = p.int("modifyId")?.unwrap_or(0);
        let order = OrderRef::order(p)?;
        let price = match (sent_price, price_match) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad(
                    -1128,
                    "Combination of optional parameters invalid.",
                ));
            }
            (Some(price), None) => ModifyPrice::Price(price),
            (None, Some(mode)) => ModifyPrice::Match(PriceMatch::parse(mode)?),
            (None, None) => return Err(ApiError::mandatory("price")),
        };
        Ok(Self {
            symbol,
            order,
            side,
            quantity,
            price,
            modify_id,
        })
    }
}

/// `PUT /fapi/v1/batchOrders`: each modification parsed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchModify(pub Vec<Result<ModifyOrder, ApiError>>);

impl BatchModify {
    /// Parses the batch.
    ///
    /// # Errors
    /// As [`batch_items`]: then nothing is changed.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self(
            batch_items(p)?.iter().map(ModifyOrder::parse).collect(),
        ))
    }
}

/// `DELETE /fapi/v1/batchOrders`: up to 10 orders of `symbol` named by `orderIdList` (a JSON
/// array of ids, numbers or strings) or, without it, `origClientOrderIdList`. The names
/// match in any letter case (ccxt sends them in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelBatch {
    /// The symbol.
    pub symbol: String,
    /// The orders, in the order given.
    pub orders: Vec<OrderRef>,
}

impl CancelBatch {
    /// Parses the batch.
    ///
    /// # Errors
    /// -1102 without `symbol` or either list, -1130 for a malformed or empty list, -4032
    /// for more than 10 ids.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let orders: Vec<OrderRef> = if let Some(raw) = p.get_any_case("orderIdList") {
            let ids: Vec<Value> =
                serde_json::from_str(raw).map_err(|_| ApiError::invalid("orderIdList"))?;
            ids.iter()
                .map(|v| {
                    let id = match v {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.parse().ok(),
                        _ => None,
                    };
                    id.map(OrderRef::Id)
                        .ok_or_else(|| ApiError::invalid("orderIdList"))
                })
                .collect::<Result<_, _>>()?
        } else if let Some(raw) = p.get_any_case("origClientOrderIdList") {
            let ids: Vec<String> = serde_json::from_str(raw)
                .map_err(|_| ApiError::invalid("origClientOrderIdList"))?;
            ids.into_iter().map(OrderRef::Client).collect()
        } else {
            return Err(ApiError::bad(
                -1102,
                "Param 'orderIdList' or 'origClientOrderIdList' must be sent, but both were empty/null!",
            ));
        };
        if orders.is_empty() {
            return Err(ApiError::invalid("orderIdList"));
        }
        if orders.len() > CANCEL_BATCH_MAX {
            return Err(ApiError::bad(-4032, "Exceed maximum cancel order size."));
        }
        Ok(Self { symbol, orders })
    }
}

/// `GET /fapi/v1/orderAmendment`: the modifications of one order within an inclusive time
/// range, at most `limit` (default 50, at most 100).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendments {
    /// The order.
    pub order: OrderLookup,
    /// `startTime` (none: from the first).
    pub start: Option<i64>,
    /// `endTime` (none: to the last).
    pub end: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

impl Amendments {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol` or either id, -1130 for a malformed number.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            order: OrderLookup::parse(p)?,
            start: p.int("startTime")?,
            end: p.int("endTime")?,
            limit: p.clamped_limit(50, 100)?,
        })
    }
}

/// How far back `userTrades` and `allOrders` look by default, and the widest window they
/// accept (7 days).
const HISTORY_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

/// `startTime`/`endTime` of a history query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryWindow {
    /// `startTime`.
    pub start: Option<i64>,
    /// `endTime`.
    pub end: Option<i64>,
}

impl HistoryWindow {
    /// Parses `startTime` and `endTime`.
    ///
    /// # Errors
    /// -1130 when either is not an integer.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            start: p.int("startTime")?,
            end: p.int("endTime")?,
        })
    }

    /// Whether a time was sent.
    pub fn is_timed(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    /// The inclusive window at `now`: the last 7 days without times, 7 days from
    /// `startTime` or up to `endTime` with one of them, and at most 7 days with both.
    ///
    /// # Errors
    /// -1023 when `startTime` is after `endTime`, -1127 when they are more than 7 days apart.
    pub fn at(&self, now: i64) -> Result<(i64, i64), ApiError> {
        match (self.start, self.end) {
            (None, None) => Ok((now - HISTORY_WINDOW_MS, now)),
            (Some(s), None) => Ok((s, s.saturating_add(HISTORY_WINDOW_MS).min(now))),
            (None, Some(e)) => Ok((e - HISTORY_WINDOW_MS, e)),
            (Some(s), Some(e)) if s > e => {
                Err(ApiError::bad(-1023, "Start time is greater than end time."))
            }
            (Some(s), Some(e)) if e - s > HISTORY_WINDOW_MS => Err(ApiError::bad(
                -1127,
                "More than 168 hours between startTime and endTime.",
            )),
            (Some(s), Some(e)) => Ok((s, e)),
        }
    }
}

/// `GET /fapi/v1/userTrades`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTrades {
    /// The symbol.
    pub symbol: String,
    /// At most this many (default 500, at most 1000).
    pub limit: usize,
    /// `fromId`: the trades from this id on, whatever their time.
    pub from_id: Option<i64>,
    /// `orderId`: that order's trades.
    pub order_id: Option<i64>,
    /// The time window.
    pub window: HistoryWindow,
}

impl UserTrades {
    /// Parses the query.
    ///
    /// # Errors
    /// -1102 without `symbol`, -1130 for a malformed number, -1128 `fromId` with times.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let limit = p.clamped_limit(500, 1000)?;
        let from_id = p.int("fromId")?;
        let order_id = p.int("orderId")?;
        // `fromId` may not be sent with times (whatever they hold).
        if from_id.is_some() && (p.has("startTime") || p.has("endTime")) {
            return Err(ApiError::bad(
                -1128,
                "Combination of optional parameters invalid.",
            ));
        }
        Ok(Self {
            symbol,
            limit,
            from_id,
            order_id,
            window: HistoryWindow::parse(p)?,
        })
    }
}

/// `GET /fapi/v1/allOrders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllOrders {
    /// The symbol, or every symbol.
    pub symbol: Option<String>,
    /// At most this many (default 500, at most 1000).
    pub limit: usize,
    /// `orderId`: the orders from this id on, whatever their time.
    pub from_id: Option<i64>,
    /// The time window of creation times.
    pub window: HistoryWindow,
}

impl AllOrders {
    /// Parses the query.
    ///
    /// # Errors
    /// -1130 for a malformed number.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        Ok(Self {
            symbol: p.get("symbol").map(str::to_owned),
            limit: p.clamped_limit(500, 1000)?,
            from_id: p.int("orderId")?,
            window: HistoryWindow::parse(p)?,
        })
    }
}

/// `POST /fapi/v1/algoOrder` (conditional orders): STOP_MARKET and TAKE_PROFIT_MARKET
/// (`triggerPrice`, `closePosition`), STOP and TAKE_PROFIT (`triggerPrice`, `price`,
/// `timeInForce`) and TRAILING_STOP_MARKET (`callbackRate` 0.1–20 %, `activatePrice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlgoOrder {
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The conditional kind.
    pub kind: AlgoKind,
    /// `positionSide` as sent (checked against the account's mode by the exchange).
    pub position_side: Option<PositionSide>,
    /// The trigger (zero for a trailing stop, which has none).
    pub trigger_price: Decimal,
    /// The LIMIT price of STOP and TAKE_PROFIT (zero for the market kinds).
    pub price: Decimal,
    /// The time in force of the LIMIT order a STOP or TAKE_PROFIT becomes.
    pub time_in_force: TimeInForce,
    /// Closes the whole position when it triggers (market kinds only).
    pub close_position: bool,
    /// `reduceOnly` as sent (hedge mode refuses it even when false).
    pub reduce_only: Option<bool>,
    /// The quantity (zero with `closePosition`).
    pub quantity: Decimal,
    /// The price the trigger watches.
    pub working_type: WorkingType,
    /// Trailing stops: how far back from the best price it triggers, in percent.
    pub callback_rate: Option<Decimal>,
    /// Trailing stops: the price at which the trail starts (none: at once).
    pub activate_price: Option<Decimal>,
    /// `clientAlgoId` (or `newClientOrderId`), when sent.
    pub client_algo_id: Option<String>,
    /// `priceProtect`.
    pub price_protect: bool,
}

impl NewAlgoOrder {
    /// Parses an algo order.
    ///
    /// # Errors
    /// -1102 for a missing parameter, -1130 a malformed value (or `algoType` other than
    /// CONDITIONAL, a callback rate outside 0.1–20), -1117 a bad side, -1116 a bad type,
    /// -1106 a parameter the kind does not take, -1115 a bad time in force, -4061 a bad
    /// position side.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        if p.req("algoType")? != "CONDITIONAL" {
            return Err(ApiError::invalid("algoType"));
        }
        let symbol = p.string("symbol")?;
        let side = side(p)?;
        let kind = AlgoKind::parse(p.req("type")?)
            .ok_or_else(|| ApiError::bad(-1116, "Invalid orderType."))?;
        let trailing = kind == AlgoKind::TrailingStopMarket;
        let limit = kind.is_limit();
        let trigger_price = if trailing {
            refuse_sent(p, "triggerPrice")?;
            Decimal::ZERO
        } else {
            p.req_decimal("triggerPrice")?
        };
        let (price, time_in_force) = if limit {
            let price = p.req_decimal("price")?;
            (price, time_in_force(p.get("timeInForce").unwrap_or("GTC"))?)
        } else {
            refuse_sent(p, "price")?;
            (Decimal::ZERO, TimeInForce::Gtc)
        };
        let close_position = p.bool("closePosition")?.unwrap_or(false);
        if close_position && (limit || trailing) {
            // Only the market kinds can close the whole position.
            return Err(not_required("closePosition"));
        }
        let reduce_only = p.bool("reduceOnly")?;
        let quantity = p.decimal("quantity")?;
        if close_position && (quantity.is_some() || reduce_only.unwrap_or(false)) {
            return Err(not_required("quantity"));
        }
        let quantity = match (close_position, quantity) {
            (true, _) => Decimal::ZERO,
            (false, Some(q)) => q,
            (false, None) => return Err(ApiError::mandatory("quantity")),
        };
        let working_type = match p.get("workingType") {
            None => WorkingType::ContractPrice,
            Some(w) => WorkingType::parse(w).ok_or_else(|| ApiError::invalid("workingType"))?,
        };
        let (callback_rate, activate_price) = if trailing {
            let rate = p.req_decimal("callbackRate")?;
            // 0.1 % to 20 % since 2026-10-23 (it was 10 % before; CONTRACT.md section 0).
            if rate < Decimal::new(1, 1) || rate > Decimal::from(20) {
                return Err(ApiError::invalid("callbackRate"));
            }
            (Some(rate), p.decimal("activatePrice")?)
        } else {
            refuse_sent(p, "callbackRate")?;
            refuse_sent(p, "activatePrice")?;
            (None, None)
        };
        let client_algo_id = p
            .get("clientAlgoId")
            .or_else(|| p.get("newClientOrderId"))
            .map(valid_client_id)
            .transpose()?;
        Ok(Self {
            symbol,
            side,
            kind,
            position_side: position_side(p)?,
            trigger_price,
            price,
            time_in_force,
            close_position,
            reduce_only,
            quantity,
            working_type,
            callback_rate,
            activate_price,
            client_algo_id,
            price_protect: p.bool("priceProtect")?.unwrap_or(false),
        })
    }
}

/// -1117 unless `side` is BUY or SELL.
fn side(p: &Params) -> Result<Side, ApiError> {
    Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))
}

/// `positionSide` as sent; a value Binance does not know is a mismatch with any mode.
fn position_side(p: &Params) -> Result<Option<PositionSide>, ApiError> {
    p.get("positionSide")
        .map(|s| PositionSide::parse(s).ok_or_else(position_side_mismatch))
        .transpose()
}

/// -4061: the order's position side does not fit the account's position mode.
pub(crate) fn position_side_mismatch() -> ApiError {
    ApiError::bad(
        -4061,
        "Order's position side does not match user's setting.",
    )
}

/// -1115 unless one of GTC, IOC, FOK, GTX.
fn time_in_force(s: &str) -> Result<TimeInForce, ApiError> {
    TimeInForce::parse(s).ok_or_else(|| ApiError::bad(-1115, "Invalid timeInForce."))
}

/// -1106: `name` was sent where the request does not take it.
pub(crate) fn not_required(name: &str) -> ApiError {
    ApiError::bad(-1106, format!("Parameter '{name}' sent when not required."))
}

fn refuse_sent(p: &Params, name: &str) -> Result<(), ApiError> {
    if p.has(name) {
        Err(not_required(name))
    } else {
        Ok(())
    }
}

/// Binance's client ids: `^[.A-Z:/a-z0-9_-]{1,36}$`.
fn valid_client_id(id: &str) -> Result<String, ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 36
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:/_-".contains(c));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::invalid("newClientOrderId"))
    }
}
