//! A trained model as a file: the model, the feature-set version it expects, the candles
//! it learnt from, and the out-of-sample record that decides whether its signals may show a
//! direction. The crate only turns it into and out of JSON text; the caller does the I/O.

use serde::{Deserialize, Serialize};

use crate::SignalError;
use crate::backtest::{BacktestConfig, FundingRates};
use crate::card::Evaluation;
use crate::evaluate::{Metrics, WalkForwardConfig};
use crate::features::{FEATURE_SET_VERSION, Ohlcv, compute_features_with_funding};
use crate::model::{Model, Scorer};
use crate::signal::{Record, Signal, TrainingWindow, make_signal_with_record, model_version};

/// Version of this file layout.
pub const SAVED_MODEL_FORMAT: u32 = 1;

/// A saved model and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    pub format: u32,
    pub symbol: String,
    /// The feature set the model reads; loading refuses any other.
    pub feature_set_version: u32,
    pub model_version: String,
    /// First training candle and last calibration candle (open times).
    pub training_window: TrainingWindow,
    pub walk_forward_config: WalkForwardConfig,
    pub backtest_config: BacktestConfig,
    /// Pooled out-of-sample metrics of this model kind's walk-forward evaluation.
    pub metrics: Metrics,
    /// The record shown with every signal; its edge flags decide Flat or not.
    pub record: Record,
    pub model: Model,
}

impl SavedModel {
    /// Bundles a model trained on the latest candles with the evaluation of its kind.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] when `evaluation` did not choose the model's kind (the
    /// record would then belong to another model).
    pub fn new(
        symbol: &str,
        model: Model,
        window: TrainingWindow,
        evaluation: &Evaluation,
    ) -> Result<Self, SignalError> {
        let chosen = evaluation.chosen();
        if chosen.kind() != model.kind() {
            return Err(SignalError::BadParam(format!(
                "the evaluation chose {}, the model is {}",
                chosen.kind(),
                model.kind()
            )));
        }
        Ok(Self {
            format: SAVED_MODEL_FORMAT,
            symbol: symbol.to_string(),
            feature_set_version: model.feature_set_version(),
            model_version: model_version(&model, window.last),
            training_window: window,
            walk_forward_config: chosen.walk_forward.config,
            backtest_config: chosen.backtest.config,
            metrics: chosen.walk_forward.pooled,
            record: Record::new(evaluation),
            model,
        })
    }

    /// Reads a saved model, refusing one made for another feature set before anything
    /// else is parsed: a model only understands the features it was trained on.
    ///
    /// # Errors
    /// [`SignalError::FeatureVersion`] for another feature-set version (expected: the
    /// file's, found: this build's), [`SignalError::BadParam`] for text that is not a saved
    /// model of a known format.
    pub fn from_json(text: &str) -> Result<Self, SignalError> {
        let bad = |e: String| SignalError::BadParam(format!("saved model: {e}"));
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let version = value
            .get("feature_set_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| bad("no feature_set_version".into()))?;
        if version != u64::from(FEATURE_SET_VERSION) {
            return Err(SignalError::FeatureVersion {
                expected: u32::try_from(version).unwrap_or(u32::MAX),
                found: FEATURE_SET_VERSION,
            });
        }
        let format = value.get("format").and_then(serde_json::Value::as_u64);
        if format != Some(u64::from(SAVED_MODEL_FORMAT)) {
            return Err(bad(format!("unknown format {format:?}")));
        }
        let saved: SavedModel = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        if saved.model.feature_set_version() != saved.feature_set_version {
            return Err(bad(
                "the model and the file disagree on the feature set".into()
            ));
        }
        if let Model::Gbdt(g) = &saved.model {
            g.check()?;
        }
        Ok(saved)
    }

    /// The model as pretty JSON.
    ///
    /// # Errors
    /// [`SignalError::BadParam`] if a number cannot be written (a non-finite metric).
    pub fn to_json(&self) -> Result<String, SignalError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| SignalError::BadParam(format!("saved model: {e}")))
    }

    /// The signal at the close of the last candle of `x`, for `symbol`.
    ///
    /// # Errors
    /// Feature, version and scoring errors of [`make_signal_with_record`].
    pub fn signal(
        &self,
        symbol: &str,
        x: &Ohlcv,
        funding: &FundingRates,
    ) -> Result<Signal, SignalError> {
        let features = compute_features_with_funding(x, funding)?;
        make_signal_with_record(
            symbol,
            x,
            &features,
            &self.model,
            &self.model_version,
            &self.record,
            self.backtest_config,
        )
    }
}
