//! The logistic baseline, its calibration and serialisation, and walk-forward evaluation.

use perpdesk_core::Interval;
use perpdesk_signal::model::Row;
use perpdesk_signal::{
    FEATURE_SET_VERSION, GbdtConfig, LabelSpec, LogisticConfig, LogisticModel, N_FEATURES, Ohlcv,
    SignalError, WalkForwardConfig, calibration_table, walk_forward,
};

use crate::common::btc_1h;

/// A tiny seeded generator so the synthetic data are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
}

fn synthetic(n: usize, seed: u64) -> (Vec<Row>, Vec<bool>) {
    let mut g = Lcg(seed);
    let mut rows = Vec::new();
    let mut ys = Vec::new();
    for _ in 0..n {
        let mut r = [0.0; N_FEATURES];
        for v in &mut r {
            *v = g.uniform() * 2.0 - 1.0;
        }
        // True model: logit = 2 x0 - 1 x1 + 0.5.
        let p = 1.0 / (1.0 + (-(2.0 * r[0] - r[1] + 0.5)).exp());
        ys.push(g.uniform() < p);
        rows.push(r);
    }
    (rows, ys)
}

#[test]
fn logistic_regression_recovers_a_known_model() {
    let (rows, ys) = synthetic(20_000, 7);
    let cfg = LogisticConfig {
        l2: 0.0,
        ..LogisticConfig::default()
    };
    let m = LogisticModel::fit(&rows, &ys, cfg).unwrap();
    // Weights are per standard deviation; uniform(-1, 1) has sd 1/sqrt(3).
    let w0 = m.weights[0] / m.scale[0];
    let w1 = m.weights[1] / m.scale[1];
    assert!((w0 - 2.0).abs() < 0.15, "w0 {w0}");
    assert!((w1 + 1.0).abs() < 0.15, "w1 {w1}");
    for w in &m.weights[2..] {
        assert!(w.abs() < 0.1, "noise weight {w}");
    }
    // The same rows give the same model, bit for bit.
    assert_eq!(m, LogisticModel::fit(&rows, &ys, cfg).unwrap());
}

#[test]
fn calibration_keeps_a_well_specified_model_near_identity() {
    let (rows, ys) = synthetic(20_000, 11);
    let mut m =
        LogisticModel::fit(&rows[..10_000], &ys[..10_000], LogisticConfig::default()).unwrap();
    m.calibrate(&rows[10_000..], &ys[10_000..]).unwrap();
    let p = m.platt.unwrap();
    assert!((p.a - 1.0).abs() < 0.15 && p.b.abs() < 0.1, "{p:?}");
}

#[test]
fn a_saved_model_refuses_features_of_another_version() {
    let (rows, ys) = synthetic(2_000, 3);
    let m = LogisticModel::fit(&rows, &ys, LogisticConfig::default()).unwrap();
    let json = serde_json::to_string(&m).unwrap();
    let back: LogisticModel = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
    let p = back.predict_proba(FEATURE_SET_VERSION, &rows[0]).unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(
        back.predict_proba(FEATURE_SET_VERSION + 1, &rows[0]),
        Err(SignalError::FeatureVersion {
            expected: FEATURE_SET_VERSION,
            found: FEATURE_SET_VERSION + 1
        })
    );
}

#[test]
fn unfit_inputs_are_errors() {
    let (rows, _) = synthetic(100, 5);
    assert!(matches!(
        LogisticModel::fit(&rows, &[true; 100], LogisticConfig::default()),
        Err(SignalError::Fit(_))
    ));
    assert!(LogisticModel::fit(&[], &[], LogisticConfig::default()).is_err());
    let mut bad = rows.clone();
    bad[3][2] = f64::NAN;
    let ys: Vec<bool> = (0..100).map(|i| i % 2 == 0).collect();
    assert!(matches!(
        LogisticModel::fit(&bad, &ys, LogisticConfig::default()),
        Err(SignalError::NotFinite { index: 3, .. })
    ));
}

fn btc_config() -> WalkForwardConfig {
    WalkForwardConfig {
        train: 4_380,
        calibrate: 1_460,
        test: 2_190,
        embargo: 4,
        label: LabelSpec::fee_aware(4, 0.0005, 0.0001).expect("label spec"),
        model: LogisticConfig::default(),
        gbdt: GbdtConfig::default(),
    }
}

#[test]
fn walk_forward_on_btcusdt_is_reproducible_and_honest() {
    let x = Ohlcv::from_candles(&btc_1h(), Interval::H1).unwrap();
    let a = walk_forward(&x, btc_config()).unwrap();
    let b = walk_forward(&x, btc_config()).unwrap();
    assert_eq!(a, b, "same data, same report");
    assert!(a.folds.len() >= 8);
    let m = a.pooled;
    eprintln!(
        "BTCUSDT 1h walk-forward, 4h horizon, {} folds: {m:?}",
        a.folds.len()
    );
    assert!(m.n > 10_000);
    for v in [
        m.accuracy,
        m.balanced_accuracy,
        m.brier,
        m.base_rate_brier,
        m.up_rate,
    ] {
        assert!((0.0..=1.0).contains(&v));
    }
    assert!(m.log_loss.is_finite() && m.log_loss > 0.0);
    assert_eq!(a.calibration.len(), 10);
    assert_eq!(a.calibration.iter().map(|b| b.count).sum::<usize>(), m.n);
    for b in &a.calibration {
        eprintln!(
            "  bucket {:.1}-{:.1}: n {:5}  forecast {:.3}  observed {:.3}",
            b.lower, b.upper, b.count, b.mean_forecast, b.observed_up
        );
        if b.count > 0 {
            assert!(b.mean_forecast >= b.lower && b.mean_forecast <= b.upper);
        }
    }

    let mut short = btc_config();
    short.embargo = 3;
    assert!(matches!(
        walk_forward(&x, short),
        Err(SignalError::BadParam(_))
    ));
    assert!(matches!(
        walk_forward(
            &Ohlcv {
                open_time: x.open_time[..5000].to_vec(),
                open: x.open[..5000].to_vec(),
                high: x.high[..5000].to_vec(),
                low: x.low[..5000].to_vec(),
                close: x.close[..5000].to_vec(),
                volume: x.volume[..5000].to_vec()
            },
            btc_config()
        ),
        Err(SignalError::TooFewCandles { .. })
    ));
}

#[test]
fn walk_forward_on_ethusdt_reports_its_numbers() {
    let candles = crate::common::load_candles("binance_um_ETHUSDT_1h_2021-2023.csv");
    let x = Ohlcv::from_candles(&candles, Interval::H1).expect("valid candles");
    let r = walk_forward(&x, btc_config()).expect("report");
    eprintln!(
        "ETHUSDT 1h walk-forward, 4h horizon, {} folds: {:?}",
        r.folds.len(),
        r.pooled
    );
    assert!(r.pooled.n > 10_000);
}

#[test]
fn calibration_table_counts_and_rejects() {
    let t = calibration_table(&[0.0, 0.05, 0.95, 1.0], &[false, true, true, true], 10).unwrap();
    assert_eq!(t[0].count, 2);
    assert!((t[0].observed_up - 0.5).abs() < 1e-12);
    assert_eq!(t[9].count, 2);
    assert!(calibration_table(&[1.5], &[true], 10).is_err());
    assert!(calibration_table(&[0.5], &[true], 0).is_err());
}
