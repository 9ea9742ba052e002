//! Orders as the domain sees them, independent of any exchange's wire format.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Symbol;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// Returns the other side: the side that closes a position opened with this one.
    pub fn opposite(self) -> Self {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Returns +1 for buy and -1 for sell, the sign of the position change.
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

/// `BOTH` in one-way mode; `LONG` or `SHORT` in hedge mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PositionSide {
    Both,
    Long,
    Short,
}

/// Isolated margin ring-fences each position; cross margin shares the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MarginType {
    Isolated,
    Cross,
}

/// How long a limit order rests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Post only ("good till crossing").
    Gtx,
}

/// Which price triggers a conditional order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkingType {
    MarkPrice,
    ContractPrice,
}

/// What kind of order, with the prices each kind needs.
///
/// Conditional kinds (stops, take-profits) go to Binance's algo-order endpoint since
/// 2025-12-09; the domain does not care which endpoint carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderKind {
    Market,
    Limit {
        price: Decimal,
        time_in_force: TimeInForce,
    },
    StopMarket {
        stop_price: Decimal,
        working_type: WorkingType,
    },
    TakeProfitMarket {
        stop_price: Decimal,
        working_type: WorkingType,
    },
}

impl OrderKind {
    /// Returns true for kinds that wait for a trigger price.
    pub fn is_conditional(&self) -> bool {
        matches!(
            self,
            OrderKind::StopMarket { .. } | OrderKind::TakeProfitMarket { .. }
        )
    }
}

/// Why a string cannot be a client order id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientOrderIdError {
    #[error("client order id is empty")]
    Empty,
    #[error("client order id {0:?} is longer than 36 characters")]
    TooLong(String),
    #[error("client order id {0:?} may only hold letters, digits and . : / _ -")]
    BadCharacter(String),
}

/// A caller-chosen order id (`newClientOrderId` / `clientAlgoId`), the key that makes a
/// retried order idempotent. Binance's rule: `^[.A-Z:/a-z0-9_-]{1,36}$`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// Validates an id against Binance's rule.
    ///
    /// # Errors
    /// Returns [`ClientOrderIdError`] when the id is empty, too long or has a forbidden character.
    pub fn new(s: &str) -> Result<Self, ClientOrderIdError> {
        if s.is_empty() {
            return Err(ClientOrderIdError::Empty);
        }
        if s.len() > 36 {
            return Err(ClientOrderIdError::TooLong(s.to_owned()));
        }
        let ok = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '_' | '-'));
        if !ok {
            return Err(ClientOrderIdError::BadCharacter(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    /// Returns the id as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientOrderId {
    type Error = ClientOrderIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<ClientOrderId> for String {
    fn from(id: ClientOrderId) -> Self {
        id.0
    }
}

/// An order the app wants placed: what, how much, and under which id.
///
/// `quantity` is `None` only for `close_position` conditional orders, which close whatever
/// the position holds when they trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub symbol: Symbol,
    pub side: Side,
    pub position_side: PositionSide,
    pub kind: OrderKind,
    pub quantity: Option<Decimal>,
    pub reduce_only: bool,
    pub close_position: bool,
    pub client_order_id: ClientOrderId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_order_id_follows_binance_rule() {
        assert!(ClientOrderId::new("pd-1f3a.entry:BTCUSDT/01_x").is_ok());
        assert_eq!(ClientOrderId::new(""), Err(ClientOrderIdError::Empty));
        assert!(matches!(
            ClientOrderId::new(&"a".repeat(37)),
            Err(ClientOrderIdError::TooLong(_))
        ));
        assert!(matches!(
            ClientOrderId::new("has space"),
            Err(ClientOrderIdError::BadCharacter(_))
        ));
        assert!(ClientOrderId::new(&"a".repeat(36)).is_ok());
    }

    #[test]
    fn opposite_side_closes() {
        assert_eq!(Side::Buy.opposite(), Side::Sell);
        assert_eq!(Side::Sell.sign(), Decimal::NEGATIVE_ONE);
    }

    #[test]
    fn kinds_serialise_with_exchange_words() {
        let k = OrderKind::StopMarket {
            stop_price: Decimal::new(25_000, 0),
            working_type: WorkingType::MarkPrice,
        };
        let json = serde_json::to_value(&k).unwrap();
        assert_eq!(json["type"], "STOP_MARKET");
        assert_eq!(json["working_type"], "MARK_PRICE");
        assert!(k.is_conditional());
    }
}
