//! One-click execution against the simulator: the happy path, refusals that send nothing,
//! a refused stop-loss that flattens, and reconciliation.

use perpdesk_app::{AppError, ErrorCode};
use perpdesk_core::{OrderState, Side, Sizing};
use perpdesk_sim::faults::{FaultKind, FaultRule, Faults};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{
    assert_bracket_working, engine_on, previewed_mark, secret_forms, start_sim, ticket,
};

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
    let entry = previewed_mark(&engine).await;
    let placed = engine
        .place_order(&ticket(Side::Buy, dec!(1000), entry, dec!(1.5), dec!(1.5)))
        .await
        .expect("placed");
    assert_bracket_working(&placed);
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
    // The positions table shows the exchange's liquidation price (issue 17: it showed "—"):
    // an isolated 5x long is liquidated a little under 20% below its entry.
    let liquidation = p
        .liquidation_price
        .expect("the exchange's liquidation price");
    assert!(
        liquidation > p.entry_price * dec!(0.8) && liquidation < p.entry_price * dec!(0.82),
        "{liquidation} for an entry of {}",
        p.entry_price
    );
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
    let entry = previewed_mark(&engine).await;
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
    let entry = previewed_mark(&engine).await;
    engine
        .place_order(&ticket(Side::Sell, dec!(600), entry, dec!(2), dec!(2)))
        .await
        .expect("placed");
    assert_eq!(engine.positions().await.expect("positions").len(), 1);
    let limits = engine
        .set_kill_switch(true, None)
        .await
        .expect("kill switch");
    assert!(limits.kill_switch);
    assert!(engine.positions().await.expect("positions").is_empty());
    let err = engine
        .place_order(&ticket(Side::Buy, dec!(600), entry, dec!(2), dec!(2)))
        .await
        .expect_err("blocked");
    assert_eq!(err.to_ui().rule, Some("kill_switch"));
    assert_eq!(open_algo(&engine), 0);
    engine
        .set_kill_switch(
            false,
            Some(perpdesk_vault::SecretString::new(
                crate::support::PASSWORD.into(),
            )),
        )
        .await
        .expect("off");
}

#[tokio::test]
async fn a_stop_loss_the_exchange_will_not_take_closes_the_position() {
    let engine = engine_on(start_sim().await).await;
    let entry = previewed_mark(&engine).await;
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
    let entry = previewed_mark(&engine).await;
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
        sim.shared
            .exchange
            .lock()
            .expect("lock")
            .cancel_algo(
                1,
                &perpdesk_sim::params::OrderRef::Client(stop_id.clone()),
                now,
            )
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
        let entry = previewed_mark(&engine).await;
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

#[tokio::test]
async fn the_connection_test_fails_a_key_that_can_withdraw_and_warns_without_ip_restriction() {
    use perpdesk_app::accounts::{CheckStatus, check_connection};
    use perpdesk_sim::exchange::Permissions;
    let sim = start_sim().await;
    {
        let now = sim.shared.clock.now_ms();
        sim.shared.exchange.lock().expect("lock").add_account(
            "withdrawkey0123456789",
            "withdrawsecret0123456789",
            dec!(1000),
            Permissions {
                withdrawals: true,
                ip_restrict: false,
                ..Permissions::default()
            },
            now,
        );
    }
    let withdraw =
        crate::support::client_with(&sim, "withdrawkey0123456789", "withdrawsecret0123456789");
    let report = check_connection(&withdraw, 0).await;
    assert!(!report.ok);
    assert!(report.can_withdraw());
    let status = |name: &str| {
        report
            .checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.status)
    };
    assert_eq!(status("reachability"), Some(CheckStatus::Ok));
    assert_eq!(status("signature"), Some(CheckStatus::Ok));
    assert_eq!(status("futures_permission"), Some(CheckStatus::Ok));
    assert_eq!(status("withdrawals_disabled"), Some(CheckStatus::Fail));
    assert_eq!(status("ip_restriction"), Some(CheckStatus::Warn));
    assert_eq!(report.position_mode.as_deref(), Some("one_way"));

    // A wrong secret fails the signature check and stops there.
    let wrong = crate::support::client_with(&sim, "withdrawkey0123456789", "not-the-secret");
    let report = check_connection(&wrong, 0).await;
    assert!(!report.ok);
    assert_eq!(
        report.checks.last().map(|c| (c.name.as_str(), c.status)),
        Some(("signature", CheckStatus::Fail))
    );
}

/// The leak scan: after binding a key, trading and syncing, the API secret (and its base64 and
/// hex forms) is nowhere on disk or in anything the UI can read.
#[tokio::test]
async fn the_api_secret_never_leaves_the_vault() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine =
        crate::support::engine_with(start_sim().await, Some(dir.path().join("perpdesk.db"))).await;
    let entry = previewed_mark(&engine).await;
    engine
        .place_order(&ticket(Side::Buy, dec!(700), entry, dec!(1), dec!(1)))
        .await
        .expect("placed");
    let paper = engine.paper().expect("paper");
    paper.advance(24 * 60).expect("advance");
    engine.sync_now().await.expect("sync");
    let secret = {
        let ex = paper.running().shared.exchange.lock().expect("lock");
        ex.accounts[1].secret.clone()
    };
    assert!(secret.len() >= 32);
    let forms = secret_forms(&secret);
    let exports = dir.path().join("exports");
    for kind in ["trades", "orders", "ledger", "statement"] {
        engine
            .export_csv(exports.clone(), kind, None)
            .await
            .expect("export");
    }
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in std::fs::read_dir(dir.path())
        .expect("dir")
        .chain(std::fs::read_dir(&exports).expect("exports"))
    {
        let path = entry.expect("entry").path();
        if path.is_file() {
            texts.push((
                path.display().to_string(),
                std::fs::read(&path).expect("read"),
            ));
        }
    }
    assert!(
        texts.iter().any(|(p, _)| p.ends_with("perpdesk.db")),
        "{texts:?}"
    );
    let views = serde_json::json!({
        "accounts": engine.accounts().await.expect("accounts"),
        "orders": engine.orders(100).await.expect("orders"),
        "trades": engine.trades(None, None, None).await.expect("trades"),
        "ledger": engine.ledger().await.expect("ledger"),
        "audit": engine.store().recent_audit(100).await.expect("audit").iter()
            .map(|a| serde_json::json!({"action": a.action, "details": a.details})).collect::<Vec<_>>(),
    });
    texts.push(("views".into(), views.to_string().into_bytes()));
    for (name, bytes) in &texts {
        for form in &forms {
            assert!(
                !bytes.windows(form.len()).any(|w| w == form.as_bytes()),
                "the secret (as {}…) appears in {name}",
                &form[..4]
            );
        }
    }
    // The audit log has the actions, and the key appears only as its last four characters.
    let actions: Vec<String> = engine
        .store()
        .recent_audit(100)
        .await
        .expect("audit")
        .iter()
        .map(|a| a.action.clone())
        .collect();
    for expected in ["vault.created", "account.created", "order.ticket"] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
}

/// The background pass wakes on the user-data stream: a target hit shows up in the records
/// long before the (here ten-minute) timer would have synced it.
#[tokio::test]
async fn a_fill_reported_on_the_user_stream_is_synced_at_once() {
    let engine = std::sync::Arc::new(engine_on(start_sim().await).await);
    let entry = previewed_mark(&engine).await;
    engine
        .place_order(&ticket(Side::Buy, dec!(1000), entry, dec!(1.5), dec!(1.5)))
        .await
        .expect("placed");
    let mut events = engine.events().subscribe();
    let _background = engine.spawn_background(std::time::Duration::from_secs(600));
    // The first pass runs at once (the timer's first tick) and then reports the connection.
    let first_pass = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        loop {
            match events.recv().await {
                Ok(perpdesk_app::AppEvent::Connection { connected, .. }) => break connected,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events closed: {e}"),
            }
        }
    })
    .await
    .expect("the first background pass finished");
    assert!(first_pass, "the first pass reached the exchange");
    let before = engine.trades(None, None, None).await.expect("trades").len();
    assert_eq!(before, 1, "the entry fill");
    let paper = engine.paper().expect("paper");
    let mut closed = false;
    for _ in 0..(24 * 30) {
        paper.advance(60).expect("advance");
        let open = {
            let ex = paper.running().shared.exchange.lock().expect("lock");
            ex.accounts[1]
                .positions
                .values()
                .any(|p| !p.amount.is_zero())
        };
        if !open {
            closed = true;
            break;
        }
    }
    assert!(closed, "an exit triggered");
    // The next timer tick is ten minutes away: a fill seen within one came from the stream.
    let mut synced = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if engine.trades(None, None, None).await.expect("trades").len() == 2 {
            synced = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        synced,
        "the exit fill arrived through the stream-triggered sync, long before the timer"
    );
}

/// Hedge mode: a long and a short on the same symbol at once, each with its own stop and
/// target on its own position side; closing one leaves the other protected. Cross margin.
#[tokio::test]
async fn one_click_works_in_hedge_mode_with_cross_margin() {
    use perpdesk_core::{MarginType, PositionSide};
    let engine = engine_on(start_sim().await).await;
    {
        let sim = engine.paper().expect("paper").running();
        let now = sim.shared.clock.now_ms();
        sim.shared
            .exchange
            .lock()
            .expect("lock")
            .set_position_mode(1, perpdesk_sim::params::SetPositionMode { dual: true }, now)
            .expect("hedge mode on");
    }
    let entry = previewed_mark(&engine).await;
    let mut long = ticket(Side::Buy, dec!(600), entry, dec!(2), dec!(2));
    long.margin_type = MarginType::Cross;
    let mut short = ticket(Side::Sell, dec!(400), entry, dec!(2), dec!(2));
    short.margin_type = MarginType::Cross;
    let a = engine.place_order(&long).await.expect("long placed");
    let b = engine.place_order(&short).await.expect("short placed");
    assert_eq!(a.entry.position_side, PositionSide::Long);
    assert_eq!(b.entry.position_side, PositionSide::Short);
    assert_eq!(
        a.stop_loss.as_ref().map(|o| o.position_side),
        Some(PositionSide::Long)
    );
    assert_eq!(
        b.take_profit.as_ref().map(|o| o.position_side),
        Some(PositionSide::Short)
    );
    let positions = engine.positions().await.expect("positions");
    assert_eq!(positions.len(), 2, "{positions:?}");
    for p in &positions {
        assert!(p.stop_loss.is_some() && p.take_profit.is_some(), "{p:?}");
        assert_eq!(p.margin_type, Some(MarginType::Cross));
    }
    engine
        .close_position("BTCUSDT", PositionSide::Long)
        .await
        .expect("close the long");
    let left = engine.positions().await.expect("positions");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].position_side, PositionSide::Short);
    assert!(left[0].stop_loss.is_some(), "the short keeps its stop");
    assert_eq!(
        open_algo(&engine),
        2,
        "only the short's stop and target rest"
    );
    let report = engine
        .reconcile(engine.active_account_id().await.expect("active"))
        .await
        .expect("reconcile");
    assert_eq!(report, perpdesk_app::trading::ReconcileReport::default());
}

/// Paper mode fills with `Slippage::PAPER` (issue 17: paper fills had none): a one-click long
/// fills above the replayed price by at least its basis point, the position's entry is that
/// fill, the stop and target still sit on the right sides of it, and the closed trade's
/// realised PnL is the difference of the two fills, so the slippage is in the PnL.
#[tokio::test]
async fn with_paper_slippage_one_click_fills_worse_and_the_pnl_is_the_fills() {
    use perpdesk_core::PositionSide;
    let sim = perpdesk_sim::testing::TestSim::new()
        .account(crate::support::KEY, crate::support::SECRET, dec!(10000))
        .setup(|ex| ex.slippage = perpdesk_sim::exchange::Slippage::PAPER)
        .start()
        .await;
    let engine = engine_on(sim).await;
    let replayed = || {
        let running = engine.paper().expect("paper").running();
        let now = running.shared.clock.now_ms();
        let ex = running.shared.exchange.lock().expect("lock");
        ex.market.last_price("BTCUSDT", now).expect("a price")
    };
    let before = replayed();
    let placed = engine
        .place_order(&ticket(Side::Buy, dec!(1000), before, dec!(1.5), dec!(1.5)))
        .await
        .expect("placed");
    assert_bracket_working(&placed);
    let position = &engine.positions().await.expect("positions")[0];
    // The manual clock stands still, so the replayed price is the one the order met.
    assert!(
        position.entry_price >= before * dec!(1.0001),
        "a buy fills at least 1 bp above {before}: {}",
        position.entry_price
    );
    let stop = placed
        .stop_loss
        .as_ref()
        .and_then(|o| o.trigger_price)
        .expect("stop");
    let target = placed
        .take_profit
        .as_ref()
        .and_then(|o| o.trigger_price)
        .expect("target");
    assert!(stop < position.entry_price && position.entry_price < target);

    engine
        .close_position("BTCUSDT", PositionSide::Both)
        .await
        .expect("closed");
    engine.sync_now().await.expect("sync");
    let fills = engine
        .trades(Some("BTCUSDT"), None, None)
        .await
        .expect("trades");
    let (sell, buy) = (&fills[0], &fills[1]);
    assert_eq!((buy.side, sell.side), (Side::Buy, Side::Sell), "{fills:?}");
    assert_eq!(buy.price, position.entry_price);
    assert!(
        sell.price <= replayed() * dec!(0.9999),
        "a sell fills at least 1 bp below the replayed price: {}",
        sell.price
    );
    assert_eq!(
        sell.realized_pnl,
        (sell.price - buy.price) * sell.quantity,
        "the realised PnL is the fills' difference"
    );
    assert!(
        sell.realized_pnl < Decimal::ZERO,
        "a round trip at one price loses the slippage"
    );
}
