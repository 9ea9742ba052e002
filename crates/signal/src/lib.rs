//! perpdesk-signal: technical indicators, model features, labels, a calibrated baseline
//! model and its walk-forward evaluation, for Binance USDⓈ-M perpetuals.
//!
//! Invariant: the crate is pure. No I/O, no wall clock, no randomness that is not seeded by
//! the caller: candles in, features / signals / reports out, so every number can be
//! reproduced. Indicator and model arithmetic is in `f64`; that is statistics, not money,
//! and exact decimals ([`perpdesk_core::Candle`]) are converted once at the boundary
//! ([`features::Ohlcv::from_candles`]).
//!
//! The indicator engine is the `ta-lib` crate, the pure-Rust port of TA-Lib, because RSI,
//! ATR and ADX must use Wilder's smoothing to agree with TA-Lib, TradingView and Binance's
//! own charts. Indicators TA-Lib lacks (rolling VWAP, fractional rate of change, rolling
//! volatility, volume z-score) are ours.
//!
//! Two direction models are trained on the same walk-forward folds and compared with the
//! same baselines: an L2 logistic regression ([`model`]) and gradient-boosted trees trained
//! by LightGBM ([`gbdt`]; training is native and single-threaded for determinism, scoring
//! walks the fitted trees in Rust). The live signal uses the one with the better
//! out-of-sample record on the symbol, and shows a direction only where the edge test
//! ([`edge`]) finds an edge.
//!
//! The signal families work on the whole universe at daily horizons: [`universe`] (every
//! symbol's 1h candles and funding, parsed from text; the funding source per symbol),
//! [`bars`] (daily and 4h bars with explicit gaps, the [`bars::Panel`] of all symbols),
//! [`families`] (plain rules with the parameters of a versioned [`strategy`] file),
//! [`sizing`] (volatility targets per position and per book, stops), [`portfolio`] (books,
//! the equal-risk portfolio, the equal-weight basket), [`model_family`] (the 1h models as
//! families), [`pooled`] (one model pooled across symbols at 4h and daily, frozen to a file by
//! [`frozen`]) and [`study`] (the full record of a strategy over a window, judged per family
//! on the universe book). Invariant: a family's target at a bar's close uses only data
//! settled by that close, and is held over the next bar.

pub mod backtest;
pub mod bars;
pub mod card;
pub mod data;
pub mod edge;
pub mod error;
pub mod evaluate;
pub mod families;
pub mod features;
pub mod frozen;
pub mod gbdt;
pub mod indicators;
pub mod labels;
pub mod model;
pub mod model_family;
pub mod pooled;
pub mod portfolio;
pub mod saved;
pub mod signal;
pub mod sizing;
pub mod strategy;
pub mod stream;
pub mod study;
pub mod universe;

pub use backtest::{
    BacktestConfig, BacktestReport, BacktestResult, EquityPoint, FundingRates, Side, Trade,
    backtest,
};
pub use card::{
    Candidate, CandidateCard, Evaluation, ModelCard, StrategyCard, choose, default_walk_forward_1h,
    evaluate, evaluate_split_funding, evaluate_with_progress,
};
pub use data::{parse_funding, parse_klines};
pub use edge::{
    Book, Costs, EdgeTest, FlatReason, Simulation, TrialLog, TrialSummary, Verdict, daily, simulate,
};
pub use error::SignalError;
pub use evaluate::{
    BrierSkill, CalibrationBucket, FoldReport, Metrics, OosPrediction, WalkForwardConfig,
    WalkForwardReport, brier_skill, calibration_table, fold_count, walk_forward,
    walk_forward_models,
};
pub use features::{
    FEATURE_NAMES, FEATURE_SET_VERSION, FeatureRow, FeatureStream, Features, N_FEATURES, Ohlcv,
    WARMUP, compute_features, compute_features_with_funding, features_from_candles,
};
pub use gbdt::{GbdtConfig, GbdtModel};
pub use labels::{Direction, LabelSpec, forward_labels};
pub use model::{LogisticConfig, LogisticModel, Model, ModelKind, Platt, Scorer};
pub use saved::SavedModel;
pub use signal::{
    Record, Signal, SignalDirection, TrainingWindow, make_signal, make_signal_with_record,
    train_latest, train_model,
};
