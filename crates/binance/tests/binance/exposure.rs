//! What exchange traffic may reveal, and to whom: no redirect is followed (a redirect would
//! carry the API key header and, as Referer, the signed query to another host), only
//! loopback may be plain http, and no error keeps the signed query (timestamp and signature)
//! that the UI, the log and the stored connection report would otherwise show.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use perpdesk_binance::{
    BaseUrls, Endpoint, Environment, ExchangeError, HmacSigner, Method, RestClient, RestConfig,
    Security,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stub::{self, API_KEY, ECHO_URI, SECRET, Scripted};

const SIGNED: Endpoint = Endpoint {
    method: Method::Get,
    path: "/test/signed",
    security: Security::Signed,
    weight: 1,
    places_order: false,
    spot: false,
};
const SIGNED_ORDER: Endpoint = Endpoint {
    method: Method::Post,
    path: "/test/signed",
    security: Security::Signed,
    weight: 1,
    places_order: true,
    spot: false,
};
/// A signed call served by the spot base URL, so the futures base (and its clock sync) can
/// stay healthy while the spot host fails in the way a test needs.
const SIGNED_SPOT: Endpoint = Endpoint {
    method: Method::Get,
    path: "/test/signed",
    security: Security::Signed,
    weight: 1,
    places_order: false,
    spot: true,
};
const SIGNED_SPOT_ORDER: Endpoint = Endpoint {
    places_order: true,
    method: Method::Post,
    ..SIGNED_SPOT
};
const LISTEN_KEY: Endpoint = Endpoint {
    method: Method::Post,
    path: "/fapi/v1/listenKey",
    security: Security::ApiKey,
    weight: 1,
    places_order: false,
    spot: false,
};

fn signed_client(rest: String, spot: Option<String>, timeout: Duration) -> RestClient {
    RestClient::new(
        &BaseUrls {
            rest,
            spot_rest: spot,
            streams: String::new(),
        },
        Some(Arc::new(HmacSigner::new(API_KEY, SECRET))),
        RestConfig {
            timeout,
            ..RestConfig::default()
        },
    )
    .expect("client builds")
}

/// Every text an error can turn into: what the UI shows, what the log writes, what a
/// connection report stores, and the same for each error it wraps.
fn renderings(err: &ExchangeError) -> Vec<String> {
    let mut out = vec![err.to_string(), format!("{err:?}")];
    let mut source = err.source();
    while let Some(s) = source {
        out.push(s.to_string());
        out.push(format!("{s:?}"));
        source = s.source();
    }
    out
}

fn assert_no_signed_query(what: &str, err: &ExchangeError) {
    for text in renderings(err) {
        let lower = text.to_ascii_lowercase();
        for marker in ["signature=", "timestamp=", "signature%3d", "timestamp%3d"] {
            assert!(
                !lower.contains(marker),
                "{what}: the error carries `{marker}`: {text}"
            );
        }
    }
}

#[tokio::test]
async fn redirects_are_refused_and_nothing_reaches_the_other_host() {
    let stub = stub::start().await;
    let (elsewhere, received) = stub::recorder().await;
    let client = stub.signed_rest();
    for status in [301, 302, 303, 307, 308] {
        for endpoint in [SIGNED, LISTEN_KEY] {
            stub.state.push(
                Scripted::raw(status, b"").header("Location", format!("http://{elsewhere}/take")),
            );
            let err = client
                .call::<Value>(&endpoint, &[("symbol", "BTCUSDT".into())])
                .await
                .expect_err("a redirect is an error");
            assert!(
                err.to_string().contains(&status.to_string()),
                "{status} {}: the error names the status: {err}",
                endpoint.path
            );
            assert_no_signed_query("redirect", &err);
        }
    }
    let seen = received.lock().expect("recorder lock");
    assert!(
        seen.is_empty(),
        "the redirect target received {} request(s), e.g. {:?} with X-MBX-APIKEY {:?} and Referer {:?}",
        seen.len(),
        seen[0].0,
        seen[0].1.get("x-mbx-apikey"),
        seen[0].1.get("referer"),
    );
}

#[tokio::test]
async fn a_redirected_order_is_looked_up_not_assumed_refused() {
    let stub = stub::start().await;
    let (elsewhere, received) = stub::recorder().await;
    stub.state
        .push(Scripted::raw(307, b"").header("Location", format!("http://{elsewhere}/order")));
    let err = stub
        .signed_rest()
        .call::<Value>(&SIGNED_ORDER, &[("symbol", "BTCUSDT".into())])
        .await
        .expect_err("redirected");
    assert!(
        matches!(err, ExchangeError::UnknownExecution { .. }),
        "the order left; only a lookup can tell whether it exists: {err:?}"
    );
    assert!(received.lock().expect("recorder lock").is_empty());
}

#[test]
fn exchange_urls_must_be_https_except_on_loopback() {
    let build = |rest: &str, spot: Option<&str>| {
        RestClient::new(
            &BaseUrls {
                rest: rest.into(),
                spot_rest: spot.map(Into::into),
                streams: String::new(),
            },
            None,
            RestConfig::default(),
        )
    };
    for (rest, spot) in [
        ("http://fapi.binance.com", None),
        ("https://fapi.binance.com", Some("http://api.binance.com")),
        ("http://127.0.0.1.example.com:8080", None),
        ("http://localhost.example.com", None),
        ("http://10.0.0.5:8080", None),
        ("ftp://127.0.0.1", None),
        ("ws://fapi.binance.com", None),
        ("fapi.binance.com", None),
        ("https://", None),
    ] {
        let err = build(rest, spot).expect_err(rest);
        assert!(
            matches!(err, ExchangeError::Transport { .. }) && err.to_string().contains("https"),
            "{rest} {spot:?}: {err}"
        );
    }
    // The private stream's URL carries the listen key: wss:// as well, ws:// only to loopback.
    let with_streams = |streams: &str| {
        RestClient::new(
            &BaseUrls {
                rest: "https://fapi.binance.com".into(),
                spot_rest: None,
                streams: streams.into(),
            },
            None,
            RestConfig::default(),
        )
    };
    for streams in [
        "ws://fstream.binance.com",
        "https://fstream.binance.com",
        "ws://10.0.0.5:9443",
    ] {
        let err = with_streams(streams).expect_err(streams);
        assert!(
            matches!(err, ExchangeError::Transport { .. }) && err.to_string().contains("wss"),
            "{streams}: {err}"
        );
    }
    for streams in ["wss://fstream.binance.com", "ws://127.0.0.1:8080", ""] {
        with_streams(streams).unwrap_or_else(|e| panic!("{streams:?}: {e}"));
    }
    for (rest, spot) in [
        ("https://fapi.binance.com", Some("https://api.binance.com")),
        ("http://127.0.0.1:8080", Some("http://127.0.0.1:8080")),
        ("http://127.9.9.9", None),
        ("http://localhost:3000", None),
        ("http://[::1]:8080", None),
    ] {
        build(rest, spot).unwrap_or_else(|e| panic!("{rest} {spot:?}: {e}"));
    }
    for env in [Environment::Demo, Environment::Live] {
        let urls = env.urls();
        assert!(
            urls.rest.starts_with("https://")
                && urls.spot_rest.iter().all(|u| u.starts_with("https://"))
                && urls.streams.starts_with("wss://"),
            "{env:?}: {urls:?}"
        );
        RestClient::new(&urls, None, RestConfig::default()).expect("Binance's own hosts");
    }
}

/// A port with nothing listening: the connection is refused before anything is sent.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// A server that accepts, reads the request and never answers.
async fn silent_server() -> String {
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
    format!("http://{addr}")
}

/// A server that promises a body and hangs up after its first byte.
async fn cut_off_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0_u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{")
                .await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn transport_failures_never_carry_the_signed_query() {
    let stub = stub::start().await;
    let params = [("symbol", "BTCUSDT".to_owned())];
    let cases: Vec<(&str, String, Endpoint)> = vec![
        ("connection refused", closed_port(), SIGNED_SPOT),
        (
            "connection refused, order",
            closed_port(),
            SIGNED_SPOT_ORDER,
        ),
        ("timeout", silent_server().await, SIGNED_SPOT),
        ("timeout, order", silent_server().await, SIGNED_SPOT_ORDER),
        ("body cut off", cut_off_server().await, SIGNED_SPOT),
        (
            "body cut off, order",
            cut_off_server().await,
            SIGNED_SPOT_ORDER,
        ),
    ];
    for (what, spot, endpoint) in cases {
        let client = signed_client(stub.url(), Some(spot), Duration::from_millis(300));
        let err = client
            .call::<Value>(&endpoint, &params)
            .await
            .expect_err(what);
        assert!(err.to_string().contains(endpoint.path), "{what}: {err}");
        assert_no_signed_query(what, &err);
    }
}

#[tokio::test]
async fn replies_that_echo_the_request_never_put_the_signed_query_in_an_error() {
    let stub = stub::start().await;
    let client = stub.signed_rest();
    let page = format!("<html><body>cannot serve {ECHO_URI}</body></html>");
    let cases: Vec<(&str, Scripted, Endpoint)> = vec![
        ("bad body", Scripted::raw(200, page.as_bytes()), SIGNED),
        ("4xx page", Scripted::raw(400, page.as_bytes()), SIGNED),
        ("5xx page", Scripted::raw(502, page.as_bytes()), SIGNED),
        (
            "5xx page, order",
            Scripted::raw(502, page.as_bytes()),
            SIGNED_ORDER,
        ),
        (
            "5xx json",
            Scripted::json(
                503,
                json!({"code": -1000, "msg": format!("failed {ECHO_URI}")}),
            ),
            SIGNED,
        ),
        (
            "refusal",
            Scripted::json(
                400,
                json!({"code": -1102, "msg": format!("bad {ECHO_URI}")}),
            ),
            SIGNED,
        ),
        (
            "redirect",
            Scripted::raw(302, page.as_bytes()).header("Location", "http://127.0.0.1:9/x"),
            SIGNED,
        ),
    ];
    for (what, reply, endpoint) in cases {
        stub.state.push(reply);
        let err = client
            .call::<Value>(&endpoint, &[("symbol", "BTCUSDT".into())])
            .await
            .expect_err(what);
        assert!(err.to_string().contains(endpoint.path), "{what}: {err}");
        assert_no_signed_query(what, &err);
    }
}
