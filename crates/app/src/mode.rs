use serde::{Deserialize, Serialize};

/// Where orders go.
///
/// Paper is the default: the built-in simulated exchange, no key needed. Testnet and Live
/// speak the same contract to Binance's demo and production servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The local simulated exchange replaying recorded market data.
    #[default]
    Paper,
    /// Binance's USDⓈ-M demo trading servers: real contract, play money.
    Testnet,
    /// The user's real Binance account.
    Live,
}

impl Mode {
    /// Reports whether orders in this mode move real money.
    pub fn is_real_money(self) -> bool {
        matches!(self, Self::Live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_paper_and_serializes_in_lowercase() {
        assert_eq!(Mode::default(), Mode::Paper);
        assert_eq!(
            serde_json::to_string(&Mode::Testnet).expect("serializable"),
            "\"testnet\""
        );
        assert!(Mode::Live.is_real_money());
        assert!(!Mode::Paper.is_real_money());
    }
}
