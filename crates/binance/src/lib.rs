//! The Binance USDⓈ-M perpetual futures contract, as perpdesk speaks it.
//!
//! The contract is the one Binance serves as of 2026-11 (see `shared/binance/CONTRACT.md`):
//!
//! - Conditional orders (`STOP`, `STOP_MARKET`, `TAKE_PROFIT`, `TAKE_PROFIT_MARKET`,
//!   `TRAILING_STOP_MARKET`) live in the Algo Service since 2025-12-09 and go through
//!   `/fapi/v1/algoOrder`; `/fapi/v1/order` takes only `LIMIT` and `MARKET`.
//! - Since 2026-04 the WebSocket streams are routed by path: `/public` (book and trades),
//!   `/market` (klines, mark price) and `/private` (user data).
//!
//! [`wire`] holds the serde types for requests, responses and stream events. They keep Binance's
//! field names and each one cites the endpoint or stream it belongs to, so a reader can check a
//! type against the official docs without translation.
//!
//! The layers, bottom up: [`signing`] and [`rest`] (the transport: time sync, rate limits,
//! failure sorting into [`ExchangeError`]), [`idempotent`] (exactly-once placement),
//! [`client`] ([`Raw`] named after endpoints, [`Client`] named after operations and speaking
//! `perpdesk-core` types), [`streams`] (market and user-data WebSockets) and [`env`] (base URLs:
//! only they differ between paper, demo and live).
//!
//! Invariant: [`Client`] is the one door the app uses. Every wire → domain mapping and every
//! pager lives in [`client`], once; the app never names [`wire`] or [`Raw`].

pub mod client;
pub mod endpoints;
pub mod env;
pub mod error;
pub mod idempotent;
pub mod rest;
pub mod signing;
pub mod streams;
pub mod wire;

pub use client::{
    AccountSnapshot, Client, DayTicker, ExchangeRecords, ExitKind, ExitOrder, FundingRate,
    KeyPermissions, OpenOrder, OrderClientId, OrderReport, Placed, PositionReport, RECORDS_FORMAT,
    Raw, RecordsError,
};
pub use env::{BaseUrls, Environment};
pub use error::{ExchangeError, RejectKind};
pub use rest::{Endpoint, Method, RateLimit, RestClient, RestConfig, Security};
pub use signing::{HmacSigner, Signer};
