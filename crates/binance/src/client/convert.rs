//! The one mapping per concept between Binance's wire types and `perpdesk-core`'s domain.
//!
//! Strict where a wrong reading could lose money: a side, a position side or a symbol that does
//! not parse is an [`ExchangeError::Decode`], never a guess. Reading an unknown position side as
//! `BOTH` could flatten or protect the wrong position, or cancel a stop as an orphan; reading an
//! unknown side could book a fill backwards. A failed read stops the operation, and the caller's
//! next pass reads again.
//!
//! Lenient only where every reading is safe: an order or algo status Binance may add later is
//! read as "expired" (terminal: nothing more fills), and the reconciliation's "position without
//! a stop" repair covers a position that then turns out to be open.

use chrono::{DateTime, Utc};
use perpdesk_core as core;
use rust_decimal::Decimal;

use super::domain::{ExitKind, ExitOrder, FundingRate, OpenOrder, OrderReport, PositionReport};
use crate::endpoints as ep;
use crate::error::ExchangeError;
use crate::wire::account::{Income, LeverageBracket, PositionRisk};
use crate::wire::algo::{AlgoOrder, NewAlgoOrderRequest};
use crate::wire::market::{Kline, SymbolFilter, SymbolInfo};
use crate::wire::trade::{NewOrderRequest, Order, UserTrade};
use crate::wire::{
    self, AlgoStatus, AlgoType, IncomeType, NewOrderRespType, OrderStatus, OrderType,
};

fn bad(path: &'static str, detail: impl ToString) -> ExchangeError {
    ExchangeError::decode(path, 200, detail, b"")
}

pub(crate) fn millis(t: i64, path: &'static str) -> Result<DateTime<Utc>, ExchangeError> {
    DateTime::from_timestamp_millis(t).ok_or_else(|| bad(path, format!("time {t} out of range")))
}

pub(crate) fn symbol(s: &str, path: &'static str) -> Result<core::Symbol, ExchangeError> {
    core::Symbol::new(s).map_err(|e| bad(path, e))
}

// ----- domain → wire ------------------------------------------------------------------

fn side(s: core::Side) -> wire::Side {
    match s {
        core::Side::Buy => wire::Side::Buy,
        core::Side::Sell => wire::Side::Sell,
    }
}

fn position_side(s: core::PositionSide) -> wire::PositionSide {
    match s {
        core::PositionSide::Both => wire::PositionSide::Both,
        core::PositionSide::Long => wire::PositionSide::Long,
        core::PositionSide::Short => wire::PositionSide::Short,
    }
}

fn working_type(w: core::WorkingType) -> wire::WorkingType {
    match w {
        core::WorkingType::MarkPrice => wire::WorkingType::MarkPrice,
        core::WorkingType::ContractPrice => wire::WorkingType::ContractPrice,
    }
}

fn time_in_force(t: core::TimeInForce) -> wire::TimeInForce {
    match t {
        core::TimeInForce::Gtc => wire::TimeInForce::Gtc,
        core::TimeInForce::Ioc => wire::TimeInForce::Ioc,
        core::TimeInForce::Fok => wire::TimeInForce::Fok,
        core::TimeInForce::Gtx => wire::TimeInForce::Gtx,
    }
}

/// The wire name of a margin type for `POST /fapi/v1/marginType`.
pub(crate) fn margin_type(m: core::MarginType) -> &'static str {
    match m {
        core::MarginType::Isolated => "ISOLATED",
        core::MarginType::Cross => "CROSSED",
    }
}

/// `reduceOnly` is refused in hedge mode, where the position side already says it.
fn reduce_only(order: &core::OrderRequest) -> Option<bool> {
    (order.reduce_only && order.position_side == core::PositionSide::Both && !order.close_position)
        .then_some(true)
}

/// A limit or market order for `POST /fapi/v1/order`.
pub(crate) fn order_request(order: &core::OrderRequest) -> NewOrderRequest {
    let quantity = order.quantity.unwrap_or(Decimal::ZERO);
    let mut request = match order.kind {
        core::OrderKind::Limit {
            price,
            time_in_force: tif,
        } => NewOrderRequest::limit(
            order.symbol.as_str(),
            side(order.side),
            quantity,
            price,
            time_in_force(tif),
        ),
        _ => NewOrderRequest::market(order.symbol.as_str(), side(order.side), quantity),
    };
    request.position_side = Some(position_side(order.position_side));
    request.reduce_only = reduce_only(order);
    request.new_client_order_id = Some(order.client_order_id.as_str().to_owned());
    // RESULT makes market orders answer with their fill, saving a query.
    request.new_order_resp_type = Some(NewOrderRespType::Result);
    request
}

/// A conditional order for `POST /fapi/v1/algoOrder`.
pub(crate) fn algo_request(order: &core::OrderRequest) -> NewAlgoOrderRequest {
    let (order_type, trigger, working) = match order.kind {
        core::OrderKind::StopMarket {
            stop_price,
            working_type: w,
        } => (OrderType::StopMarket, stop_price, w),
        core::OrderKind::TakeProfitMarket {
            stop_price,
            working_type: w,
        } => (OrderType::TakeProfitMarket, stop_price, w),
        // Only conditional kinds reach this function (see `Raw::place_order`).
        _ => (
            OrderType::StopMarket,
            Decimal::ZERO,
            core::WorkingType::MarkPrice,
        ),
    };
    NewAlgoOrderRequest {
        algo_type: AlgoType::Conditional,
        symbol: order.symbol.as_str().to_owned(),
        side: side(order.side),
        position_side: Some(position_side(order.position_side)),
        order_type,
        time_in_force: None,
        quantity: if order.close_position {
            None
        } else {
            order.quantity
        },
        price: None,
        trigger_price: Some(trigger),
        working_type: Some(working_type(working)),
        price_match: None,
        close_position: order.close_position.then_some(true),
        // Binance's protection against triggering on a wild last price.
        price_protect: Some(true),
        reduce_only: reduce_only(order),
        activate_price: None,
        callback_rate: None,
        client_algo_id: Some(order.client_order_id.as_str().to_owned()),
        new_order_resp_type: None,
        self_trade_prevention_mode: None,
        good_till_date: None,
    }
}

// ----- wire → domain ------------------------------------------------------------------

/// Strict: an unknown side is refused (see the module docs).
pub(crate) fn side_of(s: &wire::Side, path: &'static str) -> Result<core::Side, ExchangeError> {
    match s {
        wire::Side::Buy => Ok(core::Side::Buy),
        wire::Side::Sell => Ok(core::Side::Sell),
        other => Err(bad(path, format!("unknown side {other}"))),
    }
}

/// Strict: an unknown position side is refused (see the module docs).
pub(crate) fn position_side_of(
    s: &wire::PositionSide,
    path: &'static str,
) -> Result<core::PositionSide, ExchangeError> {
    match s {
        wire::PositionSide::Both => Ok(core::PositionSide::Both),
        wire::PositionSide::Long => Ok(core::PositionSide::Long),
        wire::PositionSide::Short => Ok(core::PositionSide::Short),
        other => Err(bad(path, format!("unknown position side {other}"))),
    }
}

/// Lenient: a status Binance adds later is terminal (see the module docs).
pub(crate) fn order_state(s: &OrderStatus) -> core::OrderState {
    match s {
        OrderStatus::New => core::OrderState::New,
        OrderStatus::PartiallyFilled => core::OrderState::PartiallyFilled,
        OrderStatus::Filled => core::OrderState::Filled,
        OrderStatus::Canceled => core::OrderState::Canceled,
        OrderStatus::Rejected => core::OrderState::Rejected,
        // Expired by the book or by self-trade prevention; either way nothing more fills.
        _ => core::OrderState::Expired,
    }
}

/// Lenient, as [`order_state`]. A triggered algo order has handed over to a market order.
pub(crate) fn algo_state(s: &AlgoStatus) -> core::OrderState {
    match s {
        AlgoStatus::New | AlgoStatus::Triggering => core::OrderState::New,
        AlgoStatus::Triggered | AlgoStatus::Finished => core::OrderState::Filled,
        AlgoStatus::Canceled => core::OrderState::Canceled,
        AlgoStatus::Rejected => core::OrderState::Rejected,
        _ => core::OrderState::Expired,
    }
}

/// A regular order's outcome as the journal records it.
pub(crate) fn order_report(o: &Order) -> OrderReport {
    OrderReport {
        state: order_state(&o.status),
        exchange_id: o.order_id,
        record: serde_json::to_value(o).unwrap_or_default(),
    }
}

/// An algo order's outcome as the journal records it.
pub(crate) fn algo_report(a: &AlgoOrder) -> OrderReport {
    OrderReport {
        state: algo_state(&a.algo_status),
        exchange_id: a.algo_id,
        record: serde_json::to_value(a).unwrap_or_default(),
    }
}

/// An open algo order as an exit.
pub(crate) fn exit_order(a: &AlgoOrder) -> Result<ExitOrder, ExchangeError> {
    let path = ep::OPEN_ALGO_ORDERS.path;
    Ok(ExitOrder {
        algo_id: a.algo_id,
        client_id: a.client_algo_id.clone(),
        symbol: symbol(&a.symbol, path)?,
        side: side_of(&a.side, path)?,
        position_side: position_side_of(&a.position_side, path)?,
        kind: match a.order_type {
            OrderType::StopMarket => ExitKind::StopMarket,
            OrderType::TakeProfitMarket => ExitKind::TakeProfitMarket,
            _ => ExitKind::Other,
        },
        trigger_price: a.trigger_price,
        close_position: a.close_position,
        awaiting_trigger: a.algo_status == AlgoStatus::New,
    })
}

/// An open regular order.
pub(crate) fn open_order(o: &Order) -> Result<OpenOrder, ExchangeError> {
    Ok(OpenOrder {
        order_id: o.order_id,
        client_order_id: o.client_order_id.clone(),
        symbol: symbol(&o.symbol, ep::OPEN_ORDERS.path)?,
    })
}

pub(crate) fn income(row: Income) -> Result<core::Income, ExchangeError> {
    let path = ep::INCOME.path;
    let symbol = if row.symbol.is_empty() {
        None
    } else {
        Some(symbol(&row.symbol, path)?)
    };
    let kind = match &row.income_type {
        IncomeType::RealizedPnl => core::IncomeKind::RealizedPnl,
        IncomeType::Commission => core::IncomeKind::Commission,
        IncomeType::FundingFee => core::IncomeKind::FundingFee,
        IncomeType::Transfer => core::IncomeKind::Transfer,
        IncomeType::InsuranceClear => core::IncomeKind::InsuranceClear,
        other => core::IncomeKind::Other(other.to_string()),
    };
    Ok(core::Income {
        tran_id: row.tran_id,
        symbol,
        kind,
        amount: row.income,
        asset: row.asset,
        trade_id: row.trade_id.parse().ok(),
        info: row.info,
        time: millis(row.time, path)?,
    })
}

/// A `positionRisk` row as the domain's position.
///
/// `positionRisk` v3 reports neither leverage nor margin type: leverage is 0 ("not reported")
/// unless the reply carries it, and a position holding isolated margin is isolated.
///
/// # Errors
/// `Decode` for an unknown position side, a bad symbol or time.
pub fn position(p: &PositionRisk) -> Result<core::Position, ExchangeError> {
    let path = ep::POSITION_RISK.path;
    let isolated = p.isolated_margin.unwrap_or_default();
    let isolated_wallet = p.isolated_wallet.unwrap_or_default();
    let margin_type = match &p.margin_type {
        Some(wire::PositionMarginType::Isolated) => core::MarginType::Isolated,
        Some(wire::PositionMarginType::Cross) => core::MarginType::Cross,
        _ if !isolated.is_zero() || !isolated_wallet.is_zero() => core::MarginType::Isolated,
        _ => core::MarginType::Cross,
    };
    Ok(core::Position {
        symbol: symbol(&p.symbol, path)?,
        position_side: position_side_of(&p.position_side, path)?,
        quantity: p.position_amt,
        entry_price: p.entry_price,
        mark_price: p.mark_price,
        leverage: p.leverage.unwrap_or(0),
        margin_type,
        isolated_margin: isolated,
        liquidation_price: p.liquidation_price,
        updated_at: millis(p.update_time, path)?,
    })
}

/// A `positionRisk` row with the exchange's own notional and unrealised PnL.
pub(crate) fn position_report(p: &PositionRisk) -> Result<PositionReport, ExchangeError> {
    Ok(PositionReport {
        position: position(p)?,
        notional: p.notional,
        unrealized_pnl: p.un_realized_profit,
    })
}

/// A `userTrades` row; the client order id is not in it (see [`super::Client::client_order_ids`]).
pub(crate) fn fill(t: &UserTrade) -> Result<core::Fill, ExchangeError> {
    let path = ep::USER_TRADES.path;
    Ok(core::Fill {
        symbol: symbol(&t.symbol, path)?,
        trade_id: t.id,
        order_id: t.order_id,
        client_order_id: None,
        side: side_of(&t.side, path)?,
        position_side: position_side_of(&t.position_side, path)?,
        price: t.price,
        quantity: t.qty,
        realized_pnl: t.realized_pnl,
        commission: t.commission,
        commission_asset: t.commission_asset.clone(),
        maker: t.maker,
        time: millis(t.time, path)?,
    })
}

pub(crate) fn candle(k: &Kline) -> Result<core::Candle, ExchangeError> {
    Ok(core::Candle {
        open_time: millis(k.open_time, "/fapi/v1/klines")?,
        open: k.open,
        high: k.high,
        low: k.low,
        close: k.close,
        volume: k.volume,
    })
}

pub(crate) fn funding_rate(
    r: &crate::wire::market::FundingRate,
) -> Result<FundingRate, ExchangeError> {
    Ok(FundingRate {
        time: millis(r.funding_time, ep::FUNDING_RATE.path)?,
        rate: r.funding_rate,
    })
}

pub(crate) fn brackets(b: &LeverageBracket) -> Vec<core::MaintenanceBracket> {
    b.brackets
        .iter()
        .map(|x| core::MaintenanceBracket {
            notional_cap: x.notional_cap,
            max_leverage: x.initial_leverage,
            maint_margin_ratio: x.maint_margin_ratio,
            cum: x.cum,
        })
        .collect()
}

pub(crate) fn filters(s: &SymbolInfo) -> Result<core::SymbolFilters, ExchangeError> {
    let missing = |what: &str| {
        bad(
            ep::EXCHANGE_INFO.path,
            format!("{} has no {what}", s.symbol),
        )
    };
    let price = s.price_filter().ok_or_else(|| missing("PRICE_FILTER"))?;
    let lot = s.lot_size().ok_or_else(|| missing("LOT_SIZE"))?;
    let market = s.market_lot_size().unwrap_or(lot);
    let percent = s
        .filters
        .iter()
        .find_map(|f| match f {
            SymbolFilter::PercentPrice(p) => Some(p),
            _ => None,
        })
        .ok_or_else(|| missing("PERCENT_PRICE"))?;
    Ok(core::SymbolFilters {
        tick_size: price.tick_size,
        min_price: price.min_price,
        max_price: price.max_price,
        step_size: lot.step_size,
        min_qty: lot.min_qty,
        max_qty: lot.max_qty,
        market_step_size: market.step_size,
        market_min_qty: market.min_qty,
        market_max_qty: market.max_qty,
        min_notional: s.min_notional().ok_or_else(|| missing("MIN_NOTIONAL"))?,
        multiplier_up: percent.multiplier_up,
        multiplier_down: percent.multiplier_down,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_position_side_is_refused_not_read_as_both() {
        let read = position_side_of(
            &wire::PositionSide::Unknown("MIDDLE".into()),
            ep::POSITION_RISK.path,
        );
        assert!(
            matches!(read, Err(ExchangeError::Decode { .. })),
            "{read:?}"
        );
        assert_eq!(
            position_side_of(&wire::PositionSide::Short, ep::POSITION_RISK.path).ok(),
            Some(core::PositionSide::Short)
        );
    }

    #[test]
    fn an_unknown_side_is_refused() {
        let read = side_of(&wire::Side::Unknown("HOLD".into()), ep::USER_TRADES.path);
        assert!(
            matches!(read, Err(ExchangeError::Decode { .. })),
            "{read:?}"
        );
    }

    #[test]
    fn a_status_binance_adds_later_reads_as_terminal() {
        assert_eq!(
            order_state(&OrderStatus::Unknown("PENDING_NEW".into())),
            core::OrderState::Expired
        );
        assert_eq!(algo_state(&AlgoStatus::Triggering), core::OrderState::New);
        assert_eq!(algo_state(&AlgoStatus::Finished), core::OrderState::Filled);
    }
}
