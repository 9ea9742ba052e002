//! The pooled model: no look-ahead, the purge, bit-for-bit reproducibility, refused
//! parameters, and the shipped v2 strategy.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use perpdesk_signal::SignalError;
use perpdesk_signal::bars::{Panel, Window};
use perpdesk_signal::edge::TrialLog;
use perpdesk_signal::pooled::{PooledFamily, features, fit_at, fit_bars, labels, run};
use perpdesk_signal::sizing::VolTarget;
use perpdesk_signal::strategy::Strategy;
use perpdesk_signal::study::resolve_trial_id;
use perpdesk_signal::universe::{FundingSeries, Hourly, SymbolSeries, Universe};
use proptest::prelude::*;

use super::families::{SHIPPED, rewrite_after};

const V2: &str = include_str!("../../strategies/perpdesk-v2.json");

fn day0() -> DateTime<Utc> {
    "2024-01-01T00:00:00Z".parse().expect("time")
}

fn freeze() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 1, 1).expect("date")
}

/// A small configuration, so a walk-forward fits in a debug test.
fn small(bar_hours: i64) -> PooledFamily {
    PooledFamily {
        id: format!("pooled_test_{bar_hours}h"),
        bar_hours,
        return_days: vec![1, 5],
        ma_days: vec![5],
        rsi_days: 3,
        funding_days: 2,
        rank_days: vec![5],
        first_fit_days: 30,
        retrain_days: 15,
        purge_bars: 1,
        min_rows: 50,
        l2: 0.01,
    }
}

/// `n` symbols of hourly random-walk candles over `days` (some listed late, a few hours
/// missing, one with a funding series), from `seed`.
fn hourly_universe(seed: u64, n: usize, days: usize) -> Universe {
    let mut x = seed | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let symbols = (0..n)
        .map(|i| {
            let start = if i < 3 {
                0
            } else {
                (rnd() * 10.0) as usize * 24
            };
            let mut c = 100.0;
            let mut h = Hourly {
                open_time: vec![],
                open: vec![],
                high: vec![],
                low: vec![],
                close: vec![],
                volume: vec![],
            };
            for k in start..days * 24 {
                let o = c;
                c *= 1.0 + (rnd() - 0.5) * 0.03;
                if k % 97 == 13 {
                    continue; // a missing hour
                }
                h.open_time.push(day0() + Duration::hours(k as i64));
                h.open.push(o);
                h.high.push(o.max(c));
                h.low.push(o.min(c));
                h.close.push(c);
                h.volume.push(1.0);
            }
            let funding = if i == 0 {
                let events: Vec<_> = (0..(days as i64 * 3))
                    .map(|k| (day0() + Duration::hours(8 * k), (rnd() - 0.4) * 0.001))
                    .collect();
                FundingSeries::new("R0USDT", &events).expect("series")
            } else {
                FundingSeries::default()
            };
            SymbolSeries {
                symbol: format!("R{i}USDT"),
                hourly: h,
                funding,
            }
        })
        .collect();
    Universe {
        symbols,
        funding_without_candles: vec![],
    }
}

fn panel(u: &Universe, hours: i64) -> Panel {
    Panel::new(u, Duration::hours(hours)).expect("panel")
}

#[test]
fn pooled_run_is_reproducible_bit_for_bit() {
    let u = hourly_universe(7, 6, 90);
    for hours in [4, 24] {
        let p = panel(&u, hours);
        let cfg = small(hours);
        let a = run(&cfg, &p, &VolTarget::default(), freeze()).expect("run");
        let b = run(&cfg, &p, &VolTarget::default(), freeze()).expect("run");
        assert!(!a.models.is_empty(), "{hours}h: at least one fit");
        assert!(
            a.probability.iter().flatten().any(Option::is_some),
            "{hours}h: some forecasts"
        );
        assert_eq!(a, b);
        let bits = |o: &perpdesk_signal::pooled::PooledOutput| -> Vec<u64> {
            o.signal.iter().flatten().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&a), bits(&b));
    }
}

#[test]
fn each_fit_trains_only_on_labels_that_ended_a_purge_before_it() {
    let u = hourly_universe(11, 6, 90);
    let p = panel(&u, 4);
    let cfg = small(4);
    let x = features(&cfg, &p, &VolTarget::default()).expect("features");
    let y = labels(&p);
    let fits = fit_bars(&cfg, &p, freeze());
    assert!(fits.len() >= 2);
    for &f in &fits {
        let m = fit_at(&cfg, &p, &x, &y, f)
            .expect("fit")
            .expect("enough rows");
        assert!(m.last_row_bar + 1 + cfg.purge_bars <= f);
        assert_eq!(m.fitted_at, p.close_time(f));
        // Outcomes inside the purge and later cannot move the model.
        let mut flipped = y.clone();
        for row in &mut flipped {
            for l in row.iter_mut().skip(f - cfg.purge_bars) {
                *l = l.map(|v| !v);
            }
        }
        let again = fit_at(&cfg, &p, &x, &flipped, f)
            .expect("fit")
            .expect("rows");
        assert_eq!(m, again);
    }
}

#[test]
fn no_fit_after_the_freeze_date_so_later_bars_are_scored_by_the_frozen_model() {
    let u = hourly_universe(3, 6, 90);
    let p = panel(&u, 24);
    let cfg = small(24);
    let frozen = NaiveDate::from_ymd_opt(2024, 2, 20).expect("date");
    let fits = fit_bars(&cfg, &p, frozen);
    let end = DateTime::<Utc>::from_naive_utc_and_offset(frozen.into(), Utc) + Duration::days(1);
    assert!(!fits.is_empty());
    assert!(fits.iter().all(|&f| p.close_time(f) <= end));
    let out = run(&cfg, &p, &VolTarget::default(), frozen).expect("run");
    // A fit with too few rows yields no model; every model is from a fit up to the freeze.
    assert!(!out.models.is_empty() && out.models.len() <= fits.len());
    assert!(out.models.iter().all(|m| m.fitted_at <= end));
    let last = p.len() - 1;
    assert!(
        out.probability.iter().any(|row| row[last].is_some()),
        "the frozen model still forecasts after the freeze"
    );
}

#[test]
fn pooled_refuses_bad_parameters_and_the_wrong_bar() {
    let bad = |f: fn(&mut PooledFamily)| {
        let mut c = small(4);
        f(&mut c);
        assert!(matches!(c.check(), Err(SignalError::Strategy(_))), "{c:?}");
    };
    bad(|c| c.bar_hours = 5);
    bad(|c| c.return_days.clear());
    bad(|c| c.rank_days = vec![7]);
    bad(|c| c.rsi_days = 1);
    bad(|c| c.retrain_days = 0);
    bad(|c| c.purge_bars = 0);
    bad(|c| c.min_rows = 0);
    bad(|c| c.l2 = f64::NAN);
    let u = hourly_universe(5, 3, 20);
    assert!(matches!(
        features(&small(4), &panel(&u, 24), &VolTarget::default()),
        Err(SignalError::BadParam(_))
    ));
    let text = V2.replace("\"purge_bars\": 1", "\"purge_bars\": 0");
    assert!(matches!(
        Strategy::from_json(&text),
        Err(SignalError::Strategy(_))
    ));
    let text = V2.replace("\"min_rows\"", "\"min_rowz\"");
    assert!(Strategy::from_json(&text).is_err());
}

#[test]
fn v2_keeps_v1_rules_and_repeats_their_trials_instead_of_adding_new_ones() {
    let v1 = Strategy::from_json(SHIPPED).expect("v1");
    let v2 = Strategy::from_json(V2).expect("v2");
    assert_eq!(v1.strategy.families, v2.strategy.families);
    assert_eq!(v1.strategy.freeze_date, v2.strategy.freeze_date);
    assert_eq!(
        v2.strategy
            .pooled
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["pooled_4h", "pooled_daily"]
    );
    assert!(v1.strategy.pooled.is_empty());
    let log = TrialLog::shipped().expect("log");
    let window: Window = v2.strategy.evaluation.window();
    for f in &v2.strategy.families {
        let params = serde_json::to_value(&f.rule).ok();
        let id = resolve_trial_id(&log, &v2, &f.id, params, window);
        assert!(id.starts_with("perpdesk-v1/"), "{id}");
    }
    let p = &v2.strategy.pooled[0];
    let id = resolve_trial_id(&log, &v2, &p.id, serde_json::to_value(p).ok(), window);
    assert_eq!(id, "perpdesk-v2/pooled_4h/2021-06-01..2023-12-31");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Changing the data after the close of bar `t` never changes a forecast or signal at or
    /// before `t`, at either horizon.
    #[test]
    fn no_pooled_forecast_looks_ahead(seed in 1u64.., cut_day in 40usize..80, factor in 0.3f64..3.0, four in any::<bool>()) {
        let hours = if four { 4 } else { 24 };
        let u = hourly_universe(seed, 6, 90);
        let p = panel(&u, hours);
        let cut = (cut_day * 24 / hours as usize) - 1;
        let changed = rewrite_after(&u, p.close_time(cut), factor);
        let q = panel(&changed, hours);
        prop_assert!(p.close.iter().zip(&q.close).any(|(a, b)| a[cut + 1..] != b[cut + 1..]));
        let cfg = small(hours);
        let a = run(&cfg, &p, &VolTarget::default(), freeze()).expect("run");
        let b = run(&cfg, &q, &VolTarget::default(), freeze()).expect("run");
        for i in 0..p.assets.len() {
            prop_assert_eq!(&a.signal[i][..=cut], &b.signal[i][..=cut]);
            prop_assert_eq!(&a.probability[i][..=cut], &b.probability[i][..=cut]);
        }
    }
}
