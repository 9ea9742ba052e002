//! The universe parsed from file texts (plain and, through the shared data, gzip), bars
//! built from 1h candles with gaps, and funding charged at each symbol's own times.

use chrono::{DateTime, Duration, Utc};
use perpdesk_signal::bars::{Panel, build_bars, grid};
use perpdesk_signal::universe::{DataFile, FundingSource, UniverseBuilder, classify_file};

use crate::common::shared_universe;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn ms(s: &str) -> i64 {
    t(s).timestamp_millis()
}

const HEADER: &str = "open_time_ms,open,high,low,close,volume,quote_volume,trades\n";

/// One kline row at `time` with close `c` (open = c, high/low ±1).
fn row(time: &str, c: f64) -> String {
    format!("{},{c},{},{},{c},10,,\n", ms(time), c + 1.0, c - 1.0)
}

#[test]
fn file_names_say_what_belongs_to_the_universe() {
    let k = |s: &str| Some(DataFile::Klines1h { symbol: s.into() });
    let f = |s: &str| Some(DataFile::Funding { symbol: s.into() });
    assert_eq!(
        classify_file("binance_um_BTCUSDT_1h_2021-2023.csv"),
        k("BTCUSDT")
    );
    assert_eq!(
        classify_file("binance_um_1000PEPEUSDT_1h_2023-05_2023-12.csv.gz"),
        k("1000PEPEUSDT")
    );
    assert_eq!(
        classify_file("binance_um_SOLUSDT_funding_2022-12_2023-12.csv.gz"),
        f("SOLUSDT")
    );
    for other in [
        "binance_um_XRPUSDT_mark_1h_2021-2023.csv.gz",
        "binance_um_BTCUSDT_5m_2023-01_2023-03.csv",
        "binance_spot_BTCUSDT_1h_2021-2023.csv",
        "btcusd_1h_coinbase_2017-07_2019-10.csv",
        "README.md",
        "binance_um_btcusdt_1h_x.csv",
        "binance_um_BTCUSDT_1h_x.csv.bz2",
    ] {
        assert_eq!(classify_file(other), None, "{other}");
    }
}

#[test]
fn files_of_one_symbol_merge_and_conflicts_are_refused() {
    let mut b = UniverseBuilder::new();
    let a = format!(
        "{HEADER}{}{}",
        row("2024-01-01T00:00:00Z", 100.0),
        row("2024-01-01T01:00:00Z", 101.0)
    );
    // The second file repeats 01:00 identically, and skips 02:00 (a gap).
    let b2 = format!(
        "{HEADER}{}{}",
        row("2024-01-01T01:00:00Z", 101.0),
        row("2024-01-01T03:00:00Z", 103.0)
    );
    b.add_file("binance_um_NEWUSDT_1h_a.csv", &a).expect("a");
    b.add_file("binance_um_NEWUSDT_1h_b.csv", &b2).expect("b");
    b.add_file(
        "binance_um_NEWUSDT_mark_1h_a.csv",
        "this is not parsed: not part of the universe",
    )
    .expect("ignored");
    b.add_file(
        "binance_um_GONEUSDT_funding_x.csv",
        "funding_time_ms,funding_rate\n0,0.0001\n",
    )
    .expect("funding");
    let u = b.build().expect("universe");
    assert_eq!(u.symbols.len(), 1);
    let s = &u.symbols[0];
    assert_eq!(s.hourly.len(), 3);
    assert_eq!(s.hourly.close, vec![100.0, 101.0, 103.0]);
    assert_eq!(s.funding.source(), FundingSource::Default);
    assert_eq!(u.funding_without_candles, vec!["GONEUSDT".to_string()]);
    assert_eq!(s.hourly.contiguous_runs().len(), 2);

    let mut b = UniverseBuilder::new();
    b.add_file("binance_um_NEWUSDT_1h_a.csv", &a).expect("a");
    let clash = format!("{HEADER}{}", row("2024-01-01T01:00:00Z", 99.0));
    b.add_file("binance_um_NEWUSDT_1h_c.csv", &clash)
        .expect("c");
    let err = b.build().expect_err("two different candles for one hour");
    assert!(err.to_string().contains("NEWUSDT"), "{err}");

    let mut b = UniverseBuilder::new();
    let err = b
        .add_file("binance_um_BADUSDT_1h_a.csv", "open_time_ms,open\n1,2\n")
        .expect_err("bad header");
    assert!(
        err.to_string().contains("binance_um_BADUSDT_1h_a.csv"),
        "{err}"
    );
}

#[test]
fn daily_and_4h_bars_close_on_their_last_hour_and_gaps_stay_visible() {
    let mut text = HEADER.to_string();
    // Day 1 complete (24 hours, closes 1..=24); day 2 misses 05:00 and 23:00.
    for h in 0..48 {
        if h == 24 + 5 || h == 24 + 23 {
            continue;
        }
        let time = t("2024-01-01T00:00:00Z") + Duration::hours(h);
        text.push_str(&row(&time.to_rfc3339(), 1.0 + h as f64));
    }
    let mut b = UniverseBuilder::new();
    b.add_file("binance_um_GAPUSDT_1h_x.csv", &text)
        .expect("file");
    let u = b.build().expect("universe");
    let hourly = &u.symbols[0].hourly;
    let days = grid(
        t("2024-01-01T00:00:00Z"),
        t("2024-01-02T23:00:00Z"),
        Duration::days(1),
    )
    .expect("grid");
    let d = build_bars(hourly, &days, Duration::days(1)).expect("daily");
    assert_eq!(d.hours, vec![24, 22]);
    assert_eq!(
        d.close,
        vec![Some(24.0), None],
        "day 2 lacks its 23:00 close"
    );
    assert_eq!(d.open, vec![Some(1.0), Some(25.0)]);
    assert_eq!(d.high, vec![Some(25.0), Some(48.0)]);
    assert_eq!(d.low, vec![Some(0.0), Some(24.0)]);
    assert_eq!(d.volume, vec![240.0, 220.0]);
    let fours = grid(days[0], t("2024-01-02T23:00:00Z"), Duration::hours(4)).expect("grid");
    let f = build_bars(hourly, &fours, Duration::hours(4)).expect("4h");
    assert_eq!(f.times.len(), 12);
    assert_eq!(f.close[0], Some(4.0));
    assert_eq!(f.hours[7], 3, "04:00–08:00 of day 2 misses 05:00");
    assert_eq!(f.close[7], Some(32.0));
    assert_eq!(f.close[11], None);

    // The panel carries the move over the missing close: no return lost or invented.
    let p = Panel::new(&u, Duration::days(1)).expect("panel");
    assert_eq!(p.returns[0], vec![0.0, 0.0]);
    assert_eq!(p.span[0], Some((0, 0)));
}

#[test]
fn returns_bridge_a_missing_day_from_close_to_close() {
    let mut text = HEADER.to_string();
    // Closes at 23:00 only: 100, (missing), 121 → the third day carries +21%.
    text.push_str(&row("2024-01-01T23:00:00Z", 100.0));
    text.push_str(&row("2024-01-02T12:00:00Z", 50.0));
    text.push_str(&row("2024-01-03T23:00:00Z", 121.0));
    let mut b = UniverseBuilder::new();
    b.add_file("binance_um_AUSDT_1h_x.csv", &text)
        .expect("file");
    let u = b.build().expect("universe");
    let p = Panel::new(&u, Duration::days(1)).expect("panel");
    assert_eq!(p.close[0], vec![Some(100.0), None, Some(121.0)]);
    assert_eq!(p.observed[0], vec![false, false, true]);
    assert!((p.returns[0][2] - 0.21).abs() < 1e-12);
    assert_eq!(p.returns[0][1], 0.0);
    assert_eq!(p.last_close(0, 1), Some(100.0));
}

#[test]
fn funding_is_charged_at_real_times_inside_the_series_and_by_default_outside() {
    let mut k = HEADER.to_string();
    for h in 0..72 {
        let time = t("2024-01-01T00:00:00Z") + Duration::hours(h);
        k.push_str(&row(&time.to_rfc3339(), 100.0));
    }
    // A 4h series on day 2 only (00:00 … 20:00), 0.0002 each.
    let mut f = "funding_time_ms,funding_rate\n".to_string();
    for h in (0..24).step_by(4) {
        let time = t("2024-01-02T00:00:00Z") + Duration::hours(h);
        // Binance's jitter of a few milliseconds is rounded away.
        f.push_str(&format!("{},0.0002\n", time.timestamp_millis() + 7));
    }
    let mut b = UniverseBuilder::new();
    b.add_file("binance_um_FOURUSDT_1h_x.csv", &k)
        .expect("klines");
    b.add_file("binance_um_FOURUSDT_funding_x.csv", &f)
        .expect("funding");
    let u = b.build().expect("universe");
    let s = &u.symbols[0];
    assert_eq!(
        s.funding.source(),
        FundingSource::Real {
            first: t("2024-01-02T00:00:00Z"),
            last: t("2024-01-02T20:00:00Z"),
            events: 6
        }
    );
    let days = grid(
        t("2024-01-01T00:00:00Z"),
        t("2024-01-03T00:00:00Z"),
        Duration::days(1),
    )
    .expect("grid");
    let per_day = s.funding.per_bar(&days, Duration::days(1));
    // Day 1 (00:00, 24:00]: default 08:00 and 16:00, then the series' 00:00 of day 2.
    // Day 2: the series' 04:00 … 20:00 (5 events), then the default 00:00 of day 3.
    // Day 3: default 08:00, 16:00, 00:00.
    let want = [2.0 * 0.0001 + 0.0002, 5.0 * 0.0002 + 0.0001, 3.0 * 0.0001];
    for (got, want) in per_day.iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{per_day:?}");
    }
    let hours = grid(days[1], days[1] + Duration::hours(23), Duration::hours(1)).expect("grid");
    let per_hour = s.funding.per_bar(&hours, Duration::hours(1));
    // The 1h bar opening at 03:00 holds the 04:00 settlement.
    assert_eq!(per_hour[3], 0.0002);
    assert_eq!(per_hour.iter().filter(|&&r| r > 0.0).count(), 6);
    assert!(s.funding.covers(days[1], days[1] + Duration::hours(20)));
    assert!(!s.funding.covers(days[0], days[1]));
}

#[test]
fn the_shared_universe_has_its_28_symbols_with_their_funding_flags() {
    let u = shared_universe();
    // BTCUSDT and ETHUSDT plus the 26 of wide/ (its README says "28 more" but lists 24
    // full-period symbols and SUI, 1000PEPE).
    assert_eq!(
        u.symbols.len(),
        28,
        "{:?}",
        u.symbols.iter().map(|s| &s.symbol).collect::<Vec<_>>()
    );
    let btc = u.get("BTCUSDT").expect("BTC");
    assert_eq!(btc.hourly.len(), 26_280);
    assert!(matches!(
        btc.funding.source(),
        FundingSource::Real { events: 3_285, .. }
    ));
    assert_eq!(
        u.get("AAVEUSDT").expect("AAVE").funding.source(),
        FundingSource::Default
    );
    let sol = u.get("SOLUSDT").expect("SOL");
    assert!(
        matches!(sol.funding.source(), FundingSource::Real { first, .. } if first == t("2022-12-12T00:00:00Z"))
    );
    let sui = u.get("SUIUSDT").expect("SUI");
    assert_eq!(sui.hourly.open_time[0], t("2023-05-03T16:00:00Z"));
    assert_eq!(sui.hourly.len(), 5_816);
    assert!(u.funding_without_candles.is_empty());
    let p = Panel::new(u, Duration::days(1)).expect("panel");
    assert_eq!(p.len(), 1_095);
    let sui_i = p.assets.iter().position(|a| a == "SUIUSDT").expect("SUI");
    // Listed at 16:00: its first day closes at 00:00 with 8 hours.
    assert_eq!(
        p.span[sui_i].map(|s| p.times[s.0]),
        Some(t("2023-05-03T00:00:00Z"))
    );
}
