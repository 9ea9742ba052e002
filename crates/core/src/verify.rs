//! The platform's check of a signed settlement statement against the exchange's own records.
//!
//! [`verify`] is a pure function: a statement, the public key the platform was given, and
//! the account's fills and income rows as the exchange reports them (fetched with a
//! read-only key, or read from an export) go in; every difference comes out, each with the
//! number the statement states, the number recomputed and why. Nothing in the statement is
//! taken on trust except what the records cannot show (the opening mark and cumulative net,
//! which [`verify_chain`] checks against the previous statement):
//!
//! - the signature, against the key the platform holds;
//! - each row against the round trip the records give for its trade ref: trade ids, income
//!   ids, symbol, closing time and net (realised PnL − commission + funding, by the same
//!   [`crate::pnl::round_trips`] the app books with);
//! - each row's cumulative net, mark, shareable amount and split, recomputed from the row
//!   before it (or the opening) with the ledger's rule, so a difference is reported at the
//!   row where it arises instead of in every row after it;
//! - the changes of terms, the settlement's decision and the totals;
//! - that every shared trade the records show closing inside the period is listed.
//!
//! A row's records must reach back to the fill that opened its position: give the records
//! from at least the earliest trade id the statement lists, per symbol.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::ledger::{LedgerState, ShareRatio, ShareTotals, is_shared};
use crate::pnl::{RoundTrip, round_trips};
use crate::statement::{
    STATEMENT_FORMAT, SettlementRule, SettlementStatement, SignatureProblem, SignedStatement,
    StatementRow, terms_changes,
};
use crate::{Fill, Income, PublicKey};

/// The exchange's own records of the account.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    pub fills: &'a [Fill],
    pub income: &'a [Income],
}

/// What the platform expects besides the records.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expectations<'a> {
    /// The split agreed with the user: a row or decision with another is reported.
    pub agreed_ratio: Option<ShareRatio>,
    /// The statement before this one, whose closing state this one must open with.
    pub previous: Option<&'a SettlementStatement>,
}

/// One difference between a statement and what it should say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Discrepancy {
    #[error("statement format {0:?} is not {STATEMENT_FORMAT:?}")]
    UnknownFormat(String),
    #[error("signature: {0}")]
    Signature(SignatureProblem),
    #[error("{at}: no closed trade {trade_ref} in the exchange's records{missing}")]
    RowNotInRecords {
        at: String,
        trade_ref: String,
        /// Which of the row's trade ids the records lack, as text for the message.
        missing: String,
    },
    #[error("{at}: {what} is {stated} in the statement but {recomputed} {why}")]
    Mismatch {
        at: String,
        what: &'static str,
        stated: String,
        recomputed: String,
        why: &'static str,
    },
    #[error(
        "trade {trade_ref} ({symbol}, net {net}) closed at {closed_at} inside the period and \
         is shared, but the statement does not list it"
    )]
    MissingTrade {
        trade_ref: String,
        symbol: String,
        net: Decimal,
        closed_at: DateTime<Utc>,
    },
    #[error("trade {trade_ref} is listed twice (rows {first} and {second})")]
    Duplicate {
        trade_ref: String,
        first: usize,
        second: usize,
    },
    #[error("{at}: the split {stated} is not the agreed {agreed}")]
    SplitNotAgreed {
        at: String,
        stated: Decimal,
        agreed: Decimal,
    },
    #[error("{at}: closed at {closed_at}, after the settlement at {settled_at}")]
    AfterSettlement {
        at: String,
        closed_at: DateTime<Utc>,
        settled_at: DateTime<Utc>,
    },
}

/// The outcome of a check: genuine when there are no problems.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub problems: Vec<Discrepancy>,
    /// What was taken as stated or looked unusual without being wrong.
    pub notes: Vec<String>,
}

impl Verification {
    /// Returns true when the signature holds and every number agrees with the records.
    pub fn is_genuine(&self) -> bool {
        self.problems.is_empty()
    }

    /// Renders the outcome as lines for a terminal or a file.
    pub fn report(&self) -> String {
        let mut out = if self.is_genuine() {
            "VERIFIED: the signature holds and every number agrees with the exchange's records.\n"
                .to_owned()
        } else {
            format!("NOT VERIFIED: {} problem(s)\n", self.problems.len())
        };
        for p in &self.problems {
            out.push_str(&format!("  - {p}\n"));
        }
        for n in &self.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
        out
    }
}

fn at_row(i: usize, r: &StatementRow) -> String {
    format!("row {} ({})", i + 1, r.trade_ref)
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Collects differences so each check is one line.
struct Findings(Vec<Discrepancy>);

impl Findings {
    fn differ<T: PartialEq + ToString>(
        &mut self,
        at: &str,
        what: &'static str,
        stated: &T,
        recomputed: &T,
        why: &'static str,
    ) {
        if stated != recomputed {
            self.0.push(Discrepancy::Mismatch {
                at: at.to_owned(),
                what,
                stated: stated.to_string(),
                recomputed: recomputed.to_string(),
                why,
            });
        }
    }
}

struct Ids<'a>(&'a [i64]);

impl std::fmt::Display for Ids<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.0.iter().map(i64::to_string).collect();
        write!(f, "[{}]", list.join(", "))
    }
}

fn sorted(v: &[i64]) -> Vec<i64> {
    let mut out = v.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

/// Checks one signed statement; see the module documentation for what is checked.
pub fn verify(
    signed: &SignedStatement,
    trusted: &PublicKey,
    records: Records<'_>,
    expect: Expectations<'_>,
) -> Verification {
    let s = &signed.statement;
    let mut found = Findings(Vec::new());
    let mut notes = Vec::new();
    if s.format != STATEMENT_FORMAT {
        found.0.push(Discrepancy::UnknownFormat(s.format.clone()));
    }
    if let Err(e) = signed.check_signature(trusted) {
        found.0.push(Discrepancy::Signature(e));
    }
    check_opening(s, expect.previous, &mut found, &mut notes);

    let trips: BTreeMap<String, RoundTrip> = round_trips(records.fills, records.income)
        .into_iter()
        .filter_map(|t| Some((t.closed_trade()?.trade_ref, t)))
        .collect();
    let known_fills: BTreeSet<(String, i64)> = records
        .fills
        .iter()
        .map(|f| (f.symbol.to_string(), f.trade_id))
        .collect();
    let mut listed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut before = s.opening.clone();
    for (i, row) in s.rows.iter().enumerate() {
        let at = at_row(i, row);
        if let Some(first) = listed.insert(&row.trade_ref, i) {
            found.0.push(Discrepancy::Duplicate {
                trade_ref: row.trade_ref.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
        if row.closed_at_ms > s.settled_at_ms {
            found.0.push(Discrepancy::AfterSettlement {
                at: at.clone(),
                closed_at: time(row.closed_at_ms),
                settled_at: time(s.settled_at_ms),
            });
        }
        if s.period_start_ms
            .is_some_and(|start| row.closed_at_ms <= start)
        {
            notes.push(format!(
                "{at} closed before the period began; it was booked after the previous \
                 settlement (synced late)"
            ));
        }
        let net = match trips.get(&row.trade_ref) {
            Some(trip) => check_against_trip(&at, row, trip, &mut found),
            None => {
                let missing: Vec<i64> = row
                    .trade_ids
                    .iter()
                    .copied()
                    .filter(|id| !known_fills.contains(&(row.symbol.to_string(), *id)))
                    .collect();
                found.0.push(Discrepancy::RowNotInRecords {
                    at: at.clone(),
                    trade_ref: row.trade_ref.clone(),
                    missing: if missing.is_empty() {
                        String::new()
                    } else {
                        format!(" (trade ids {} are not in them)", Ids(&missing))
                    },
                });
                // Without records the stated net is all there is; the row's arithmetic is
                // still checked on it.
                row.net
            }
        };
        check_row_arithmetic(&at, row, &before, net, expect.agreed_ratio, &mut found);
        before = row.state_after();
    }

    // A bad split in a row is reported by the row's own check.
    if let Ok(changes) = terms_changes(s.opening_terms, &s.rows)
        && changes != s.changes
    {
        found.differ(
            "changes of terms",
            "the list",
            &format!("{:?}", s.changes),
            &format!("{changes:?}"),
            "from the rows' own terms",
        );
    }
    check_decision(s, &before, expect.agreed_ratio, &mut found);
    check_totals(s, &mut found);
    check_missing(s, &trips, &listed, &mut found);
    Verification {
        problems: found.0,
        notes,
    }
}

/// Checks each statement of a chain, the first against nothing before it and each later
/// one against the one before (sequence, period start, opening state and terms).
pub fn verify_chain(
    chain: &[SignedStatement],
    trusted: &PublicKey,
    records: Records<'_>,
    agreed_ratio: Option<ShareRatio>,
) -> Vec<Verification> {
    chain
        .iter()
        .enumerate()
        .map(|(i, signed)| {
            let previous = i.checked_sub(1).map(|p| &chain[p].statement);
            let first_of_account = previous.is_none() && signed.statement.sequence == 1;
            verify(
                signed,
                trusted,
                records,
                Expectations {
                    agreed_ratio,
                    previous: if first_of_account { None } else { previous },
                },
            )
        })
        .collect()
}

fn check_opening(
    s: &SettlementStatement,
    previous: Option<&SettlementStatement>,
    found: &mut Findings,
    notes: &mut Vec<String>,
) {
    let why = "where the previous statement closed";
    match previous {
        Some(p) => {
            found.differ(
                "opening",
                "the sequence number",
                &s.sequence,
                &(p.sequence + 1),
                "(one after the previous statement)",
            );
            found.differ(
                "opening",
                "the period start",
                &format!("{:?}", s.period_start_ms.map(time)),
                &format!("{:?}", Some(time(p.settled_at_ms))),
                "(the previous settlement)",
            );
            let closing = p.closing();
            found.differ(
                "opening",
                "the cumulative net",
                &s.opening.cumulative_net,
                &closing.cumulative_net,
                why,
            );
            found.differ(
                "opening",
                "the mark",
                &s.opening.high_water_mark,
                &closing.high_water_mark,
                why,
            );
            found.differ(
                "opening",
                "the terms",
                &format!("{:?}", s.opening_terms),
                &format!("{:?}", p.closing_terms()),
                "(the previous period's newest row)",
            );
        }
        None if s.sequence <= 1 => {
            let why = "for an account's first settlement";
            found.differ("opening", "the sequence number", &s.sequence, &1, why);
            found.differ(
                "opening",
                "the cumulative net",
                &s.opening.cumulative_net,
                &Decimal::ZERO,
                why,
            );
            found.differ(
                "opening",
                "the mark",
                &s.opening.high_water_mark,
                &Decimal::ZERO,
                why,
            );
            found.differ(
                "opening",
                "the period start",
                &format!("{:?}", s.period_start_ms),
                &"None".to_owned(),
                why,
            );
        }
        None => notes.push(format!(
            "the opening cumulative net {} and mark {} are as the statement states: give the \
             previous statement (#{}) to check them",
            s.opening.cumulative_net,
            s.opening.high_water_mark,
            s.sequence - 1
        )),
    }
}

/// Compares a row with its round trip in the records; returns the net the records give.
fn check_against_trip(
    at: &str,
    row: &StatementRow,
    trip: &RoundTrip,
    found: &mut Findings,
) -> Decimal {
    let why = "in the exchange's records";
    found.differ(
        at,
        "the symbol",
        &row.symbol.to_string(),
        &trip.symbol.to_string(),
        why,
    );
    let closed = trip.closed_at.map_or(0, |t| t.timestamp_millis());
    found.differ(
        at,
        "the closing time",
        &time(row.closed_at_ms),
        &time(closed),
        why,
    );
    let (stated, records) = (sorted(&row.trade_ids), sorted(&trip.trade_ids));
    found.differ(
        at,
        "the trade id list",
        &Ids(&stated).to_string(),
        &Ids(&records).to_string(),
        why,
    );
    let (stated, records) = (sorted(&row.income_ids), sorted(&trip.income_ids));
    found.differ(
        at,
        "the income id list",
        &Ids(&stated).to_string(),
        &Ids(&records).to_string(),
        why,
    );
    let net = trip.net();
    found.differ(
        at,
        "the net (realised PnL − commission + funding)",
        &row.net,
        &net,
        "from the exchange's records",
    );
    net
}

fn check_row_arithmetic(
    at: &str,
    row: &StatementRow,
    before: &LedgerState,
    net: Decimal,
    agreed: Option<ShareRatio>,
    found: &mut Findings,
) {
    let ratio = match ShareRatio::new(row.platform_ratio) {
        Ok(r) => r,
        Err(e) => {
            found.differ(
                at,
                "the split",
                &row.platform_ratio.to_string(),
                &e.to_string(),
                "(a split is between 0 and 1)",
            );
            return;
        }
    };
    if let Some(agreed) = agreed
        && agreed != ratio
    {
        found.0.push(Discrepancy::SplitNotAgreed {
            at: at.to_owned(),
            stated: ratio.platform(),
            agreed: agreed.platform(),
        });
    }
    let (shareable, after) = before.book_net(net, row.mode);
    let (platform, user) = ratio.split(shareable);
    let why = "by the ledger's rule from the row before";
    found.differ(
        at,
        "the cumulative net",
        &row.cumulative_net_after,
        &after.cumulative_net,
        why,
    );
    found.differ(at, "the mark", &row.mark_after, &after.high_water_mark, why);
    found.differ(at, "the shareable amount", &row.shareable, &shareable, why);
    found.differ(
        at,
        "the platform share",
        &row.platform_share,
        &platform,
        why,
    );
    found.differ(at, "the user share", &row.user_share, &user, why);
}

fn check_decision(
    s: &SettlementStatement,
    after_rows: &LedgerState,
    agreed: Option<ShareRatio>,
    found: &mut Findings,
) {
    let at = "settlement";
    match (s.rule, &s.decision) {
        (SettlementRule::SumOfRows, None) => {}
        (SettlementRule::SumOfRows, Some(_)) => found.differ(
            at,
            "the decision",
            &"present".to_owned(),
            &"absent".to_owned(),
            "under the sum-of-rows rule",
        ),
        (SettlementRule::AboveTheMark, None) => found.differ(
            at,
            "the decision",
            &"absent".to_owned(),
            &"present".to_owned(),
            "under the above-the-mark rule",
        ),
        (SettlementRule::AboveTheMark, Some(d)) => {
            let Some(terms) = s.rows.last().and_then(|r| r.terms().ok()) else {
                found.differ(
                    at,
                    "the rows",
                    &"none".to_owned(),
                    &"at least one".to_owned(),
                    "for a settlement",
                );
                return;
            };
            if let Some(agreed) = agreed
                && agreed != d.platform_ratio
            {
                found.0.push(Discrepancy::SplitNotAgreed {
                    at: at.to_owned(),
                    stated: d.platform_ratio.platform(),
                    agreed: agreed.platform(),
                });
            }
            let why = "from the newest row's terms and state";
            let expected = after_rows.decide(terms.platform_ratio, terms.mode);
            found.differ(
                at,
                "the split",
                &d.platform_ratio.platform(),
                &expected.platform_ratio.platform(),
                why,
            );
            found.differ(
                at,
                "the mode",
                &format!("{:?}", d.mode),
                &format!("{:?}", expected.mode),
                why,
            );
            found.differ(
                at,
                "the cumulative net",
                &d.cumulative_net,
                &expected.cumulative_net,
                why,
            );
            found.differ(
                at,
                "the mark before",
                &d.mark_before,
                &expected.mark_before,
                why,
            );
            // The decision's own arithmetic, on its own stated inputs, so a changed mark
            // shows as a wrong amount too.
            let own = LedgerState {
                cumulative_net: d.cumulative_net,
                high_water_mark: d.mark_before,
            }
            .decide(d.platform_ratio, d.mode);
            let why = "= max(0, cumulative net − mark), split";
            found.differ(
                at,
                "the shareable amount",
                &d.shareable,
                &own.shareable,
                why,
            );
            found.differ(
                at,
                "the platform share",
                &d.platform_share,
                &own.platform_share,
                why,
            );
            found.differ(at, "the user share", &d.user_share, &own.user_share, why);
            found.differ(
                at,
                "the mark after",
                &d.mark_after,
                &own.mark_after,
                "= mark + shareable",
            );
        }
    }
}

fn check_totals(s: &SettlementStatement, found: &mut Findings) {
    let rows = s.rows.iter().fold(ShareTotals::default(), |mut t, r| {
        t.trades += 1;
        t.net_pnl += r.net;
        t.shareable += r.shareable;
        t.platform_share += r.platform_share;
        t.user_share += r.user_share;
        t
    });
    let mut expected = rows;
    if let Some(d) = &s.decision {
        expected.shareable += d.shareable;
        expected.platform_share += d.platform_share;
        expected.user_share += d.user_share;
    }
    let (at, why) = ("totals", "as the sum of the rows and the decision");
    let t = &s.totals;
    found.differ(at, "the number of trades", &t.trades, &expected.trades, why);
    found.differ(at, "the net", &t.net_pnl, &expected.net_pnl, why);
    found.differ(
        at,
        "the shareable amount",
        &t.shareable,
        &expected.shareable,
        why,
    );
    found.differ(
        at,
        "the platform share",
        &t.platform_share,
        &expected.platform_share,
        why,
    );
    found.differ(
        at,
        "the user share",
        &t.user_share,
        &expected.user_share,
        why,
    );
}

fn check_missing(
    s: &SettlementStatement,
    trips: &BTreeMap<String, RoundTrip>,
    listed: &BTreeMap<&str, usize>,
    found: &mut Findings,
) {
    let mut missing: Vec<&RoundTrip> = trips
        .iter()
        .filter(|(trade_ref, _)| !listed.contains_key(trade_ref.as_str()))
        .map(|(_, t)| t)
        .filter(|t| {
            t.closed_at.is_some_and(|c| {
                let ms = c.timestamp_millis();
                ms <= s.settled_at_ms && s.period_start_ms.is_none_or(|start| ms > start)
            })
        })
        .filter(|t| is_shared(t, s.include_manual))
        .collect();
    missing.sort_by_key(|t| t.closed_at);
    for t in missing {
        let Some(closed) = t.closed_trade() else {
            continue;
        };
        found.0.push(Discrepancy::MissingTrade {
            trade_ref: closed.trade_ref.clone(),
            symbol: t.symbol.to_string(),
            net: closed.net(),
            closed_at: closed.closed_at,
        });
    }
}
