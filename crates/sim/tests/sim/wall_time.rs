//! Wall time (`--time wall`, the binary's default): the server speaks the machine's clock and
//! the replayed market is shifted by whole weeks to happen now, so a third-party client signs
//! with its own clock (CONTRACT.md 2.2: `timestamp` and `recvWindow` against server time) and
//! every time it reads is current. Each test bounds the server's times by the system clock
//! read before and after the request.

use std::time::Duration;

use futures_util::StreamExt;
use perpdesk_binance::HmacSigner;
use perpdesk_sim::exchange::{Exchange, Snapshot};
use perpdesk_sim::market::{WEEK_MS, interval_ms};
use perpdesk_sim::server::Running;
use perpdesk_sim::testing::{self, START, TestSim};
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{KEY, SECRET, get, status_and_json};

const HOUR_MS: i64 = 3_600_000;
const FUNDING_MS: i64 = 8 * HOUR_MS;

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn wall_sim() -> Running {
    TestSim::wall_time()
        .account(KEY, SECRET, dec!(10000))
        .start()
        .await
}

/// A signed request stamped `timestamp` (recvWindow 5000), as a client with its own clock
/// sends it: the status and the JSON body.
async fn signed(
    sim: &Running,
    method: reqwest::Method,
    path: &str,
    params: &[(&str, String)],
    timestamp: i64,
) -> (u16, Value) {
    let query = perpdesk_binance::signing::signed_query(
        params,
        5_000,
        timestamp,
        &HmacSigner::new(KEY, SECRET),
    );
    let reply = reqwest::Client::new()
        .request(method, format!("{}{path}?{query}", sim.url()))
        .header("X-MBX-APIKEY", KEY)
        .send()
        .await
        .expect("sent");
    status_and_json(reply).await
}

/// A 0.010 BTCUSDT market buy signed at `at` (UTC ms).
async fn buy_btc(sim: &Running, at: i64) -> (u16, Value) {
    let params = [
        ("symbol", "BTCUSDT".to_owned()),
        ("side", "BUY".to_owned()),
        ("type", "MARKET".to_owned()),
        ("quantity", "0.010".to_owned()),
    ];
    signed(sim, reqwest::Method::POST, "/fapi/v1/order", &params, at).await
}

fn ms(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("a time in ms, got {v}"))
}

fn assert_between(before: i64, t: i64, after: i64, what: &str) {
    assert!(
        (before..=after).contains(&t),
        "{what}: {t} is not within the wall clock's {before}..={after}"
    );
}

#[tokio::test]
async fn server_time_is_the_wall_clock() {
    let sim = wall_sim().await;
    let before = wall_ms();
    let (status, body) = get(&sim, "/fapi/v1/time").await;
    let after = wall_ms();
    assert_eq!(status, 200);
    assert_between(before, ms(&body["serverTime"]), after, "serverTime");
}

#[tokio::test]
async fn a_call_signed_with_the_clients_own_clock_is_accepted_and_a_stale_one_refused() {
    let sim = wall_sim().await;
    let path = "/fapi/v1/positionSide/dual";
    let (status, body) = signed(&sim, reqwest::Method::GET, path, &[], wall_ms()).await;
    assert_eq!(
        (status, &body["dualSidePosition"]),
        (200, &Value::Bool(false))
    );
    let stale = wall_ms() - 120_000;
    let (status, body) = signed(&sim, reqwest::Method::GET, path, &[], stale).await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(-1021)),
        "{body}"
    );
    let ahead = wall_ms() + 5_000;
    let (status, body) = signed(&sim, reqwest::Method::GET, path, &[], ahead).await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(-1021)),
        "{body}"
    );
}

#[tokio::test]
async fn klines_of_every_kind_end_now_on_their_interval() {
    let sim = wall_sim().await;
    for (kind, by) in [
        ("klines", "symbol"),
        ("markPriceKlines", "symbol"),
        ("indexPriceKlines", "pair"),
    ] {
        for interval in ["1m", "5m", "15m", "1h", "4h", "8h", "1d"] {
            let iv = interval_ms(interval).expect("a supported interval");
            let before = wall_ms();
            let (status, body) = get(
                &sim,
                &format!("/fapi/v1/{kind}?{by}=BTCUSDT&interval={interval}&limit=3"),
            )
            .await;
            let after = wall_ms();
            assert_eq!(status, 200, "{kind} {interval}: {body}");
            let rows = body.as_array().expect("rows");
            assert_eq!(rows.len(), 3, "{kind} {interval}");
            for row in rows {
                let (open, close) = (ms(&row[0]), ms(&row[6]));
                assert_eq!(open.rem_euclid(iv), 0, "{kind} {interval} aligned");
                assert_eq!(close, open + iv - 1, "{kind} {interval}");
            }
            let forming = ms(&rows[2][0]);
            assert_between(before - iv + 1, forming, after, "the forming candle's open");
            let closed = ms(&rows[1][6]);
            assert!(
                closed < after && closed >= before - iv,
                "{kind} {interval}: the latest closed candle ends at {closed}, not within one interval of {before}..{after}"
            );
        }
    }
}

#[tokio::test]
async fn times_before_the_shifted_data_are_empty_not_errors() {
    let sim = wall_sim().await;
    let first = sim.shared.exchange.lock().expect("lock").market.start_ms();
    let (start, end) = (first - 30 * 24 * HOUR_MS, first - 24 * HOUR_MS);
    let (status, body) = get(
        &sim,
        &format!("/fapi/v1/klines?symbol=BTCUSDT&interval=1h&startTime={start}&endTime={end}"),
    )
    .await;
    assert_eq!((status, body), (200, Value::Array(vec![])));
    let (status, body) = get(
        &sim,
        &format!("/fapi/v1/fundingRate?symbol=BTCUSDT&startTime={start}&endTime={end}"),
    )
    .await;
    assert_eq!((status, body), (200, Value::Array(vec![])));
    let (status, body) = get(
        &sim,
        &format!("/fapi/v1/klines?symbol=BTCUSDT&interval=1d&startTime={start}&limit=2"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        ms(&body[0][0]),
        first,
        "from the first candle on, as from a listing"
    );
}

#[tokio::test]
async fn funding_falls_on_the_datas_funding_times_moved_by_whole_weeks() {
    let sim = wall_sim().await;
    let weeks = sim
        .shared
        .exchange
        .lock()
        .expect("lock")
        .market
        .shift_weeks();
    assert_eq!(
        weeks,
        (wall_ms() - START).div_euclid(WEEK_MS),
        "START plays this week"
    );
    let data = perpdesk_sim::market::load_funding(
        &perpdesk_sim::testing::data_dir().join("binance_um_BTCUSDT_funding_2021-2023.csv"),
    )
    .expect("the funding file");
    let before = wall_ms();
    let (_, premium) = get(&sim, "/fapi/v1/premiumIndex?symbol=BTCUSDT").await;
    let (_, history) = get(&sim, "/fapi/v1/fundingRate?symbol=BTCUSDT&limit=6").await;
    let after = wall_ms();
    assert_between(before, ms(&premium["time"]), after, "premiumIndex time");
    let next = ms(&premium["nextFundingTime"]);
    assert!(next > before && next <= after + FUNDING_MS, "{next}");
    let rows = history.as_array().expect("rows");
    assert_eq!(rows.len(), 6);
    for row in rows {
        let t = ms(&row["fundingTime"]);
        assert!(t <= after, "funding {t} is not in the future");
        let at = data
            .iter()
            .find(|r| r.funding_time_ms + weeks * WEEK_MS == t)
            .unwrap_or_else(|| panic!("{t} is a funding time of the data, moved"));
        assert_eq!(
            row["fundingRate"].as_str(),
            Some(at.funding_rate.to_string().as_str())
        );
        assert_eq!(t.rem_euclid(FUNDING_MS), 0, "00:00, 08:00 or 16:00 UTC");
    }
    let latest = ms(&rows[5]["fundingTime"]);
    assert!(
        latest > before - FUNDING_MS,
        "the latest funding is the last 8 hours' one"
    );
}

#[tokio::test]
async fn an_order_its_trade_income_and_events_carry_wall_time() {
    let sim = wall_sim().await;
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    let before = wall_ms();
    let (status, order) = buy_btc(&sim, before).await;
    let after = wall_ms();
    assert_eq!(status, 200, "{order}");
    assert_between(before, ms(&order["updateTime"]), after, "order updateTime");
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (_, e) = events.recv().await.expect("events");
            if e["e"] == "ORDER_TRADE_UPDATE" {
                return (*e).clone();
            }
        }
    })
    .await
    .expect("ORDER_TRADE_UPDATE within 10 s");
    assert_between(before, ms(&event["E"]), after, "ORDER_TRADE_UPDATE E");
    assert_between(before, ms(&event["T"]), after, "ORDER_TRADE_UPDATE T");
    assert_between(
        before,
        ms(&event["o"]["T"]),
        after,
        "ORDER_TRADE_UPDATE o.T",
    );
    let now = wall_ms();
    let symbol = [("symbol", "BTCUSDT".to_owned())];
    let (_, trades) = signed(
        &sim,
        reqwest::Method::GET,
        "/fapi/v1/userTrades",
        &symbol,
        now,
    )
    .await;
    assert_between(before, ms(&trades[0]["time"]), after, "userTrades time");
    let (_, income) = signed(&sim, reqwest::Method::GET, "/fapi/v1/income", &[], now).await;
    let commission = income
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["incomeType"] == "COMMISSION")
        .expect("the fill's commission");
    assert_between(before, ms(&commission["time"]), after, "income time");
}

#[tokio::test]
async fn market_streams_stamp_wall_time() {
    let sim = wall_sim().await;
    let url = format!(
        "{}/market/stream?streams=btcusdt@markPrice/btcusdt@kline_1m",
        sim.url().replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("connects");
    let before = wall_ms();
    let (mut mark, mut kline) = (None, None);
    while mark.is_none() || kline.is_none() {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("open")
            .expect("no error");
        let Ok(text) = message.into_text() else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match v["data"]["e"].as_str() {
            Some("markPriceUpdate") => mark = Some(v["data"].clone()),
            Some("kline") => kline = Some(v["data"].clone()),
            _ => {}
        }
    }
    let after = wall_ms();
    let (mark, kline) = (mark.expect("mark"), kline.expect("kline"));
    assert_between(before, ms(&mark["E"]), after, "markPriceUpdate E");
    assert_eq!(
        ms(&mark["T"]).rem_euclid(FUNDING_MS),
        0,
        "next funding on the hour"
    );
    assert_between(before, ms(&kline["E"]), after, "kline E");
    let open = ms(&kline["k"]["t"]);
    assert_eq!(open.rem_euclid(60_000), 0);
    assert_between(before - 60_000, open, after, "the forming 1m candle");
}

/// Sends public requests until one is refused with 418 (weight limit 1: the ban comes
/// 200 requests past it, however a minute boundary falls) and returns the ban's end.
async fn ban_end(sim: &Running) -> i64 {
    sim.shared.set_weight_limit(1);
    for _ in 0..2_000 {
        let (status, body) = get(sim, "/fapi/v1/ping").await;
        if status == 418 {
            assert_eq!(body["code"].as_i64(), Some(-1003), "{body}");
            let msg = body["msg"].as_str().expect("msg");
            let until = msg
                .split("banned until ")
                .nth(1)
                .and_then(|rest| rest.split('.').next())
                .expect("the ban's end in the message");
            return until.parse().expect("ms");
        }
    }
    panic!("no 418 after 2000 requests over a weight limit of 1");
}

#[tokio::test]
async fn a_ban_ends_after_server_time_in_wall_time() {
    let sim = wall_sim().await;
    let until = ban_end(&sim).await;
    let server = sim.shared.clock.now_ms();
    assert!(until > server, "banned until {until}, server time {server}");
    assert!(until <= wall_ms() + 120_000, "a two-minute ban");
}

#[tokio::test]
async fn a_ban_ends_after_server_time_in_replay_time() {
    let sim = TestSim::new().start().await;
    let until = ban_end(&sim).await;
    let server = sim.shared.clock.now_ms();
    assert_eq!(server, START, "a manual clock stands");
    assert!(
        (server + 100_000..=server + 120_000).contains(&until),
        "banned until {until}, server time {server}"
    );
}

#[tokio::test]
async fn a_wall_time_state_resumes_only_on_a_market_shifted_alike() {
    let sim = wall_sim().await;
    let before = wall_ms();
    let (status, _) = buy_btc(&sim, before).await;
    assert_eq!(status, 200);
    let path = std::env::temp_dir().join(format!("perpdesk-sim-wall-{}.json", std::process::id()));
    sim.shared.save(&path).expect("saved");
    let snapshot = Snapshot::read(&path).expect("reads");
    let weeks = sim
        .shared
        .exchange
        .lock()
        .expect("lock")
        .market
        .shift_weeks();
    assert_eq!(snapshot.shift_weeks, weeks);
    assert!(
        snapshot.clock_ms >= before,
        "the state is on the wall calendar"
    );
    let err = Exchange::load(testing::market(), &path).expect_err("an unshifted market");
    assert!(err.to_string().contains("replay time"), "{err}");
    let shifted = testing::market().shifted_weeks(weeks).expect("in range");
    let resumed = Exchange::load(shifted, &path).expect("the same shift");
    assert_eq!(resumed.snapshot(), snapshot);
    std::fs::remove_file(&path).expect("clean up");
}
