//! What the records and profit-share panels show, and their CSV exports.
//!
//! Every number here is read from what sync stored from the exchange (fills, income) or
//! from the append-only ledger; nothing is estimated.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use perpdesk_core::journal::{parse_client_order_id, ticket_origin};
use perpdesk_core::{Fill, LedgerState, Period, PeriodPnl, ShareMode, ShareRatio, ShareTotals};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::books::{self, Owed, ShareSettings};
use crate::{AppError, Engine};

const LEDGER_SETTINGS: &str = "ledger.settings";

/// The profit-share settings as the UI edits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSettings {
    /// The platform's fraction of shared profit, 0..=1 (0.7 by default).
    pub platform_ratio: Decimal,
    pub mode: ShareMode,
    /// Share manual trades too (off by default: only signal trades are shared).
    pub include_manual: bool,
    /// How statements are grouped and settled.
    pub period: SettlementPeriod,
}

/// The settlement period, in the words the statements use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementPeriod {
    Daily,
    Weekly,
    Monthly,
}

impl From<SettlementPeriod> for Period {
    fn from(p: SettlementPeriod) -> Self {
        match p {
            SettlementPeriod::Daily => Period::Day,
            SettlementPeriod::Weekly => Period::Week,
            SettlementPeriod::Monthly => Period::Month,
        }
    }
}

impl Default for LedgerSettings {
    fn default() -> Self {
        let share = ShareSettings::default();
        Self {
            platform_ratio: share.platform_ratio.platform(),
            mode: share.mode,
            include_manual: share.include_manual,
            period: SettlementPeriod::Monthly,
        }
    }
}

impl LedgerSettings {
    /// The booking rules these settings select.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a ratio outside 0..=1.
    pub fn share(&self) -> Result<ShareSettings, AppError> {
        Ok(ShareSettings {
            platform_ratio: ShareRatio::new(self.platform_ratio)
                .map_err(|e| AppError::invalid("platform_ratio", e.to_string()))?,
            mode: self.mode,
            include_manual: self.include_manual,
        })
    }
}

/// A fill as the records panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TradeView {
    pub trade_id: i64,
    pub symbol: String,
    pub side: perpdesk_core::Side,
    pub price: Decimal,
    pub quantity: Decimal,
    pub realized_pnl: Decimal,
    pub commission: Decimal,
    pub time_ms: i64,
    pub client_order_id: Option<String>,
    pub ticket: Option<String>,
    /// `signal`, `manual`, or `external` (not placed by perpdesk).
    pub origin: &'static str,
}

impl TradeView {
    fn of(f: &Fill) -> Self {
        let ticket = f
            .client_order_id
            .as_ref()
            .and_then(parse_client_order_id)
            .map(|p| p.0);
        let origin = match ticket.as_deref().and_then(ticket_origin) {
            Some(perpdesk_core::TicketOrigin::Signal) => "signal",
            Some(perpdesk_core::TicketOrigin::Manual) => "manual",
            None => "external",
        };
        Self {
            trade_id: f.trade_id,
            symbol: f.symbol.to_string(),
            side: f.side,
            price: f.price,
            quantity: f.quantity,
            realized_pnl: f.realized_pnl,
            commission: f.commission,
            time_ms: f.time.timestamp_millis(),
            client_order_id: f.client_order_id.as_ref().map(ToString::to_string),
            ticket,
            origin,
        }
    }
}

/// One ledger row as the profit-share panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerRowView {
    pub id: i64,
    pub trade_ref: String,
    pub symbol: String,
    pub total_pnl: Decimal,
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
    pub platform_ratio: Decimal,
    pub mode: ShareMode,
    pub cumulative_net_after: Decimal,
    pub high_water_mark_after: Decimal,
    pub time_ms: i64,
    pub trade_ids: Vec<i64>,
    pub income_ids: Vec<i64>,
}

/// The profit-share panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerView {
    pub rows: Vec<LedgerRowView>,
    pub totals: ShareTotals,
    pub high_water_mark: Decimal,
    pub cumulative_net: Decimal,
    /// What settling now would pay (booked since the last settlement + closed, unbooked).
    pub owed_now: OwedView,
    pub settings: LedgerSettings,
}

/// What settling now would pay, with its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwedView {
    pub platform: Decimal,
    pub user: Decimal,
    #[serde(flatten)]
    pub detail: Owed,
}

/// A statement period's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementView {
    pub period_start: String,
    pub trades: u64,
    pub net_pnl: Decimal,
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
}

/// Where an export went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    pub path: String,
    pub rows: usize,
}

fn ms_range(from: Option<i64>, to: Option<i64>) -> (i64, i64) {
    (from.unwrap_or(0), to.unwrap_or(i64::MAX))
}

fn csv_field(s: &str) -> String {
    // Quote only when needed; a leading = + - @ is prefixed so a spreadsheet never runs it.
    let s = if s.starts_with(['=', '+', '@'])
        || (s.starts_with('-') && s.parse::<Decimal>().is_err())
    {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> (String, usize) {
    let mut out = header.join(",");
    out.push('\n');
    let mut n = 0;
    for row in rows {
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
        n += 1;
    }
    (out, n)
}

impl Engine {
    /// The profit-share settings (defaults: 70/30, decided at settlement, signal trades only).
    ///
    /// # Errors
    /// Store errors.
    pub async fn ledger_settings(&self) -> Result<LedgerSettings, AppError> {
        Ok(self
            .store
            .setting::<LedgerSettings>(LEDGER_SETTINGS)
            .await?
            .unwrap_or_default())
    }

    /// Validates and saves the profit-share settings. They apply to rows booked from now
    /// on; booked rows are never rewritten (each row records the ratio it used). Any change
    /// of the split or the basis needs the vault unlocked and `password`.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`]; for a change [`AppError::Locked`],
    /// [`AppError::PasswordRequired`], [`AppError::WrongPassword`]. Nothing changes on error.
    pub async fn set_ledger_settings(
        &self,
        settings: LedgerSettings,
        password: Option<perpdesk_vault::SecretString>,
    ) -> Result<LedgerSettings, AppError> {
        settings.share()?;
        let before = self.ledger_settings().await?;
        let changed = crate::safety::changes_ledger(&before, &settings);
        let loosened = if changed {
            vec!["ledger".to_owned()]
        } else {
            Vec::new()
        };
        let confirmed = self.confirm_loosening(&loosened, password).await?;
        self.store
            .put_setting(LEDGER_SETTINGS, &settings, self.now(None))
            .await?;
        self.audit(
            "user",
            "settings.ledger",
            serde_json::json!({
                "before": before, "settings": settings, "password_confirmed": confirmed,
            }),
        )
        .await;
        Ok(settings)
    }

    /// Stored fills of the active account, newest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn trades(
        &self,
        symbol: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Vec<TradeView>, AppError> {
        let id = self.active_account_id().await?;
        let (from, to) = ms_range(from_ms, to_ms);
        let mut fills = self.store.fills(id, from, to).await?;
        fills.retain(|f| symbol.is_none_or(|s| s.is_empty() || f.symbol.as_str() == s));
        fills.sort_by_key(|f| std::cmp::Reverse((f.time, f.trade_id)));
        Ok(fills.iter().map(TradeView::of).collect())
    }

    /// Realised PnL, commission, funding and net per period, from the exchange's income.
    ///
    /// # Errors
    /// Store errors.
    pub async fn pnl(&self, period: Period) -> Result<Vec<PeriodPnl>, AppError> {
        let id = self.active_account_id().await?;
        let income = self.store.income(id, 0, i64::MAX).await?;
        Ok(perpdesk_core::pnl::summarize(&income, period))
    }

    /// The ledger of the active account.
    ///
    /// # Errors
    /// Store errors.
    pub async fn ledger(&self) -> Result<LedgerView, AppError> {
        let id = self.active_account_id().await?;
        let settings = self.ledger_settings().await?;
        let rows = self.store.share_entries(id).await?;
        let totals = ShareTotals::of(rows.iter().map(|r| &r.entry));
        let LedgerState {
            cumulative_net,
            high_water_mark,
        } = self.store.ledger_state(id).await?;
        let owed_now = books::owed_now(&self.store, id, &settings.share()?)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(LedgerView {
            rows: rows
                .iter()
                .rev()
                .map(|r| LedgerRowView {
                    id: r.id,
                    trade_ref: r.entry.trade_ref.clone(),
                    symbol: r.symbol.to_string(),
                    total_pnl: r.entry.total_pnl,
                    shareable: r.entry.shareable,
                    platform_share: r.entry.platform_share,
                    user_share: r.entry.user_share,
                    platform_ratio: r.entry.platform_ratio,
                    mode: r.entry.mode,
                    cumulative_net_after: r.entry.cumulative_net_after,
                    high_water_mark_after: r.entry.high_water_mark_after,
                    time_ms: r.entry.time.timestamp_millis(),
                    trade_ids: r.entry.trade_ids.clone(),
                    income_ids: r.entry.income_ids.clone(),
                })
                .collect(),
            totals,
            high_water_mark,
            cumulative_net,
            owed_now: OwedView {
                platform: owed_now.total.platform_share,
                user: owed_now.total.user_share,
                detail: owed_now,
            },
            settings,
        })
    }

    /// Statement totals per period, oldest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn statements(&self, period: Period) -> Result<Vec<StatementView>, AppError> {
        let id = self.active_account_id().await?;
        let list = books::statements(&self.store, id, period)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(list
            .iter()
            .map(|s| StatementView {
                period_start: s.start.to_string(),
                trades: s.totals.trades,
                net_pnl: s.totals.net_pnl,
                shareable: s.totals.shareable,
                platform_share: s.totals.platform_share,
                user_share: s.totals.user_share,
            })
            .collect())
    }

    /// Settles everything booked so far (an append-only settlement row that decides the
    /// share above the mark), then signs its statement. A statement that cannot be signed
    /// now (the vault locked) is signed at the next unlock; the settlement stands either way.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when nothing is owed.
    pub async fn settle(&self) -> Result<serde_json::Value, AppError> {
        let id = self.active_account_id().await?;
        let at = self.now(None);
        let include_manual = self.ledger_settings().await?.include_manual;
        match books::settle(&self.store, id, at)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
        {
            Some(s) => {
                let mut done = serde_json::json!({
                    "settlement_id": s.id,
                    "period_end_ms": s.settled_at.timestamp_millis(),
                    "entries": s.entries,
                    "net_pnl": s.net_pnl,
                    "platform": s.platform_share,
                    "user": s.user_share,
                });
                self.audit("user", "ledger.settled", done.clone()).await;
                // A statement signed at a later unlock must state the settings of now.
                if let Err(e) = self.remember_settlement_terms(s.id, include_manual).await {
                    tracing::warn!(error = %e, settlement = s.id, "settlement terms not kept");
                }
                let signed = match self.sign_settlement(id, s.id).await {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, settlement = s.id, "statement left for the next unlock");
                        false
                    }
                };
                done["statement_signed"] = serde_json::Value::Bool(signed);
                Ok(done)
            }
            None => Err(AppError::Conflict(
                "nothing to settle: no ledger rows since the last settlement".into(),
            )),
        }
    }

    /// Writes a CSV export to the app's `exports/` folder and returns its path.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for an unknown kind; file errors.
    pub async fn export_csv(
        &self,
        exports: PathBuf,
        kind: &str,
        period: Option<Period>,
    ) -> Result<Exported, AppError> {
        let (text, rows) = match kind {
            "trades" => {
                let trades = self.trades(None, None, None).await?;
                csv(
                    &[
                        "time_utc",
                        "symbol",
                        "side",
                        "price",
                        "quantity",
                        "realized_pnl",
                        "commission",
                        "trade_id",
                        "client_order_id",
                        "origin",
                    ],
                    trades.iter().map(|t| {
                        vec![
                            DateTime::<Utc>::from_timestamp_millis(t.time_ms)
                                .map(|d| d.to_rfc3339())
                                .unwrap_or_default(),
                            t.symbol.clone(),
                            format!("{:?}", t.side).to_uppercase(),
                            t.price.to_string(),
                            t.quantity.to_string(),
                            t.realized_pnl.to_string(),
                            t.commission.to_string(),
                            t.trade_id.to_string(),
                            t.client_order_id.clone().unwrap_or_default(),
                            t.origin.to_owned(),
                        ]
                    }),
                )
            }
            "orders" => {
                let orders = self.orders(5000).await?;
                csv(
                    &[
                        "updated_utc",
                        "client_order_id",
                        "symbol",
                        "side",
                        "kind",
                        "quantity",
                        "price",
                        "trigger_price",
                        "state",
                        "exchange_order_id",
                    ],
                    orders.iter().map(|o| {
                        vec![
                            DateTime::<Utc>::from_timestamp_millis(o.updated_ms)
                                .map(|d| d.to_rfc3339())
                                .unwrap_or_default(),
                            o.client_order_id.clone(),
                            o.symbol.clone(),
                            format!("{:?}", o.side).to_uppercase(),
                            o.kind.to_owned(),
                            o.quantity.map(|q| q.to_string()).unwrap_or_default(),
                            o.price.map(|q| q.to_string()).unwrap_or_default(),
                            o.trigger_price.map(|q| q.to_string()).unwrap_or_default(),
                            o.state.to_string(),
                            o.exchange_order_id
                                .map(|q| q.to_string())
                                .unwrap_or_default(),
                        ]
                    }),
                )
            }
            "ledger" => {
                let ledger = self.ledger().await?;
                csv(
                    &[
                        "time_utc",
                        "trade_ref",
                        "symbol",
                        "total_pnl",
                        "shareable",
                        "platform_share",
                        "user_share",
                        "platform_ratio",
                        "mode",
                        "high_water_mark_after",
                        "binance_trade_ids",
                        "binance_income_ids",
                    ],
                    ledger.rows.iter().rev().map(|r| {
                        vec![
                            DateTime::<Utc>::from_timestamp_millis(r.time_ms)
                                .map(|d| d.to_rfc3339())
                                .unwrap_or_default(),
                            r.trade_ref.clone(),
                            r.symbol.clone(),
                            r.total_pnl.to_string(),
                            r.shareable.to_string(),
                            r.platform_share.to_string(),
                            r.user_share.to_string(),
                            r.platform_ratio.to_string(),
                            format!("{:?}", r.mode),
                            r.high_water_mark_after.to_string(),
                            join(&r.trade_ids),
                            join(&r.income_ids),
                        ]
                    }),
                )
            }
            "statement" => {
                let period = match period {
                    Some(p) => p,
                    None => self.ledger_settings().await?.period.into(),
                };
                let list = self.statements(period).await?;
                csv(
                    &[
                        "period_start",
                        "trades",
                        "net_pnl",
                        "shareable",
                        "platform_share",
                        "user_share",
                    ],
                    list.iter().map(|s| {
                        vec![
                            s.period_start.clone(),
                            s.trades.to_string(),
                            s.net_pnl.to_string(),
                            s.shareable.to_string(),
                            s.platform_share.to_string(),
                            s.user_share.to_string(),
                        ]
                    }),
                )
            }
            other => {
                return Err(AppError::invalid(
                    "kind",
                    format!("unknown export {other:?}; use trades, orders, ledger or statement"),
                ));
            }
        };
        let path = write_private_export(&exports, &format!("perpdesk-{kind}"), "csv", &text)?;
        Ok(Exported {
            path: path.display().to_string(),
            rows,
        })
    }
}

fn join(ids: &[i64]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `text` to `exports/<name>-<UTC stamp>.<ext>` and returns the path. The folder is
/// made private; the file is written beside and renamed, so a reader never sees half a file,
/// and is owner-only on Unix whatever the umask (trades, shares and the exchange's records
/// are nobody else's business).
pub(crate) fn write_private_export(
    exports: &std::path::Path,
    name: &str,
    ext: &str,
    text: &str,
) -> Result<std::path::PathBuf, AppError> {
    crate::info::private_dir(exports)?;
    let stamp = Utc::now().format("%Y%m%d-%H%M%S");
    let path = exports.join(format!("{name}-{stamp}.{ext}"));
    let tmp = path.with_extension(format!("{ext}.part"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| AppError::Io {
            action: "write",
            path: path.display().to_string(),
            source,
        })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let (text, n) = csv(
            &["a", "b"],
            vec![
                vec!["=1+1".to_owned(), "x,\"y\"".to_owned()],
                vec!["-3.5".into(), "-x".into()],
            ],
        );
        assert_eq!(n, 2);
        assert_eq!(text, "a,b\n'=1+1,\"x,\"\"y\"\"\"\n-3.5,'-x\n");
    }

    #[test]
    fn default_settings_are_seventy_thirty_at_settlement() {
        let s = LedgerSettings::default();
        assert_eq!(s.platform_ratio, Decimal::new(7, 1));
        assert_eq!(s.mode, ShareMode::Settlement);
        assert!(!s.include_manual);
        assert!(s.share().is_ok());
        let bad = LedgerSettings {
            platform_ratio: Decimal::new(15, 1),
            ..s
        };
        assert!(bad.share().is_err());
    }
}
