//! The evaluate path on the real BTCUSDT candles (the library calls the CLI makes), and the
//! signal's "no claim without evidence" rule.

use perpdesk_core::Interval;
use perpdesk_signal::backtest::{BacktestConfig, FundingRates};
use perpdesk_signal::card::downsample;
use perpdesk_signal::edge::FlatReason;
use perpdesk_signal::signal::model_version;
use perpdesk_signal::{
    ModelCard, ModelKind, Ohlcv, SignalDirection, choose, compute_features,
    default_walk_forward_1h, evaluate, make_signal, parse_funding, parse_klines, train_latest,
};

use crate::common::shared_dir;

fn load(file: &str) -> String {
    let path = shared_dir().join("data").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn btc() -> (Ohlcv, FundingRates) {
    let candles = parse_klines(&load("binance_um_BTCUSDT_1h_2021-2023.csv")).expect("klines");
    let x = Ohlcv::from_candles(&candles, Interval::H1).expect("candles");
    let rates = parse_funding(&load("binance_um_BTCUSDT_funding_2021-2023.csv")).expect("rates");
    (x, FundingRates::new(&rates).expect("rates"))
}

fn card_json(x: &Ohlcv, rates: &FundingRates) -> String {
    let e = evaluate(
        x,
        default_walk_forward_1h(),
        BacktestConfig::default(),
        rates,
    )
    .expect("evaluate");
    serde_json::to_string(&ModelCard::new("BTCUSDT", &e)).expect("json")
}

#[test]
fn evaluate_btc_is_deterministic_and_the_card_is_small() {
    let (x, rates) = btc();
    let a = card_json(&x, &rates);
    let b = card_json(&x, &rates);
    assert_eq!(a, b);
    let card: ModelCard = serde_json::from_str(&a).expect("round trip");
    assert_eq!(card.baselines.len(), 4);
    let kinds: Vec<_> = card.candidates.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, ModelKind::ALL);
    assert_eq!(card.candidates.iter().filter(|c| c.chosen).count(), 1);
    let chosen = card.candidates.iter().find(|c| c.chosen).expect("chosen");
    assert_eq!(chosen.kind, card.model_kind);
    assert_eq!(chosen.metrics, card.metrics);
    assert_eq!(chosen.has_edge, card.has_edge);
    assert_eq!(card.calibration.len(), 10);
    for s in std::iter::once(&card.model).chain(&card.baselines) {
        assert!(s.equity.len() <= 500 && s.equity.len() > 100, "{}", s.name);
        assert!(s.net_pnl_pct.is_finite() && s.sharpe.is_finite());
    }
    assert_eq!(card.baselines[3].name, "coin_flip");
    assert!(card.baselines[3].trades <= card.model.trades);
}

/// Sets the chosen model's verdict to pass or to fail for `reasons`.
fn set_verdict(e: &mut perpdesk_signal::Evaluation, reasons: &[FlatReason]) {
    let v = &mut e.chosen_mut().verdict;
    v.reasons = reasons.to_vec();
    v.edge = reasons.is_empty();
}

#[test]
fn signal_is_flat_without_evidence_and_directional_with_it() {
    let (x, rates) = btc();
    let wf = default_walk_forward_1h();
    // A threshold of 0.5 + ε makes the raw rule directional for any forecast but 0.5.
    let bt = BacktestConfig {
        threshold: 0.500_001,
        ..BacktestConfig::default()
    };
    let mut e = evaluate(&x, wf, bt, &rates).expect("evaluate");
    let (model, until) = train_latest(&x, wf).expect("train");
    let features = compute_features(&x).expect("features");
    let version = model_version(&model, until);
    let score = |e: &perpdesk_signal::Evaluation| {
        make_signal("BTCUSDT", &x, &features, &model, &version, e).expect("signal")
    };
    // The record carries the real verdict and its reasons.
    let real = score(&e);
    let verdict = real.record.verdict.clone().expect("a verdict");
    assert_eq!(verdict.edge, real.record.has_edge());
    assert_eq!(verdict.edge, verdict.reasons.is_empty());
    assert!(verdict.random_timing.count >= 500 && verdict.interval.resamples >= 1_000);
    // Force both branches of the rule on the same forecast.
    set_verdict(
        &mut e,
        &[FlatReason::BelowRandomTiming, FlatReason::BelowBuyAndHold],
    );
    let flat = score(&e);
    assert_eq!(flat.direction, SignalDirection::Flat);
    assert!(!flat.record.beats_baselines && flat.record.beats_base_rate);
    set_verdict(&mut e, &[FlatReason::NoBrierSkill]);
    let no_brier = score(&e);
    assert_eq!(no_brier.direction, SignalDirection::Flat, "Brier loses");
    assert!(no_brier.record.beats_baselines && !no_brier.record.beats_base_rate);
    set_verdict(&mut e, &[]);
    let s = score(&e);
    assert!(s.record.beats_baselines && s.record.beats_base_rate && s.record.has_edge());
    let expected = if s.p_up >= 0.5 {
        SignalDirection::Long
    } else {
        SignalDirection::Short
    };
    assert_eq!(s.direction, expected);
    assert_eq!(s.time, *x.open_time.last().expect("candles"));
    assert_eq!(s.entry, *x.close.last().expect("candles"));
    assert_eq!(s.horizon_bars, wf.label.horizon);
    let up = s.direction == SignalDirection::Long;
    assert_eq!(s.take_profit > s.entry, up);
    assert_eq!(s.stop_loss < s.entry, up);
    assert!(s.model_version.starts_with("logistic-fs2-"));
    // A record saved before the edge test existed has no verdict: no edge.
    let mut old = s.record.clone();
    old.verdict = None;
    assert!(!old.has_edge());
}

#[test]
fn downsample_keeps_the_ends_and_the_limit() {
    let (x, rates) = btc();
    let e = evaluate(
        &x,
        default_walk_forward_1h(),
        BacktestConfig::default(),
        &rates,
    )
    .expect("evaluate");
    let curve = &e.chosen().backtest.model.equity;
    for max in [1, 2, 499, 500, curve.len(), curve.len() + 5] {
        let d = downsample(curve, max);
        assert!(d.len() <= max.max(1));
        assert_eq!(d.last(), curve.last());
    }
}

#[test]
fn forecasts_come_only_from_test_windows() {
    let (x, rates) = btc();
    let wf = default_walk_forward_1h();
    let e = evaluate(&x, wf, BacktestConfig::default(), &rates).expect("evaluate");
    assert_eq!(e.candidates.len(), 2);
    for c in &e.candidates {
        let p = &c.walk_forward.predictions;
        assert!(!p.is_empty());
        assert!(p.windows(2).all(|w| w[0].index < w[1].index));
        for q in p {
            assert!(
                c.walk_forward
                    .folds
                    .iter()
                    .any(|f| f.test_start <= q.open_time && q.open_time <= f.test_end),
                "{} is not in a test window",
                q.open_time
            );
        }
        assert_eq!(c.backtest.start, p[0].open_time);
    }
    // Both kinds were scored on the same candles.
    let idx = |c: &perpdesk_signal::Candidate| {
        c.walk_forward
            .predictions
            .iter()
            .map(|q| q.index)
            .collect::<Vec<_>>()
    };
    assert_eq!(idx(&e.candidates[0]), idx(&e.candidates[1]));
}

#[test]
fn the_signal_uses_the_model_with_the_better_record() {
    let (x, rates) = btc();
    let mut e = evaluate(
        &x,
        default_walk_forward_1h(),
        BacktestConfig::default(),
        &rates,
    )
    .expect("evaluate");
    assert_eq!(choose(&e.candidates), e.chosen);
    let set = |c: &mut perpdesk_signal::Candidate, edge: bool, sharpe: f64| {
        c.verdict.edge = edge;
        c.verdict.reasons = if edge {
            vec![]
        } else {
            vec![FlatReason::IntervalIncludesZero]
        };
        c.verdict.strategy.sharpe = sharpe;
    };
    // An edge beats a bigger Sharpe without one.
    set(&mut e.candidates[1], true, 1.0);
    set(&mut e.candidates[0], false, 2.0);
    assert!(e.candidates[1].has_edge() && !e.candidates[0].has_edge());
    assert_eq!(choose(&e.candidates), 1);
    // Both with the edge: the higher Sharpe.
    set(&mut e.candidates[0], true, 2.0);
    assert_eq!(choose(&e.candidates), 0);
    // Neither: still the higher Sharpe (its signals stay Flat anyway).
    set(&mut e.candidates[0], false, 2.0);
    set(&mut e.candidates[1], false, 3.0);
    assert_eq!(choose(&e.candidates), 1);
    e.chosen = 1;
    let card = ModelCard::new("BTCUSDT", &e);
    assert_eq!(card.model_kind, ModelKind::Gbdt);
    assert!(!card.has_edge);
    assert_eq!(
        card.verdict.as_ref().map(|v| v.reasons.clone()),
        Some(vec![FlatReason::IntervalIncludesZero])
    );
    assert!(!perpdesk_signal::Record::new(&e).has_edge());
}
