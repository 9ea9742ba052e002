//! Positions, fills and income: what the exchange reports after orders execute.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{ClientOrderId, MarginType, PositionSide, Side, Symbol};

/// An open position on one symbol and position side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub symbol: Symbol,
    pub position_side: PositionSide,
    /// Signed size: positive long, negative short (one-way mode); hedge sides are signed too.
    pub quantity: Decimal,
    pub entry_price: Decimal,
    pub mark_price: Decimal,
    pub leverage: u32,
    pub margin_type: MarginType,
    /// Isolated margin held by the position; zero under cross margin.
    pub isolated_margin: Decimal,
    pub liquidation_price: Decimal,
    pub updated_at: DateTime<Utc>,
}

impl Position {
    /// Returns the unrealised PnL at the mark price: (mark − entry) × signed quantity.
    pub fn unrealized_pnl(&self) -> Decimal {
        (self.mark_price - self.entry_price) * self.quantity
    }

    /// Returns the absolute notional at the mark price.
    pub fn notional(&self) -> Decimal {
        (self.mark_price * self.quantity).abs()
    }

    /// Returns true when the position holds nothing.
    pub fn is_flat(&self) -> bool {
        self.quantity.is_zero()
    }
}

/// One execution of an order (a Binance "user trade").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    pub symbol: Symbol,
    /// The exchange's trade id, unique per symbol.
    pub trade_id: i64,
    pub order_id: i64,
    pub client_order_id: Option<ClientOrderId>,
    pub side: Side,
    pub position_side: PositionSide,
    pub price: Decimal,
    pub quantity: Decimal,
    /// Realised PnL of this fill as the exchange computed it (zero for opening fills).
    pub realized_pnl: Decimal,
    /// Commission, positive when paid.
    pub commission: Decimal,
    pub commission_asset: String,
    pub maker: bool,
    pub time: DateTime<Utc>,
}

/// The kinds of income Binance records that perpdesk accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IncomeKind {
    RealizedPnl,
    Commission,
    FundingFee,
    Transfer,
    InsuranceClear,
    /// A kind perpdesk does not interpret, kept with Binance's name.
    Other(String),
}

/// One row of the exchange's income history: the ground truth for the wallet balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Income {
    /// Binance's `tranId`; unique per account and the key for idempotent sync.
    pub tran_id: i64,
    pub symbol: Option<Symbol>,
    pub kind: IncomeKind,
    /// Signed amount: negative for commission paid and funding paid.
    pub amount: Decimal,
    pub asset: String,
    /// The trade this income derives from, when there is one.
    pub trade_id: Option<i64>,
    pub info: String,
    pub time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    #[test]
    fn unrealised_pnl_follows_sign() {
        let mut p = Position {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            position_side: PositionSide::Both,
            quantity: dec!(-0.5),
            entry_price: dec!(30000),
            mark_price: dec!(29000),
            leverage: 10,
            margin_type: MarginType::Isolated,
            isolated_margin: dec!(1500),
            liquidation_price: dec!(32700),
            updated_at: Utc.timestamp_millis_opt(0).unwrap(),
        };
        assert_eq!(p.unrealized_pnl(), dec!(500));
        assert_eq!(p.notional(), dec!(14500));
        p.quantity = dec!(0);
        assert!(p.is_flat());
    }
}
