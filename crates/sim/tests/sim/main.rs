//! perpdesk-sim against perpdesk-binance's client, over real HTTP on 127.0.0.1:0.

mod accounting;
mod admin;
mod algo_kinds;
mod batch;
mod binance_codes;
mod conformance;
mod errors;
mod faults;
mod hedge;
mod hedge_invariants;
mod history;
mod invariants;
mod listen_key;
mod margin_call;
mod modify;
mod order_limits;
mod persistence;
mod raw;
mod request_rules;
mod slippage;
mod streams;
mod support;
mod ticker;
mod universe;
mod weights;
