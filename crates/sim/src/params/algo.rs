//! Requests of the algo endpoint: `POST /fapi/v1/algoOrder`.

use rust_decimal::Decimal;

use super::Params;
use super::orders::{
    SelfTradePrevention, not_required, position_side, price_match, refuse_sent,
    self_trade_prevention, side, time_in_force, valid_client_id,
};
use crate::error::ApiError;
use crate::exchange::{AlgoKind, PositionSide, Side, TimeInForce, WorkingType};

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
    /// `selfTradePreventionMode` (NONE when not sent, the algo service's default).
    pub self_trade_prevention: SelfTradePrevention,
}

impl NewAlgoOrder {
    /// Parses an algo order.
    ///
    /// # Errors
    /// -1102 for a missing parameter, -1130 a malformed value (or `algoType` other than
    /// CONDITIONAL, a callback rate outside 0.1–20), -1117 a bad side, -1116 a bad type,
    /// -1106 a parameter the kind does not take, -1115 a bad time in force, -4061 a bad
    /// position side, -4003 a quantity not above zero, -4001 a negative price, -4137
    /// `quantity` with `closePosition`, -4015 a malformed client id, -5039 an unknown
    /// self-trade prevention mode, -5037 `priceMatch` with `price`.
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
            p.req_price("triggerPrice")?
        };
        let (price, time_in_force) = if limit {
            if price_match(p)?.is_some() && p.has("price") {
                return Err(ApiError::bad(-5037, "Invalid price match"));
            }
            let price = p.req_price("price")?;
            let tif = time_in_force(p.get("timeInForce").unwrap_or("GTC"))?;
            if tif == TimeInForce::Gtd {
                // The algo service here has no expiry date of its own (yet).
                return Err(ApiError::bad(-1115, "Invalid timeInForce."));
            }
            (price, tif)
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
        let quantity = p.quantity("quantity")?;
        if close_position && quantity.is_some() {
            return Err(ApiError::bad(
                -4137,
                "Quantity must be zero with closePosition equals true",
            ));
        }
        if close_position && reduce_only.unwrap_or(false) {
            return Err(not_required("reduceOnly"));
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
            (Some(rate), p.price("activatePrice")?)
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
            self_trade_prevention: self_trade_prevention(p, SelfTradePrevention::None)?,
        })
    }
}
