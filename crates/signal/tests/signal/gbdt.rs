//! The boosted trees on the real candles: reproducible, calibrated on their own fold,
//! serialisable, and refusing features of another version.

use perpdesk_core::Interval;
use perpdesk_signal::backtest::FundingRates;
use perpdesk_signal::model::Row;
use perpdesk_signal::{
    FEATURE_SET_VERSION, GbdtConfig, GbdtModel, ModelKind, N_FEATURES, Ohlcv, SignalError,
    default_walk_forward_1h, parse_funding, walk_forward, walk_forward_models,
};

use crate::common::{btc_1h, shared_dir};

fn rows(n: usize) -> (Vec<Row>, Vec<bool>) {
    let mut s = 5u64;
    let mut u = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((s >> 11) as f64) / ((1u64 << 53) as f64)
    };
    (0..n)
        .map(|_| {
            let mut r = [0.0; N_FEATURES];
            for v in &mut r {
                *v = u() - 0.5;
            }
            let up = r[2] + 0.3 * (u() - 0.5) > 0.0;
            (r, up)
        })
        .unzip()
}

#[test]
fn gbdt_round_trips_and_refuses_other_feature_versions() {
    let (x, y) = rows(3_000);
    let mut m = GbdtModel::fit(&x[..2_000], &y[..2_000], GbdtConfig::default()).expect("fit");
    m.calibrate(&x[2_000..], &y[2_000..]).expect("calibrate");
    assert!(m.platt.is_some());
    let back: GbdtModel =
        serde_json::from_str(&serde_json::to_string(&m).expect("json")).expect("parse");
    assert_eq!(back, m);
    let p = back.predict_proba(FEATURE_SET_VERSION, &x[0]).expect("p");
    assert_eq!(p, m.predict_proba(FEATURE_SET_VERSION, &x[0]).expect("p"));
    assert_eq!(
        back.predict_proba(FEATURE_SET_VERSION - 1, &x[0]),
        Err(SignalError::FeatureVersion {
            expected: FEATURE_SET_VERSION,
            found: FEATURE_SET_VERSION - 1
        })
    );
    let mut nan = x[0];
    nan[3] = f64::NAN;
    assert!(matches!(
        back.predict_proba(FEATURE_SET_VERSION, &nan),
        Err(SignalError::NotFinite { index: 3, .. })
    ));
    // Held-out rows: the calibrated trees found the one informative feature.
    let hits = x[2_000..]
        .iter()
        .zip(&y[2_000..])
        .filter(|(r, up)| (m.predict_proba(FEATURE_SET_VERSION, r).expect("p") >= 0.5) == **up)
        .count();
    assert!(hits > 800, "{hits} of 1000");
}

#[test]
fn gbdt_refuses_unfit_input() {
    let (x, _) = rows(300);
    assert!(matches!(
        GbdtModel::fit(&x, &[true; 300], GbdtConfig::default()),
        Err(SignalError::Fit(_))
    ));
    let y: Vec<bool> = (0..300).map(|i| i % 2 == 0).collect();
    let bad = GbdtConfig {
        num_leaves: 1,
        ..GbdtConfig::default()
    };
    assert!(matches!(
        GbdtModel::fit(&x, &y, bad),
        Err(SignalError::BadParam(_))
    ));
    // One bin cannot split, and LightGBM's bins are counted in 16 bits.
    for max_bin in [0, 1, 65_536] {
        let bad = GbdtConfig {
            max_bin,
            ..GbdtConfig::default()
        };
        assert!(
            matches!(GbdtModel::fit(&x, &y, bad), Err(SignalError::BadParam(_))),
            "{max_bin}"
        );
    }
    assert!(GbdtModel::fit(&x[..10], &y, GbdtConfig::default()).is_err());
}

#[test]
fn walk_forward_of_both_models_on_btcusdt_is_reproducible() {
    let x = Ohlcv::from_candles(&btc_1h(), Interval::H1).expect("candles");
    let text =
        std::fs::read_to_string(shared_dir().join("data/binance_um_BTCUSDT_funding_2021-2023.csv"))
            .expect("funding file");
    let rates = FundingRates::new(&parse_funding(&text).expect("rates")).expect("rates");
    let wf = default_walk_forward_1h();
    let mut calls = Vec::new();
    let a = walk_forward_models(&x, wf, &rates, &ModelKind::ALL, &mut |d, t| {
        calls.push((d, t))
    })
    .expect("a");
    let b = walk_forward_models(&x, wf, &rates, &ModelKind::ALL, &mut |_, _| {}).expect("b");
    assert_eq!(a, b, "same data, same seed, same report");
    let total = perpdesk_signal::fold_count(x.len(), &wf);
    assert_eq!(calls.last(), Some(&(total, total)));
    assert_eq!(calls.len(), total);
    assert_eq!(a[0].model, ModelKind::Logistic);
    assert_eq!(a[1].model, ModelKind::Gbdt);
    for r in &a {
        eprintln!("BTCUSDT {}: {:?}", r.model, r.pooled);
        assert_eq!(r.folds.len(), a[0].folds.len());
        assert!(r.pooled.n > 10_000);
        assert!(r.pooled.log_loss.is_finite());
    }
    // The logistic report alone is the same whichever other kinds ran beside it.
    let alone =
        walk_forward_models(&x, wf, &rates, &[ModelKind::Logistic], &mut |_, _| {}).expect("alone");
    assert_eq!(alone[0], a[0]);
    // Without funding the logistic-only entry point still works (funding column constant).
    assert!(walk_forward(&x, wf).is_ok());
}
