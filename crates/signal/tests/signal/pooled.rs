//! The pooled model: no look-ahead, the purge, bit-for-bit reproducibility, refused
//! parameters, the shipped v2 strategy, the frozen model file, and the volatility (so the
//! size and stop) of every panel the study builds.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use perpdesk_signal::SignalError;
use perpdesk_signal::bars::{Panel, Window};
use perpdesk_signal::edge::TrialLog;
use perpdesk_signal::frozen::{FrozenPooled, freeze as freeze_model};
use perpdesk_signal::pooled::{PooledFamily, features, fit_at, fit_bars, labels, run, score};
use perpdesk_signal::sizing::VolTarget;
use perpdesk_signal::strategy::Strategy;
use perpdesk_signal::study::{resolve_trial_id, study_with};
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
pub fn hourly_universe(seed: u64, n: usize, days: usize) -> Universe {
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

/// The v2 strategy with `pooled` replaced by small 4h and daily configurations and a freeze
/// date after the synthetic data, so the test universe gets fits.
fn small_strategy() -> perpdesk_signal::strategy::LoadedStrategy {
    let mut v: serde_json::Value = serde_json::from_str(V2).expect("v2 is JSON");
    v["pooled"] = serde_json::to_value([small(4), small(24)]).expect("serialises");
    v["freeze_date"] = serde_json::json!("2030-01-01");
    Strategy::from_json(&v.to_string()).expect("valid strategy")
}

#[test]
fn every_panel_of_the_study_has_a_volatility_so_4h_signals_get_a_size_and_a_stop() {
    let u = hourly_universe(21, 6, 90);
    let s = small_strategy();
    // The same estimator on 1h, 4h and daily bars: the same half-life in days, so the
    // annualised estimates of one random walk agree once every panel is seeded.
    let vols: Vec<Vec<Vec<Option<f64>>>> = [1, 4, 24]
        .iter()
        .map(|&h| perpdesk_signal::study::vol_for(&panel(&u, h), &s.strategy))
        .collect();
    for a in 0..u.symbols.len() {
        let last: Vec<f64> = vols
            .iter()
            .map(|v| {
                v[a].last()
                    .copied()
                    .flatten()
                    .expect("seeded by the last bar")
            })
            .collect();
        let (lo, hi) = last
            .iter()
            .fold((f64::MAX, 0.0_f64), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(lo > 0.0 && hi / lo < 1.5, "symbol {a}: {last:?}");
    }
    assert_eq!(
        s.strategy.vol_target.on_bar(Duration::days(1)),
        s.strategy.vol_target,
        "daily bars keep the daily settings bit for bit"
    );
    let window = Window {
        from: day0() + Duration::days(45),
        to: day0() + Duration::days(90),
    };
    let log = TrialLog::shipped().expect("log");
    let r = perpdesk_signal::study::study(&u, &s, window, &log, vec![]).expect("study");
    let four = r
        .families
        .iter()
        .find(|f| f.id == "pooled_test_4h")
        .expect("the 4h family");
    assert!(
        four.latest.iter().any(|l| l.weight != 0.0),
        "{:?}",
        four.latest
    );
    for f in &r.families {
        for l in &f.latest {
            assert!(
                l.annual_vol.is_some(),
                "{} {}: no volatility",
                f.id,
                l.symbol
            );
            if l.weight != 0.0 {
                let stop = l.stop.expect("a position has a stop");
                assert!(stop.distance > 0.0 && stop.price > 0.0, "{} {stop:?}", f.id);
            }
        }
    }
    // The 4h stop covers one 4h bar: shorter than a day's at the same volatility.
    let l = four
        .latest
        .iter()
        .find(|l| l.weight != 0.0)
        .expect("a position");
    let daily_sigma = l.annual_vol.expect("vol") / 365f64.sqrt();
    let want = s.strategy.stop_sigma_multiple * daily_sigma * (4.0f64 / 24.0).sqrt();
    assert!((l.stop.expect("stop").distance - want).abs() < 1e-12);
}

/// `small_strategy` frozen at `day`.
fn small_strategy_frozen_at(day: &str) -> perpdesk_signal::strategy::LoadedStrategy {
    let mut v: serde_json::Value = serde_json::from_str(V2).expect("v2 is JSON");
    v["pooled"] = serde_json::to_value([small(4), small(24)]).expect("serialises");
    v["freeze_date"] = serde_json::json!(day);
    Strategy::from_json(&v.to_string()).expect("valid strategy")
}

#[test]
fn the_frozen_file_reads_back_bit_for_bit_and_forecasts_as_the_walk_forwards_last_fit() {
    let u = hourly_universe(13, 6, 90);
    let s = small_strategy_frozen_at("2024-02-20");
    let fit_end = s.strategy.freeze_date;
    let frozen = freeze_model(&u, &s, fit_end).expect("freeze");
    let text = frozen.to_json().expect("json");
    let back = FrozenPooled::from_json(&text).expect("reads back");
    assert_eq!(back, frozen);
    assert_eq!(
        back.to_json().expect("json"),
        text,
        "writing is deterministic"
    );
    back.check(&s).expect("belongs to its strategy");
    assert_eq!(back.strategy.sha256, s.sha256);
    assert_eq!(back.fit_end, fit_end);
    for f in &s.strategy.pooled {
        let p = panel(&u, f.bar_hours);
        let wf = run(f, &p, &VolTarget::default(), fit_end).expect("walk-forward");
        let last = wf.models.last().expect("a fit");
        let h = back.horizon(&f.id).expect("horizon");
        assert_eq!(&h.model, last);
        assert_eq!(h.features.len(), f.n_features());
        let fz = score(f, &p, &VolTarget::default(), &h.model).expect("score");
        assert!(fz.models.is_empty(), "scoring a frozen model fits nothing");
        let from = p
            .times
            .iter()
            .position(|t| *t >= last.fitted_at)
            .expect("bars after the last fit");
        let mut compared = 0;
        for a in 0..p.assets.len() {
            for t in from..p.len() {
                let (x, y) = (wf.probability[a][t], fz.probability[a][t]);
                assert_eq!(x.map(f64::to_bits), y.map(f64::to_bits), "{} {a} {t}", f.id);
                compared += usize::from(x.is_some());
            }
        }
        assert!(compared > 100, "{}: {compared} forecasts compared", f.id);
    }
}

#[test]
fn a_frozen_model_scores_a_later_period_from_its_features_warm_up_alone_without_fitting() {
    let u = hourly_universe(17, 6, 90);
    let s = small_strategy_frozen_at("2024-02-20");
    let frozen = freeze_model(&u, &s, s.strategy.freeze_date).expect("freeze");
    let vt = VolTarget::default();
    let from = day0() + Duration::days(60);
    for f in &s.strategy.pooled {
        let warm = perpdesk_signal::pooled::warmup_days(f, &vt) as i64;
        // Only the data from `from` minus the warm-up exists: nothing earlier to fit on.
        let cut = from - Duration::days(warm);
        let mut late = u.clone();
        for sym in &mut late.symbols {
            let keep: Vec<bool> = sym.hourly.open_time.iter().map(|t| *t >= cut).collect();
            let h = &mut sym.hourly;
            let pick = |v: &[f64]| -> Vec<f64> {
                v.iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(x, _)| *x)
                    .collect()
            };
            *h = Hourly {
                open_time: h.open_time.iter().copied().filter(|t| *t >= cut).collect(),
                open: pick(&h.open),
                high: pick(&h.high),
                low: pick(&h.low),
                close: pick(&h.close),
                volume: pick(&h.volume),
            };
        }
        let p = panel(&late, f.bar_hours);
        let model = &frozen.horizon(&f.id).expect("horizon").model;
        let out = score(f, &p, &vt, model).expect("score");
        assert!(out.models.is_empty());
        let x = features(f, &p, &vt).expect("features");
        let start = p.times.iter().position(|t| *t >= from).expect("window");
        let mut forecasts = 0;
        for a in 0..p.assets.len() {
            for t in start..p.len() {
                match x.row(a, t) {
                    Some(r) => {
                        let want = model.predict(r);
                        assert_eq!(out.probability[a][t], Some(want), "{} {a} {t}", f.id);
                        forecasts += 1;
                    }
                    None => assert_eq!(out.probability[a][t], None),
                }
            }
        }
        assert!(forecasts > 0, "{}: the warm-up is enough to forecast", f.id);
        // The walk-forward on the same data would have no model yet at `from`.
        let wf = run(f, &p, &vt, s.strategy.freeze_date).expect("run");
        assert!(wf.probability.iter().all(|row| row[start].is_none()));
    }
}

#[test]
fn a_frozen_file_of_another_strategy_or_feature_spec_is_refused_with_a_clear_error() {
    let u = hourly_universe(19, 6, 90);
    let s = small_strategy_frozen_at("2024-02-20");
    let frozen = freeze_model(&u, &s, s.strategy.freeze_date).expect("freeze");
    let refused = |f: &FrozenPooled, want: &str| match f.check(&s) {
        Err(SignalError::FrozenModel(m)) => assert!(m.contains(want), "{m}"),
        other => panic!("expected a refusal naming {want}, got {other:?}"),
    };
    let mut other = frozen.clone();
    other.strategy.sha256 = "0".repeat(64);
    refused(&other, "sha256");
    // The same parameters under another strategy file (another hash) are another strategy.
    let v2 = Strategy::from_json(V2).expect("v2");
    assert!(matches!(
        frozen.check(&v2),
        Err(SignalError::FrozenModel(_))
    ));
    let mut spec = frozen.clone();
    spec.horizons[0].family.ma_days = vec![6];
    refused(&spec, "feature spec");
    let mut names = frozen.clone();
    names.horizons[1].features.reverse();
    refused(&names, "features");
    let mut missing = frozen.clone();
    missing.horizons.pop();
    refused(&missing, "no model for pooled_test_24h");
    let mut size = frozen.clone();
    size.horizons[0].model.weights.pop();
    refused(&size, "coefficients");
    let text = frozen.to_json().expect("json");
    assert!(matches!(
        FrozenPooled::from_json(&text.replacen("\"format\": 1", "\"format\": 2", 1)),
        Err(SignalError::FrozenModel(_))
    ));
    assert!(FrozenPooled::from_json(&text.replacen("\"fit_end\"", "\"fit_until\"", 1)).is_err());
    assert!(matches!(
        freeze_model(&u, &s, NaiveDate::from_ymd_opt(2024, 2, 21).expect("date")),
        Err(SignalError::FrozenModel(_))
    ));
    // The study refuses it before computing anything.
    let window = Window {
        from: day0() + Duration::days(60),
        to: day0() + Duration::days(90),
    };
    let log = TrialLog::shipped().expect("log");
    assert!(matches!(
        study_with(&u, &s, window, &log, vec![], Some(&other)),
        Err(SignalError::FrozenModel(_))
    ));
    let a = study_with(&u, &s, window, &log, vec![], Some(&frozen)).expect("study");
    let b = study_with(&u, &s, window, &log, vec![], Some(&frozen)).expect("study");
    assert_eq!(a, b);
}

#[test]
fn the_shipped_frozen_model_is_the_walk_forwards_last_fit_on_the_visible_data() {
    let v2 = Strategy::from_json(V2).expect("v2");
    let shipped = FrozenPooled::from_json(include_str!("../../models/pooled-v2.json"))
        .expect("the shipped file parses");
    shipped.check(&v2).expect("it belongs to v2");
    let again = freeze_model(
        crate::common::shared_universe(),
        &v2,
        v2.strategy.freeze_date,
    )
    .expect("freeze");
    assert_eq!(
        again, shipped,
        "the file is the walk-forward's last fit, bit for bit"
    );
    assert_eq!(
        again.to_json().expect("json"),
        include_str!("../../models/pooled-v2.json")
    );
}
