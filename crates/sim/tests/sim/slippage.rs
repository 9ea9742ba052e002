//! The slippage model: taker fills land against the taker by the configured fraction (plus
//! the size impact), rounded to the tick against the taker; limits are never crossed; the
//! trade, the order and the commission all use the slipped price.

use perpdesk_sim::exchange::Slippage;
use perpdesk_sim::server::Running;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{KEY, last, send, start_with};

const TICK: Decimal = dec!(0.1);

fn order(side: &str, kind: &str, price: Option<Decimal>, id: &str) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("symbol", "BTCUSDT".to_owned()),
        ("side", side.to_owned()),
        ("type", kind.to_owned()),
        ("quantity", "0.01".to_owned()),
        ("newOrderRespType", "RESULT".to_owned()),
        ("newClientOrderId", id.to_owned()),
    ];
    if let Some(price) = price {
        p.push(("price", price.to_string()));
        p.push(("timeInForce", "GTC".to_owned()));
    }
    p
}

async fn place(sim: &Running, params: &[(&str, String)]) -> serde_json::Value {
    let reply = send(sim, reqwest::Method::POST, "/fapi/v1/order", KEY, params).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "FILLED", "{}", reply.body);
    reply.body
}

fn decimal(v: &serde_json::Value) -> Decimal {
    v.as_str()
        .expect("decimal string")
        .parse()
        .expect("decimal")
}

#[test]
fn the_model_moves_against_the_taker_rounded_to_the_tick() {
    let ten_bp = Slippage {
        base: dec!(0.001),
        per_million: Decimal::ZERO,
    };
    assert_eq!(
        ten_bp.fill_price(
            perpdesk_sim::exchange::Side::Buy,
            dec!(40000.05),
            dec!(1),
            TICK
        ),
        dec!(40040.1)
    );
    assert_eq!(
        ten_bp.fill_price(
            perpdesk_sim::exchange::Side::Sell,
            dec!(40000.05),
            dec!(1),
            TICK
        ),
        dec!(39960.0)
    );
    // Size impact: 2,000,000 of notional at 10 bp per million adds 20 bp.
    let impact = Slippage {
        base: Decimal::ZERO,
        per_million: dec!(0.001),
    };
    assert_eq!(
        impact.fill_price(
            perpdesk_sim::exchange::Side::Buy,
            dec!(40000),
            dec!(50),
            TICK
        ),
        dec!(40080)
    );
    assert_eq!(
        Slippage::default().fill_price(
            perpdesk_sim::exchange::Side::Buy,
            dec!(40000.05),
            dec!(1),
            TICK
        ),
        dec!(40000.05)
    );
}

#[tokio::test]
async fn market_fills_are_slipped_and_limits_are_respected() {
    let sim = start_with(|ex| {
        ex.slippage = Slippage {
            base: dec!(0.001),
            per_million: Decimal::ZERO,
        };
    })
    .await;
    let replayed = last(&sim, "BTCUSDT");
    let buy = place(&sim, &order("BUY", "MARKET", None, "slip-buy")).await;
    let bought = decimal(&buy["avgPrice"]);
    assert_eq!(bought, (replayed * dec!(1.001) / TICK).ceil() * TICK);
    assert!(bought > replayed);

    let sell = place(&sim, &order("SELL", "MARKET", None, "slip-sell")).await;
    let sold = decimal(&sell["avgPrice"]);
    assert_eq!(sold, (replayed * dec!(0.999) / TICK).floor() * TICK);

    // A marketable limit at the replayed price would slip past its limit: it fills at the limit.
    let limit = place(&sim, &order("BUY", "LIMIT", Some(replayed), "slip-limit")).await;
    assert_eq!(decimal(&limit["avgPrice"]), replayed);

    // The trades and commissions use the prices the orders reported.
    let trades = send(
        &sim,
        reqwest::Method::GET,
        "/fapi/v1/userTrades",
        KEY,
        &[("symbol", "BTCUSDT".to_owned())],
    )
    .await;
    let trades = trades.body.as_array().expect("trades").clone();
    let prices: Vec<Decimal> = trades.iter().map(|t| decimal(&t["price"])).collect();
    assert_eq!(prices, vec![bought, sold, replayed]);
    for t in &trades {
        let price = decimal(&t["price"]);
        assert_eq!(
            decimal(&t["commission"]),
            (dec!(0.01) * price * dec!(0.0005)).round_dp(8)
        );
    }
    // The round trip lost the spread the slippage made.
    assert_eq!(
        decimal(&trades[1]["realizedPnl"]),
        (sold - bought) * dec!(0.01)
    );
}
