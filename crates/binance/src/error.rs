//! Every way a call to Binance can fail, sorted by what the caller must do next.
//!
//! The split that matters for money: a [`ExchangeError::Rejected`] order was not placed and
//! must not be retried as is; a [`ExchangeError::UnknownExecution`] order may have been
//! placed, so the caller looks it up by its client id before sending anything again.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// What a Binance error code means for the app. Codes are "universal, messages can vary",
/// so decisions are taken on the code and the message is only shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// -1021, -5028: the request's timestamp is outside recvWindow (clock skew).
    InvalidTimestamp,
    /// -1022: the signature does not match (wrong secret).
    InvalidSignature,
    /// -1002, -2014, -2015: the key is invalid, IP-restricted or lacks the permission.
    Unauthorized,
    /// -1003: too many requests (also the 418 ban message).
    TooManyRequests,
    /// -1015: too many new orders.
    TooManyOrders,
    /// -2018, -2019: not enough balance or margin for the order.
    InsufficientMargin,
    /// -4164: notional below the symbol's minimum.
    MinNotional,
    /// -1111: price or quantity has more decimals than the symbol allows.
    Precision,
    /// -4061: positionSide does not match the account's position mode.
    PositionSideMismatch,
    /// -4120: a conditional type sent to the regular order endpoint; use the algo endpoint.
    AlgoOnlyType,
    /// -2013: no such order (the lookup after an unknown status relies on it).
    NoSuchOrder,
    /// -2011: cancel rejected, usually because the order is already closed.
    CancelRejected,
    /// -2021: a stop or take-profit would trigger at once.
    WouldImmediatelyTrigger,
    /// -2022: a reduce-only order would not reduce the position.
    ReduceOnlyRejected,
    /// -4046, -4059: nothing to change (margin type or position mode already set).
    NoChangeNeeded,
    /// -1121: unknown symbol.
    BadSymbol,
    /// -1006, -1007: the exchange does not know whether the request executed.
    ExecutionUnknown,
    /// -1125: the listenKey expired or never existed.
    InvalidListenKey,
    /// -1100…-1136 and other malformed-request codes.
    BadRequest,
    /// Any other code; the message says what.
    Other,
}

impl RejectKind {
    /// Maps a Binance error code to its meaning.
    pub fn from_code(code: i64) -> Self {
        match code {
            -1021 | -5028 => Self::InvalidTimestamp,
            -1022 => Self::InvalidSignature,
            -1002 | -2014 | -2015 => Self::Unauthorized,
            -1003 => Self::TooManyRequests,
            -1015 => Self::TooManyOrders,
            -2018 | -2019 => Self::InsufficientMargin,
            -4164 => Self::MinNotional,
            -1111 => Self::Precision,
            -4061 => Self::PositionSideMismatch,
            -4120 => Self::AlgoOnlyType,
            -2013 => Self::NoSuchOrder,
            -2011 => Self::CancelRejected,
            -2021 => Self::WouldImmediatelyTrigger,
            -2022 => Self::ReduceOnlyRejected,
            -4046 | -4059 => Self::NoChangeNeeded,
            -1121 => Self::BadSymbol,
            -1006 | -1007 => Self::ExecutionUnknown,
            -1125 => Self::InvalidListenKey,
            -1136..=-1100 => Self::BadRequest,
            _ => Self::Other,
        }
    }
}

/// A failed call to the exchange.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Binance answered with `{code, msg}`: the request was refused and not executed.
    #[error("Binance refused {endpoint} ({code}): {msg}")]
    Rejected {
        /// The endpoint path, e.g. `/fapi/v1/order`.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// Binance's code, verbatim.
        code: i64,
        /// Binance's message, verbatim.
        msg: String,
    },
    /// 429: a rate limit was hit even after backing off; nothing was executed.
    #[error("rate limited on {endpoint}; retry after {retry_after:?}")]
    RateLimited {
        /// The endpoint path.
        endpoint: &'static str,
        /// How long to wait, from `Retry-After` or the rate-limit window.
        retry_after: Duration,
    },
    /// 418: the IP is banned for ignoring 429s. Nothing is sent until the ban ends.
    #[error("IP banned by Binance until {}", until.map_or_else(|| "an unknown time".to_owned(), |t| t.to_rfc3339()))]
    IpBanned {
        /// When the ban ends, from Binance's message, if it said.
        until: Option<DateTime<Utc>>,
    },
    /// The request may or may not have executed (5xx or timeout after sending an order,
    /// -1006, -1007). Look the order up by its client id before doing anything else.
    #[error("execution status unknown for {endpoint}: {detail}")]
    UnknownExecution {
        /// The endpoint path.
        endpoint: &'static str,
        /// What happened.
        detail: String,
    },
    /// A server-side failure on a request that changes nothing (market data, queries):
    /// safe to retry later.
    #[error("Binance unavailable for {endpoint} (HTTP {status}): {detail}")]
    Unavailable {
        /// The endpoint path.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The body or reason.
        detail: String,
    },
    /// 403: Binance's web application firewall refused the request.
    #[error("request to {endpoint} blocked by Binance's firewall (HTTP 403)")]
    Firewall {
        /// The endpoint path.
        endpoint: &'static str,
    },
    /// The request never reached Binance (DNS, connect, TLS): safe to retry.
    #[error("could not reach Binance for {endpoint}: {detail}")]
    Transport {
        /// The endpoint path.
        endpoint: &'static str,
        /// The transport's error.
        detail: String,
    },
    /// The response arrived but is not what the contract says (HTML page, bad JSON,
    /// missing field). The first bytes of the body are kept for the log.
    #[error(
        "unexpected response from {endpoint} (HTTP {status}): {detail}; body starts {snippet:?}"
    )]
    Decode {
        /// The endpoint path.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The parser's error.
        detail: String,
        /// Up to 200 characters of the body.
        snippet: String,
    },
    /// The call needs an API key and none is configured.
    #[error("{endpoint} needs an API key")]
    NoCredentials {
        /// The endpoint path.
        endpoint: &'static str,
    },
}

impl ExchangeError {
    /// Returns Binance's error meaning when Binance answered with a code.
    pub fn reject_kind(&self) -> Option<RejectKind> {
        match self {
            Self::Rejected { code, .. } => Some(RejectKind::from_code(*code)),
            _ => None,
        }
    }

    /// Reports whether retrying the same request later may succeed without any other
    /// change. Unknown executions are not transient: they need a lookup first.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Unavailable { .. } | Self::Transport { .. }
        )
    }

    pub(crate) fn decode(
        endpoint: &'static str,
        status: u16,
        detail: impl ToString,
        body: &[u8],
    ) -> Self {
        Self::Decode {
            endpoint,
            status,
            detail: detail.to_string(),
            snippet: body_snippet(body, 200),
        }
    }

    /// The same error with every signed query (`timestamp`, `signature`) cut out of its text.
    /// The transport applies it to every error it returns: a server, a proxy's error page or
    /// the HTTP stack may repeat the request's URL, and errors end up in the UI, the log and
    /// stored connection reports.
    #[must_use]
    pub fn without_signed_query(self) -> Self {
        let clean = |text: String| match strip_signed_query(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(cleaned) => cleaned,
        };
        match self {
            Self::Rejected {
                endpoint,
                status,
                code,
                msg,
            } => Self::Rejected {
                endpoint,
                status,
                code,
                msg: clean(msg),
            },
            Self::UnknownExecution { endpoint, detail } => Self::UnknownExecution {
                endpoint,
                detail: clean(detail),
            },
            Self::Unavailable {
                endpoint,
                status,
                detail,
            } => Self::Unavailable {
                endpoint,
                status,
                detail: clean(detail),
            },
            Self::Transport { endpoint, detail } => Self::Transport {
                endpoint,
                detail: clean(detail),
            },
            Self::Decode {
                endpoint,
                status,
                detail,
                snippet,
            } => Self::Decode {
                endpoint,
                status,
                detail: clean(detail),
                snippet: clean(snippet),
            },
            other @ (Self::RateLimited { .. }
            | Self::IpBanned { .. }
            | Self::Firewall { .. }
            | Self::NoCredentials { .. }) => other,
        }
    }
}

/// The start of a reply body as text for an error: at most `chars` characters, with signed
/// queries cut out first (cutting after truncating could leave half a marker and its value).
pub(crate) fn body_snippet(body: &[u8], chars: usize) -> String {
    // Four bytes per character at most, so this prefix holds the first `chars` characters.
    let text = String::from_utf8_lossy(&body[..body.len().min(chars.saturating_mul(4))]);
    strip_signed_query(&text).chars().take(chars).collect()
}

/// Parameters whose presence marks a signed query (also percent-encoded, as a page that
/// re-encodes the URL shows them).
const SIGNED_MARKERS: [&str; 4] = ["signature=", "timestamp=", "signature%3d", "timestamp%3d"];

/// Cuts every signed query out of `text`. Text is split into words at whitespace, quotes,
/// angle brackets and parentheses; a word holding `signature=` or `timestamp=` loses
/// everything from its `?` on (a URL keeps its scheme, host and path), or the whole word
/// when it has no `?` (a bare query string).
pub(crate) fn strip_signed_query(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !SIGNED_MARKERS.iter().any(|m| lower.contains(m)) {
        return Cow::Borrowed(text);
    }
    let is_break = |c: char| c.is_whitespace() || "\"'<>()[]{}`,;".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word_start = 0;
    // ASCII lowercasing keeps byte offsets, so `lower`'s indices are `text`'s.
    let flush = |out: &mut String, start: usize, end: usize| {
        let word = &text[start..end];
        let word_lower = &lower[start..end];
        if SIGNED_MARKERS.iter().any(|m| word_lower.contains(m)) {
            match word.find('?') {
                Some(q) => {
                    out.push_str(&word[..q]);
                    out.push_str("?[signed query removed]");
                }
                None => out.push_str("[signed query removed]"),
            }
        } else {
            out.push_str(word);
        }
    };
    for (i, c) in text.char_indices() {
        if is_break(c) {
            flush(&mut out, word_start, i);
            out.push(c);
            word_start = i + c.len_utf8();
        }
    }
    flush(&mut out, word_start, text.len());
    Cow::Owned(out)
}

/// Reads the end of an IP ban from Binance's -1003 message ("IP banned until 1700000000000").
pub(crate) fn ban_end(msg: &str) -> Option<DateTime<Utc>> {
    let rest = &msg[msg.find("until")? + "until".len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    DateTime::from_timestamp_millis(digits.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_codes_the_app_branches_on() {
        assert_eq!(RejectKind::from_code(-2019), RejectKind::InsufficientMargin);
        assert_eq!(RejectKind::from_code(-4164), RejectKind::MinNotional);
        assert_eq!(RejectKind::from_code(-1111), RejectKind::Precision);
        assert_eq!(
            RejectKind::from_code(-4061),
            RejectKind::PositionSideMismatch
        );
        assert_eq!(RejectKind::from_code(-4120), RejectKind::AlgoOnlyType);
        assert_eq!(RejectKind::from_code(-1021), RejectKind::InvalidTimestamp);
        assert_eq!(RejectKind::from_code(-1102), RejectKind::BadRequest);
        assert_eq!(RejectKind::from_code(-9999), RejectKind::Other);
    }

    #[test]
    fn reads_the_ban_end_from_the_message() {
        let msg = "Way too many requests; IP banned until 1700000000000. Please use the websocket for live updates to avoid bans.";
        assert_eq!(
            ban_end(msg).map(|t| t.timestamp_millis()),
            Some(1_700_000_000_000)
        );
        assert_eq!(ban_end("Too many requests"), None);
    }

    #[test]
    fn signed_queries_are_cut_from_error_text() {
        let url = "http://127.0.0.1:9/fapi/v1/order?symbol=BTCUSDT&recvWindow=5000&timestamp=1700000000000&signature=ab12";
        assert_eq!(
            strip_signed_query(&format!("error sending request for url ({url})")),
            "error sending request for url (http://127.0.0.1:9/fapi/v1/order?[signed query removed])"
        );
        assert_eq!(
            strip_signed_query("<p>bad: symbol=X&TIMESTAMP=1&Signature=f</p> ok"),
            "<p>bad: [signed query removed]</p> ok"
        );
        assert_eq!(
            strip_signed_query("{\"msg\":\"x%3Fa%3D1%26timestamp%3D5\"}"),
            "{\"msg\":\"[signed query removed]\"}"
        );
        let plain = "Timestamp for this request is outside of the recvWindow.";
        assert!(matches!(strip_signed_query(plain), Cow::Borrowed(_)));
        assert_eq!(
            strip_signed_query("ключ timestamp=1 é"),
            "ключ [signed query removed] é"
        );
    }

    #[test]
    fn a_snippet_is_cleaned_before_it_is_cut() {
        let mut body = "x".repeat(190).into_bytes();
        body.extend_from_slice(b" /p?timestamp=1&signature=abcdef");
        let snippet = body_snippet(&body, 200);
        assert!(!snippet.contains("timest"), "{snippet}");
        assert!(snippet.ends_with("/p?[signe"), "{snippet}");
    }

    #[test]
    fn only_safe_failures_are_transient() {
        let unknown = ExchangeError::UnknownExecution {
            endpoint: "/fapi/v1/order",
            detail: "503".into(),
        };
        assert!(!unknown.is_transient());
        let limited = ExchangeError::RateLimited {
            endpoint: "/fapi/v1/order",
            retry_after: Duration::from_secs(1),
        };
        assert!(limited.is_transient());
    }
}
