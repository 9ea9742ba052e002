//! A simulator with a manual clock (`perpdesk_sim::testing`) and signed clients for its
//! accounts.

use std::sync::Arc;

use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::{BaseUrls, Client, HmacSigner, RestClient, RestConfig};
use perpdesk_sim::exchange::{Exchange, Permissions};
use perpdesk_sim::server::Running;
use perpdesk_sim::testing::TestSim;
pub use perpdesk_sim::testing::{START, advance, data_dir};
use rust_decimal::Decimal;

pub const KEY: &str = "test-key";
pub const SECRET: &str = "test-secret";
pub const WITHDRAW_KEY: &str = "withdraw-key";

pub async fn start() -> Running {
    start_with(|_| {}).await
}

/// [`start`] with `setup` applied to the exchange before it serves.
pub async fn start_with(setup: impl FnOnce(&mut Exchange)) -> Running {
    let withdraws = Permissions {
        withdrawals: true,
        ..Permissions::default()
    };
    TestSim::new()
        .account(KEY, SECRET, Decimal::new(10_000, 0))
        .account_with(WITHDRAW_KEY, SECRET, Decimal::new(10_000, 0), withdraws)
        .setup(setup)
        .start()
        .await
}

/// A signed transport for `key` on the simulator's clock (as if synced), with the URLs it
/// uses; the user-stream tests build their stream on it.
pub fn rest(sim: &Running, key: &str, secret: &str) -> (Arc<RestClient>, BaseUrls) {
    let urls = BaseUrls {
        rest: sim.url(),
        spot_rest: Some(sim.url()),
        streams: sim.url().replace("http://", "ws://"),
    };
    let shared = sim.shared.clone();
    let clock: LocalClock = Arc::new(move || shared.clock.now_ms());
    let rest = RestClient::with_clock(
        &urls,
        Some(Arc::new(HmacSigner::new(key, secret))),
        RestConfig::default(),
        clock,
    )
    .expect("client");
    (Arc::new(rest), urls)
}

/// A client whose local clock is the simulator's clock (as if synced).
pub fn client(sim: &Running, key: &str, secret: &str) -> Client {
    Client::new(rest(sim, key, secret).0)
}

/// A signed endpoint of the sim that perpdesk-binance has no constant for.
pub fn signed(
    method: perpdesk_binance::Method,
    path: &'static str,
) -> perpdesk_binance::rest::Endpoint {
    perpdesk_binance::rest::Endpoint {
        method,
        path,
        security: perpdesk_binance::Security::Signed,
        weight: 1,
        places_order: false,
        spot: false,
    }
}

/// Binance's error code of a refused call (panics when it was not refused).
pub fn code_of(result: Result<serde_json::Value, perpdesk_binance::ExchangeError>) -> i64 {
    match result {
        Err(perpdesk_binance::ExchangeError::Rejected { code, .. }) => code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// The replayed last price of `symbol` now.
pub fn last(sim: &Running, symbol: &str) -> Decimal {
    let now = sim.shared.clock.now_ms();
    sim.shared
        .exchange
        .lock()
        .expect("lock")
        .market
        .last_price(symbol, now)
        .expect("price")
}

/// Waits up to 5 s for the first user-data event `pick` accepts.
pub async fn event(
    events: &mut tokio::sync::broadcast::Receiver<(usize, Arc<serde_json::Value>)>,
    pick: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let (_, e) = events.recv().await.expect("event");
            if pick(&e) {
                return (*e).clone();
            }
        }
    })
    .await
    .expect("the event within 5 s")
}

/// A reply with the headers the limits tests read.
pub struct Reply {
    pub status: u16,
    pub count_10s: Option<u32>,
    pub count_1m: Option<u32>,
    pub retry_after: Option<u32>,
    pub body: serde_json::Value,
}

/// Sends a signed request by hand, so the test sees the headers.
pub async fn send(
    sim: &Running,
    method: reqwest::Method,
    path: &str,
    key: &str,
    params: &[(&str, String)],
) -> Reply {
    let query = perpdesk_binance::signing::signed_query(
        params,
        5_000,
        sim.shared.clock.now_ms(),
        &HmacSigner::new(key, SECRET),
    );
    let reply = reqwest::Client::new()
        .request(method, format!("{}{path}?{query}", sim.url()))
        .header("X-MBX-APIKEY", key)
        .send()
        .await
        .expect("sent");
    let header = |name: &str| {
        reply
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ascii").parse::<u32>().expect("a count"))
    };
    let (count_10s, count_1m, retry_after) = (
        header("X-MBX-ORDER-COUNT-10S"),
        header("X-MBX-ORDER-COUNT-1M"),
        header("Retry-After"),
    );
    let status = reply.status().as_u16();
    let body = serde_json::from_str(&reply.text().await.expect("body")).expect("json");
    Reply {
        status,
        count_10s,
        count_1m,
        retry_after,
        body,
    }
}

/// A public GET: the HTTP status and the JSON body.
pub async fn get(sim: &Running, path_and_query: &str) -> (u16, serde_json::Value) {
    let reply = reqwest::Client::new()
        .get(format!("{}{path_and_query}", sim.url()))
        .send()
        .await
        .expect("sent");
    status_and_json(reply).await
}

/// An answer's HTTP status and JSON body.
pub async fn status_and_json(reply: reqwest::Response) -> (u16, serde_json::Value) {
    let status = reply.status().as_u16();
    let text = reply.text().await.expect("body");
    (status, serde_json::from_str(&text).expect("json"))
}
