//! A strategy as a book of target weights, and its simulation into per-bar net returns.
//!
//! This is the contract between whoever makes positions (signal families, sizing, the
//! portfolio) and the edge test: a [`Book`] holds, for each asset and bar, the signed
//! fraction of equity held over that bar, the asset's return and the funding it settled.
//!
//! # The simulation ([`simulate`])
//!
//! The book is **rebalanced to its target weights at every bar's open** (no drift: a weight
//! of 0.5 means half the equity at the start of every bar it is held, whatever the price did
//! in the bar before). For bar `t`, with `w` the weight and `w₋` the weight of the bar
//! before (0 before the first bar, so the first bar pays the entry from flat):
//!
//! ```text
//! gross_t    = Σ_a w·r
//! turnover_t = Σ_a |w − w₋|
//! fees_t     = turnover_t · (taker_fee + slippage)
//! funding_t  = Σ_a w·f          (paid: a long pays positive funding, a short receives it)
//! net_t      = gross_t − fees_t − funding_t
//! exposure_t = Σ_a |w|
//! ```
//!
//! The position still held after the last bar is not closed: its exit cost belongs to a
//! period the book does not cover (one round of costs per asset at most, and the same for a
//! strategy and its random-timing nulls, which keep the same episodes).
//!
//! Weights are decided at or before the bar's open time; keeping them free of look-ahead is
//! the caller's job (the book cannot see how they were made).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::SignalError;

/// Trading costs, as fractions of the traded notional per unit of turnover
/// (e.g. `0.0005` taker fee and `0.0002` slippage: 7 bp per unit of |Δw|).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// Taker commission per unit of turnover.
    pub taker_fee: f64,
    /// Slippage (half spread plus impact) per unit of turnover.
    pub slippage: f64,
}

impl Costs {
    /// Cost of one unit of turnover: fee plus slippage.
    pub fn per_turnover(&self) -> f64 {
        self.taker_fee + self.slippage
    }
}

/// A strategy's positions over a set of assets and evenly spaced bars (see the module docs).
///
/// All `[asset][bar]` tables have `assets.len()` rows of `times.len()` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Book {
    /// Bar length: it must divide a day (1h, 4h, 1d).
    pub bar: Duration,
    /// Open time of each bar: ascending, evenly spaced by `bar`, aligned to UTC midnight
    /// (so every bar lies inside one UTC day).
    pub times: Vec<DateTime<Utc>>,
    /// Asset names (symbols), distinct.
    pub assets: Vec<String>,
    /// `[asset][bar]`: signed fraction of equity held over bar `t`, decided at or before
    /// `times[t]`.
    pub weights: Vec<Vec<f64>>,
    /// `[asset][bar]`: the asset's simple return over bar `t` (0 where there is no data);
    /// at least −1.
    pub returns: Vec<Vec<f64>>,
    /// `[asset][bar]`: the sum of funding rates settled inside bar `t` at the symbol's own
    /// funding times, i.e. what a long of weight 1 pays (negative: receives).
    pub funding: Vec<Vec<f64>>,
    /// Costs charged on every unit of turnover.
    pub costs: Costs,
}

/// A book's per-bar results; every vector has one value per bar of the book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    /// Net return of the bar: `gross − fees − funding`.
    pub net: Vec<f64>,
    /// Return of the positions before costs: `Σ w·r`.
    pub gross: Vec<f64>,
    /// Fees and slippage paid: `turnover · (taker_fee + slippage)`.
    pub fees: Vec<f64>,
    /// Funding paid (negative: received): `Σ w·f`.
    pub funding: Vec<f64>,
    /// `Σ |w_t − w_{t−1}|`, the entry from flat included at the first bar.
    pub turnover: Vec<f64>,
    /// Gross exposure `Σ |w|`.
    pub exposure: Vec<f64>,
    /// Independent trades: episodes, i.e. maximal runs of one sign per asset (flat runs
    /// excluded). Resizing a position without crossing zero is the same trade.
    pub trades: usize,
}

const MS_PER_DAY: i64 = 86_400_000;

impl Book {
    /// Number of bars.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when the book has no bars.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Buy-and-hold of the book's assets over the same bars: an equal-weight basket (`1/N`
    /// of equity in each asset at every bar, entered from flat at the first bar), with the
    /// same returns, funding and costs. For one asset it is simply holding it.
    pub fn buy_and_hold(&self) -> Book {
        let w = 1.0 / self.assets.len().max(1) as f64;
        Book {
            weights: vec![vec![w; self.times.len()]; self.assets.len()],
            ..self.clone()
        }
    }

    /// Checks the book's shape and numbers.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for no bars, no assets, a repeated asset, a bar that does
    /// not divide a day, times not aligned to UTC midnight, or negative or non-finite costs;
    /// [`SignalError::LengthMismatch`] for a table of the wrong shape;
    /// [`SignalError::Unsorted`], [`SignalError::Duplicate`] or [`SignalError::Gap`] for times
    /// not evenly spaced by `bar`; [`SignalError::BookValue`] for a non-finite value or a
    /// return below −1.
    pub fn validate(&self) -> Result<(), SignalError> {
        let bar_ms = self.bar.num_milliseconds();
        if bar_ms <= 0 || MS_PER_DAY % bar_ms != 0 {
            return Err(SignalError::BadParam(format!(
                "bar of {bar_ms} ms does not divide a day"
            )));
        }
        if self.times.is_empty() {
            return Err(SignalError::BadParam("the book has no bars".into()));
        }
        if self.assets.is_empty() {
            return Err(SignalError::BadParam("the book has no assets".into()));
        }
        let mut names: Vec<&str> = self.assets.iter().map(String::as_str).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(SignalError::BadParam(format!(
                "asset {} is listed twice",
                w[0]
            )));
        }
        let c = self.costs;
        if !(c.taker_fee.is_finite() && c.slippage.is_finite())
            || c.taker_fee < 0.0
            || c.slippage < 0.0
        {
            return Err(SignalError::BadParam(format!("bad costs {c:?}")));
        }
        let first = self.times[0];
        if first.timestamp_millis().rem_euclid(bar_ms) != 0 {
            return Err(SignalError::BadParam(format!(
                "first bar {first} is not aligned to a multiple of the bar from UTC midnight"
            )));
        }
        for (i, pair) in self.times.windows(2).enumerate() {
            let step = (pair[1] - pair[0]).num_milliseconds();
            let index = i + 1;
            let open_time = pair[1];
            if step < 0 {
                return Err(SignalError::Unsorted { index, open_time });
            }
            if step == 0 {
                return Err(SignalError::Duplicate { index, open_time });
            }
            if step != bar_ms {
                return Err(if step % bar_ms == 0 {
                    SignalError::Gap {
                        index,
                        open_time,
                        missing: step / bar_ms - 1,
                    }
                } else {
                    SignalError::BadParam(format!(
                        "bar {index} at {open_time} is {step} ms after the one before, not a multiple of the bar"
                    ))
                });
            }
        }
        let n = self.times.len();
        for (series, table) in [
            ("weights", &self.weights),
            ("returns", &self.returns),
            ("funding", &self.funding),
        ] {
            if table.len() != self.assets.len() {
                return Err(SignalError::LengthMismatch {
                    a: self.assets.len(),
                    b: table.len(),
                });
            }
            for (asset, row) in self.assets.iter().zip(table) {
                if row.len() != n {
                    return Err(SignalError::LengthMismatch { a: n, b: row.len() });
                }
                let bad = |bar: usize, reason: &'static str| SignalError::BookValue {
                    series,
                    asset: asset.clone(),
                    bar,
                    reason,
                };
                if let Some(bar) = row.iter().position(|v| !v.is_finite()) {
                    return Err(bad(bar, "not finite"));
                }
                if series == "returns"
                    && let Some(bar) = row.iter().position(|&r| r < -1.0)
                {
                    return Err(bad(bar, "a simple return below -1"));
                }
            }
        }
        Ok(())
    }
}

/// The maximal runs of one sign in a weight path, as `(start, end)` bar ranges (end
/// exclusive), flat runs included, in order. Sign is that of the weight; exactly 0 is flat.
pub fn episodes(weights: &[f64]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for t in 1..=weights.len() {
        if t == weights.len() || sign(weights[t]) != sign(weights[start]) {
            out.push((start, t));
            start = t;
        }
    }
    out
}

/// −1, 0 or 1; `-0.0` is flat.
pub(crate) fn sign(w: f64) -> i8 {
    if w > 0.0 {
        1
    } else if w < 0.0 {
        -1
    } else {
        0
    }
}

/// Simulates the book bar by bar into net returns (see the module docs for the formulas).
///
/// # Errors
/// Whatever [`Book::validate`] refuses.
pub fn simulate(book: &Book) -> Result<Simulation, SignalError> {
    book.validate()?;
    Ok(simulate_unchecked(book))
}

fn simulate_unchecked(book: &Book) -> Simulation {
    let n = book.len();
    let cost = book.costs.per_turnover();
    let mut s = Simulation {
        net: vec![0.0; n],
        gross: vec![0.0; n],
        fees: vec![0.0; n],
        funding: vec![0.0; n],
        turnover: vec![0.0; n],
        exposure: vec![0.0; n],
        trades: 0,
    };
    for a in 0..book.assets.len() {
        let (w, r, f) = (&book.weights[a], &book.returns[a], &book.funding[a]);
        let mut prev = 0.0;
        for t in 0..n {
            let wt = w[t];
            s.gross[t] += wt * r[t];
            s.funding[t] += wt * f[t];
            s.turnover[t] += (wt - prev).abs();
            s.exposure[t] += wt.abs();
            prev = wt;
        }
        s.trades += episodes(w)
            .iter()
            .filter(|&&(start, _)| sign(w[start]) != 0)
            .count();
    }
    for t in 0..n {
        s.fees[t] = s.turnover[t] * cost;
        s.net[t] = s.gross[t] - s.fees[t] - s.funding[t];
    }
    s
}

/// Compounds per-bar returns into UTC days: each day's return is `Π(1 + r) − 1` over the
/// bars that open on that day. Returns the days' midnights and their returns, ascending;
/// days without a bar are absent. Pairs beyond the shorter of the two slices are ignored
/// (a [`Simulation`] and its [`Book`] always have the same length).
pub fn daily(times: &[DateTime<Utc>], per_bar: &[f64]) -> (Vec<DateTime<Utc>>, Vec<f64>) {
    let mut days: Vec<DateTime<Utc>> = Vec::new();
    let mut growth: Vec<f64> = Vec::new();
    let mut current: Option<NaiveDate> = None;
    for (time, &r) in times.iter().zip(per_bar) {
        let date = time.date_naive();
        if current != Some(date) {
            current = Some(date);
            days.push(date.and_time(chrono::NaiveTime::MIN).and_utc());
            growth.push(1.0);
        }
        if let Some(g) = growth.last_mut() {
            *g *= 1.0 + r;
        }
    }
    (days, growth.into_iter().map(|g| g - 1.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_640_995_200, 0).expect("2022-01-01 is a valid time")
    }

    fn book(weights: Vec<Vec<f64>>, returns: Vec<Vec<f64>>, funding: Vec<Vec<f64>>) -> Book {
        let n = weights[0].len();
        Book {
            bar: Duration::hours(8),
            times: (0..n as i64)
                .map(|i| t0() + Duration::hours(8 * i))
                .collect(),
            assets: (0..weights.len()).map(|a| format!("A{a}")).collect(),
            weights,
            returns,
            funding,
            costs: Costs {
                taker_fee: 0.0005,
                slippage: 0.0002,
            },
        }
    }

    #[test]
    fn nets_gross_minus_fees_minus_funding_with_entry_from_flat() {
        let b = book(
            vec![vec![1.0, 1.0, -0.5, 0.0]],
            vec![vec![0.01, -0.02, 0.04, 0.03]],
            vec![vec![0.0001, 0.0, 0.0002, 0.0001]],
        );
        let s = simulate(&b).expect("a valid book");
        assert_eq!(s.turnover, vec![1.0, 0.0, 1.5, 0.5]);
        assert_eq!(s.exposure, vec![1.0, 1.0, 0.5, 0.0]);
        let cost = 0.0007;
        let want = [
            0.01 - cost - 0.0001,
            -0.02,
            -0.5 * 0.04 - 1.5 * cost + 0.5 * 0.0002,
            -0.5 * cost,
        ];
        for (got, want) in s.net.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        // A short receives positive funding.
        assert!(s.funding[2] < 0.0);
        assert_eq!(s.trades, 2);
    }

    #[test]
    fn counts_episodes_not_resizes() {
        let b = book(
            vec![vec![0.2, 0.5, 0.1, 0.0, 0.0, -0.3, -0.1, 0.4], vec![0.0; 8]],
            vec![vec![0.0; 8]; 2],
            vec![vec![0.0; 8]; 2],
        );
        assert_eq!(simulate(&b).expect("valid").trades, 3);
        assert_eq!(
            episodes(&b.weights[0]),
            vec![(0, 3), (3, 5), (5, 7), (7, 8)]
        );
        assert_eq!(episodes(&[]), vec![]);
    }

    #[test]
    fn buy_and_hold_is_an_equal_weight_basket_entered_once() {
        let b = book(
            vec![vec![1.0, -1.0, 0.0], vec![0.0, 0.0, 1.0]],
            vec![vec![0.02, 0.0, -0.01], vec![0.04, 0.01, 0.0]],
            vec![vec![0.0; 3]; 2],
        );
        let s = simulate(&b.buy_and_hold()).expect("valid");
        assert_eq!(s.turnover, vec![1.0, 0.0, 0.0]);
        assert_eq!(s.trades, 2);
        assert!((s.gross[0] - 0.03).abs() < 1e-15);
    }

    #[test]
    fn compounds_bars_into_utc_days() {
        let times: Vec<_> = (0..5).map(|i| t0() + Duration::hours(8 * i)).collect();
        let (days, r) = daily(&times, &[0.1, 0.1, -0.5, 0.2, 0.0]);
        assert_eq!(days, vec![t0(), t0() + Duration::days(1)]);
        assert!((r[0] - (1.1 * 1.1 * 0.5 - 1.0)).abs() < 1e-15);
        assert!((r[1] - 0.2).abs() < 1e-15);
    }

    #[test]
    fn refuses_malformed_books() {
        let ok = book(vec![vec![1.0; 3]], vec![vec![0.0; 3]], vec![vec![0.0; 3]]);
        ok.validate().expect("the base book is valid");

        let mut b = ok.clone();
        b.weights[0][1] = f64::NAN;
        assert!(matches!(
            b.validate(),
            Err(SignalError::BookValue {
                series: "weights",
                bar: 1,
                ..
            })
        ));
        let mut b = ok.clone();
        b.returns[0][2] = -1.5;
        assert!(matches!(
            b.validate(),
            Err(SignalError::BookValue {
                series: "returns",
                bar: 2,
                ..
            })
        ));
        let mut b = ok.clone();
        b.funding[0].pop();
        assert!(matches!(
            b.validate(),
            Err(SignalError::LengthMismatch { .. })
        ));
        let mut b = ok.clone();
        b.times[2] = b.times[1] + Duration::hours(16);
        assert!(matches!(
            b.validate(),
            Err(SignalError::Gap {
                index: 2,
                missing: 1,
                ..
            })
        ));
        let mut b = ok.clone();
        b.times[2] = b.times[0];
        assert!(matches!(b.validate(), Err(SignalError::Unsorted { .. })));
        let mut b = ok.clone();
        b.bar = Duration::hours(7);
        assert!(matches!(b.validate(), Err(SignalError::BadParam(_))));
        let mut b = ok.clone();
        b.times = b.times.iter().map(|&t| t + Duration::hours(1)).collect();
        assert!(matches!(b.validate(), Err(SignalError::BadParam(_))));
        let mut b = ok.clone();
        b.costs.slippage = -0.1;
        assert!(matches!(b.validate(), Err(SignalError::BadParam(_))));
        let mut b = book(
            vec![vec![1.0; 3]; 2],
            vec![vec![0.0; 3]; 2],
            vec![vec![0.0; 3]; 2],
        );
        b.assets[1] = b.assets[0].clone();
        assert!(matches!(b.validate(), Err(SignalError::BadParam(_))));
        assert!(simulate(&b).is_err());
    }
}
