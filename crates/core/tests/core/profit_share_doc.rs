//! docs/profit-share.md's worked example, read from the page itself: its fills and funding
//! rows go through the round-trip, ledger and statement code the app books with, and every
//! number in its tables and its printed statement must come out exactly.

use perpdesk_core::pnl::round_trips;
use perpdesk_core::{ShareMode, ShareRatio, ShareTotals};

use crate::{
    DOC, book_and_settle, doc_dec, doc_table, example_records, example_settlement_times,
    example_trades,
};

#[test]
fn the_worked_example_in_the_user_docs_holds() {
    let (fills, funding) = example_records();
    let trips = round_trips(&fills, &funding);
    let rows = doc_table("trades");
    assert_eq!(trips.len(), rows.len(), "one table row per round trip");
    let trades = example_trades();
    let mut cumulative = rust_decimal::Decimal::ZERO;
    for (trip, row) in trips.iter().zip(&rows) {
        let ids: Vec<i64> = row[1]
            .split(',')
            .map(|i| i.trim().parse().expect("id"))
            .collect();
        assert_eq!(trip.trade_ids, ids, "{row:?}");
        let closed = trip.closed_trade().expect("closed");
        assert_eq!(closed.realized_pnl, doc_dec(row[2]), "realized PnL {row:?}");
        assert_eq!(closed.commission, doc_dec(row[3]), "commission {row:?}");
        assert_eq!(closed.funding, doc_dec(row[4]), "funding {row:?}");
        assert_eq!(closed.net(), doc_dec(row[5]), "net {row:?}");
        cumulative += closed.net();
        assert_eq!(cumulative, doc_dec(row[6]), "cumulative {row:?}");
    }

    let times = example_settlement_times();
    let periods = book_and_settle(&trades, &times, |_| {
        (ShareRatio::default(), ShareMode::Settlement)
    });
    let table = doc_table("settlements");
    assert_eq!(periods.len(), table.len());
    let mut booked = 0;
    for (p, row) in periods.iter().zip(&table) {
        for (_, e) in &p.rows {
            assert_eq!(e.cumulative_net_after, doc_dec(rows[booked][6]));
            assert_eq!(
                e.shareable,
                rust_decimal::Decimal::ZERO,
                "nothing at booking"
            );
            booked += 1;
        }
        let (s, d) = (&p.settlement, &p.settlement.decision);
        assert_eq!(s.totals.trades.to_string(), row[1], "{row:?}");
        assert_eq!(s.totals.net_pnl, doc_dec(row[2]), "period net {row:?}");
        assert_eq!(d.cumulative_net, doc_dec(row[3]), "cumulative {row:?}");
        assert_eq!(d.mark_before, doc_dec(row[4]), "mark before {row:?}");
        assert_eq!(s.totals.shareable, doc_dec(row[5]), "shareable {row:?}");
        assert_eq!(s.totals.platform_share, doc_dec(row[6]), "platform {row:?}");
        assert_eq!(s.totals.user_share, doc_dec(row[7]), "user {row:?}");
        assert_eq!(d.mark_after, doc_dec(row[8]), "mark after {row:?}");
    }
    assert_eq!(booked, rows.len());

    let modes = doc_table("modes");
    for (mode, row) in [
        ShareMode::Settlement,
        ShareMode::HighWaterMark,
        ShareMode::PerTrade,
    ]
    .into_iter()
    .zip(&modes)
    {
        let periods = book_and_settle(&trades, &times, |_| (ShareRatio::default(), mode));
        let total = periods.iter().fold(ShareTotals::default(), |mut t, p| {
            let s = &p.settlement.totals;
            t.trades += s.trades;
            t.net_pnl += s.net_pnl;
            t.shareable += s.shareable;
            t.platform_share += s.platform_share;
            t.user_share += s.user_share;
            t
        });
        assert_eq!(total.net_pnl, doc_dec(row[1]), "{row:?}");
        assert_eq!(total.shareable, doc_dec(row[2]), "{row:?}");
        assert_eq!(total.platform_share, doc_dec(row[3]), "{row:?}");
        assert_eq!(total.user_share, doc_dec(row[4]), "{row:?}");
    }

    let marker = "<!-- statement: 3 -->\n```text\n";
    let at = DOC.find(marker).expect("the printed statement in the doc") + marker.len();
    let printed = &DOC[at..at + DOC[at..].find("```").expect("closing fence")];
    let statement = periods[2].statement("doc example", false);
    assert_eq!(printed, statement.to_text());
}
