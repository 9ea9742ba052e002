//! Planning a click: from a ticket and the market to the exact orders that would go out.
//!
//! [`plan`] is pure: the same ticket, market and ticket id always give the same plan. It
//! validates the ticket, sizes the entry with [`crate::preview`], rounds the exit prices to the
//! tick and builds the [`Bracket`] (entry, stop-loss, take-profit, with the leverage and margin
//! type they need) under deterministic client ids. It does not judge risk: the preview shows
//! [`RiskLimits::check`](crate::RiskLimits::check)'s verdict on [`Plan::intent`], and only
//! [`RiskLimits::approve`](crate::RiskLimits::approve) turns a plan into the approved bracket
//! that can be sent.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::journal::{Leg, client_order_id};
use crate::preview::{PreviewInput, preview};
use crate::{
    ClientOrderIdError, MaintenanceBracket, MarginType, OrderIntent, OrderKind, OrderRequest,
    PositionSide, Preview, Side, Sizing, Symbol, SymbolFilters, TimeInForce, WorkingType,
};

/// Binance's default USDⓈ-M taker commission (0.05%); the preview assumes every leg takes.
pub const TAKER_FEE_RATE: Decimal = Decimal::from_parts(5, 0, 0, false, 4);

/// A symbol's trading rules: its filters and its maintenance-margin brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolRules {
    pub filters: SymbolFilters,
    /// In ascending notional order; empty when the exchange lists none.
    pub brackets: Vec<MaintenanceBracket>,
}

/// How the entry is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryType {
    #[default]
    Market,
    Limit,
}

/// A trade as the user (or a signal) asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ticket {
    pub symbol: String,
    pub side: Side,
    pub sizing: Sizing,
    pub leverage: u32,
    pub margin_type: MarginType,
    #[serde(default)]
    pub order_type: EntryType,
    #[serde(default)]
    pub price: Option<Decimal>,
    #[serde(default)]
    pub take_profit: Option<Decimal>,
    #[serde(default)]
    pub stop_loss: Option<Decimal>,
    /// The signal the ticket came from; `None` for a manual ticket.
    #[serde(default)]
    pub signal_id: Option<i64>,
}

/// The market as one click sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    /// The symbol's mark price: a market entry's expected price.
    pub mark: Decimal,
    /// Available balance in USDT.
    pub available: Decimal,
    /// Hedge mode (`LONG`/`SHORT` position sides) rather than one-way (`BOTH`).
    pub hedge_mode: bool,
    pub rules: SymbolRules,
}

/// The orders one click sends, and the leverage and margin type they are sent under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bracket {
    pub entry: OrderRequest,
    /// A `closePosition` stop-market on the mark price.
    pub stop_loss: Option<OrderRequest>,
    /// A `closePosition` take-profit-market on the mark price.
    pub take_profit: Option<OrderRequest>,
    pub leverage: u32,
    pub margin_type: MarginType,
}

impl Bracket {
    /// The entry, then the stop-loss, then the take-profit: the order they are journalled in.
    pub fn legs(&self) -> Vec<&OrderRequest> {
        std::iter::once(&self.entry)
            .chain(self.stop_loss.iter())
            .chain(self.take_profit.iter())
            .collect()
    }

    /// The trigger prices of the stop-loss and the take-profit.
    pub fn triggers(&self) -> (Option<Decimal>, Option<Decimal>) {
        let trigger = |leg: &Option<OrderRequest>| {
            leg.as_ref().and_then(|o| match o.kind {
                OrderKind::StopMarket { stop_price, .. }
                | OrderKind::TakeProfitMarket { stop_price, .. } => Some(stop_price),
                _ => None,
            })
        };
        (trigger(&self.stop_loss), trigger(&self.take_profit))
    }
}

/// A ticket sized and built, not yet judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// What the user sees before the click.
    pub preview: Preview,
    /// The orders that would go out.
    pub bracket: Bracket,
}

impl Plan {
    /// The bracket as the risk rules read it. Made from the bracket itself, so the summary the
    /// rules judge and the orders that go out cannot disagree.
    pub fn intent(&self) -> OrderIntent {
        let (stop_loss, take_profit) = self.bracket.triggers();
        let entry = &self.bracket.entry;
        OrderIntent {
            symbol: entry.symbol.clone(),
            side: entry.side,
            quantity: entry.quantity.unwrap_or(Decimal::ZERO),
            price: self.preview.entry_price,
            leverage: self.bracket.leverage,
            stop_loss,
            take_profit,
            reduce_only: false,
        }
    }
}

/// Why a ticket cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A field of the ticket is unusable; the reason is for the user.
    #[error("{field}: {reason}")]
    Invalid {
        /// The ticket field, as the UI names it.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The ticket id cannot make client order ids (a caller's mistake, not the user's).
    #[error("client order id: {0}")]
    ClientOrderId(#[from] ClientOrderIdError),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> PlanError {
    PlanError::Invalid {
        field,
        reason: reason.into(),
    }
}

fn positive(field: &'static str, v: Decimal) -> Result<Decimal, PlanError> {
    if v <= Decimal::ZERO {
        return Err(invalid(field, format!("must be positive, got {v}")));
    }
    Ok(v)
}

/// The position side an order of `side` uses: `BOTH` in one-way mode, else its direction.
pub fn position_side_for(side: Side, hedge_mode: bool) -> PositionSide {
    match (hedge_mode, side) {
        (false, _) => PositionSide::Both,
        (true, Side::Buy) => PositionSide::Long,
        (true, Side::Sell) => PositionSide::Short,
    }
}

/// Sizes `ticket` against `market` and builds its bracket under the client ids of
/// `ticket_id`.
///
/// # Errors
/// [`PlanError::Invalid`] naming the ticket field that cannot be used (symbol, leverage,
/// price, stop-loss, take-profit, or the whole ticket when it cannot be sized within the
/// filters and the balance); [`PlanError::ClientOrderId`] for a ticket id that cannot make
/// client order ids.
pub fn plan(ticket: &Ticket, market: &Market, ticket_id: &str) -> Result<Plan, PlanError> {
    let symbol = Symbol::new(ticket.symbol.trim()).map_err(|e| invalid("symbol", e.to_string()))?;
    if ticket.leverage == 0 || ticket.leverage > 125 {
        return Err(invalid(
            "leverage",
            format!("must be between 1 and 125, got {}", ticket.leverage),
        ));
    }
    let entry_price = match (ticket.order_type, ticket.price) {
        (EntryType::Market, _) => market.mark,
        (EntryType::Limit, Some(p)) => positive("price", p)?,
        (EntryType::Limit, None) => return Err(invalid("price", "a limit order needs a price")),
    };
    for (field, v) in [
        ("take_profit", ticket.take_profit),
        ("stop_loss", ticket.stop_loss),
    ] {
        if let Some(v) = v {
            positive(field, v)?;
        }
    }
    let filters = &market.rules.filters;
    let round = |p: Option<Decimal>| p.map(|p| filters.round_price(p));
    let (take_profit, stop_loss) = (round(ticket.take_profit), round(ticket.stop_loss));
    let market_order = ticket.order_type == EntryType::Market;
    if !market_order {
        filters
            .check_price(entry_price)
            .map_err(|e| invalid("price", e.to_string()))?;
    }
    let preview = preview(&PreviewInput {
        side: ticket.side,
        entry_price,
        sizing: ticket.sizing,
        leverage: ticket.leverage,
        margin_type: ticket.margin_type,
        stop_loss,
        take_profit,
        balance: market.available,
        taker_fee_rate: TAKER_FEE_RATE,
        filters: filters.clone(),
        brackets: market.rules.brackets.clone(),
        market_order,
    })
    .map_err(|e| invalid("ticket", e.to_string()))?;
    let position_side = position_side_for(ticket.side, market.hedge_mode);
    let entry = OrderRequest {
        symbol: symbol.clone(),
        side: ticket.side,
        position_side,
        kind: match ticket.order_type {
            EntryType::Market => OrderKind::Market,
            EntryType::Limit => OrderKind::Limit {
                price: entry_price,
                time_in_force: TimeInForce::Gtc,
            },
        },
        quantity: Some(preview.quantity),
        reduce_only: false,
        close_position: false,
        client_order_id: client_order_id(ticket_id, Leg::Entry, 0)?,
    };
    let exit = |kind: OrderKind, leg| -> Result<OrderRequest, PlanError> {
        Ok(OrderRequest {
            symbol: symbol.clone(),
            side: ticket.side.opposite(),
            position_side,
            kind,
            quantity: None,
            reduce_only: false,
            close_position: true,
            client_order_id: client_order_id(ticket_id, leg, 0)?,
        })
    };
    // Stops trigger on the mark price, as Binance recommends: a wick on the last price of a
    // thin book should not close a position the mark never reached.
    let stop_loss = stop_loss
        .map(|p| {
            exit(
                OrderKind::StopMarket {
                    stop_price: p,
                    working_type: WorkingType::MarkPrice,
                },
                Leg::StopLoss,
            )
        })
        .transpose()?;
    let take_profit = take_profit
        .map(|p| {
            exit(
                OrderKind::TakeProfitMarket {
                    stop_price: p,
                    working_type: WorkingType::MarkPrice,
                },
                Leg::TakeProfit,
            )
        })
        .transpose()?;
    Ok(Plan {
        preview,
        bracket: Bracket {
            entry,
            stop_loss,
            take_profit,
            leverage: ticket.leverage,
            margin_type: ticket.margin_type,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::parse_client_order_id;
    use crate::{RiskContext, RiskLimits};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn market(mark: Decimal, hedge_mode: bool) -> Market {
        Market {
            mark,
            available: dec!(10000),
            hedge_mode,
            rules: SymbolRules {
                filters: crate::preview::fixtures::btcusdt_filters(),
                brackets: crate::preview::fixtures::btcusdt_brackets(),
            },
        }
    }

    fn ticket(side: Side, sizing: Sizing, stop: Option<Decimal>, tp: Option<Decimal>) -> Ticket {
        Ticket {
            symbol: "BTCUSDT".into(),
            side,
            sizing,
            leverage: 5,
            margin_type: MarginType::Isolated,
            order_type: EntryType::Market,
            price: None,
            take_profit: tp,
            stop_loss: stop,
            signal_id: None,
        }
    }

    #[test]
    fn a_market_ticket_becomes_an_entry_and_two_closing_exits() {
        let t = ticket(
            Side::Buy,
            Sizing::FixedNotional { usdt: dec!(1000) },
            Some(dec!(29400.04)),
            Some(dec!(30600)),
        );
        let p = plan(&t, &market(dec!(30000), false), "m1abc").expect("plans");
        let b = &p.bracket;
        assert_eq!(b.entry.kind, OrderKind::Market);
        assert_eq!(b.entry.quantity, Some(dec!(0.033)));
        assert_eq!(b.entry.client_order_id.as_str(), "pd-m1abc-en0");
        let stop = b.stop_loss.as_ref().expect("stop");
        assert_eq!(
            stop.kind,
            OrderKind::StopMarket {
                stop_price: dec!(29400.0),
                working_type: WorkingType::MarkPrice
            }
        );
        assert!(stop.close_position && stop.quantity.is_none() && stop.side == Side::Sell);
        assert_eq!(b.legs().len(), 3);
        assert_eq!(p.intent().stop_loss, Some(dec!(29400.0)));
        assert_eq!(p.intent().price, dec!(30000));
    }

    #[test]
    fn refuses_unusable_tickets_naming_the_field() {
        let m = market(dec!(30000), false);
        let ok = ticket(
            Side::Buy,
            Sizing::FixedNotional { usdt: dec!(500) },
            None,
            None,
        );
        let field = |t: &Ticket| match plan(t, &m, "m1") {
            Err(PlanError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(&Ticket {
                leverage: 0,
                ..ok.clone()
            }),
            "leverage"
        );
        assert_eq!(
            field(&Ticket {
                symbol: "BTC USDT".into(),
                ..ok.clone()
            }),
            "symbol"
        );
        assert_eq!(
            field(&Ticket {
                order_type: EntryType::Limit,
                ..ok.clone()
            }),
            "price"
        );
        assert_eq!(
            field(&Ticket {
                stop_loss: Some(dec!(-1)),
                ..ok.clone()
            }),
            "stop_loss"
        );
        assert_eq!(
            field(&Ticket {
                sizing: Sizing::FixedNotional { usdt: dec!(50) },
                ..ok.clone()
            }),
            "ticket"
        );
        assert!(matches!(
            plan(&ok, &m, "not-alphanumeric"),
            Err(PlanError::ClientOrderId(_))
        ));
    }

    fn any_ticket() -> impl Strategy<Value = (Ticket, Decimal, bool)> {
        (
            any::<bool>(),
            0u8..3,
            1u32..=1_000,
            1u32..=20,
            prop::option::of(1u32..=900),
            prop::option::of(1u32..=900),
            20_000u32..=60_000,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(buy, sizing, size, leverage, stop_bps, tp_bps, mark, hedge, limit)| {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let mark = Decimal::from(mark);
                    let away = |bps: u32, sign: Decimal| {
                        mark + sign * mark * Decimal::from(bps) / dec!(10000)
                    };
                    let sizing = match sizing {
                        0 => Sizing::FixedNotional {
                            usdt: Decimal::from(size) * dec!(10),
                        },
                        1 => Sizing::Quantity {
                            quantity: Decimal::new(i64::from(size), 3),
                        },
                        _ => Sizing::RiskPercent {
                            percent: Decimal::new(i64::from(size), 2),
                        },
                    };
                    let ticket = Ticket {
                        symbol: "BTCUSDT".into(),
                        side,
                        sizing,
                        leverage,
                        margin_type: MarginType::Isolated,
                        order_type: if limit {
                            EntryType::Limit
                        } else {
                            EntryType::Market
                        },
                        price: limit.then(|| away(10, -side.sign())),
                        stop_loss: stop_bps.map(|b| away(b, -side.sign())),
                        take_profit: tp_bps.map(|b| away(b, side.sign())),
                        signal_id: None,
                    };
                    (ticket, mark, hedge)
                },
            )
    }

    fn on_grid(v: Decimal, step: Decimal) -> bool {
        (v / step).fract().is_zero()
    }

    proptest! {
        /// Whatever the ticket, a plan's orders fit the filters, its exits close exactly the
        /// position its entry opens, its client ids name its ticket and legs, and the intent
        /// the risk rules judge is the bracket that goes out.
        #[test]
        fn a_plan_is_what_goes_out((t, mark, hedge) in any_ticket()) {
            let m = market(mark, hedge);
            let Ok(p) = plan(&t, &m, "s1x9") else { return Ok(()) };
            let f = &m.rules.filters;
            let b = &p.bracket;
            let qty = b.entry.quantity.expect("an entry has a quantity");
            let market_order = t.order_type == EntryType::Market;
            let step = if market_order { f.market_step_size } else { f.step_size };
            prop_assert!(on_grid(qty, step));
            prop_assert!(f.check_qty(qty, market_order).is_ok());
            prop_assert!(f.check_notional(p.preview.entry_price, qty).is_ok());
            prop_assert_eq!(b.entry.side, t.side);
            prop_assert_eq!(b.entry.position_side, position_side_for(t.side, hedge));
            prop_assert!(!b.entry.reduce_only && !b.entry.close_position);
            for (exit, leg, asked) in [
                (&b.stop_loss, Leg::StopLoss, t.stop_loss),
                (&b.take_profit, Leg::TakeProfit, t.take_profit),
            ] {
                prop_assert_eq!(exit.is_some(), asked.is_some());
                let Some(x) = exit else { continue };
                prop_assert_eq!(x.side, t.side.opposite());
                prop_assert_eq!(x.position_side, b.entry.position_side);
                prop_assert!(x.close_position && x.quantity.is_none());
                let trigger = match x.kind {
                    OrderKind::StopMarket { stop_price, working_type }
                    | OrderKind::TakeProfitMarket { stop_price, working_type } => {
                        prop_assert_eq!(working_type, WorkingType::MarkPrice);
                        stop_price
                    }
                    _ => return Err(TestCaseError::fail("an exit is conditional")),
                };
                prop_assert!(on_grid(trigger, f.tick_size));
                prop_assert_eq!(parse_client_order_id(&x.client_order_id), Some(("s1x9".to_owned(), leg, 0)));
            }
            prop_assert_eq!(parse_client_order_id(&b.entry.client_order_id), Some(("s1x9".to_owned(), Leg::Entry, 0)));
            let intent = p.intent();
            prop_assert_eq!(intent.quantity, qty);
            prop_assert_eq!(intent.leverage, t.leverage);
            prop_assert_eq!(intent.stop_loss, p.preview.stop_loss);
            prop_assert_eq!(intent.take_profit, p.preview.take_profit);
            // Planning is a function of its inputs.
            prop_assert_eq!(plan(&t, &m, "s1x9").ok(), Some(p));
        }

        /// The approval wraps exactly the planned bracket, and only when the rules pass the
        /// plan's intent: the preview's verdict and the click's approval cannot differ.
        #[test]
        fn approval_is_the_verdict_on_the_same_bracket(
            (t, mark, hedge) in any_ticket(),
            trades_today in 0u32..12,
            open in 0u32..2_000,
        ) {
            let m = market(mark, hedge);
            let Ok(p) = plan(&t, &m, "m7") else { return Ok(()) };
            let limits = RiskLimits::default();
            let mut ctx = RiskContext { trades_today, ..RiskContext::default() };
            ctx.open_notional.insert(Symbol::new("ETHUSDT").expect("symbol"), Decimal::from(open));
            let verdict = limits.check(&ctx, &p.intent());
            let planned = p.bracket.clone();
            match limits.approve(&ctx, p) {
                Ok(approved) => {
                    prop_assert!(verdict.is_ok());
                    prop_assert_eq!(approved.get(), &planned);
                }
                Err(refusal) => prop_assert_eq!(verdict, Err(refusal)),
            }
        }
    }
}
