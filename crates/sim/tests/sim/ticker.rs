//! `GET /fapi/v1/ticker/24hr` from the replayed data, through the raw client.

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
