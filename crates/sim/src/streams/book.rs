//! The `/public`-class book streams over the synthetic order book (`MarketData::depth`):
//! `<symbol>@bookTicker`, partial depth `<symbol>@depth<5|10|20>[@500ms|@100ms]` and diff
//! depth `<symbol>@depth[@500ms|@100ms]`.
//!
//! Update ids are the exchange's clock in milliseconds, the same number `GET /fapi/v1/depth`
//! answers as `lastUpdateId` with the book at that moment. A diff event carries every level
//! that differs from the book of the subscription's previous event (quantity 0 for a level that
//! left), with `pu` the previous event's `u` and `U = pu + 1`, so a client that takes a REST
//! snapshot and applies the events after it, as Binance's "manage a local order book" steps
//! say, holds exactly `depth(u)` after each one.
//!
//! Speeds: pushes happen on the connection's 250 ms tick, so `@100ms` pushes every 250 ms;
//! `@500ms` every other tick.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::market::{Book, Level, MarketData};
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

/// What a diff stream remembers between its events: the last `u` and the book it described.
#[derive(Debug, Clone)]
pub struct DiffState {
    last_u: i64,
    book: Book,
}

impl DiffState {
    /// The state of a subscription made at `now`: its first event continues from here.
    pub fn new(market: &MarketData, symbol: &str, now: i64) -> Self {
        Self {
            last_u: now,
            book: market.depth(symbol, now, DIFF_LEVELS),
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

/// The levels of `new` that differ from `old`, and `old`'s levels gone from `new` with
/// quantity 0, best first by price order of the side (`descending` for bids).
fn changes(old: &[Level], new: &[Level], descending: bool) -> Vec<Level> {
    let before: BTreeMap<Decimal, Decimal> = old.iter().copied().collect();
    let after: BTreeMap<Decimal, Decimal> = new.iter().copied().collect();
    let mut out: Vec<Level> = after
        .iter()
        .filter(|(p, q)| before.get(p) != Some(q))
        .map(|(p, q)| (*p, *q))
        .chain(
            before
                .keys()
                .filter(|p| !after.contains_key(p))
                .map(|p| (*p, Decimal::ZERO)),
        )
        .collect();
    out.sort_by(|a, b| {
        if descending {
            b.0.cmp(&a.0)
        } else {
            a.0.cmp(&b.0)
        }
    });
    out
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
            let bids = changes(&state.book.0, &book.0, true);
            let asks = changes(&state.book.1, &book.1, false);
            let pu = state.last_u;
            *state = DiffState { last_u: now, book };
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
        let mut state = DiffState::new(m, "BTCUSDT", t0);
        let (snap_bids, snap_asks) = m.depth("BTCUSDT", t0, DIFF_LEVELS);
        let mut bids: BTreeMap<Decimal, Decimal> = snap_bids.into_iter().collect();
        let mut asks: BTreeMap<Decimal, Decimal> = snap_asks.into_iter().collect();
        let mut previous_u = t0;
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
