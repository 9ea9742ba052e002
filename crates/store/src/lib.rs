//! perpdesk's local database: one SQLite file per profile, reached through sqlx.
//!
//! Invariants every module keeps:
//! - **This is the only crate with SQL.** Other crates call the typed methods on [`Store`];
//!   no connection or pool ever leaves this crate.
//! - **Migrations are forward-only.** They live in `migrations/NNNN_name.sql`, are embedded
//!   at build time and are never edited once released; a schema change is a new file.
//! - **Money is decimal TEXT, never REAL.** Amounts are written with `Decimal::to_string`
//!   and parsed back with `Decimal::from_str`, so `"0.00000001"` round-trips exactly and
//!   keeps its scale. Tables are `STRICT`, so a column cannot quietly hold another type.
//! - **Money is never summed as TEXT in SQL** (SQLite would go through floating point).
//!   Fills and income also carry `*_e8` INTEGER shadows (the amount in 1e-8 units, NULL
//!   when that is not exact); summaries add those with integer `SUM()`, which is exact and
//!   raises on overflow, and add anything without a shadow (or on overflow, everything)
//!   in Rust over [`rust_decimal::Decimal`]. Only this crate writes rows, so the shadow
//!   always equals its TEXT column.
//! - **Times are INTEGER milliseconds since the Unix epoch, UTC.**
//! - **Sync is idempotent.** Fills are keyed by `(account_id, symbol, trade_id)` and income
//!   by `(account_id, income_type, tran_id)`; inserts use `ON CONFLICT DO NOTHING` and
//!   report how many rows were new, so re-fetching an overlapping window is harmless.
//! - **History is append-only.** `profit_share_ledger` (and its source links), its
//!   settlements, their decisions and signed statements, `order_events` and `audit_log`
//!   refuse UPDATE and DELETE through triggers; the statement signing key is never
//!   replaced or removed (only re-sealed).
//! - **A damaged file is never replaced.** [`Store::open`] runs `PRAGMA quick_check` before
//!   migrating and returns [`StoreError::Corrupt`] (or [`StoreError::NotSqlite`]) without
//!   writing to the file.
//!
//! Durability: WAL with `synchronous=NORMAL` (see [`Store::open`]); a writer killed with
//! SIGKILL loses no committed transaction, which the `crash` integration test checks.
//!
//! Mapping from the original system's tables: `user_api_configs` → `exchange_accounts`,
//! `trade_records` → `fills`, `profit_shares` → `profit_share_ledger`. Read-only views
//! under the old names exist for exports.

mod accounts;
mod audit;
mod error;
mod fills;
mod journal;
mod ledger;
mod positions;
mod settings;
mod settlements;
mod signals;
mod signing_key;
mod store;
mod value;

pub use accounts::{Account, Environment, NewAccount, SealedKind, SealedSecret};
pub use audit::AuditEntry;
pub use error::StoreError;
pub use fills::{PnlSummary, SyncCounts};
pub use journal::{JournalEntry, OrderEvent};
pub use ledger::LedgerRow;
pub use positions::PositionSnapshot;
pub use settlements::{SettledPeriod, Settlement};
pub use signals::{Direction, Signal};
pub use signing_key::StoredSigningKey;
pub use store::Store;

/// The result type of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
