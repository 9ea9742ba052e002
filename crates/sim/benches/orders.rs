//! Load bench: signed new + cancel order requests over loopback HTTP against the in-process
//! simulator, from 16 and then 32 concurrent connections. Targets (issue 4): ≥ 20,000 requests/s and a
//! p99 acknowledgement ≤ 2 ms on 2 cores. Prints throughput and latency percentiles.
//!
//! Run: `cargo bench -p perpdesk-sim --bench orders`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use perpdesk_binance::signing::{HmacSigner, signed_query};
use perpdesk_sim::market::MarketData;
use perpdesk_sim::testing::{TestSim, data_dir};
use rust_decimal::Decimal;
use serde_json::Value;

const CONNECTIONS: [usize; 2] = [16, 32];
const PAIRS_PER_CONNECTION: usize = 400;

/// Sends a call of the `load` account; its JSON reply and the time to it.
async fn timed(request: reqwest::RequestBuilder) -> (Value, Duration) {
    let started = Instant::now();
    let reply = request
        .header("X-MBX-APIKEY", "load")
        .send()
        .await
        .expect("sent");
    let body = serde_json::from_str(&reply.text().await.expect("body")).expect("json");
    (body, started.elapsed())
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run a tiny load then.
    let full = std::env::args().any(|a| a == "--bench");
    let pairs = if full { PAIRS_PER_CONNECTION } else { 5 };
    let market = MarketData::load_dir(&data_dir(), &["BTCUSDT"]).expect("data");
    let start = market.start_ms() + 30 * 86_400_000;
    let price = market.mark_price("BTCUSDT", start).expect("price");
    let sim = TestSim::on(market, start)
        .account("load", "secret", Decimal::new(100_000_000, 0))
        .unlimited()
        .start()
        .await;
    let base = sim.url();
    // A resting bid 3% under the market: inside PERCENT_PRICE, never filled while the clock stands.
    let bid = (price * Decimal::new(97, 2)).round_dp(1).to_string();
    // Fewer connections than the generator can keep busy, then more: the p99 of the second
    // is mostly queueing behind the other 31 requests on 2 cores shared with the generator.
    for connections in CONNECTIONS {
        load(&base, &bid, start, connections, pairs).await;
    }
}

/// Sends `pairs` new + cancel pairs from each of `connections` concurrent connections and
/// prints throughput and latency percentiles.
async fn load(base: &str, bid: &str, start: i64, connections: usize, pairs: usize) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("http");
    let signer = Arc::new(HmacSigner::new("load", "secret"));

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let (http, base, bid, signer) = (
            http.clone(),
            base.to_owned(),
            bid.to_owned(),
            signer.clone(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(pairs * 2);
            for i in 0..pairs {
                let id = format!("load{connections}-{c}-{i}");
                let q = signed_query(
                    &[
                        ("symbol", "BTCUSDT".into()),
                        ("side", "BUY".into()),
                        ("type", "LIMIT".into()),
                        ("timeInForce", "GTC".into()),
                        ("quantity", "0.001".into()),
                        ("price", bid.to_owned()),
                        ("newClientOrderId", id.clone()),
                    ],
                    60_000,
                    start,
                    signer.as_ref(),
                );
                let (body, took) = timed(http.post(format!("{base}/fapi/v1/order?{q}"))).await;
                latencies.push(took);
                assert_eq!(body["status"], "NEW", "{body}");
                let q = signed_query(
                    &[("symbol", "BTCUSDT".into()), ("origClientOrderId", id)],
                    60_000,
                    start,
                    signer.as_ref(),
                );
                let (body, took) = timed(http.delete(format!("{base}/fapi/v1/order?{q}"))).await;
                latencies.push(took);
                assert_eq!(body["status"], "CANCELED", "{body}");
            }
            latencies
        });
    }
    let mut all: Vec<Duration> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done.expect("task"));
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "orders: {} signed requests (new + cancel) from {connections} connections in {:.2?}: {:.0} req/s; p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        all.len(),
        elapsed,
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        all[all.len() - 1],
    );
}
