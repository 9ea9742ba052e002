//! Settlement statements the platform can verify.
//!
//! A [`SettlementStatement`] lists everything behind one settlement: every ledger row of
//! the period with the exchange trade ids and income ids it derives from, the mode and split
//! each row was booked under (and where they changed), the marks and cumulative net before
//! and after, what the settlement decided and the totals. It is plain data, built from the
//! stored ledger by [`SettlementStatement::build`], which replays the rows with the ledger's
//! own rule and refuses a ledger whose stored numbers do not follow from it.
//!
//! Signing: the statement's canonical bytes ([`SettlementStatement::canonical_bytes`]) are
//! a domain prefix followed by its compact JSON (fields in declaration order, amounts as
//! exact decimal strings, times as UTC milliseconds, no maps), so parsing a statement and
//! serialising it again gives the bytes that were signed, whatever whitespace the file
//! picked up on the way. A [`SignedStatement`] carries the statement, the signer's
//! [`PublicKey`] and the Ed25519 signature; the private key lives in the vault, so this
//! module only verifies. [`crate::verify`] recomputes every number from the exchange's own
//! records.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::Symbol;
use crate::ledger::{
    Decision, LedgerState, RatioError, ShareEntry, ShareMode, ShareRatio, ShareTotals, settle,
};

/// The `format` every statement this build writes carries; others are refused.
pub const STATEMENT_FORMAT: &str = "perpdesk.settlement-statement/1";

/// Prefixed to the JSON before signing, so a statement's signature can never be taken for a
/// signature over anything else the same key signs.
const SIGNING_DOMAIN: &[u8] = b"perpdesk settlement statement v1\n";

/// The rule a settlement was made under, so an older statement reads as what it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementRule {
    /// Before settlements decided anything (perpdesk before issue 20): a settlement paid
    /// the sum of its rows' shares, each decided when the row was booked.
    SumOfRows,
    /// The rows' own shares plus the share the settlement decides above the mark
    /// ([`LedgerState::decide`]).
    AboveTheMark,
}

/// A split and a mode: the terms a row was booked under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    pub mode: ShareMode,
    pub platform_ratio: ShareRatio,
}

/// A change of terms between two consecutive rows (or from the previous period's last row
/// to this period's first), so the platform sees every change of split or mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermsChange {
    /// Index in [`SettlementStatement::rows`] of the first row booked under `to`.
    pub row: usize,
    pub trade_ref: String,
    pub from: Terms,
    pub to: Terms,
}

/// One ledger row as a statement lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRow {
    pub trade_ref: String,
    pub symbol: Symbol,
    pub closed_at_ms: i64,
    pub mode: ShareMode,
    pub platform_ratio: Decimal,
    /// Realised PnL − commission + funding of the trade.
    pub net: Decimal,
    pub cumulative_net_after: Decimal,
    pub mark_after: Decimal,
    /// The part shared when the row was booked (0 under the settlement mode).
    pub shareable: Decimal,
    pub platform_share: Decimal,
    pub user_share: Decimal,
    /// The exchange's trade ids of the fills that opened and closed the position.
    pub trade_ids: Vec<i64>,
    /// The exchange's income `tranId`s (realised PnL, commission, funding) behind it.
    pub income_ids: Vec<i64>,
}

impl StatementRow {
    /// Returns the row's terms.
    ///
    /// # Errors
    /// [`RatioError`] for a split outside 0..=1.
    pub fn terms(&self) -> Result<Terms, RatioError> {
        Ok(Terms {
            mode: self.mode,
            platform_ratio: ShareRatio::new(self.platform_ratio)?,
        })
    }

    /// Returns the ledger state after the row, as the row states it.
    pub fn state_after(&self) -> LedgerState {
        LedgerState {
            cumulative_net: self.cumulative_net_after,
            high_water_mark: self.mark_after,
        }
    }
}

/// Everything behind one settlement, ready to be signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementStatement {
    /// [`STATEMENT_FORMAT`].
    pub format: String,
    pub rule: SettlementRule,
    /// The account, as the platform knows it (the app's label for it).
    pub account: String,
    /// 1 for the account's first settlement, then one more each time.
    pub sequence: u64,
    /// When the previous settlement was made; `None` for the first.
    pub period_start_ms: Option<i64>,
    pub settled_at_ms: i64,
    /// Whether manual trades were shared (signal trades always are).
    pub include_manual: bool,
    /// The cumulative net and the mark at the previous settlement (zero for the first).
    pub opening: LedgerState,
    /// The terms of the previous period's newest row (`None` for the first settlement).
    pub opening_terms: Option<Terms>,
    pub rows: Vec<StatementRow>,
    /// Every change of split or mode, in row order.
    pub changes: Vec<TermsChange>,
    /// What the settlement decided itself; `None` under [`SettlementRule::SumOfRows`].
    pub decision: Option<Decision>,
    /// What the settlement pays: the rows' shares plus the decision.
    pub totals: ShareTotals,
}

/// What [`SettlementStatement::build`] needs: the stored settlement's period.
#[derive(Debug, Clone)]
pub struct StatementInput<'a> {
    pub account: &'a str,
    pub sequence: u64,
    pub period_start: Option<DateTime<Utc>>,
    pub settled_at: DateTime<Utc>,
    pub include_manual: bool,
    pub opening: LedgerState,
    pub opening_terms: Option<Terms>,
    /// The period's ledger rows, oldest first, with their symbols.
    pub rows: &'a [(Symbol, ShareEntry)],
    pub rule: SettlementRule,
}

/// Why a statement cannot be built, read or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// A stored row does not follow from the rows before it under the ledger's rule.
    #[error(
        "ledger row {row} ({trade_ref}): stored {field} is {stored}, the rule gives {expected}"
    )]
    RowDoesNotFollow {
        row: usize,
        trade_ref: String,
        field: &'static str,
        stored: Decimal,
        expected: Decimal,
    },
    /// A stored ratio is not a split.
    #[error("ledger row {row}: {source}")]
    BadRatio { row: usize, source: RatioError },
    /// A settlement under the sum-of-rows rule cannot hold rows waiting for a settlement.
    #[error("a sum-of-rows settlement cannot cover row {row}, booked under the settlement mode")]
    RuleDoesNotFit { row: usize },
    /// The JSON is not a statement this build reads.
    #[error("not a signed settlement statement: {0}")]
    Unreadable(String),
    /// The statement was written in another format.
    #[error("statement format {found:?} is not {STATEMENT_FORMAT:?}")]
    UnknownFormat { found: String },
}

impl SettlementStatement {
    /// Builds the statement of a stored settlement, replaying its rows from `opening` with
    /// the ledger's rule: every stored number must come out exactly, or nothing is built.
    ///
    /// # Errors
    /// [`StatementError::RowDoesNotFollow`] or [`StatementError::BadRatio`] for a row whose
    /// stored numbers the rule does not give; [`StatementError::RuleDoesNotFit`] for a
    /// settlement-mode row under the sum-of-rows rule.
    pub fn build(input: &StatementInput<'_>) -> Result<Self, StatementError> {
        let mut state = input.opening.clone();
        let mut rows = Vec::with_capacity(input.rows.len());
        for (i, (symbol, e)) in input.rows.iter().enumerate() {
            let ratio = ShareRatio::new(e.platform_ratio)
                .map_err(|source| StatementError::BadRatio { row: i, source })?;
            if input.rule == SettlementRule::SumOfRows && e.mode.decides_at_settlement() {
                return Err(StatementError::RuleDoesNotFit { row: i });
            }
            let (shareable, next) = state.book_net(e.total_pnl, e.mode);
            let (platform, user) = ratio.split(shareable);
            for (field, stored, expected) in [
                (
                    "cumulative net",
                    e.cumulative_net_after,
                    next.cumulative_net,
                ),
                ("mark", e.high_water_mark_after, next.high_water_mark),
                ("shareable", e.shareable, shareable),
                ("platform share", e.platform_share, platform),
                ("user share", e.user_share, user),
            ] {
                if stored != expected {
                    return Err(StatementError::RowDoesNotFollow {
                        row: i,
                        trade_ref: e.trade_ref.clone(),
                        field,
                        stored,
                        expected,
                    });
                }
            }
            state = next;
            rows.push(StatementRow {
                trade_ref: e.trade_ref.clone(),
                symbol: symbol.clone(),
                closed_at_ms: e.time.timestamp_millis(),
                mode: e.mode,
                platform_ratio: e.platform_ratio,
                net: e.total_pnl,
                cumulative_net_after: e.cumulative_net_after,
                mark_after: e.high_water_mark_after,
                shareable: e.shareable,
                platform_share: e.platform_share,
                user_share: e.user_share,
                trade_ids: sorted(&e.trade_ids),
                income_ids: sorted(&e.income_ids),
            });
        }
        let entries: Vec<ShareEntry> = input.rows.iter().map(|(_, e)| e.clone()).collect();
        let (decision, totals) = match input.rule {
            SettlementRule::SumOfRows => (None, ShareTotals::of(&entries)),
            SettlementRule::AboveTheMark => match settle(&state, &entries) {
                Ok(Some(s)) => (Some(s.decision), s.totals),
                Ok(None) => (None, ShareTotals::default()),
                Err(source) => {
                    return Err(StatementError::BadRatio {
                        row: entries.len().saturating_sub(1),
                        source,
                    });
                }
            },
        };
        let changes = terms_changes(input.opening_terms, &rows)
            .map_err(|(row, source)| StatementError::BadRatio { row, source })?;
        Ok(Self {
            format: STATEMENT_FORMAT.to_owned(),
            rule: input.rule,
            account: input.account.to_owned(),
            sequence: input.sequence,
            period_start_ms: input.period_start.map(|t| t.timestamp_millis()),
            settled_at_ms: input.settled_at.timestamp_millis(),
            include_manual: input.include_manual,
            opening: input.opening.clone(),
            opening_terms: input.opening_terms,
            rows,
            changes,
            decision,
            totals,
        })
    }

    /// Returns the bytes that are signed: a domain prefix and the compact JSON.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = SIGNING_DOMAIN.to_vec();
        let json = serde_json::to_vec(self)
            .expect("a statement is plain structs with string keys, which always serialise");
        out.extend_from_slice(&json);
        out
    }

    /// Returns the ledger state after the settlement: what the next statement opens with.
    pub fn closing(&self) -> LedgerState {
        let after_rows = self
            .rows
            .last()
            .map_or_else(|| self.opening.clone(), StatementRow::state_after);
        match &self.decision {
            Some(d) => after_rows.settled(d),
            None => after_rows,
        }
    }

    /// Returns the terms of the newest row (or the opening terms when there is none).
    pub fn closing_terms(&self) -> Option<Terms> {
        self.rows
            .last()
            .and_then(|r| r.terms().ok())
            .or(self.opening_terms)
    }

    /// Renders the statement for printing, in Simplified Chinese and English: each row with
    /// its ids and arithmetic, every change of terms, and the settlement's own arithmetic.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let time = |ms: i64| {
            DateTime::from_timestamp_millis(ms).map_or_else(
                || format!("{ms} ms"),
                |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
            )
        };
        // Trailing zeros carry no meaning on paper; the JSON keeps amounts as stored.
        let n = |d: Decimal| d.normalize();
        let pct = |r: Decimal| format!("{}%", (r * Decimal::ONE_HUNDRED).normalize());
        let mode = |m: ShareMode| match m {
            ShareMode::Settlement => "结算时 at settlement",
            ShareMode::HighWaterMark => "逐笔高水位 per-trade high-water mark",
            ShareMode::PerTrade => "逐笔 per trade",
        };
        let _ = writeln!(
            out,
            "分润结算单 Profit-share settlement statement #{}",
            self.sequence
        );
        let _ = writeln!(out, "账户 Account: {}", self.account);
        let _ = writeln!(
            out,
            "周期 Period: {} → {}",
            self.period_start_ms
                .map_or_else(|| "开始 start".to_owned(), time),
            time(self.settled_at_ms)
        );
        let _ = writeln!(
            out,
            "规则 Rule: {}",
            match self.rule {
                SettlementRule::SumOfRows => "逐行合计 sum of the rows' shares",
                SettlementRule::AboveTheMark =>
                    "结算时高于高水位的部分 above the mark at settlement",
            }
        );
        let _ = writeln!(
            out,
            "包含手动交易 Manual trades shared: {}",
            if self.include_manual {
                "是 yes"
            } else {
                "否 no"
            }
        );
        let _ = writeln!(
            out,
            "期初 Opening: 累计净盈亏 cumulative net {}, 高水位 mark {}",
            n(self.opening.cumulative_net),
            n(self.opening.high_water_mark)
        );
        let _ = writeln!(out);
        for (i, r) in self.rows.iter().enumerate() {
            for c in self.changes.iter().filter(|c| c.row == i) {
                let _ = writeln!(
                    out,
                    "   ! 条款变更 Terms changed: {} {} → {} {}",
                    mode(c.from.mode),
                    pct(c.from.platform_ratio.platform()),
                    mode(c.to.mode),
                    pct(c.to.platform_ratio.platform())
                );
            }
            let _ = writeln!(
                out,
                "{}. {} 平仓 closed {}",
                i + 1,
                r.trade_ref,
                time(r.closed_at_ms)
            );
            let _ = writeln!(
                out,
                "   净盈亏 net {}, 累计 cumulative {}, 高水位 mark {}",
                n(r.net),
                n(r.cumulative_net_after),
                n(r.mark_after)
            );
            if r.mode.decides_at_settlement() {
                let _ = writeln!(
                    out,
                    "   {}, 平台 platform {}: 在结算时决定 decided at the settlement",
                    mode(r.mode),
                    pct(r.platform_ratio)
                );
            } else {
                let _ = writeln!(
                    out,
                    "   {}, 平台 platform {}: 可分成 shareable {} = 平台 platform {} + 用户 user {}",
                    mode(r.mode),
                    pct(r.platform_ratio),
                    n(r.shareable),
                    n(r.platform_share),
                    n(r.user_share)
                );
            }
            let _ = writeln!(
                out,
                "   成交 trade ids {}; 资金流水 income ids {}",
                ids(&r.trade_ids),
                ids(&r.income_ids)
            );
        }
        let _ = writeln!(out);
        if let Some(d) = &self.decision {
            let _ = writeln!(
                out,
                "结算 Settlement ({}, 平台 platform {}):",
                mode(d.mode),
                pct(d.platform_ratio.platform())
            );
            let _ = writeln!(
                out,
                "   max(0, 累计 cumulative {} − 高水位 mark {}) = 可分成 shareable {}",
                n(d.cumulative_net),
                n(d.mark_before),
                n(d.shareable)
            );
            let _ = writeln!(
                out,
                "   平台 platform {} (向零取整 rounded toward zero) + 用户 user {}",
                n(d.platform_share),
                n(d.user_share)
            );
            let _ = writeln!(out, "   新高水位 new mark {}", n(d.mark_after));
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "合计 Totals: {} 笔 trades, 净盈亏 net {}, 可分成 shareable {}, 应付平台 platform {}, 归用户 user {}",
            t.trades,
            n(t.net_pnl),
            n(t.shareable),
            n(t.platform_share),
            n(t.user_share)
        );
        out
    }
}

fn ids(v: &[i64]) -> String {
    if v.is_empty() {
        return "—".to_owned();
    }
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

fn sorted(v: &[i64]) -> Vec<i64> {
    let mut out = v.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

/// Lists where consecutive rows' terms differ, starting from `opening`. Errors carry the
/// index of a row whose split is not one.
pub(crate) fn terms_changes(
    opening: Option<Terms>,
    rows: &[StatementRow],
) -> Result<Vec<TermsChange>, (usize, RatioError)> {
    let mut out = Vec::new();
    let mut previous = opening;
    for (i, r) in rows.iter().enumerate() {
        let terms = r.terms().map_err(|e| (i, e))?;
        if let Some(from) = previous
            && from != terms
        {
            out.push(TermsChange {
                row: i,
                trade_ref: r.trade_ref.clone(),
                from,
                to: terms,
            });
        }
        previous = Some(terms);
    }
    Ok(out)
}

/// An Ed25519 public key, the part of the signing key the user gives the platform.
///
/// Text form: `ed25519:` and 64 hex digits. [`PublicKey::fingerprint`] is short enough to
/// read out and compare by eye.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

/// Why a text is not a public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a public key is `ed25519:` followed by 64 hex digits")]
    Format,
    #[error("those 32 bytes are not an Ed25519 public key")]
    NotAKey,
}

impl PublicKey {
    /// Wraps the 32 bytes of an Ed25519 public key.
    ///
    /// # Errors
    /// [`KeyError::NotAKey`] when the bytes are not a point on the curve.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotAKey)?;
        Ok(Self(bytes))
    }

    /// Returns the key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Returns the first 8 bytes of the key's SHA-256 in four groups of hex digits.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0);
        digest[..8].chunks(2).map(hex).collect::<Vec<_>>().join("-")
    }

    /// Checks `signature` over `message` strictly (no malleable or small-order forms).
    fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        VerifyingKey::from_bytes(&self.0)
            .and_then(|k| k.verify_strict(message, &Signature::from_bytes(signature)))
            .is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", hex(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().strip_prefix("ed25519:").ok_or(KeyError::Format)?;
        let bytes: [u8; 32] = unhex(digits)
            .and_then(|v| v.try_into().ok())
            .ok_or(KeyError::Format)?;
        Self::from_bytes(bytes)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Why a signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("the signature is not 128 hex digits")]
    Unreadable,
    #[error("signed with another key (fingerprint {signed_by}), not the one you hold ({expected})")]
    OtherKey { signed_by: String, expected: String },
    #[error(
        "the signature does not match the statement: it was changed after it was signed, or \
         was signed with another key"
    )]
    DoesNotMatch,
}

/// A statement with its Ed25519 signature over [`SettlementStatement::canonical_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStatement {
    pub statement: SettlementStatement,
    /// The key that signed, as the signer states it; trust comes from comparing it with
    /// the key the platform was given, never from this field.
    pub public_key: PublicKey,
    /// 128 hex digits.
    pub signature: String,
}

impl SignedStatement {
    /// Wraps a statement with its signature, checking that the signature holds.
    ///
    /// # Errors
    /// [`SignatureProblem::DoesNotMatch`] when `signature` is not `public_key`'s signature
    /// of the statement's canonical bytes.
    pub fn new(
        statement: SettlementStatement,
        public_key: PublicKey,
        signature: [u8; 64],
    ) -> Result<Self, SignatureProblem> {
        let signed = Self {
            statement,
            public_key,
            signature: hex(&signature),
        };
        signed.check_signature(&public_key)?;
        Ok(signed)
    }

    /// Checks that the statement was signed by `trusted` and not changed since.
    ///
    /// # Errors
    /// [`SignatureProblem`] naming what is wrong.
    pub fn check_signature(&self, trusted: &PublicKey) -> Result<(), SignatureProblem> {
        let signature: [u8; 64] = unhex(&self.signature)
            .and_then(|v| v.try_into().ok())
            .ok_or(SignatureProblem::Unreadable)?;
        if &self.public_key != trusted {
            return Err(SignatureProblem::OtherKey {
                signed_by: self.public_key.fingerprint(),
                expected: trusted.fingerprint(),
            });
        }
        if trusted.verifies(&self.statement.canonical_bytes(), &signature) {
            Ok(())
        } else {
            Err(SignatureProblem::DoesNotMatch)
        }
    }

    /// Returns the signed statement as indented JSON, the file given to the platform.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a statement is plain structs with string keys, which always serialise")
    }

    /// Reads a signed statement, refusing unknown fields and other formats.
    ///
    /// # Errors
    /// [`StatementError::Unreadable`] or [`StatementError::UnknownFormat`].
    pub fn from_json(json: &str) -> Result<Self, StatementError> {
        let signed: Self =
            serde_json::from_str(json).map_err(|e| StatementError::Unreadable(e.to_string()))?;
        if signed.statement.format != STATEMENT_FORMAT {
            return Err(StatementError::UnknownFormat {
                found: signed.statement.format,
            });
        }
        Ok(signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_read_back_from_their_text_and_refuse_junk() {
        // The Ed25519 base point's encoding: a valid key with known bytes.
        let mut bytes = [0u8; 32];
        bytes[0] = 0x58;
        bytes[1..].fill(0x66);
        let key = PublicKey::from_bytes(bytes).expect("base point");
        let text = key.to_string();
        assert_eq!(text.len(), "ed25519:".len() + 64);
        assert_eq!(text.parse::<PublicKey>(), Ok(key));
        assert_eq!(format!(" {text}\n").parse::<PublicKey>(), Ok(key));
        assert_eq!(key.fingerprint().len(), 19);
        assert_eq!("58666666".parse::<PublicKey>(), Err(KeyError::Format));
        assert_eq!(
            format!("ed25519:{}", "zz".repeat(32)).parse::<PublicKey>(),
            Err(KeyError::Format)
        );
        assert_eq!(
            format!("ed25519:{}", "é".repeat(32)).parse::<PublicKey>(),
            Err(KeyError::Format)
        );
        // y = 2 has no x on the curve.
        let mut off = [0u8; 32];
        off[0] = 2;
        assert_eq!(PublicKey::from_bytes(off), Err(KeyError::NotAKey));
    }
}
