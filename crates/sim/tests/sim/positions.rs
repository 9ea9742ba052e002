//! What `positionRisk` and ACCOUNT_UPDATE say about a position beyond its amount: the
//! isolated wallet and margin, the liquidation price and the break-even price, computed as
//! Binance does (issue 17, positions), and the isolated margin a user adds or removes.

use perpdesk_binance::Method::{Get, Post};
use perpdesk_binance::RestClient;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

use crate::support::{self, KEY, SECRET, code_of, signed};

const HOUR: i64 = 3_600_000;

fn d(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string: {v}"))
        .parse()
        .expect("decimal")
}

async fn call(
    rest: &RestClient,
    method: perpdesk_binance::Method,
    path: &'static str,
    p: &[(&'static str, &str)],
) -> Result<Value, perpdesk_binance::ExchangeError> {
    let p: Vec<(&str, String)> = p.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    rest.call(&signed(method, path), &p).await
}

/// Sets `leverage` and the margin type, then opens `qty` BTC on `side` at the market.
async fn open(rest: &RestClient, leverage: &str, margin: &str, side: &str, qty: &str) {
    call(
        rest,
        Post,
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", leverage)],
    )
    .await
    .expect("leverage");
    if margin == "ISOLATED" {
        call(
            rest,
            Post,
            "/fapi/v1/marginType",
            &[("symbol", "BTCUSDT"), ("marginType", margin)],
        )
        .await
        .expect("margin type");
    }
    call(
        rest,
        Post,
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", side),
            ("type", "MARKET"),
            ("quantity", qty),
        ],
    )
    .await
    .expect("opened");
}

/// The BTCUSDT row of `positionRisk` (v3 or v2).
async fn btc_row(rest: &RestClient, path: &'static str) -> Value {
    let rows = call(rest, Get, path, &[("symbol", "BTCUSDT")])
        .await
        .expect("positionRisk");
    rows.as_array()
        .expect("rows")
        .iter()
        .find(|r| r["symbol"] == "BTCUSDT" && r["positionSide"] == "BOTH")
        .cloned()
        .unwrap_or_else(|| panic!("a BTCUSDT row: {rows}"))
}

/// BTCUSDT's maintenance bracket (ratio, cum) for a notional, from `leverageBracket`.
async fn bracket(rest: &RestClient, notional: Decimal) -> (Decimal, Decimal) {
    let all = call(
        rest,
        Get,
        "/fapi/v1/leverageBracket",
        &[("symbol", "BTCUSDT")],
    )
    .await
    .expect("brackets");
    let brackets = all["brackets"].as_array().expect("brackets").clone();
    let num = |v: &Value| -> Decimal { v.to_string().parse().expect("number") };
    let b = brackets
        .iter()
        .find(|b| notional >= num(&b["notionalFloor"]) && notional < num(&b["notionalCap"]))
        .expect("a bracket");
    (num(&b["maintMarginRatio"]), num(&b["cum"]))
}

/// Binance's liquidation condition at price `lp` holds as an equation: the margin left (`wb`
/// plus the position's PnL) equals the maintenance margin of the notional at `lp`, with the
/// bracket that notional falls in (CONTRACT.md 4.2 brackets; the formula of
/// `perpdesk_core::preview::liquidation_price`).
async fn assert_liquidates_at(
    rest: &RestClient,
    lp: Decimal,
    wb: Decimal,
    qty: Decimal,
    entry: Decimal,
) {
    let (mmr, cum) = bracket(rest, (qty * lp).abs()).await;
    let margin_left = wb + qty * (lp - entry);
    let maintenance = (qty * lp).abs() * mmr - cum;
    assert!(
        (margin_left - maintenance).abs() < dec!(0.000001),
        "at {lp}: margin {margin_left} vs maintenance {maintenance}"
    );
    let expected = perpdesk_core::preview::liquidation_price(
        if qty > Decimal::ZERO {
            perpdesk_core::Side::Buy
        } else {
            perpdesk_core::Side::Sell
        },
        qty.abs(),
        entry,
        wb,
        perpdesk_core::preview::MaintenanceBracket {
            notional_cap: Decimal::MAX,
            max_leverage: 125,
            maint_margin_ratio: mmr,
            cum,
        },
    );
    assert_eq!(Some(lp), expected, "the app's preview agrees");
}

/// Issue 17: "an isolated 5x long" showed `liquidationPrice`, `isolatedMargin` and
/// `isolatedWallet` as "0", `breakEvenPrice` as the entry price and ACCOUNT_UPDATE `iw:"0"`.
/// Now the isolated wallet is the initial margin (entry × qty / leverage), the isolated
/// margin adds the unrealized PnL, the liquidation price solves Binance's formula, and the
/// break-even price covers the taker commission of opening and closing (0.05% each). v2
/// shows the same with its own fields.
#[tokio::test]
async fn an_isolated_5x_long_shows_its_wallet_liquidation_and_break_even_prices() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let mut events = perpdesk_sim::server::subscribe(&sim.shared);
    open(&rest, "5", "ISOLATED", "BUY", "0.010").await;
    let row = btc_row(&rest, "/fapi/v3/positionRisk").await;
    let entry = d(&row["entryPrice"]);
    let wallet = (entry * dec!(0.010) / dec!(5)).round_dp(8);
    assert_eq!(d(&row["isolatedWallet"]), wallet, "{row}");
    assert_eq!(
        d(&row["isolatedMargin"]),
        wallet + d(&row["unRealizedProfit"]),
        "{row}"
    );
    let lp = d(&row["liquidationPrice"]);
    assert!(
        lp > Decimal::ZERO && lp < entry * dec!(0.81),
        "a 5x long dies about 20% down: {row}"
    );
    assert_liquidates_at(&rest, lp, wallet, dec!(0.010), entry).await;
    let break_even = (entry * dec!(1.0005) / dec!(0.9995)).round_dp(8);
    assert_eq!(d(&row["breakEvenPrice"]), break_even, "{row}");

    let v2 = btc_row(&rest, "/fapi/v2/positionRisk").await;
    for field in [
        "liquidationPrice",
        "isolatedWallet",
        "isolatedMargin",
        "breakEvenPrice",
    ] {
        assert_eq!(v2[field], row[field], "v2 {field}");
    }
    assert_eq!(
        (v2["marginType"].as_str(), v2["leverage"].as_str()),
        (Some("isolated"), Some("5"))
    );
    assert_eq!(v2["isAutoAddMargin"], "false");

    let update = support::event(&mut events, |e| e["e"] == "ACCOUNT_UPDATE").await;
    let p = &update["a"]["P"][0];
    assert_eq!(d(&p["iw"]), wallet, "{update}");
    assert_eq!(d(&p["bep"]), break_even, "{update}");
    assert_eq!(p["mt"], "isolated");
}

/// A cross position's liquidation price counts the whole wallet: a 0.010 BTC long against
/// 10,000 USDT cannot be liquidated ("0", as Binance shows it), a short can, far above.
#[tokio::test]
async fn a_cross_position_is_liquidated_only_where_the_wallet_runs_out() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    open(&rest, "10", "CROSSED", "BUY", "0.010").await;
    let long = btc_row(&rest, "/fapi/v3/positionRisk").await;
    assert_eq!(long["liquidationPrice"], "0", "{long}");
    assert_eq!(
        (
            long["isolatedWallet"].as_str(),
            long["isolatedMargin"].as_str()
        ),
        (Some("0"), Some("0"))
    );
    call(
        &rest,
        Post,
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "MARKET"),
            ("quantity", "0.020"),
        ],
    )
    .await
    .expect("flipped to short");
    let short = btc_row(&rest, "/fapi/v3/positionRisk").await;
    let account = call(&rest, Get, "/fapi/v3/account", &[])
        .await
        .expect("account");
    let wallet = d(&account["totalWalletBalance"]);
    let lp = d(&short["liquidationPrice"]);
    let entry = d(&short["entryPrice"]);
    assert!(lp > entry * dec!(10), "{short}");
    assert_liquidates_at(&rest, lp, wallet, dec!(-0.010), entry).await;
    let break_even = (entry * dec!(0.9995) / dec!(1.0005)).round_dp(8);
    assert_eq!(d(&short["breakEvenPrice"]), break_even, "{short}");
}

/// The price shown is the price acted on: hour by hour, an isolated 50x long survives every
/// hour whose lowest mark stays above the liquidation price shown before it, and is
/// liquidated in the first hour whose lowest mark reaches it.
#[tokio::test]
async fn an_isolated_position_is_liquidated_where_its_liquidation_price_said() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    open(&rest, "50", "ISOLATED", "BUY", "0.010").await;
    for hour in 0.. {
        assert!(hour < 24 * 120, "never liquidated");
        let row = btc_row(&rest, "/fapi/v3/positionRisk").await;
        let lp = d(&row["liquidationPrice"]);
        let now = sim.shared.clock.now_ms();
        let (low, _) = sim
            .shared
            .exchange
            .lock()
            .expect("lock")
            .market
            .mark_price_range("BTCUSDT", now, now + HOUR)
            .expect("marks");
        support::advance(&sim, HOUR);
        let rows = call(
            &rest,
            Get,
            "/fapi/v3/positionRisk",
            &[("symbol", "BTCUSDT")],
        )
        .await
        .expect("rows");
        let gone = rows.as_array().expect("rows").is_empty();
        assert_eq!(
            gone,
            low <= lp,
            "hour {hour}: lowest mark {low}, liquidation price {lp}"
        );
        if gone {
            break;
        }
    }
}

/// `POST /fapi/v1/positionMargin` (CONTRACT.md error table -4050…-4055): margin added to an
/// isolated position raises its wallet and moves its liquidation price away; no more than
/// was added can be removed (-4051); a cross position (-4053), no position (-4054) and an
/// amount not above zero (-4055) are refused; the history lists each change.
#[tokio::test]
async fn isolated_margin_can_be_added_and_removed_with_a_history() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let margin = |kind: &'static str, amount: &'static str| {
        let rest = rest.clone();
        async move {
            call(
                &rest,
                Post,
                "/fapi/v1/positionMargin",
                &[("symbol", "BTCUSDT"), ("amount", amount), ("type", kind)],
            )
            .await
        }
    };
    assert_eq!(code_of(margin("1", "10").await), -4054, "no position yet");
    open(&rest, "10", "ISOLATED", "BUY", "0.010").await;
    let before = btc_row(&rest, "/fapi/v3/positionRisk").await;
    let added = margin("1", "100").await.expect("added");
    assert_eq!(
        (added["code"].as_i64(), added["type"].as_i64()),
        (Some(200), Some(1)),
        "{added}"
    );
    assert_eq!(added["amount"].as_f64(), Some(100.0));
    let after = btc_row(&rest, "/fapi/v3/positionRisk").await;
    assert_eq!(
        d(&after["isolatedWallet"]),
        d(&before["isolatedWallet"]) + dec!(100)
    );
    assert!(
        d(&after["liquidationPrice"]) < d(&before["liquidationPrice"]),
        "{before} {after}"
    );
    assert_eq!(code_of(margin("2", "150").await), -4051);
    margin("2", "40").await.expect("removed");
    assert_eq!(code_of(margin("1", "0").await), -4055);
    let history = call(
        &rest,
        Get,
        "/fapi/v1/positionMargin/history",
        &[("symbol", "BTCUSDT")],
    )
    .await
    .expect("history");
    let kinds: Vec<(i64, String)> = history
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["type"].as_i64().expect("type"),
                r["amount"].as_str().expect("amount").to_owned(),
            )
        })
        .collect();
    assert_eq!(kinds, [(1, "100".to_owned()), (2, "40".to_owned())]);
    crate::conformance::same_shape_as_fixture("POST", "/fapi/v1/positionMargin", &added);
    crate::conformance::same_shape_as_fixture("GET", "/fapi/v1/positionMargin/history", &history);

    call(
        &rest,
        Post,
        "/fapi/v1/order",
        &[
            ("symbol", "ETHUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.010"),
        ],
    )
    .await
    .expect("cross ETH");
    let cross = call(
        &rest,
        Post,
        "/fapi/v1/positionMargin",
        &[("symbol", "ETHUSDT"), ("amount", "10"), ("type", "1")],
    )
    .await;
    assert_eq!(code_of(cross), -4053);
}

/// The wallet and the income ledger, summed: they must agree.
async fn wallet_and_income(rest: &RestClient) -> (Decimal, Decimal) {
    let account = call(rest, Get, "/fapi/v3/account", &[])
        .await
        .expect("account");
    let income = call(
        rest,
        Get,
        "/fapi/v1/income",
        &[("startTime", "0"), ("limit", "1000")],
    )
    .await
    .expect("income");
    let sum = income
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| d(&r["income"]))
        .sum();
    (d(&account["totalWalletBalance"]), sum)
}

/// Advances the clock in one step long enough that BTCUSDT's lowest mark falls more than
/// `drop` below `from` (so the step jumps past a position's bankruptcy price, as a gap or a
/// stalled engine would), and returns that lowest mark.
fn gap_down(sim: &perpdesk_sim::server::Running, from: Decimal, drop: Decimal) -> Decimal {
    let now = sim.shared.clock.now_ms();
    let mut step = HOUR;
    let low = loop {
        let (low, _) = sim
            .shared
            .exchange
            .lock()
            .expect("lock")
            .market
            .mark_price_range("BTCUSDT", now, now + step)
            .expect("marks");
        if low < from * (Decimal::ONE - drop) {
            break low;
        }
        step *= 2;
        assert!(step < 400 * 24 * HOUR, "the data never falls that far");
    };
    support::advance(sim, step);
    low
}

/// Issue 17: a liquidation past bankruptcy left a negative wallet. Binance's insurance fund
/// takes what lies past the bankruptcy price: an isolated 100x long whose mark gaps far below
/// it loses its own margin and not a cent of the rest of the wallet, and the ledger still sums
/// to the wallet.
#[tokio::test]
async fn an_isolated_position_past_bankruptcy_loses_only_its_margin() {
    let sim = support::start().await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    open(&rest, "100", "ISOLATED", "BUY", "0.010").await;
    let row = btc_row(&rest, "/fapi/v3/positionRisk").await;
    let (entry, margin) = (d(&row["entryPrice"]), d(&row["isolatedWallet"]));
    let (before, _) = wallet_and_income(&rest).await;
    let low = gap_down(&sim, entry, dec!(0.05));
    assert!(
        (entry - low) * dec!(0.010) > dec!(4) * margin,
        "the gap is far past bankruptcy: the mark loss {} against a margin of {margin}",
        (entry - low) * dec!(0.010)
    );
    let rows = call(
        &rest,
        Get,
        "/fapi/v3/positionRisk",
        &[("symbol", "BTCUSDT")],
    )
    .await
    .expect("rows");
    assert_eq!(rows, serde_json::json!([]), "liquidated");
    let (after, ledger) = wallet_and_income(&rest).await;
    // Funding paid while the position lived is its own cost, charged to the wallet.
    let funding: Decimal = call(
        &rest,
        Get,
        "/fapi/v1/income",
        &[("incomeType", "FUNDING_FEE"), ("startTime", "0")],
    )
    .await
    .expect("funding")
    .as_array()
    .expect("rows")
    .iter()
    .map(|r| d(&r["income"]))
    .sum();
    let lost = before - after + funding;
    // The fill is rounded to the tick toward the entry: at most a tick's worth less.
    assert!(
        lost <= margin && lost >= margin - dec!(0.1) * dec!(0.010) - dec!(0.00000002),
        "the liquidation lost {lost} of a {margin} margin (funding {funding})"
    );
    assert_eq!(after, ledger, "the income ledger sums to the wallet");
}

/// The same for cross margin: a 100 USDT wallet fully used at 20x gaps past bankruptcy and
/// ends at zero or just above, never below, with the ledger summing to the wallet.
#[tokio::test]
async fn a_cross_position_past_bankruptcy_leaves_the_wallet_at_zero_not_below() {
    let sim = perpdesk_sim::testing::TestSim::new()
        .account(KEY, SECRET, dec!(100))
        .start()
        .await;
    let (rest, _) = support::rest(&sim, KEY, SECRET);
    let last = support::last(&sim, "BTCUSDT");
    // 95% of the wallet at 20x, after the commission.
    let qty = (dec!(100) * dec!(20) * dec!(0.95) / last).round_dp(3);
    open(&rest, "20", "CROSSED", "BUY", &qty.to_string()).await;
    let entry = d(&btc_row(&rest, "/fapi/v3/positionRisk").await["entryPrice"]);
    let low = gap_down(&sim, entry, dec!(0.10));
    let (wallet, _) = wallet_and_income(&rest).await;
    assert!(
        (entry - low) * qty > dec!(2) * dec!(100),
        "the gap is past bankruptcy"
    );
    let (after, ledger) = wallet_and_income(&rest).await;
    assert!(
        after >= Decimal::ZERO && after <= dec!(0.1) * qty + dec!(0.00000002),
        "the wallet ends at zero, not below: {after} (was {wallet})"
    );
    assert_eq!(after, ledger, "the income ledger sums to the wallet");
}
