//! `settings`: small key/value preferences stored as JSON.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::value::{from_json, json, ms};
use crate::{Result, Store};

impl Store {
    /// Returns the setting under `key`, if any.
    ///
    /// # Errors
    /// Returns [`StoreError::InvalidData`](crate::StoreError::InvalidData) when the stored
    /// JSON does not fit `T`, [`StoreError::Sqlx`](crate::StoreError::Sqlx) otherwise.
    pub async fn setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(v,)| from_json(&v)).transpose()
    }

    /// Stores `value` under `key`, replacing what was there.
    ///
    /// # Errors
    /// Returns [`StoreError::InvalidData`](crate::StoreError::InvalidData) when `value`
    /// cannot be serialised, [`StoreError::Sqlx`](crate::StoreError::Sqlx) otherwise.
    pub async fn put_setting<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(json(value)?)
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes the setting under `key`; returns whether there was one.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`](crate::StoreError::Sqlx) when SQLite refuses.
    pub async fn delete_setting(&self, key: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[tokio::test]
    async fn settings_round_trip_and_replace() {
        let store = Store::open_in_memory().await.expect("store");
        let at = Utc.timestamp_millis_opt(1).single().expect("time");
        assert_eq!(store.setting::<u32>("risk.max").await.expect("get"), None);
        store.put_setting("risk.max", &3u32, at).await.expect("put");
        store.put_setting("risk.max", &5u32, at).await.expect("put");
        assert_eq!(
            store.setting::<u32>("risk.max").await.expect("get"),
            Some(5)
        );
        assert!(store.setting::<String>("risk.max").await.is_err());
        assert!(store.delete_setting("risk.max").await.expect("delete"));
        assert!(!store.delete_setting("risk.max").await.expect("delete"));
    }
}
