//! The pooled model frozen to a file: the last walk-forward fit of each pooled horizon up to
//! a named date, with the strategy it belongs to, so a later period (or other symbols) can be
//! scored by exactly that model, with no refit, bit for bit.
//!
//! Invariants: a file names the strategy's SHA-256 and carries each horizon's full
//! configuration (the feature spec and fitting parameters); it is refused for any strategy
//! whose hash or pooled configurations differ. Its numbers are the walk-forward's own (the
//! model fitted at the last scheduled fit up to the date), written as JSON that reads back to
//! the same `f64` bits, so the file's forecasts are the walk-forward's.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::bars::Panel;
use crate::pooled::{PooledFamily, PooledModel, run};
use crate::strategy::LoadedStrategy;
use crate::study::StrategyStamp;
use crate::universe::Universe;

/// Version of the frozen file's layout this build reads and writes.
pub const FROZEN_FORMAT: u32 = 1;

/// One horizon of the frozen pooled model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenHorizon {
    /// The configuration exactly as the strategy file writes it (feature spec included).
    pub family: PooledFamily,
    /// Names of the features, in the order of the coefficients.
    pub features: Vec<String>,
    /// The last model the walk-forward fitted up to the fit end date.
    pub model: PooledModel,
}

/// A frozen pooled model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenPooled {
    /// [`FROZEN_FORMAT`].
    pub format: u32,
    /// The strategy the model belongs to (its SHA-256 is checked on use).
    pub strategy: StrategyStamp,
    /// No fit used a label that ends after this day's end.
    pub fit_end: NaiveDate,
    /// The symbols the fits pooled.
    pub symbols: Vec<String>,
    pub horizons: Vec<FrozenHorizon>,
}

/// The feature names of a configuration, in the order of its coefficients.
pub fn feature_names(cfg: &PooledFamily) -> Vec<String> {
    let mut out: Vec<String> = cfg
        .return_days
        .iter()
        .map(|d| format!("vol_normalised_return_{d}d"))
        .collect();
    out.extend(cfg.ma_days.iter().map(|d| format!("sma_distance_{d}d")));
    out.push(format!("daily_rsi_{}", cfg.rsi_days));
    out.push(format!(
        "funding_mean_{}d_minus_neutral_bp",
        cfg.funding_days
    ));
    out.extend(
        cfg.rank_days
            .iter()
            .map(|d| format!("cross_sectional_rank_{d}d")),
    );
    out
}

fn bad(reason: String) -> SignalError {
    SignalError::FrozenModel(reason)
}

/// Freezes every pooled horizon of `strategy`: runs its walk-forward on `universe` with fits
/// up to `fit_end` and keeps each horizon's last model.
///
/// # Errors
/// [`SignalError::FrozenModel`] for a strategy without a pooled family, a `fit_end` after
/// the strategy's freeze date, or a horizon without any fit up to `fit_end`; and what the
/// panel and the walk-forward refuse.
pub fn freeze(
    universe: &Universe,
    strategy: &LoadedStrategy,
    fit_end: NaiveDate,
) -> Result<FrozenPooled, SignalError> {
    let s = &strategy.strategy;
    if s.pooled.is_empty() {
        return Err(bad(format!(
            "strategy {} v{} has no pooled family to freeze",
            s.name, s.version
        )));
    }
    if fit_end > s.freeze_date {
        return Err(bad(format!(
            "fit end {fit_end} is after the strategy's freeze date {}",
            s.freeze_date
        )));
    }
    let mut horizons = Vec::new();
    for f in &s.pooled {
        let panel = Panel::new(universe, chrono::Duration::hours(f.bar_hours))?;
        let out = run(f, &panel, &s.vol_target, fit_end)?;
        let model = out
            .models
            .last()
            .cloned()
            .ok_or_else(|| bad(format!("{}: no fit up to {fit_end}", f.id)))?;
        horizons.push(FrozenHorizon {
            family: f.clone(),
            features: feature_names(f),
            model,
        });
    }
    Ok(FrozenPooled {
        format: FROZEN_FORMAT,
        strategy: StrategyStamp::of(strategy),
        fit_end,
        symbols: universe.symbols.iter().map(|x| x.symbol.clone()).collect(),
        horizons,
    })
}

impl FrozenPooled {
    /// The file's text: pretty JSON ending in a newline; every `f64` is written so that it
    /// reads back to the same bits.
    ///
    /// # Errors
    /// [`SignalError::FrozenModel`] for a non-finite number (JSON has none).
    pub fn to_json(&self) -> Result<String, SignalError> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| bad(e.to_string()))?;
        text.push('\n');
        Ok(text)
    }

    /// Parses a frozen file's text (not yet checked against a strategy: see
    /// [`FrozenPooled::check`]).
    ///
    /// # Errors
    /// [`SignalError::FrozenModel`] for malformed JSON, an unknown field or another format.
    pub fn from_json(text: &str) -> Result<Self, SignalError> {
        let f: FrozenPooled = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if f.format != FROZEN_FORMAT {
            return Err(bad(format!(
                "format {} is not the format {FROZEN_FORMAT} this build reads",
                f.format
            )));
        }
        Ok(f)
    }

    /// Refuses the file unless it belongs to exactly `strategy`: the same SHA-256, and for
    /// every pooled family of the strategy a horizon with the same configuration, feature
    /// names and a model of the right size (and no horizon the strategy lacks).
    ///
    /// # Errors
    /// [`SignalError::FrozenModel`] saying what does not match.
    pub fn check(&self, strategy: &LoadedStrategy) -> Result<(), SignalError> {
        if self.strategy.sha256 != strategy.sha256 {
            return Err(bad(format!(
                "the model was frozen for strategy {} v{} (sha256 {}), not for {} v{} (sha256 {})",
                self.strategy.name,
                self.strategy.version,
                self.strategy.sha256,
                strategy.strategy.name,
                strategy.strategy.version,
                strategy.sha256
            )));
        }
        let pooled = &strategy.strategy.pooled;
        if let Some(h) = self
            .horizons
            .iter()
            .find(|h| !pooled.iter().any(|f| f.id == h.family.id))
        {
            return Err(bad(format!(
                "horizon {} is not a pooled family of the strategy",
                h.family.id
            )));
        }
        for f in pooled {
            let h = self.horizon(&f.id)?;
            if h.family != *f {
                return Err(bad(format!(
                    "{}: the file's feature spec or fitting parameters differ from the strategy's",
                    f.id
                )));
            }
            if h.features != feature_names(f) {
                return Err(bad(format!(
                    "{}: the file's features are {:?}",
                    f.id, h.features
                )));
            }
            let d = f.n_features();
            let m = &h.model;
            if m.mean.len() != d || m.scale.len() != d || m.weights.len() != d {
                return Err(bad(format!(
                    "{}: {} coefficients for {d} features",
                    f.id,
                    m.weights.len()
                )));
            }
            let finite = m
                .mean
                .iter()
                .chain(&m.scale)
                .chain(&m.weights)
                .chain([&m.intercept])
                .all(|v| v.is_finite());
            if !finite || m.scale.iter().any(|s| *s <= 0.0) {
                return Err(bad(format!("{}: a coefficient is not usable", f.id)));
            }
        }
        Ok(())
    }

    /// The horizon of the pooled family `id`.
    ///
    /// # Errors
    /// [`SignalError::FrozenModel`] when the file has none.
    pub fn horizon(&self, id: &str) -> Result<&FrozenHorizon, SignalError> {
        self.horizons
            .iter()
            .find(|h| h.family.id == id)
            .ok_or_else(|| bad(format!("the file has no model for {id}")))
    }
}
