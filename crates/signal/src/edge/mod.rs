//! The evaluation engine: how a strategy's target weights become net returns ([`book`]),
//! and the edge test that decides whether those returns show skill ([`verdict`]).
//!
//! The edge test works on daily net returns (bars compounded into UTC days): their risk and
//! return ([`stats`]), a block-bootstrap interval of the Sharpe ([`bootstrap`]), the
//! strategy against random timing of its own positions ([`null`]), the deflated Sharpe ratio
//! after every configuration in the trial log ([`dsr`], [`trials`]), and the verdict that
//! combines them with fixed thresholds. `docs/edge-test.md` explains each number.
//!
//! Everything here is pure and seeded: the same book, costs, trial log and seed give the same
//! numbers bit for bit.

pub mod book;
pub mod bootstrap;
pub mod dsr;
pub mod null;
mod rng;
pub mod stats;
pub mod trials;
pub mod verdict;

pub use book::{Book, Costs, Simulation, daily, episodes, simulate};
pub use bootstrap::{SharpeInterval, mean_block_length, sharpe_interval};
pub use dsr::{Dsr, deflated_sharpe, expected_max_sharpe, min_track_record, probabilistic_sharpe};
pub use null::{Activity, NullReport, permute_episodes, random_timing};
pub use rng::SplitMix64;
pub use stats::{DAYS_PER_YEAR, Stats, sharpe, stats};
pub use trials::{Trial, TrialKind, TrialLog, TrialSummary, Window};
pub use verdict::{BookSummary, EdgeTest, FlatReason, Power, Verdict, daily_net};
