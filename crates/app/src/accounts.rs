//! Exchange accounts: binding a key, testing it, and the one-click paper account.
//!
//! A key that can withdraw is refused outright: perpdesk only ever needs to trade and read,
//! and a stolen withdraw-enabled key empties an account. Nothing is saved for a refused key.

use std::time::Instant;

use perpdesk_binance::{Client, KeyPermissions};
use perpdesk_store::Environment;
use perpdesk_vault::SecretString;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::engine::{AccountView, positive};
use crate::{AppError, AppEvent, Engine, VaultStatus};

/// The starting balance of the paper account made at first run.
pub const FIRST_PAPER_BALANCE: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// The finding for a key whose permissions say it can withdraw.
const CAN_WITHDRAW: &str =
    "this key can withdraw funds: perpdesk refuses it; make a key without withdrawals";

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

/// One line of a connection test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    pub detail: String,
}

/// The result of "test connection", stored with the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// No check failed: the account may trade.
    pub ok: bool,
    pub checked_at_ms: i64,
    pub checks: Vec<Check>,
    pub position_mode: Option<String>,
    pub multi_assets: Option<bool>,
}

impl ConnectionReport {
    fn push(&mut self, name: &str, status: CheckStatus, detail: impl Into<String>) {
        if status == CheckStatus::Fail {
            self.ok = false;
        }
        self.checks.push(Check {
            name: name.to_owned(),
            status,
            detail: detail.into(),
        });
    }

    /// True when the key may withdraw as far as perpdesk can tell: it can, or its
    /// permissions could not be read (the one finding that refuses a key outright).
    pub fn can_withdraw(&self) -> bool {
        self.withdrawal_finding().is_some()
    }

    fn withdrawal_finding(&self) -> Option<&Check> {
        self.checks
            .iter()
            .find(|c| c.name == "withdrawals_disabled" && c.status == CheckStatus::Fail)
    }

    /// Why a key with this report must not be saved: it may withdraw, or the exchange
    /// refused its signature. `None` for a key that may be saved.
    pub fn refusal(&self) -> Option<AppError> {
        if let Some(finding) = self.withdrawal_finding() {
            let why = if finding.detail == CAN_WITHDRAW {
                "this key can withdraw funds; perpdesk refuses such keys. Create a key with only \
                 reading and futures trading enabled"
                    .to_owned()
            } else {
                finding.detail.clone()
            };
            return Some(AppError::invalid("apiKey", why));
        }
        self.checks
            .iter()
            .find(|c| c.name == "signature" && c.status == CheckStatus::Fail)
            .map(|sig| {
                AppError::invalid(
                    "apiSecret",
                    format!("the exchange refused the key: {}", sig.detail),
                )
            })
    }
}

/// Runs every check against a client. Never fails: each problem is a line of the report.
pub async fn check_connection(client: &Client, now_ms: i64) -> ConnectionReport {
    let mut r = ConnectionReport {
        ok: true,
        checked_at_ms: now_ms,
        checks: Vec::new(),
        position_mode: None,
        multi_assets: None,
    };
    let started = Instant::now();
    if let Err(e) = client.ping().await {
        r.push("reachability", CheckStatus::Fail, e.to_string());
        return r;
    }
    r.push(
        "reachability",
        CheckStatus::Ok,
        format!("answered in {} ms", started.elapsed().as_millis()),
    );
    match client.clock_offset().await {
        Ok(offset) => {
            let offset = offset.num_milliseconds();
            // The client corrects any offset itself; a large one is still worth knowing,
            // since it means this computer's clock is wrong.
            let status = if offset.abs() > 1_000 {
                CheckStatus::Warn
            } else {
                CheckStatus::Ok
            };
            r.push(
                "clock_offset",
                status,
                format!("{offset} ms (perpdesk corrects for it)"),
            );
        }
        Err(e) => r.push("clock_offset", CheckStatus::Warn, e.to_string()),
    }
    match client.available_balance("USDT").await {
        Ok(_) => r.push("signature", CheckStatus::Ok, "signed request accepted"),
        Err(e) => {
            r.push("signature", CheckStatus::Fail, e.to_string());
            return r;
        }
    }
    // Withdrawals are the one permission that can empty an account, so they must be proven
    // off: any failure to read them (spot host blocked, 429/5xx, timeout, an answer that does
    // not parse) refuses the key. Only an environment without a spot API (the demo, whose
    // funds are not real) skips the check, and says so.
    if !client.has_spot_api() {
        r.push(
            "withdrawals_disabled",
            CheckStatus::Warn,
            "not checked: the demo environment has no spot API to read key permissions from; \
             use a key without withdrawals on live",
        );
    } else {
        match client.key_permissions().await {
            Ok(KeyPermissions {
                futures,
                withdrawals,
                ip_restricted,
                ..
            }) => {
                r.push(
                    "futures_permission",
                    if futures {
                        CheckStatus::Ok
                    } else {
                        CheckStatus::Fail
                    },
                    if futures {
                        "futures trading enabled"
                    } else {
                        "enable futures trading for this key"
                    },
                );
                r.push(
                    "withdrawals_disabled",
                    if withdrawals {
                        CheckStatus::Fail
                    } else {
                        CheckStatus::Ok
                    },
                    if withdrawals {
                        CAN_WITHDRAW
                    } else {
                        "withdrawals disabled"
                    },
                );
                r.push(
                    "ip_restriction",
                    if ip_restricted {
                        CheckStatus::Ok
                    } else {
                        CheckStatus::Warn
                    },
                    if ip_restricted {
                        "restricted to trusted IPs"
                    } else {
                        "no IP restriction: anyone holding the key can trade; restrict it to your IP"
                    },
                );
            }
            Err(e) => r.push(
                "withdrawals_disabled",
                CheckStatus::Fail,
                format!(
                    "refused: cannot prove withdrawals are off, because the key's permissions \
                     could not be read ({e})"
                ),
            ),
        }
    }
    match client.hedge_mode().await {
        Ok(hedge) => {
            r.position_mode = Some(if hedge { "hedge" } else { "one_way" }.to_owned());
        }
        Err(e) => r.push("position_mode", CheckStatus::Warn, e.to_string()),
    }
    if let Ok(multi) = client.multi_assets_mode().await {
        r.multi_assets = Some(multi);
    }
    r
}

/// A new testnet or live account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewKey {
    pub name: String,
    pub environment: Environment,
    pub api_key: String,
    /// Wiped when dropped and printed as REDACTED; only the signer and the vault see it.
    pub api_secret: perpdesk_vault::SecretString,
}

fn account_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(AppError::invalid("name", "must be 1 to 40 characters"));
    }
    Ok(name.to_owned())
}

fn key_text(field: &'static str, v: &str) -> Result<(), AppError> {
    if v.len() < 16 || v.len() > 128 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::invalid(
            field,
            "must be 16 to 128 letters and digits, as Binance issues them",
        ));
    }
    Ok(())
}

impl Engine {
    /// First run: the master password, then a funded paper account made active.
    ///
    /// # Errors
    /// As [`Engine::vault_setup`].
    pub async fn first_run(&self, password: SecretString) -> Result<VaultStatus, AppError> {
        let status = self.vault_setup(password).await?;
        if self.paper.is_some() && self.store.live_accounts().await?.is_empty() {
            let account = self
                .create_paper_account("Paper", FIRST_PAPER_BALANCE)
                .await?;
            self.put_active_account(account.id).await?;
        }
        Ok(status)
    }

    /// Unlocks the vault, then makes sure every paper account exists on the paper exchange
    /// and reconciles the active account (orders in flight, missing stops).
    ///
    /// # Errors
    /// As [`Engine::vault_unlock`]; repair failures are logged, not returned, since the
    /// unlock itself succeeded.
    pub async fn unlock(&self, password: SecretString) -> Result<VaultStatus, AppError> {
        let status = self.vault_unlock(password).await?;
        self.audit("user", "vault.unlocked", serde_json::json!({}))
            .await;
        if let Some(paper) = &self.paper {
            for a in self.store.live_accounts().await? {
                if a.environment != Environment::Paper {
                    continue;
                }
                let vault = self.vault()?;
                let opened = perpdesk_vault::Sealed::decode(&a.secret_sealed).and_then(|sealed| {
                    vault.open(
                        crate::engine::secret_aad(a.id, &a.api_key_id, a.environment),
                        &sealed,
                    )
                });
                // A row that does not open (damaged, or its key id changed) must not make a
                // paper account under that key; using the account names the problem.
                let secret = match opened {
                    Ok(secret) => secret,
                    Err(e) => {
                        tracing::warn!(account = a.id, error = %e, "paper account's secret does not open; skipped");
                        continue;
                    }
                };
                if paper.ensure_account(&a.api_key_id, secret.expose(), FIRST_PAPER_BALANCE)? {
                    tracing::warn!(
                        account = a.id,
                        "paper account re-opened with a fresh balance"
                    );
                }
            }
        }
        if let Ok(id) = self.active_account_id().await
            && let Err(e) = self.reconcile(id).await
        {
            tracing::warn!(error = %e, "reconciliation after unlock failed; it will run again");
        }
        Ok(status)
    }

    /// Lists the accounts (never their secrets).
    ///
    /// # Errors
    /// Store errors.
    pub async fn accounts(&self) -> Result<Vec<AccountView>, AppError> {
        let active = self.active_account_id().await.ok();
        Ok(self
            .store
            .live_accounts()
            .await?
            .iter()
            .map(|a| AccountView::of(a, Some(a.id) == active))
            .collect())
    }

    /// Opens an account on the paper exchange with `balance` USDT.
    ///
    /// # Errors
    /// [`AppError::Locked`], [`AppError::InvalidInput`], [`AppError::Conflict`] for a taken
    /// name, [`AppError::NotFound`] when no paper exchange runs.
    pub async fn create_paper_account(
        &self,
        name: &str,
        balance: Decimal,
    ) -> Result<AccountView, AppError> {
        let name = account_name(name)?;
        let balance = positive("balance", balance)?;
        if balance > Decimal::from(100_000_000) {
            return Err(AppError::invalid("balance", "at most 100,000,000 USDT"));
        }
        let paper = self
            .paper
            .as_ref()
            .ok_or_else(|| AppError::NotFound("paper exchange".into()))?;
        // Locked: refuse before the exchange is asked for anything.
        self.vault()?;
        let (key, secret) = paper.open_account(balance)?;
        let id = self
            .store
            .create_account_sealed(&name, Environment::Paper, &key, self.now(None), |id| {
                self.seal_secret(id, &key, Environment::Paper, &secret)
            })
            .await?;
        self.audit(
            "user",
            "account.created",
            serde_json::json!({"id": id, "name": name, "environment": "paper", "balance": balance}),
        )
        .await;
        // The paper key is made here and cannot withdraw; record the check so the UI shows it.
        let session = self.session(id).await?;
        let report =
            check_connection(&session.client, self.now(Some(&session)).timestamp_millis()).await;
        self.save_report(id, &report).await?;
        let a = self
            .store
            .account(id)
            .await?
            .ok_or_else(|| AppError::Internal("account vanished".into()))?;
        let active = self.active_account_id().await.ok() == Some(id);
        Ok(AccountView::of(&a, active))
    }

    /// Binds a testnet or live key. The key is tested first; a key that can withdraw or
    /// whose signature fails is refused and nothing is saved. An unreachable exchange
    /// saves the key unverified: it cannot trade until a test passes.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`], [`AppError::Locked`], [`AppError::Conflict`].
    pub async fn add_account(
        &self,
        new: NewKey,
    ) -> Result<(AccountView, ConnectionReport), AppError> {
        let name = account_name(&new.name)?;
        if new.environment == Environment::Paper {
            return Err(AppError::invalid(
                "environment",
                "paper accounts are created without a key",
            ));
        }
        let (key, secret) = (new.api_key.trim(), new.api_secret.expose().trim());
        key_text("apiKey", key)?;
        key_text("apiSecret", secret)?;
        // Locked: refuse before the key is sent anywhere.
        self.vault()?;
        let report = self.vet_key(new.environment, key, secret).await?;
        let id = self
            .store
            .create_account_sealed(&name, new.environment, key, self.now(None), |id| {
                self.seal_secret(id, key, new.environment, secret)
            })
            .await?;
        self.save_report(id, &report).await?;
        let a = self
            .store
            .account(id)
            .await?
            .ok_or_else(|| AppError::Internal("account vanished".into()))?;
        let view = AccountView::of(&a, false);
        self.audit(
            "user",
            "account.created",
            serde_json::json!({"id": id, "name": view.name, "environment": view.environment, "key": view.key_hint}),
        )
        .await;
        Ok((view, report))
    }

    /// Renames an account and optionally replaces its key (tested like a new one).
    ///
    /// # Errors
    /// As [`Engine::add_account`].
    pub async fn update_account(
        &self,
        id: i64,
        name: &str,
        key: Option<(&str, &str)>,
    ) -> Result<AccountView, AppError> {
        let name = account_name(name)?;
        let account = self
            .store
            .account(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("account {id}")))?;
        match key {
            None => self.store.update_account(id, &name, None).await?,
            Some((k, s)) => {
                if account.environment == Environment::Paper {
                    return Err(AppError::invalid(
                        "apiKey",
                        "a paper account's key is made by perpdesk",
                    ));
                }
                let (k, s) = (k.trim(), s.trim());
                key_text("apiKey", k)?;
                key_text("apiSecret", s)?;
                let report = self.vet_key(account.environment, k, s).await?;
                let sealed = self.seal_secret(id, k, account.environment, s)?;
                self.store
                    .update_account(id, &name, Some((k, &sealed)))
                    .await?;
                self.save_report(id, &report).await?;
                self.forget_session(id);
            }
        }
        let a = self
            .store
            .account(id)
            .await?
            .ok_or_else(|| AppError::Internal("account vanished".into()))?;
        let active = self.active_account_id().await.ok() == Some(id);
        let view = AccountView::of(&a, active);
        self.audit(
            "user",
            "account.updated",
            serde_json::json!({"id": id, "name": view.name, "key": view.key_hint, "key_changed": key.is_some()}),
        )
        .await;
        Ok(view)
    }

    /// Archives an account. Refused while it holds positions (they would be left unwatched).
    ///
    /// # Errors
    /// [`AppError::Conflict`] with open positions; exchange errors while checking.
    pub async fn remove_account(&self, id: i64) -> Result<(), AppError> {
        let session = self.session(id).await?;
        let open = session.client.positions().await?;
        if !open.is_empty() {
            return Err(AppError::Conflict(format!(
                "account has {} open position(s); close them first",
                open.len()
            )));
        }
        self.store
            .archive_account(id, self.now(Some(&session)))
            .await?;
        self.audit("user", "account.archived", serde_json::json!({"id": id}))
            .await;
        self.forget_session(id);
        if self.active_account_id().await.ok() == Some(id)
            && let Some(next) = self.store.live_accounts().await?.first()
        {
            self.put_active_account(next.id).await?;
        }
        Ok(())
    }

    /// Makes an account the one trades go to; a live account needs explicit confirmation.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for an unconfirmed live account, [`AppError::NotFound`].
    pub async fn set_active_account(
        &self,
        id: i64,
        confirm_live: bool,
    ) -> Result<AccountView, AppError> {
        let a = self
            .store
            .live_accounts()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| AppError::NotFound(format!("account {id}")))?;
        if a.environment == Environment::Live && !confirm_live {
            return Err(AppError::invalid(
                "confirmLive",
                "a live account trades real money: confirm to switch to it",
            ));
        }
        self.put_active_account(id).await?;
        self.audit(
            "user",
            "account.activated",
            serde_json::json!({"id": id, "environment": a.environment}),
        )
        .await;
        Ok(AccountView::of(&a, true))
    }

    /// Runs the connection test on a saved account and stores the result.
    ///
    /// # Errors
    /// [`AppError::Locked`], [`AppError::NotFound`].
    pub async fn test_connection(&self, id: i64) -> Result<ConnectionReport, AppError> {
        let session = self.session(id).await?;
        let report =
            check_connection(&session.client, self.now(Some(&session)).timestamp_millis()).await;
        self.save_report(id, &report).await?;
        self.events.emit(AppEvent::Connection {
            account_id: id,
            connected: report
                .checks
                .first()
                .is_some_and(|c| c.status != CheckStatus::Fail),
            message: report
                .checks
                .iter()
                .find(|c| c.status == CheckStatus::Fail)
                .map_or_else(|| "connected".to_owned(), |c| c.detail.clone()),
        });
        Ok(report)
    }

    /// Tests a key that is not saved yet and refuses it when it can withdraw or its
    /// signature fails.
    async fn vet_key(
        &self,
        environment: Environment,
        key: &str,
        secret: &str,
    ) -> Result<ConnectionReport, AppError> {
        let client = crate::venue::connect(
            environment,
            self.paper.as_deref(),
            key,
            secret,
            self.config.rest.clone(),
        )?;
        let report = check_connection(&client, chrono::Utc::now().timestamp_millis()).await;
        refuse_if_unsafe(&report)?;
        Ok(report)
    }

    async fn save_report(&self, id: i64, report: &ConnectionReport) -> Result<(), AppError> {
        let value = serde_json::to_value(report).map_err(|e| AppError::Internal(e.to_string()))?;
        let at = chrono::DateTime::from_timestamp_millis(report.checked_at_ms)
            .unwrap_or_else(chrono::Utc::now);
        self.store.set_permissions(id, &value, at).await?;
        Ok(())
    }

    /// Refuses trading on a testnet/live account whose last test did not pass.
    pub(crate) async fn require_verified(&self, account_id: i64) -> Result<(), AppError> {
        let a = self
            .store
            .account(account_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("account {account_id}")))?;
        if a.environment == Environment::Paper {
            return Ok(());
        }
        let ok = a
            .permissions
            .as_ref()
            .and_then(|p| serde_json::from_value::<ConnectionReport>(p.clone()).ok())
            .is_some_and(|r| r.ok);
        if ok {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "this account's key has not passed a connection test; run \"test connection\" first"
                    .into(),
            ))
        }
    }
}

fn refuse_if_unsafe(report: &ConnectionReport) -> Result<(), AppError> {
    report.refusal().map_or(Ok(()), Err)
}

#[cfg(test)]
mod new_key_tests {
    use super::NewKey;

    #[test]
    fn a_typed_secret_never_prints_and_is_wiped_with_the_request() {
        let new: NewKey = serde_json::from_value(serde_json::json!({
            "name": "live", "environment": "live",
            "apiKey": "visible-key-id", "apiSecret": "typed-secret-0f9e8d",
        }))
        .expect("a request");
        let printed = format!("{new:?}");
        assert!(!printed.contains("typed-secret-0f9e8d"), "{printed}");
        assert!(printed.contains("visible-key-id"));
        assert_eq!(new.api_secret.expose(), "typed-secret-0f9e8d");
    }
}
