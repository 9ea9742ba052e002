//! The evaluate path on the real BTCUSDT candles (the library calls the CLI makes), and the
//! signal's "no claim without evidence" rule.

use perpdesk_core::Interval;
use perpdesk_signal::backtest::{BacktestConfig, FundingRates};
use perpdesk_signal::card::downsample;
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
    // Force both branches of the rule on the same forecast.
    e.chosen_mut().backtest.model.net_pnl_pct = -1e9;
    let flat = score(&e);
    assert_eq!(flat.direction, SignalDirection::Flat);
    assert!(!flat.record.beats_baselines);
    e.chosen_mut().backtest.model.net_pnl_pct = 1e9;
    let pooled = &mut e.chosen_mut().walk_forward.pooled;
    pooled.brier = pooled.base_rate_brier + 0.01;
    assert_eq!(score(&e).direction, SignalDirection::Flat, "Brier loses");
    let pooled = &mut e.chosen_mut().walk_forward.pooled;
    pooled.brier = pooled.base_rate_brier - 0.01;
    let s = score(&e);
    assert!(s.record.beats_baselines && s.record.beats_base_rate);
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
    let give_edge = |c: &mut perpdesk_signal::Candidate, pnl: f64| {
        c.backtest.model.net_pnl_pct = pnl;
        c.walk_forward.pooled.brier = c.walk_forward.pooled.base_rate_brier - 0.01;
    };
    // An edge beats a bigger PnL without one.
    give_edge(&mut e.candidates[1], 1e6);
    e.candidates[0].backtest.model.net_pnl_pct = 2e6;
    e.candidates[0].walk_forward.pooled.brier = 1.0;
    assert!(e.candidates[1].has_edge() && !e.candidates[0].has_edge());
    assert_eq!(choose(&e.candidates), 1);
    // Both with the edge: the higher PnL.
    give_edge(&mut e.candidates[0], 2e6);
    assert_eq!(choose(&e.candidates), 0);
    // Neither: still the higher PnL (its signals stay Flat anyway).
    e.candidates[0].walk_forward.pooled.brier = 1.0;
    e.candidates[1].walk_forward.pooled.brier = 1.0;
    e.candidates[1].backtest.model.net_pnl_pct = 3e6;
    assert_eq!(choose(&e.candidates), 1);
    e.chosen = 1;
    let card = ModelCard::new("BTCUSDT", &e);
    assert_eq!(card.model_kind, ModelKind::Gbdt);
    assert!(!card.has_edge);
    assert_eq!(perpdesk_signal::Record::new(&e).model_net_pnl_pct, 3e6);
}
