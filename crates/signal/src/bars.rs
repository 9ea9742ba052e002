//! Daily and 4h bars built from 1h candles, and the universe's bars on one time grid (the
//! [`Panel`] the signal families read).
//!
//! A bar covers `[open, open + bar)`; daily bars open (and close) at 00:00 UTC, 4h bars at
//! 00, 04, …, 20 UTC. Gaps are explicit: a bar's close is the close of its **last** hour,
//! and a bar whose last hour is missing has no close (`None`), whatever other hours it has;
//! its open, high, low and volume come from the hours present, and `hours` counts them.
//!
//! Returns in a panel run from one observed close to the next: a bar without a close has
//! return 0 and the next close carries the whole move, so a move across a gap is neither
//! lost nor invented.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::universe::{FundingSource, Hourly, Universe};

const MS_PER_DAY: i64 = 86_400_000;

/// One symbol's bars on a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub bar: Duration,
    /// Open time of each bar, ascending, evenly spaced.
    pub times: Vec<DateTime<Utc>>,
    /// Open of the first hour present (`None` without any).
    pub open: Vec<Option<f64>>,
    pub high: Vec<Option<f64>>,
    pub low: Vec<Option<f64>>,
    /// Close of the bar's last hour (`None` when that hour is missing).
    pub close: Vec<Option<f64>>,
    /// Sum over the hours present.
    pub volume: Vec<f64>,
    /// 1h candles inside the bar.
    pub hours: Vec<u32>,
}

fn check_bar(bar: Duration) -> Result<i64, SignalError> {
    let ms = bar.num_milliseconds();
    if ms < 3_600_000 || ms % 3_600_000 != 0 || MS_PER_DAY % ms != 0 {
        return Err(SignalError::BadParam(format!(
            "a bar of {ms} ms is not a whole number of hours dividing a day"
        )));
    }
    Ok(ms)
}

/// The open times of every bar from the one containing `first` to the one containing
/// `last`, aligned to UTC midnight.
///
/// # Errors
/// [`SignalError::BadParam`] for a bar that is not whole hours dividing a day, or
/// `last < first`.
pub fn grid(
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    bar: Duration,
) -> Result<Vec<DateTime<Utc>>, SignalError> {
    let ms = check_bar(bar)?;
    if last < first {
        return Err(SignalError::BadParam(format!(
            "grid from {first} to {last} runs backwards"
        )));
    }
    let a = first.timestamp_millis().div_euclid(ms);
    let b = last.timestamp_millis().div_euclid(ms);
    Ok((a..=b)
        .filter_map(|k| DateTime::from_timestamp_millis(k * ms))
        .collect())
}

/// Aggregates 1h candles into bars on `grid` (as [`grid`] makes it); candles outside the
/// grid are not used.
///
/// # Errors
/// [`SignalError::BadParam`] for a bad bar or a grid not evenly spaced by it.
pub fn build_bars(
    hourly: &Hourly,
    grid: &[DateTime<Utc>],
    bar: Duration,
) -> Result<Bars, SignalError> {
    let ms = check_bar(bar)?;
    if grid.windows(2).any(|w| w[1] - w[0] != bar)
        || grid
            .first()
            .is_some_and(|t| t.timestamp_millis().rem_euclid(ms) != 0)
    {
        return Err(SignalError::BadParam(
            "the grid is not evenly spaced by the bar from UTC midnight".into(),
        ));
    }
    let n = grid.len();
    let mut out = Bars {
        bar,
        times: grid.to_vec(),
        open: vec![None; n],
        high: vec![None; n],
        low: vec![None; n],
        close: vec![None; n],
        volume: vec![0.0; n],
        hours: vec![0; n],
    };
    let Some(&start) = grid.first() else {
        return Ok(out);
    };
    let start_ms = start.timestamp_millis();
    for i in 0..hourly.len() {
        let t = hourly.open_time[i].timestamp_millis();
        if t < start_ms {
            continue;
        }
        let Ok(k) = usize::try_from((t - start_ms) / ms) else {
            continue;
        };
        if k >= n {
            break;
        }
        let (h, l) = (hourly.high[i], hourly.low[i]);
        out.open[k].get_or_insert(hourly.open[i]);
        out.high[k] = Some(out.high[k].map_or(h, |x| x.max(h)));
        out.low[k] = Some(out.low[k].map_or(l, |x| x.min(l)));
        out.volume[k] += hourly.volume[i];
        out.hours[k] += 1;
        if t + 3_600_000 == start_ms + (k as i64 + 1) * ms {
            out.close[k] = Some(hourly.close[i]);
        }
    }
    Ok(out)
}

/// The universe's bars on one grid: what the families read and the books are built on.
/// All `[asset][bar]` tables have one row per asset and one value per bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub bar: Duration,
    /// Open time of each bar.
    pub times: Vec<DateTime<Utc>>,
    pub assets: Vec<String>,
    /// Close of each bar (`None`: no close, see the module docs).
    pub close: Vec<Vec<Option<f64>>>,
    /// Simple return from the last observed close to this bar's close (0 without a close,
    /// and at an asset's first close).
    pub returns: Vec<Vec<f64>>,
    /// Whether `returns` holds an observed return (a close with an earlier close).
    pub observed: Vec<Vec<bool>>,
    /// Funding charged over `(open, open + bar]` at the symbol's own settlement times (the
    /// default schedule outside its series), 0 outside the asset's data.
    pub funding: Vec<Vec<f64>>,
    /// Index of each asset's first and last bar with a close (`None` without any).
    pub span: Vec<Option<(usize, usize)>>,
    /// Where each asset's funding charges come from.
    pub funding_source: Vec<FundingSource>,
    /// Each asset's raw funding events (the funding family and carry read them).
    pub funding_events: Vec<Vec<(DateTime<Utc>, f64)>>,
}

impl Panel {
    /// Builds the panel of every symbol on a grid of `bar` from the universe's first to its
    /// last candle.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] for an empty universe or a bad bar.
    pub fn new(universe: &Universe, bar: Duration) -> Result<Self, SignalError> {
        let (first, last) = universe
            .span()
            .ok_or_else(|| SignalError::BadParam("the universe has no candles".into()))?;
        let times = grid(first, last, bar)?;
        let n = times.len();
        let mut p = Panel {
            bar,
            times: times.clone(),
            assets: Vec::new(),
            close: Vec::new(),
            returns: Vec::new(),
            observed: Vec::new(),
            funding: Vec::new(),
            span: Vec::new(),
            funding_source: Vec::new(),
            funding_events: Vec::new(),
        };
        for s in &universe.symbols {
            let bars = build_bars(&s.hourly, &times, bar)?;
            let mut returns = vec![0.0; n];
            let mut observed = vec![false; n];
            let mut last_close: Option<f64> = None;
            for (t, c) in bars.close.iter().enumerate() {
                if let Some(c) = *c {
                    if let Some(prev) = last_close
                        && prev > 0.0
                    {
                        returns[t] = c / prev - 1.0;
                        observed[t] = true;
                    }
                    last_close = Some(c);
                }
            }
            let first_close = bars.close.iter().position(Option::is_some);
            let last_close_idx = bars.close.iter().rposition(Option::is_some);
            let span = first_close.zip(last_close_idx);
            let mut funding = s.funding.per_bar(&times, bar);
            for (t, f) in funding.iter_mut().enumerate() {
                if !span.is_some_and(|(a, b)| a < t && t <= b) {
                    *f = 0.0;
                }
            }
            p.assets.push(s.symbol.clone());
            p.close.push(bars.close);
            p.returns.push(returns);
            p.observed.push(observed);
            p.funding.push(funding);
            p.span.push(span);
            p.funding_source.push(s.funding.source());
            p.funding_events.push(s.funding.events().to_vec());
        }
        Ok(p)
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True without bars.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The close time of bar `t` (its open plus the bar).
    pub fn close_time(&self, t: usize) -> DateTime<Utc> {
        self.times[t] + self.bar
    }

    /// The last observed close of asset `a` at or before bar `t` (forward-filled), if the
    /// asset has had a close by then.
    pub fn last_close(&self, a: usize, t: usize) -> Option<f64> {
        let (first, _) = self.span[a]?;
        if t < first {
            return None;
        }
        self.close[a][first..=t].iter().rev().find_map(|c| *c)
    }

    /// The forward-filled closes of asset `a` (`None` before its first close).
    pub fn filled_close(&self, a: usize) -> Vec<Option<f64>> {
        let mut last = None;
        self.close[a]
            .iter()
            .map(|c| {
                if c.is_some() {
                    last = *c;
                }
                last
            })
            .collect()
    }
}

/// Which bars a record covers: the first and last bar whose open time falls in
/// `[from, to]` (days or times, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    /// The index range of `times` inside the window (empty when none is).
    pub fn range(&self, times: &[DateTime<Utc>]) -> std::ops::Range<usize> {
        let a = times.partition_point(|&t| t < self.from);
        let b = times.partition_point(|&t| t <= self.to);
        a..b.max(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_are_aligned_to_midnight() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
        let g = grid(
            t("2023-05-03T16:00:00Z"),
            t("2023-05-05T01:00:00Z"),
            Duration::days(1),
        )
        .expect("grid");
        assert_eq!(
            g,
            vec![
                t("2023-05-03T00:00:00Z"),
                t("2023-05-04T00:00:00Z"),
                t("2023-05-05T00:00:00Z")
            ]
        );
        assert!(grid(g[0], g[1], Duration::hours(5)).is_err());
        assert!(grid(g[1], g[0], Duration::hours(4)).is_err());
    }
}
