//! Issue 16 item 1: a key is saved only when its withdrawals are proven off. Every way the
//! permission check can fail (spot host unreachable, 429, 5xx, timeout, an unreadable answer)
//! refuses the key with the reason in words; only an environment without a spot API (the
//! demo) skips the check, and says so.

use std::sync::Arc;
use std::time::Duration;

use perpdesk_app::accounts::{CheckStatus, ConnectionReport, check_connection};
use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::{BaseUrls, Client, HmacSigner, RestClient, RestConfig};
use perpdesk_sim::faults::{FaultKind, FaultRule, Faults};
use perpdesk_sim::server::Running;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{KEY, SECRET, start_sim};

const PERMISSIONS: &str = "/sapi/v1/account/apiRestrictions";

/// A client for the simulator's funded key whose spot API is `spot` (or none, as on demo).
fn client(sim: &Running, spot: Option<String>, timeout: Duration) -> Client {
    let urls = BaseUrls {
        rest: sim.url(),
        spot_rest: spot,
        streams: sim.url().replace("http://", "ws://"),
    };
    let shared = sim.shared.clone();
    let clock: LocalClock = Arc::new(move || shared.clock.now_ms());
    let config = RestConfig {
        timeout,
        ..RestConfig::default()
    };
    let rest = RestClient::with_clock(
        &urls,
        Some(Arc::new(HmacSigner::new(KEY, SECRET))),
        config,
        clock,
    )
    .expect("client");
    Client::new(Arc::new(rest))
}

fn withdrawals(report: &ConnectionReport) -> (CheckStatus, String) {
    let c = report
        .checks
        .iter()
        .find(|c| c.name == "withdrawals_disabled")
        .expect("the withdrawals check is always reported");
    (c.status, c.detail.clone())
}

/// The futures side works (signature accepted); only the permission read failed, and that
/// alone refuses the key with words saying why.
fn assert_refused(report: &ConnectionReport, cause: &str) {
    let signature = report.checks.iter().find(|c| c.name == "signature");
    assert_eq!(
        signature.map(|c| c.status),
        Some(CheckStatus::Ok),
        "{report:?}"
    );
    let (status, detail) = withdrawals(report);
    assert_eq!(status, CheckStatus::Fail, "{cause}: {report:?}");
    assert!(
        detail.contains("cannot prove withdrawals are off"),
        "{cause}: {detail}"
    );
    assert!(!report.ok, "{cause}");
    assert!(report.can_withdraw(), "{cause}");
    let refusal = report.refusal().expect("refused").to_string();
    assert!(
        refusal.contains("cannot prove withdrawals are off"),
        "{cause}: {refusal}"
    );
}

fn always(kind: FaultKind) -> Faults {
    Faults::new(
        16,
        vec![FaultRule {
            path: PERMISSIONS.into(),
            method: None,
            kind,
            probability: 1.0,
            count: None,
        }],
    )
}

#[tokio::test]
async fn a_key_is_refused_when_the_spot_host_cannot_be_reached() {
    let sim = start_sim().await;
    // A port nobody listens on: the spot host is blocked while futures works.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let report = check_connection(&client(&sim, Some(url), Duration::from_secs(10)), 0).await;
    assert_refused(&report, "unreachable");
}

#[tokio::test]
async fn a_key_is_refused_when_the_permission_read_is_rate_limited_or_fails() {
    let sim = start_sim().await;
    let spot = Some(sim.url());
    for (cause, kind) in [
        ("429", FaultKind::RateLimited),
        ("503", FaultKind::UnavailableBeforeExecute),
    ] {
        sim.shared.set_faults(always(kind));
        let report =
            check_connection(&client(&sim, spot.clone(), Duration::from_secs(10)), 0).await;
        assert_refused(&report, cause);
    }
}

#[tokio::test]
async fn a_key_is_refused_when_the_permission_read_times_out() {
    let sim = start_sim().await;
    sim.shared
        .set_faults(always(FaultKind::Latency { ms: 30_000 }));
    let report = check_connection(
        &client(&sim, Some(sim.url()), Duration::from_millis(500)),
        0,
    )
    .await;
    assert_refused(&report, "timeout");
}

#[tokio::test]
async fn a_key_is_refused_when_the_permission_answer_cannot_be_read() {
    let sim = start_sim().await;
    // A spot host that answers 200 with a body lacking `enableWithdrawals`: never read as
    // "withdrawals off".
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 8192];
            let mut read = 0;
            while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf[read..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
            let body = r#"{"ipRestrict":true,"enableReading":true}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    let report = check_connection(&client(&sim, Some(url), Duration::from_secs(10)), 0).await;
    server.abort();
    assert_refused(&report, "unreadable answer");
}

#[tokio::test]
async fn only_an_environment_without_a_spot_api_skips_the_check_and_says_so() {
    let sim = start_sim().await;
    let report = check_connection(&client(&sim, None, Duration::from_secs(10)), 0).await;
    let (status, detail) = withdrawals(&report);
    assert_eq!(status, CheckStatus::Warn, "{report:?}");
    assert!(detail.contains("demo"), "{detail}");
    assert!(!detail.contains("testnet"), "{detail}");
    assert!(report.ok, "{report:?}");
    assert!(report.refusal().is_none());

    // With a spot API that answers, the same key is checked and passes.
    let report = check_connection(&client(&sim, Some(sim.url()), Duration::from_secs(10)), 0).await;
    assert_eq!(withdrawals(&report).0, CheckStatus::Ok, "{report:?}");
    assert!(report.refusal().is_none());
}
