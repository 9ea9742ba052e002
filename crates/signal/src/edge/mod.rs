//! The evaluation engine: how a strategy's target weights become net returns ([`book`]),
//! and the edge test that decides whether those returns show skill.
//!
//! Everything here is pure and seeded: the same book, costs and seed give the same numbers
//! bit for bit.

pub mod book;

pub use book::{Book, Costs, Simulation, daily, episodes, simulate};
