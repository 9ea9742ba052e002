//! The headless replay (`perpdesk-app replay`): the engine the desktop app uses, on a fresh
//! in-memory profile, over an accelerated replay of the paper exchange, one hour per step,
//! with auto-trade on for every paper symbol. It returns the engine, so a caller (the
//! binary, a test) can look at the books it kept and settle them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use perpdesk_core::{Period, Symbol};
use perpdesk_vault::SecretString;
use rust_decimal::Decimal;

use crate::autotrade::{AutoTrade, AutoTradeSymbol};
use crate::records::LedgerView;
use crate::signal_loop::SignalLoopConfig;
use crate::venue::{PAPER_SYMBOLS, PaperVenue};
use crate::{AppError, AppEvent, Engine, EngineConfig, Events};

/// What to replay.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// Days of replay, one hour per step.
    pub days: u32,
    /// Also trade flat signals' lean (no out-of-sample edge: shows the machinery).
    pub trade_lean: bool,
    /// The market data folder (`shared/data`).
    pub data: PathBuf,
    /// Notional per trade, USDT.
    pub usdt: Decimal,
}

/// What a replay did, in the exchange's and the ledger's numbers.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub from_ms: i64,
    pub to_ms: i64,
    pub wall: Duration,
    pub signals: u32,
    /// Signals with a direction; the rest were flat.
    pub directional: u32,
    pub risk_refusals: u32,
    pub orders: usize,
    pub fills: usize,
    pub realized_pnl: Decimal,
    pub commission: Decimal,
    pub funding: Decimal,
    /// Realised PnL − commission + funding over the replay.
    pub net: Decimal,
    pub ledger: LedgerView,
}

/// Runs a replay; every position still open at the end is closed and synced, so the books
/// hold complete round trips.
///
/// # Errors
/// Whatever the engine reports: the data not loading, a refused order, a store failure.
pub async fn run(config: &ReplayConfig) -> Result<(Engine, ReplayReport), AppError> {
    let paper = PaperVenue::start(&config.data, None, None).await?;
    let engine = Engine::open(EngineConfig::default(), Some(paper), Events::new()).await?;
    // An in-memory run: the master password only has to exist for the run.
    let password = format!("replay-{}-Pw!", u64::from(std::process::id()) * 7919);
    engine
        .first_run(SecretString::new(password.clone()))
        .await?;
    let symbols: Vec<Symbol> = PAPER_SYMBOLS
        .iter()
        .filter_map(|s| Symbol::new(s).ok())
        .collect();
    let mut auto = AutoTrade::default();
    for s in &symbols {
        auto.symbols.insert(
            s.clone(),
            AutoTradeSymbol {
                enabled: true,
                usdt: config.usdt,
                trade_lean: config.trade_lean,
                ..AutoTradeSymbol::default()
            },
        );
    }
    // Arming auto-trade loosens a safety setting, so it takes the password (issue 16 item 3).
    engine
        .set_auto_trade(auto, true, Some(SecretString::new(password)))
        .await?;
    let paper = engine
        .paper()
        .ok_or_else(|| AppError::NotFound("paper".into()))?;
    let started = Instant::now();
    let from_ms = paper.now_ms();
    let lp = engine
        .start_signals(Some(SignalLoopConfig::new(symbols.clone())))
        .await?;
    let mut events = engine.events().subscribe();
    let (mut signals, mut directional, mut risk_refusals) = (0_u32, 0_u32, 0_u32);
    for _ in 0..config.days * 24 {
        paper.advance(60)?;
        lp.poll_once().await?;
        while let Ok(event) = events.try_recv() {
            match event {
                AppEvent::Signal {
                    symbol, direction, ..
                } => {
                    signals += 1;
                    if direction != crate::events::Direction::Flat {
                        directional += 1;
                    }
                    engine.auto_trade_latest(&symbol).await;
                }
                AppEvent::Risk { .. } => risk_refusals += 1,
                _ => {}
            }
        }
        engine.sync_now().await?;
    }
    for p in engine.positions().await? {
        engine.close_position(&p.symbol, p.position_side).await?;
    }
    engine.sync_now().await?;

    let fills = engine.trades(None, None, None).await?.len();
    let orders = engine.orders(5000).await?.len();
    let pnl = engine.pnl(Period::Month).await?;
    let sum = |f: fn(&perpdesk_core::PeriodPnl) -> Decimal| pnl.iter().map(f).sum::<Decimal>();
    let report = ReplayReport {
        from_ms,
        to_ms: paper.now_ms(),
        wall: started.elapsed(),
        signals,
        directional,
        risk_refusals,
        orders,
        fills,
        realized_pnl: sum(|p| p.realized_pnl),
        commission: sum(|p| p.commission),
        funding: sum(|p| p.funding),
        net: sum(|p| p.net),
        ledger: engine.ledger().await?,
    };
    Ok((engine, report))
}
