//! From signals to books: volatility-targeted target weights per family, the books the edge
//! test simulates, the equal-risk portfolio of several families, and the equal-weight
//! basket it is measured against.
//!
//! Timing: a target is decided at a bar's close and held over the next bar, so
//! `book.weights[t] = target[t − 1]` (flat at the panel's first bar). After an asset's last
//! close the book holds nothing: a position is closed at the last price the data has (a
//! symbol delisted or a file that ends early), paying the exit's costs.

use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::bars::{Panel, Window};
use crate::edge::{Book, Costs};
use crate::sizing::{EwmaCov, Limits, VolTarget, book_scale, ewma_vol, position_weight};

/// `[asset][bar]` annualised EWMA volatility at each close (the estimate sizing uses).
pub fn asset_vol(panel: &Panel, cfg: &VolTarget) -> Vec<Vec<Option<f64>>> {
    (0..panel.assets.len())
        .map(|a| ewma_vol(&panel.returns[a], &panel.observed[a], cfg))
        .collect()
}

/// Target weights at each close from signals in `[−1, 1]`: each position at the volatility
/// target, then the book's volatility ceiling and the limits (see [`crate::sizing`]).
///
/// # Errors
/// [`SignalError::BadParam`] for bad settings, [`SignalError::LengthMismatch`] for a signal
/// table of the wrong shape.
pub fn targets(
    panel: &Panel,
    signal: &[Vec<f64>],
    cfg: &VolTarget,
    limits: &Limits,
) -> Result<Vec<Vec<f64>>, SignalError> {
    check_shape(panel, signal)?;
    size(panel, cfg, limits, |a, t, sigma| {
        position_weight(
            signal[a][t],
            sigma,
            cfg.target_annual_vol,
            limits.max_position_weight,
        )
    })
}

/// Runs the book's volatility ceiling over weights `raw(asset, bar, σ_annual)`, asked only
/// for assets with a volatility estimate (the others hold nothing: they cannot be sized).
#[allow(clippy::needless_range_loop)] // `t` walks the bars of a column-major table: out[a][t]
fn size(
    panel: &Panel,
    cfg: &VolTarget,
    limits: &Limits,
    raw: impl Fn(usize, usize, f64) -> f64,
) -> Result<Vec<Vec<f64>>, SignalError> {
    cfg.check()?;
    limits.check()?;
    let n = panel.assets.len();
    let mut out = vec![vec![0.0; panel.len()]; n];
    let mut cov = EwmaCov::new(n);
    let mut col_r = vec![0.0; n];
    let mut col_o = vec![false; n];
    let mut col_w = vec![0.0; n];
    for t in 0..panel.len() {
        for a in 0..n {
            col_r[a] = panel.returns[a][t];
            col_o[a] = panel.observed[a][t];
        }
        cov.update(&col_r, &col_o, cfg);
        for (a, w) in col_w.iter_mut().enumerate() {
            *w = cov
                .variance(a)
                .map_or(0.0, |v| raw(a, t, (v * cfg.bars_per_year).sqrt()));
        }
        let vol = (cov.book_variance(&col_w) * cfg.bars_per_year).sqrt();
        let k = book_scale(
            &col_w,
            vol,
            cfg.target_annual_vol,
            limits.max_gross_leverage,
        );
        for a in 0..n {
            out[a][t] = col_w[a] * k;
        }
    }
    Ok(out)
}

fn check_shape(panel: &Panel, table: &[Vec<f64>]) -> Result<(), SignalError> {
    if table.len() != panel.assets.len() {
        return Err(SignalError::LengthMismatch {
            a: panel.assets.len(),
            b: table.len(),
        });
    }
    if let Some(row) = table.iter().find(|r| r.len() != panel.len()) {
        return Err(SignalError::LengthMismatch {
            a: panel.len(),
            b: row.len(),
        });
    }
    Ok(())
}

/// The weight held over bar `t` of asset `a` from targets decided at closes.
fn held(panel: &Panel, targets: &[Vec<f64>], a: usize, t: usize) -> f64 {
    match panel.span[a] {
        Some((_, last)) if t >= 1 && t <= last => targets[a][t - 1],
        _ => 0.0,
    }
}

/// The book of `targets` over the bars of `window`, for the assets `keep` (all when
/// `None`).
///
/// # Errors
/// [`SignalError::BadParam`] when the window holds no bar or no asset is kept.
pub fn book(
    panel: &Panel,
    targets: &[Vec<f64>],
    window: Window,
    costs: Costs,
    keep: Option<&[usize]>,
) -> Result<Book, SignalError> {
    check_shape(panel, targets)?;
    let range = window.range(&panel.times);
    if range.is_empty() {
        return Err(SignalError::BadParam(format!(
            "no bar between {} and {}",
            window.from, window.to
        )));
    }
    let all: Vec<usize> = (0..panel.assets.len()).collect();
    let assets = keep.unwrap_or(&all);
    if assets.is_empty() {
        return Err(SignalError::BadParam("a book needs an asset".into()));
    }
    let row = |f: &dyn Fn(usize) -> f64| range.clone().map(f).collect::<Vec<f64>>();
    Ok(Book {
        bar: panel.bar,
        times: panel.times[range.clone()].to_vec(),
        assets: assets.iter().map(|&a| panel.assets[a].clone()).collect(),
        weights: assets
            .iter()
            .map(|&a| row(&|t| held(panel, targets, a, t)))
            .collect(),
        returns: assets
            .iter()
            .map(|&a| row(&|t| panel.returns[a][t]))
            .collect(),
        funding: assets
            .iter()
            .map(|&a| row(&|t| panel.funding[a][t]))
            .collect(),
        costs,
    })
}

/// The equal-risk portfolio of several families' targets: their mean (each is already at
/// the same volatility ceiling), under the ceiling and limits again. No family: all zeros.
///
/// # Errors
/// As [`targets`].
pub fn combine(
    panel: &Panel,
    families: &[&[Vec<f64>]],
    cfg: &VolTarget,
    limits: &Limits,
) -> Result<Vec<Vec<f64>>, SignalError> {
    let n = panel.assets.len();
    let mut mean = vec![vec![0.0; panel.len()]; n];
    if families.is_empty() {
        return Ok(mean);
    }
    let k = families.len() as f64;
    for f in families {
        check_shape(panel, f)?;
        for (m, row) in mean.iter_mut().zip(f.iter()) {
            for (x, w) in m.iter_mut().zip(row) {
                *x += w / k;
            }
        }
    }
    size(panel, cfg, limits, |a, t, _| mean[a][t])
}

/// Targets of the equal-weight basket: at each close, `1 / N` in each of the `N` assets
/// that have a close at or before it and data after it, rebalanced every bar.
#[allow(clippy::needless_range_loop)] // `t` walks the bars of a column-major table: out[a][t]
pub fn basket_targets(panel: &Panel) -> Vec<Vec<f64>> {
    let n = panel.assets.len();
    let mut out = vec![vec![0.0; panel.len()]; n];
    for t in 0..panel.len() {
        let live: Vec<usize> = (0..n)
            .filter(|&a| panel.span[a].is_some_and(|(first, last)| first <= t && t < last))
            .collect();
        for &a in &live {
            out[a][t] = 1.0 / live.len() as f64;
        }
    }
    out
}

/// A book's equity, drawdown and exposure per bar (equity starts at 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub times: Vec<chrono::DateTime<chrono::Utc>>,
    /// Compounded net equity after each bar.
    pub equity: Vec<f64>,
    /// `equity / running peak − 1` (≤ 0).
    pub drawdown: Vec<f64>,
    /// Gross exposure `Σ|w|` held over the bar.
    pub exposure: Vec<f64>,
}

impl Curve {
    /// The curve of per-period net returns `net` at `times`, with the exposure held.
    pub fn new(times: Vec<chrono::DateTime<chrono::Utc>>, net: &[f64], exposure: Vec<f64>) -> Self {
        let mut e = 1.0_f64;
        let mut peak = 1.0_f64;
        let mut equity = Vec::with_capacity(net.len());
        let mut drawdown = Vec::with_capacity(net.len());
        for r in net {
            e = (e * (1.0 + r)).max(0.0);
            peak = peak.max(e);
            equity.push(e);
            drawdown.push(if peak > 0.0 { e / peak - 1.0 } else { -1.0 });
        }
        Self {
            times,
            equity,
            drawdown,
            exposure,
        }
    }

    /// The deepest drawdown (≤ 0).
    pub fn max_drawdown(&self) -> f64 {
        self.drawdown.iter().copied().fold(0.0, f64::min)
    }

    /// At most `max` points (every `⌈n / max⌉`-th and the last), for charts.
    pub fn downsample(&self, max: usize) -> Self {
        let n = self.equity.len();
        if max == 0 || n <= max {
            return self.clone();
        }
        let stride = n.div_ceil(max);
        let mut idx: Vec<usize> = (0..n).step_by(stride).collect();
        if idx.last() != Some(&(n - 1)) {
            if idx.len() == max {
                idx.pop();
            }
            idx.push(n - 1);
        }
        Self {
            times: idx.iter().map(|&i| self.times[i]).collect(),
            equity: idx.iter().map(|&i| self.equity[i]).collect(),
            drawdown: idx.iter().map(|&i| self.drawdown[i]).collect(),
            exposure: idx.iter().map(|&i| self.exposure[i]).collect(),
        }
    }
}
