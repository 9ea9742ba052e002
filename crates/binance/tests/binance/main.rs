//! Integration tests of perpdesk-binance: one binary, one module per area.

mod support;

mod enums;
mod fixtures;
mod malformed;
mod requests;
mod shapes;
mod stub;

mod ccxt;
mod client;
mod domain;
mod exposure;
mod fuzz;
mod idempotent;
mod signing;
mod streams;
mod transport;
