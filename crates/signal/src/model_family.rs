//! The 1h learned models as families over the universe, judged by the same edge test as the
//! rules: their out-of-sample positions become one 1h book across every symbol.
//!
//! Two sources of forecasts:
//! * [`walk_forward_books`]: each symbol's own walk-forward (the app's per-symbol evaluation,
//!   unchanged windows), one configuration per model kind;
//! * [`frozen_books`]: one saved model, frozen at its training date, scored on every symbol
//!   over any window (the held-back test's path).
//!
//! Either way the 1h backtest's rule (threshold, ATR barriers, horizon) makes the trades, and
//! each trade's side (±1) is the family's **signal** from the bar after its entry close through
//! its exit bar; the study sizes that signal like every other family's (volatility target per
//! position and book ceiling on 1h bars, `docs/signals.md` Part 3 addendum), never at the
//! backtest's leverage per symbol. A barrier fill inside a bar is replaced by that bar's close
//! in the book (the backtest's record keeps the exact fill). Symbols whose candles have gaps
//! are evaluated on each gap-free run long enough for the model.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::Duration;

use crate::SignalError;
use crate::backtest::{BacktestConfig, FundingRates, Side, Trade, backtest};
use crate::bars::{Panel, Window};
use crate::evaluate::{
    OosPrediction, WalkForwardConfig, brier_skill, fold_count, walk_forward_models,
};
use crate::features::{Ohlcv, compute_features_with_funding};
use crate::model::{ModelKind, Scorer};
use crate::saved::SavedModel;
use crate::strategy::model_family_id;
use crate::study::ModelBooks;
use crate::universe::{SymbolSeries, Universe};

/// The 1h panel of the universe (what model books are built on).
///
/// # Errors
/// As [`Panel::new`].
pub fn hourly_panel(universe: &Universe) -> Result<Panel, SignalError> {
    Panel::new(universe, Duration::hours(1))
}

/// What a 1h model family's recorded parameters hold that its results depend on. The record
/// names the walk-forward's settings of both model kinds (one walk-forward fits both, on the
/// same folds), but each kind's forecasts depend only on its own: the logistic model is the
/// same configuration whatever the boosting settings beside it, and the reverse. Any other
/// family's parameters are returned whole.
pub fn configuration(family: &str, parameters: &serde_json::Value) -> serde_json::Value {
    let other = if family == model_family_id(ModelKind::Logistic) {
        "gbdt"
    } else if family == model_family_id(ModelKind::Gbdt) {
        "model"
    } else {
        return parameters.clone();
    };
    let mut p = parameters.clone();
    if let Some(wf) = p
        .get_mut("walk_forward")
        .and_then(serde_json::Value::as_object_mut)
    {
        wf.remove(other);
    }
    p
}

/// Where each run's candle `i` sits on the panel.
fn offset(panel: &Panel, x: &Ohlcv) -> Option<usize> {
    let first = *x.open_time.first()?;
    let h = (first - *panel.times.first()?).num_hours();
    usize::try_from(h).ok()
}

/// Writes each trade's side (±1) into signals decided at closes (held over the next bar).
fn place(signal: &mut [f64], at: usize, trades: &[Trade]) {
    for t in trades {
        let s = match t.side {
            Side::Long => 1.0,
            Side::Short => -1.0,
        };
        for slot in signal
            .iter_mut()
            .take(at + t.exit_index)
            .skip(at + t.entry_index)
        {
            *slot = s;
        }
    }
}

/// Outcomes of forecasts: whether the close `horizon` bars later is above the forecast
/// bar's close (rows without a known outcome are left out).
fn outcomes(x: &Ohlcv, preds: &[OosPrediction], horizon: usize) -> (Vec<f64>, Vec<bool>) {
    preds
        .iter()
        .filter_map(|p| {
            let later = x.close.get(p.index + horizon)?;
            Some((p.p_up, *later > x.close[p.index]))
        })
        .unzip()
}

/// One gap-free run's share of the model books: where it sits on the panel and, per model
/// kind, its trades and its scored forecasts with their outcomes.
struct RunBooks {
    at: usize,
    kinds: Vec<(Vec<Trade>, Vec<f64>, Vec<bool>)>,
}

/// One symbol's walk-forward of every kind, traded by the 1h rule. Only the trades and the
/// forecasts reach the books, so the per-symbol edge test of [`crate::card::evaluate`]
/// (verdicts the books threw away, a third of the time) is not run; the trades are the
/// ones [`crate::card::evaluate`] makes: same walk-forward, same backtest, horizon forced
/// to the labels'.
fn symbol_books(
    sym: &SymbolSeries,
    panel: &Panel,
    kinds: &[ModelKind],
    wf: WalkForwardConfig,
    bt: BacktestConfig,
) -> Result<Vec<RunBooks>, SignalError> {
    let rates = FundingRates::new(sym.funding.events())?;
    let bt = BacktestConfig {
        horizon: wf.label.horizon,
        ..bt
    };
    let mut runs = Vec::new();
    if kinds.is_empty() {
        return Ok(runs);
    }
    for x in sym.hourly.contiguous_runs() {
        if fold_count(x.len(), &wf) == 0 {
            continue;
        }
        let Some(at) = offset(panel, &x) else {
            continue;
        };
        let reports = walk_forward_models(&x, wf, &rates, kinds, &mut |_, _| {})?;
        let kinds = reports
            .into_iter()
            .map(|walk| {
                let r = backtest(&x, &walk.predictions, bt, &rates)?;
                let (p, y) = outcomes(&x, &walk.predictions, wf.label.horizon);
                Ok((r.model.trade_log, p, y))
            })
            .collect::<Result<Vec<_>, SignalError>>()?;
        runs.push(RunBooks { at, kinds });
    }
    Ok(runs)
}

/// Each symbol's walk-forward forecasts per model kind, traded by the 1h rule, as one book
/// per kind on the 1h panel, the symbols shared among the machine's cores.
/// `progress(symbols done, symbols)` after each symbol.
///
/// # Errors
/// What the walk-forward, the backtest or the Brier score refuse.
pub fn walk_forward_books(
    universe: &Universe,
    panel: &Panel,
    kinds: &[ModelKind],
    wf: WalkForwardConfig,
    bt: BacktestConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<ModelBooks>, SignalError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    walk_forward_books_on(universe, panel, kinds, wf, bt, threads, progress)
}

/// [`walk_forward_books`] on `threads` threads. Each symbol's walk-forward is independent
/// and deterministic (LightGBM single-threaded and seeded), and the books, the Brier rows
/// and the first error are assembled in symbol order, so the result is the same for any
/// number of threads; `progress` counts symbols as they finish, in any order.
///
/// # Errors
/// As [`walk_forward_books`]; with several failing symbols, the first one's error.
pub fn walk_forward_books_on(
    universe: &Universe,
    panel: &Panel,
    kinds: &[ModelKind],
    wf: WalkForwardConfig,
    bt: BacktestConfig,
    threads: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<ModelBooks>, SignalError> {
    let n = universe.symbols.len();
    let threads = threads.clamp(1, n.max(1));
    let mut per_symbol: Vec<Option<Result<Vec<RunBooks>, SignalError>>> =
        (0..n).map(|_| None).collect();
    if threads == 1 {
        for (a, sym) in universe.symbols.iter().enumerate() {
            per_symbol[a] = Some(Ok(symbol_books(sym, panel, kinds, wf, bt)?));
            progress(a + 1, n);
        }
    } else {
        // Longest histories first: the last symbols dealt are the shortest, so the core
        // that finishes first waits least for the other.
        let mut deal: Vec<usize> = (0..n).collect();
        deal.sort_by_key(|&a| std::cmp::Reverse(universe.symbols[a].hourly.len()));
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let (tx, next, deal) = (tx.clone(), &next, &deal);
                // Symbols are taken one at a time, so a short history does not leave a
                // core idle while another works through a long queue.
                scope.spawn(move || {
                    while let Some(&a) = deal.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let sym = &universe.symbols[a];
                        if tx
                            .send((a, symbol_books(sym, panel, kinds, wf, bt)))
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for (done, (a, r)) in rx.iter().enumerate() {
                per_symbol[a] = Some(r);
                progress(done + 1, n);
            }
        });
    }
    let mut targets = vec![vec![vec![0.0; panel.len()]; n]; kinds.len()];
    let mut scored: Vec<(Vec<f64>, Vec<bool>)> = vec![(vec![], vec![]); kinds.len()];
    for (a, runs) in per_symbol.into_iter().enumerate() {
        for run in runs.expect("every symbol was handed to a thread")? {
            for (k, (trades, p, y)) in run.kinds.into_iter().enumerate() {
                place(&mut targets[k][a], run.at, &trades);
                scored[k].0.extend(p);
                scored[k].1.extend(y);
            }
        }
    }
    kinds
        .iter()
        .zip(targets)
        .zip(scored)
        .map(|((kind, t), (p, y))| {
            Ok(ModelBooks {
                id: model_family_id(*kind),
                panel: panel.clone(),
                signal: t,
                parameters: serde_json::json!({
                    "kind": kind.name(),
                    "walk_forward": wf,
                    "backtest": bt,
                    "signal": "each trade's side, +1 or -1",
                    "sizing": "strategy vol target on 1h bars (docs/signals.md, Part 3 addendum)",
                }),
                brier: if p.is_empty() {
                    None
                } else {
                    Some(brier_skill(&p, &y)?)
                },
            })
        })
        .collect()
}

/// A saved model, frozen, scored on every symbol over `window` with its own backtest rule:
/// one book on the 1h panel. The forecasts are out of time for every bar after the model's
/// training window.
///
/// # Errors
/// Feature, scoring, backtest and Brier errors.
pub fn frozen_books(
    universe: &Universe,
    panel: &Panel,
    model: &SavedModel,
    window: Window,
) -> Result<ModelBooks, SignalError> {
    let bt = model.backtest_config;
    let mut targets = vec![vec![0.0; panel.len()]; panel.assets.len()];
    let (mut ps, mut ys) = (Vec::new(), Vec::new());
    for (a, sym) in universe.symbols.iter().enumerate() {
        let rates = FundingRates::new(sym.funding.events())?;
        for x in sym.hourly.contiguous_runs() {
            if x.len() <= crate::features::WARMUP + bt.horizon {
                continue;
            }
            let Some(at) = offset(panel, &x) else {
                continue;
            };
            let features = compute_features_with_funding(&x, &rates)?;
            let mut preds = Vec::new();
            for row in &features.rows {
                if row.open_time < window.from || row.open_time > window.to {
                    continue;
                }
                let p_up = model.model.predict_proba(features.version, &row.values)?;
                preds.push(OosPrediction {
                    index: row.index,
                    open_time: row.open_time,
                    p_up,
                });
            }
            if preds.is_empty() {
                continue;
            }
            let r = backtest(&x, &preds, bt, &rates)?;
            place(&mut targets[a], at, &r.model.trade_log);
            let (p, y) = outcomes(&x, &preds, bt.horizon);
            ps.extend(p);
            ys.extend(y);
        }
    }
    Ok(ModelBooks {
        id: format!("model_1h_frozen_{}", model.model.kind().name()),
        panel: panel.clone(),
        signal: targets,
        parameters: serde_json::json!({
            "kind": model.model.kind().name(),
            "model_version": model.model_version,
            "backtest": bt,
            "signal": "each trade's side, +1 or -1",
            "sizing": "strategy vol target on 1h bars (docs/signals.md, Part 3 addendum)",
        }),
        brier: if ps.is_empty() {
            None
        } else {
            Some(brier_skill(&ps, &ys)?)
        },
    })
}
