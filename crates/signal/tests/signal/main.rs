//! Integration tests of perpdesk-signal against the real candles in ../shared/data.

mod backtest;
mod common;
mod evaluate_cli;
mod features;
mod golden;
mod labels;
mod model;
mod streaming;
