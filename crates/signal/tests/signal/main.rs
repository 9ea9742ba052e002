//! Integration tests of perpdesk-signal against the real candles in ../shared/data.

mod common;
mod features;
mod golden;
mod labels;
mod model;
mod streaming;
