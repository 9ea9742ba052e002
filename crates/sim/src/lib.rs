//! perpdesk-sim: a local exchange that speaks the Binance USDⓈ-M contract.
//!
//! It is the app's paper mode and the server every integration test talks to. It replays
//! real historical candles (`shared/data`) on a [`market::SimClock`], checks signatures and
//! timestamps like Binance, and keeps futures accounts: orders, fills, positions, commission,
//! funding and income, consistent to the last decimal.
//!
//! Invariants:
//! - Every reply follows the contract (`shared/binance/CONTRACT.md`): paths, parameter names,
//!   JSON field names and types, `{code, msg}` errors with Binance's codes.
//! - A refused request changes nothing: checks come first, then the change, under one lock.
//! - The server time (`GET /fapi/v1/time`) is the replay clock; clients sync to it as they
//!   sync to Binance's.
//! - The replies are built here from the contract notes, not from `perpdesk-binance`'s types,
//!   so the two sides check each other rather than share a misreading.
//! - Typed requests in, typed replies out: the server parses each request's parameters once
//!   into a typed request ([`params`]); the [`exchange`] acts on it and returns its own types;
//!   [`replies`] is the one place that renders JSON, REST bodies and stream events alike.
//! - Feature `testing` ([`testing`]) starts a simulator for tests and benches; it is a
//!   dev-dependency feature only, never part of the app's build.
//! - Tests can cut every open WebSocket at once ([`Shared::drop_streams`],
//!   `POST /admin/streams/drop`) the way a network drop does; listenKeys outlive it.

pub mod error;
pub mod exchange;
pub mod faults;
pub mod info;
pub mod market;
pub mod params;
pub mod replies;
pub mod server;
pub mod streams;
#[cfg(feature = "testing")]
pub mod testing;

pub use exchange::{Exchange, Permissions};
pub use server::{Running, Shared, serve};
