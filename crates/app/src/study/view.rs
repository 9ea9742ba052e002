//! What `signal_study` shows: the study's report turned into the families table, the
//! portfolio card, the basket and the universe, with curves downsampled for the UI.

use chrono::DateTime;
use perpdesk_signal::edge::FlatReason;
use perpdesk_signal::portfolio::Curve;
use perpdesk_signal::study::FamilyRecord;
use serde::Serialize;

use super::{StudyState, VIEW_CURVE_POINTS};

/// A curve as the UI draws it: millisecond times, downsampled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveView {
    pub t: Vec<i64>,
    pub equity: Vec<f64>,
    pub drawdown: Vec<f64>,
    pub exposure: Vec<f64>,
}

impl CurveView {
    fn of(c: &Curve) -> Self {
        let c = c.downsample(VIEW_CURVE_POINTS);
        Self {
            t: c.times.iter().map(DateTime::timestamp_millis).collect(),
            equity: c.equity,
            drawdown: c.drawdown,
            exposure: c.exposure,
        }
    }
}

/// A family's record as the table shows it (the edge test's numbers on the universe book).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordView {
    /// True only when every criterion of the edge test holds.
    pub edge: bool,
    /// Why the family is flat (stable codes the UI translates), empty with an edge.
    pub reasons: Vec<FlatReason>,
    pub sharpe: f64,
    pub sharpe_lower: f64,
    pub sharpe_upper: f64,
    pub interval_level: f64,
    pub sortino: Option<f64>,
    pub max_drawdown: f64,
    pub total_return: f64,
    /// Percentile among the random-timing nulls.
    pub percentile: f64,
    /// The deflated Sharpe ratio's p-value.
    pub dsr_p: f64,
    pub trades: usize,
    pub turnover_per_year: f64,
    pub exposure: f64,
    /// Buy-and-hold of the equal-weight basket over the same days.
    pub benchmark_sharpe: f64,
    pub benchmark_max_drawdown: f64,
    pub benchmark_total_return: f64,
    /// Years of daily returns the record has.
    pub record_years: f64,
    /// The annualised Sharpe the deflated test must clear (`SR₀`, from every trial counted).
    pub dsr_bar: f64,
    /// Years of record a 95% test needs at this Sharpe to show it above 0 (the minimum
    /// track record length); `None`: never, the Sharpe is not above 0.
    pub min_years_vs_zero: Option<f64>,
    /// The same against the deflated bar `dsr_bar`; `None`: never, the Sharpe is below it.
    pub min_years_vs_bar: Option<f64>,
}

impl RecordView {
    pub(super) fn of(v: &perpdesk_signal::edge::Verdict) -> Self {
        let power = v.power();
        Self {
            edge: v.edge,
            reasons: v.reasons.clone(),
            sharpe: v.strategy.sharpe,
            sharpe_lower: v.interval.lower,
            sharpe_upper: v.interval.upper,
            interval_level: v.interval.level,
            sortino: v.strategy.sortino,
            max_drawdown: v.strategy.max_drawdown,
            total_return: v.strategy.total_return,
            percentile: v.random_timing.percentile,
            dsr_p: v.deflated.p_value,
            trades: v.activity.trades,
            turnover_per_year: v.activity.turnover_per_year,
            exposure: v.activity.exposure,
            benchmark_sharpe: v.benchmark.sharpe,
            benchmark_max_drawdown: v.benchmark.max_drawdown,
            benchmark_total_return: v.benchmark.total_return,
            record_years: power.record_years,
            dsr_bar: power.bar_sharpe,
            min_years_vs_zero: power.years_vs_zero,
            min_years_vs_bar: power.years_vs_bar,
        }
    }
}

/// One family in the study table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyView {
    pub id: String,
    /// The rule's name (`trend_momentum`, ...).
    pub rule: Option<String>,
    pub horizon_days: f64,
    pub record: RecordView,
    /// When the app shows the family's next signal, UTC ms (after the next daily study).
    pub next_decision_ms: Option<i64>,
    /// Symbols the book holds at the last close (long or short), whatever the verdict.
    pub holding: usize,
    pub curve: CurveView,
}

/// The equal-risk portfolio of the families that pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioView {
    /// Families in it; empty when nothing passes, and the portfolio is then flat.
    pub members: Vec<String>,
    pub flat: bool,
    pub aim_met: bool,
    pub record: Option<RecordView>,
    pub curve: Option<CurveView>,
}

/// The equal-weight basket, every family's benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BasketView {
    pub sharpe: f64,
    pub max_drawdown: f64,
    pub total_return: f64,
    pub curve: CurveView,
}

/// A symbol of the universe and its funding carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UniverseSymbolView {
    pub symbol: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub candles: usize,
    pub missing_hours: i64,
    /// What a long pays per year at the last 7 days' funding pace (negative: receives).
    pub carry_annualised: Option<f64>,
    /// The carry is the real series (not Binance's default rate).
    pub carry_real: Option<bool>,
}

/// The `signal_study` reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyView {
    /// `ready`, `computing` (with `progress`) or `failed` (with `error`).
    pub state: &'static str,
    /// Steps done and total while computing.
    pub progress: Option<(u32, u32)>,
    pub error: Option<String>,
    pub strategy: Option<String>,
    pub strategy_sha256: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub trials: Option<usize>,
    pub families: Vec<FamilyView>,
    pub portfolio: Option<PortfolioView>,
    pub basket: Option<BasketView>,
    pub symbols: Vec<UniverseSymbolView>,
}

fn rule_name(f: &FamilyRecord) -> Option<String> {
    let v = serde_json::to_value(f.rule.as_ref()?).ok()?;
    v.get("rule")?.as_str().map(str::to_owned)
}

/// The study view of a report (or of a study still running).
pub(super) fn view(state: &StudyState) -> StudyView {
    let Some(r) = &state.report else {
        return StudyView {
            state: if state.error.is_some() {
                "failed"
            } else {
                "computing"
            },
            progress: state.progress,
            error: state.error.clone(),
            strategy: None,
            strategy_sha256: None,
            from_ms: None,
            to_ms: None,
            trials: None,
            families: vec![],
            portfolio: None,
            basket: None,
            symbols: vec![],
        };
    };
    let families = r
        .families
        .iter()
        .map(|f| FamilyView {
            id: f.id.clone(),
            rule: rule_name(f),
            horizon_days: f.horizon_days,
            record: RecordView::of(&f.verdict),
            next_decision_ms: f
                .latest
                .first()
                .map(|l| super::tickets::shown_next_decision(l).timestamp_millis()),
            holding: f.latest.iter().filter(|l| l.weight != 0.0).count(),
            curve: CurveView::of(&f.curve),
        })
        .collect();
    let p = &r.portfolio;
    let symbols = r
        .symbols
        .iter()
        .map(|s| {
            let carry = r.carry.iter().find(|c| c.symbol == s.symbol);
            UniverseSymbolView {
                symbol: s.symbol.clone(),
                first_ms: s.first_candle.timestamp_millis(),
                last_ms: s.last_candle.timestamp_millis(),
                candles: s.candles,
                missing_hours: s.missing_hours,
                carry_annualised: carry.map(|c| c.carry.annualised),
                carry_real: carry.map(|c| c.carry.real),
            }
        })
        .collect();
    StudyView {
        state: "ready",
        progress: state.progress,
        error: state.error.clone(),
        strategy: Some(format!("{}-v{}", r.strategy.name, r.strategy.version)),
        strategy_sha256: Some(r.strategy.sha256.clone()),
        from_ms: Some(r.from.timestamp_millis()),
        to_ms: Some(r.to.timestamp_millis()),
        trials: Some(r.trials.n),
        families,
        portfolio: Some(PortfolioView {
            members: p.members.clone(),
            flat: p.members.is_empty(),
            aim_met: p.aim_met,
            record: p.verdict.as_ref().map(RecordView::of),
            curve: p.curve.as_ref().map(CurveView::of),
        }),
        basket: Some(BasketView {
            sharpe: r.basket.stats.sharpe,
            max_drawdown: r.basket.stats.max_drawdown,
            total_return: r.basket.stats.total_return,
            curve: CurveView::of(&r.basket.curve),
        }),
        symbols,
    }
}
