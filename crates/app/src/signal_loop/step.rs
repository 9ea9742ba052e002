//! One closed candle: append it, refresh funding, retrain when due, and signal it.

use std::sync::atomic::Ordering;

use perpdesk_core::{Candle, Interval, Symbol};
use perpdesk_signal::backtest::FundingRates;
use perpdesk_signal::signal::model_version;
use perpdesk_signal::{
    ModelKind, Ohlcv, Signal, WARMUP, compute_features_with_funding, make_signal_with_record,
    train_model,
};

use super::tape::CandleTape;
use super::{
    FEATURE_WINDOW, KEEP_SIGNALS, SignalLoop, SignalLoopError, Watched, fetch_funding,
    stored_signal, strong,
};
use crate::{AppEvent, Outbox};

impl SignalLoop {
    pub(super) async fn on_close(
        &self,
        symbol: &Symbol,
        candle: Candle,
        now_ms: i64,
        out: &mut Outbox<'_>,
    ) -> Result<(), SignalLoopError> {
        let config = &self.0.config;
        let retrain_on = {
            let mut watched = self.write();
            let w = watched
                .get_mut(symbol)
                .expect("every configured symbol is watched");
            let step = config.interval.duration();
            match w.candles.last_open() {
                Some(last) if candle.open_time <= last => return Ok(()),
                Some(last) if candle.open_time != last + step => {
                    // The exchange has no candle for the hours between: features need an
                    // unbroken series, so the history restarts here (signals resume after
                    // the warm-up; the model keeps what it learned). The tape restarts
                    // itself on the candle that does not follow.
                    tracing::warn!(%symbol, after = %last, at = %candle.open_time,
                        "gap in candles; restarting the feature history");
                }
                _ => {}
            }
            w.candles.push(&candle);
            w.candles.keep_newest(config.keep_candles);
            w.candles_since_training += 1;
            (config.retrain_every > 0 && w.candles_since_training >= config.retrain_every)
                .then(|| w.candles.clone())
        };
        out.hold_during(self.refresh_funding(symbol, now_ms)).await;
        if let Some(candles) = retrain_on {
            // A retraining can take seconds: what the pass made so far goes out first.
            out.flush();
            self.retrain(symbol, candles).await;
        }
        out.push(AppEvent::Candle {
            symbol: symbol.to_string(),
            open_time_ms: candle.open_time.timestamp_millis(),
            open: candle.open.to_string(),
            high: candle.high.to_string(),
            low: candle.low.to_string(),
            close: candle.close.to_string(),
            volume: candle.volume.to_string(),
        });
        self.signal_latest(symbol, now_ms, out).await
    }

    /// Fetches the funding rates settled since the newest one known, once per funding time
    /// (Binance settles at 00:00, 08:00 and 16:00 UTC). A failure keeps the known rates and
    /// is retried at the next candle: the feature then holds the last settled rate it saw,
    /// which is what it would hold between settlements anyway.
    async fn refresh_funding(&self, symbol: &Symbol, now_ms: i64) {
        const EIGHT_HOURS_MS: i64 = 8 * 3_600_000;
        let Ok((checked, newest)) =
            self.with(symbol, |w| (w.funding_checked_ms, w.funding.newest()))
        else {
            return;
        };
        let next_settlement = (checked.div_euclid(EIGHT_HOURS_MS) + 1) * EIGHT_HOURS_MS;
        if now_ms < next_settlement {
            return;
        }
        let from = newest.map_or(checked - EIGHT_HOURS_MS, |t| t.timestamp_millis() + 1);
        match fetch_funding(&self.0.client, symbol, from, now_ms).await {
            Ok(rates) => {
                let mut watched = self.write();
                let Some(w) = watched.get_mut(symbol) else {
                    return;
                };
                let settled = now_ms.div_euclid(EIGHT_HOURS_MS) * EIGHT_HOURS_MS;
                match w.funding.extend(&rates) {
                    // Done once the latest settlement is in; until then (Binance records
                    // funding a few milliseconds late) the next candle asks again.
                    Ok(())
                        if w.funding
                            .newest()
                            .is_some_and(|t| t.timestamp_millis() >= settled) =>
                    {
                        w.funding_checked_ms = now_ms;
                    }
                    Ok(()) => {}
                    Err(error) => {
                        tracing::warn!(%symbol, %error, "bad funding rate from the exchange; keeping the known ones")
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%symbol, %error, "funding rates not refreshed; retrying at the next candle");
            }
        }
    }

    /// Trains on `candles` off the async threads and swaps the model in; a failure keeps
    /// the old model (a signal from yesterday's model beats no signal).
    async fn retrain(&self, symbol: &Symbol, candles: CandleTape) {
        let (interval, wf) = (self.0.config.interval, self.0.config.walk_forward);
        let (kind, rates) = self
            .with(symbol, |w| (w.card.model_kind, w.funding.clone()))
            .unwrap_or((ModelKind::Logistic, FundingRates::default()));
        let trained = crate::background::run("perpdesk-retrain", move || {
            // Unpacked only here, so retrainings queued behind each other hold the
            // packed tape, not a `Vec<Candle>` of twice its size each.
            let x = Ohlcv::from_candles(&candles.newest(usize::MAX), interval)?;
            train_model(&x, wf, &rates, kind).map(|(m, w)| (m, w.last))
        })
        .await;
        let mut watched = self.write();
        let w = watched
            .get_mut(symbol)
            .expect("every configured symbol is watched");
        match trained {
            Ok(Ok((model, until))) => {
                w.model_version = model_version(&model, until);
                w.model = model;
                w.candles_since_training = 0;
                tracing::info!(%symbol, version = %w.model_version, "signal model retrained");
            }
            Ok(Err(error)) => {
                tracing::warn!(%symbol, %error, "retraining failed; keeping the current model");
            }
            Err(error) => {
                tracing::warn!(%symbol, %error, "retraining did not finish; keeping the current model");
            }
        }
    }

    /// Signals the newest held candle of `symbol` unless paused or already signalled, then
    /// stores it and puts its event in `out`.
    pub(super) async fn signal_latest(
        &self,
        symbol: &Symbol,
        now_ms: i64,
        out: &mut Outbox<'_>,
    ) -> Result<(), SignalLoopError> {
        if self.0.paused.load(Ordering::Acquire) {
            return Ok(());
        }
        let made = {
            let watched = self.read();
            let w = watched
                .get(symbol)
                .expect("every configured symbol is watched");
            let Some(last) = w.candles.last_open() else {
                return Ok(());
            };
            if w.last_signalled.is_some_and(|t| t >= last) {
                return Ok(());
            }
            if w.candles.len() <= WARMUP {
                // After a gap: not enough candles for a feature row yet.
                return Ok(());
            }
            score(symbol, w, self.0.config.interval)?
        };
        let (signal, features) = made;
        let row = stored_signal(symbol, self.0.config.interval, &signal, &features, now_ms)?;
        let fresh = self.0.store.record_signal(&row).await?;
        {
            let mut watched = self.write();
            let w = watched
                .get_mut(symbol)
                .expect("every configured symbol is watched");
            w.last_signalled = Some(w.last_signalled.map_or(signal.time, |t| t.max(signal.time)));
            if fresh {
                w.signals.push_back(signal.clone());
                if w.signals.len() > KEEP_SIGNALS {
                    w.signals.pop_front();
                }
            }
        }
        if fresh {
            out.push(AppEvent::Signal {
                symbol: symbol.to_string(),
                direction: signal.direction.into(),
                probability: signal.probability,
                time_ms: signal.time.timestamp_millis(),
                strong: strong(&signal, self.0.config.strong_threshold),
                record: Some(Box::new(signal.record.clone())),
            });
        }
        Ok(())
    }
}

/// Scores the newest candle from a bounded window of the history.
fn score(
    symbol: &Symbol,
    w: &Watched,
    interval: Interval,
) -> Result<(Signal, [f64; perpdesk_signal::N_FEATURES]), SignalLoopError> {
    let model_err = |what| {
        move |source| SignalLoopError::Model {
            symbol: symbol.to_string(),
            what,
            source,
        }
    };
    let window = w.candles.newest(FEATURE_WINDOW);
    let x = Ohlcv::from_candles(&window, interval).map_err(model_err("candles"))?;
    let features = compute_features_with_funding(&x, &w.funding).map_err(model_err("features"))?;
    let signal = make_signal_with_record(
        symbol.as_str(),
        &x,
        &features,
        &w.model,
        &w.model_version,
        &w.record,
        w.card.backtest_config,
    )
    .map_err(model_err("signal"))?;
    let values = features
        .rows
        .last()
        .map(|r| r.values)
        .expect("make_signal succeeded, so the last candle has a feature row");
    Ok((signal, values))
}
