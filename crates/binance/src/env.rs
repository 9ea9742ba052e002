//! Where each environment's servers are. Only base URLs differ between paper, demo and live.
//!
//! Exchange traffic carries the API key in a header and a signature in the query, so it
//! travels encrypted: `https`/`wss` everywhere except to this machine's loopback interface,
//! where the paper exchange (and a test stub) may speak plain `http`/`ws`.

use std::net::IpAddr;

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

/// Checks that `url` is a base URL exchange traffic may use: `https://` (or `wss://` when
/// `stream` is set) with a host, or the plain scheme to a loopback address (`127.0.0.0/8`,
/// `::1`, `localhost`). The reason for a refusal is returned in words.
///
/// # Errors
/// The refusal, naming the URL's scheme and host but never its query.
pub fn check_base_url(url: &str, stream: bool) -> Result<(), String> {
    let (secure, plain) = if stream {
        ("wss", "ws")
    } else {
        ("https", "http")
    };
    let parsed = url::Url::parse(url).map_err(|e| {
        format!("{url:?} is not a base URL ({e}); exchange URLs are {secure}:// addresses")
    })?;
    let host = parsed.host();
    let loopback = match &host {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(*ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(*ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let scheme = parsed.scheme();
    if host.is_some() && (scheme == secure || (scheme == plain && loopback)) {
        return Ok(());
    }
    let shown = format!(
        "{scheme}://{}",
        host.map(|h| h.to_string()).unwrap_or_default()
    );
    Err(format!(
        "{shown} is refused: exchange traffic must use {secure}:// (plain {plain}:// only to \
         this machine's loopback address)"
    ))
}
