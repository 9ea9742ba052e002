//! Sealed API secrets bound to their row: a key id or environment changed in the database
//! behind the app's back makes the secret refuse to open (and nothing is sent), and secrets
//! sealed in the first format are bound once at unlock and open afterwards.

use std::path::Path;

use perpdesk_app::venue::PaperVenue;
use perpdesk_app::{Engine, EngineConfig, ErrorCode, Events};
use perpdesk_core::Side;
use perpdesk_vault::{Aad, Sealed, Vault, VaultHeader};
use rust_decimal_macros::dec;

use crate::support::{PASSWORD, data_dir, previewed_mark, pw, ticket};

/// An engine on a database file whose paper exchange keeps its state beside it, so both
/// survive a restart.
async fn open(dir: &Path) -> Engine {
    let paper = PaperVenue::start(&data_dir(), None, Some(dir.join("paper-exchange.json")))
        .await
        .expect("paper starts");
    let config = EngineConfig {
        database: Some(dir.join("perpdesk.db")),
        kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
        rest: perpdesk_binance::RestConfig::default(),
    };
    Engine::open(config, Some(paper), Events::new())
        .await
        .expect("engine opens")
}

async fn close(engine: Engine) {
    engine.store().close().await;
    drop(engine);
}

/// Runs `sql` with `binds` on the closed database file, as someone with the file could.
async fn edit(dir: &Path, sql: &str, binds: &[&str]) {
    let url = format!("sqlite://{}", dir.join("perpdesk.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("database");
    let mut query = sqlx::query(sql);
    for b in binds {
        query = query.bind(*b);
    }
    let done = query.execute(&pool).await.expect("edit");
    assert_eq!(done.rows_affected(), 1, "{sql}");
    pool.close().await;
}

/// Orders the paper exchange holds, over all its accounts.
fn sim_orders(engine: &Engine) -> usize {
    let sim = engine.paper().expect("paper").running();
    let ex = sim.shared.exchange.lock().expect("lock");
    ex.accounts.iter().map(|a| a.orders.len()).sum()
}

/// The engine's own vault, opened beside it from the stored header.
/// The account's row as the database holds it.
async fn stored(engine: &Engine, id: i64) -> perpdesk_store::Account {
    engine
        .store()
        .account(id)
        .await
        .expect("read")
        .expect("exists")
}

async fn vault_of(engine: &Engine) -> Vault {
    let header: String = engine
        .store()
        .setting("vault.header")
        .await
        .expect("header")
        .expect("stored");
    let header = VaultHeader::from_json(&header).expect("header parses");
    Vault::unlock(&header, &pw(PASSWORD)).expect("unlocks")
}

#[tokio::test]
async fn a_secret_whose_key_id_or_environment_was_changed_in_the_database_no_longer_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path()).await;
    engine.first_run(pw(PASSWORD)).await.expect("first run");
    let first = engine.active_account_id().await.expect("account");
    let second = engine
        .create_paper_account("Paper 2", dec!(5000))
        .await
        .expect("second paper account")
        .id;
    let key_of_second = stored(&engine, second).await.api_key_id;
    close(engine).await;

    // The first account's secret now sits beside the second's key id; the second account's
    // row claims the testnet.
    let (first_id, second_id) = (first.to_string(), second.to_string());
    edit(
        dir.path(),
        "UPDATE exchange_accounts SET api_key_id = ? WHERE id = CAST(? AS INTEGER)",
        &[&key_of_second, &first_id],
    )
    .await;
    edit(
        dir.path(),
        "UPDATE exchange_accounts SET environment = 'testnet' WHERE id = CAST(? AS INTEGER)",
        &[&second_id],
    )
    .await;

    let engine = open(dir.path()).await;
    // The unlock itself goes through: the damage is the two accounts', named when used.
    engine.unlock(pw(PASSWORD)).await.expect("unlocks");
    let orders = sim_orders(&engine);
    for id in [first, second] {
        let err = engine
            .test_connection(id)
            .await
            .expect_err("the secret does not open");
        assert_eq!(err.code(), ErrorCode::Conflict, "account {id}: {err}");
        assert!(
            err.to_string().contains("key id or environment"),
            "account {id}: {err}"
        );
    }
    let entry = dec!(60000);
    let err = engine
        .place_order(&ticket(Side::Buy, dec!(300), entry, dec!(2), dec!(2)))
        .await
        .expect_err("no order with a secret that does not open");
    assert_eq!(err.code(), ErrorCode::Conflict, "{err}");
    assert_eq!(sim_orders(&engine), orders, "nothing reached the exchange");
    close(engine).await;
}

#[tokio::test]
async fn an_old_format_secret_is_bound_once_at_unlock_and_then_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open(dir.path()).await;
    engine.first_run(pw(PASSWORD)).await.expect("first run");
    let id = engine.active_account_id().await.expect("account");
    let account = stored(&engine, id).await;
    // The row as the first format left it: the same secret, sealed naming only the account.
    let vault = vault_of(&engine).await;
    let bound_aad = Aad::for_key(id, "api_secret", &account.api_key_id, "paper");
    let sealed = Sealed::decode(&account.secret_sealed).expect("decodes");
    let secret = vault.open(bound_aad, &sealed).expect("sealed bound today");
    let legacy = vault
        .seal(Aad::new(id, "api_secret"), &secret)
        .expect("seals")
        .encode();
    engine
        .store()
        .update_account(id, &account.name, Some((&account.api_key_id, &legacy)))
        .await
        .expect("stores the old format");
    close(engine).await;

    let engine = open(dir.path()).await;
    engine.unlock(pw(PASSWORD)).await.expect("unlocks");
    let moved = stored(&engine, id).await.secret_sealed;
    assert_ne!(moved, legacy, "the unlock re-sealed the row");
    let moved_sealed = Sealed::decode(&moved).expect("decodes");
    assert!(
        vault
            .open(Aad::new(id, "api_secret"), &moved_sealed)
            .is_err(),
        "no longer in the first format"
    );
    assert_eq!(
        vault
            .open(bound_aad, &moved_sealed)
            .expect("bound")
            .expose(),
        secret.expose()
    );
    let report = engine.test_connection(id).await.expect("opens");
    assert!(report.ok, "{report:?}");
    let entry = previewed_mark(&engine).await;
    engine
        .place_order(&ticket(Side::Buy, dec!(300), entry, dec!(2), dec!(2)))
        .await
        .expect("trades");
    close(engine).await;

    // Once: the next unlock finds nothing to move and leaves the row as it is.
    let engine = open(dir.path()).await;
    engine.unlock(pw(PASSWORD)).await.expect("unlocks again");
    let again = stored(&engine, id).await.secret_sealed;
    assert_eq!(again, moved);
    close(engine).await;
}
