//! The `/public`-class book streams over the synthetic order book (`MarketData::depth`):
//! `<symbol>@bookTicker`, partial depth `<symbol>@depth<5|10|20>[@500ms|@100ms]` and diff
//! depth `<symbol>@depth[@500ms|@100ms]`.
//!
//! Update ids are the exchange's clock in milliseconds, the same number `GET /fapi/v1/depth`
//! answers as `lastUpdateId` with the book at that moment. A diff event covers `U..=u` with
//! `pu` the previous event's `u` and `U = pu + 1`. As on Binance, it must hold whichever moment
//! of that window a client's snapshot is from, so it sets every level the window may have
//! touched: each level of the book at `u`, and quantity 0 at every other price a book in the
//! window quoted (the synthetic book's levels are indexed from the touch, so a one-tick move
//! changes them all anyway). A client that applies the events after its REST snapshot, as
//! Binance's "manage a local order book" steps say, then holds exactly `depth(u)`.
//!
//! Speeds: pushes happen on the connection's 250 ms tick, so `@100ms` pushes every 250 ms;
//! `@500ms` every other tick.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use rust_decimal::prelude::ToPrimitive;

use crate::market::{Level, MarketData};
use crate::replies::dec;

/// Levels a diff stream follows per side: the deepest REST snapshot (`limit=1000`).
pub const DIFF_LEVELS: usize = 1000;

/// One book stream of a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookStream {
    /// `<symbol>@bookTicker`: the best bid and ask.
    Ticker,
    /// `<symbol>@depth<levels>`: the top `levels` of each side, whole.
    Partial { levels: usize, every_ms: u64 },
    /// `<symbol>@depth`: what changed since the previous event.
    Diff { every_ms: u64 },
}

impl BookStream {
    /// Resolves the part of a stream name after `@`, or `None` when it is not a book stream.
    pub fn parse(kind: &str) -> Option<Self> {
        if kind == "bookTicker" {
            return Some(BookStream::Ticker);
        }
        let rest = kind.strip_prefix("depth")?;
        let (levels, speed) = match rest.split_once('@') {
            Some((levels, speed)) => (levels, Some(speed)),
            None => (rest, None),
        };
        let every_ms = match speed {
            None => 250,
            Some("500ms") => 500,
            Some("100ms") => 250,
            Some(_) => return None,
        };
        match levels {
            "" => Some(BookStream::Diff { every_ms }),
            "5" | "10" | "20" => Some(BookStream::Partial {
                levels: levels.parse().ok()?,
                every_ms,
            }),
            _ => None,
        }
    }

    /// How often it pushes, in milliseconds of the 250 ms tick.
    pub fn every_ms(&self) -> u64 {
        match self {
            BookStream::Ticker => 250,
            BookStream::Partial { every_ms, .. } | BookStream::Diff { every_ms } => *every_ms,
        }
    }
}

/// What a diff stream remembers between its events: the last `u`.
#[derive(Debug, Clone)]
pub struct DiffState {
    last_u: i64,
}

/// How far before a subscription its first event reaches back. Binance pushes a symbol's diffs
/// on one schedule for every subscriber, so a new subscriber's first event starts at the
/// previous push, before it subscribed; a client that sends SUBSCRIBE and asks for the REST
/// snapshot at once (ccxt does) then finds the snapshot inside the first event's `U..u`
/// whichever of the two the server handles first.
pub const FIRST_EVENT_LOOKBACK_MS: i64 = 1_000;

impl DiffState {
    /// The state of a subscription made at `now`: its first event carries the changes since
    /// [`FIRST_EVENT_LOOKBACK_MS`] before it.
    pub fn new(now: i64) -> Self {
        Self {
            last_u: now - FIRST_EVENT_LOOKBACK_MS,
        }
    }
}

fn levels(side: &[Level]) -> Value {
    Value::Array(
        side.iter()
            .map(|(p, q)| json!([dec(*p), dec(*q)]))
            .collect(),
    )
}

/// Every level of `book` and quantity 0 at each other price of `quoted` (best first for the
/// side: `descending` for bids).
fn refresh(book: &[Level], quoted: impl Iterator<Item = Decimal>, descending: bool) -> Vec<Level> {
    let mut out: BTreeMap<Decimal, Decimal> = quoted.map(|p| (p, Decimal::ZERO)).collect();
    out.extend(book.iter().copied());
    let mut out: Vec<Level> = out.into_iter().collect();
    if descending {
        out.reverse();
    }
    out
}

/// The touch prices (best bid, rounded down to the tick) any book in `[from, to]` had: the
/// lowest and highest, or `None` without data.
fn touch_range(
    market: &MarketData,
    symbol: &str,
    from: i64,
    to: i64,
) -> Option<(Decimal, Decimal)> {
    let tick = market.spec(symbol)?.tick_size;
    let at_from = market.last_price(symbol, from);
    let (lo, hi) = match (market.price_range(symbol, from, to), at_from) {
        (Some((lo, hi)), Some(p)) => (lo.min(p), hi.max(p)),
        (Some(range), None) => range,
        (None, Some(p)) => (p, p),
        (None, None) => return None,
    };
    let floor = |p: Decimal| (p / tick).floor() * tick;
    Some((floor(lo), floor(hi)))
}

/// The event of `stream` for `symbol` at `now`; `None` when the symbol has no book then or,
/// for a diff stream, when nothing moved since its previous event.
pub fn event(
    market: &MarketData,
    symbol: &str,
    stream: &BookStream,
    state: Option<&mut DiffState>,
    now: i64,
) -> Option<Value> {
    match stream {
        BookStream::Ticker => {
            let (bids, asks) = market.depth(symbol, now, 1);
            let (bid, ask) = (bids.first()?, asks.first()?);
            Some(json!({
                "e": "bookTicker", "u": now, "s": symbol, "b": dec(bid.0), "B": dec(bid.1),
                "a": dec(ask.0), "A": dec(ask.1), "T": now, "E": now,
            }))
        }
        BookStream::Partial { levels: n, .. } => {
            let (bids, asks) = market.depth(symbol, now, *n);
            if bids.is_empty() && asks.is_empty() {
                return None;
            }
            Some(json!({
                "e": "depthUpdate", "E": now, "T": now, "s": symbol, "U": now, "u": now,
                "pu": now - 1, "b": levels(&bids), "a": levels(&asks),
            }))
        }
        BookStream::Diff { .. } => {
            let state = state?;
            if now <= state.last_u {
                return None;
            }
            let book = market.depth(symbol, now, DIFF_LEVELS);
            if book.0.is_empty() && book.1.is_empty() {
                return None;
            }
            let pu = state.last_u;
            let tick = market.spec(symbol)?.tick_size;
            let (lo, hi) = touch_range(market, symbol, pu, now)?;
            let span = ((hi - lo) / tick).to_usize().unwrap_or(0) + DIFF_LEVELS;
            let bids = refresh(
                &book.0,
                (0..span)
                    .map(|k| hi - tick * Decimal::from(k))
                    .filter(|p| *p > Decimal::ZERO),
                true,
            );
            let asks = refresh(
                &book.1,
                (1..=span).map(|k| lo + tick * Decimal::from(k)),
                false,
            );
            *state = DiffState { last_u: now };
            Some(json!({
                "e": "depthUpdate", "E": now, "T": now, "s": symbol, "U": pu + 1, "u": now,
                "pu": pu, "b": levels(&bids), "a": levels(&asks),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::replay::DAY_MS;
    use crate::market::test_data::{T2021, market};

    fn apply(book: &mut BTreeMap<Decimal, Decimal>, side: &Value) {
        for level in side.as_array().expect("levels") {
            let p: Decimal = level[0].as_str().expect("price").parse().expect("price");
            let q: Decimal = level[1].as_str().expect("qty").parse().expect("qty");
            if q.is_zero() {
                book.remove(&p);
            } else {
                book.insert(p, q);
            }
        }
    }

    #[test]
    fn stream_names_resolve_as_binance_names_them() {
        assert_eq!(BookStream::parse("bookTicker"), Some(BookStream::Ticker));
        assert_eq!(
            BookStream::parse("depth"),
            Some(BookStream::Diff { every_ms: 250 })
        );
        assert_eq!(
            BookStream::parse("depth@500ms"),
            Some(BookStream::Diff { every_ms: 500 })
        );
        assert_eq!(
            BookStream::parse("depth20@100ms"),
            Some(BookStream::Partial {
                levels: 20,
                every_ms: 250
            })
        );
        for bad in ["depth7", "depth@1s", "depth5@", "book", "depth10@500"] {
            assert_eq!(BookStream::parse(bad), None, "{bad}");
        }
    }

    /// A snapshot at `lastUpdateId` plus every diff event after it is the book at each
    /// event's `u`, and each event's `pu` is the previous one's `u`.
    #[test]
    fn a_snapshot_plus_the_diffs_after_it_is_the_book_at_each_update() {
        let m = market();
        let t0 = T2021 + 40 * DAY_MS;
        // A snapshot taken before the server saw the subscription, just after, and a moment
        // into the next window: each lies in the first event's window it is applied to.
        for snapshot_at in [t0 - 600, t0, t0 + 120] {
            snapshot_then_diffs(m, t0, snapshot_at);
        }
    }

    fn snapshot_then_diffs(m: &MarketData, t0: i64, snapshot_at: i64) {
        let mut state = DiffState::new(t0);
        let (snap_bids, snap_asks) = m.depth("BTCUSDT", snapshot_at, DIFF_LEVELS);
        let mut bids: BTreeMap<Decimal, Decimal> = snap_bids.into_iter().collect();
        let mut asks: BTreeMap<Decimal, Decimal> = snap_asks.into_iter().collect();
        let mut previous_u = t0 - FIRST_EVENT_LOOKBACK_MS;
        // Across several seconds, so the synthetic sizes change and the price moves.
        for step in 1..=24 {
            let now = t0 + step * 250;
            let e = event(
                m,
                "BTCUSDT",
                &BookStream::Diff { every_ms: 250 },
                Some(&mut state),
                now,
            )
            .expect("an event");
            assert_eq!(
                (e["pu"].as_i64(), e["U"].as_i64(), e["u"].as_i64()),
                (Some(previous_u), Some(previous_u + 1), Some(now))
            );
            previous_u = now;
            apply(&mut bids, &e["b"]);
            apply(&mut asks, &e["a"]);
            let (want_bids, want_asks) = m.depth("BTCUSDT", now, DIFF_LEVELS);
            assert_eq!(
                bids,
                want_bids.into_iter().collect::<BTreeMap<_, _>>(),
                "bids at {now}"
            );
            assert_eq!(
                asks,
                want_asks.into_iter().collect::<BTreeMap<_, _>>(),
                "asks at {now}"
            );
        }
        assert!(
            event(
                m,
                "BTCUSDT",
                &BookStream::Diff { every_ms: 250 },
                Some(&mut state),
                previous_u
            )
            .is_none(),
            "no event without time passing"
        );
    }

    #[test]
    fn the_book_ticker_and_partial_depth_are_the_top_of_the_rest_book() {
        let m = market();
        let now = T2021 + 40 * DAY_MS + 777;
        let (bids, asks) = m.depth("ETHUSDT", now, 5);
        let top = event(m, "ETHUSDT", &BookStream::Ticker, None, now).expect("ticker");
        assert_eq!(
            (top["b"].as_str(), top["a"].as_str()),
            (Some(dec(bids[0].0).as_str()), Some(dec(asks[0].0).as_str()))
        );
        let partial = event(
            m,
            "ETHUSDT",
            &BookStream::Partial {
                levels: 5,
                every_ms: 250,
            },
            None,
            now,
        )
        .expect("partial");
        assert_eq!(partial["b"], levels(&bids));
        assert_eq!(partial["a"], levels(&asks));
        assert!(event(m, "NOPEUSDT", &BookStream::Ticker, None, now).is_none());
    }
}
