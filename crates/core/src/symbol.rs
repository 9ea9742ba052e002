//! Contract symbols.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not a symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    #[error("symbol is empty")]
    Empty,
    #[error("symbol {0:?} is longer than 32 characters")]
    TooLong(String),
    #[error("symbol {0:?} may only hold upper-case letters and digits")]
    BadCharacter(String),
}

/// A USDⓈ-M contract symbol such as `BTCUSDT`: upper-case ASCII letters and digits.
///
/// Binance also lists delivery contracts (`BTCUSDT_240329`); the underscore is accepted for them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(String);

impl Symbol {
    /// Parses a symbol, accepting lower case input (`btcusdt`) as users type it.
    ///
    /// # Errors
    /// Returns [`SymbolError`] for empty, over-long or non-alphanumeric input.
    pub fn new(s: &str) -> Result<Self, SymbolError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SymbolError::Empty);
        }
        if s.len() > 32 {
            return Err(SymbolError::TooLong(s.to_owned()));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(SymbolError::BadCharacter(s.to_owned()));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    /// Returns the symbol as Binance spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Symbol {
    type Error = SymbolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> Self {
        s.0
    }
}

impl std::str::FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_refuses_junk() {
        assert_eq!(Symbol::new("btcusdt").unwrap().as_str(), "BTCUSDT");
        assert_eq!(Symbol::new(""), Err(SymbolError::Empty));
        assert!(matches!(
            Symbol::new("BTC/USDT"),
            Err(SymbolError::BadCharacter(_))
        ));
        let json = serde_json::to_string(&Symbol::new("ETHUSDT").unwrap()).unwrap();
        assert_eq!(json, "\"ETHUSDT\"");
        assert!(serde_json::from_str::<Symbol>("\"a b\"").is_err());
    }
}
