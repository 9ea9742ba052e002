//! `GET /fapi/v1/ticker/24hr` and `GET /fapi/v1/ticker/bookTicker` from the replayed data,
//! through the raw client.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{self, KEY, SECRET};

#[tokio::test]
async fn the_24h_ticker_is_the_replayed_days_statistics() {
    let sim = support::start().await;
    support::advance(&sim, 3 * 3_600_000);
    let raw = support::client(&sim, KEY, SECRET).raw().clone();
    let now = sim.shared.clock.now_ms();
    let t = raw.ticker_24hr("BTCUSDT").await.expect("ticker");
    assert_eq!(t.symbol, "BTCUSDT");
    assert_eq!((t.open_time, t.close_time), (now - 86_400_000, now));
    // The last price is the ticker price; the change is last − open.
    let last = raw.ticker_price("BTCUSDT").await.expect("price").price;
    assert_eq!(t.last_price, last);
    assert_eq!(t.price_change, t.last_price - t.open_price);
    assert_eq!(
        t.price_change_percent,
        (t.price_change / t.open_price * Decimal::ONE_HUNDRED).round_dp(3)
    );
    assert!(t.low_price <= t.open_price.min(t.last_price));
    assert!(t.high_price >= t.open_price.max(t.last_price));
    assert!(t.volume > dec!(0) && t.quote_volume > dec!(0));
    assert!(t.weighted_avg_price >= t.low_price && t.weighted_avg_price <= t.high_price);
    // The extremes are the replayed path's over the same window.
    let (low, high) = {
        let ex = sim.shared.exchange.lock().expect("lock");
        ex.market
            .price_range("BTCUSDT", now - 86_400_000, now)
            .expect("range")
    };
    assert_eq!((t.low_price, t.high_price), (low, high));

    let all = raw.ticker_24hr_all().await.expect("all tickers");
    assert_eq!(
        all.iter().map(|t| t.symbol.as_str()).collect::<Vec<_>>(),
        ["BTCUSDT", "ETHUSDT"]
    );
    assert_eq!(all[0], t);
    let err = raw
        .ticker_24hr("NOPEUSDT")
        .await
        .expect_err("unknown symbol");
    assert!(
        matches!(
            err,
            perpdesk_binance::ExchangeError::Rejected { code: -1121, .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_book_ticker_is_the_top_of_the_depth_book() {
    let sim = support::start().await;
    support::advance(&sim, 90 * 60_000);
    let rest = support::client(&sim, KEY, SECRET).raw().rest().clone();
    let book = perpdesk_binance::Endpoint {
        method: perpdesk_binance::Method::Get,
        path: "/fapi/v1/ticker/bookTicker",
        security: perpdesk_binance::Security::None,
        weight: 2,
        places_order: false,
        spot: false,
    };
    let one: serde_json::Value = rest
        .call(&book, &[("symbol", "BTCUSDT".into())])
        .await
        .expect("one");
    let depth: serde_json::Value = rest
        .call(
            &perpdesk_binance::endpoints::depth(5),
            &[("symbol", "BTCUSDT".into()), ("limit", "5".into())],
        )
        .await
        .expect("depth");
    assert_eq!(
        (one["bidPrice"].clone(), one["bidQty"].clone()),
        (depth["bids"][0][0].clone(), depth["bids"][0][1].clone())
    );
    assert_eq!(
        (one["askPrice"].clone(), one["askQty"].clone()),
        (depth["asks"][0][0].clone(), depth["asks"][0][1].clone())
    );
    let price = |v: &serde_json::Value| {
        v.as_str()
            .expect("price")
            .parse::<Decimal>()
            .expect("decimal")
    };
    let last = support::last(&sim, "BTCUSDT");
    assert!(price(&one["bidPrice"]) <= last && last < price(&one["askPrice"]));
    assert_eq!(one["time"], sim.shared.clock.now_ms());
    let all: Vec<serde_json::Value> = rest.call(&book, &[]).await.expect("all");
    assert_eq!(
        all.iter()
            .map(|t| t["symbol"].as_str().expect("symbol"))
            .collect::<Vec<_>>(),
        vec!["BTCUSDT", "ETHUSDT"]
    );
    assert_eq!(all[0], one);
    let err = rest
        .call::<serde_json::Value>(&book, &[("symbol", "NOPEUSDT".into())])
        .await;
    assert_eq!(support::code_of(err), -1121);
}
