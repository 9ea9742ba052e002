//! `exchange_accounts`: the Binance accounts perpdesk trades on, with sealed secrets.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::value::{from_json, json, ms, time};
use crate::{Result, Store, StoreError};

/// Where an account's orders go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// The local simulator; no exchange is involved.
    Paper,
    /// Binance's futures testnet.
    Testnet,
    /// Real money.
    Live,
}

impl Environment {
    fn as_str(self) -> &'static str {
        match self {
            Environment::Paper => "paper",
            Environment::Testnet => "testnet",
            Environment::Live => "live",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "paper" => Ok(Environment::Paper),
            "testnet" => Ok(Environment::Testnet),
            "live" => Ok(Environment::Live),
            other => Err(StoreError::invalid(format!("environment {other:?}"))),
        }
    }
}

/// An account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub name: String,
    pub environment: Environment,
    /// The public API key id.
    pub api_key_id: String,
    /// The secret as sealed by perpdesk-vault; the store never sees the plaintext.
    pub secret_sealed: String,
}

/// What a sealed value is, so the caller names the associated data it was sealed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    /// An account's API secret (`account_id` is the account's).
    ApiSecret,
    /// The profile's statement signing key (`account_id` is 0: it belongs to no account).
    StatementKey,
}

/// A sealed secret as stored, for re-sealing under a new master password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub account_id: i64,
    pub kind: SealedKind,
    /// The ciphertext as perpdesk-vault encoded it.
    pub sealed: String,
    /// For an API secret, the row's key id and environment, which its associated data names
    /// too; `None` for the statement signing key.
    pub binding: Option<(String, Environment)>,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub environment: Environment,
    pub api_key_id: String,
    pub secret_sealed: String,
    /// The key's permissions as last read from the exchange, when they were checked.
    pub permissions: Option<serde_json::Value>,
    pub permissions_checked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, environment, api_key_id, secret_sealed, permissions_json, \
                       permissions_checked_at, created_at";

fn account(row: &SqliteRow) -> Result<Account> {
    let permissions: Option<String> = row.try_get("permissions_json")?;
    let checked: Option<i64> = row.try_get("permissions_checked_at")?;
    Ok(Account {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        environment: Environment::parse(row.try_get("environment")?)?,
        api_key_id: row.try_get("api_key_id")?,
        secret_sealed: row.try_get("secret_sealed")?,
        permissions: permissions.as_deref().map(from_json).transpose()?,
        permissions_checked_at: checked.map(time).transpose()?,
        created_at: time(row.try_get("created_at")?)?,
    })
}

impl Store {
    /// Adds an account and returns its id.
    ///
    /// # Errors
    /// Returns [`StoreError::Conflict`] when the name is taken, [`StoreError::Sqlx`] otherwise.
    pub async fn create_account(&self, new: &NewAccount, at: DateTime<Utc>) -> Result<i64> {
        let done = sqlx::query(
            "INSERT INTO exchange_accounts (name, environment, api_key_id, secret_sealed, created_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&new.name)
        .bind(new.environment.as_str())
        .bind(&new.api_key_id)
        .bind(&new.secret_sealed)
        .bind(ms(at))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "an account named {:?} exists",
                new.name
            )));
        }
        Ok(done.last_insert_rowid())
    }

    /// Returns one account, if it exists.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn account(&self, id: i64) -> Result<Option<Account>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM exchange_accounts WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account).transpose()
    }

    /// Returns every account, oldest first.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`] or [`StoreError::InvalidData`] for an unreadable row.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM exchange_accounts ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(account)
        .collect()
    }

    /// Records the key's permissions as just read from the exchange.
    ///
    /// # Errors
    /// Returns [`StoreError::InvalidData`] for an unknown account, [`StoreError::Sqlx`] otherwise.
    pub async fn set_permissions(
        &self,
        id: i64,
        permissions: &serde_json::Value,
        checked_at: DateTime<Utc>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE exchange_accounts SET permissions_json = ?, permissions_checked_at = ? WHERE id = ?",
        )
        .bind(json(permissions)?)
        .bind(ms(checked_at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::invalid(format!("no account {id}")));
        }
        Ok(())
    }

    /// Replaces the sealed secret, e.g. after the user re-keys the vault.
    ///
    /// # Errors
    /// Returns [`StoreError::InvalidData`] for an unknown account, [`StoreError::Sqlx`] otherwise.
    pub async fn set_sealed_secret(&self, id: i64, secret_sealed: &str) -> Result<()> {
        let done = sqlx::query("UPDATE exchange_accounts SET secret_sealed = ? WHERE id = ?")
            .bind(secret_sealed)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::invalid(format!("no account {id}")));
        }
        Ok(())
    }

    /// Every sealed secret: each account's, by id, archived accounts included (their rows
    /// stay, and must stay readable under the current master password), then the statement
    /// signing key's, if one was made.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`].
    pub async fn sealed_secrets(&self) -> Result<Vec<SealedSecret>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, secret_sealed, api_key_id, environment FROM exchange_accounts
             WHERE secret_sealed != '' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let rows = rows
            .into_iter()
            .map(|(account_id, sealed, key_id, environment)| {
                Ok(SealedSecret {
                    account_id,
                    kind: SealedKind::ApiSecret,
                    sealed,
                    binding: Some((key_id, Environment::parse(&environment)?)),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let key: Option<(String,)> =
            sqlx::query_as("SELECT sealed FROM statement_signing_key WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .chain(key.map(|(sealed,)| SealedSecret {
                account_id: 0,
                kind: SealedKind::StatementKey,
                sealed,
                binding: None,
            }))
            .collect())
    }

    /// Replaces the vault header stored as the setting `header_key` and every sealed secret,
    /// in one transaction: afterwards either everything is under the new master password or
    /// nothing changed. Each value is compared before it is replaced: the setting must still
    /// hold `old_header`, each row its `old` value, and no other sealed secret may exist
    /// (another account's, or a statement signing key left out); otherwise nothing is
    /// written. `header_key` names the setting because the
    /// header is the app's (the store only keeps it).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when anything changed since it was read (the caller reads
    /// again and retries); [`StoreError::Sqlx`] when SQLite refuses (rolled back).
    pub async fn replace_sealed_secrets(
        &self,
        header_key: &str,
        old_header: &str,
        new_header: &str,
        secrets: &[(SealedSecret, String)],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let conflict = |what: String| {
            StoreError::Conflict(format!(
                "{what} changed while the master password was being changed; nothing was \
                 written, try again"
            ))
        };
        let mut tx = self.write_tx().await?;
        // A write first, so the transaction holds SQLite's write lock from its first statement.
        let done = sqlx::query(
            "UPDATE settings SET value = ?, updated_at = ? WHERE key = ? AND value = ?",
        )
        .bind(json(new_header)?)
        .bind(ms(at))
        .bind(header_key)
        .bind(json(old_header)?)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(conflict("the vault header".into()));
        }
        for (old, new) in secrets {
            let done = match old.kind {
                SealedKind::ApiSecret => sqlx::query(
                    "UPDATE exchange_accounts SET secret_sealed = ? WHERE id = ? AND secret_sealed = ?",
                )
                .bind(new)
                .bind(old.account_id),
                SealedKind::StatementKey => sqlx::query(
                    "UPDATE statement_signing_key SET sealed = ? WHERE id = 1 AND sealed = ?",
                )
                .bind(new),
            }
            .bind(&old.sealed)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(conflict(match old.kind {
                    SealedKind::ApiSecret => format!("the secret of account {}", old.account_id),
                    SealedKind::StatementKey => "the statement signing key".into(),
                }));
            }
        }
        let sealed: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM exchange_accounts WHERE secret_sealed != '')
                  + (SELECT COUNT(*) FROM statement_signing_key)",
        )
        .fetch_one(&mut *tx)
        .await?;
        if usize::try_from(sealed).ok() != Some(secrets.len()) {
            return Err(conflict("the set of accounts".into()));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the sealed API secret of account `id` with `new` only if the row still holds
    /// `old`: a re-seal in one row that cannot overwrite a change made since it was read.
    /// Returns whether it replaced.
    ///
    /// # Errors
    /// Returns [`StoreError::Sqlx`].
    pub async fn replace_sealed_secret(&self, id: i64, old: &str, new: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE exchange_accounts SET secret_sealed = ? WHERE id = ? AND secret_sealed = ?",
        )
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds an account whose secret is sealed with the account's own id as associated data,
    /// all in one transaction: `seal` gets the new id and returns the sealed secret; if it
    /// fails, nothing is written.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the name is taken; `seal`'s error as
    /// [`StoreError::InvalidData`]; [`StoreError::Sqlx`] otherwise.
    pub async fn create_account_sealed<E: std::fmt::Display>(
        &self,
        name: &str,
        environment: Environment,
        api_key_id: &str,
        at: DateTime<Utc>,
        seal: impl FnOnce(i64) -> std::result::Result<String, E>,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM exchange_accounts WHERE name = ?")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "an account named {name:?} exists"
            )));
        }
        let id = sqlx::query(
            "INSERT INTO exchange_accounts (name, environment, api_key_id, secret_sealed, created_at)
             VALUES (?, ?, ?, '', ?)",
        )
        .bind(name)
        .bind(environment.as_str())
        .bind(api_key_id)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        let sealed = seal(id).map_err(|e| StoreError::invalid(format!("sealing: {e}")))?;
        sqlx::query("UPDATE exchange_accounts SET secret_sealed = ? WHERE id = ?")
            .bind(sealed)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renames an account and optionally replaces its key, in one statement.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the name is taken, [`StoreError::InvalidData`] for an
    /// unknown account.
    pub async fn update_account(
        &self,
        id: i64,
        name: &str,
        key: Option<(&str, &str)>,
    ) -> Result<()> {
        let clash: Option<i64> =
            sqlx::query_scalar("SELECT id FROM exchange_accounts WHERE name = ? AND id != ?")
                .bind(name)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        if clash.is_some() {
            return Err(StoreError::Conflict(format!(
                "an account named {name:?} exists"
            )));
        }
        let done = match key {
            Some((api_key_id, sealed)) => sqlx::query(
                "UPDATE exchange_accounts SET name = ?, api_key_id = ?, secret_sealed = ?,
                     permissions_json = NULL, permissions_checked_at = NULL WHERE id = ?",
            )
            .bind(name)
            .bind(api_key_id)
            .bind(sealed)
            .bind(id),
            None => sqlx::query("UPDATE exchange_accounts SET name = ? WHERE id = ?")
                .bind(name)
                .bind(id),
        }
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::invalid(format!("no account {id}")));
        }
        Ok(())
    }

    /// Hides an account from the app; its records stay (the ledger is append-only).
    ///
    /// # Errors
    /// [`StoreError::InvalidData`] for an unknown account.
    pub async fn archive_account(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE exchange_accounts SET archived_at = ? WHERE id = ? AND archived_at IS NULL",
        )
        .bind(ms(at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::invalid(format!("no account {id}")));
        }
        Ok(())
    }

    /// Returns the accounts that are not archived, oldest first.
    ///
    /// # Errors
    /// As [`Store::accounts`].
    pub async fn live_accounts(&self) -> Result<Vec<Account>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM exchange_accounts WHERE archived_at IS NULL ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(account)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[tokio::test]
    async fn accounts_keep_sealed_secrets_and_permissions() {
        let store = Store::open_in_memory().await.expect("store");
        let t = |ms| Utc.timestamp_millis_opt(ms).single().expect("time");
        let new = NewAccount {
            name: "testnet".into(),
            environment: Environment::Testnet,
            api_key_id: "abc".into(),
            secret_sealed: "v1:nonce:ct".into(),
        };
        let id = store.create_account(&new, t(1)).await.expect("create");
        assert!(matches!(
            store.create_account(&new, t(2)).await,
            Err(StoreError::Conflict(_))
        ));
        let perms = serde_json::json!({"enableFutures": true, "enableWithdrawals": false});
        store
            .set_permissions(id, &perms, t(3))
            .await
            .expect("perms");
        store
            .set_sealed_secret(id, "v2:nonce:ct")
            .await
            .expect("rekey");
        let a = store.account(id).await.expect("get").expect("exists");
        assert_eq!(a.environment, Environment::Testnet);
        assert_eq!(a.secret_sealed, "v2:nonce:ct");
        assert_eq!(a.permissions, Some(perms));
        assert_eq!(a.permissions_checked_at, Some(t(3)));
        assert_eq!(store.accounts().await.expect("all").len(), 1);
        assert!(store.set_sealed_secret(id + 1, "x").await.is_err());
        // The environment CHECK refuses anything but the three known names.
        let bad = sqlx::query(
            "INSERT INTO exchange_accounts (name, environment, api_key_id, secret_sealed, created_at)
             VALUES ('x', 'prod', 'k', 's', 0)",
        )
        .execute(&store.pool)
        .await;
        assert!(bad.is_err());
    }

    #[tokio::test]
    async fn sealed_creation_is_all_or_nothing_and_archiving_hides() {
        let store = Store::open_in_memory().await.expect("store");
        let t = |ms| Utc.timestamp_millis_opt(ms).single().expect("time");
        let failed = store
            .create_account_sealed("a", Environment::Paper, "k", t(1), |_| {
                Err::<String, _>("no key")
            })
            .await;
        assert!(failed.is_err());
        assert!(store.accounts().await.expect("all").is_empty());
        let id = store
            .create_account_sealed("a", Environment::Paper, "k", t(1), |id| {
                Ok::<_, String>(format!("sealed-for-{id}"))
            })
            .await
            .expect("create");
        let a = store.account(id).await.expect("get").expect("exists");
        assert_eq!(a.secret_sealed, format!("sealed-for-{id}"));
        assert!(matches!(
            store
                .create_account_sealed("a", Environment::Paper, "k", t(1), |_| Ok::<_, String>(
                    String::new()
                ))
                .await,
            Err(StoreError::Conflict(_))
        ));
        store
            .update_account(id, "b", Some(("k2", "s2")))
            .await
            .expect("update");
        let a = store.account(id).await.expect("get").expect("exists");
        assert_eq!((a.name.as_str(), a.api_key_id.as_str()), ("b", "k2"));
        store.archive_account(id, t(2)).await.expect("archive");
        assert!(store.live_accounts().await.expect("live").is_empty());
        assert_eq!(store.accounts().await.expect("all").len(), 1);
        assert!(store.archive_account(id, t(3)).await.is_err());
    }

    async fn two_sealed(store: &Store) -> Vec<SealedSecret> {
        let t = Utc.timestamp_millis_opt(1).single().expect("time");
        for name in ["a", "b"] {
            store
                .create_account_sealed(name, Environment::Paper, "k", t, |id| {
                    Ok::<_, String>(format!("old-{id}"))
                })
                .await
                .expect("create");
        }
        store
            .put_setting("vault.header", "H1", t)
            .await
            .expect("header");
        store.sealed_secrets().await.expect("sealed")
    }

    fn renewed(old: &[SealedSecret]) -> Vec<(SealedSecret, String)> {
        old.iter()
            .map(|s| (s.clone(), format!("new-{}", s.account_id)))
            .collect()
    }

    async fn unchanged(store: &Store, old: &[SealedSecret]) {
        assert_eq!(&store.sealed_secrets().await.expect("sealed"), old);
        assert_eq!(
            store.setting::<String>("vault.header").await.expect("get"),
            Some("H1".into())
        );
    }

    #[tokio::test]
    async fn replacing_sealed_secrets_writes_header_and_every_row() {
        let store = Store::open_in_memory().await.expect("store");
        let old = two_sealed(&store).await;
        assert_eq!(old.len(), 2);
        // Archived accounts keep their secret and are re-sealed too.
        let t = Utc.timestamp_millis_opt(2).single().expect("time");
        store
            .archive_account(old[1].account_id, t)
            .await
            .expect("archive");
        store
            .replace_sealed_secrets("vault.header", "H1", "H2", &renewed(&old), t)
            .await
            .expect("replace");
        let now = store.sealed_secrets().await.expect("sealed");
        assert!(
            now.iter()
                .all(|s| s.sealed == format!("new-{}", s.account_id))
        );
        assert_eq!(
            store.setting::<String>("vault.header").await.expect("get"),
            Some("H2".into())
        );
    }

    #[tokio::test]
    async fn sealed_secrets_name_each_rows_key_id_and_environment() {
        let store = Store::open_in_memory().await.expect("store");
        let old = two_sealed(&store).await;
        assert!(
            old.iter()
                .all(|s| s.binding == Some(("k".into(), Environment::Paper)))
        );
    }

    #[tokio::test]
    async fn replacing_one_sealed_secret_only_swaps_the_value_it_was_read_with() {
        let store = Store::open_in_memory().await.expect("store");
        let old = two_sealed(&store).await;
        let (a, b) = (&old[0], &old[1]);
        assert!(
            !store
                .replace_sealed_secret(a.account_id, "stale", "new")
                .await
                .expect("compare")
        );
        unchanged(&store, &old).await;
        assert!(
            store
                .replace_sealed_secret(a.account_id, &a.sealed, "new")
                .await
                .expect("swap")
        );
        // Done once: the same swap again finds the new value and writes nothing.
        assert!(
            !store
                .replace_sealed_secret(a.account_id, &a.sealed, "newer")
                .await
                .expect("again")
        );
        let now = store.sealed_secrets().await.expect("sealed");
        assert_eq!((now[0].sealed.as_str(), &now[1]), ("new", b));
    }

    #[tokio::test]
    async fn a_failure_half_way_through_changes_nothing() {
        let store = Store::open_in_memory().await.expect("store");
        let old = two_sealed(&store).await;
        // SQLite itself refuses the second row's update: the first row and the header were
        // already written inside the transaction and must be rolled back.
        sqlx::query(&format!(
            "CREATE TEMP TRIGGER fail_second BEFORE UPDATE OF secret_sealed ON exchange_accounts
             WHEN NEW.id = {} BEGIN SELECT RAISE(ABORT, 'injected write failure'); END",
            old[1].account_id
        ))
        .execute(&store.pool)
        .await
        .expect("trigger");
        let t = Utc.timestamp_millis_opt(2).single().expect("time");
        let err = store
            .replace_sealed_secrets("vault.header", "H1", "H2", &renewed(&old), t)
            .await
            .expect_err("injected");
        assert!(err.to_string().contains("injected"), "{err}");
        unchanged(&store, &old).await;
    }

    #[tokio::test]
    async fn anything_changed_since_reading_is_a_conflict_and_nothing_is_written() {
        let store = Store::open_in_memory().await.expect("store");
        let old = two_sealed(&store).await;
        let t = Utc.timestamp_millis_opt(2).single().expect("time");
        // Another header than the one the secrets were re-sealed from.
        assert!(matches!(
            store
                .replace_sealed_secrets("vault.header", "H0", "H2", &renewed(&old), t)
                .await,
            Err(StoreError::Conflict(_))
        ));
        unchanged(&store, &old).await;
        // A row left out (e.g. an account added meanwhile).
        assert!(matches!(
            store
                .replace_sealed_secrets("vault.header", "H1", "H2", &renewed(&old[..1]), t)
                .await,
            Err(StoreError::Conflict(_))
        ));
        unchanged(&store, &old).await;
        // A row whose secret was replaced since it was read.
        let mut stale = renewed(&old);
        stale[1].0.sealed = "older".into();
        assert!(matches!(
            store
                .replace_sealed_secrets("vault.header", "H1", "H2", &stale, t)
                .await,
            Err(StoreError::Conflict(_))
        ));
        unchanged(&store, &old).await;
    }
}
