//! Where each environment's servers are. Only base URLs differ between paper, demo and live.

/// A set of base URLs (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrls {
    /// USDⓈ-M REST, e.g. `https://fapi.binance.com`.
    pub rest: String,
    /// Spot REST, for `GET /sapi/v1/account/apiRestrictions`; `None` where it does not exist
    /// (demo), in which case the permission check is skipped and the UI says so.
    pub spot_rest: Option<String>,
    /// Streams root, e.g. `wss://fstream.binance.com`; routes `/market` and `/private` are
    /// appended (since 2026-04 klines and mark price are only on `/market`).
    pub streams: String,
}

/// The environments the app can talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// The built-in simulated exchange on loopback (paper mode).
    Paper {
        /// `http://127.0.0.1:<port>` of the simulator.
        rest: String,
        /// `ws://127.0.0.1:<port>` of the simulator.
        streams: String,
    },
    /// Binance's USDⓈ-M demo trading (the current "testnet").
    Demo,
    /// Binance mainnet: real money.
    Live,
    /// Any other server speaking the contract (tests).
    Custom(BaseUrls),
}

impl Environment {
    /// Returns the base URLs of the environment.
    pub fn urls(&self) -> BaseUrls {
        match self {
            Self::Paper { rest, streams } => BaseUrls {
                rest: rest.clone(),
                spot_rest: Some(rest.clone()),
                streams: streams.clone(),
            },
            Self::Demo => BaseUrls {
                rest: "https://demo-fapi.binance.com".into(),
                spot_rest: None,
                streams: "wss://fstream.binancefuture.com".into(),
            },
            Self::Live => BaseUrls {
                rest: "https://fapi.binance.com".into(),
                spot_rest: Some("https://api.binance.com".into()),
                streams: "wss://fstream.binance.com".into(),
            },
            Self::Custom(urls) => urls.clone(),
        }
    }
}
