//! The trading engine: one value that owns the database, the vault, the exchange sessions
//! and the paper exchange, and that every UI command goes through.
//!
//! Invariants:
//! - An order leaves the machine only through [`crate::trading`], which needs a
//!   `RiskApproved` value and journals the order before sending it.
//! - The vault's key and the API secrets it opens live only in this process's memory; no
//!   view type carries a secret, and the secret's only use is the request signer.
//! - Paper is the default: a new user gets a funded paper account without typing a key.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use perpdesk_binance::RestConfig;
use perpdesk_core::RiskLimits;
use perpdesk_store::{Account, Environment, Store};
use perpdesk_vault::{
    Aad, KdfParams, KdfTarget, PasswordGate, Sealed, SecretString, Vault, VaultError, VaultHeader,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::session::Session;
use crate::venue::{self, PaperVenue};
use crate::{AppError, Events};

pub(crate) const VAULT_HEADER: &str = "vault.header";
const AUTO_LOCK: &str = "vault.auto_lock_minutes";
const ACTIVE_ACCOUNT: &str = "accounts.active";
pub(crate) const RISK_LIMITS: &str = "risk.limits";
/// The associated data purpose of a sealed API secret.
pub(crate) const SECRET_PURPOSE: &str = "api_secret";

/// The text an environment is named by in a sealed API secret's associated data. Fixed here,
/// not borrowed from the store's column text, so a rename there cannot lock every key out.
pub(crate) const fn environment_text(environment: Environment) -> &'static str {
    match environment {
        Environment::Paper => "paper",
        Environment::Testnet => "testnet",
        Environment::Live => "live",
    }
}

/// The associated data every API secret is sealed and opened under: its account, its key id
/// and its environment, so a row whose key id or environment was changed does not open.
pub(crate) fn secret_aad(account_id: i64, api_key_id: &str, environment: Environment) -> Aad<'_> {
    Aad::for_key(
        account_id,
        SECRET_PURPOSE,
        api_key_id,
        environment_text(environment),
    )
}

/// What the engine is opened with.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The SQLite file; `None` keeps everything in memory (tests, previews).
    pub database: Option<PathBuf>,
    /// Argon2id cost of the master password.
    pub kdf: KdfParams,
    /// Transport settings for every exchange session.
    pub rest: RestConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            database: None,
            kdf: KdfParams::RECOMMENDED,
            rest: RestConfig::default(),
        }
    }
}

/// The vault as the UI sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VaultStatus {
    pub initialized: bool,
    pub locked: bool,
    pub auto_lock_minutes: u32,
}

impl VaultStatus {
    /// What the database says of the vault, with whether it is `locked` in this process.
    pub(crate) async fn read(store: &Store, locked: bool) -> Result<Self, AppError> {
        Ok(Self {
            initialized: store.setting::<String>(VAULT_HEADER).await?.is_some(),
            locked,
            auto_lock_minutes: auto_lock_minutes(store).await?,
        })
    }
}

async fn auto_lock_minutes(store: &Store) -> Result<u32, AppError> {
    Ok(store.setting::<u32>(AUTO_LOCK).await?.unwrap_or(15))
}

/// The application's engine. One per process, shared by reference.
pub struct Engine {
    pub(crate) store: Store,
    pub(crate) events: Events,
    pub(crate) paper: Option<Arc<PaperVenue>>,
    vault: Mutex<Option<Arc<Vault>>>,
    /// The one queue for every Argon2id run: master-password checks (unlock, password
    /// change, backup export and import) wait out the growing delay after wrong guesses in
    /// turn, and at most one derivation's memory is in use at a time.
    gate: PasswordGate,
    /// The clock the vault measures idle time with; `None` is the real one.
    vault_clock: Option<Arc<dyn perpdesk_vault::Clock>>,
    /// The Argon2id cost a password change re-tunes the vault to on this machine.
    pub(crate) kdf_target: KdfTarget,
    sessions: Mutex<HashMap<i64, Arc<Session>>>,
    /// Sending, protecting and flattening, over only the store, events and clock.
    pub(crate) execution: crate::trading::Execution,
    pub(crate) config: EngineConfig,
    /// Orders are prepared one at a time: the risk context read for one click must not be
    /// stale by the time another click's order is counted against the same limits.
    pub(crate) exec: tokio::sync::Mutex<()>,
    /// The running signal loop, once its history is loaded.
    pub(crate) signals: tokio::sync::RwLock<Option<crate::signal_loop::SignalLoop>>,
    /// The "pause signals" switch the loop reads at every candle.
    pub(crate) signals_paused: Arc<std::sync::atomic::AtomicBool>,
    /// The day's study of the signal families (`crate::study`).
    pub(crate) study: crate::study::StudyCell,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("paper", &self.paper.as_ref().map(|p| p.url()))
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these small maps cannot leave them half-updated.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Engine {
    /// Opens the database and attaches the paper exchange (if any).
    ///
    /// # Errors
    /// [`AppError::Store`] when the database cannot be opened or is damaged (it is never
    /// silently recreated).
    pub async fn open(
        config: EngineConfig,
        paper: Option<PaperVenue>,
        events: Events,
    ) -> Result<Self, AppError> {
        let store = match &config.database {
            Some(path) => Store::open(path).await?,
            None => Store::open_in_memory().await?,
        };
        Ok(Self::with_store(config, store, paper, events))
    }

    /// The engine over a database its caller opened (`config.database` is not read), so the
    /// desktop shell can open the database while the paper market loads.
    pub fn with_store(
        config: EngineConfig,
        store: Store,
        paper: Option<PaperVenue>,
        events: Events,
    ) -> Self {
        let paper = paper.map(Arc::new);
        Self {
            execution: crate::trading::Execution::new(store.clone(), events.clone(), paper.clone()),
            store,
            events,
            paper,
            vault: Mutex::new(None),
            gate: PasswordGate::new(),
            vault_clock: None,
            kdf_target: default_kdf_target(config.kdf),
            sessions: Mutex::new(HashMap::new()),
            config,
            exec: tokio::sync::Mutex::new(()),
            signals: tokio::sync::RwLock::new(None),
            signals_paused: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            study: crate::study::StudyCell::default(),
        }
    }

    /// Makes the signal loop read `flag` as its pause switch (the shell's tray switch).
    #[must_use]
    pub fn with_pause_flag(mut self, flag: Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.signals_paused = flag;
        self
    }

    /// Makes every vault this engine unlocks measure idle time with `clock` (tests of
    /// auto-lock use a manual one).
    #[must_use]
    pub fn with_vault_clock(mut self, clock: Arc<dyn perpdesk_vault::Clock>) -> Self {
        self.vault_clock = Some(clock);
        self
    }

    /// Makes a password change re-tune Argon2id to `target` instead of the default
    /// ([`KdfTarget::DEFAULT`] for real costs; tests with cheap costs get a cheap target).
    #[must_use]
    pub fn with_kdf_target(mut self, target: KdfTarget) -> Self {
        self.kdf_target = target;
        self
    }

    /// The queue every master-password check goes through; a backup opened without an
    /// engine's vault ([`crate::backup::inspect_backup`]) is checked through it too.
    pub fn password_gate(&self) -> &PasswordGate {
        &self.gate
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The event channel.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// The paper exchange, when this engine runs one.
    pub fn paper(&self) -> Option<&PaperVenue> {
        self.paper.as_deref()
    }

    /// Appends to the audit log (who did what, never a secret). The record that matters for
    /// money is the order journal; a failed audit write is logged, not allowed to undo an
    /// action that already happened.
    pub(crate) async fn audit(&self, actor: &str, action: &str, details: serde_json::Value) {
        self.execution.audit(actor, action, details).await;
    }

    /// "Now" for records: the wall clock, except in a paper-only world where the replay
    /// clock is the exchange's time.
    pub(crate) fn now(&self, session: Option<&Session>) -> DateTime<Utc> {
        self.execution.now(session)
    }

    // ----- vault -------------------------------------------------------------------

    /// Reports whether a master password exists and whether the vault is open.
    ///
    /// # Errors
    /// [`AppError::Store`].
    pub async fn vault_status(&self) -> Result<VaultStatus, AppError> {
        VaultStatus::read(&self.store, self.vault().is_err()).await
    }

    async fn auto_lock_minutes(&self) -> Result<u32, AppError> {
        auto_lock_minutes(&self.store).await
    }

    /// First run: sets the master password and opens the vault.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a weak password, [`AppError::Conflict`] when a vault
    /// exists already.
    pub async fn vault_setup(&self, password: SecretString) -> Result<VaultStatus, AppError> {
        if self.store.setting::<String>(VAULT_HEADER).await?.is_some() {
            return Err(AppError::Conflict(
                "a master password is set already; unlock instead".into(),
            ));
        }
        perpdesk_vault::check_password_strength(password.expose())
            .map_err(|w| AppError::invalid("password", w.to_string()))?;
        let params = self.config.kdf;
        let (vault, header) = gated(
            self.gate
                .exclusive(move || Vault::create(&password, params))
                .await,
        )?
        .map_err(|e| AppError::Internal(format!("vault: {e}")))?;
        let header = header
            .to_json()
            .map_err(|e| AppError::Internal(format!("vault header: {e}")))?;
        self.store
            .put_setting(VAULT_HEADER, &header, self.now(None))
            .await?;
        self.install_vault(vault).await;
        self.audit("user", "vault.created", serde_json::json!({}))
            .await;
        self.after_vault_opened().await;
        self.vault_status().await
    }

    /// Opens the vault with the master password.
    ///
    /// # Errors
    /// [`AppError::NotInitialized`], [`AppError::WrongPassword`].
    pub async fn vault_unlock(&self, password: SecretString) -> Result<VaultStatus, AppError> {
        let header = self
            .store
            .setting::<String>(VAULT_HEADER)
            .await?
            .ok_or(AppError::NotInitialized)?;
        let header = VaultHeader::from_json(&header)
            .map_err(|e| AppError::Internal(format!("vault header: {e}")))?;
        let vault = self
            .throttled(move || Vault::unlock(&header, &password))
            .await?
            .map_err(|e| match e {
                perpdesk_vault::VaultError::WrongPassword => AppError::WrongPassword,
                other => AppError::Internal(format!("vault: {other}")),
            })?;
        self.install_vault(vault).await;
        match self.rebind_legacy_secrets().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                secrets = n,
                "bound API secrets to their key and environment"
            ),
            Err(e) => {
                tracing::error!(error = %e, "binding API secrets failed; tried again at the next unlock")
            }
        }
        // Before anything else can trade or repair (statements, the paper accounts,
        // reconciliation, the signal loop): the user asked for everything to be closed.
        self.flatten_if_killed_while_locked().await;
        self.after_vault_opened().await;
        self.vault_status().await
    }

    /// Runs a master-password check through the engine's [`PasswordGate`]: in turn, after
    /// the throttle's delay, its outcome counted.
    pub(crate) async fn throttled<T: Send + 'static>(
        &self,
        attempt: impl FnOnce() -> perpdesk_vault::Result<T> + Send + 'static,
    ) -> Result<perpdesk_vault::Result<T>, AppError> {
        gated(self.gate.check(attempt).await)
    }

    async fn install_vault(&self, vault: Vault) {
        let vault = match &self.vault_clock {
            Some(clock) => vault.with_clock(clock.clone()),
            None => vault,
        };
        let minutes = self.auto_lock_minutes().await.unwrap_or(15);
        vault.set_idle_timeout((minutes > 0).then(|| Duration::from_secs(u64::from(minutes) * 60)));
        *lock(&self.vault) = Some(Arc::new(vault));
    }

    /// Locks the vault and closes every exchange session (their signers hold secrets).
    ///
    /// # Errors
    /// [`AppError::Store`].
    pub async fn vault_lock(&self) -> Result<VaultStatus, AppError> {
        if let Some(v) = lock(&self.vault).take() {
            v.lock();
        }
        self.close_sessions();
        self.audit("user", "vault.locked", serde_json::json!({}))
            .await;
        self.events.emit(crate::AppEvent::Locked);
        self.vault_status().await
    }

    /// Sets the idle time after which the vault locks itself (0 = never). A longer time, or
    /// never, loosens a safety setting: it needs the vault unlocked and `password`.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] above one day; for a longer time [`AppError::Locked`],
    /// [`AppError::PasswordRequired`], [`AppError::WrongPassword`]. Nothing changes on error.
    pub async fn set_auto_lock(
        &self,
        minutes: u32,
        password: Option<SecretString>,
    ) -> Result<VaultStatus, AppError> {
        if minutes > 1440 {
            return Err(AppError::invalid(
                "minutes",
                format!("must be between 0 and 1440, got {minutes}"),
            ));
        }
        let before = self.auto_lock_minutes().await?;
        let loosened = if crate::safety::loosens_auto_lock(before, minutes) {
            vec!["auto_lock_minutes".to_owned()]
        } else {
            Vec::new()
        };
        let confirmed = self.confirm_loosening(&loosened, password).await?;
        self.store
            .put_setting(AUTO_LOCK, &minutes, self.now(None))
            .await?;
        if let Some(v) = lock(&self.vault).as_ref() {
            v.set_idle_timeout((minutes > 0).then(|| Duration::from_secs(u64::from(minutes) * 60)));
        }
        self.audit(
            "user",
            "settings.auto_lock",
            serde_json::json!({
                "before": before, "minutes": minutes,
                "loosened": loosened, "password_confirmed": confirmed,
            }),
        )
        .await;
        self.vault_status().await
    }

    /// Returns the open vault, or `Locked`. Finding that the vault locked itself (idle past
    /// its timeout) finishes the lock here: the sessions go (their signers hold secrets, and
    /// background trading stops with them) and a `Locked` event tells the UI and the tray,
    /// once. The background pass calls this every few seconds, so that happens promptly.
    pub(crate) fn vault(&self) -> Result<Arc<Vault>, AppError> {
        let mut guard = lock(&self.vault);
        match guard.as_ref() {
            Some(v) if !v.is_locked() => Ok(v.clone()),
            Some(_) => {
                guard.take();
                drop(guard);
                self.close_sessions();
                tracing::info!("the vault locked itself after the idle time; sessions closed");
                self.events.emit(crate::AppEvent::Locked);
                Err(AppError::Locked)
            }
            None => Err(AppError::Locked),
        }
    }

    /// Records that the user is active (the UI reports input, at most every 30 s): the
    /// vault's idle time restarts. Background work never calls this, so an unattended app
    /// still locks. Returns whether the vault is unlocked; a vault already idle past its
    /// timeout is locked now (with the event), not revived.
    pub fn note_activity(&self) -> bool {
        let live = lock(&self.vault).as_ref().is_some_and(|v| v.touch());
        live || self.vault().is_ok()
    }

    fn close_sessions(&self) {
        lock(&self.sessions).clear();
    }

    /// Seals the API secret of `account_id`, bound to the key id and environment its row
    /// will hold.
    pub(crate) fn seal_secret(
        &self,
        account_id: i64,
        api_key_id: &str,
        environment: Environment,
        secret: &str,
    ) -> Result<String, AppError> {
        let sealed = self
            .vault()?
            .seal(
                secret_aad(account_id, api_key_id, environment),
                &SecretString::new(secret.to_owned()),
            )
            .map_err(|e| AppError::Internal(format!("sealing: {e}")))?;
        Ok(sealed.encode())
    }

    // ----- sessions ----------------------------------------------------------------

    /// Returns the signed session of an account, opening its secret on first use.
    ///
    /// # Errors
    /// [`AppError::Locked`], [`AppError::NotFound`].
    pub(crate) async fn session(&self, account_id: i64) -> Result<Arc<Session>, AppError> {
        // Cloned out first: the vault check below may close every session, which takes the
        // sessions lock.
        let cached = lock(&self.sessions).get(&account_id).cloned();
        if let Some(s) = cached {
            // A session outlives the vault only until the next lock; check it is still open.
            self.vault()?;
            return Ok(s);
        }
        let account = self
            .store
            .account(account_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("account {account_id}")))?;
        let vault = self.vault()?;
        let sealed = Sealed::decode(&account.secret_sealed).map_err(|e| {
            AppError::Internal(format!("stored secret of account {account_id}: {e}"))
        })?;
        let secret = vault
            .open(
                secret_aad(account_id, &account.api_key_id, account.environment),
                &sealed,
            )
            .map_err(|e| match e {
                perpdesk_vault::VaultError::Tampered => AppError::Conflict(format!(
                    "the stored secret of account {:?} does not belong to its key id or \
                     environment (the row was changed outside perpdesk); nothing was sent: \
                     enter the key again",
                    account.name
                )),
                other => {
                    AppError::Internal(format!("opening secret of account {account_id}: {other}"))
                }
            })?;
        let client = venue::connect(
            account.environment,
            self.paper.as_deref(),
            &account.api_key_id,
            secret.expose(),
            self.config.rest.clone(),
        )?;
        let session = Arc::new(Session::new(account, client));
        lock(&self.sessions).insert(account_id, session.clone());
        Ok(session)
    }

    /// Drops a cached session (after a key change or removal).
    pub(crate) fn forget_session(&self, account_id: i64) {
        lock(&self.sessions).remove(&account_id);
    }

    /// The account trades go to.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when there is no account yet.
    pub async fn active_account_id(&self) -> Result<i64, AppError> {
        if let Some(id) = self.store.setting::<i64>(ACTIVE_ACCOUNT).await? {
            return Ok(id);
        }
        self.store
            .live_accounts()
            .await?
            .first()
            .map(|a| a.id)
            .ok_or_else(|| AppError::NotFound("an exchange account (add one first)".into()))
    }

    pub(crate) async fn put_active_account(&self, id: i64) -> Result<(), AppError> {
        self.store
            .put_setting(ACTIVE_ACCOUNT, &id, self.now(None))
            .await?;
        Ok(())
    }

    /// The session of the active account.
    ///
    /// # Errors
    /// As [`Engine::session`].
    pub(crate) async fn active_session(&self) -> Result<Arc<Session>, AppError> {
        let id = self.active_account_id().await?;
        self.session(id).await
    }

    /// Whether the active account trades real money.
    ///
    /// # Errors
    /// [`AppError::Store`].
    pub async fn active_environment(&self) -> Result<Option<Environment>, AppError> {
        let Ok(id) = self.active_account_id().await else {
            return Ok(None);
        };
        Ok(self.store.account(id).await?.map(|a| a.environment))
    }

    // ----- risk settings -----------------------------------------------------------

    /// The user's risk limits (defaults until changed).
    ///
    /// # Errors
    /// [`AppError::Store`].
    pub async fn risk_limits(&self) -> Result<RiskLimits, AppError> {
        Ok(self
            .store
            .setting::<RiskLimits>(RISK_LIMITS)
            .await?
            .unwrap_or_default())
    }

    /// Validates and saves new limits; nothing is written when they are incoherent. Raising
    /// any limit, dropping the stop-loss requirement or turning the kill switch off loosens
    /// safety: it needs the vault unlocked and `password`; lowering works locked or not.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] naming the field; for a loosening [`AppError::Locked`],
    /// [`AppError::PasswordRequired`], [`AppError::WrongPassword`]. Nothing changes on error.
    pub async fn set_risk_limits(
        &self,
        limits: RiskLimits,
        password: Option<SecretString>,
    ) -> Result<RiskLimits, AppError> {
        limits.validate().map_err(|e| {
            let field = match &e {
                perpdesk_core::risk::LimitsError::NotPositive { field, .. } => field,
                perpdesk_core::risk::LimitsError::Leverage(_) => &"max_leverage",
                perpdesk_core::risk::LimitsError::StopDistance(_) => &"max_stop_distance_pct",
                perpdesk_core::risk::LimitsError::PerSymbolAboveTotal { .. } => {
                    &"max_position_notional"
                }
            };
            AppError::invalid(field, e.to_string())
        })?;
        let loosened = crate::safety::loosened_limits(&self.risk_limits().await?, &limits);
        let confirmed = self.confirm_loosening(&loosened, password).await?;
        self.store
            .put_setting(RISK_LIMITS, &limits, self.now(None))
            .await?;
        self.audit(
            "user",
            "settings.risk_limits",
            serde_json::json!({
                "limits": limits, "loosened": loosened, "password_confirmed": confirmed,
            }),
        )
        .await;
        Ok(limits)
    }
}

/// The target a password change re-tunes to: today's default for a vault at real costs; for
/// an engine configured below OWASP's minimum (tests), that minimum with the configured costs
/// as the floor, measured without a time budget, so a change stays quick but still rises.
fn default_kdf_target(kdf: KdfParams) -> KdfTarget {
    if kdf.is_at_least_owasp() {
        KdfTarget::DEFAULT
    } else {
        KdfTarget {
            time: Duration::ZERO,
            max_m_cost_kib: KdfParams::OWASP_MINIMUM.m_cost_kib,
            floor: kdf,
        }
    }
}

/// Splits a gated check's outcome: the gate's own refusals become the app's errors (a full
/// queue is "try again", a runtime shutting down is ours), the attempt's result is the
/// caller's to map.
pub(crate) fn gated<T>(
    outcome: perpdesk_vault::Result<T>,
) -> Result<perpdesk_vault::Result<T>, AppError> {
    match outcome {
        Err(e @ VaultError::TooManyAttempts) => Err(AppError::Conflict(e.to_string())),
        Err(e @ VaultError::Interrupted) => Err(AppError::Internal(e.to_string())),
        other => Ok(other),
    }
}

/// A decimal from the UI: a string (or a JSON number) parsed exactly.
pub(crate) fn positive(field: &'static str, v: Decimal) -> Result<Decimal, AppError> {
    if v <= Decimal::ZERO {
        return Err(AppError::invalid(
            field,
            format!("must be positive, got {v}"),
        ));
    }
    Ok(v)
}

/// What an account looks like to the UI; never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: i64,
    pub name: String,
    pub environment: Environment,
    /// The key's last four characters.
    pub key_hint: String,
    pub active: bool,
    /// The last connection test, as stored.
    pub check: Option<serde_json::Value>,
}

impl AccountView {
    pub(crate) fn of(a: &Account, active: bool) -> Self {
        let tail: String = a
            .api_key_id
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Self {
            id: a.id,
            name: a.name.clone(),
            environment: a.environment,
            key_hint: format!("••••{tail}"),
            active,
            check: a.permissions.clone(),
        }
    }
}
