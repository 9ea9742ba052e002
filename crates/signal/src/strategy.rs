//! The versioned strategy file: every parameter of every family, the sizing, the costs and
//! the freeze date, in one JSON text whose SHA-256 is recorded in every report, so a result
//! always names exactly the configuration it came from.
//!
//! The shipped files live in `crates/signal/strategies/`; a changed parameter is a new file
//! (and new trials in the trial log), never an edit of a shipped one.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SignalError;
use crate::bars::Window;
use crate::families::RuleFamily;
use crate::model::ModelKind;
use crate::pooled::PooledFamily;
use crate::sizing::{Limits, VolTarget};

/// Version of the file layout this build reads.
pub const STRATEGY_FORMAT: u32 = 1;

/// Costs per unit of turnover, as the strategy file writes them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostSpec {
    pub taker_fee: f64,
    pub slippage: f64,
}

/// A span of UTC days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Days {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Days {
    /// The bars whose open time falls on these days.
    pub fn window(&self) -> Window {
        let start = |d: NaiveDate| DateTime::<Utc>::from_naive_utc_and_offset(d.into(), Utc);
        Window {
            from: start(self.from),
            to: start(self.to) + Duration::days(1) - Duration::milliseconds(1),
        }
    }
}

/// The 1h learned models as families: one configuration per model kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFamilies {
    /// The kinds evaluated, each a trial (`model_1h_<kind>`).
    pub kinds: Vec<ModelKind>,
}

/// A strategy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    /// [`STRATEGY_FORMAT`].
    pub format: u32,
    pub name: String,
    pub version: String,
    /// The last day of data any choice in this file saw.
    pub freeze_date: NaiveDate,
    /// Why the parameters are what they are (a pointer to the note).
    pub rationale: String,
    pub costs: CostSpec,
    pub vol_target: VolTarget,
    pub limits: Limits,
    /// The stop lies this many daily σ × √(horizon days) from the entry.
    pub stop_sigma_multiple: f64,
    /// The window the visible-data evaluation scores.
    pub evaluation: Days,
    pub families: Vec<RuleFamily>,
    pub model_1h: ModelFamilies,
    /// The learned model pooled across symbols, one configuration per horizon (absent in
    /// files before version 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pooled: Vec<PooledFamily>,
}

/// A strategy with the hash of the exact text it was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedStrategy {
    pub strategy: Strategy,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Strategy {
    /// Parses and checks a strategy file's text, hashing it.
    ///
    /// # Errors
    /// [`SignalError::Strategy`] for malformed JSON, an unknown field, another format, or a
    /// parameter out of range (naming it).
    pub fn from_json(text: &str) -> Result<LoadedStrategy, SignalError> {
        let strategy: Strategy =
            serde_json::from_str(text).map_err(|e| SignalError::Strategy(e.to_string()))?;
        strategy.check()?;
        Ok(LoadedStrategy {
            strategy,
            sha256: sha256_hex(text.as_bytes()),
        })
    }

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`SignalError::Strategy`] naming the first bad one.
    pub fn check(&self) -> Result<(), SignalError> {
        let bad = |s: String| Err(SignalError::Strategy(s));
        if self.format != STRATEGY_FORMAT {
            return bad(format!(
                "format {} is not the format {STRATEGY_FORMAT} this build reads",
                self.format
            ));
        }
        let c = self.costs;
        if !(c.taker_fee >= 0.0 && c.slippage >= 0.0 && c.taker_fee + c.slippage < 0.1) {
            return bad(format!("bad costs {c:?}"));
        }
        self.vol_target
            .check()
            .and_then(|()| self.limits.check())
            .map_err(|e| SignalError::Strategy(e.to_string()))?;
        if !(self.stop_sigma_multiple > 0.0 && self.stop_sigma_multiple.is_finite()) {
            return bad(format!("bad stop multiple {}", self.stop_sigma_multiple));
        }
        if self.evaluation.to < self.evaluation.from {
            return bad("the evaluation window ends before it starts".into());
        }
        if self.families.is_empty() && self.model_1h.kinds.is_empty() && self.pooled.is_empty() {
            return bad("no family".into());
        }
        let mut ids: Vec<String> = self.families.iter().map(|f| f.id.clone()).collect();
        ids.extend(self.model_1h.kinds.iter().map(|k| model_family_id(*k)));
        ids.extend(self.pooled.iter().map(|p| p.id.clone()));
        let mut sorted = ids.clone();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return bad(format!("family id {} is used twice", w[0]));
        }
        for f in &self.families {
            f.check()?;
        }
        for p in &self.pooled {
            p.check()?;
        }
        Ok(())
    }
}

/// The id of a 1h model family.
pub fn model_family_id(kind: ModelKind) -> String {
    format!("model_1h_{}", kind.name())
}
