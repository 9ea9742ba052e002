//! Safety settings: loosening needs an unlocked vault and the master password again,
//! tightening always works, and every change is in the audit log (issue 16, item 3).

use perpdesk_app::autotrade::{AutoTrade, AutoTradeSymbol};
use perpdesk_app::{AppError, Engine};
use perpdesk_core::{RiskLimits, Symbol};
use perpdesk_vault::SecretString;
use rust_decimal_macros::dec;

use perpdesk_app::AppEvent;
use perpdesk_core::Side;

use crate::support::{PASSWORD, engine_on, previewed_mark, start_sim, ticket};

fn password() -> Option<SecretString> {
    Some(SecretString::new(PASSWORD.into()))
}

fn wrong() -> Option<SecretString> {
    Some(SecretString::new("not the master password 7".into()))
}

fn btc_on() -> AutoTrade {
    AutoTrade {
        symbols: [(
            Symbol::new("BTCUSDT").expect("symbol"),
            AutoTradeSymbol {
                enabled: true,
                ..AutoTradeSymbol::default()
            },
        )]
        .into(),
    }
}

fn higher(limits: &RiskLimits) -> RiskLimits {
    RiskLimits {
        max_leverage: limits.max_leverage + 10,
        ..limits.clone()
    }
}

/// Every loosening the issue names, each tried once with `password`.
async fn loosen_each(engine: &Engine, password: fn() -> Option<SecretString>) -> Vec<AppError> {
    let limits = engine.risk_limits().await.expect("limits");
    let mut ledger = engine.ledger_settings().await.expect("ledger");
    ledger.include_manual = !ledger.include_manual;
    vec![
        engine
            .set_risk_limits(higher(&limits), password())
            .await
            .expect_err("higher limits"),
        engine
            .set_kill_switch(false, password())
            .await
            .expect_err("kill switch off"),
        engine
            .set_auto_trade(btc_on(), true, password())
            .await
            .expect_err("auto-trade on"),
        engine
            .set_auto_lock(0, password())
            .await
            .expect_err("no auto-lock"),
        engine
            .set_auto_lock(60, password())
            .await
            .expect_err("longer auto-lock"),
        engine
            .set_ledger_settings(ledger, password())
            .await
            .expect_err("ledger basis"),
    ]
}

async fn kill_switch_on_without_positions(engine: &Engine) {
    let limits = RiskLimits {
        kill_switch: true,
        ..engine.risk_limits().await.expect("limits")
    };
    engine
        .set_risk_limits(limits, None)
        .await
        .expect("turning the kill switch on is tightening");
}

async fn unchanged(engine: &Engine, limits: &RiskLimits) {
    assert_eq!(&engine.risk_limits().await.expect("limits"), limits);
    assert_eq!(
        engine.auto_trade().await.expect("auto"),
        AutoTrade::default()
    );
    assert_eq!(
        engine
            .vault_status()
            .await
            .expect("status")
            .auto_lock_minutes,
        15
    );
    assert_eq!(
        engine.ledger_settings().await.expect("ledger"),
        perpdesk_app::records::LedgerSettings::default()
    );
}

#[tokio::test]
async fn loosening_a_safety_setting_is_refused_while_locked_even_with_the_password() {
    let engine = engine_on(start_sim().await).await;
    kill_switch_on_without_positions(&engine).await;
    let limits = engine.risk_limits().await.expect("limits");
    engine.vault_lock().await.expect("locked");
    for err in loosen_each(&engine, password).await {
        assert!(matches!(err, AppError::Locked), "{err}");
    }
    unchanged(&engine, &limits).await;
}

#[tokio::test]
async fn loosening_a_safety_setting_without_the_password_asks_for_it_and_changes_nothing() {
    let engine = engine_on(start_sim().await).await;
    kill_switch_on_without_positions(&engine).await;
    let limits = engine.risk_limits().await.expect("limits");
    for err in loosen_each(&engine, || None).await {
        assert_eq!(err.to_ui().code, "PasswordRequired", "{err}");
    }
    for err in loosen_each(&engine, wrong).await {
        assert!(matches!(err, AppError::WrongPassword), "{err}");
    }
    unchanged(&engine, &limits).await;
}

#[tokio::test]
async fn loosening_with_the_password_is_saved_and_audited() {
    let engine = engine_on(start_sim().await).await;
    kill_switch_on_without_positions(&engine).await;
    let limits = engine.risk_limits().await.expect("limits");
    let saved = engine
        .set_risk_limits(higher(&limits), password())
        .await
        .expect("higher limits");
    assert_eq!(saved.max_leverage, limits.max_leverage + 10);
    assert!(
        !engine
            .set_kill_switch(false, password())
            .await
            .expect("off")
            .kill_switch
    );
    engine
        .set_auto_trade(btc_on(), true, password())
        .await
        .expect("auto-trade on");
    engine.set_auto_lock(0, password()).await.expect("never");
    let mut ledger = engine.ledger_settings().await.expect("ledger");
    ledger.platform_ratio = dec!(0.5);
    engine
        .set_ledger_settings(ledger, password())
        .await
        .expect("split");

    let audit = engine.store().recent_audit(20).await.expect("audit");
    for action in [
        "settings.risk_limits",
        "settings.auto_trade",
        "settings.auto_lock",
        "settings.ledger",
    ] {
        let entry = audit
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("{action} is in the audit log"));
        assert_eq!(entry.details["password_confirmed"], true, "{action}");
    }
    let text =
        serde_json::to_string(&audit.iter().map(|e| &e.details).collect::<Vec<_>>()).expect("json");
    assert!(!text.contains(PASSWORD), "the password is never audited");
}

#[tokio::test]
async fn tightening_works_locked_and_without_the_password_and_is_audited() {
    let engine = engine_on(start_sim().await).await;
    engine
        .set_auto_trade(btc_on(), true, password())
        .await
        .expect("auto-trade on");
    engine.set_auto_lock(60, password()).await.expect("longer");
    engine.vault_lock().await.expect("locked");

    let limits = engine.risk_limits().await.expect("limits");
    let lower = RiskLimits {
        max_leverage: 2,
        max_position_notional: dec!(100),
        max_total_notional: dec!(200),
        ..limits
    };
    assert_eq!(
        engine
            .set_risk_limits(lower.clone(), None)
            .await
            .expect("lower"),
        lower
    );
    engine
        .set_auto_trade(AutoTrade::default(), false, None)
        .await
        .expect("auto-trade off");
    assert_eq!(
        engine
            .set_auto_lock(5, None)
            .await
            .expect("shorter")
            .auto_lock_minutes,
        5
    );
    // On with the vault locked: saved before anything else, so no order can pass; closing
    // positions needs the exchange session, which waits for an unlock.
    engine
        .set_kill_switch(true, None)
        .await
        .expect("kill switch on while locked");
    assert!(engine.risk_limits().await.expect("limits").kill_switch);

    let audit = engine.store().recent_audit(20).await.expect("audit");
    let tightened: Vec<_> = audit
        .iter()
        .filter(|e| e.details["password_confirmed"] == false)
        .map(|e| e.action.as_str())
        .collect();
    for action in [
        "settings.risk_limits",
        "settings.auto_trade",
        "settings.auto_lock",
    ] {
        assert!(tightened.contains(&action), "{action} in {tightened:?}");
    }
}

/// The kill switch turned on while locked is saved and blocks orders at once, says that the
/// positions close at the unlock, and closes them there first: before the unlock returns and
/// before anything it does afterwards (the audit shows the order).
#[tokio::test]
async fn a_kill_switch_turned_on_while_locked_closes_the_positions_first_thing_at_unlock() {
    let engine = engine_on(start_sim().await).await;
    let entry = previewed_mark(&engine).await;
    engine
        .place_order(&ticket(Side::Buy, dec!(500), entry, dec!(2), dec!(2)))
        .await
        .expect("placed");
    assert_eq!(engine.positions().await.expect("positions").len(), 1);
    engine.vault_lock().await.expect("locked");
    let mut events = engine.events().subscribe();

    let limits = engine
        .set_kill_switch(true, None)
        .await
        .expect("saved while locked");
    assert!(limits.kill_switch);
    let said = loop {
        match events.try_recv().expect("the switch reported itself") {
            AppEvent::Risk { rule, message } if rule == "kill_switch" => break message,
            _ => {}
        }
    };
    assert!(said.contains("closed when the vault is unlocked"), "{said}");
    let audit = engine.store().recent_audit(5).await.expect("audit");
    assert_eq!(audit[0].action, "risk.kill_switch");
    assert_eq!(audit[0].details["flatten"], "at_unlock");
    let lock_mark = audit[0].id;

    engine
        .unlock(SecretString::new(PASSWORD.into()))
        .await
        .expect("unlocked");
    assert!(
        engine.positions().await.expect("positions").is_empty(),
        "closed by the time the unlock returns"
    );
    let mut since: Vec<_> = engine
        .store()
        .recent_audit(50)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| e.id > lock_mark)
        .collect();
    since.reverse();
    let actions: Vec<&str> = since.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions[..3],
        ["order.close", "risk.kill_switch", "vault.unlocked"],
        "{actions:?}"
    );
    assert_eq!(since[1].details["at"], "unlock");
    assert_eq!(since[1].details["closed"], 1);
    // Done once: the next unlock closes nothing more.
    engine.vault_lock().await.expect("locked again");
    engine
        .unlock(SecretString::new(PASSWORD.into()))
        .await
        .expect("unlocked again");
    let last = engine.store().recent_audit(3).await.expect("audit");
    assert!(
        last.iter().all(|e| e.action != "risk.kill_switch"),
        "{:?}",
        last.iter().map(|e| &e.action).collect::<Vec<_>>()
    );
}
