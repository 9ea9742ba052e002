//! A simulator with a manual clock on 127.0.0.1:0 and signed clients for its accounts.
//!
//! Tests drive the engine against the real simulator over HTTP; nothing of our own client
//! is mocked.

use std::path::PathBuf;
use std::sync::Arc;

use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::{BaseUrls, Client, HmacSigner, RestClient, RestConfig};
use perpdesk_sim::exchange::{Exchange, Permissions};
use perpdesk_sim::market::{ClockMode, MarketData, SimClock};
use perpdesk_sim::server::{Running, serve, Shared};
use rust_decimal::Decimal;

pub const KEY: &str = "engine-key";
pub const SECRET: &str = "engine-secret";

/// `shared/data`: `PERPDESK_SHARED` when set (scripts/test.sh sets it), else beside the repo.
pub fn data_dir() -> PathBuf {
    match std::env::var("PERPDESK_SHARED") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir).join("data"),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

/// 2022-03-01 00:00 UTC: inside the replayed data, with a year of history before it.
pub const START: i64 = 1_646_092_800_000;

/// Starts a simulator with one funded account (`KEY`/`SECRET`, 10,000 USDT).
pub async fn start_sim() -> Running {
    let market = MarketData::load_dir(&data_dir(), &["BTCUSDT", "ETHUSDT"]).expect("data loads");
    let clock = SimClock::new(ClockMode::Manual, START, market.start_ms(), market.end_ms());
    let mut exchange = Exchange::new(market, START);
    exchange.add_account(KEY, SECRET, Decimal::new(10_000, 0), Permissions::default(), START);
    serve(Shared::new(exchange, clock), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind")
}

/// A client for `KEY` whose local clock is the simulator's clock (as if synced).
pub fn client(sim: &Running) -> Client {
    let urls = BaseUrls {
        rest: sim.url(),
        spot_rest: Some(sim.url()),
        streams: sim.url().replace("http://", "ws://"),
    };
    let shared = sim.shared.clone();
    let clock: LocalClock = Arc::new(move || shared.clock.now_ms());
    let rest = RestClient::with_clock(
        &urls,
        Some(Arc::new(HmacSigner::new(KEY, SECRET))),
        RestConfig::default(),
        clock,
    )
    .expect("client");
    Client::new(Arc::new(rest))
}

/// Moves the replay clock forward by `ms` and lets the exchange catch up (fills, triggers,
/// funding).
pub fn advance(sim: &Running, ms: i64) {
    sim.shared.clock.advance(ms).expect("manual clock");
    sim.shared.tick();
}
