//! Requests of the order endpoints: `order` (place, query, cancel, modify) and
//! `batchOrders`, and the checks of form the algo endpoint shares.

use rust_decimal::Decimal;
use serde_json::Value;

use super::Params;
use crate::error::ApiError;
use crate::exchange::{AlgoKind, PositionSide, Side, TimeInForce};

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
    /// `selfTradePreventionMode` (EXPIRE_MAKER when not sent).
    pub self_trade_prevention: SelfTradePrevention,
    /// `priceMatch`: a LIMIT order priced from the book on arrival (its `price` is then zero).
    pub price_match: Option<PriceMatch>,
    /// `goodTillDate` of a GTD order, as sent (the exchange checks it against now).
    pub good_till_date: Option<i64>,
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
            self_trade_prevention: SelfTradePrevention::ExpireMaker,
            price_match: None,
            good_till_date: None,
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
    /// malformed value, -4003 a quantity not above zero, -4001 a negative price, -1115 a bad
    /// time in force, -4015 a malformed client id, -1136 a response type other than ACK and
    /// RESULT, -5039 an unknown self-trade prevention mode, -5037 `priceMatch` with `price`
    /// or an unknown mode, -5038 `priceMatch` on a MARKET order.
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
        let quantity = p.req_quantity("quantity")?;
        let reduce_only = p.bool("reduceOnly")?;
        let client_order_id = p.get("newClientOrderId").map(valid_client_id).transpose()?;
        let resp_type = resp_type(p)?;
        let self_trade_prevention = self_trade_prevention(p, SelfTradePrevention::ExpireMaker)?;
        let price_match = price_match(p)?;
        // A MARKET order ignores `price` and `timeInForce`, whatever they hold.
        let kind = if limit {
            let price = match price_match {
                // The exchange takes the price from the book when the order arrives.
                Some(_) if p.has("price") => {
                    return Err(ApiError::bad(-5037, "Invalid price match"));
                }
                Some(_) => Decimal::ZERO,
                None => p.req_price("price")?,
            };
            OrderKind::Limit {
                price,
                time_in_force: time_in_force(p.req("timeInForce")?)?,
            }
        } else {
            if price_match.is_some() {
                return Err(ApiError::bad(
                    -5038,
                    "Price match only supports order type: LIMIT, STOP AND TAKE_PROFIT",
                ));
            }
            OrderKind::Market
        };
        // GTD orders name their end (CONTRACT.md 4.3: `goodTillDate` mandatory with GTD).
        let good_till_date = match kind {
            OrderKind::Limit {
                time_in_force: TimeInForce::Gtd,
                ..
            } => Some(
                p.int("goodTillDate")?
                    .ok_or_else(|| ApiError::mandatory("goodTillDate"))?,
            ),
            _ => None,
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
            self_trade_prevention,
            price_match,
            good_till_date,
        })
    }
}

/// `newOrderRespType`.
///
/// # Errors
/// -1136 for anything but ACK and RESULT.
fn resp_type(p: &Params) -> Result<RespType, ApiError> {
    match p.get("newOrderRespType") {
        None | Some("ACK") => Ok(RespType::Ack),
        Some("RESULT") => Ok(RespType::Result),
        Some(_) => Err(ApiError::bad(-1136, "Invalid newOrderRespType.")),
    }
}

/// `selfTradePreventionMode`, with the endpoint's default when not sent.
///
/// # Errors
/// -5039 for a mode Binance does not know.
pub(super) fn self_trade_prevention(
    p: &Params,
    default: SelfTradePrevention,
) -> Result<SelfTradePrevention, ApiError> {
    match p.get("selfTradePreventionMode") {
        None => Ok(default),
        Some(mode) => SelfTradePrevention::parse(mode)
            .ok_or_else(|| ApiError::bad(-5039, "Invalid self trade prevention mode")),
    }
}

/// `priceMatch` other than `NONE`, if sent.
///
/// # Errors
/// -5037 for an unknown mode.
pub(super) fn price_match(p: &Params) -> Result<Option<PriceMatch>, ApiError> {
    p.get("priceMatch")
        .filter(|m| *m != "NONE")
        .map(PriceMatch::parse)
        .transpose()
}

/// `selfTradePreventionMode`: which side of a self-trade expires. The simulator holds one
/// account's orders apart from the replayed market, so it records the mode and echoes it;
/// an account never meets its own orders on the replayed book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SelfTradePrevention {
    /// No prevention (the algo service's default).
    None,
    /// The taker expires.
    ExpireTaker,
    /// The maker expires (the order endpoint's default).
    #[default]
    ExpireMaker,
    /// Both expire.
    ExpireBoth,
}

impl SelfTradePrevention {
    /// Binance's name of a mode.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "NONE" => Self::None,
            "EXPIRE_TAKER" => Self::ExpireTaker,
            "EXPIRE_MAKER" => Self::ExpireMaker,
            "EXPIRE_BOTH" => Self::ExpireBoth,
            _ => return None,
        })
    }

    /// The name Binance sends.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::ExpireTaker => "EXPIRE_TAKER",
            Self::ExpireMaker => "EXPIRE_MAKER",
            Self::ExpireBoth => "EXPIRE_BOTH",
        }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// The name Binance sends.
    pub fn as_str(self) -> &'static str {
        match (self.opponent, self.level) {
            (true, 0) => "OPPONENT",
            (true, 4) => "OPPONENT_5",
            (true, 9) => "OPPONENT_10",
            (true, _) => "OPPONENT_20",
            (false, 0) => "QUEUE",
            (false, 4) => "QUEUE_5",
            (false, 9) => "QUEUE_10",
            (false, _) => "QUEUE_20",
        }
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
    /// a malformed value, -4003 a quantity not above zero, -4001 a negative price, -5037
    /// `price` with `priceMatch` or an unknown `priceMatch`.
    pub fn parse(p: &Params) -> Result<Self, ApiError> {
        let symbol = p.string("symbol")?;
        let side = side(p)?;
        let quantity = p.req_quantity("quantity")?;
        let sent_price = p.price("price")?;
        let price_match = price_match(p)?;
        let modify_id = p.int("modifyId")?.unwrap_or(0);
        let order = OrderRef::order(p)?;
        let price = match (sent_price, price_match) {
            (Some(_), Some(_)) => return Err(ApiError::bad(-5037, "Invalid price match")),
            (Some(price), None) => ModifyPrice::Price(price),
            (None, Some(mode)) => ModifyPrice::Match(mode),
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

/// -1117 unless `side` is BUY or SELL.
pub(super) fn side(p: &Params) -> Result<Side, ApiError> {
    Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))
}

/// `positionSide` as sent; a value Binance does not know is a mismatch with any mode.
pub(super) fn position_side(p: &Params) -> Result<Option<PositionSide>, ApiError> {
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
pub(super) fn time_in_force(s: &str) -> Result<TimeInForce, ApiError> {
    TimeInForce::parse(s).ok_or_else(|| ApiError::bad(-1115, "Invalid timeInForce."))
}

/// -1106: `name` was sent where the request does not take it.
pub(crate) fn not_required(name: &str) -> ApiError {
    ApiError::bad(-1106, format!("Parameter '{name}' sent when not required."))
}

pub(super) fn refuse_sent(p: &Params, name: &str) -> Result<(), ApiError> {
    if p.has(name) {
        Err(not_required(name))
    } else {
        Ok(())
    }
}

/// Binance's client ids: `^[.A-Z:/a-z0-9_-]{1,36}$`.
///
/// # Errors
/// -4015 for a longer or malformed id (Binance's INVALID_CL_ORD_ID_LEN).
pub(super) fn valid_client_id(id: &str) -> Result<String, ApiError> {
    if id.len() > 36 {
        return Err(ApiError::bad(
            -4015,
            "Client order id length should not be more than 36 chars",
        ));
    }
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:/_-".contains(c));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::bad(-4015, "Client order id is not valid."))
    }
}
