//! The 1h model families over the universe: their trades are signals the study sizes like
//! every family's (no 1× per symbol, so a wide universe is not a 28× book), and trial ids
//! name their universe.

use chrono::Duration;
use perpdesk_signal::backtest::{BacktestConfig, FundingRates, Side};
use perpdesk_signal::bars::{Panel, Window};
use perpdesk_signal::edge::TrialLog;
use perpdesk_signal::evaluate::{brier_skill, fold_count};
use perpdesk_signal::model::ModelKind;
use perpdesk_signal::model_family::{hourly_panel, walk_forward_books_on};
use perpdesk_signal::portfolio::targets;
use perpdesk_signal::strategy::Strategy;
use perpdesk_signal::study::{
    ModelBooks, configuration_tag, resolve_trial_id_in, study, trial_id_in, universe_label,
    universe_tag,
};
use perpdesk_signal::universe::Universe;
use perpdesk_signal::{default_walk_forward_1h, evaluate};

use crate::pooled::hourly_universe;

const V2: &str = include_str!("../../strategies/perpdesk-v2.json");

#[test]
fn a_model_familys_trades_are_sized_by_volatility_under_the_books_ceiling() {
    let u = hourly_universe(23, 6, 60);
    let s = Strategy::from_json(V2).expect("v2");
    let p = Panel::new(&u, Duration::hours(1)).expect("1h panel");
    // Every symbol long from day 25 on: unsized, the old book held 6× equity.
    let start = 25 * 24;
    let signal: Vec<Vec<f64>> = (0..p.assets.len())
        .map(|_| {
            (0..p.len())
                .map(|t| if t >= start { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let window = Window {
        from: p.times[start],
        to: *p.times.last().expect("bars"),
    };
    let models = vec![ModelBooks {
        id: "model_1h_test".into(),
        panel: p.clone(),
        signal: signal.clone(),
        parameters: serde_json::json!({"kind": "test"}),
        brier: None,
    }];
    let log = TrialLog::shipped().expect("log");
    let r = study(&u, &s, window, &log, models).expect("study");
    let f = r
        .families
        .iter()
        .find(|f| f.id == "model_1h_test")
        .expect("the model family");
    let vt = s.strategy.vol_target.on_bar(p.bar);
    assert_eq!(vt.bars_per_year, 365.0 * 24.0);
    assert!((vt.ewma_lambda - 0.94f64.powf(1.0 / 24.0)).abs() < 1e-15);
    let sized = targets(&p, &signal, &vt, &s.strategy.limits).expect("targets");
    let last = p.len() - 1;
    for l in &f.latest {
        let a = p.assets.iter().position(|x| *x == l.symbol).expect("asset");
        assert_eq!(l.weight, sized[a][last], "{}", l.symbol);
        assert!(l.weight > 0.0 && l.weight <= s.strategy.limits.max_position_weight);
        assert!(l.stop.is_some() && l.annual_vol.is_some(), "{}", l.symbol);
    }
    let gross: f64 = (0..p.assets.len()).map(|a| sized[a][last].abs()).sum();
    assert!(gross <= s.strategy.limits.max_gross_leverage + 1e-12);
    // The daily exposure of the sized book stays far from the unsized 6×.
    let most = f.curve.exposure.iter().copied().fold(0.0, f64::max);
    assert!(
        most > 0.0 && most <= s.strategy.limits.max_gross_leverage + 1e-9,
        "{most}"
    );
    assert!(f.verdict.strategy.sharpe.is_finite());
    assert_eq!(f.parameters, Some(serde_json::json!({"kind": "test"})));
    assert!(f.trial_id.contains(&universe_tag(&u)), "{}", f.trial_id);
}

#[test]
fn trial_ids_name_their_universe_and_a_logged_trial_is_reused_only_on_its_universe() {
    let v2 = Strategy::from_json(V2).expect("v2");
    let log = TrialLog::shipped().expect("log");
    let window = v2.strategy.evaluation.window();
    let visible = crate::common::shared_universe();
    assert_eq!(universe_tag(visible).len(), "u28-".len() + 12);
    assert!(universe_tag(visible).starts_with("u28-"));
    assert!(
        log.trials
            .iter()
            .any(|t| t.universe == universe_label(visible))
    );
    let other = hourly_universe(3, 6, 30);
    for f in &v2.strategy.families {
        let params = serde_json::to_value(&f.rule).ok();
        let same = resolve_trial_id_in(&log, &v2, &f.id, params.clone(), visible, window);
        assert!(same.starts_with("perpdesk-v1/"), "{same}");
        let elsewhere = resolve_trial_id_in(&log, &v2, &f.id, params, &other, window);
        assert_eq!(elsewhere, trial_id_in(&v2, &f.id, &other, window));
        assert!(
            elsewhere.starts_with(&format!("perpdesk-v2/{}/u6-", f.id)),
            "{elsewhere}"
        );
    }
    // The tag does not depend on the order the symbols come in.
    let mut reversed = other.clone();
    reversed.symbols.reverse();
    assert_eq!(universe_tag(&reversed), universe_tag(&other));
}

#[test]
fn a_changed_model_configuration_is_a_new_trial_and_counted() {
    // A 1h model's settings live in code, so changing them keeps the strategy's version and
    // its plain trial id: the study must still see a new configuration, name it apart and
    // count it, while settings of the other kind beside it change nothing.
    let u = hourly_universe(23, 6, 60);
    let s = Strategy::from_json(V2).expect("v2");
    let p = Panel::new(&u, Duration::hours(1)).expect("1h panel");
    let window = Window {
        from: p.times[25 * 24],
        to: *p.times.last().expect("bars"),
    };
    let shipped = TrialLog::shipped().expect("log");
    let template = shipped
        .trials
        .iter()
        .find(|t| t.family == "model_1h_gbdt")
        .expect("the logged gbdt trial");
    let base = trial_id_in(&s, "model_1h_gbdt", &u, window);
    let params = |max_bin: u64, l2: f64| {
        let mut v = template.parameters.clone();
        v["walk_forward"]["gbdt"]["max_bin"] = max_bin.into();
        v["walk_forward"]["model"]["l2"] = l2.into();
        v
    };
    let logged_as = |parameters: serde_json::Value| {
        let mut t = template.clone();
        t.id.clone_from(&base);
        t.parameters = parameters;
        t.universe = universe_label(&u);
        t.window = perpdesk_signal::edge::Window {
            from: window.from.date_naive(),
            to: window.to.date_naive(),
        };
        TrialLog::parse(&t.to_line()).expect("a one-line log")
    };
    let run = |log: &TrialLog, parameters: serde_json::Value| {
        let models = vec![ModelBooks {
            id: "model_1h_gbdt".into(),
            panel: p.clone(),
            signal: vec![vec![0.0; p.len()]; p.assets.len()],
            parameters,
            brier: None,
        }];
        let r = study(&u, &s, window, log, models).expect("study");
        let f = r.families.iter().find(|f| f.id == "model_1h_gbdt");
        (f.expect("the model family").trial_id.clone(), r.trials.n)
    };
    let log = logged_as(params(255, 0.01));
    let (same_id, same_n) = run(&log, params(255, 0.01));
    assert_eq!(same_id, base, "the logged configuration keeps its id");
    // The logistic model's own settings do not make another boosting configuration.
    assert_eq!(run(&log, params(255, 0.5)), (base.clone(), same_n));
    let (new_id, new_n) = run(&log, params(63, 0.01));
    let tag = configuration_tag(&params(63, 0.01));
    assert_eq!(new_id, format!("{base}/{tag}"));
    assert!(tag.starts_with('p') && tag.len() == 13, "{tag}");
    // The tag of the logged trial 16, whatever order a build keeps a map's keys in.
    let logged_16 = shipped
        .trials
        .iter()
        .find(|t| t.id.ends_with("/p33c60b020dde"))
        .expect("trial 16 is in the log");
    assert_eq!(configuration_tag(&logged_16.parameters), "p33c60b020dde");
    let mut reordered = serde_json::Map::new();
    let object = logged_16.parameters.as_object().expect("an object");
    for (k, v) in object.iter().rev() {
        reordered.insert(k.clone(), v.clone());
    }
    assert_eq!(
        configuration_tag(&serde_json::Value::Object(reordered)),
        "p33c60b020dde"
    );
    assert_eq!(new_n, same_n + 1, "the new configuration is counted");
    // The same holds for the logistic family, with the roles swapped.
    let logistic = |parameters: serde_json::Value| {
        resolve_trial_id_in(
            &log_of("model_1h_logistic", &logged_as(params(255, 0.01))),
            &s,
            "model_1h_logistic",
            Some(parameters),
            &u,
            window,
        )
    };
    let logistic_base = trial_id_in(&s, "model_1h_logistic", &u, window);
    assert_eq!(logistic(params(63, 0.01)), logistic_base);
    assert_eq!(
        logistic(params(255, 0.5)),
        format!("{logistic_base}/{}", configuration_tag(&params(255, 0.5)))
    );
}

/// `log`'s one trial, moved to `family` under that family's plain id.
fn log_of(family: &str, log: &TrialLog) -> TrialLog {
    let mut t = log.trials[0].clone();
    t.id = t.id.replace("model_1h_gbdt", family);
    t.family = family.into();
    TrialLog::parse(&t.to_line()).expect("a one-line log")
}

/// The logged trial line of a family on the visible data.
fn logged<'a>(log: &'a TrialLog, id: &str) -> &'a perpdesk_signal::edge::Trial {
    log.trials
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("{id} is in the log"))
}

#[test]
fn the_visible_data_record_reproduces_the_logged_trials_bit_for_bit() {
    // Pins every number of the study that a speed-up could move: the books' simulation, the
    // 500 random-timing nulls (the percentile), the trade count, turnover and drawdown of
    // every rule family and both pooled horizons, as the evaluation logged them.
    let v2 = Strategy::from_json(V2).expect("v2");
    let log = TrialLog::shipped().expect("log");
    let u = crate::common::shared_universe();
    let r = study(u, &v2, v2.strategy.evaluation.window(), &log, vec![]).expect("study");
    assert_eq!(r.families.len(), 9);
    for f in &r.families {
        let t = logged(&log, &f.trial_id);
        let m = t.metrics.as_ref().expect("metrics");
        let v = &f.verdict;
        assert_eq!(v.strategy.sharpe.to_bits(), t.sharpe.to_bits(), "{}", f.id);
        assert_eq!(
            v.strategy.max_drawdown,
            m["max_drawdown"].as_f64().expect("dd"),
            "{}",
            f.id
        );
        assert_eq!(
            v.activity.turnover_per_year,
            m["turnover_per_year"].as_f64().expect("turnover"),
            "{}",
            f.id
        );
        assert_eq!(
            v.activity.trades as u64,
            m["trades"].as_u64().expect("trades")
        );
        assert_eq!(
            v.random_timing.percentile,
            m["random_timing_percentile"].as_f64().expect("pctile"),
            "{}",
            f.id
        );
    }
}

#[test]
fn model_books_on_several_threads_equal_one_thread_and_each_symbols_evaluation() {
    // Real data: two symbols with three years, one too short for a fold.
    let full = crate::common::shared_universe();
    let mut u = Universe::default();
    for name in ["BTCUSDT", "SUIUSDT", "XRPUSDT"] {
        let s = full.symbols.iter().find(|s| s.symbol == name).expect(name);
        u.symbols.push(s.clone());
    }
    let panel = hourly_panel(&u).expect("panel");
    let (wf, bt) = (default_walk_forward_1h(), BacktestConfig::default());
    let kinds = [ModelKind::Logistic, ModelKind::Gbdt];
    let mut seen = Vec::new();
    let one = walk_forward_books_on(&u, &panel, &kinds, wf, bt, 1, &mut |d, n| {
        seen.push((d, n));
    })
    .expect("one thread");
    assert_eq!(seen, [(1, 3), (2, 3), (3, 3)]);
    let mut seen = Vec::new();
    let three = walk_forward_books_on(&u, &panel, &kinds, wf, bt, 3, &mut |d, n| {
        seen.push((d, n));
    })
    .expect("three threads");
    assert_eq!(seen, [(1, 3), (2, 3), (3, 3)]);
    assert_eq!(one, three);

    // The books hold exactly the trades and forecasts of each symbol's full evaluation
    // (the one whose per-symbol edge test the books no longer run).
    let mut signal = vec![vec![vec![0.0; panel.len()]; u.symbols.len()]; kinds.len()];
    let mut scored: Vec<(Vec<f64>, Vec<bool>)> = vec![(vec![], vec![]); kinds.len()];
    for (a, sym) in u.symbols.iter().enumerate() {
        let rates = FundingRates::new(sym.funding.events()).expect("funding");
        for x in sym.hourly.contiguous_runs() {
            if fold_count(x.len(), &wf) == 0 {
                continue;
            }
            let at = usize::try_from((x.open_time[0] - panel.times[0]).num_hours()).expect("on");
            let e = evaluate(&x, wf, bt, &rates).expect("evaluate");
            for (k, kind) in kinds.iter().enumerate() {
                let c = e
                    .candidates
                    .iter()
                    .find(|c| c.kind() == *kind)
                    .expect("kind");
                for t in &c.backtest.model.trade_log {
                    let side = if t.side == Side::Long { 1.0 } else { -1.0 };
                    for v in &mut signal[k][a][at + t.entry_index..at + t.exit_index] {
                        *v = side;
                    }
                }
                for p in &c.walk_forward.predictions {
                    if let Some(later) = x.close.get(p.index + wf.label.horizon) {
                        scored[k].0.push(p.p_up);
                        scored[k].1.push(*later > x.close[p.index]);
                    }
                }
            }
        }
    }
    assert!(signal.iter().all(|k| k[1].iter().all(|&v| v == 0.0)));
    for (k, books) in one.iter().enumerate() {
        assert_eq!(books.signal, signal[k], "{}", books.id);
        assert!(books.signal[0].iter().any(|&v| v != 0.0), "{}", books.id);
        let brier = brier_skill(&scored[k].0, &scored[k].1).expect("brier");
        assert_eq!(books.brier, Some(brier), "{}", books.id);
    }
}

#[test]
fn the_1h_model_families_reproduce_their_logged_trials_bit_for_bit() {
    // The walk-forward books of both kinds on every symbol (in parallel, without the
    // per-symbol edge test) must give the record the evaluation logged for them.
    let v2 = Strategy::from_json(V2).expect("v2");
    let log = TrialLog::shipped().expect("log");
    let u = crate::common::shared_universe();
    let panel = hourly_panel(u).expect("panel");
    let models = perpdesk_signal::model_family::walk_forward_books(
        u,
        &panel,
        &v2.strategy.model_1h.kinds,
        default_walk_forward_1h(),
        BacktestConfig::default(),
        &mut |_, _| {},
    )
    .expect("1h models");
    let r = study(u, &v2, v2.strategy.evaluation.window(), &log, models).expect("study");
    let ids = ["model_1h_logistic", "model_1h_gbdt"];
    for id in ids {
        let f = r.families.iter().find(|f| f.id == id).expect(id);
        let t = logged(&log, &f.trial_id);
        let m = t.metrics.as_ref().expect("metrics");
        let v = &f.verdict;
        assert_eq!(v.strategy.sharpe.to_bits(), t.sharpe.to_bits(), "{id}");
        assert_eq!(
            v.strategy.max_drawdown,
            m["max_drawdown"].as_f64().expect("dd"),
            "{id}"
        );
        assert_eq!(
            v.activity.turnover_per_year,
            m["turnover_per_year"].as_f64().expect("turnover"),
            "{id}"
        );
        assert_eq!(
            v.activity.trades as u64,
            m["trades"].as_u64().expect("trades"),
            "{id}"
        );
        assert_eq!(
            v.random_timing.percentile,
            m["random_timing_percentile"].as_f64().expect("pctile"),
            "{id}"
        );
    }
}
