//! The platform's side of the profit share (issue 20): the exchange's records of an account,
//! fetched with a (read-only) key or read from an export, and the check of a signed
//! settlement statement against them ([`perpdesk_core::verify`]).
//!
//! The export is the binance crate's exchange-records file
//! ([`perpdesk_binance::ExchangeRecords`], `docs/profit-share.md`): `userTrades` and `income`
//! rows as the exchange returns them, plus the client order ids `allOrders` gives, which say
//! which trades were opened from a signal. The app writes it from what it synced
//! ([`Engine::export_records`]); `perpdesk-app export-records` writes it from a fetch.
//!
//! Fetching takes the account's whole trade list of every symbol the income history names
//! (and the statement's), because a row's round trip reaches back to its opening fill, and
//! the income history from `since`: the caller picks it before the earliest position the
//! statement covers ([`records_since`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use perpdesk_binance::{Client, ExchangeRecords};
use perpdesk_core::verify::{Expectations, Records, Verification, verify};
use perpdesk_core::{Fill, Income, PublicKey, SettlementStatement, SignedStatement, Symbol};

use crate::records::Exported;
use crate::{AppError, Engine};

/// How far before a statement's period its records are fetched by default: funding and
/// opening fills of a position that was open when the period began lie before it.
pub const RECORDS_REACH_DAYS: i64 = 30;

/// The exchange's records of one account, in domain terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRecords {
    /// Every fill, with the client order id of its order where the exchange gave one.
    pub fills: Vec<Fill>,
    /// The income history rows.
    pub income: Vec<Income>,
}

impl AccountRecords {
    /// Reads an exchange-records export.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] (field `records`) for text that is not one, naming why.
    pub fn from_export(text: &str) -> Result<Self, AppError> {
        let (fills, income) = ExchangeRecords::from_json(text)
            .and_then(|r| r.to_domain())
            .map_err(|e| AppError::invalid("records", e.to_string()))?;
        Ok(Self { fills, income })
    }

    /// Renders the records as an exchange-records export taken at `at`.
    pub fn to_export(&self, at: DateTime<Utc>) -> String {
        ExchangeRecords::from_domain(&self.fills, &self.income, at).to_json()
    }

    /// The records as the pure verifier reads them.
    pub fn records(&self) -> Records<'_> {
        Records {
            fills: &self.fills,
            income: &self.income,
        }
    }
}

/// Returns where a statement's records should start: [`RECORDS_REACH_DAYS`] before its
/// period (or its earliest row, for an account's first statement).
pub fn records_since(statement: &SettlementStatement) -> DateTime<Utc> {
    let first = statement
        .rows
        .iter()
        .map(|r| r.closed_at_ms)
        .chain(statement.period_start_ms)
        .min()
        .unwrap_or(statement.settled_at_ms);
    let start = DateTime::from_timestamp_millis(first).unwrap_or_default();
    (start - Duration::days(RECORDS_REACH_DAYS)).max(DateTime::UNIX_EPOCH)
}

/// Fetches an account's records through `client`: the income history from `since`, and the
/// whole trade list of `symbols` and of every symbol that history names, each fill with its
/// order's client id (from `allOrders`).
///
/// # Errors
/// [`AppError::Exchange`] when the exchange refuses the key or cannot be reached.
pub async fn fetch_records(
    client: &Client,
    since: DateTime<Utc>,
    symbols: &[Symbol],
) -> Result<AccountRecords, AppError> {
    let income = client.income_from(since, |_| {}).await?;
    let every: BTreeSet<Symbol> = symbols
        .iter()
        .cloned()
        .chain(income.iter().filter_map(|i| i.symbol.clone()))
        .collect();
    let mut fills = Vec::new();
    for symbol in &every {
        let mut of_symbol = client.fills_from(symbol, 0, |_| {}).await?;
        let orders: BTreeSet<i64> = of_symbol.iter().map(|f| f.order_id).collect();
        let ids = client.client_order_ids(symbol, &orders).await?;
        for f in &mut of_symbol {
            f.client_order_id = ids.get(&f.order_id).cloned();
        }
        fills.extend(of_symbol);
    }
    Ok(AccountRecords { fills, income })
}

/// Checks a signed statement, as its JSON text, against `records`.
///
/// # Errors
/// [`AppError::InvalidInput`] (field `statement`) for text that is not a signed statement.
pub fn verify_json(
    statement: &str,
    trusted: &PublicKey,
    records: &AccountRecords,
    expect: Expectations<'_>,
) -> Result<Verification, AppError> {
    let signed = SignedStatement::from_json(statement)
        .map_err(|e| AppError::invalid("statement", e.to_string()))?;
    Ok(verify(&signed, trusted, records.records(), expect))
}

/// The symbols a statement's rows name, for a fetch.
pub fn statement_symbols(statement: &SettlementStatement) -> Vec<Symbol> {
    let set: BTreeMap<String, Symbol> = statement
        .rows
        .iter()
        .map(|r| (r.symbol.to_string(), r.symbol.clone()))
        .collect();
    set.into_values().collect()
}

impl Engine {
    /// The records the active account's sync stored, as the exchange reported them.
    ///
    /// # Errors
    /// Store errors.
    pub async fn synced_records(&self) -> Result<AccountRecords, AppError> {
        let id = self.active_account_id().await?;
        Ok(AccountRecords {
            fills: self.store.fills(id, i64::MIN, i64::MAX).await?,
            income: self.store.income(id, i64::MIN, i64::MAX).await?,
        })
    }

    /// Writes the active account's synced records as an exchange-records export (JSON) to
    /// `exports` and returns its path and row count (fills + income rows). Sync first for
    /// the latest; the platform can also fetch them itself with a read-only key.
    ///
    /// # Errors
    /// Store errors; [`AppError::Io`] when the file cannot be written.
    pub async fn export_records(&self, exports: PathBuf) -> Result<Exported, AppError> {
        let records = self.synced_records().await?;
        let text = records.to_export(self.now(None));
        let rows = records.fills.len() + records.income.len();
        let path = crate::records::write_private_export(
            &exports,
            "perpdesk-exchange-records",
            "json",
            &text,
        )?;
        Ok(Exported {
            path: path.display().to_string(),
            rows,
        })
    }
}
