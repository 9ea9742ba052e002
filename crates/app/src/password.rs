//! Changing the master password.
//!
//! Every sealed secret (each account's API secret, archived accounts included) is opened
//! under the old key and sealed again under a key derived from the new password, and the
//! new vault header and all the rows are written in one SQLite transaction that first checks
//! nothing changed since it was read. The vault switches to the new key only after that
//! commit, so on any failure (a wrong or weak password, a secret that does not open, a
//! refused write) the old password still opens everything and no row changed. Cached
//! sessions stay: the API secrets themselves are unchanged, so trading carries on.
//!
//! Backups are sealed with the key of their day; the salt of every replaced header is kept
//! (`vault.previous_salts`, not secret: a salt alone verifies no guess) so that
//! [`Engine::import_backup_with_current`] still recognises a backup made before the change
//! as this vault's: it opens with the password it was made under plus the current one, and
//! is re-sealed under the current one.

use perpdesk_store::SealedSecret;
use perpdesk_vault::{KeyBinding, Sealed, SecretString, VaultError, VaultHeader};

use crate::engine::{SECRET_PURPOSE, VAULT_HEADER};
use crate::{AppError, Engine, VaultStatus};

/// The salts of this vault's earlier headers, oldest first.
pub(crate) const PREVIOUS_SALTS: &str = "vault.previous_salts";

impl Engine {
    /// Changes the master password: checks the current one (throttled like unlocking) and the
    /// new one's strength, re-tunes Argon2id to the engine's [`perpdesk_vault::KdfTarget`]
    /// on this machine (never lowering a cost), re-seals every stored secret and writes them
    /// with the new header in one transaction. The vault stays unlocked, under the new key.
    /// All or nothing.
    ///
    /// # Errors
    /// [`AppError::WrongPassword`] for the current password; [`AppError::InvalidInput`]
    /// (field `newPassword`) for a weak or unchanged new one; [`AppError::Locked`],
    /// [`AppError::NotInitialized`]; [`AppError::Conflict`] when a stored secret cannot be
    /// opened (named) or something changed meanwhile. Nothing changes on any error.
    pub async fn change_master_password(
        &self,
        current: SecretString,
        new: SecretString,
    ) -> Result<VaultStatus, AppError> {
        // The cheap checks first, so a typo in the new password costs no throttle step.
        perpdesk_vault::check_password_strength(new.expose())
            .map_err(|w| AppError::invalid("newPassword", w.to_string()))?;
        if current.expose() == new.expose() {
            return Err(AppError::invalid(
                "newPassword",
                "it is the same as the current password",
            ));
        }
        let vault = self.vault()?;
        let stored = self
            .store
            .setting::<String>(VAULT_HEADER)
            .await?
            .ok_or(AppError::NotInitialized)?;
        let header = VaultHeader::from_json(&stored)
            .map_err(|e| AppError::Internal(format!("vault header: {e}")))?;
        if header != vault.header() {
            return Err(AppError::Conflict(
                "the stored vault changed since it was unlocked; lock and unlock, then try again"
                    .into(),
            ));
        }
        // A row the unlock could not bind yet is bound first, so every API secret is
        // re-sealed in the bound format.
        self.rebind_legacy_secrets().await?;
        let rows = self.store.sealed_secrets().await?;
        let sealed = self.openable(&vault, &rows).await?;
        self.remember_salt(&header).await?;

        let changing = vault.clone();
        let target = self.kdf_target;
        let named = rows.clone();
        let change = self
            .throttled(move || {
                let items = named.iter().map(crate::statements::sealed_aad).zip(sealed);
                changing.begin_password_change_retuned(&current, &new, items, &target)
            })
            .await?
            .map_err(|e| match e {
                VaultError::WrongPassword => AppError::WrongPassword,
                VaultError::WeakPassword(w) => AppError::invalid("newPassword", w.to_string()),
                VaultError::Busy => AppError::Conflict(e.to_string()),
                other => AppError::Internal(format!("changing the master password: {other}")),
            })?;
        let new_header = change
            .header()
            .to_json()
            .map_err(|e| AppError::Internal(format!("vault header: {e}")))?;
        let count = rows.len();
        let pairs: Vec<(SealedSecret, String)> = rows
            .into_iter()
            .zip(change.resealed().iter().map(Sealed::encode))
            .collect();
        // Dropping `change` on this error path wipes the new key; the vault keeps the old one.
        self.store
            .replace_sealed_secrets(VAULT_HEADER, &stored, &new_header, &pairs, self.now(None))
            .await?;
        change.commit();
        tracing::info!(secrets = count, "master password changed");
        self.audit(
            "user",
            "vault.password_changed",
            serde_json::json!({ "secrets_resealed": count }),
        )
        .await;
        self.vault_status().await
    }

    /// The rows' ciphertexts, after checking each opens under the current key: a damaged
    /// row is named to the user, where the re-seal itself could only say that one failed.
    async fn openable(
        &self,
        vault: &perpdesk_vault::Vault,
        rows: &[SealedSecret],
    ) -> Result<Vec<Sealed>, AppError> {
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let aad = crate::statements::sealed_aad(row);
            let opened = Sealed::decode(&row.sealed)
                .ok()
                .filter(|sealed| vault.open_secret(aad, sealed).is_ok());
            let Some(sealed) = opened else {
                if row.kind == perpdesk_store::SealedKind::StatementKey {
                    return Err(AppError::Conflict(
                        "the stored statement signing key cannot be opened with the current \
                         password (it is damaged or was copied from elsewhere); nothing was \
                         changed"
                            .into(),
                    ));
                }
                let name = self
                    .store
                    .account(row.account_id)
                    .await?
                    .map_or_else(|| format!("#{}", row.account_id), |a| a.name);
                return Err(AppError::Conflict(format!(
                    "the stored secret of account {name:?} cannot be opened with the current \
                     password (it is damaged or was copied from elsewhere); nothing was changed. \
                     Replace that account's key, then change the password"
                )));
            };
            items.push(sealed);
        }
        Ok(items)
    }

    /// Moves every API secret still sealed in the first format (associated data without its
    /// key id and environment) to the bound one, each row with a compare-and-swap on the
    /// value it was read with. Idempotent: a bound row does not open in the first format and
    /// is skipped; a row that opens in neither (damaged) or changed meanwhile is left as it
    /// is. Returns how many rows were moved.
    ///
    /// # Errors
    /// [`AppError::Locked`]; store errors. Rows moved before an error stay moved (each is
    /// complete on its own).
    pub(crate) async fn rebind_legacy_secrets(&self) -> Result<usize, AppError> {
        let vault = self.vault()?;
        let mut moved = 0;
        for row in self.store.sealed_secrets().await? {
            let Some((key_id, environment)) = &row.binding else {
                continue;
            };
            let Ok(sealed) = Sealed::decode(&row.sealed) else {
                continue;
            };
            let binding = KeyBinding {
                key_id,
                environment: crate::engine::environment_text(*environment),
            };
            let bound = match vault.bind_legacy(row.account_id, SECRET_PURPOSE, binding, &sealed) {
                Ok(bound) => bound,
                // Already bound, or damaged: opening names the account when it is used.
                Err(VaultError::Tampered) => continue,
                Err(e) => {
                    return Err(AppError::Internal(format!(
                        "binding the secret of account {}: {e}",
                        row.account_id
                    )));
                }
            };
            if self
                .store
                .replace_sealed_secret(row.account_id, &row.sealed, &bound.encode())
                .await?
            {
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Adds the current header's salt to [`PREVIOUS_SALTS`]. Written before the change: if
    /// the change then fails, the list names the current vault, which is harmless.
    async fn remember_salt(&self, header: &VaultHeader) -> Result<(), AppError> {
        let mut salts = self
            .store
            .setting::<Vec<String>>(PREVIOUS_SALTS)
            .await?
            .unwrap_or_default();
        if !salts.contains(&header.salt) {
            salts.push(header.salt.clone());
            self.store
                .put_setting(PREVIOUS_SALTS, &salts, self.now(None))
                .await?;
        }
        Ok(())
    }
}
