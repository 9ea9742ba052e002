//! The statement signing key and the signed statement of every settlement (issue 20).
//!
//! The key (Ed25519) is made when the vault is created, or at the first unlock of a vault
//! made before it existed. Its private half is sealed by the vault under its own purpose
//! ([`STATEMENT_KEY_PURPOSE`], account 0: it belongs to the profile, not to an account) and
//! stored once, beside the API secrets, so a master-password change re-seals it with them.
//! The public half and its fingerprint are readable at any time ([`Engine::statement_key`]);
//! the private half is opened only to sign, while the vault is unlocked, and wiped when the
//! signature is made. No view carries it.
//!
//! Every settlement gets its statement signed right after it is written. A settlement left
//! without one (the vault locked meanwhile, a crash between the two writes) is signed at the
//! next unlock: the store lists them ([`perpdesk_store::Store::settlements_without_statement`]).

use perpdesk_core::verify::{Expectations, verify};
use perpdesk_core::{PublicKey, ShareMode, SignedStatement};
use perpdesk_store::{SealedKind, SealedSecret, StoreError};
use perpdesk_vault::{Aad, STATEMENT_KEY_PURPOSE, Sealed, StatementSigningKey};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::books::Owed;
use crate::engine::SECRET_PURPOSE;
use crate::{AppError, Engine};

/// The account id in the signing key's associated data: the key belongs to no account.
const KEY_ACCOUNT: i64 = 0;

/// The signing key's public half, as the profit-share panel shows it to copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementKeyView {
    /// `ed25519:` and 64 hex digits: what the user gives the platform.
    pub public_key: String,
    /// A short digest to read out and compare by eye.
    pub fingerprint: String,
}

impl StatementKeyView {
    fn of(key: &PublicKey) -> Self {
        Self {
            public_key: key.to_string(),
            fingerprint: key.fingerprint(),
        }
    }
}

/// The associated data a stored sealed secret is sealed under: an API secret's names its
/// row's key id and environment too.
pub(crate) fn sealed_aad(row: &SealedSecret) -> Aad<'_> {
    match (row.kind, &row.binding) {
        (SealedKind::ApiSecret, Some((key_id, environment))) => {
            crate::engine::secret_aad(row.account_id, key_id, *environment)
        }
        // The store names every API secret's row; without one it opens nowhere.
        (SealedKind::ApiSecret, None) => Aad::new(row.account_id, SECRET_PURPOSE),
        (SealedKind::StatementKey, _) => Aad::new(KEY_ACCOUNT, STATEMENT_KEY_PURPOSE),
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("{what}: {e}"))
}

impl Engine {
    /// What the vault's opening does for the ledger: make the signing key if there is none,
    /// then sign any settlement still without a statement. Failures are logged, not
    /// returned: the vault is open either way, and both steps are tried again at the next
    /// unlock (and signing at the next settlement).
    pub(crate) async fn after_vault_opened(&self) {
        match self.ensure_statement_key().await {
            Ok(_) => match self.sign_pending_statements().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(statements = n, "signed the settlements left unsigned"),
                Err(e) => tracing::error!(error = %e, "signing pending statements failed"),
            },
            Err(e) => tracing::error!(error = %e, "making the statement signing key failed"),
        }
    }

    /// Returns the profile's statement signing key, making, sealing and storing it first
    /// when there is none.
    ///
    /// # Errors
    /// [`AppError::Locked`]; [`AppError::Internal`] when the OS gives no randomness or the
    /// stored public key is unreadable; store errors.
    pub(crate) async fn ensure_statement_key(&self) -> Result<PublicKey, AppError> {
        if let Some(stored) = self.store.statement_signing_key().await? {
            return stored
                .public_key
                .parse()
                .map_err(|e| internal("stored statement key", e));
        }
        let vault = self.vault()?;
        let key = StatementSigningKey::generate().map_err(|e| internal("signing key", e))?;
        let public =
            PublicKey::from_bytes(key.public_key()).map_err(|e| internal("signing key", e))?;
        let sealed = key
            .seal(&vault, Aad::new(KEY_ACCOUNT, STATEMENT_KEY_PURPOSE))
            .map_err(|e| internal("sealing the signing key", e))?
            .encode();
        match self
            .store
            .put_statement_signing_key(&public.to_string(), &sealed, self.now(None))
            .await
        {
            Ok(()) => {
                self.audit(
                    "app",
                    "ledger.statement_key_created",
                    serde_json::json!({ "fingerprint": public.fingerprint() }),
                )
                .await;
                Ok(public)
            }
            // Another unlock made one first; that one is the profile's key.
            Err(StoreError::Conflict(_)) => Box::pin(self.ensure_statement_key()).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Returns the public half of the statement signing key and its fingerprint, to give to
    /// the platform. Never the private half.
    ///
    /// # Errors
    /// [`AppError::NotFound`] before the vault was first unlocked by a build that makes the
    /// key; [`AppError::Internal`] for an unreadable stored key.
    pub async fn statement_key(&self) -> Result<StatementKeyView, AppError> {
        let stored = self.store.statement_signing_key().await?.ok_or_else(|| {
            AppError::NotFound(
                "the statement signing key (it is made when the vault is unlocked)".into(),
            )
        })?;
        let key: PublicKey = stored
            .public_key
            .parse()
            .map_err(|e| internal("stored statement key", e))?;
        Ok(StatementKeyView::of(&key))
    }

    /// Opens the private key, checking it is the stored public key's.
    async fn open_statement_key(&self) -> Result<(StatementSigningKey, PublicKey), AppError> {
        let public = self.ensure_statement_key().await?;
        let vault = self.vault()?;
        let stored = self
            .store
            .statement_signing_key()
            .await?
            .ok_or_else(|| AppError::Internal("the signing key vanished".into()))?;
        let sealed =
            Sealed::decode(&stored.sealed).map_err(|e| internal("stored signing key", e))?;
        let key = StatementSigningKey::open(
            &vault,
            Aad::new(KEY_ACCOUNT, STATEMENT_KEY_PURPOSE),
            &sealed,
        )
        .map_err(|e| internal("opening the signing key", e))?;
        if key.public_key() != *public.as_bytes() {
            return Err(AppError::Internal(
                "the sealed signing key is not the stored public key's".into(),
            ));
        }
        Ok((key, public))
    }

    /// Builds, signs and stores the statement of one settlement of `account_id`.
    ///
    /// # Errors
    /// [`AppError::Locked`]; [`AppError::NotFound`] for an unknown settlement;
    /// [`AppError::Conflict`] when it has a statement already; [`AppError::Store`] when the
    /// stored rows do not give the stored settlement (nothing is signed then).
    pub(crate) async fn sign_settlement(
        &self,
        account_id: i64,
        settlement_id: i64,
    ) -> Result<SignedStatement, AppError> {
        let period = self
            .store
            .settled_period(account_id, settlement_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("settlement {settlement_id}")))?;
        let account = self
            .store
            .account(account_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("account {account_id}")))?;
        let include_manual = self.include_manual_at(settlement_id).await?;
        let statement = period.statement(&account.name, include_manual)?;
        let (key, public) = self.open_statement_key().await?;
        let signature = key.sign(&statement.canonical_bytes());
        drop(key);
        let signed = SignedStatement::new(statement, public, signature)
            .map_err(|e| internal("signing the statement", e))?;
        self.store
            .append_statement(account_id, settlement_id, &signed, self.now(None))
            .await?;
        self.audit(
            "app",
            "ledger.statement_signed",
            serde_json::json!({
                "account_id": account_id,
                "settlement_id": settlement_id,
                "sequence": signed.statement.sequence,
                "fingerprint": public.fingerprint(),
            }),
        )
        .await;
        Ok(signed)
    }

    /// Signs every settlement of every account that has no statement yet; returns how many.
    ///
    /// # Errors
    /// As [`Engine::sign_settlement`]; those signed before an error stay signed.
    pub(crate) async fn sign_pending_statements(&self) -> Result<usize, AppError> {
        let mut signed = 0;
        for account in self.store.accounts().await? {
            for id in self.store.settlements_without_statement(account.id).await? {
                self.sign_settlement(account.id, id).await?;
                signed += 1;
            }
        }
        Ok(signed)
    }

    /// Returns the signed statement of a settlement of the active account, if it has one.
    ///
    /// # Errors
    /// Store errors.
    pub async fn settlement_statement(
        &self,
        settlement_id: i64,
    ) -> Result<Option<SignedStatement>, AppError> {
        let id = self.active_account_id().await?;
        Ok(self.store.statement(id, settlement_id).await?)
    }
}

/// The profit-share panel's summary: the period so far, the mark, what settling now would
/// pay, the terms, the last settlement and the statement key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfitShareSummary {
    /// Net of the trades since the last settlement, booked or closed and not yet booked.
    pub period_net: Decimal,
    /// The trades behind `period_net`.
    pub period_trades: u64,
    /// The cumulative net of every booked trade.
    pub cumulative_net: Decimal,
    /// The mark: the best settled cumulative net so far (0 before the first settlement).
    pub high_water_mark: Decimal,
    /// What settling now would pay, with the decision above the mark.
    pub owed_now: Owed,
    pub platform_ratio: Decimal,
    pub mode: ShareMode,
    pub include_manual: bool,
    pub last_settlement: Option<SettlementView>,
    /// `None` until the vault has been unlocked once by a build that makes the key.
    pub key: Option<StatementKeyView>,
}

/// A settlement as the panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettlementView {
    pub id: i64,
    pub settled_at_ms: i64,
    pub entries: u64,
    pub net_pnl: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
    /// The mark the settlement left; `None` for one made before settlements decided.
    pub mark_after: Option<Decimal>,
    /// Whether its signed statement is stored (false until the next unlock when the vault
    /// was locked at the settlement).
    pub signed: bool,
}

/// The outcome of checking a statement as the platform would, for the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementCheckView {
    pub settlement_sequence: u64,
    pub genuine: bool,
    /// Each difference with its reason; empty when genuine.
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    /// The fingerprint of the key that signed it.
    pub signed_by: String,
    pub fills: usize,
    pub income_rows: usize,
}

/// The key under which the settings in force at a settlement are kept, so a statement
/// signed later states them rather than today's.
fn terms_at_settlement(settlement_id: i64) -> String {
    format!("ledger.settlement.{settlement_id}.include_manual")
}

impl Engine {
    /// Keeps the `include_manual` in force at a settlement until its statement is signed.
    ///
    /// # Errors
    /// Store errors.
    pub(crate) async fn remember_settlement_terms(
        &self,
        settlement_id: i64,
        include_manual: bool,
    ) -> Result<(), AppError> {
        self.store
            .put_setting(
                &terms_at_settlement(settlement_id),
                &include_manual,
                self.now(None),
            )
            .await?;
        Ok(())
    }

    /// The `include_manual` in force at a settlement: as remembered at the settlement, else
    /// (a settlement made before it was remembered) today's setting.
    async fn include_manual_at(&self, settlement_id: i64) -> Result<bool, AppError> {
        match self
            .store
            .setting::<bool>(&terms_at_settlement(settlement_id))
            .await?
        {
            Some(v) => Ok(v),
            None => Ok(self.ledger_settings().await?.include_manual),
        }
    }

    /// Returns the profit-share summary of the active account.
    ///
    /// # Errors
    /// Store errors; [`AppError::Internal`] for a stored split that is not one.
    pub async fn profit_share_summary(&self) -> Result<ProfitShareSummary, AppError> {
        let id = self.active_account_id().await?;
        let settings = self.ledger_settings().await?;
        let owed = crate::books::owed_now(&self.store, id, &settings.share()?)
            .await
            .map_err(|e| internal("owed now", e))?;
        let state = self.store.ledger_state(id).await?;
        let last = match self.store.settlements(id).await?.pop() {
            Some(s) => Some(SettlementView {
                signed: self.store.statement(id, s.id).await?.is_some(),
                id: s.id,
                settled_at_ms: s.settled_at.timestamp_millis(),
                entries: s.entries,
                net_pnl: s.net_pnl,
                platform_share: s.platform_share,
                user_share: s.user_share,
                mark_after: s.decision.as_ref().map(|d| d.mark_after),
            }),
            None => None,
        };
        let key = match self.statement_key().await {
            Ok(k) => Some(k),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(ProfitShareSummary {
            period_net: owed.booked.net_pnl + owed.pending.net_pnl,
            period_trades: owed.booked.trades + owed.pending.trades,
            cumulative_net: state.cumulative_net,
            high_water_mark: state.high_water_mark,
            owed_now: owed,
            platform_ratio: settings.platform_ratio,
            mode: settings.mode,
            include_manual: settings.include_manual,
            last_settlement: last,
            key,
        })
    }

    /// Checks a signed statement as the platform would: against this profile's statement
    /// key and the exchange's records this account synced (sync first for the latest). The
    /// statement is a stored one (`settlement_id`) or a file's text; a stored statement is
    /// also checked against the one before it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a settlement without a statement or no key yet;
    /// [`AppError::InvalidInput`] for a text that is not a signed statement, or neither or
    /// both of the two given.
    pub async fn verify_statement(
        &self,
        settlement_id: Option<i64>,
        statement_json: Option<&str>,
    ) -> Result<StatementCheckView, AppError> {
        let account = self.active_account_id().await?;
        let (signed, previous) = match (settlement_id, statement_json) {
            (Some(sid), None) => {
                let signed = self.store.statement(account, sid).await?.ok_or_else(|| {
                    AppError::NotFound(format!("the signed statement of settlement {sid}"))
                })?;
                let ids: Vec<i64> = self
                    .store
                    .settlements(account)
                    .await?
                    .iter()
                    .map(|s| s.id)
                    .take_while(|id| *id != sid)
                    .collect();
                let previous = match ids.last() {
                    Some(p) => self.store.statement(account, *p).await?,
                    None => None,
                };
                (signed, previous)
            }
            (None, Some(text)) => (
                SignedStatement::from_json(text)
                    .map_err(|e| AppError::invalid("statement", e.to_string()))?,
                None,
            ),
            _ => {
                return Err(AppError::invalid(
                    "statement",
                    "give a settlement id or a statement's text, one of the two",
                ));
            }
        };
        let trusted: PublicKey = self
            .statement_key()
            .await?
            .public_key
            .parse()
            .map_err(|e| internal("stored statement key", e))?;
        let records = self.synced_records().await?;
        let check = verify(
            &signed,
            &trusted,
            records.records(),
            Expectations {
                agreed_ratio: None,
                previous: previous.as_ref().map(|p| &p.statement),
            },
        );
        Ok(StatementCheckView {
            settlement_sequence: signed.statement.sequence,
            genuine: check.is_genuine(),
            problems: check.problems.iter().map(ToString::to_string).collect(),
            notes: check.notes,
            signed_by: signed.public_key.fingerprint(),
            fills: records.fills.len(),
            income_rows: records.income.len(),
        })
    }
}
