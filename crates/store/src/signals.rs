//! `signals`: model outputs per closed candle, one per model version.

use chrono::{DateTime, Utc};
use perpdesk_core::{Interval, Symbol};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::value::{from_json, json, ms, symbol, time};
use crate::{Result, Store, StoreError};

/// Which way a signal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Long,
    Short,
    Flat,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Long => "long",
            Direction::Short => "short",
            Direction::Flat => "flat",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "long" => Ok(Direction::Long),
            "short" => Ok(Direction::Short),
            "flat" => Ok(Direction::Flat),
            other => Err(StoreError::invalid(format!("direction {other:?}"))),
        }
    }
}

/// One model output for one candle.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub symbol: Symbol,
    pub interval: Interval,
    pub candle_open_time: DateTime<Utc>,
    pub model_version: String,
    pub direction: Direction,
    /// The model's confidence in `direction`, in [0, 1]; not money, so a float.
    pub probability: f64,
    pub features: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

fn signal(row: &SqliteRow) -> Result<Signal> {
    let interval: &str = row.try_get("interval")?;
    let features: Option<&str> = row.try_get("features")?;
    Ok(Signal {
        symbol: symbol(row.try_get("symbol")?)?,
        interval: Interval::parse(interval)
            .ok_or_else(|| StoreError::invalid(format!("interval {interval:?}")))?,
        candle_open_time: time(row.try_get("candle_open_time")?)?,
        model_version: row.try_get("model_version")?,
        direction: Direction::parse(row.try_get("direction")?)?,
        probability: row.try_get("probability")?,
        features: features.map(from_json).transpose()?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

impl Store {
    /// Records a signal; returns false when this model version already signalled this
    /// candle (the stored signal is kept, so a recomputation cannot rewrite history).
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] when SQLite refuses (a probability outside [0, 1]).
    pub async fn record_signal(&self, s: &Signal) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO signals (symbol, interval, candle_open_time, model_version, direction,
                 probability, features, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (symbol, interval, candle_open_time, model_version) DO NOTHING",
        )
        .bind(s.symbol.as_str())
        .bind(s.interval.as_str())
        .bind(ms(s.candle_open_time))
        .bind(&s.model_version)
        .bind(s.direction.as_str())
        .bind(s.probability)
        .bind(s.features.as_ref().map(json).transpose()?)
        .bind(ms(s.created_at))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Returns signals of one symbol and interval for candles opening in
    /// `from_ms <= open < to_ms`, oldest first.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn signals(
        &self,
        symbol: &Symbol,
        interval: Interval,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Signal>> {
        sqlx::query(
            "SELECT * FROM signals
             WHERE symbol = ? AND interval = ? AND candle_open_time >= ? AND candle_open_time < ?
             ORDER BY candle_open_time, model_version",
        )
        .bind(symbol.as_str())
        .bind(interval.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(signal)
        .collect()
    }

    /// Returns the `limit` most recent signals of one symbol and interval (by candle open
    /// time, every model version), oldest first: what a restarted signal loop needs to know
    /// which candles it already signalled, without reading the whole history.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn latest_signals(
        &self,
        symbol: &Symbol,
        interval: Interval,
        limit: u32,
    ) -> Result<Vec<Signal>> {
        let mut rows = sqlx::query(
            "SELECT * FROM signals
             WHERE symbol = ? AND interval = ?
             ORDER BY candle_open_time DESC, model_version DESC
             LIMIT ?",
        )
        .bind(symbol.as_str())
        .bind(interval.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(signal)
        .collect::<Result<Vec<_>>>()?;
        rows.reverse();
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn signal(version: &str, probability: f64) -> Signal {
        Signal {
            symbol: Symbol::new("ETHUSDT").expect("symbol"),
            interval: Interval::H1,
            candle_open_time: Utc.timestamp_millis_opt(3_600_000).single().expect("time"),
            model_version: version.to_owned(),
            direction: Direction::Long,
            probability,
            features: Some(serde_json::json!({"rsi": 61.5})),
            created_at: Utc.timestamp_millis_opt(7_200_000).single().expect("time"),
        }
    }

    #[tokio::test]
    async fn one_signal_per_candle_and_model_version() {
        let store = Store::open_in_memory().await.expect("store");
        assert!(
            store
                .record_signal(&signal("v1", 0.62))
                .await
                .expect("first")
        );
        assert!(
            !store
                .record_signal(&signal("v1", 0.99))
                .await
                .expect("again")
        );
        assert!(store.record_signal(&signal("v2", 0.55)).await.expect("v2"));
        assert!(store.record_signal(&signal("v3", 1.5)).await.is_err());
        let eth = Symbol::new("ETHUSDT").expect("symbol");
        let stored = store
            .signals(&eth, Interval::H1, 0, i64::MAX)
            .await
            .expect("signals");
        assert_eq!(stored, vec![signal("v1", 0.62), signal("v2", 0.55)]);
    }

    #[tokio::test]
    async fn latest_signals_are_the_newest_candles_oldest_first() {
        let store = Store::open_in_memory().await.expect("store");
        let at = |h: i64| {
            Utc.timestamp_millis_opt(h * 3_600_000)
                .single()
                .expect("time")
        };
        for h in 1..=5 {
            let s = Signal {
                candle_open_time: at(h),
                ..signal("v1", 0.6)
            };
            assert!(store.record_signal(&s).await.expect("record"));
        }
        let other = Signal {
            symbol: Symbol::new("BTCUSDT").expect("symbol"),
            candle_open_time: at(9),
            ..signal("v1", 0.6)
        };
        assert!(store.record_signal(&other).await.expect("record"));
        let eth = Symbol::new("ETHUSDT").expect("symbol");
        let latest = store
            .latest_signals(&eth, Interval::H1, 2)
            .await
            .expect("latest");
        let times: Vec<_> = latest.iter().map(|s| s.candle_open_time).collect();
        assert_eq!(times, vec![at(4), at(5)]);
        assert!(
            store
                .latest_signals(&eth, Interval::H4, 2)
                .await
                .expect("latest")
                .is_empty()
        );
    }
}
