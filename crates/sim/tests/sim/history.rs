//! `GET /fapi/v1/userTrades` and `GET /fapi/v1/allOrders` with Binance's query rules:
//! `fromId`/`orderId` paging regardless of time, the 7-day default window and limit, and
//! the refusals for windows over 7 days or `fromId` with times.

use perpdesk_binance::{RestClient, endpoints};
use serde_json::Value;

use crate::support::{self, KEY, SECRET, START, code_of};

const DAY: i64 = 86_400_000;

async fn market(rest: &RestClient, side: &str) -> Value {
    rest.call(
        &endpoints::ORDER_NEW,
        &[
            ("symbol", "BTCUSDT".into()),
            ("side", side.into()),
            ("type", "MARKET".into()),
            ("quantity", "0.010".into()),
        ],
    )
    .await
    .expect("market")
}

async fn ids(
    rest: &RestClient,
    endpoint: &perpdesk_binance::Endpoint,
    key: &str,
    extra: &[(&'static str, String)],
) -> Vec<i64> {
    let mut p = vec![("symbol", "BTCUSDT".to_owned())];
    p.extend(extra.iter().cloned());
    let rows: Vec<Value> = rest.call(endpoint, &p).await.expect("rows");
    rows.iter().map(|r| r[key].as_i64().expect("id")).collect()
}

#[tokio::test]
async fn history_queries_follow_binances_window_limit_and_paging_rules() {
    let sim = support::start().await;
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    // Three orders: at the start, 3 days later and 8 days after the start.
    let o0 = market(&rest, "BUY").await["orderId"].as_i64().expect("id");
    support::advance(&sim, 3 * DAY);
    let o1 = market(&rest, "SELL").await["orderId"].as_i64().expect("id");
    support::advance(&sim, 5 * DAY);
    let o2 = market(&rest, "BUY").await["orderId"].as_i64().expect("id");
    let trades: Vec<Value> = rest
        .call(
            &endpoints::USER_TRADES,
            &[("symbol", "BTCUSDT".into()), ("fromId", "0".into())],
        )
        .await
        .expect("all trades");
    let t: Vec<i64> = trades
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(
        trades
            .iter()
            .map(|r| r["orderId"].as_i64().expect("id"))
            .collect::<Vec<_>>(),
        vec![o0, o1, o2],
        "fromId ignores the window"
    );

    let trades = |extra: Vec<(&'static str, String)>| {
        let rest = rest.clone();
        async move { ids(&rest, &endpoints::USER_TRADES, "id", &extra).await }
    };
    assert_eq!(
        trades(vec![]).await,
        vec![t[1], t[2]],
        "the last 7 days by default"
    );
    assert_eq!(
        trades(vec![("limit", "1".into())]).await,
        vec![t[2]],
        "the latest within the limit"
    );
    assert_eq!(
        trades(vec![("limit", "5000".into())]).await,
        vec![t[1], t[2]],
        "limit is capped, not refused"
    );
    assert_eq!(
        trades(vec![("fromId", t[0].to_string()), ("limit", "2".into())]).await,
        vec![t[0], t[1]]
    );
    assert_eq!(
        trades(vec![("fromId", t[1].to_string())]).await,
        vec![t[1], t[2]]
    );
    assert_eq!(
        trades(vec![("startTime", START.to_string())]).await,
        vec![t[0], t[1]],
        "7 days from startTime"
    );
    assert_eq!(
        trades(vec![("endTime", (START + DAY).to_string())]).await,
        vec![t[0]],
        "7 days up to endTime"
    );
    assert_eq!(trades(vec![("orderId", o1.to_string())]).await, vec![t[1]]);
    let refused = |extra: Vec<(&'static str, String)>| {
        let rest = rest.clone();
        async move {
            let mut p = vec![("symbol", "BTCUSDT".to_owned())];
            p.extend(extra);
            code_of(rest.call::<Value>(&endpoints::USER_TRADES, &p).await)
        }
    };
    assert_eq!(
        refused(vec![
            ("fromId", t[0].to_string()),
            ("startTime", START.to_string())
        ])
        .await,
        -1128
    );
    assert_eq!(
        refused(vec![
            ("startTime", START.to_string()),
            ("endTime", (START + 8 * DAY).to_string())
        ])
        .await,
        -1127
    );
    assert_eq!(
        refused(vec![
            ("startTime", (START + DAY).to_string()),
            ("endTime", START.to_string())
        ])
        .await,
        -1023
    );
    assert_eq!(refused(vec![("fromId", "x".into())]).await, -1130);

    let orders = |extra: Vec<(&'static str, String)>| {
        let rest = rest.clone();
        async move { ids(&rest, &endpoints::ALL_ORDERS, "orderId", &extra).await }
    };
    assert_eq!(
        orders(vec![]).await,
        vec![o1, o2],
        "the last 7 days by default"
    );
    assert_eq!(
        orders(vec![("orderId", o0.to_string())]).await,
        vec![o0, o1, o2],
        "orderId pages regardless of time"
    );
    assert_eq!(
        orders(vec![("orderId", o0.to_string()), ("limit", "1".into())]).await,
        vec![o0]
    );
    assert_eq!(
        orders(vec![("startTime", START.to_string())]).await,
        vec![o0, o1]
    );
    assert_eq!(orders(vec![("limit", "1".into())]).await, vec![o2]);
    let window = rest
        .call::<Value>(
            &endpoints::ALL_ORDERS,
            &[
                ("symbol", "BTCUSDT".into()),
                ("startTime", START.to_string()),
                ("endTime", (START + 8 * DAY).to_string()),
            ],
        )
        .await;
    assert_eq!(code_of(window), -1127);
}
