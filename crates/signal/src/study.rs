//! The whole record of a strategy file on a universe over a window: every family's book
//! judged by the edge test against the equal-weight basket, per-symbol records (shown, never
//! used to choose), the equal-risk portfolio of the families that pass, the funding carry,
//! and each family's signal at the last close. Pure: the caller hands in the parsed universe
//! and the trial log; the same inputs give the same report bit for bit.
//!
//! Edge is decided **per family on the universe book**: a family passes or not as a whole;
//! per-symbol numbers never pick the symbols it trades. A family's signal is Flat exactly
//! where its configuration has no edge.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::bars::{Panel, Window};
use crate::edge::{
    Book, Costs, EdgeTest, Stats, Trial, TrialLog, TrialSummary, Verdict, daily, simulate, stats,
};
use crate::evaluate::BrierSkill;
use crate::families::{Carry, Family, Rule, funding_carry};
use crate::frozen::FrozenPooled;
use crate::pooled::PooledFamily;
use crate::portfolio::{Curve, asset_vol, basket_targets, book, combine, targets};
use crate::signal::SignalDirection;
use crate::sizing::{DAYS_PER_YEAR, Stop, vol_stop};
use crate::strategy::LoadedStrategy;
use crate::universe::{FundingSource, Universe};

/// Most points a curve keeps in a report.
pub const CURVE_POINTS: usize = 500;

/// Which strategy file a report comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyStamp {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub freeze_date: chrono::NaiveDate,
}

impl StrategyStamp {
    /// The stamp of a loaded strategy.
    pub fn of(s: &LoadedStrategy) -> Self {
        Self {
            name: s.strategy.name.clone(),
            version: s.strategy.version.clone(),
            sha256: s.sha256.clone(),
            freeze_date: s.strategy.freeze_date,
        }
    }
}

/// What the data held for a symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolInfo {
    pub symbol: String,
    pub first_candle: DateTime<Utc>,
    pub last_candle: DateTime<Utc>,
    pub candles: usize,
    /// Hours between the first and last candle without one.
    pub missing_hours: i64,
    pub funding: FundingSource,
}

/// One symbol's share of a family's book (computed and shown, never used to choose).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolRecord {
    pub symbol: String,
    /// The family's positions in this symbol alone.
    pub stats: Stats,
    pub trades: usize,
    pub turnover_per_year: f64,
    /// Holding the symbol over the days it has data in the window.
    pub buy_and_hold: Stats,
}

/// A family's signal for one symbol at the last close of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestSignal {
    pub symbol: String,
    /// The close the signal is for.
    pub time: DateTime<Utc>,
    /// The rule's signal in `[−1, 1]`.
    pub signal: f64,
    /// The book's target weight (volatility-sized, under the book's ceiling).
    pub weight: f64,
    /// Long/Short by the weight's sign, Flat when the weight is 0 **or the family has no
    /// edge** (then `reasons` in the family's verdict say why).
    pub direction: SignalDirection,
    /// Annualised volatility estimate behind the size.
    pub annual_vol: Option<f64>,
    /// The volatility stop from the last close (none without a position or estimate).
    pub stop: Option<Stop>,
    /// When the family decides again.
    pub next_decision: DateTime<Utc>,
}

/// A family's whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyRecord {
    pub id: String,
    /// The rule and its parameters (absent for model families).
    pub rule: Option<Rule>,
    /// The pooled model's parameters (pooled families only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled: Option<PooledFamily>,
    /// A model family's parameters as the trial log records them (model families only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Value>,
    pub horizon_days: f64,
    /// The trial's id in the trial log.
    pub trial_id: String,
    pub verdict: Verdict,
    /// Annual Sharpe of the basket over the same days, for the table.
    pub curve: Curve,
    pub per_symbol: Vec<SymbolRecord>,
    pub latest: Vec<LatestSignal>,
}

/// The equal-risk portfolio of the families that pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioRecord {
    /// Families in it; empty when none passes (then the portfolio is flat).
    pub members: Vec<String>,
    pub trial_id: String,
    pub verdict: Option<Verdict>,
    pub curve: Option<Curve>,
    /// The aim: Sharpe ≥ basket + 0.3 with at most half its maximum drawdown.
    pub aim_met: bool,
}

/// The equal-weight basket: the benchmark of every family and of the portfolio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasketRecord {
    pub stats: Stats,
    pub curve: Curve,
}

/// A symbol's funding carry at the last close (information, not traded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolCarry {
    pub symbol: String,
    pub time: DateTime<Utc>,
    pub carry: Carry,
}

/// The full record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyReport {
    pub strategy: StrategyStamp,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub costs: Costs,
    /// The trial count and Sharpe spread the deflated Sharpe ratio used (the log plus this
    /// run's configurations not logged yet).
    pub trials: TrialSummary,
    pub symbols: Vec<SymbolInfo>,
    pub basket: BasketRecord,
    pub families: Vec<FamilyRecord>,
    pub portfolio: PortfolioRecord,
    pub carry: Vec<SymbolCarry>,
}

/// A family's books before judging.
struct Run {
    id: String,
    rule: Option<Rule>,
    pooled: Option<PooledFamily>,
    model_parameters: Option<serde_json::Value>,
    horizon_days: f64,
    panel_index: usize,
    signal: Vec<Vec<f64>>,
    targets: Vec<Vec<f64>>,
    book: Book,
    sharpe: f64,
    brier: Option<BrierSkill>,
}

/// The universe as the trial log's `universe` field writes it: `"{N} symbols: A,B,…"`.
pub fn universe_label(universe: &Universe) -> String {
    let symbols: Vec<&str> = universe.symbols.iter().map(|s| s.symbol.as_str()).collect();
    format!("{} symbols: {}", symbols.len(), symbols.join(","))
}

/// The universe's short name in a trial id: `u{N}-{12 hex digits}` of the SHA-256 of the
/// symbols, sorted and joined by commas.
pub fn universe_tag(universe: &Universe) -> String {
    let mut symbols: Vec<&str> = universe.symbols.iter().map(|s| s.symbol.as_str()).collect();
    symbols.sort_unstable();
    let hash = crate::strategy::sha256_hex(symbols.join(",").as_bytes());
    format!("u{}-{}", symbols.len(), &hash[..12])
}

/// The trial id of a configuration on a universe and window (the form since
/// `docs/signals.md`'s Part 3 addendum): the same configuration on the same symbols and days
/// is the same trial.
pub fn trial_id_in(
    strategy: &LoadedStrategy,
    family: &str,
    universe: &Universe,
    window: Window,
) -> String {
    format!(
        "{}-v{}/{}/{}/{}..{}",
        strategy.strategy.name,
        strategy.strategy.version,
        family,
        universe_tag(universe),
        window.from.date_naive(),
        window.to.date_naive()
    )
}

/// The trial id of a configuration on a universe, reusing the id of a logged trial of the
/// same family with the same configuration on the same days **and the same universe** (a later
/// strategy version that repeats a configuration repeats its trial). Logged ids keep the form
/// they were written in; a new one is [`trial_id_in`], or, where the log already holds that id
/// for another configuration (a model family's settings live in code, not in the strategy
/// file, so changing them keeps the strategy's version), that id with the configuration's
/// [`configuration_tag`]: a changed configuration is always a new trial, counted.
pub fn resolve_trial_id_in(
    log: &TrialLog,
    strategy: &LoadedStrategy,
    family: &str,
    parameters: Option<serde_json::Value>,
    universe: &Universe,
    window: Window,
) -> String {
    let (from, to) = (window.from.date_naive(), window.to.date_naive());
    let label = universe_label(universe);
    resolve(
        log,
        family,
        parameters,
        trial_id_in(strategy, family, universe, window),
        |t| t.window.from == from && t.window.to == to && t.universe == label,
    )
}

/// The logged id of the trial of `family` with `parameters`'s configuration that `same_data`
/// accepts, else `fresh`, made unique against the log (see [`resolve_trial_id_in`]).
fn resolve(
    log: &TrialLog,
    family: &str,
    parameters: Option<serde_json::Value>,
    fresh: String,
    same_data: impl Fn(&Trial) -> bool,
) -> String {
    let Some(params) = parameters else {
        return fresh;
    };
    let config = crate::model_family::configuration(family, &params);
    let logged = log.trials.iter().find(|t| {
        t.family == family
            && same_data(t)
            && crate::model_family::configuration(family, &t.parameters) == config
    });
    match logged {
        Some(t) => t.id.clone(),
        None if log.trials.iter().any(|t| t.id == fresh) => {
            format!("{fresh}/{}", configuration_tag(&params))
        }
        None => fresh,
    }
}

/// A configuration's short name in a trial id: `p` and 12 hex digits of the SHA-256 of its
/// parameters' JSON with every object's keys sorted. Sorted here, not left to `serde_json`: a
/// workspace build turns on its `preserve_order` (tauri's schemars asks for it), which keeps
/// keys in insertion order, and the tag must not depend on which binary computed it.
pub fn configuration_tag(parameters: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                serde_json::Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    let hash = crate::strategy::sha256_hex(sorted(parameters).to_string().as_bytes());
    format!("p{}", &hash[..12])
}

/// The trial id of a configuration on a window, in the form used before trial ids named
/// their universe (kept for callers of that form; the study uses [`trial_id_in`]).
pub fn trial_id(strategy: &LoadedStrategy, family: &str, window: Window) -> String {
    format!(
        "{}-v{}/{}/{}..{}",
        strategy.strategy.name,
        strategy.strategy.version,
        family,
        window.from.date_naive(),
        window.to.date_naive()
    )
}

/// The trial id of a configuration, reusing the id of a logged trial of the same family
/// with the same configuration on the same days, whatever its universe (the form used before
/// trial ids named their universe; the study uses [`resolve_trial_id_in`]).
pub fn resolve_trial_id(
    log: &TrialLog,
    strategy: &LoadedStrategy,
    family: &str,
    parameters: Option<serde_json::Value>,
    window: Window,
) -> String {
    let (from, to) = (window.from.date_naive(), window.to.date_naive());
    resolve(
        log,
        family,
        parameters,
        trial_id(strategy, family, window),
        |t| t.window.from == from && t.window.to == to,
    )
}

fn costs_of(s: &LoadedStrategy) -> Costs {
    Costs {
        taker_fee: s.strategy.costs.taker_fee,
        slippage: s.strategy.costs.slippage,
    }
}

fn daily_stats(book: &Book) -> Result<(Stats, crate::edge::Simulation), SignalError> {
    let sim = simulate(book)?;
    let (_, net) = daily(&book.times, &sim.net);
    Ok((stats(&net)?, sim))
}

/// Inputs a model family adds to a study (built by [`crate::model_family`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBooks {
    pub id: String,
    /// The 1h panel the signals are on.
    pub panel: Panel,
    /// `[asset][bar]`: the trades' sides (±1, 0 without a trade) decided at each close; the
    /// study sizes them like every family's signal, at the strategy's volatility settings
    /// scaled to the panel's bar.
    pub signal: Vec<Vec<f64>>,
    /// The configuration as the trial log records it.
    pub parameters: serde_json::Value,
    pub brier: Option<BrierSkill>,
}

/// Runs every rule family of the strategy (and any model families given) over `window`,
/// judges each, builds the portfolio and the basket, and collects the latest signals.
///
/// # Errors
/// [`SignalError::BadParam`] for an empty universe or a window without bars, and whatever
/// the families, the books or the edge test refuse.
pub fn study(
    universe: &Universe,
    strategy: &LoadedStrategy,
    window: Window,
    log: &TrialLog,
    models: Vec<ModelBooks>,
) -> Result<StudyReport, SignalError> {
    study_with(universe, strategy, window, log, models, None)
}

/// [`study`], with the pooled families scored by a frozen model file instead of their
/// walk-forward when `frozen` is given: no pooled fit over any period, every bar forecast by
/// the file's model (the held-back test's path).
///
/// # Errors
/// As [`study`], and [`SignalError::FrozenModel`] for a file that does not belong to the
/// strategy ([`FrozenPooled::check`]).
pub fn study_with(
    universe: &Universe,
    strategy: &LoadedStrategy,
    window: Window,
    log: &TrialLog,
    models: Vec<ModelBooks>,
    frozen: Option<&FrozenPooled>,
) -> Result<StudyReport, SignalError> {
    if let Some(f) = frozen {
        f.check(strategy)?;
    }
    let s = &strategy.strategy;
    let costs = costs_of(strategy);
    let daily_panel = Panel::new(universe, Duration::days(1))?;
    let vol = asset_vol(&daily_panel, &s.vol_target);
    let mut all_panels = vec![daily_panel];
    // Pooled families on their own bars: the daily one shares the rules' panel (so it can
    // join the portfolio), the 4h one gets a 4h panel.
    let mut pooled_at = Vec::new();
    for f in &s.pooled {
        if f.bar_hours == 24 {
            pooled_at.push(0);
        } else {
            all_panels.push(Panel::new(universe, Duration::hours(f.bar_hours))?);
            pooled_at.push(all_panels.len() - 1);
        }
    }
    let model_base = all_panels.len();
    all_panels.extend(models.iter().map(|m| m.panel.clone()));
    let panel = &all_panels[0];

    let mut runs = Vec::new();
    for f in &s.families {
        let out = f.run(panel, &vol)?;
        let t = targets(panel, &out.signal, &s.vol_target, &s.limits)?;
        let b = book(panel, &t, window, costs, None)?;
        let sharpe = daily_stats(&b)?.0.sharpe;
        runs.push(Run {
            id: f.id.clone(),
            rule: Some(f.rule.clone()),
            pooled: None,
            model_parameters: None,
            horizon_days: f.horizon_days(),
            panel_index: 0,
            signal: out.signal,
            targets: t,
            book: b,
            sharpe,
            brier: None,
        });
    }
    for (f, &i) in s.pooled.iter().zip(&pooled_at) {
        let p = &all_panels[i];
        let out = match frozen {
            Some(fz) => crate::pooled::score(f, p, &s.vol_target, &fz.horizon(&f.id)?.model)?,
            None => crate::pooled::run(f, p, &s.vol_target, s.freeze_date)?,
        };
        let t = targets(p, &out.signal, &f.vol_target(&s.vol_target), &s.limits)?;
        let b = book(p, &t, window, costs, None)?;
        let sharpe = daily_stats(&b)?.0.sharpe;
        let range = window.range(&p.times);
        let (mut ps, mut ys) = (Vec::new(), Vec::new());
        for (prob, lab) in out.probability.iter().zip(&out.labels) {
            for t in range.clone() {
                if let (Some(q), Some(y)) = (prob[t], lab[t]) {
                    ps.push(q);
                    ys.push(y);
                }
            }
        }
        runs.push(Run {
            id: f.id.clone(),
            rule: None,
            pooled: Some(f.clone()),
            model_parameters: None,
            horizon_days: f.horizon_days(),
            panel_index: i,
            signal: out.signal,
            targets: t,
            book: b,
            sharpe,
            brier: if ps.is_empty() {
                None
            } else {
                Some(crate::evaluate::brier_skill(&ps, &ys)?)
            },
        });
    }
    for (i, m) in models.into_iter().enumerate() {
        let p = &all_panels[model_base + i];
        let t = targets(p, &m.signal, &s.vol_target.on_bar(p.bar), &s.limits)?;
        let b = book(p, &t, window, costs, None)?;
        let sharpe = daily_stats(&b)?.0.sharpe;
        runs.push(Run {
            id: m.id,
            rule: None,
            pooled: None,
            model_parameters: Some(m.parameters),
            // A model family decides at every close of its panel's bar (each hour).
            horizon_days: p.bar.num_minutes() as f64 / 1440.0,
            panel_index: model_base + i,
            signal: m.signal,
            targets: t,
            book: b,
            sharpe,
            brier: m.brier,
        });
    }
    let ids: Vec<String> = runs
        .iter()
        .map(|r| {
            let params = r
                .rule
                .as_ref()
                .and_then(|x| serde_json::to_value(x).ok())
                .or_else(|| r.pooled.as_ref().and_then(|x| serde_json::to_value(x).ok()))
                .or_else(|| r.model_parameters.clone());
            resolve_trial_id_in(log, strategy, &r.id, params, universe, window)
        })
        .collect();

    let logged = |id: &str| log.trials.iter().any(|t| t.id == id);
    let extra: Vec<f64> = runs
        .iter()
        .zip(&ids)
        .filter(|(_, id)| !logged(id))
        .map(|(r, _)| r.sharpe)
        .collect();
    let trials = log.summary_with(&extra);
    let test = EdgeTest::STANDARD;

    let baskets: Vec<Book> = all_panels
        .iter()
        .map(|p| book(p, &basket_targets(p), window, costs, None))
        .collect::<Result<_, _>>()?;
    let (basket_stats, basket_sim) = daily_stats(&baskets[0])?;

    let mut families = Vec::new();
    for (r, id) in runs.iter().zip(&ids) {
        let p = &all_panels[r.panel_index];
        let verdict = test.judge(&r.book, &baskets[r.panel_index], &trials, r.brier)?;
        let sim = simulate(&r.book)?;
        let per_symbol = per_symbol(p, &r.targets, window, costs)?;
        let latest = latest(p, &vol_for(p, s), r, verdict.edge, s.stop_sigma_multiple, s);
        families.push(FamilyRecord {
            id: r.id.clone(),
            rule: r.rule.clone(),
            pooled: r.pooled.clone(),
            parameters: r.model_parameters.clone(),
            horizon_days: r.horizon_days,
            trial_id: id.clone(),
            curve: daily_curve(&r.book, &sim).downsample(CURVE_POINTS),
            verdict,
            per_symbol,
            latest,
        });
    }

    let portfolio = portfolio(
        strategy,
        universe,
        window,
        log,
        &runs,
        &families,
        &extra,
        &baskets[0],
        panel,
        costs,
    )?;
    let last = panel.len() - 1;
    let carry = universe
        .symbols
        .iter()
        .map(|sym| SymbolCarry {
            symbol: sym.symbol.clone(),
            time: panel.close_time(last),
            carry: funding_carry(&sym.funding, panel.close_time(last)),
        })
        .collect();
    Ok(StudyReport {
        strategy: StrategyStamp::of(strategy),
        from: window.from,
        to: window.to,
        costs,
        trials,
        symbols: symbol_info(universe),
        basket: BasketRecord {
            stats: basket_stats,
            curve: daily_curve(&baskets[0], &basket_sim).downsample(CURVE_POINTS),
        },
        families,
        portfolio,
        carry,
    })
}

/// `[asset][bar]` annualised volatility on any panel the study builds (1h, 4h, daily): the
/// sizing's estimator with the same half-life in days, scaled to the panel's bar, so every
/// family's latest signal carries a volatility, and from it a stop.
pub fn vol_for(p: &Panel, s: &crate::strategy::Strategy) -> Vec<Vec<Option<f64>>> {
    asset_vol(p, &s.vol_target.on_bar(p.bar))
}

/// The curve of a book compounded into UTC days (so 1h and daily books chart alike), with
/// each day's mean exposure.
fn daily_curve(book: &Book, sim: &crate::edge::Simulation) -> Curve {
    let (days, net) = daily(&book.times, &sim.net);
    let mut exposure = vec![0.0; days.len()];
    let mut count = vec![0.0; days.len()];
    let mut d = 0;
    for (t, e) in book.times.iter().zip(&sim.exposure) {
        while d + 1 < days.len() && *t >= days[d + 1] {
            d += 1;
        }
        exposure[d] += e;
        count[d] += 1.0;
    }
    for (e, n) in exposure.iter_mut().zip(count) {
        if n > 0.0 {
            *e /= n;
        }
    }
    Curve::new(days, &net, exposure)
}

fn per_symbol(
    panel: &Panel,
    targets: &[Vec<f64>],
    window: Window,
    costs: Costs,
) -> Result<Vec<SymbolRecord>, SignalError> {
    let range = window.range(&panel.times);
    let mut out = Vec::new();
    // Holding one symbol: its row is filled for its turn and cleared after, so the table is
    // allocated once, not once per symbol.
    let mut hold = vec![vec![0.0; panel.len()]; panel.assets.len()];
    for a in 0..panel.assets.len() {
        let Some((first, last)) = panel.span[a] else {
            continue;
        };
        // A symbol's record covers the days it has data inside the window (at least two),
        // so a symbol listed late is not diluted by the days before it existed.
        let (from, to) = (
            first.max(range.start),
            last.min(range.end.saturating_sub(1)),
        );
        if to < from + 1 {
            continue;
        }
        let window = Window {
            from: panel.times[from],
            to: panel.times[to],
        };
        let b = book(panel, targets, window, costs, Some(&[a]))?;
        let (st, sim) = daily_stats(&b)?;
        for (t, x) in hold[a].iter_mut().enumerate() {
            *x = if first <= t && t < last { 1.0 } else { 0.0 };
        }
        let h = book(panel, &hold, window, costs, Some(&[a]));
        hold[a].iter_mut().for_each(|x| *x = 0.0);
        let h = h?;
        let bars = b.len() as f64;
        let per_year =
            DAYS_PER_YEAR * Duration::days(1).num_seconds() as f64 / b.bar.num_seconds() as f64;
        out.push(SymbolRecord {
            symbol: panel.assets[a].clone(),
            stats: st,
            trades: sim.trades,
            turnover_per_year: sim.turnover.iter().sum::<f64>() / bars * per_year,
            buy_and_hold: daily_stats(&h)?.0,
        });
    }
    Ok(out)
}

fn next_decision(close: DateTime<Utc>, horizon_days: f64) -> DateTime<Utc> {
    if horizon_days >= 7.0 {
        // Weekly rules decide at the close of Sunday's bar, i.e. Monday 00:00 UTC.
        let mut t = close + Duration::days(1);
        while t.weekday() != Weekday::Mon {
            t += Duration::days(1);
        }
        t
    } else if horizon_days < 1.0 {
        // Intraday families (the 4h pooled model) decide at every bar's close.
        close + Duration::minutes((horizon_days * 1440.0).round() as i64)
    } else {
        close + Duration::days(1)
    }
}

fn latest(
    panel: &Panel,
    vol: &[Vec<Option<f64>>],
    run: &Run,
    edge: bool,
    stop_k: f64,
    s: &crate::strategy::Strategy,
) -> Vec<LatestSignal> {
    let t = panel.len() - 1;
    let time = panel.close_time(t);
    (0..panel.assets.len())
        .filter(|&a| panel.span[a].is_some_and(|(_, last)| last == t))
        .map(|a| {
            let weight = run.targets[a][t];
            let direction = if !edge || weight == 0.0 {
                SignalDirection::Flat
            } else if weight > 0.0 {
                SignalDirection::Long
            } else {
                SignalDirection::Short
            };
            let annual_vol = vol[a][t];
            let stop = match (annual_vol, panel.last_close(a, t)) {
                (Some(v), Some(entry)) if weight != 0.0 => vol_stop(
                    entry,
                    weight,
                    v / s.vol_target.bars_per_year.sqrt(),
                    stop_k,
                    run.horizon_days,
                    s.limits.max_stop_distance,
                )
                .ok(),
                _ => None,
            };
            LatestSignal {
                symbol: panel.assets[a].clone(),
                time,
                signal: run.signal[a][t],
                weight,
                direction,
                annual_vol,
                stop,
                next_decision: next_decision(time, run.horizon_days),
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn portfolio(
    strategy: &LoadedStrategy,
    universe: &Universe,
    window: Window,
    log: &TrialLog,
    runs: &[Run],
    families: &[FamilyRecord],
    extra: &[f64],
    basket: &Book,
    panel: &Panel,
    costs: Costs,
) -> Result<PortfolioRecord, SignalError> {
    let s = &strategy.strategy;
    // Only daily families combine on the daily panel; a model family that passed would need
    // its 1h book resampled, which this version does not do (stated in docs/signals.md).
    let members: Vec<&Run> = runs
        .iter()
        .zip(families)
        .filter(|(r, f)| f.verdict.edge && r.panel_index == 0)
        .map(|(r, _)| r)
        .collect();
    let trial_id = trial_id_in(strategy, "portfolio", universe, window);
    if members.is_empty() {
        return Ok(PortfolioRecord {
            members: vec![],
            trial_id,
            verdict: None,
            curve: None,
            aim_met: false,
        });
    }
    let tables: Vec<&[Vec<f64>]> = members.iter().map(|r| r.targets.as_slice()).collect();
    let t = combine(panel, &tables, &s.vol_target, &s.limits)?;
    let b = book(panel, &t, window, costs, None)?;
    let (st, sim) = daily_stats(&b)?;
    let mut sharpes = extra.to_vec();
    if !log.trials.iter().any(|x| x.id == trial_id) {
        sharpes.push(st.sharpe);
    }
    let verdict = EdgeTest::STANDARD.judge(&b, basket, &log.summary_with(&sharpes), None)?;
    let aim_met = verdict.edge
        && verdict.strategy.sharpe >= verdict.benchmark.sharpe + 0.3
        && verdict.strategy.max_drawdown <= verdict.benchmark.max_drawdown / 2.0;
    Ok(PortfolioRecord {
        members: members.iter().map(|r| r.id.clone()).collect(),
        trial_id,
        curve: Some(daily_curve(&b, &sim).downsample(CURVE_POINTS)),
        verdict: Some(verdict),
        aim_met,
    })
}

fn symbol_info(u: &Universe) -> Vec<SymbolInfo> {
    u.symbols
        .iter()
        .filter_map(|s| {
            let first = *s.hourly.open_time.first()?;
            let last = *s.hourly.open_time.last()?;
            let span = (last - first).num_hours() + 1;
            Some(SymbolInfo {
                symbol: s.symbol.clone(),
                first_candle: first,
                last_candle: last,
                candles: s.hourly.len(),
                missing_hours: span - s.hourly.len() as i64,
                funding: s.funding.source(),
            })
        })
        .collect()
}
