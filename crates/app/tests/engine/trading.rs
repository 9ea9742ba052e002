//! One-click execution against the simulator: the happy path, refusals that send nothing,
//! a refused stop-loss that flattens, and reconciliation.

use perpdesk_app::{AppError, ErrorCode};
use perpdesk_core::{OrderState, Side, Sizing};
use perpdesk_sim::faults::{FaultKind, FaultRule, Faults};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{engine_on, start_sim, ticket};

async fn mark(engine: &perpdesk_app::Engine) -> Decimal {
    let mut probe = ticket(Side::Buy, dec!(500), dec!(1), dec!(1), dec!(1));
    probe.stop_loss = None;
    probe.take_profit = None;
    engine
        .preview_order(&probe)
        .await
        .expect("preview")
        .preview
        .entry_price
}

async fn exchange_order_count(engine: &perpdesk_app::Engine) -> usize {
    let sim = engine.paper().expect("paper").running();
    let ex = sim.shared.exchange.lock().expect("lock");
    // Accounts: the support key (0) and the first-run paper account (1).
    ex.accounts[1].orders.len() + ex.accounts[1].algo_orders.len()
}

fn open_algo(engine: &perpdesk_app::Engine) -> usize {
    let sim = engine.paper().expect("paper").running();
    let ex = sim.shared.exchange.lock().expect("lock");
    ex.accounts[1]
        .algo_orders
        .iter()
        .filter(|a| a.status == "NEW")
        .count()
}

#[tokio::test]
async fn one_click_places_entry_stop_and_target_and_the_target_closes_it() {
    let engine = engine_on(start_sim().await).await;
    let entry = mark(&engine).await;
    let placed = engine
        .place_order(&ticket(Side::Buy, dec!(1000), entry, dec!(1.5), dec!(1.5)))
        .await
        .expect("placed");
    assert_eq!(placed.entry.state, OrderState::Filled);
    assert_eq!(
        placed.stop_loss.as_ref().map(|o| o.state),
        Some(OrderState::New)
    );
    assert_eq!(
        placed.take_profit.as_ref().map(|o| o.state),
        Some(OrderState::New)
    );
    assert!(
        placed.ticket_id.starts_with('s'),
        "a signal ticket: {}",
        placed.ticket_id
    );

    let positions = engine.positions().await.expect("positions");
    assert_eq!(positions.len(), 1);
    let p = &positions[0];
    assert_eq!(p.side, "LONG");
    assert!(p.quantity > Decimal::ZERO);
    assert_eq!(
        p.stop_loss,
        placed.stop_loss.as_ref().and_then(|o| o.trigger_price)
    );
    assert_eq!(
        p.take_profit,
        placed.take_profit.as_ref().and_then(|o| o.trigger_price)
    );

    // Replay until the market reaches one of the exits.
    let paper = engine.paper().expect("paper");
    for _ in 0..(24 * 30) {
        paper.advance(60).expect("advance");
        if engine.positions().await.expect("positions").is_empty() {
            break;
        }
    }
    assert!(
        engine.positions().await.expect("positions").is_empty(),
        "an exit triggered"
    );
    // The other exit is now an orphan on a flat position: reconciliation cancels it.
    let report = engine
        .reconcile(engine.active_account_id().await.expect("active"))
        .await
        .expect("reconcile");
    assert_eq!(report.orphans_canceled, 1, "{report:?}");
    let orders = engine.orders(50).await.expect("orders");
    let exits: Vec<_> = orders
        .iter()
        .filter(|o| o.kind != "MARKET")
        .map(|o| o.state)
        .collect();
    assert_eq!(exits.len(), 2);
    assert!(exits.contains(&OrderState::Filled), "{exits:?}");
    assert!(exits.contains(&OrderState::Canceled), "{exits:?}");
    // Nothing left resting on the exchange.
    assert_eq!(open_algo(&engine), 0);
}

#[tokio::test]
async fn a_refused_ticket_sends_and_writes_nothing() {
    let engine = engine_on(start_sim().await).await;
    let entry = mark(&engine).await;
    let before = exchange_order_count(&engine).await;

    let mut high = ticket(Side::Buy, dec!(500), entry, dec!(1), dec!(1));
    high.leverage = 50;
    let err = engine
        .place_order(&high)
        .await
        .expect_err("leverage above the limit");
    assert_eq!(err.code(), ErrorCode::RiskRefused);
    assert_eq!(err.to_ui().rule, Some("max_leverage"));
    assert!(
        err.to_string().contains("50x") && err.to_string().contains("10x"),
        "{err}"
    );

    let mut no_stop = ticket(Side::Buy, dec!(500), entry, dec!(1), dec!(1));
    no_stop.stop_loss = None;
    let err = engine
        .place_order(&no_stop)
        .await
        .expect_err("stop required");
    assert_eq!(err.to_ui().rule, Some("require_stop_loss"));

    let wrong_side = ticket(Side::Buy, dec!(500), entry, dec!(-1), dec!(1));
    let err = engine
        .place_order(&wrong_side)
        .await
        .expect_err("stop above a long's entry");
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    assert!(err.to_string().contains("wrong side"), "{err}");

    let far = ticket(Side::Sell, dec!(500), entry, dec!(20), dec!(1));
    let err = engine.place_order(&far).await.expect_err("stop too far");
    assert_eq!(err.to_ui().rule, Some("max_stop_distance_pct"));

    let big = ticket(Side::Sell, dec!(5000), entry, dec!(1), dec!(1));
    let err = engine
        .place_order(&big)
        .await
        .expect_err("notional above the limit");
    assert_eq!(err.to_ui().rule, Some("max_position_notional"));

    let mut unknown = ticket(Side::Buy, dec!(500), entry, dec!(1), dec!(1));
    unknown.symbol = "DOGEUSDT".into();
    let err = engine.place_order(&unknown).await.expect_err("not listed");
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");

    let mut dust = ticket(Side::Buy, dec!(500), entry, dec!(1), dec!(1));
    dust.sizing = Sizing::FixedNotional { usdt: dec!(3) };
    let err = engine
        .place_order(&dust)
        .await
        .expect_err("below the minimum notional");
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");

    let mut off_step = ticket(Side::Buy, dec!(500), entry, dec!(1), dec!(1));
    off_step.sizing = Sizing::Quantity {
        quantity: dec!(0.0001),
    };
    let err = engine
        .place_order(&off_step)
        .await
        .expect_err("below the step");
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");

    assert_eq!(
        exchange_order_count(&engine).await,
        before,
        "nothing reached the exchange"
    );
    assert!(
        engine.orders(100).await.expect("orders").is_empty(),
        "nothing journalled"
    );
}

#[tokio::test]
async fn the_kill_switch_flattens_and_blocks() {
    let engine = engine_on(start_sim().await).await;
    let entry = mark(&engine).await;
    engine
        .place_order(&ticket(Side::Sell, dec!(600), entry, dec!(2), dec!(2)))
        .await
        .expect("placed");
    assert_eq!(engine.positions().await.expect("positions").len(), 1);
    let limits = engine.set_kill_switch(true).await.expect("kill switch");
    assert!(limits.kill_switch);
    assert!(engine.positions().await.expect("positions").is_empty());
    let err = engine
        .place_order(&ticket(Side::Buy, dec!(600), entry, dec!(2), dec!(2)))
        .await
        .expect_err("blocked");
    assert_eq!(err.to_ui().rule, Some("kill_switch"));
    assert_eq!(open_algo(&engine), 0);
    engine.set_kill_switch(false).await.expect("off");
}

#[tokio::test]
async fn a_stop_loss_the_exchange_will_not_take_closes_the_position() {
    let engine = engine_on(start_sim().await).await;
    let entry = mark(&engine).await;
    let sim = engine.paper().expect("paper").running();
    sim.shared.set_faults(Faults::new(
        7,
        vec![FaultRule {
            path: "/fapi/v1/algoOrder".into(),
            method: Some("POST".into()),
            kind: FaultKind::UnavailableBeforeExecute,
            probability: 1.0,
            count: None,
        }],
    ));
    let err = engine
        .place_order(&ticket(Side::Buy, dec!(800), entry, dec!(1), dec!(1)))
        .await
        .expect_err("no stop, no position");
    assert!(matches!(err, AppError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("closed at market"), "{err}");
    sim.shared.set_faults(Faults::default());
    assert!(
        engine.positions().await.expect("positions").is_empty(),
        "flattened"
    );
    let orders = engine.orders(20).await.expect("orders");
    assert!(
        orders
            .iter()
            .any(|o| o.leg == Some(perpdesk_core::Leg::Close) && o.state == OrderState::Filled)
    );
}

#[tokio::test]
async fn reconcile_repairs_a_position_left_without_its_stop() {
    let engine = engine_on(start_sim().await).await;
    let entry = mark(&engine).await;
    let placed = engine
        .place_order(&ticket(Side::Buy, dec!(700), entry, dec!(2), dec!(2)))
        .await
        .expect("placed");
    // Someone cancels the stop in another app.
    let sim = engine.paper().expect("paper").running();
    let stop_id = placed
        .stop_loss
        .as_ref()
        .expect("stop")
        .client_order_id
        .clone();
    {
        let now = sim.shared.clock.now_ms();
        let params = perpdesk_sim::exchange::Params(
            [("clientAlgoId".to_owned(), stop_id.clone())]
                .into_iter()
                .collect(),
        );
        sim.shared
            .exchange
            .lock()
            .expect("lock")
            .cancel_algo(1, &params, now)
            .expect("canceled");
    }
    let report = engine
        .reconcile(engine.active_account_id().await.expect("active"))
        .await
        .expect("reconcile");
    assert_eq!(report.stops_replaced, 1, "{report:?}");
    let p = engine.positions().await.expect("positions");
    assert_eq!(
        p[0].stop_loss,
        placed.stop_loss.as_ref().and_then(|o| o.trigger_price)
    );
    // The replacement uses the same ticket with the next attempt number.
    let orders = engine.orders(20).await.expect("orders");
    let ids: Vec<_> = orders
        .iter()
        .map(|o| (o.client_order_id.clone(), o.state))
        .collect();
    assert!(
        ids.iter().any(
            |(id, state)| *id == format!("{}1", &stop_id[..stop_id.len() - 1])
                && *state == OrderState::New
        ),
        "{stop_id} {ids:?}"
    );
    // A second pass has nothing to do.
    let again = engine
        .reconcile(engine.active_account_id().await.expect("active"))
        .await
        .expect("reconcile");
    assert_eq!(again, perpdesk_app::trading::ReconcileReport::default());
}

#[tokio::test]
async fn paper_positions_and_records_survive_a_restart() {
    use perpdesk_app::venue::PaperVenue;
    use perpdesk_app::{Engine, EngineConfig, Events};
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("paper-exchange.json");
    let config = EngineConfig {
        database: Some(dir.path().join("perpdesk.db")),
        kdf: perpdesk_vault::KdfParams::insecure_for_tests(),
        rest: perpdesk_binance::RestConfig::default(),
    };
    let password = || perpdesk_vault::SecretString::new(crate::support::PASSWORD.into());
    let placed = {
        let paper = PaperVenue::start(&crate::support::data_dir(), None, Some(state.clone()))
            .await
            .expect("paper starts");
        let engine = Engine::open(config.clone(), Some(paper), Events::new())
            .await
            .expect("engine");
        engine.first_run(password()).await.expect("first run");
        let entry = mark(&engine).await;
        engine
            .place_order(&ticket(Side::Sell, dec!(900), entry, dec!(2), dec!(3)))
            .await
            .expect("placed")
        // Dropping the engine drops the paper exchange, which saves its state.
    };
    assert!(state.is_file());
    let paper = PaperVenue::start(&crate::support::data_dir(), None, Some(state.clone()))
        .await
        .expect("paper resumes");
    let engine = Engine::open(config, Some(paper), Events::new())
        .await
        .expect("engine reopens");
    let status = engine.vault_status().await.expect("status");
    assert!(status.initialized && status.locked);
    assert_eq!(
        engine.positions().await.expect_err("locked").code(),
        ErrorCode::Locked
    );
    engine.unlock(password()).await.expect("unlock");
    let positions = engine.positions().await.expect("positions");
    assert_eq!(positions.len(), 1, "the short is still open");
    assert_eq!(positions[0].side, "SHORT");
    assert_eq!(
        positions[0].stop_loss,
        placed.stop_loss.as_ref().and_then(|o| o.trigger_price)
    );
    let orders = engine.orders(10).await.expect("orders");
    assert_eq!(orders.len(), 3, "the journal kept every leg");
}
