//! The live signal loop against the simulator's replay: one stored and emitted signal per
//! closed candle, never before the candle closed, none while paused, none twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use perpdesk_app::signal_loop::{SignalLoop, SignalLoopConfig, SignalLoopError, min_history};
use perpdesk_app::{AppEvent, Events};
use perpdesk_core::{Interval, Symbol};
use perpdesk_signal::{WalkForwardConfig, default_walk_forward_1h};
use perpdesk_sim::faults::{FaultKind, FaultRule, Faults};
use perpdesk_sim::server::Running;
use perpdesk_store::Store;
use rust_decimal::prelude::ToPrimitive;
use tokio::sync::broadcast;

use crate::support::{START, advance, client, start_sim};

const HOUR: i64 = 3_600_000;

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("symbol")
}

/// Smaller windows keep a debug-build evaluation to a fraction of a second; the app uses
/// the default ones (the ignored test at the bottom times those).
fn small_config(symbols: Vec<Symbol>) -> SignalLoopConfig {
    let walk_forward = WalkForwardConfig {
        train: 1_000,
        calibrate: 300,
        test: 400,
        ..default_walk_forward_1h()
    };
    let history_candles = min_history(&walk_forward) + 100;
    SignalLoopConfig {
        walk_forward,
        history_candles,
        keep_candles: history_candles + 100,
        // Every other candle, so the tests cross a retraining.
        retrain_every: 2,
        poll_every: Duration::from_millis(20),
        ..SignalLoopConfig::new(symbols)
    }
}

struct Harness {
    sim: Running,
    store: Store,
    events: Events,
    paused: Arc<AtomicBool>,
    rx: broadcast::Receiver<AppEvent>,
}

impl Harness {
    async fn new() -> Self {
        let events = Events::new();
        Self {
            sim: start_sim().await,
            store: Store::open_in_memory().await.expect("store"),
            rx: events.subscribe(),
            events,
            paused: Arc::new(AtomicBool::new(false)),
        }
    }

    async fn start(&self, config: SignalLoopConfig) -> SignalLoop {
        SignalLoop::start(
            config,
            client(&self.sim),
            self.store.clone(),
            self.events.clone(),
            self.paused.clone(),
        )
        .await
        .expect("loop starts")
    }

    fn now(&self) -> i64 {
        self.sim.shared.clock.now_ms()
    }

    /// Every event emitted so far, each checked for look-ahead against the replay clock
    /// (which only moves when a test advances it, so "now" is the time of emission).
    fn drain(&mut self) -> (Vec<i64>, Vec<i64>) {
        let (mut candles, mut signals) = (Vec::new(), Vec::new());
        while let Ok(event) = self.rx.try_recv() {
            match event {
                AppEvent::Candle { open_time_ms, .. } => {
                    assert!(open_time_ms + HOUR <= self.now(), "candle before its close");
                    candles.push(open_time_ms);
                }
                AppEvent::Signal { time_ms, .. } => {
                    assert!(
                        time_ms + HOUR <= self.now(),
                        "signal before its candle closed"
                    );
                    signals.push(time_ms);
                }
                other => panic!("unexpected event {other:?}"),
            }
        }
        (candles, signals)
    }

    async fn stored(&self) -> Vec<perpdesk_store::Signal> {
        self.store
            .signals(&btc(), Interval::H1, 0, i64::MAX)
            .await
            .expect("signals")
    }
}

/// Compares two JSON values, numbers to 1e-12 relative: a float that went through JSON text may
/// come back one unit in the last place off. Panics with the path of the first difference
/// (never the whole value: a card holds thousands of equity points).
fn assert_same_json(a: &serde_json::Value, b: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: fields");
            for (k, v) in x {
                let w = y.get(k).unwrap_or_else(|| panic!("{path}.{k}: missing"));
                assert_same_json(v, w, &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: length");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same_json(v, w, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                "{path}: {x} vs {y}"
            );
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

fn hours(from: i64, n: i64) -> Vec<i64> {
    (0..n).map(|k| from + k * HOUR).collect()
}

#[tokio::test]
async fn signals_every_closed_candle_once_and_never_before_it_closed() {
    let mut h = Harness::new().await;
    let lp = h.start(small_config(vec![btc()])).await;
    // At start the latest closed candle is the one before START.
    assert_eq!(h.drain(), (vec![], vec![START - HOUR]));
    assert_eq!(lp.poll_once().await.expect("poll"), 0);
    for k in 0..3 {
        advance(&h.sim, HOUR);
        assert_eq!(lp.poll_once().await.expect("poll"), 1);
        assert_eq!(h.drain(), (vec![START + k * HOUR], vec![START + k * HOUR]));
    }
    // A jump of several hours signals each candle, in order, from its own history.
    advance(&h.sim, 3 * HOUR);
    assert_eq!(lp.poll_once().await.expect("poll"), 3);
    assert_eq!(
        h.drain(),
        (hours(START + 3 * HOUR, 3), hours(START + 3 * HOUR, 3))
    );
    // Half an hour into a candle nothing has closed.
    advance(&h.sim, HOUR / 2);
    assert_eq!(lp.poll_once().await.expect("poll"), 0);
    assert_eq!(h.drain(), (vec![], vec![]));

    let stored = h.stored().await;
    let times: Vec<i64> = stored
        .iter()
        .map(|s| s.candle_open_time.timestamp_millis())
        .collect();
    assert_eq!(times, hours(START - HOUR, 7));
    for s in &stored {
        assert!(s.candle_open_time.timestamp_millis() + HOUR <= s.created_at.timestamp_millis());
    }

    // Each signal's entry is the final close of its candle as the exchange reports it now:
    // no signal was made from a candle that was still forming.
    let klines = client(&h.sim)
        .candles(&btc(), "1h", 20)
        .await
        .expect("klines");
    let recent = lp.recent_signals(&btc(), 100).expect("watched");
    assert_eq!(recent.len(), 7);
    for s in &recent {
        let k = klines
            .iter()
            .find(|k| k.open_time == s.time)
            .expect("kline of the signal");
        assert_eq!(Some(s.entry), k.close.to_f64(), "{}", s.time);
    }
    assert_eq!(
        lp.latest_signal(&btc()).expect("watched"),
        recent.last().cloned()
    );
    // Retraining every other candle moved the model on.
    assert_ne!(recent[0].model_version, recent[6].model_version);
}

#[tokio::test]
async fn live_features_see_each_funding_rate_once_it_settled() {
    let h = Harness::new().await;
    let lp = h.start(small_config(vec![btc()])).await;
    // START is a funding time; 20 hours cross two more settlements (08:00 and 16:00).
    for _ in 0..20 {
        advance(&h.sim, HOUR);
        lp.poll_once().await.expect("poll");
    }
    let rates = client(&h.sim)
        .raw()
        .funding_rate("BTCUSDT", Some(START - 9 * HOUR), 10)
        .await
        .expect("funding rates");
    let settled_by = |open_ms: i64| {
        rates
            .iter()
            .rfind(|r| r.funding_time.div_euclid(HOUR) <= open_ms.div_euclid(HOUR))
            .and_then(|r| r.funding_rate.to_f64())
            .expect("a rate settled before the candle")
    };
    let stored = h.stored().await;
    assert_eq!(stored.len(), 21);
    let mut seen = Vec::new();
    for s in &stored {
        let open = s.candle_open_time.timestamp_millis();
        let feature = s.features.as_ref().expect("features")["features"]["funding_bp"]
            .as_f64()
            .expect("funding_bp");
        let expected = settled_by(open) * 1e4;
        assert!(
            (feature - expected).abs() < 1e-12,
            "candle {open}: funding_bp {feature}, settled {expected}"
        );
        if seen.last() != Some(&expected.to_bits()) {
            seen.push(expected.to_bits());
        }
    }
    // The data's rates differ between settlements, so the feature moved with them.
    assert!(seen.len() >= 2, "the funding feature never changed");
}

/// A loop over BTCUSDT and ETHUSDT that holds a pass's events at most `hold`, started, its
/// first events read, and the replay an hour on: the next pass closes a candle of each
/// (without retraining, which would flush the pass first).
async fn two_symbols_an_hour_later(hold: Duration) -> (Harness, SignalLoop) {
    let mut h = Harness::new().await;
    let symbols: Vec<Symbol> = ["BTCUSDT", "ETHUSDT"]
        .into_iter()
        .map(|s| Symbol::new(s).expect("symbol"))
        .collect();
    let lp = h
        .start(SignalLoopConfig {
            retrain_every: 0,
            hold_events: hold,
            ..small_config(symbols)
        })
        .await;
    while h.rx.try_recv().is_ok() {}
    advance(&h.sim, HOUR);
    (h, lp)
}

#[tokio::test]
async fn a_pass_over_several_symbols_publishes_its_events_together() {
    // The loop awaits the exchange and the store between symbols; a listener that forwards
    // what is waiting (the desktop shell) must still find the whole close waiting behind the
    // first event, not one event per wake-up. No retraining in the pass: one flushes first.
    // However slow this machine, the pass is never held past its end.
    let (mut h, lp) = two_symbols_an_hour_later(Duration::from_secs(3_600)).await;
    let rx = &mut h.rx;
    let (polled, (first, waiting)) = tokio::join!(lp.poll_once(), async {
        let first = rx.recv().await.expect("an event");
        (first, rx.len())
    });
    assert_eq!(polled.expect("poll"), 2);
    assert!(
        matches!(&first, AppEvent::Candle { symbol, open_time_ms, .. } if symbol == "BTCUSDT" && *open_time_ms == START),
        "{first:?}"
    );
    assert_eq!(waiting, 3, "the rest of the close was already out");
    let mut order = Vec::new();
    while let Ok(e) = h.rx.try_recv() {
        match e {
            AppEvent::Candle { symbol, .. } => order.push(format!("candle {symbol}")),
            AppEvent::Signal { symbol, .. } => order.push(format!("signal {symbol}")),
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(
        order,
        ["signal BTCUSDT", "candle ETHUSDT", "signal ETHUSDT"]
    );
}

#[tokio::test]
async fn a_slow_exchange_does_not_hold_a_pass_s_earlier_events() {
    // Against Binance each symbol's klines are a round trip, and a pass over many symbols
    // takes seconds: the first symbol's candle and signal must go out while the next
    // symbol's klines are still awaited, not when the pass ends.
    let (mut h, lp) = two_symbols_an_hour_later(Duration::from_millis(100)).await;
    h.sim.shared.set_faults(Faults::new(
        1,
        vec![FaultRule {
            path: "/fapi/v1/klines".into(),
            method: None,
            kind: FaultKind::Latency { ms: 2_000 },
            probability: 1.0,
            count: None,
        }],
    ));
    let done = AtomicBool::new(false);
    let rx = &mut h.rx;
    let (polled, (first, waiting, pass_over)) = tokio::join!(
        async {
            let polled = lp.poll_once().await;
            done.store(true, Ordering::Release);
            polled
        },
        async {
            let first = rx.recv().await.expect("an event");
            (first, rx.len(), done.load(Ordering::Acquire))
        }
    );
    assert_eq!(polled.expect("poll"), 2);
    assert!(
        matches!(&first, AppEvent::Candle { symbol, .. } if symbol == "BTCUSDT"),
        "{first:?}"
    );
    assert!(
        !pass_over,
        "BTCUSDT's events went out while ETHUSDT's klines were awaited"
    );
    assert_eq!(waiting, 1, "BTCUSDT's signal came with its candle");
    let rest: Vec<String> = std::iter::from_fn(|| h.rx.try_recv().ok())
        .map(|e| match e {
            AppEvent::Candle { symbol, .. } => format!("candle {symbol}"),
            AppEvent::Signal { symbol, .. } => format!("signal {symbol}"),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(
        rest,
        ["signal BTCUSDT", "candle ETHUSDT", "signal ETHUSDT"],
        "every event once, in order"
    );
}

#[tokio::test]
async fn makes_no_signal_while_paused_but_keeps_the_candles_flowing() {
    let mut h = Harness::new().await;
    h.paused.store(true, Ordering::Release);
    let lp = h.start(small_config(vec![btc()])).await;
    assert_eq!(h.drain(), (vec![], vec![]));
    advance(&h.sim, 2 * HOUR);
    assert_eq!(lp.poll_once().await.expect("poll"), 2);
    assert_eq!(h.drain(), (hours(START, 2), vec![]));
    assert!(h.stored().await.is_empty());
    assert_eq!(lp.latest_signal(&btc()).expect("watched"), None);
    assert_eq!(
        lp.candles(&btc(), 1).expect("watched")[0]
            .open_time
            .timestamp_millis(),
        START + HOUR
    );

    // Resuming does not back-fill the candles that closed while paused.
    h.paused.store(false, Ordering::Release);
    assert_eq!(lp.poll_once().await.expect("poll"), 0);
    assert_eq!(h.drain(), (vec![], vec![]));
    advance(&h.sim, HOUR);
    assert_eq!(lp.poll_once().await.expect("poll"), 1);
    assert_eq!(h.drain(), (vec![START + 2 * HOUR], vec![START + 2 * HOUR]));
    assert_eq!(h.stored().await.len(), 1);
}

#[tokio::test]
async fn a_restart_neither_duplicates_nor_re_emits_signals_and_reuses_the_evaluation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("perpdesk.db");
    let mut h = Harness::new().await;
    h.store = Store::open(&path).await.expect("store");
    let first = h.start(small_config(vec![btc()])).await;
    assert!(!first.startup_timings()[0].evaluation_cached);
    advance(&h.sim, 2 * HOUR);
    assert_eq!(first.poll_once().await.expect("poll"), 2);
    assert_eq!(h.drain().1, hours(START - HOUR, 3));
    let latest = first.latest_signal(&btc()).expect("watched");
    let card = first.model_card_json(&btc()).expect("watched");
    drop(first);

    h.store = Store::open(&path).await.expect("store reopens");
    let second = h.start(small_config(vec![btc()])).await;
    assert!(second.startup_timings()[0].evaluation_cached);
    assert_same_json(&second.model_card_json(&btc()).expect("watched"), &card, "");
    assert_eq!(h.drain(), (vec![], vec![]));
    assert_eq!(h.stored().await.len(), 3);
    // The newest signal is restored from the store in full.
    let json = |s: Option<perpdesk_signal::Signal>| serde_json::to_value(s).expect("json");
    assert_same_json(
        &json(second.latest_signal(&btc()).expect("watched")),
        &json(latest),
        "",
    );
    assert_eq!(second.recent_signals(&btc(), 10).expect("watched").len(), 3);

    advance(&h.sim, HOUR);
    assert_eq!(second.poll_once().await.expect("poll"), 1);
    assert_eq!(h.drain().1, vec![START + 2 * HOUR]);
    let times: Vec<i64> = h
        .stored()
        .await
        .iter()
        .map(|s| s.candle_open_time.timestamp_millis())
        .collect();
    assert_eq!(times, hours(START - HOUR, 4));
}

#[tokio::test]
async fn the_spawned_loop_follows_the_replay_clock() {
    let mut h = Harness::new().await;
    let lp = h.start(small_config(vec![btc()])).await;
    h.drain();
    let task = lp.spawn();
    advance(&h.sim, HOUR);
    let event = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match h.rx.recv().await.expect("events") {
                e @ AppEvent::Signal { .. } => break e,
                _ => continue,
            }
        }
    })
    .await
    .expect("a signal within the timeout");
    task.abort();
    let latest = lp
        .latest_signal(&btc())
        .expect("watched")
        .expect("a signal");
    let AppEvent::Signal {
        time_ms,
        strong,
        probability,
        record,
        ..
    } = event
    else {
        unreachable!("matched above")
    };
    assert_eq!(time_ms, START);
    assert_eq!(latest.time.timestamp_millis(), START);
    assert_eq!(strong, lp.is_strong(&latest));
    assert!((probability - latest.probability).abs() < f64::EPSILON);
    assert_eq!(
        record.as_deref(),
        Some(&latest.record),
        "the event carries the record the watchlist shows"
    );
    assert!(h.now() >= time_ms + HOUR);
}

#[tokio::test]
async fn serves_candles_overlays_and_the_model_card_for_the_chart() {
    let h = Harness::new().await;
    let lp = h.start(small_config(vec![btc()])).await;
    let candles = lp.candles(&btc(), 50).expect("watched");
    assert_eq!(candles.len(), 50);
    assert_eq!(
        candles.last().map(|c| c.open_time.timestamp_millis()),
        Some(START - HOUR)
    );
    let o = lp.overlays(&btc(), 50).expect("watched");
    for series in [
        &o.ema20,
        &o.ema50,
        &o.bollinger_upper,
        &o.bollinger_lower,
        &o.rsi14,
    ] {
        assert_eq!(series.len(), 50);
        assert_eq!(
            series.first().map(|p| p.0),
            candles.first().map(|c| c.open_time.timestamp_millis())
        );
        // The overlay warm-up comes from earlier candles, so no value is missing.
        assert!(series.iter().all(|p| p.1.is_some_and(f64::is_finite)));
    }
    assert!(
        o.rsi14
            .iter()
            .all(|p| p.1.is_some_and(|r| (0.0..=100.0).contains(&r)))
    );
    for ((_, up), (_, lo)) in o.bollinger_upper.iter().zip(&o.bollinger_lower) {
        assert!(up >= lo);
    }
    let card = lp.model_card_json(&btc()).expect("watched");
    assert_eq!(card["symbol"], "BTCUSDT");
    assert!(card["has_edge"].is_boolean());
    assert_eq!(card["walk_forward_config"]["train"], 1_000);
    let eth = Symbol::new("ETHUSDT").expect("symbol");
    assert!(matches!(
        lp.candles(&eth, 5),
        Err(SignalLoopError::NotWatched(_))
    ));
}

/// Times the app's start with the real walk-forward windows for BTCUSDT and ETHUSDT, then
/// a restart that reuses the cached evaluations, then a day of closes. Run with
/// `cargo test --release -p perpdesk-app --test engine startup_times -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement with the default windows, for a release build"]
async fn startup_times_with_the_default_config() {
    let h = Harness::new().await;
    let symbols = vec![btc(), Symbol::new("ETHUSDT").expect("symbol")];
    for run in ["cold", "cached"] {
        let t = std::time::Instant::now();
        let lp = h.start(SignalLoopConfig::new(symbols.clone())).await;
        println!("{run} start: {:?}", t.elapsed());
        for timing in lp.startup_timings() {
            println!("  {timing:?}");
        }
        for symbol in &symbols {
            let card = lp.model_card(symbol).expect("watched");
            println!(
                "  {symbol}: folds {} has_edge {} signal {:?}",
                card.folds.len(),
                card.has_edge,
                lp.latest_signal(symbol)
                    .expect("watched")
                    .map(|s| (s.direction, s.probability))
            );
        }
        if run == "cached" {
            // A day of closes in one poll, crossing one retraining per symbol.
            advance(&h.sim, 24 * HOUR);
            let t = std::time::Instant::now();
            let n = lp.poll_once().await.expect("poll");
            println!(
                "poll of {n} closed candles (2 retrainings): {:?}",
                t.elapsed()
            );
        }
    }
}
