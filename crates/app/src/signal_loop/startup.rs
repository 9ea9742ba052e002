//! One symbol's start: history, the out-of-sample evaluation (cached), the live model.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use perpdesk_binance::Client;
use perpdesk_core::{Interval, Symbol};
use perpdesk_signal::backtest::FundingRates;
use perpdesk_signal::signal::model_version;
use perpdesk_signal::{
    FEATURE_SET_VERSION, ModelCard, Ohlcv, Record, Signal, SignalError, evaluate_split_funding,
    train_model,
};
use perpdesk_store::Store;
use serde::{Deserialize, Serialize};

use super::{
    CandleTape, KEEP_SIGNALS, SignalLoopConfig, SignalLoopError, StartupTiming, Watched,
    fetch_funding, interval_ms, load_history, min_history, restored_signal, utc,
};

/// The cached result of one symbol's evaluation (a store setting).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedEvaluation {
    /// JSON of the feature set version and both configurations: compared as text, because
    /// floats that went through JSON are not guaranteed to come back bit-identical.
    fingerprint: String,
    /// Open time of the last candle the evaluation saw, UTC ms.
    last_candle_open_ms: i64,
    card: ModelCard,
    record: Record,
}

fn cache_key(symbol: &Symbol, interval: Interval) -> String {
    format!("signal.evaluation.{symbol}.{}", interval.as_str())
}

fn fingerprint(config: &SignalLoopConfig) -> String {
    serde_json::json!({
        "feature_set_version": FEATURE_SET_VERSION,
        // Evaluations cached before the live features saw the funding series are not reused.
        "features_see_funding": true,
        "walk_forward": config.walk_forward,
        "backtest": config.backtest,
    })
    .to_string()
}

/// Runs `f` on a blocking thread: evaluation and training are seconds of CPU that must not
/// stall the runtime's other tasks (the sync, the UI's commands).
async fn blocking<T: Send + 'static>(
    symbol: &Symbol,
    what: &'static str,
    f: impl FnOnce() -> Result<T, SignalError> + Send + 'static,
) -> Result<T, SignalLoopError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SignalLoopError::Task {
            symbol: symbol.to_string(),
            what,
            reason: e.to_string(),
        })?
        .map_err(|source| SignalLoopError::Model {
            symbol: symbol.to_string(),
            what,
            source,
        })
}

/// One symbol's start: history, evaluation (cached), live model, restored signals.
pub(super) async fn prepare(
    config: &SignalLoopConfig,
    client: &Client,
    store: &Store,
    symbol: &Symbol,
    now_ms: i64,
) -> Result<(Watched, StartupTiming), SignalLoopError> {
    let started = Instant::now();
    let candles = load_history(
        client,
        symbol,
        config.interval,
        config.history_candles,
        now_ms,
    )
    .await?;
    let history = started.elapsed();
    let Some(last_open) = candles.last().map(|c| c.open_time) else {
        return Err(SignalLoopError::Model {
            symbol: symbol.to_string(),
            what: "history",
            source: SignalError::TooFewCandles {
                needed: min_history(&config.walk_forward),
                got: 0,
            },
        });
    };
    let x = {
        let candles = candles.clone();
        let interval = config.interval;
        blocking(symbol, "candles", move || {
            Ohlcv::from_candles(&candles, interval)
        })
        .await?
    };
    let key = cache_key(symbol, config.interval);
    let print = fingerprint(config);
    let iv = interval_ms(config.interval);
    let cached = store
        .setting::<CachedEvaluation>(&key)
        .await
        .unwrap_or_else(|error| {
            // A cache that no longer parses (an older card format) is only a cache.
            tracing::warn!(%symbol, %error, "ignoring an unreadable cached evaluation");
            None
        })
        .filter(|c| {
            let age = last_open.timestamp_millis() - c.last_candle_open_ms;
            // A cache from the future of this history (a replay restarted earlier) would
            // let the card see candles the signals may not: it must not be used.
            c.fingerprint == print
                && age >= 0
                && age / iv <= i64::try_from(config.evaluation_max_age).unwrap_or(i64::MAX)
        });
    let mut evaluation = Duration::ZERO;
    let evaluation_cached = cached.is_some();
    let t = Instant::now();
    let first = candles
        .first()
        .map_or(0, |c| c.open_time.timestamp_millis());
    let rates = FundingRates::new(&fetch_funding(client, symbol, first, now_ms).await?).map_err(
        |source| SignalLoopError::Model {
            symbol: symbol.to_string(),
            what: "funding rates",
            source,
        },
    )?;
    let funding = t.elapsed();
    let (card, record) = match cached {
        Some(c) => (c.card, c.record),
        None => {
            let t = Instant::now();
            let (x, wf, bt) = (x.clone(), config.walk_forward, config.backtest);
            let name = symbol.to_string();
            let rates = rates.clone();
            let (card, record) = blocking(symbol, "evaluation", move || {
                // The same settled rates feed the features (as live) and charge the
                // backtest's positions.
                let e = evaluate_split_funding(&x, wf, bt, &rates, &rates, &mut |_, _| {})?;
                Ok((ModelCard::new(&name, &e), Record::new(&e)))
            })
            .await?;
            evaluation = t.elapsed();
            let entry = CachedEvaluation {
                fingerprint: print,
                last_candle_open_ms: last_open.timestamp_millis(),
                card,
                record,
            };
            store
                .put_setting(&key, &entry, utc(now_ms, symbol)?)
                .await?;
            (entry.card, entry.record)
        }
    };
    let t = Instant::now();
    let wf = config.walk_forward;
    let kind = card.model_kind;
    let training_rates = rates.clone();
    let (model, until) = blocking(symbol, "training", move || {
        train_model(&x, wf, &training_rates, kind).map(|(m, w)| (m, w.last))
    })
    .await?;
    let training = t.elapsed();
    let stored = store
        .latest_signals(symbol, config.interval, KEEP_SIGNALS as u32)
        .await?;
    let last_signalled = stored.iter().map(|s| s.candle_open_time).max();
    let signals: VecDeque<Signal> = stored.iter().filter_map(restored_signal).collect();
    let timing = StartupTiming {
        symbol: symbol.to_string(),
        candles: candles.len(),
        history,
        funding,
        evaluation,
        evaluation_cached,
        training,
        total: started.elapsed(),
    };
    Ok((
        Watched {
            candles: CandleTape::from_candles(
                config.interval.duration(),
                config.keep_candles,
                &candles,
            ),
            model_version: model_version(&model, until),
            model,
            candles_since_training: 0,
            card,
            record,
            signals,
            last_signalled,
            funding: rates,
            funding_checked_ms: now_ms,
        },
        timing,
    ))
}
