//! Integration tests of perpdesk-signal against the real candles in ../shared/data.

mod backtest;
mod cli;
mod common;
mod edge;
mod edge_false_rate;
mod evaluate_cli;
mod families;
mod families_cli;
mod features;
mod gbdt;
mod golden;
mod labels;
mod model;
mod model_family;
mod pooled;
mod sizing;
mod strategy;
mod streaming;
mod universe;
