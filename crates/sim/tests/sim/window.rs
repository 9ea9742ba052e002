//! A market that keeps only a window of candles around the clock answers exactly what the
//! whole market answers, at any clock position, across a slide of the window, and for fills;
//! a data file that cannot be read when a read needs it is a 503 that changes nothing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use perpdesk_sim::exchange::{Exchange, Permissions, Side, TimeInForce};
use perpdesk_sim::market::{DataError, MarketData, Residency, interval_ms};
use perpdesk_sim::params::NewOrder;
use perpdesk_sim::testing::{TestSim, advance};
use rust_decimal::Decimal;

use crate::support::{self, get};

/// BTC (1m, 5m and 1h trade data, mark prices, funding, plain CSV) and XRP (a wide symbol:
/// gzip, with mark prices and funding).
const SYMBOLS: [&str; 2] = ["BTCUSDT", "XRPUSDT"];
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// A window much smaller than the app's, so most random reads fall outside it.
const SMALL: Residency = Residency {
    back_ms: 3 * DAY,
    ahead_ms: 4 * DAY,
};

fn whole() -> &'static MarketData {
    static M: OnceLock<MarketData> = OnceLock::new();
    M.get_or_init(|| MarketData::load_dir(&support::data_dir(), &SYMBOLS).expect("data loads"))
}

fn windowed() -> MarketData {
    MarketData::load_dir(&support::data_dir(), &SYMBOLS)
        .expect("data loads")
        .keeping(SMALL)
}

/// A seeded generator (SplitMix64), so a failure names the case that failed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: i64) -> i64 {
        i64::try_from(self.next() % u64::try_from(n.max(1)).expect("positive")).expect("fits")
    }

    /// A time in `[lo, hi]`, near `hi` half the time (where the window is).
    fn time(&mut self, lo: i64, hi: i64) -> i64 {
        if self.next().is_multiple_of(2) {
            hi - self.below((hi - lo).min(6 * DAY) + 1)
        } else {
            lo + self.below(hi - lo + 1)
        }
    }
}

/// Many random reads at clock `now`, each answered by both markets alike.
fn compare_reads(w: &MarketData, rng: &mut Rng, now: i64, reads: usize) {
    let m = whole();
    let lo = m.start_ms() - 2 * DAY;
    let intervals = ["1m", "5m", "15m", "1h", "4h", "1d"];
    for i in 0..reads {
        let sym = SYMBOLS[i % 2];
        let t = rng.time(lo, now);
        let case = format!("{sym} now={now} t={t} read {i}");
        assert_eq!(w.last_price(sym, t), m.last_price(sym, t), "last {case}");
        assert_eq!(w.mark_price(sym, t), m.mark_price(sym, t), "mark {case}");
        let span = if rng.next().is_multiple_of(2) {
            2 * HOUR
        } else {
            9 * DAY
        };
        let len = 1 + rng.below(span);
        let a = t - len;
        assert_eq!(
            w.price_range(sym, a, t),
            m.price_range(sym, a, t),
            "range ({a},{t}] {case}"
        );
        assert_eq!(
            w.mark_price_range(sym, a, t),
            m.mark_price_range(sym, a, t),
            "mark range ({a},{t}] {case}"
        );
        assert_eq!(w.ticker_24h(sym, t), m.ticker_24h(sym, t), "ticker {case}");
        assert_eq!(w.depth(sym, t, 5), m.depth(sym, t, 5), "depth {case}");
        let f = m.next_funding_time_of(sym, t);
        assert_eq!(
            w.funding_rate(sym, f),
            m.funding_rate(sym, f),
            "funding {case}"
        );
        let iv = intervals[usize::try_from(rng.below(6)).expect("small")];
        let ivm = interval_ms(iv).expect("an interval");
        let limit = [0, 1, 7, 100, 500, 1500][usize::try_from(rng.below(6)).expect("small")];
        let start = rng.time(lo, now);
        let (start, end) = match rng.below(4) {
            0 => (None, None),
            1 => (Some(start), None),
            2 => (None, Some(start)),
            _ => (Some(start), Some(start + rng.below(1_600) * ivm)),
        };
        let kcase = format!("{iv} start={start:?} end={end:?} limit={limit} {case}");
        assert_eq!(
            w.klines(sym, iv, start, end, limit, now),
            m.klines(sym, iv, start, end, limit, now),
            "klines {kcase}"
        );
        assert_eq!(
            w.mark_klines(sym, iv, start, end, limit, now),
            m.mark_klines(sym, iv, start, end, limit, now),
            "mark klines {kcase}"
        );
    }
}

/// The 1h trade series' resident span must hold `[now - back, now + ahead / 2]` once the
/// window has slid to `now`, and nothing far from it.
fn assert_window_around(w: &MarketData, now: i64) {
    for sym in SYMBOLS {
        let (from, to) = w.resident_span(sym).expect("a symbol with a window");
        let end = w.end_ms() + 1;
        assert!(
            from <= (now - SMALL.back_ms).max(w.start_ms())
                && to >= (now + SMALL.ahead_ms / 2).min(end),
            "{sym} keeps {from}..{to} at {now}"
        );
        assert!(
            from >= now - 2 * SMALL.back_ms - SMALL.ahead_ms
                && to <= now + 2 * SMALL.ahead_ms + HOUR,
            "{sym} keeps more than its window: {from}..{to} at {now}"
        );
    }
}

#[test]
fn a_windowed_market_answers_exactly_as_the_whole_one() {
    let w = windowed();
    let all_bars = w.resident_bars();
    let mut rng = Rng(18);
    // Through the data: 2021, 2022, the 5m file (2023-01..03), the 1m file (2023-07-18..
    // 08-17) and across its end, to the last days.
    let stops = [
        1_614_556_800_000, // 2021-03-01
        1_654_041_600_000, // 2022-06-01
        1_675_209_600_000, // 2023-02-01
        1_690_156_800_000, // 2023-07-24
        1_692_403_200_000, // 2023-08-19
        w.end_ms() - DAY,
    ];
    let mut now = stops[0];
    w.keep_window(now, now).expect("the files read");
    assert!(w.resident_bars() * 20 < all_bars, "the window is cut");
    for &stop in &stops[1..] {
        compare_reads(&w, &mut rng, now, 40);
        // Jump to the stop (the bars the clock needs are read at once), then walk on in
        // steps that slide the window in the background.
        let from = now;
        now = stop - 5 * DAY;
        w.keep_window(from, now).expect("the files read");
        for _ in 0..5 {
            let from = now;
            now += DAY + rng.below(DAY);
            w.keep_window(from, now).expect("the files read");
            compare_reads(&w, &mut rng, now, 8);
        }
        w.wait_for_window();
        w.keep_window(now, now).expect("the files read");
        w.wait_for_window();
        assert_window_around(&w, now);
        compare_reads(&w, &mut rng, now, 20);
    }
}

/// One exchange's trading over a path of clock steps: market and limit orders on both
/// symbols; returns the account as its REST views show it.
fn trade(market: MarketData, start: i64, steps: &[i64]) -> Exchange {
    let mut ex = Exchange::new(market, start);
    ex.add_account(
        "k",
        "s",
        Decimal::new(1_000_000, 0),
        Permissions::default(),
        start,
    );
    let mut now = start;
    for (i, &step) in steps.iter().enumerate() {
        let sym = SYMBOLS[i % 2];
        let last = ex.market.last_price(sym, now).expect("a price");
        let qty = if sym == "BTCUSDT" {
            Decimal::new(5, 3)
        } else {
            Decimal::new(200, 0)
        };
        let side = if i % 3 == 0 { Side::Buy } else { Side::Sell };
        let _ = ex.new_order(0, &NewOrder::market(sym, side, qty), now);
        for off in [-30, -10, 10, 30] {
            // Resting limits 1% and 3% away: they fill as the path reaches them.
            let price = (last * (Decimal::ONE + Decimal::new(off, 3)))
                .round_dp(if sym == "BTCUSDT" { 1 } else { 4 });
            let side = if off < 0 { Side::Buy } else { Side::Sell };
            let _ = ex.new_order(
                0,
                &NewOrder::limit(sym, side, qty, price, TimeInForce::Gtc),
                now,
            );
        }
        now += step;
        ex.advance(now);
    }
    ex
}

#[test]
fn fills_funding_and_positions_on_a_windowed_market_are_the_whole_ones() {
    let start = 1_689_800_000_000; // 2023-07-19, inside the 1m file
    let steps: Vec<i64> = (0..24)
        .map(|i| match i % 4 {
            0 => 17 * 60_000,
            1 => 7 * HOUR,
            2 => 2 * DAY + 5 * HOUR,
            _ => 6 * DAY,
        })
        .collect();
    let a = trade(whole().clone(), start, &steps);
    let b = trade(windowed(), start, &steps);
    let (x, y) = (&a.accounts[0], &b.accounts[0]);
    assert!(
        x.trades.len() > 20,
        "the path fills orders: {}",
        x.trades.len()
    );
    let key = |t: &perpdesk_sim::exchange::Trade| {
        (
            t.symbol.clone(),
            t.side,
            t.price,
            t.qty,
            t.time,
            t.realized_pnl,
            t.commission,
        )
    };
    assert_eq!(
        x.trades.iter().map(key).collect::<Vec<_>>(),
        y.trades.iter().map(key).collect::<Vec<_>>()
    );
    assert_eq!(x.wallet, y.wallet);
    assert_eq!(
        x.income
            .iter()
            .map(|r| (r.income_type, r.income, r.time))
            .collect::<Vec<_>>(),
        y.income
            .iter()
            .map(|r| (r.income_type, r.income, r.time))
            .collect::<Vec<_>>()
    );
    assert_eq!(format!("{:?}", x.positions), format!("{:?}", y.positions));
}

/// A folder with BTC's hourly file only, copied, so a test can take it away.
fn btc_only(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("perpdesk-window-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let name = "binance_um_BTCUSDT_1h_2021-2023.csv";
    std::fs::copy(support::data_dir().join(name), dir.join(name)).expect("copy");
    dir
}

fn hourly(dir: &Path) -> PathBuf {
    dir.join("binance_um_BTCUSDT_1h_2021-2023.csv")
}

#[test]
fn a_truncated_file_is_an_error_naming_it_never_other_candles() {
    let dir = btc_only("truncated");
    let m = MarketData::load_dir(&dir, &["BTCUSDT"])
        .expect("loads")
        .keeping(SMALL);
    let now = 1_700_000_000_000;
    m.keep_window(now, now).expect("cut from memory");
    // Read from the file while it is whole, far from the time read below (so that read is
    // not served by the run this one keeps for a moment).
    let before = m.last_price("BTCUSDT", m.start_ms() + 10 * DAY);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(hourly(&dir))
        .expect("opens");
    file.set_len(600_000).expect("truncates");
    drop(file);
    let far = m.try_last_price("BTCUSDT", now - 100 * DAY);
    let near = m.try_last_price("BTCUSDT", now - DAY);
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert!(before.is_some());
    assert!(
        matches!(&far, Err(DataError::Changed { path, .. }) if path.ends_with("binance_um_BTCUSDT_1h_2021-2023.csv")),
        "{far:?}"
    );
    assert_eq!(
        near.expect("inside the window: memory"),
        whole().last_price("BTCUSDT", now - DAY)
    );
}

#[tokio::test]
async fn a_file_gone_after_start_answers_503_and_loses_nothing() {
    let dir = btc_only("gone");
    let market = MarketData::load_dir(&dir, &["BTCUSDT"])
        .expect("loads")
        .keeping(SMALL);
    let start = 1_660_000_000_000;
    // A buy limit between the lowest price of the window's days ahead and the lowest of the
    // month after: the path comes down to it only after the window's end (found on the
    // whole market).
    let ahead = start + SMALL.ahead_ms;
    let (low_inside, _) = whole()
        .price_range("BTCUSDT", start, ahead)
        .expect("prices");
    let (low_after, _) = whole()
        .price_range("BTCUSDT", ahead, ahead + 30 * DAY)
        .expect("prices");
    assert!(low_after < low_inside, "{low_after} < {low_inside}");
    let price = ((low_inside + low_after) / Decimal::TWO).round_dp(1);
    let fill_at = (ahead..ahead + 30 * DAY)
        .step_by(60_000)
        .find(|&t| whole().last_price("BTCUSDT", t).is_some_and(|p| p <= price))
        .expect("the price comes down within the month");
    let order = NewOrder::limit(
        "BTCUSDT",
        Side::Buy,
        Decimal::new(10, 3),
        price,
        TimeInForce::Gtc,
    );
    let sim = TestSim::on(market, start)
        .account("k", "s", Decimal::new(100_000, 0))
        .setup({
            let order = order.clone();
            move |ex| {
                ex.new_order(0, &order, start).expect("placed");
            }
        })
        .start()
        .await;
    let far = format!(
        "/fapi/v1/klines?symbol=BTCUSDT&interval=1h&startTime={}&limit=5",
        start - 200 * DAY
    );
    let away = dir.join("away.csv");
    std::fs::rename(hourly(&dir), &away).expect("moves the file away");
    // Outside the window: Binance's shape for a server-side failure, nothing changed.
    let unavailable = serde_json::json!({
        "code": -1000,
        "msg": "Internal error; unable to process your request. Please try again."
    });
    assert_eq!(get(&sim, &far).await, (503, unavailable.clone()));
    let (status, _) = get(&sim, "/fapi/v1/ticker/price?symbol=BTCUSDT").await;
    assert_eq!(status, 200, "now is inside the window");
    // The clock moves past the window: the exchange waits instead of skipping the span,
    // and the price now is a 503 too.
    advance(&sim, fill_at + HOUR - start);
    assert_eq!(
        get(&sim, "/fapi/v1/ticker/price?symbol=BTCUSDT").await,
        (503, unavailable)
    );
    {
        let ex = sim.shared.exchange.lock().expect("lock");
        assert!(ex.accounts[0].trades.is_empty(), "nothing filled meanwhile");
        assert_eq!(ex.accounts[0].open.len(), 1, "the order still rests");
        assert_eq!(ex.clock_ms(), start, "nothing processed");
    }
    std::fs::rename(&away, hourly(&dir)).expect("moves it back");
    advance(&sim, 1);
    let (status, after) = get(&sim, &far).await;
    let (trades, processed) = {
        let ex = sim.shared.exchange.lock().expect("lock");
        (ex.accounts[0].trades.clone(), ex.clock_ms())
    };
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(status, 200, "{after}");
    let expected = whole()
        .klines("BTCUSDT", "1h", Some(start - 200 * DAY), None, 5, start)
        .expect("klines");
    let got: Vec<(i64, String)> = after
        .as_array()
        .expect("rows")
        .iter()
        .map(|k| {
            (
                k[0].as_i64().expect("time"),
                k[4].as_str().expect("close").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        expected
            .iter()
            .map(|k| (k.open_time, k.close.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(processed, fill_at + HOUR + 1);
    assert_eq!(trades.len(), 1, "the order filled in the span that waited");
    // As it fills on an exchange that never missed its data.
    let mut never = Exchange::new(whole().clone(), start);
    never.add_account(
        "k",
        "s",
        Decimal::new(100_000, 0),
        Permissions::default(),
        start,
    );
    never.new_order(0, &order, start).expect("placed");
    never.advance(processed);
    let key = |t: &perpdesk_sim::exchange::Trade| (t.price, t.qty, t.time, t.commission);
    assert_eq!(key(&trades[0]), key(&never.accounts[0].trades[0]));
}
