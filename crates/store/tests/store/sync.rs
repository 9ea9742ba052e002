//! Idempotent sync, exact money, foreign keys and the PnL summary.

use std::str::FromStr;

use perpdesk_core::{Income, IncomeKind};
use perpdesk_store::{StoreError, SyncCounts};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{at, btc, fill, funding, store_with_account};

#[tokio::test]
async fn resync_adds_nothing_and_overlap_adds_only_new_rows() {
    let (store, acc) = store_with_account().await;
    let fills: Vec<_> = (1..=10).map(|i| fill(i, i, dec!(1), dec!(0.01))).collect();
    let income: Vec<_> = (1..=4).map(|i| funding(i, i, dec!(-0.5))).collect();
    let first = store.sync_batch(acc, &fills, &income).await.expect("sync");
    assert_eq!(
        first,
        SyncCounts {
            fills: 10,
            income: 4
        }
    );
    let again = store
        .sync_batch(acc, &fills, &income)
        .await
        .expect("resync");
    assert_eq!(again, SyncCounts::default());

    let overlap: Vec<_> = (6..=15).map(|i| fill(i, i, dec!(1), dec!(0.01))).collect();
    let counts = store.sync_batch(acc, &overlap, &[]).await.expect("overlap");
    assert_eq!(counts.fills, 5);
    assert_eq!(
        store.fills(acc, 0, i64::MAX).await.expect("fills").len(),
        15
    );

    // The same tranId under another income type is a different record.
    let commission = Income {
        kind: IncomeKind::Commission,
        ..funding(1, 1, dec!(-0.01))
    };
    let counts = store
        .sync_batch(acc, &[], &[commission])
        .await
        .expect("income");
    assert_eq!(counts.income, 1);
    assert_eq!(store.last_fill_time(acc).await.expect("last"), Some(15));
}

#[tokio::test]
async fn decimal_money_round_trips_exactly() {
    let (store, acc) = store_with_account().await;
    let values = [
        "0.00000001",
        "123456789.12345678",
        "-0.10",
        "1.000000000000000000000000001",
        "79228162514264337593543950335",
    ];
    let fills: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let d = Decimal::from_str(v).expect("decimal");
            let mut f = fill(i as i64 + 1, 1, d, d);
            f.price = d;
            f.quantity = d;
            f
        })
        .collect();
    let income: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, v)| funding(i as i64 + 1, 1, Decimal::from_str(v).expect("decimal")))
        .collect();
    store.sync_batch(acc, &fills, &income).await.expect("sync");
    let back = store.fills(acc, 0, 10).await.expect("fills");
    assert_eq!(back, fills);
    for (f, v) in back.iter().zip(values) {
        // Scale survives too: "-0.10" comes back as "-0.10", not "-0.1".
        assert_eq!(f.price.to_string(), v);
        assert_eq!(f.realized_pnl.to_string(), v);
    }
    assert_eq!(store.income(acc, 0, 10).await.expect("income"), income);
}

#[tokio::test]
async fn foreign_keys_are_enforced_and_a_failed_batch_stores_nothing() {
    let (store, acc) = store_with_account().await;
    let err = store
        .sync_batch(999, &[fill(1, 1, dec!(1), dec!(0))], &[])
        .await
        .expect_err("unknown account");
    assert!(matches!(err, StoreError::Sqlx(_)), "{err}");
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");

    // The fills of a batch are committed with its income or not at all.
    let good = [fill(1, 1, dec!(1), dec!(0))];
    let mut bad = funding(1, 1, dec!(1));
    bad.symbol = Some(btc());
    store
        .sync_batch(acc, &good, &[bad.clone()])
        .await
        .expect("sync");
    assert!(
        store
            .sync_batch(999, &[fill(2, 2, dec!(1), dec!(0))], &[bad])
            .await
            .is_err()
    );
    assert_eq!(store.fills(acc, 0, 10).await.expect("fills").len(), 1);
}

#[tokio::test]
async fn pnl_summary_is_exact_and_half_open() {
    let (store, acc) = store_with_account().await;
    // 0.1 + 0.2 is the classic floating-point trap; 1,000 satoshi-sized commissions the other.
    let mut fills = vec![
        fill(1, 1_000, dec!(0.1), dec!(0)),
        fill(2, 1_001, dec!(0.2), dec!(0)),
    ];
    fills.extend((3..1_003).map(|i| fill(i, 1_500, dec!(0), dec!(0.00000001))));
    fills.push(fill(5_000, 2_000, dec!(1000), dec!(1))); // at `to`: excluded
    fills.push(fill(5_001, 999, dec!(1000), dec!(1))); // before `from`: excluded
    let mut bnb = fill(6_000, 1_200, dec!(0), dec!(0.0005));
    bnb.commission_asset = "BNB".to_owned();
    fills.push(bnb);
    let income = vec![
        funding(1, 1_100, dec!(-0.00012345)),
        funding(2, 1_900, dec!(0.00002345)),
        Income {
            kind: IncomeKind::Transfer,
            ..funding(3, 1_500, dec!(500))
        },
    ];
    store.sync_batch(acc, &fills, &income).await.expect("sync");

    let s = store.pnl_summary(acc, 1_000, 2_000).await.expect("summary");
    assert_eq!(s.fills, 1_003);
    assert_eq!(s.realized_pnl.to_string(), "0.3");
    assert_eq!(s.commission["USDT"], dec!(0.00001));
    assert_eq!(s.commission["BNB"], dec!(0.0005));
    assert_eq!(s.funding["USDT"], dec!(-0.0001));
    assert_eq!(s.funding_events, 2);
    assert_eq!(s.net_in("USDT"), dec!(0.29989));
    assert_eq!(
        store
            .pnl_summary(acc + 1, 0, i64::MAX)
            .await
            .expect("other")
            .fills,
        0
    );
    assert_eq!(at(0).timestamp_millis(), 0);
}

#[tokio::test]
async fn pnl_summary_stays_exact_beyond_the_integer_shadow() {
    let (store, acc) = store_with_account().await;
    // Nine decimals have no 1e-8 shadow; they must be added from the decimal text.
    let fills = vec![
        fill(1, 10, dec!(0.000000001), dec!(0.1)),
        fill(2, 10, dec!(0.1), dec!(0.000000002)),
        fill(3, 10, dec!(0.2), dec!(0.3)),
    ];
    store.sync_batch(acc, &fills, &[]).await.expect("sync");
    let s = store.pnl_summary(acc, 0, 100).await.expect("summary");
    assert_eq!(s.fills, 3);
    assert_eq!(s.realized_pnl, dec!(0.300000001));
    assert_eq!(s.commission["USDT"], dec!(0.400000002));

    // Two amounts whose 1e-8 units overflow i64 when added: integer SUM() refuses and the
    // summary falls back to decimal addition instead of failing or rounding.
    let (store, acc) = store_with_account().await;
    let big = dec!(90000000000.00000001);
    let fills = vec![fill(1, 10, big, dec!(0)), fill(2, 10, big, dec!(0))];
    store.sync_batch(acc, &fills, &[]).await.expect("sync");
    let s = store.pnl_summary(acc, 0, 100).await.expect("summary");
    assert_eq!(s.fills, 2);
    assert_eq!(s.realized_pnl, dec!(180000000000.00000002));
}
