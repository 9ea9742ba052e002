//! `/admin/*` can mint balances, move the clock and inject faults, and any local process (or a
//! web page whose name DNS-rebinds to 127.0.0.1) can reach a loopback port. Each admin route
//! needs the server's random token and a loopback `Host`; Binance's paths stay as they are.

use perpdesk_sim::server::{ADMIN_TOKEN_HEADER, Running};
use serde_json::{Value, json};

use crate::support;

/// Posts `body` to `path`, with `token` in the admin header and `host` as `Host` when given.
async fn admin(
    sim: &Running,
    path: &str,
    token: Option<&str>,
    host: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", sim.url()))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        req = req.header(ADMIN_TOKEN_HEADER, token);
    }
    if let Some(host) = host {
        req = req.header("Host", host);
    }
    let reply = req.send().await.expect("sent");
    let status = reply.status().as_u16();
    let body = serde_json::from_str(&reply.text().await.expect("body")).expect("json");
    (status, body)
}

fn token(sim: &Running) -> String {
    sim.shared.admin_token().expect("an admin token").to_owned()
}

/// Every admin route with a body that would change something.
fn routes() -> [(&'static str, Value); 4] {
    [
        (
            "/admin/accounts",
            json!({"apiKey": "minted", "secret": "s", "balance": "1000000000"}),
        ),
        ("/admin/clock", json!({"advanceMs": 86_400_000})),
        (
            "/admin/faults",
            json!({"seed": 1, "rules": [{"path": "/fapi/v1/order", "kind": "unknownAfterExecute"}]}),
        ),
        ("/admin/streams/drop", json!({})),
    ]
}

/// Asserts no admin request took effect: no minted account, the clock where it was.
fn unchanged(sim: &Running, clock_ms: i64) {
    assert_eq!(
        sim.shared.clock.now_ms(),
        clock_ms,
        "the clock did not move"
    );
    let ex = sim.shared.exchange.lock().expect("lock");
    assert!(
        ex.account_index("minted").is_none(),
        "no account was minted"
    );
}

#[tokio::test]
async fn admin_routes_refuse_a_request_without_the_servers_token() {
    let sim = support::start().await;
    let before = sim.shared.clock.now_ms();
    let token = token(&sim);
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|c| c.is_ascii_alphanumeric()), "{token}");
    let wrong = "A".repeat(64);
    for (path, body) in routes() {
        for given in [None, Some(wrong.as_str()), Some(&token[..63])] {
            let (status, reply) = admin(&sim, path, given, None, &body).await;
            assert_eq!(status, 401, "{path} with {given:?}: {reply}");
            assert_eq!(reply["code"], -1002, "{reply}");
            assert!(
                reply["msg"]
                    .as_str()
                    .is_some_and(|m| m.contains(ADMIN_TOKEN_HEADER)),
                "{reply}"
            );
        }
    }
    unchanged(&sim, before);

    // With the token, the same requests work.
    let (status, reply) = admin(&sim, "/admin/accounts", Some(&token), None, &routes()[0].1).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = admin(&sim, "/admin/clock", Some(&token), None, &routes()[1].1).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["now"], before + 86_400_000);
    assert!(
        sim.shared
            .exchange
            .lock()
            .expect("lock")
            .account_index("minted")
            .is_some()
    );
}

#[tokio::test]
async fn admin_routes_refuse_a_host_that_is_not_loopback() {
    let sim = support::start().await;
    let before = sim.shared.clock.now_ms();
    let token = token(&sim);
    let port = sim.addr.port();
    // A page at rebound.example whose name now resolves to 127.0.0.1 sends its own name.
    for host in [
        format!("rebound.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("localhost.rebound.example:{port}"),
    ] {
        for (path, body) in routes() {
            let (status, reply) = admin(&sim, path, Some(&token), Some(&host), &body).await;
            assert_eq!(status, 403, "{path} from {host}: {reply}");
            assert_eq!(reply["code"], -1002, "{reply}");
        }
    }
    unchanged(&sim, before);
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let (status, reply) = admin(
            &sim,
            "/admin/clock",
            Some(&token),
            Some(&host),
            &json!({"advanceMs": 1}),
        )
        .await;
        assert_eq!(status, 200, "{host}: {reply}");
    }
}

#[tokio::test]
async fn binance_paths_need_no_admin_token() {
    let sim = support::start().await;
    let reply = reqwest::Client::new()
        .get(format!("{}/fapi/v1/time", sim.url()))
        .send()
        .await
        .expect("sent");
    assert_eq!(reply.status(), 200);
    let body: Value = serde_json::from_str(&reply.text().await.expect("body")).expect("json");
    assert_eq!(body["serverTime"], sim.shared.clock.now_ms());
}

#[tokio::test]
async fn every_server_has_its_own_admin_token() {
    let (a, b) = (support::start().await, support::start().await);
    assert_ne!(token(&a), token(&b));
    let (status, _) = admin(
        &b,
        "/admin/clock",
        Some(&token(&a)),
        None,
        &json!({"advanceMs": 1}),
    )
    .await;
    assert_eq!(status, 401);
}
