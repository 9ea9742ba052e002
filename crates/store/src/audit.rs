//! `audit_log`: an append-only record of what the user and the app did.

use chrono::{DateTime, Utc};

use crate::value::{from_json, json, ms, time};
use crate::{Result, Store};

/// One audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who acted: `"user"`, `"app"`, a service name.
    pub actor: String,
    /// What happened, as a stable dotted name (`"account.created"`).
    pub action: String,
    pub details: serde_json::Value,
}

impl Store {
    /// Appends an audit record and returns its id.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`](crate::StoreError::Sqlx) when SQLite refuses.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        details: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let done =
            sqlx::query("INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)")
                .bind(ms(at))
                .bind(actor)
                .bind(action)
                .bind(json(details)?)
                .execute(&self.pool)
                .await?;
        Ok(done.last_insert_rowid())
    }

    /// Returns the newest `limit` audit records, newest first.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`](crate::StoreError::Sqlx) or
    /// [`StoreError::InvalidData`](crate::StoreError::InvalidData) for an unreadable row.
    pub async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, at, actor, action, details FROM audit_log ORDER BY id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, at, actor, action, details)| {
                Ok(AuditEntry {
                    id,
                    at: time(at)?,
                    actor,
                    action,
                    details: from_json(&details)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[tokio::test]
    async fn audit_is_append_only() {
        let store = Store::open_in_memory().await.expect("store");
        let at = Utc.timestamp_millis_opt(5).single().expect("time");
        let id = store
            .audit("user", "account.created", &serde_json::json!({"id": 1}), at)
            .await
            .expect("audit");
        let recent = store.recent_audit(10).await.expect("recent");
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].details["id"], 1);
        for sql in [
            "UPDATE audit_log SET actor = 'x' WHERE id = ?",
            "DELETE FROM audit_log WHERE id = ?",
        ] {
            let err = sqlx::query(sql)
                .bind(id)
                .execute(&store.pool)
                .await
                .expect_err("append-only");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
    }
}
