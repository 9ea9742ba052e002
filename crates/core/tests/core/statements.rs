//! Signed settlement statements and the platform's verifier, on the doc example's records:
//! a genuine chain verifies, and each kind of tampering is caught with a clear reason.

use perpdesk_core::statement::{
    STATEMENT_FORMAT, SignatureProblem, StatementError, StatementInput,
};
use perpdesk_core::verify::{
    Discrepancy, Expectations, Records, Verification, verify, verify_chain,
};
use perpdesk_core::{
    Fill, Income, IncomeKind, PublicKey, SettlementRule, SettlementStatement, ShareMode,
    ShareRatio, SignedStatement,
};
use perpdesk_vault::StatementSigningKey;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{
    SettledPeriod, book_and_settle, btc, doc_time, example_records, example_settlement_times,
    example_trades,
};

const ACCOUNT: &str = "user 1042 / Binance sub-account A";

struct Desk {
    key: StatementSigningKey,
    public: PublicKey,
    fills: Vec<Fill>,
    income: Vec<Income>,
    periods: Vec<SettledPeriod>,
}

impl Desk {
    /// The doc example at 70/30, settled weekly at settlement, with a fresh signing key.
    fn new() -> Self {
        let key = StatementSigningKey::generate().expect("key");
        let public = PublicKey::from_bytes(key.public_key()).expect("public key");
        let (fills, income) = example_records();
        let periods = book_and_settle(&example_trades(), &example_settlement_times(), |_| {
            (ShareRatio::default(), ShareMode::Settlement)
        });
        Self {
            key,
            public,
            fills,
            income,
            periods,
        }
    }

    fn records(&self) -> Records<'_> {
        Records {
            fills: &self.fills,
            income: &self.income,
        }
    }

    fn statement(&self, i: usize) -> SettlementStatement {
        self.periods[i].statement(ACCOUNT, false)
    }

    fn sign(&self, statement: SettlementStatement) -> SignedStatement {
        sign_with(&self.key, statement)
    }

    fn signed(&self, i: usize) -> SignedStatement {
        self.sign(self.statement(i))
    }

    /// Verifies statement `i` against the previous genuine one and the agreed 70%.
    fn check(&self, signed: &SignedStatement, i: usize) -> Verification {
        let previous = i.checked_sub(1).map(|p| self.statement(p));
        verify(
            signed,
            &self.public,
            self.records(),
            Expectations {
                agreed_ratio: Some(ShareRatio::default()),
                previous: previous.as_ref(),
            },
        )
    }
}

fn sign_with(key: &StatementSigningKey, statement: SettlementStatement) -> SignedStatement {
    let signature = key.sign(&statement.canonical_bytes());
    let public = PublicKey::from_bytes(key.public_key()).expect("public key");
    SignedStatement::new(statement, public, signature).expect("a fresh signature holds")
}

/// The mismatches of a verification as (where, what) pairs.
fn mismatches(v: &Verification) -> Vec<(String, &'static str)> {
    v.problems
        .iter()
        .filter_map(|p| match p {
            Discrepancy::Mismatch { at, what, .. } => Some((at.clone(), *what)),
            _ => None,
        })
        .collect()
}

fn changed_after_signing(v: &Verification) -> bool {
    v.problems
        .contains(&Discrepancy::Signature(SignatureProblem::DoesNotMatch))
}

#[test]
fn a_genuine_chain_of_statements_verifies_against_the_exchange_records() {
    let desk = Desk::new();
    let chain: Vec<SignedStatement> = (0..desk.periods.len()).map(|i| desk.signed(i)).collect();
    let results = verify_chain(
        &chain,
        &desk.public,
        desk.records(),
        Some(ShareRatio::default()),
    );
    assert_eq!(results.len(), 4);
    for (i, v) in results.iter().enumerate() {
        assert!(v.is_genuine(), "statement {}: {}", i + 1, v.report());
        assert!(v.notes.is_empty(), "{:?}", v.notes);
    }
    assert!(results[0].report().starts_with("VERIFIED"));
    let third = &chain[2].statement;
    assert_eq!(third.format, STATEMENT_FORMAT);
    assert_eq!(third.rows.len(), 2);
    assert_eq!(
        third.totals.platform_share,
        Decimal::ZERO,
        "ended below the mark"
    );
    assert_eq!(third.rows[1].income_ids, vec![9005]);
    assert_eq!(third.rows[1].trade_ids, vec![1013, 1014]);

    // What the platform receives is a file: indented JSON reads back to the same bytes.
    let json = chain[3].to_json();
    let read = SignedStatement::from_json(&json).expect("reads back");
    assert_eq!(read, chain[3]);
    assert_eq!(
        read.statement.canonical_bytes(),
        chain[3].statement.canonical_bytes()
    );
    assert!(desk.check(&read, 3).is_genuine());
}

#[test]
fn a_statement_alone_verifies_with_its_opening_taken_as_stated() {
    let desk = Desk::new();
    let v = verify(
        &desk.signed(2),
        &desk.public,
        desk.records(),
        Expectations::default(),
    );
    assert!(v.is_genuine(), "{}", v.report());
    assert_eq!(v.notes.len(), 1);
    assert!(
        v.notes[0].contains("give the previous statement (#2)"),
        "{:?}",
        v.notes
    );
}

#[test]
fn a_changed_amount_is_caught() {
    let desk = Desk::new();
    let mut signed = desk.signed(3);
    let d = signed.statement.decision.as_mut().expect("decision");
    d.platform_share -= dec!(1);
    d.user_share += dec!(1);
    let v = desk.check(&signed, 3);
    assert!(changed_after_signing(&v), "{}", v.report());
    let m = mismatches(&v);
    assert!(
        m.contains(&("settlement".into(), "the platform share")),
        "{m:?}"
    );
    assert!(
        m.contains(&("settlement".into(), "the user share")),
        "{m:?}"
    );
    assert!(
        m.contains(&("totals".into(), "the platform share")),
        "{m:?}"
    );
    let text = v.report();
    assert!(
        text.contains(
            "settlement: the platform share is 3.38767884 in the statement but 4.38767884"
        ),
        "{text}"
    );

    let mut signed = desk.signed(0);
    signed.statement.rows[1].net = dec!(-4.4377823);
    let v = desk.check(&signed, 0);
    let m = mismatches(&v);
    assert!(
        m.contains(&(
            "row 2 (BTCUSDT:Both:1003)".into(),
            "the net (realised PnL − commission + funding)"
        )),
        "{m:?}"
    );
    assert!(
        v.report().contains("from the exchange's records"),
        "{}",
        v.report()
    );
}

#[test]
fn a_dropped_losing_trade_is_caught() {
    let desk = Desk::new();
    // A ledger that never booked trade 7 (the week's loss) settles week 3 above the mark,
    // and its statement is signed with the genuine key: only the records can tell.
    let trades: Vec<_> = example_trades()
        .into_iter()
        .filter(|t| t.trade_ref != "BTCUSDT:Both:1013")
        .collect();
    let dishonest = book_and_settle(&trades, &example_settlement_times(), |_| {
        (ShareRatio::default(), ShareMode::Settlement)
    });
    let signed = desk.sign(dishonest[2].statement(ACCOUNT, false));
    assert!(signed.statement.totals.platform_share > Decimal::ZERO);
    let v = desk.check(&signed, 2);
    assert_eq!(
        v.problems,
        vec![Discrepancy::MissingTrade {
            trade_ref: "BTCUSDT:Both:1013".into(),
            symbol: "BTCUSDT".into(),
            net: dec!(-14.4780747),
            closed_at: doc_time("2026-11-17 18:30"),
        }],
        "{}",
        v.report()
    );
    assert!(v.report().contains("does not list it"));

    // Dropping the row from a genuine statement breaks the signature and the chain of
    // cumulative nets at the row after it... here the last row, so the settlement.
    let mut signed = desk.signed(2);
    signed.statement.rows.pop();
    let v = desk.check(&signed, 2);
    assert!(changed_after_signing(&v));
    assert!(v.problems.iter().any(|p| matches!(p, Discrepancy::MissingTrade { trade_ref, .. } if trade_ref == "BTCUSDT:Both:1013")));
    assert!(mismatches(&v).contains(&("settlement".into(), "the cumulative net")));
}

#[test]
fn a_changed_split_is_caught_and_a_genuine_change_is_shown() {
    let desk = Desk::new();
    let mut signed = desk.signed(3);
    signed.statement.rows[0].platform_ratio = dec!(0.5);
    let v = desk.check(&signed, 3);
    assert!(changed_after_signing(&v));
    assert!(v.problems.contains(&Discrepancy::SplitNotAgreed {
        at: "row 1 (BTCUSDT:Both:1015)".into(),
        stated: dec!(0.5),
        agreed: dec!(0.7),
    }));
    let m = mismatches(&v);
    assert!(m.contains(&("settlement".into(), "the split")), "{m:?}");
    assert!(
        m.contains(&("changes of terms".into(), "the list")),
        "{m:?}"
    );

    // The user lowers the platform's split to 50% before week 4: the statement is
    // consistent and genuinely signed, and shows the change; the platform sees that it
    // differs from what was agreed.
    let periods = book_and_settle(&example_trades(), &example_settlement_times(), |i| {
        let ratio = if i >= 7 { dec!(0.5) } else { dec!(0.7) };
        (
            ShareRatio::new(ratio).expect("ratio"),
            ShareMode::Settlement,
        )
    });
    let statement = periods[3].statement(ACCOUNT, false);
    assert_eq!(statement.changes.len(), 1);
    assert_eq!(statement.changes[0].row, 0);
    assert_eq!(
        statement.changes[0].from.platform_ratio.platform(),
        dec!(0.7)
    );
    assert_eq!(statement.changes[0].to.platform_ratio.platform(), dec!(0.5));
    assert!(statement.to_text().contains("Terms changed"));
    let signed = desk.sign(statement);
    let v = verify(
        &signed,
        &desk.public,
        desk.records(),
        Expectations {
            agreed_ratio: Some(ShareRatio::default()),
            previous: Some(&desk.statement(2)),
        },
    );
    assert_eq!(
        v.problems,
        vec![
            Discrepancy::SplitNotAgreed {
                at: "row 1 (BTCUSDT:Both:1015)".into(),
                stated: dec!(0.5),
                agreed: dec!(0.7),
            },
            Discrepancy::SplitNotAgreed {
                at: "settlement".into(),
                stated: dec!(0.5),
                agreed: dec!(0.7),
            },
        ],
        "{}",
        v.report()
    );
}

#[test]
fn a_changed_mark_is_caught() {
    let desk = Desk::new();
    let mut signed = desk.signed(3);
    signed
        .statement
        .decision
        .as_mut()
        .expect("decision")
        .mark_before = dec!(15);
    let v = desk.check(&signed, 3);
    assert!(changed_after_signing(&v));
    let m = mismatches(&v);
    assert!(
        m.contains(&("settlement".into(), "the mark before")),
        "{m:?}"
    );
    assert!(
        m.contains(&("settlement".into(), "the shareable amount")),
        "{m:?}"
    );

    // A lower opening mark, signed with the genuine key: the previous statement closed
    // higher, and every row's mark follows from the opening.
    let mut statement = desk.statement(3);
    statement.opening.high_water_mark = dec!(15.2055413);
    let v = desk.check(&desk.sign(statement), 3);
    assert!(!changed_after_signing(&v));
    let m = mismatches(&v);
    assert!(m.contains(&("opening".into(), "the mark")), "{m:?}");
    assert!(
        m.contains(&("row 1 (BTCUSDT:Both:1015)".into(), "the mark")),
        "{m:?}"
    );
    assert!(v.report().contains("where the previous statement closed"));
}

#[test]
fn an_added_or_removed_income_row_is_caught() {
    let desk = Desk::new();
    let mut signed = desk.signed(2);
    signed.statement.rows[1].income_ids.push(9999);
    let v = desk.check(&signed, 2);
    assert!(changed_after_signing(&v));
    assert!(v.report().contains(
        "row 2 (BTCUSDT:Both:1013): the income id list is [9005, 9999] in the statement but [9005] in the exchange's records"
    ), "{}", v.report());

    let mut signed = desk.signed(2);
    signed.statement.rows[1].income_ids.clear();
    let v = desk.check(&signed, 2);
    assert!(mismatches(&v).contains(&("row 2 (BTCUSDT:Both:1013)".into(), "the income id list")));

    // The exchange shows a funding payment the statement left out: the row's ids and net
    // no longer match the records.
    let mut income = desk.income.clone();
    income.push(Income {
        tran_id: 9010,
        symbol: Some(btc()),
        kind: IncomeKind::FundingFee,
        amount: dec!(-0.5),
        asset: "USDT".into(),
        trade_id: None,
        info: "FUNDING_FEE".into(),
        time: doc_time("2026-11-17 16:00"),
    });
    let v = verify(
        &desk.signed(2),
        &desk.public,
        Records {
            fills: &desk.fills,
            income: &income,
        },
        Expectations::default(),
    );
    let m = mismatches(&v);
    assert!(
        m.contains(&("row 2 (BTCUSDT:Both:1013)".into(), "the income id list")),
        "{m:?}"
    );
    assert!(
        m.contains(&(
            "row 2 (BTCUSDT:Both:1013)".into(),
            "the net (realised PnL − commission + funding)"
        )),
        "{m:?}"
    );
}

#[test]
fn a_statement_re_signed_with_another_key_is_caught() {
    let desk = Desk::new();
    let other = StatementSigningKey::generate().expect("key");
    let mut statement = desk.statement(1);
    statement.totals.platform_share = Decimal::ZERO;
    statement.totals.user_share = statement.totals.shareable;
    let forged = sign_with(&other, statement);
    let v = desk.check(&forged, 1);
    let other_public = PublicKey::from_bytes(other.public_key()).expect("key");
    assert!(
        v.problems
            .contains(&Discrepancy::Signature(SignatureProblem::OtherKey {
                signed_by: other_public.fingerprint(),
                expected: desk.public.fingerprint(),
            }))
    );
    assert!(
        v.report().contains("signed with another key"),
        "{}",
        v.report()
    );

    // Naming the genuine key does not help the forger.
    let mut claimed = forged.clone();
    claimed.public_key = desk.public;
    let v = desk.check(&claimed, 1);
    assert!(changed_after_signing(&v));
    assert!(mismatches(&v).contains(&("totals".into(), "the platform share")));
}

#[test]
fn a_row_without_its_fills_in_the_records_is_reported() {
    let desk = Desk::new();
    let fills: Vec<Fill> = desk
        .fills
        .iter()
        .filter(|f| f.trade_id != 1014)
        .cloned()
        .collect();
    let v = verify(
        &desk.signed(2),
        &desk.public,
        Records {
            fills: &fills,
            income: &desk.income,
        },
        Expectations::default(),
    );
    assert!(
        v.problems.contains(&Discrepancy::RowNotInRecords {
            at: "row 2 (BTCUSDT:Both:1013)".into(),
            trade_ref: "BTCUSDT:Both:1013".into(),
            missing: " (trade ids [1014] are not in them)".into(),
        }),
        "{}",
        v.report()
    );
}

#[test]
fn unknown_fields_and_formats_are_refused() {
    let desk = Desk::new();
    let json = desk.signed(0).to_json();
    let extra = json.replacen("\"account\"", "\"bonus\": \"1\",\n    \"account\"", 1);
    assert!(matches!(
        SignedStatement::from_json(&extra),
        Err(StatementError::Unreadable(_))
    ));
    let other = json.replacen(STATEMENT_FORMAT, "perpdesk.settlement-statement/9", 1);
    assert!(matches!(
        SignedStatement::from_json(&other),
        Err(StatementError::UnknownFormat { .. })
    ));
}

#[test]
fn a_ledger_whose_stored_numbers_do_not_follow_builds_no_statement() {
    let desk = Desk::new();
    let mut period = desk.periods[0].clone();
    period.rows[2].1.cumulative_net_after += dec!(0.00000001);
    let err = SettlementStatement::build(&StatementInput {
        account: ACCOUNT,
        sequence: 1,
        period_start: None,
        settled_at: period.settled_at,
        include_manual: false,
        opening: period.opening.clone(),
        opening_terms: None,
        rows: &period.rows,
        rule: SettlementRule::AboveTheMark,
    })
    .expect_err("a row off by one unit");
    assert!(
        matches!(
            err,
            StatementError::RowDoesNotFollow {
                row: 2,
                field: "cumulative net",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_settlement_made_before_the_settlement_mode_reads_under_its_own_rule() {
    let desk = Desk::new();
    let periods = book_and_settle(&example_trades(), &example_settlement_times(), |_| {
        (ShareRatio::default(), ShareMode::HighWaterMark)
    });
    let p = &periods[2];
    let input = StatementInput {
        account: ACCOUNT,
        sequence: p.sequence,
        period_start: p.period_start,
        settled_at: p.settled_at,
        include_manual: false,
        opening: p.opening.clone(),
        opening_terms: p.opening_terms,
        rows: &p.rows,
        rule: SettlementRule::SumOfRows,
    };
    let statement = SettlementStatement::build(&input).expect("old rows build");
    assert_eq!(statement.decision, None);
    assert_eq!(
        statement.totals.shareable,
        dec!(7.281),
        "trade 6, shared as it closed"
    );
    let v = verify(
        &desk.sign(statement),
        &desk.public,
        desk.records(),
        Expectations::default(),
    );
    assert!(v.is_genuine(), "{}", v.report());

    let settlement_rows = &desk.periods[2].rows;
    let err = SettlementStatement::build(&StatementInput {
        rows: settlement_rows,
        ..input
    })
    .expect_err("settlement-mode rows under the old rule");
    assert_eq!(err, StatementError::RuleDoesNotFit { row: 0 });
}

/// Inside the first week the user lowers the split to 60% before the third trade and
/// switches to the per-trade high-water mark before the fourth: the statement lists both
/// changes at the rows they first apply to, verifies as genuine, and a row's basis edited
/// after signing is caught.
#[test]
fn a_change_of_split_and_basis_inside_a_period_is_listed_and_checked() {
    let desk = Desk::new();
    let periods = book_and_settle(&example_trades(), &example_settlement_times(), |i| {
        let ratio = ShareRatio::new(if i >= 2 { dec!(0.6) } else { dec!(0.7) }).expect("ratio");
        let mode = if i >= 3 {
            ShareMode::HighWaterMark
        } else {
            ShareMode::Settlement
        };
        (ratio, mode)
    });
    let statement = periods[0].statement(ACCOUNT, false);
    assert_eq!(statement.rows.len(), 4, "the doc's first week");
    let changes: Vec<(usize, ShareMode, Decimal, ShareMode, Decimal)> = statement
        .changes
        .iter()
        .map(|c| {
            (
                c.row,
                c.from.mode,
                c.from.platform_ratio.platform(),
                c.to.mode,
                c.to.platform_ratio.platform(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                2,
                ShareMode::Settlement,
                dec!(0.7),
                ShareMode::Settlement,
                dec!(0.6)
            ),
            (
                3,
                ShareMode::Settlement,
                dec!(0.6),
                ShareMode::HighWaterMark,
                dec!(0.6)
            ),
        ]
    );
    assert_eq!(statement.rows[1].platform_ratio, dec!(0.7));
    assert_eq!(statement.rows[2].platform_ratio, dec!(0.6));
    assert_eq!(statement.rows[3].mode, ShareMode::HighWaterMark);
    // The fourth row shares the whole week's 15.2055413 above the mark of 0 as it closes;
    // the settlement decides nothing more, and the totals are the same money at 60%.
    assert_eq!(statement.rows[3].shareable, dec!(15.2055413));
    assert_eq!(statement.totals.shareable, dec!(15.2055413));
    assert_eq!(
        statement.totals.platform_share + statement.totals.user_share,
        statement.totals.shareable
    );
    assert_eq!(statement.totals.platform_share, dec!(9.12332478));
    let text = statement.to_text();
    assert!(text.contains("Terms changed"), "{text}");

    let signed = desk.sign(statement);
    let v = verify(
        &signed,
        &desk.public,
        desk.records(),
        Expectations {
            agreed_ratio: None,
            previous: None,
        },
    );
    assert!(v.is_genuine(), "{}", v.report());

    let mut edited = signed.clone();
    edited.statement.rows[3].mode = ShareMode::Settlement;
    let v = verify(
        &edited,
        &desk.public,
        desk.records(),
        Expectations {
            agreed_ratio: None,
            previous: None,
        },
    );
    assert!(changed_after_signing(&v), "{}", v.report());
    let m = mismatches(&v);
    assert!(
        m.iter().any(|(at, _)| at.starts_with("row 4")),
        "the edited row is named: {m:?}"
    );
}
