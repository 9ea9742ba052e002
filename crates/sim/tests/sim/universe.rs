//! The wide universe: every symbol with data in `shared/data` and `shared/data/wide` lists,
//! replays and trades; a symbol listed mid-period only from its first candle.

use std::sync::OnceLock;

use perpdesk_binance::{ExchangeError, Placed};
use perpdesk_core::{
    ClientOrderId, IncomeKind, OrderKind, OrderRequest, PositionSide, Side, Symbol,
};
use perpdesk_sim::market::data::{load_candles, load_funding};
use perpdesk_sim::market::{DEFAULT_FUNDING_RATE, MarketData, available_symbols};
use perpdesk_sim::server::Running;
use perpdesk_sim::testing::TestSim;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{self, KEY, SECRET, START, data_dir};

const HOUR: i64 = 3_600_000;
/// 2023-05-03 16:00 UTC: SUIUSDT's first candle.
const SUI_LISTED: i64 = 1_683_129_600_000;

/// Every symbol of the shared data, loaded once for the whole test binary.
fn universe() -> MarketData {
    static M: OnceLock<MarketData> = OnceLock::new();
    M.get_or_init(|| MarketData::load_all(&data_dir()).expect("the wide universe loads"))
        .clone()
}

async fn sim_at(start: i64) -> Running {
    TestSim::on(universe(), start)
        .account(KEY, SECRET, Decimal::new(10_000, 0))
        .start()
        .await
}

fn market_order(symbol: &str, side: Side, qty: Decimal, id: &str) -> OrderRequest {
    OrderRequest {
        symbol: Symbol::new(symbol).expect("symbol"),
        side,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Some(qty),
        reduce_only: false,
        close_position: false,
        client_order_id: ClientOrderId::new(id).expect("id"),
    }
}

fn wide(name: &str) -> std::path::PathBuf {
    data_dir().join("wide").join(name)
}

#[tokio::test]
async fn exchange_info_lists_every_symbol_with_data_once_it_is_listed() {
    let all = available_symbols(&data_dir()).expect("listing");
    assert_eq!(all.len(), 28, "{all:?}");
    assert_eq!(&all[..2], ["BTCUSDT", "ETHUSDT"]);
    let sim = sim_at(START).await;
    let client = support::client(&sim, KEY, SECRET);
    let listed = client.listed_symbols().await.expect("listed");
    // SUI and 1000PEPE list in May 2023; everything else has data from 2021.
    assert_eq!(listed.len(), 26, "{listed:?}");
    assert!(!listed.iter().any(|s| s.as_str() == "SUIUSDT"));
    let doge = client
        .symbol_filters(&Symbol::new("DOGEUSDT").expect("symbol"))
        .await
        .expect("filters");
    // Derived from DOGE's 2021–2023 range, 0.004617 to 0.744178 (see `SymbolSpec::derived`).
    assert_eq!(doge.tick_size, dec!(0.0000001));
    assert_eq!(doge.step_size, dec!(1));
    assert_eq!(doge.min_notional, dec!(5));
    // The built-in symbols keep Binance's own filters.
    let btc = client
        .symbol_filters(&Symbol::new("BTCUSDT").expect("symbol"))
        .await
        .expect("filters");
    assert_eq!(btc.tick_size, dec!(0.1));

    // SUI lists first, 1000PEPE two days later.
    for (at, count) in [(SUI_LISTED + HOUR, 27), (SUI_LISTED + 3 * 24 * HOUR, 28)] {
        let later = sim_at(at).await;
        let listed = support::client(&later, KEY, SECRET)
            .listed_symbols()
            .await
            .expect("listed");
        assert_eq!(listed.len(), count, "{listed:?}");
        assert!(listed.iter().any(|s| s.as_str() == "SUIUSDT"));
    }
}

#[tokio::test]
async fn a_wide_symbol_replays_its_klines_and_mark_price() {
    let sim = sim_at(START).await;
    let client = support::client(&sim, KEY, SECRET);
    let raw = client.raw();
    let rows = load_candles(&wide("binance_um_DOGEUSDT_1h_2021-2023.csv.gz")).expect("rows");
    let i = rows
        .iter()
        .position(|r| r.open_time_ms == START - 10 * HOUR)
        .expect("hour in file");
    let ks = raw
        .klines("DOGEUSDT", "1h", Some(START - 10 * HOUR), None, 5)
        .await
        .expect("klines");
    assert_eq!(ks.len(), 5);
    for (k, r) in ks.iter().zip(&rows[i..]) {
        assert_eq!(
            (k.open_time, k.open, k.high, k.low, k.close, k.volume),
            (r.open_time_ms, r.open, r.high, r.low, r.close, r.volume)
        );
    }
    // XRP has a mark-price file: at an hour's open the mark is that mark candle's open.
    let marks = load_candles(&wide("binance_um_XRPUSDT_mark_1h_2021-2023.csv.gz")).expect("rows");
    let at_start = marks
        .iter()
        .find(|r| r.open_time_ms == START)
        .expect("hour in file");
    let p = raw.premium_index("XRPUSDT").await.expect("premium index");
    assert_eq!(p.mark_price, at_start.open);
    // Before its listing a symbol is unknown, as on Binance.
    let err = raw
        .klines("SUIUSDT", "1h", None, None, 5)
        .await
        .expect_err("not listed yet");
    assert!(
        matches!(err, ExchangeError::Rejected { code: -1121, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_order_on_a_wide_symbol_fills_at_its_replayed_price() {
    let sim = sim_at(START + 3 * HOUR).await;
    let client = support::client(&sim, KEY, SECRET);
    let last = support::last(&sim, "DOGEUSDT");
    let Placed::Order(o) = client
        .raw()
        .place_order(&market_order("DOGEUSDT", Side::Buy, dec!(100), "pd-u-1"))
        .await
        .expect("filled")
    else {
        panic!("a market order is a regular order");
    };
    assert_eq!(o.executed_qty, dec!(100));
    let avg = o.avg_price.expect("average price");
    // A taker buy pays the replayed price plus at most a few ticks of the book.
    assert!(
        avg >= last && avg - last <= dec!(0.0001),
        "{avg} against {last}"
    );
    let err = client
        .raw()
        .place_order(&market_order("SUIUSDT", Side::Buy, dec!(10), "pd-u-2"))
        .await
        .expect_err("not listed yet");
    assert!(
        matches!(err, ExchangeError::Rejected { code: -1121, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn funding_is_charged_at_the_series_times_and_defaults_without_a_series() {
    let sim = sim_at(START + HOUR).await;
    let client = support::client(&sim, KEY, SECRET);
    for (symbol, qty, id) in [
        ("XRPUSDT", dec!(100), "pd-f-1"),
        ("AAVEUSDT", dec!(1), "pd-f-2"),
    ] {
        client
            .raw()
            .place_order(&market_order(symbol, Side::Buy, qty, id))
            .await
            .expect("open");
    }
    // Across 08:00 and 16:00.
    support::advance(&sim, 16 * HOUR);
    let income = client
        .income_since(
            chrono::DateTime::from_timestamp_millis(START).expect("time"),
            1000,
        )
        .await
        .expect("income");
    let funding: Vec<_> = income
        .iter()
        .filter(|r| r.kind == IncomeKind::FundingFee)
        .collect();
    let file = load_funding(&wide("binance_um_XRPUSDT_funding_2021-2023.csv.gz")).expect("rows");
    let market = universe();
    for symbol in ["XRPUSDT", "AAVEUSDT"] {
        let rows: Vec<_> = funding
            .iter()
            .filter(|r| r.symbol.as_ref().map(Symbol::as_str) == Some(symbol))
            .collect();
        let times: Vec<i64> = rows.iter().map(|r| r.time.timestamp_millis()).collect();
        assert_eq!(times, [START + 8 * HOUR, START + 16 * HOUR], "{symbol}");
        for (r, t) in rows.iter().zip(times) {
            let rate = if symbol == "XRPUSDT" {
                file.iter()
                    .find(|f| f.funding_time_ms == t)
                    .expect("XRP's file has this funding time")
                    .funding_rate
            } else {
                DEFAULT_FUNDING_RATE
            };
            let mark = market.mark_price(symbol, t).expect("mark");
            let qty = if symbol == "XRPUSDT" {
                dec!(100)
            } else {
                dec!(1)
            };
            assert_eq!(r.amount, (-(qty * mark * rate)).round_dp(8), "{symbol} {t}");
        }
    }
    assert!(market.funding_coverage("AAVEUSDT").is_none());
    assert!(market.funding_coverage("XRPUSDT").is_some());
}
