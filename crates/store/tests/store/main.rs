//! Integration tests of perpdesk-store through its public API only.

mod crash;
mod files;
mod journal;
#[cfg(unix)]
mod permissions;
mod settlement;
mod sync;

use chrono::{DateTime, TimeZone, Utc};
use perpdesk_core::{Fill, Income, IncomeKind, PositionSide, Side, Symbol};
use perpdesk_store::{Environment, NewAccount, Store};
use rust_decimal::Decimal;

pub fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .expect("time in range")
}

pub fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("symbol")
}

pub fn new_account(name: &str) -> NewAccount {
    NewAccount {
        name: name.to_owned(),
        environment: Environment::Testnet,
        api_key_id: "pub-key-id".to_owned(),
        secret_sealed: "v1:nonce:ciphertext".to_owned(),
    }
}

/// A fresh, migrated in-memory database with one account.
pub async fn store_with_account() -> (Store, i64) {
    let store = Store::open_in_memory().await.expect("store");
    let id = store
        .create_account(&new_account("main"), at(0))
        .await
        .expect("account");
    (store, id)
}

pub fn fill(trade_id: i64, time_ms: i64, realized: Decimal, commission: Decimal) -> Fill {
    Fill {
        symbol: btc(),
        trade_id,
        order_id: trade_id / 2,
        client_order_id: None,
        side: Side::Buy,
        position_side: PositionSide::Both,
        price: Decimal::new(6_543_210, 2),
        quantity: Decimal::new(1, 3),
        realized_pnl: realized,
        commission,
        commission_asset: "USDT".to_owned(),
        maker: trade_id % 2 == 0,
        time: at(time_ms),
    }
}

pub fn funding(tran_id: i64, time_ms: i64, amount: Decimal) -> Income {
    Income {
        tran_id,
        symbol: Some(btc()),
        kind: IncomeKind::FundingFee,
        amount,
        asset: "USDT".to_owned(),
        trade_id: None,
        info: "FUNDING_FEE".to_owned(),
        time: at(time_ms),
    }
}
