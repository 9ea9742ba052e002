//! The REST transport against the stub server: signing, clock sync, rate limits, and the
//! sorting of failures.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::{
    BaseUrls, Endpoint, ExchangeError, HmacSigner, Method, RateLimit, RejectKind, RestClient,
    RestConfig, Security,
};
use serde_json::{Value, json};

use crate::stub::{self, API_KEY, SECRET, Scripted, Stub};

const SIGNED: Endpoint = Endpoint {
    method: Method::Get,
    path: "/test/signed",
    security: Security::Signed,
    weight: 1,
    places_order: false,
    spot: false,
};
const SCRIPTED_QUERY: Endpoint = Endpoint {
    method: Method::Get,
    path: "/test/scripted",
    security: Security::None,
    weight: 1,
    places_order: false,
    spot: false,
};
const SCRIPTED_ORDER: Endpoint = Endpoint {
    method: Method::Post,
    path: "/test/scripted",
    security: Security::None,
    weight: 1,
    places_order: true,
    spot: false,
};
const PING: Endpoint = Endpoint {
    method: Method::Get,
    path: "/fapi/v1/ping",
    security: Security::None,
    weight: 1,
    places_order: false,
    spot: false,
};

fn urls(stub: &Stub) -> BaseUrls {
    BaseUrls {
        rest: stub.url(),
        spot_rest: None,
        streams: String::new(),
    }
}

fn client_with(stub: &Stub, config: RestConfig, skew_ms: i64) -> RestClient {
    let clock: LocalClock = Arc::new(move || chrono::Utc::now().timestamp_millis() + skew_ms);
    RestClient::with_clock(
        &urls(stub),
        Some(Arc::new(HmacSigner::new(API_KEY, SECRET))),
        config,
        clock,
    )
    .expect("client builds")
}

fn client(stub: &Stub) -> RestClient {
    client_with(stub, RestConfig::default(), 0)
}

#[tokio::test]
async fn signed_requests_pass_the_servers_own_check() {
    let stub = stub::start().await;
    let reply: Value = client(&stub)
        .call(&SIGNED, &[("symbol", "BTCUSDT".into())])
        .await
        .expect("accepted");
    assert_eq!(reply["ok"], true);
}

#[tokio::test]
async fn a_local_clock_ten_seconds_off_either_way_never_surfaces_a_1021() {
    for skew in [-10_000, 10_000] {
        let stub = stub::start().await;
        let client = client_with(&stub, RestConfig::default(), skew);
        for _ in 0..3 {
            let reply: Value = client
                .call(&SIGNED, &[])
                .await
                .unwrap_or_else(|e| panic!("skew {skew}: {e}"));
            assert_eq!(reply["ok"], true);
        }
        assert!(
            (client.time_offset_ms() + skew).abs() < 500,
            "offset {} for skew {skew}",
            client.time_offset_ms()
        );
        assert_eq!(
            stub.state.time_calls.load(Ordering::SeqCst),
            1,
            "one sync serves many calls"
        );
    }
}

#[tokio::test]
async fn a_1021_after_the_server_clock_jumps_resyncs_and_retries_once() {
    let stub = stub::start().await;
    let client = client(&stub);
    let _: Value = client.call(&SIGNED, &[]).await.expect("first call");
    stub.state.clock_shift_ms.store(30_000, Ordering::SeqCst);
    let reply: Value = client
        .call(&SIGNED, &[])
        .await
        .expect("resynced and retried");
    assert_eq!(reply["ok"], true);
    assert_eq!(stub.state.time_calls.load(Ordering::SeqCst), 2);
    assert!((client.time_offset_ms() - 30_000).abs() < 500);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_binances_code_and_message() {
    let stub = stub::start().await;
    let client = RestClient::new(
        &urls(&stub),
        Some(Arc::new(HmacSigner::new(API_KEY, "wrong"))),
        RestConfig::default(),
    )
    .expect("client");
    let err = client
        .call::<Value>(&SIGNED, &[])
        .await
        .expect_err("bad signature");
    assert_eq!(err.reject_kind(), Some(RejectKind::InvalidSignature));
    assert!(
        err.to_string()
            .contains("Signature for this request is not valid."),
        "{err}"
    );
}

#[tokio::test]
async fn signed_calls_without_a_key_fail_before_sending() {
    let stub = stub::start().await;
    let client = RestClient::new(&urls(&stub), None, RestConfig::default()).expect("client");
    let err = client
        .call::<Value>(&SIGNED, &[])
        .await
        .expect_err("no key");
    assert!(
        matches!(err, ExchangeError::NoCredentials { .. }),
        "{err:?}"
    );
    assert_eq!(stub.state.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_retries_once() {
    let stub = stub::start().await;
    stub.state.push(
        Scripted::json(429, json!({"code": -1003, "msg": "Too many requests; current limit is 2400 requests per minute."}))
            .header("Retry-After", 1),
    );
    let started = Instant::now();
    let reply: Value = client(&stub)
        .call(&SCRIPTED_QUERY, &[])
        .await
        .expect("second try succeeds");
    assert_eq!(reply["ok"], true);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(stub.state.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_418_stops_all_requests_until_the_ban_ends() {
    let stub = stub::start().await;
    let until = chrono::Utc::now().timestamp_millis() + 120_000;
    stub.state.push(Scripted::json(
        418,
        json!({"code": -1003, "msg": format!("Way too many requests; IP banned until {until}. Please use the websocket for live updates to avoid bans.")}),
    ));
    let client = client(&stub);
    let err = client
        .call::<Value>(&SCRIPTED_QUERY, &[])
        .await
        .expect_err("banned");
    match &err {
        ExchangeError::IpBanned { until: Some(t) } => assert_eq!(t.timestamp_millis(), until),
        other => panic!("expected a ban, got {other:?}"),
    }
    assert!(
        err.to_string().contains("IP banned by Binance until"),
        "{err}"
    );
    let again = client
        .call::<Value>(&SCRIPTED_QUERY, &[])
        .await
        .expect_err("still banned");
    assert!(matches!(again, ExchangeError::IpBanned { .. }));
    assert_eq!(
        stub.state.calls.load(Ordering::SeqCst),
        1,
        "nothing sent while banned"
    );
}

#[tokio::test]
async fn a_burst_of_1000_requests_is_paced_under_the_limit_and_never_refused() {
    let stub = stub::start().await;
    // The stub allows 1000 weight per 2 s window (Binance: 2400 per minute); the client learns
    // the same limit, as it would from exchangeInfo.rateLimits, and keeps 20% headroom, so
    // the burst must spread over at least two windows.
    stub.state.ping_limit.store(1_000, Ordering::SeqCst);
    stub.state.ping_window_ms.store(2_000, Ordering::SeqCst);
    let config = RestConfig {
        weight_limit: RateLimit::per(Duration::from_secs(2), 1_000),
        ..RestConfig::default()
    };
    let client = Arc::new(client_with(&stub, config, 0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let client = client.clone();
        tasks.spawn(async move { client.call::<Value>(&PING, &[]).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("task").expect("no request refused");
    }
    assert_eq!(stub.state.rate_limited.load(Ordering::SeqCst), 0);
    assert_eq!(stub.state.calls.load(Ordering::SeqCst), 1000);
    // 1000 requests at 800 per window need a second window.
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "paced over {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_503_unknown_error_on_an_order_is_an_unknown_execution() {
    let stub = stub::start().await;
    stub.state.push(Scripted::json(
        503,
        json!({"code": -1000, "msg": "Unknown error, please check your request or try again later."}),
    ));
    let err = client(&stub)
        .call::<Value>(&SCRIPTED_ORDER, &[])
        .await
        .expect_err("unknown");
    assert!(
        matches!(err, ExchangeError::UnknownExecution { .. }),
        "{err:?}"
    );
    assert!(
        !err.is_transient(),
        "an unknown execution must be looked up, not retried"
    );
    assert_eq!(
        stub.state.calls.load(Ordering::SeqCst),
        1,
        "never resent by the transport"
    );
}

#[tokio::test]
async fn a_503_service_unavailable_on_an_order_means_not_executed() {
    let stub = stub::start().await;
    stub.state.push(Scripted::json(
        503,
        json!({"code": -1001, "msg": "Service Unavailable."}),
    ));
    let err = client(&stub)
        .call::<Value>(&SCRIPTED_ORDER, &[])
        .await
        .expect_err("unavailable");
    assert!(
        matches!(err, ExchangeError::Unavailable { status: 503, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn minus_1007_on_an_order_is_an_unknown_execution_and_elsewhere_a_rejection() {
    let stub = stub::start().await;
    let timeout = json!({"code": -1007, "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown."});
    stub.state.push(Scripted::json(400, timeout.clone()));
    let err = client(&stub)
        .call::<Value>(&SCRIPTED_ORDER, &[])
        .await
        .expect_err("unknown");
    assert!(
        matches!(err, ExchangeError::UnknownExecution { .. }),
        "{err:?}"
    );
    stub.state.push(Scripted::json(400, timeout));
    let err = client(&stub)
        .call::<Value>(&SCRIPTED_QUERY, &[])
        .await
        .expect_err("rejected");
    assert_eq!(err.reject_kind(), Some(RejectKind::ExecutionUnknown));
}

#[tokio::test]
async fn a_timeout_after_sending_an_order_is_an_unknown_execution() {
    // A listener that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let urls = BaseUrls {
        rest: format!("http://{addr}"),
        spot_rest: None,
        streams: String::new(),
    };
    let config = RestConfig {
        timeout: Duration::from_millis(300),
        ..RestConfig::default()
    };
    let client = RestClient::new(&urls, None, config).expect("client");
    let err = client
        .call::<Value>(&SCRIPTED_ORDER, &[])
        .await
        .expect_err("timed out");
    assert!(
        matches!(err, ExchangeError::UnknownExecution { .. }),
        "{err:?}"
    );
    let err = client
        .call::<Value>(&SCRIPTED_QUERY, &[])
        .await
        .expect_err("timed out");
    assert!(
        err.is_transient(),
        "a query that timed out can be retried: {err:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_transport_error_even_for_orders() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let urls = BaseUrls {
        rest: format!("http://{addr}"),
        spot_rest: None,
        streams: String::new(),
    };
    let client = RestClient::new(&urls, None, RestConfig::default()).expect("client");
    let err = client
        .call::<Value>(&SCRIPTED_ORDER, &[])
        .await
        .expect_err("refused");
    assert!(
        matches!(err, ExchangeError::Transport { .. }),
        "nothing was sent: {err:?}"
    );
}

#[tokio::test]
async fn malformed_replies_become_clear_errors_never_panics() {
    let stub = stub::start().await;
    let client = client(&stub);
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Needs {
        #[serde(rename = "serverTime")]
        server_time: i64,
    }
    let cases: Vec<(Scripted, &str)> = vec![
        (
            Scripted::raw(200, b"<html><body>502 Bad Gateway</body></html>"),
            "html page",
        ),
        (Scripted::raw(200, b""), "empty body"),
        (Scripted::raw(200, b"{\"serverTime\": "), "truncated json"),
        (Scripted::json(200, json!({"other": 1})), "missing field"),
        (
            Scripted::json(200, json!({"serverTime": "soon"})),
            "wrong type",
        ),
        (Scripted::raw(400, b"Bad Request"), "4xx without code"),
    ];
    for (reply, what) in cases {
        stub.state.push(reply);
        let err = client
            .call::<Needs>(&SCRIPTED_QUERY, &[])
            .await
            .expect_err(what);
        assert!(
            matches!(err, ExchangeError::Decode { .. }),
            "{what}: {err:?}"
        );
    }
    stub.state
        .push(Scripted::raw(502, b"<html>Bad Gateway</html>"));
    let err = client
        .call::<Needs>(&SCRIPTED_QUERY, &[])
        .await
        .expect_err("5xx page");
    assert!(
        matches!(err, ExchangeError::Unavailable { status: 502, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_huge_body_is_refused_without_reading_it_all() {
    let stub = stub::start().await;
    let config = RestConfig {
        max_body_bytes: 1024,
        ..RestConfig::default()
    };
    let client = client_with(&stub, config, 0);
    stub.state.push(Scripted::raw(200, &vec![b'['; 64 * 1024]));
    let err = client
        .call::<Value>(&SCRIPTED_QUERY, &[])
        .await
        .expect_err("too big");
    assert!(err.to_string().contains("larger than 1024 bytes"), "{err}");
}
