//! The trial log: every strategy configuration ever evaluated on this project's data, so the
//! deflated Sharpe ratio ([`super::dsr`]) knows how many tries a result was chosen from.
//!
//! The log is `crates/signal/trials/trials.jsonl`, one JSON object per line, appended to
//! (never edited or pruned) in the commit that evaluates a new configuration. A line is one
//! configuration (family + parameters) on one data window: running the same configuration
//! again on the same data is not a new trial; any change chosen after seeing a result is.
//! Benchmarks (buy-and-hold) are recorded with `"kind":"benchmark"` for reference and are not
//! counted. Sharpe is always the annualised (√365) Sharpe of daily net returns.
//!
//! The log is compiled into the crate ([`TrialLog::shipped`]), so the library stays free of
//! I/O and an installed app judges with the same count as the repository.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::SignalError;

/// The shipped trial log's text.
pub const SHIPPED_TRIALS: &str = include_str!("../../trials/trials.jsonl");

/// Whether a line is a tried configuration or a reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialKind {
    /// A configuration tried in search of an edge: counted in `N`.
    #[default]
    Trial,
    /// A reference such as buy-and-hold: recorded, not counted.
    Benchmark,
}

/// The data window a trial was evaluated on (both days included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trial {
    /// Unique across the log.
    pub id: String,
    #[serde(default)]
    pub kind: TrialKind,
    /// Signal family (`trend`, `cross_sectional_momentum`, ...).
    pub family: String,
    /// The configuration's parameters, as the family names them.
    pub parameters: serde_json::Value,
    /// The symbols it ran on.
    pub universe: String,
    /// Bar length (`1h`, `4h`, `1d`).
    pub bar: String,
    pub window: Window,
    /// Costs charged per unit of turnover, in basis points.
    pub costs_bp: f64,
    /// Which funding was charged.
    pub funding: String,
    /// Annualised (√365) Sharpe of the daily net returns.
    pub sharpe: f64,
    /// When it was run.
    pub date: NaiveDate,
    /// Who or what ran it (a person, a prototype, a commit of the CLI).
    pub source: String,
    /// Further numbers worth keeping (drawdown, turnover, ...), free-form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Trial {
    /// The trial as one log line (compact JSON, no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a trial is plain data and always serialises")
    }
}

/// What the deflated Sharpe ratio needs from the log.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrialSummary {
    /// Number of trials.
    pub n: usize,
    /// Mean of their annualised Sharpes.
    pub sharpe_mean: f64,
    /// Sample variance of their annualised Sharpes (0 for fewer than two).
    pub sharpe_variance: f64,
}

impl TrialSummary {
    /// Summarises a set of annualised trial Sharpes.
    pub fn of(sharpes: &[f64]) -> Self {
        let n = sharpes.len();
        let mean = if n > 0 {
            sharpes.iter().sum::<f64>() / n as f64
        } else {
            0.0
        };
        let variance = if n > 1 {
            sharpes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        TrialSummary {
            n,
            sharpe_mean: mean,
            sharpe_variance: variance,
        }
    }
}

/// The parsed log.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialLog {
    pub trials: Vec<Trial>,
}

impl TrialLog {
    /// Parses the log's text; blank lines are skipped.
    ///
    /// # Errors
    /// [`SignalError::TrialLog`] with the line number for a line that is not a trial, a
    /// repeated id, an empty id, family or source, a non-finite Sharpe, negative costs, or a
    /// window that ends before it starts.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        let mut trials: Vec<Trial> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let bad = |reason: String| SignalError::TrialLog {
                line: i + 1,
                reason,
            };
            if line.trim().is_empty() {
                continue;
            }
            let t: Trial = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            if t.id.trim().is_empty() || t.family.trim().is_empty() || t.source.trim().is_empty() {
                return Err(bad("id, family and source must not be empty".into()));
            }
            if !t.sharpe.is_finite() {
                return Err(bad(format!("Sharpe {} is not finite", t.sharpe)));
            }
            if !(t.costs_bp >= 0.0 && t.costs_bp.is_finite()) {
                return Err(bad(format!("costs {} bp are not a cost", t.costs_bp)));
            }
            if t.window.to < t.window.from {
                return Err(bad("the window ends before it starts".into()));
            }
            if trials.iter().any(|o| o.id == t.id) {
                return Err(bad(format!("id {} is already in the log", t.id)));
            }
            trials.push(t);
        }
        Ok(TrialLog { trials })
    }

    /// The log shipped with the crate.
    ///
    /// # Errors
    /// As [`TrialLog::parse`]; a test keeps the shipped log parseable.
    pub fn shipped() -> Result<Self, SignalError> {
        Self::parse(SHIPPED_TRIALS)
    }

    /// The trials counted for the deflated Sharpe ratio (benchmarks left out).
    pub fn summary(&self) -> TrialSummary {
        self.summary_with(&[])
    }

    /// The summary with further trials not yet written to the log (e.g. the configuration
    /// being judged, before its line is appended).
    pub fn summary_with(&self, extra_sharpes: &[f64]) -> TrialSummary {
        let sharpes: Vec<f64> = self
            .trials
            .iter()
            .filter(|t| t.kind == TrialKind::Trial)
            .map(|t| t.sharpe)
            .chain(extra_sharpes.iter().copied())
            .collect();
        TrialSummary::of(&sharpes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_log_parses_counts_the_lead_prototypes_and_is_canonical() {
        let log = TrialLog::shipped().expect("the shipped log parses");
        let s = log.summary();
        assert!(s.n >= 4, "the lead's four prototypes are counted");
        let first: Vec<f64> = log.trials.iter().take(4).map(|t| t.sharpe).collect();
        assert_eq!(first, vec![0.12, 0.27, -0.09, -0.55]);
        assert!(
            log.trials
                .iter()
                .all(|t| t.kind == TrialKind::Trial || t.family == "buy_and_hold")
        );
        // Lines are written as `to_line` writes them, so appending by code or by hand agree.
        for (line, t) in SHIPPED_TRIALS.lines().zip(&log.trials) {
            assert_eq!(line, t.to_line());
        }
    }

    #[test]
    fn summary_is_the_sample_variance_of_counted_trials() {
        let s = TrialSummary::of(&[0.12, 0.27, -0.09, -0.55]);
        assert_eq!(s.n, 4);
        assert!((s.sharpe_mean + 0.0625).abs() < 1e-12);
        assert!((s.sharpe_variance - 0.382_275 / 3.0).abs() < 1e-12);
        assert_eq!(TrialSummary::of(&[0.3]).sharpe_variance, 0.0);
        let log = TrialLog::shipped().expect("parses");
        assert_eq!(log.summary_with(&[1.0]).n, log.summary().n + 1);
    }

    #[test]
    fn refuses_bad_lines_with_their_number() {
        let good = SHIPPED_TRIALS.lines().next().expect("a first line");
        let twice = format!("{good}\n\n{good}\n");
        assert!(matches!(
            TrialLog::parse(&twice),
            Err(SignalError::TrialLog { line: 3, .. })
        ));
        let typo = good.replace("\"sharpe\"", "\"sharp\"");
        assert!(matches!(
            TrialLog::parse(&typo),
            Err(SignalError::TrialLog { line: 1, .. })
        ));
        let reversed = good.replace("\"from\":\"2021-06-01\"", "\"from\":\"2024-06-01\"");
        assert!(TrialLog::parse(&reversed).is_err());
        assert!(TrialLog::parse("not json").is_err());
        assert_eq!(TrialLog::parse("\n").expect("empty").summary().n, 0);
    }
}
