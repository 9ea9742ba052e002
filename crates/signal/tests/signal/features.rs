//! Feature set v1: real data, no look-ahead, bad input.

use chrono::{DateTime, Duration, Utc};
use perpdesk_core::{Candle, Interval};
use perpdesk_signal::backtest::{DEFAULT_FUNDING_RATE, FundingRates};
use perpdesk_signal::{
    FEATURE_NAMES, FEATURE_SET_VERSION, FeatureStream, N_FEATURES, Ohlcv, SignalError, WARMUP,
    compute_features, compute_features_with_funding, features_from_candles,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::common::btc_1h;

#[test]
fn real_data_gives_one_finite_row_per_candle_after_warmup() {
    let candles = btc_1h();
    let f = features_from_candles(&candles, Interval::H1).unwrap();
    assert_eq!(f.version, FEATURE_SET_VERSION);
    assert_eq!(FEATURE_NAMES.len(), N_FEATURES);
    assert_eq!(f.rows.len(), candles.len() - WARMUP);
    assert_eq!(f.rows[0].index, WARMUP);
    for r in &f.rows {
        assert!(r.values.iter().all(|v| v.is_finite()), "row {}", r.index);
        assert_eq!(r.open_time, candles[r.index].open_time);
        // Bounded features stay in their ranges.
        assert!((0.0..=1.0).contains(&r.values[3]), "rsi");
        assert!((0.0..=1.0).contains(&r.values[8]), "adx");
        assert!(r.values[6] > 0.0 && r.values[10] >= 0.0);
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_700_000_000 - 1_700_000_000 % 3600, 0).expect("time in range")
}

/// Builds valid hourly candles from (close move in cents, wick up, wick down, volume).
fn candles_from(steps: &[(i64, i64, i64, i64)]) -> Vec<Candle> {
    let mut price: i64 = 3_000_000;
    steps
        .iter()
        .enumerate()
        .map(|(i, &(mv, up, dn, vol))| {
            let open = price;
            price = (price + mv).max(100);
            let close = price;
            Candle {
                open_time: t0() + Duration::hours(i as i64),
                open: Decimal::new(open, 2),
                high: Decimal::new(open.max(close) + up, 2),
                low: Decimal::new((open.min(close) - dn).max(1), 2),
                close: Decimal::new(close, 2),
                volume: Decimal::new(vol, 3),
            }
        })
        .collect()
}

fn step() -> impl Strategy<Value = (i64, i64, i64, i64)> {
    (
        -20_000i64..20_000,
        0i64..10_000,
        0i64..10_000,
        0i64..5_000_000,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn features_at_t_ignore_candles_after_t(
        base in prop::collection::vec(step(), 60..160),
        other in prop::collection::vec(step(), 160),
        cut in 34usize..60,
    ) {
        let a = candles_from(&base);
        let mut b_steps = base.clone();
        for (i, s) in b_steps.iter_mut().enumerate().skip(cut + 1) {
            *s = other[i];
        }
        let b = candles_from(&b_steps);
        let fa = features_from_candles(&a, Interval::H1).unwrap();
        let fb = features_from_candles(&b, Interval::H1).unwrap();
        let prefix = features_from_candles(&a[..=cut], Interval::H1).unwrap();
        let upto = |rows: &[perpdesk_signal::FeatureRow]| {
            rows.iter().filter(|r| r.index <= cut).cloned().collect::<Vec<_>>()
        };
        let (ra, rb, rp) = (upto(&fa.rows), upto(&fb.rows), upto(&prefix.rows));
        prop_assert!(!ra.is_empty());
        // Bit-for-bit: the same arithmetic on the same past.
        prop_assert_eq!(&ra, &rb);
        prop_assert_eq!(&ra, &rp);
    }
}

/// Funding events every 8 h from `t0()` with rates from `rates` (in units of 1e-6).
fn funding(rates: &[i64]) -> FundingRates {
    let events: Vec<_> = rates
        .iter()
        .enumerate()
        .map(|(k, &r)| (t0() + Duration::hours(8 * k as i64), r as f64 * 1e-6))
        .collect();
    FundingRates::new(&events).expect("finite rates")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn features_at_t_ignore_funding_settled_after_t(
        steps in prop::collection::vec(step(), 80..120),
        base in prop::collection::vec(-500i64..500, 16),
        other in prop::collection::vec(-500i64..500, 16),
        cut in 34usize..80,
    ) {
        let x = Ohlcv::from_candles(&candles_from(&steps), Interval::H1).unwrap();
        // Change every rate that settles after candle `cut` opens.
        let settled = cut / 8;
        let mut changed = base.clone();
        changed[settled + 1..].copy_from_slice(&other[settled + 1..]);
        let fa = compute_features_with_funding(&x, &funding(&base)).unwrap();
        let fb = compute_features_with_funding(&x, &funding(&changed)).unwrap();
        let upto = |rows: &[perpdesk_signal::FeatureRow]| {
            rows.iter().filter(|r| r.index <= cut).cloned().collect::<Vec<_>>()
        };
        prop_assert!(!upto(&fa.rows).is_empty());
        prop_assert_eq!(upto(&fa.rows), upto(&fb.rows));
    }
}

#[test]
fn a_table_extended_with_later_rates_equals_one_built_at_once() {
    let all: Vec<_> = (0..6)
        .map(|k| (t0() + Duration::hours(8 * k), k as f64 * 1e-5))
        .collect();
    let mut grown = FundingRates::new(&all[..2]).expect("rates");
    assert_eq!(grown.newest(), Some(t0() + Duration::hours(8)));
    grown.extend(&all[2..]).expect("rates");
    assert_eq!(grown, FundingRates::new(&all).expect("rates"));
    assert_eq!(grown.newest(), Some(t0() + Duration::hours(40)));
    // A non-finite rate is refused and changes nothing.
    let before = grown.clone();
    let bad = [(t0() + Duration::hours(48), f64::NAN)];
    assert!(grown.extend(&bad).is_err());
    assert_eq!(grown, before);
    assert_eq!(FundingRates::default().newest(), None);
}

#[test]
fn funding_feature_is_the_last_rate_settled_by_the_candle_open() {
    let c = candles_from(&[(100, 10, 10, 1000); 60]);
    let x = Ohlcv::from_candles(&c, Interval::H1).unwrap();
    let f = compute_features_with_funding(&x, &funding(&[100, 200, 300, 400, 500, 600, 700, 800]))
        .unwrap();
    let col = FEATURE_NAMES
        .iter()
        .position(|n| *n == "funding_bp")
        .expect("column");
    for r in &f.rows {
        // Settled at hours 0, 8, 16, ...: candle t (opening t hours after t0) knows t / 8.
        let expected = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0][r.index / 8];
        assert!(
            (r.values[col] - expected * 1e-6 * 1e4).abs() < 1e-12,
            "{}",
            r.index
        );
    }
    // No series: the default rate, constant.
    let none = compute_features(&x).unwrap();
    assert!(
        none.rows
            .iter()
            .all(|r| r.values[col] == DEFAULT_FUNDING_RATE * 1e4)
    );
    // A series that starts later: the default before its first settlement.
    let later = FundingRates::new(&[(x.open_time[40], 0.0005)]).unwrap();
    let g = compute_features_with_funding(&x, &later).unwrap();
    for r in &g.rows {
        let want = if r.index >= 40 {
            5.0
        } else {
            DEFAULT_FUNDING_RATE * 1e4
        };
        assert!((r.values[col] - want).abs() < 1e-12);
    }
    // The stream agrees when told each rate as it settles.
    let mut s = FeatureStream::new().unwrap();
    let mut streamed = Vec::new();
    for (i, k) in c.iter().enumerate() {
        if i == 40 {
            s.set_funding_rate(0.0005).unwrap();
        }
        let v = |d: Decimal| d.to_string().parse::<f64>().unwrap();
        if let Some(row) = s
            .update(v(k.high), v(k.low), v(k.close), v(k.volume))
            .unwrap()
        {
            streamed.push(row[col]);
        }
    }
    assert_eq!(
        streamed,
        g.rows.iter().map(|r| r.values[col]).collect::<Vec<_>>()
    );
    assert!(s.set_funding_rate(f64::NAN).is_err());
}

#[test]
fn bad_candles_are_clear_errors() {
    let good = candles_from(&[(100, 10, 10, 1000); 50]);

    let mut dup = good.clone();
    dup[10].open_time = dup[9].open_time;
    assert!(matches!(
        features_from_candles(&dup, Interval::H1),
        Err(SignalError::Duplicate { index: 10, .. })
    ));

    let mut unsorted = good.clone();
    unsorted[21].open_time = good[10].open_time;
    assert!(matches!(
        features_from_candles(&unsorted, Interval::H1),
        Err(SignalError::Unsorted { index: 21, .. })
    ));

    let mut gap = good.clone();
    gap.remove(30);
    assert!(matches!(
        features_from_candles(&gap, Interval::H1),
        Err(SignalError::Gap {
            index: 30,
            missing: 1,
            ..
        })
    ));

    let mut broken = good.clone();
    broken[5].high = broken[5].low - Decimal::ONE;
    assert!(matches!(
        features_from_candles(&broken, Interval::H1),
        Err(SignalError::InvalidCandle { index: 5, .. })
    ));

    assert!(matches!(
        features_from_candles(&good[..WARMUP], Interval::H1),
        Err(SignalError::TooFewCandles {
            needed: 34,
            got: 33
        })
    ));
    assert!(features_from_candles(&good[..=WARMUP], Interval::H1).is_ok());
    assert!(matches!(
        features_from_candles(&[], Interval::H1),
        Err(SignalError::TooFewCandles { .. })
    ));

    let mut x = Ohlcv::from_candles(&good, Interval::H1).unwrap();
    x.close[40] = f64::NAN;
    assert!(matches!(
        compute_features(&x),
        Err(SignalError::NotFinite {
            series: "close",
            index: 40
        })
    ));
    x.close[40] = f64::INFINITY;
    assert!(compute_features(&x).is_err());
    x.close[40] = 0.0;
    assert!(compute_features(&x).is_err());
    x.close.pop();
    assert!(matches!(
        compute_features(&x),
        Err(SignalError::LengthMismatch { .. })
    ));
}

#[test]
fn zero_volume_and_flat_candles_do_not_leak_nan() {
    let flat = candles_from(&[(0, 0, 0, 0); 80]);
    let f = features_from_candles(&flat, Interval::H1).unwrap();
    assert!(!f.rows.is_empty());
    for r in &f.rows {
        assert!(r.values.iter().all(|v| v.is_finite()), "{:?}", r.values);
    }
}
