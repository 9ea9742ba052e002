//! The family study in the app: made from the exchange's candles, kept for the day, shown
//! flat where nothing passes, and the one-click ticket a family's signal suggests.

use perpdesk_app::AppEvent;
use perpdesk_app::study::data_end;
use perpdesk_core::{RiskLimits, Sizing};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal_macros::dec;

use crate::support::{engine_with, start_sim};

fn drain(rx: &mut tokio::sync::broadcast::Receiver<AppEvent>) -> Vec<AppEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn studies_the_listed_symbols_once_a_day_and_shows_every_family_flat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("perpdesk.db");
    let engine = engine_with(start_sim().await, Some(db.clone())).await;
    let mut rx = engine.events().subscribe();

    let report = engine.ensure_study().await.expect("study");
    let events = drain(&mut rx);
    let steps: Vec<(u32, u32)> = events
        .iter()
        .filter_map(|e| match e {
            AppEvent::StudyProgress { done, total, .. } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    let symbols: Vec<&str> = report.symbols.iter().map(|s| s.symbol.as_str()).collect();
    assert_eq!(
        symbols,
        ["BTCUSDT", "ETHUSDT"],
        "what the paper exchange lists"
    );
    // A step per symbol's history, one per symbol's 1h model walk-forward and one for the
    // study, each reported in order.
    assert_eq!(steps.first(), Some(&(0, 5)));
    assert!(steps.contains(&(4, 5)), "the models' steps: {steps:?}");
    assert_eq!(steps.last(), Some(&(5, 5)));
    assert!(steps.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AppEvent::StudyReady { passing: 0, .. }))
    );

    // Whole closed days only: the record ends just before the replay's last midnight.
    let now = chrono::DateTime::from_timestamp_millis(crate::support::START).expect("start");
    assert_eq!(report.to, data_end(now) - chrono::Duration::milliseconds(1));
    let ids: Vec<&str> = report.families.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        11,
        "every rule family, both pooled models and both 1h models of the shipped file: {ids:?}"
    );
    assert!(ids.contains(&"pooled_4h") && ids.contains(&"pooled_daily"));
    // The 1h model families: each symbol's walk-forward as one book, deciding every hour,
    // with the Brier skill of their forecasts, judged like every family.
    for id in ["model_1h_logistic", "model_1h_gbdt"] {
        let f = report
            .families
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{id} is not in the app's study: {ids:?}"));
        assert_eq!(f.horizon_days, 1.0 / 24.0, "{id}");
        assert!(f.verdict.brier.is_some(), "{id} has no Brier skill");
        assert!(f.verdict.activity.trades > 0, "{id} never traded");
        assert!(f.trial_id.contains(&format!("/{id}/")), "{}", f.trial_id);
        assert_eq!(f.latest.len(), 2, "{id}: a signal per symbol");
    }
    let strategy = perpdesk_app::study::shipped_strategy().expect("shipped");
    assert_eq!(strategy.strategy.version, "2");
    assert_eq!(report.strategy.sha256, strategy.sha256);

    // Nothing passes today: every signal is flat with its reasons, and so is the portfolio.
    for f in &report.families {
        assert!(!f.verdict.edge, "{} passed", f.id);
        assert!(
            !f.verdict.reasons.is_empty(),
            "{} is flat without a reason",
            f.id
        );
        assert!(
            f.latest
                .iter()
                .all(|l| l.direction == perpdesk_signal::SignalDirection::Flat)
        );
    }
    let view = engine.study_view().await.expect("view");
    assert_eq!(view.state, "ready");
    // Each row says how long a record at its Sharpe would have to be, from its own verdict.
    for (row, f) in view.families.iter().zip(&report.families) {
        let p = f.verdict.power();
        assert_eq!(row.id, f.id);
        assert_eq!(row.record.record_years, p.record_years);
        assert_eq!(row.record.dsr_bar, f.verdict.deflated.expected_max_sharpe);
        assert_eq!(row.record.min_years_vs_zero, p.years_vs_zero, "{}", f.id);
        assert_eq!(row.record.min_years_vs_bar, p.years_vs_bar, "{}", f.id);
        if f.verdict.strategy.sharpe <= 0.0 {
            assert_eq!(row.record.min_years_vs_zero, None, "{}: never", f.id);
        }
    }
    let portfolio = view.portfolio.as_ref().expect("portfolio");
    assert!(portfolio.flat && portfolio.members.is_empty() && portfolio.record.is_none());
    let basket = view.basket.as_ref().expect("basket");
    assert!(basket.curve.t.len() <= perpdesk_app::study::VIEW_CURVE_POINTS);
    assert!(basket.max_drawdown > 0.0);
    let json = serde_json::to_string(&view).expect("json");
    eprintln!("signal_study reply: {} bytes", json.len());
    assert!(json.len() < 200_000, "signal_study is {} bytes", json.len());

    // The same day: the report in memory is reused, nothing is fetched or computed again.
    let again = engine.ensure_study().await.expect("again");
    assert!(std::sync::Arc::ptr_eq(&report, &again));

    // A restart on the same day reads the cached report instead of computing it.
    drop(engine);
    let engine = engine_with(start_sim().await, Some(db.clone())).await;
    let mut rx = engine.events().subscribe();
    let cached = engine.ensure_study().await.expect("cached study");
    // (Floats read back from JSON may differ in the last bit, so the identity is compared.)
    assert_eq!(cached.strategy, report.strategy);
    assert_eq!((cached.from, cached.to), (report.from, report.to));
    let ids = |r: &perpdesk_signal::study::StudyReport| -> Vec<(String, bool)> {
        r.families
            .iter()
            .map(|f| (f.id.clone(), f.verdict.edge))
            .collect()
    };
    assert_eq!(ids(&cached), ids(&report));
    let events = drain(&mut rx);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AppEvent::StudyProgress { .. })),
        "a cached study fetches nothing: {events:?}"
    );

    // A report cached before the 1h model families (no format) and one that no longer parses
    // are only caches: the study is made again, with every family, instead of failing.
    drop(engine);
    let store = perpdesk_store::Store::open(&db).await.expect("store");
    let mut old: serde_json::Value = store
        .setting("signal.study")
        .await
        .expect("read the cache")
        .expect("the cached study");
    assert_eq!(old["format"], perpdesk_app::study::CACHE_FORMAT);
    old.as_object_mut().expect("an object").remove("format");
    let unreadable = serde_json::json!({"sha256": 1});
    for stale in [old, unreadable] {
        store
            .put_setting("signal.study", &stale, chrono::Utc::now())
            .await
            .expect("write the cache");
        let engine = engine_with(start_sim().await, Some(db.clone())).await;
        let mut rx = engine.events().subscribe();
        let again = engine.ensure_study().await.expect("made again");
        assert_eq!(again.families.len(), 11, "{stale}");
        assert!(
            drain(&mut rx)
                .iter()
                .any(|e| matches!(e, AppEvent::StudyProgress { .. })),
            "the stale cache {stale} was used"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signals_ticket_carries_the_volatility_size_and_stop_capped_by_the_risk_limits() {
    let engine = engine_with(start_sim().await, None).await;
    engine.ensure_study().await.expect("study");
    let rows = engine.family_signals("BTCUSDT").await.expect("rows");
    assert_eq!(rows.len(), 11, "every family of strategy v2 has a row");
    // The pooled and 1h models are judged by the same verdict and shown flat with its reasons.
    for id in [
        "pooled_4h",
        "pooled_daily",
        "model_1h_logistic",
        "model_1h_gbdt",
    ] {
        let row = rows.iter().find(|r| r.family == id).expect("model row");
        assert_eq!(row.direction, "flat", "{id}");
        assert!(!row.record.edge && !row.record.reasons.is_empty(), "{id}");
    }
    // The 4h and 1h models decide more often in their records, but the app recomputes signals
    // only with the daily study, so the next signal it can show is at the next 00:00 UTC,
    // never a 4h or 1h close already past.
    let four = rows.iter().find(|r| r.family == "pooled_4h").expect("4h");
    let hourly = rows
        .iter()
        .find(|r| r.family == "model_1h_logistic")
        .expect("1h");
    for row in [four, hourly] {
        assert_eq!(row.time_ms % 86_400_000, 0, "the study's close: {row:?}");
        assert_eq!(
            row.next_decision_ms - row.time_ms,
            86_400_000,
            "{} shows its next signal with the next daily study",
            row.family
        );
    }
    let study = engine.study_view().await.expect("study view");
    for f in &study.families {
        let row = rows
            .iter()
            .find(|r| r.family == f.id)
            .expect("a row per family");
        assert_eq!(f.next_decision_ms, Some(row.next_decision_ms), "{}", f.id);
        assert!(row.next_decision_ms >= row.time_ms + 86_400_000, "{}", f.id);
    }
    // Its bars have a volatility, so a held 4h position has a size and a stop like a daily one.
    assert!(
        four.annual_vol.is_some(),
        "no volatility on the 4h bars: {four:?}"
    );
    if four.weight != 0.0 {
        assert!(
            four.suggested_notional.is_some() && four.stop_price.is_some(),
            "{four:?}"
        );
    }
    let held = rows
        .iter()
        .find(|r| r.weight != 0.0 && r.annual_vol.is_some())
        .expect("a trend family holds BTC");
    assert_eq!(held.direction, "flat", "no edge, no arrow");
    assert!(held.record.reasons.len() + usize::from(held.record.edge) > 0);
    assert!(held.next_decision_ms > held.time_ms);
    let equity = held.equity.expect("the paper account's balance");
    let expected = (equity * Decimal::try_from(held.weight.abs()).expect("weight")).round_dp(2);
    assert_eq!(held.suggested_notional, Some(expected));

    // Without caps that bind, the ticket is the volatility size at the account's equity.
    let generous = RiskLimits {
        max_position_notional: dec!(1000000),
        max_total_notional: dec!(1000000),
        max_leverage: 20,
        max_stop_distance_pct: dec!(50),
        ..RiskLimits::default()
    };
    engine
        .set_risk_limits(
            generous.clone(),
            Some(perpdesk_vault::SecretString::new(
                crate::support::PASSWORD.into(),
            )),
        )
        .await
        .expect("limits");
    let free = engine
        .suggest_ticket("BTCUSDT", &held.family)
        .await
        .expect("suggestion");
    assert!(free.capped_by.is_empty(), "{:?}", free.capped_by);
    assert!(free.unproven);
    assert_eq!(
        free.ticket.sizing,
        Sizing::FixedNotional {
            usdt: free.target_notional.round_dp(2)
        }
    );
    assert_eq!(free.preview.preview.stop_loss, free.ticket.stop_loss);

    // A small position cap and a close stop limit bind: the ticket and its preview obey them.
    let tight = RiskLimits {
        max_position_notional: dec!(100),
        max_stop_distance_pct: dec!(1),
        ..generous
    };
    // Tightening needs no password.
    engine.set_risk_limits(tight, None).await.expect("limits");
    let capped = engine
        .suggest_ticket("BTCUSDT", &held.family)
        .await
        .expect("suggestion");
    assert!(capped.target_notional > dec!(100));
    assert_eq!(
        capped.ticket.sizing,
        Sizing::FixedNotional { usdt: dec!(100) }
    );
    assert!(capped.capped_by.contains(&"max_position_notional"));
    assert!(capped.capped_by.contains(&"max_stop_distance_pct"));
    let p = &capped.preview.preview;
    assert!(
        p.notional <= dec!(100) && p.notional > dec!(50),
        "{}",
        p.notional
    );
    let stop = p.stop_loss.expect("stop");
    let distance = ((p.entry_price - stop).abs() / p.entry_price)
        .to_f64()
        .expect("f64");
    assert!(distance <= 0.01 + 1e-9, "stop {stop} is {distance} away");
    assert!(capped.preview.risk.ok, "{:?}", capped.preview.risk);

    // A family that holds nothing in the symbol has nothing to size.
    if let Some(idle) = rows.iter().find(|r| r.weight == 0.0) {
        let err = engine
            .suggest_ticket("BTCUSDT", &idle.family)
            .await
            .expect_err("nothing to size");
        assert_eq!(err.code(), perpdesk_app::ErrorCode::InvalidInput);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_targets_the_margin_balance_with_an_open_position_in_profit_or_loss() {
    let engine = engine_with(start_sim().await, None).await;
    engine.ensure_study().await.expect("study");
    let rows = engine.family_signals("BTCUSDT").await.expect("rows");
    let held = rows
        .iter()
        .find(|r| r.weight != 0.0 && r.annual_vol.is_some())
        .expect("a trend family holds BTC");
    let generous = RiskLimits {
        max_position_notional: dec!(1000000),
        max_total_notional: dec!(1000000),
        max_leverage: 20,
        max_stop_distance_pct: dec!(50),
        ..RiskLimits::default()
    };
    engine
        .set_risk_limits(
            generous,
            Some(perpdesk_vault::SecretString::new(
                crate::support::PASSWORD.into(),
            )),
        )
        .await
        .expect("limits");

    // An open position whose price has moved: its margin is out of the available balance and
    // its unrealised PnL is in the margin balance.
    let entry = crate::support::previewed_mark(&engine).await;
    engine
        .place_order(&crate::support::ticket(
            perpdesk_core::Side::Buy,
            dec!(3000),
            entry,
            dec!(30),
            dec!(30),
        ))
        .await
        .expect("position opened");
    let paper = engine.paper().expect("paper");
    // The paper account the first run opened (index 0 is the support key).
    let (key, secret) = {
        let ex = paper.running().shared.exchange.lock().expect("exchange");
        (
            ex.accounts[1].api_key.clone(),
            ex.accounts[1].secret.clone(),
        )
    };
    let exchange = crate::support::client_with(paper.running(), &key, &secret);
    let mut account = exchange.raw().account().await.expect("account");
    for _ in 0..48 {
        if !account.total_unrealized_profit.is_zero() {
            break;
        }
        paper.advance(60).expect("an hour of replay");
        account = exchange.raw().account().await.expect("account");
    }
    assert!(
        !account.total_unrealized_profit.is_zero(),
        "the price moved"
    );
    assert_eq!(
        account.total_margin_balance,
        account.total_wallet_balance + account.total_unrealized_profit
    );
    assert!(account.available_balance < account.total_margin_balance);

    let s = engine
        .suggest_ticket("BTCUSDT", &held.family)
        .await
        .expect("suggestion");
    assert_eq!(s.equity, account.total_margin_balance);
    let w = Decimal::try_from(s.weight.abs()).expect("weight");
    assert_eq!(
        s.target_notional,
        (account.total_margin_balance * w).round_dp(8)
    );
    assert_ne!(
        s.target_notional,
        (account.available_balance * w).round_dp(8),
        "not the available balance"
    );
    // The risk limits still cap it: the open position leaves this much room in the total.
    let tight = RiskLimits {
        max_position_notional: dec!(3500),
        max_total_notional: dec!(3500),
        max_leverage: 20,
        max_stop_distance_pct: dec!(50),
        ..RiskLimits::default()
    };
    engine.set_risk_limits(tight, None).await.expect("limits");
    let capped = engine
        .suggest_ticket("BTCUSDT", &held.family)
        .await
        .expect("suggestion");
    assert!(capped.capped_by.contains(&"max_total_notional"));
    let Sizing::FixedNotional { usdt } = capped.ticket.sizing else {
        panic!("a notional ticket");
    };
    assert!(
        usdt < dec!(3500) - dec!(2000),
        "{usdt} leaves room for the open position"
    );

    // The table shows the same equity.
    let rows = engine.family_signals("BTCUSDT").await.expect("rows");
    assert!(rows.iter().all(|r| r.equity == Some(s.equity)));
}
