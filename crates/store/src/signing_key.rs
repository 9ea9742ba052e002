//! `statement_signing_key`: the one Ed25519 key per profile that signs settlement
//! statements, its private half sealed by the vault and its public half in clear.
//!
//! Written once and never replaced or removed (triggers refuse it): the platform verifies
//! statements with the public half it was given. Only the sealed form is re-written, by
//! [`Store::replace_sealed_secrets`] when the master password changes.

use chrono::{DateTime, Utc};

use crate::value::{ms, time};
use crate::{Result, Store, StoreError};

/// The stored signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// `ed25519:` and 64 hex digits.
    pub public_key: String,
    /// The private half as perpdesk-vault sealed it; the store never sees the plaintext.
    pub sealed: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Returns the profile's statement signing key, if one was made.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable time.
    pub async fn statement_signing_key(&self) -> Result<Option<StoredSigningKey>> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT public_key, sealed, created_at FROM statement_signing_key WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(public_key, sealed, created_at)| {
            Ok(StoredSigningKey {
                public_key,
                sealed,
                created_at: time(created_at)?,
            })
        })
        .transpose()
    }

    /// Stores the profile's statement signing key, once.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a key exists already (two first unlocks raced: the
    /// caller reads the stored one); [`StoreError::Sqlx`] otherwise, for instance for a
    /// public key not in `ed25519:` form or an empty sealed value.
    pub async fn put_statement_signing_key(
        &self,
        public_key: &str,
        sealed: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO statement_signing_key (id, public_key, sealed, created_at)
             VALUES (1, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(public_key)
        .bind(sealed)
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "a statement signing key exists already".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{Environment, SealedKind};

    #[tokio::test]
    async fn the_signing_key_is_stored_once_and_never_replaced_or_removed() {
        let store = Store::open_in_memory().await.expect("store");
        let t = Utc.timestamp_millis_opt(5).single().expect("time");
        assert_eq!(store.statement_signing_key().await.expect("read"), None);
        let public = format!("ed25519:{}", "ab".repeat(32));
        store
            .put_statement_signing_key(&public, "sealed-1", t)
            .await
            .expect("put");
        assert!(matches!(
            store
                .put_statement_signing_key(&format!("ed25519:{}", "cd".repeat(32)), "s", t)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let stored = store
            .statement_signing_key()
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(
            (
                stored.public_key.as_str(),
                stored.sealed.as_str(),
                stored.created_at
            ),
            (public.as_str(), "sealed-1", t)
        );
        for sql in [
            "UPDATE statement_signing_key SET public_key = 'ed25519:00'",
            "DELETE FROM statement_signing_key",
        ] {
            let err = sqlx::query(sql).execute(&store.pool).await.expect_err(sql);
            assert!(err.to_string().contains("never"), "{sql}: {err}");
        }
        assert!(
            sqlx::query("INSERT INTO statement_signing_key VALUES (2, 'ed25519:x', 's', 0)")
                .execute(&store.pool)
                .await
                .is_err(),
            "one key per profile"
        );
    }

    #[tokio::test]
    async fn a_password_change_reseals_the_signing_key_with_the_api_secrets() {
        let store = Store::open_in_memory().await.expect("store");
        let t = Utc.timestamp_millis_opt(1).single().expect("time");
        store
            .create_account_sealed("a", Environment::Paper, "k", t, |id| {
                Ok::<_, String>(format!("old-{id}"))
            })
            .await
            .expect("create");
        store
            .put_setting("vault.header", "H1", t)
            .await
            .expect("header");
        let public = format!("ed25519:{}", "ab".repeat(32));
        store
            .put_statement_signing_key(&public, "old-key", t)
            .await
            .expect("key");
        let old = store.sealed_secrets().await.expect("sealed");
        assert_eq!(
            old.iter().map(|s| s.kind).collect::<Vec<_>>(),
            [SealedKind::ApiSecret, SealedKind::StatementKey]
        );
        // Leaving the key out would leave it sealed under the old password: refused.
        let accounts_only: Vec<_> = old[..1]
            .iter()
            .map(|s| (s.clone(), "new".to_owned()))
            .collect();
        assert!(matches!(
            store
                .replace_sealed_secrets("vault.header", "H1", "H2", &accounts_only, t)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let all: Vec<_> = old
            .iter()
            .map(|s| (s.clone(), format!("new-{:?}", s.kind)))
            .collect();
        store
            .replace_sealed_secrets("vault.header", "H1", "H2", &all, t)
            .await
            .expect("replace");
        let key = store
            .statement_signing_key()
            .await
            .expect("read")
            .expect("key");
        assert_eq!(key.sealed, "new-StatementKey");
        assert_eq!(key.public_key, public);
    }
}
