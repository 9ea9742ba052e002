//! The engine's long-lived tasks: the signal loop, periodic sync and reconciliation, the
//! user-data stream and the liquidation watch; `watchlist` holds what the signals panel reads.
//!
//! Sync runs on a timer rather than only on user-stream events: a timer also covers sleep
//! and resume, a dropped stream and changes made in other apps, and every pass is
//! incremental and idempotent, so running it often costs little.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use perpdesk_binance::{BaseUrls, Client, RestClient};
use perpdesk_core::Symbol;
use perpdesk_store::Environment;

use crate::signal_loop::{SignalLoop, SignalLoopConfig};
use crate::sync::{SyncProgress, SyncReport, sync_account};
use crate::{AppError, AppEvent, Engine};

mod watchlist;

pub use watchlist::{CandleView, MAX_WATCHLIST, SignalView, WatchRow};

impl Engine {
    /// A client for public market data of the venue the app trades on: the paper exchange
    /// in paper mode, Binance otherwise. It holds no key.
    pub(crate) async fn market_client(&self) -> Result<Client, AppError> {
        let environment = self
            .active_environment()
            .await?
            .unwrap_or(Environment::Paper);
        let environment = if self.paper.is_none() && environment == Environment::Paper {
            Environment::Live
        } else {
            environment
        };
        let urls: BaseUrls = crate::venue::urls(environment, self.paper.as_deref())
            .ok_or_else(|| AppError::NotFound("market data source".into()))?;
        let rest = match (&self.paper, environment) {
            (Some(p), Environment::Paper) => {
                let p = p.clone();
                RestClient::with_clock(
                    &urls,
                    None,
                    crate::venue::paper_pacing(self.config.rest.clone()),
                    Arc::new(move || p.now_ms()),
                )
            }
            _ => RestClient::new(&urls, None, self.config.rest.clone()),
        }
        .map_err(|e| AppError::Internal(format!("http client: {e}")))?;
        Ok(Client::new(Arc::new(rest)))
    }

    /// Starts the signal loop over `symbols` (the paper exchange's by default) and keeps it
    /// for the views. Loading history and evaluating takes a while; call it off the UI path.
    ///
    /// # Errors
    /// Exchange, model or store failures of any symbol.
    pub async fn start_signals(
        &self,
        config: Option<SignalLoopConfig>,
    ) -> Result<SignalLoop, AppError> {
        let config = match config {
            Some(c) => c,
            None => {
                let symbols = self.watchlist_symbols().await?;
                let mut c = SignalLoopConfig::new(symbols);
                if let Some(t) = self.store.setting::<f64>(STRONG_THRESHOLD).await? {
                    c.strong_threshold = t;
                }
                c
            }
        };
        let client = self.market_client().await?;
        let lp = SignalLoop::start(
            config,
            client,
            self.store.clone(),
            self.events.clone(),
            self.signals_paused.clone(),
        )
        .await?;
        *self.signals.write().await = Some(lp.clone());
        Ok(lp)
    }

    /// Pauses or resumes signal generation (candles keep flowing).
    pub fn set_signals_paused(&self, paused: bool) {
        self.signals_paused.store(paused, Ordering::Release);
    }

    pub(super) async fn signal_loop(&self) -> Result<SignalLoop, AppError> {
        self.signals.read().await.clone().ok_or_else(|| {
            AppError::NotFound(
                "signals (the model is still loading history; try again shortly)".into(),
            )
        })
    }

    /// Reconciles and syncs the active account now, reporting progress as events.
    ///
    /// # Errors
    /// Exchange, store and vault errors.
    pub async fn sync_now(&self) -> Result<SyncReport, AppError> {
        self.sync_pass(true).await
    }

    /// One reconcile + sync pass; `loud` reports progress (a user is watching a bar), and
    /// otherwise only a pass that found something says so.
    async fn sync_pass(&self, loud: bool) -> Result<SyncReport, AppError> {
        let session = self.active_session().await?;
        let account_id = session.account.id;
        self.reconcile(account_id).await?;
        let settings = self.ledger_settings().await?.share()?;
        let mut symbols = self.watchlist_symbols().await?;
        for p in session.client.positions().await? {
            if !symbols.contains(&p.symbol) {
                symbols.push(p.symbol);
            }
        }
        let total = u32::try_from(symbols.len())
            .unwrap_or(u32::MAX)
            .saturating_add(3);
        let events = self.events.clone();
        let step = std::sync::atomic::AtomicU32::new(0);
        let report = sync_account(
            &session.client,
            &self.store,
            account_id,
            &symbols,
            &settings,
            self.now(Some(&session)),
            |p| {
                if !loud {
                    return;
                }
                let done = match &p {
                    SyncProgress::Positions => 1,
                    SyncProgress::Trades { .. } => {
                        step.fetch_add(1, Ordering::Relaxed).min(total - 3) + 1
                    }
                    SyncProgress::Income { .. } => total - 2,
                    SyncProgress::Storing { .. } => total - 1,
                    SyncProgress::Booking => total,
                };
                let message = match &p {
                    SyncProgress::Positions => "positions".to_owned(),
                    SyncProgress::Trades { symbol, fetched } => {
                        format!("{symbol}: {fetched} fills")
                    }
                    SyncProgress::Income { fetched } => format!("income: {fetched} rows"),
                    SyncProgress::Storing { fills, income } => {
                        format!("storing {fills} fills, {income} income rows")
                    }
                    SyncProgress::Booking => "profit-share ledger".to_owned(),
                };
                events.emit(AppEvent::SyncProgress {
                    account_id,
                    done,
                    total,
                    message,
                });
            },
        )
        .await
        .map_err(|e| match e {
            crate::sync::SyncError::Exchange(x) => AppError::Exchange(x),
            other => AppError::Internal(other.to_string()),
        })?;
        for c in &report.closed_outside {
            self.events.emit(AppEvent::Risk {
                rule: "closed_outside".into(),
                message: format!(
                    "{} {:?} position was closed outside perpdesk",
                    c.symbol, c.position_side
                ),
            });
        }
        for f in &report.forced_closes {
            self.events.emit(AppEvent::Risk {
                rule: "liquidation".into(),
                message: format!("{} {:?} by the exchange: {}", f.symbol, f.cause, f.amount),
            });
        }
        let found = report.new_fills + report.new_income + report.new_ledger_rows > 0;
        if loud || found {
            self.events.emit(AppEvent::SyncDone {
                account_id,
                new_fills: report.new_fills,
                new_income: report.new_income,
                new_ledger_rows: report.new_ledger_rows,
            });
        }
        if report.positions_changed || report.new_fills > 0 {
            self.events.emit(AppEvent::Positions { account_id });
        }
        Ok(report)
    }

    /// Hands the latest signal of `symbol` to auto-trading (which does nothing unless the
    /// user turned it on for the symbol). Failures are events and log lines, not errors:
    /// a refused auto-trade must not stop the loop.
    pub async fn auto_trade_latest(&self, symbol: &str) {
        if self.vault().is_err() {
            return;
        }
        let Some(lp) = self.signals.read().await.clone() else {
            return;
        };
        let Ok(symbol) = Symbol::new(symbol) else {
            return;
        };
        if let Ok(Some(signal)) = lp.latest_signal(&symbol) {
            match self.auto_trade_signal(&signal).await {
                Ok(Some(placed)) => {
                    tracing::info!(ticket = %placed.ticket_id, %symbol, "auto-traded a signal")
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, %symbol, "auto-trade refused"),
            }
        }
    }

    /// Listens to the account's user-data stream (order updates, fills, balance and position
    /// changes, a reconnect after a gap) and wakes the sync pass on each, so the UI follows the
    /// exchange within a moment instead of at the next tick. `None` when it cannot start; the
    /// timer still syncs.
    ///
    /// A dropped connection is reported at once as a `Connection` event (a renewed
    /// listenKey reconnects at once and is routine, so it is not); `link` tells the sync
    /// loop, which reports the connection back once the stream is up again.
    async fn user_stream(
        &self,
        account_id: i64,
        wake: Arc<tokio::sync::Notify>,
        link: Arc<StreamLink>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let session = self.session(account_id).await.ok()?;
        let events = self.events.clone();
        let urls = crate::venue::urls(session.account.environment, self.paper.as_deref())?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let client = session.client.clone();
        Some(tokio::spawn(async move {
            let run = client.run_user_stream(
                &urls.streams,
                perpdesk_binance::streams::StreamConfig::default(),
                tx,
            );
            let forward = async move {
                while let Some(event) = rx.recv().await {
                    use perpdesk_binance::streams::StreamEvent;
                    match event {
                        StreamEvent::Message(_) => wake.notify_one(),
                        StreamEvent::Connected { first: false } => {
                            // This pass also fetches whatever was missed while it was down.
                            if link.down.swap(false, Ordering::AcqRel) {
                                link.back.store(true, Ordering::Release);
                            }
                            wake.notify_one();
                        }
                        StreamEvent::Malformed { error, .. } => {
                            tracing::warn!(%error, "malformed user-stream message");
                        }
                        StreamEvent::Disconnected { reason, retry_in } => {
                            tracing::info!(%reason, "user stream dropped; reconnecting");
                            if !retry_in.is_zero() && !link.down.swap(true, Ordering::AcqRel) {
                                events.emit(AppEvent::Connection {
                                    account_id,
                                    connected: false,
                                    message: format!(
                                        "live updates from the exchange stopped ({reason}); \
                                         reconnecting"
                                    ),
                                });
                            }
                        }
                        StreamEvent::Connected { first: true } => {}
                    }
                }
            };
            tokio::join!(run, forward);
        }))
    }

    /// Warns when a position's mark is within 5% of its liquidation price.
    async fn watch_liquidation(&self) -> Result<(), AppError> {
        let session = self.active_session().await?;
        for p in session.client.positions().await? {
            if p.liquidation_price.is_zero() || p.mark_price.is_zero() {
                continue;
            }
            let gap = ((p.mark_price - p.liquidation_price) / p.mark_price).abs();
            if gap < rust_decimal::Decimal::new(5, 2) {
                self.events.emit(AppEvent::LiquidationWarning {
                    account_id: session.account.id,
                    symbol: p.symbol.to_string(),
                    mark_price: p.mark_price.to_string(),
                    liquidation_price: p.liquidation_price.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Starts the background work: the signal loop (once its history is loaded) and a
    /// sync + reconcile pass every `every` while the vault is open. Errors are reported as
    /// connection events and retried at the next pass.
    pub fn spawn_background(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        // The family study checks the exchange's day once a minute (`crate::study`).
        let _study = self.spawn_study(Duration::from_secs(60));
        let signals = self.clone();
        tokio::spawn(async move {
            loop {
                match signals.start_signals(None).await {
                    Ok(lp) => {
                        // Runs until the app quits; the loop retries its own failed polls.
                        let _running = lp.spawn();
                        break;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "signal loop did not start; retrying in 30 s");
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                }
            }
        });
        let trader = self.clone();
        // Auto-trading reads its own lossless feed, not the broadcast: a lagging broadcast
        // receiver skips events, and a skipped signal would be a trade silently not taken.
        let mut feed = trader.events.auto_trade_feed();
        tokio::spawn(async move {
            while let Some(symbol) = feed.recv().await {
                trader.auto_trade_latest(&symbol).await;
            }
        });
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut connected: Option<bool> = None;
            let wake = Arc::new(tokio::sync::Notify::new());
            let mut link = Arc::new(StreamLink::default());
            let mut stream: Option<(i64, tokio::task::JoinHandle<()>)> = None;
            loop {
                // A pass runs on the timer, or at once when the user stream reports a change.
                tokio::select! {
                    _ = tick.tick() => {}
                    () = wake.notified() => {}
                }
                // Here, not in a commit on the order path (see `Store::checkpoint`).
                if let Err(e) = me.store.checkpoint().await {
                    tracing::warn!(error = %e, "database checkpoint failed; the WAL keeps the data");
                }
                if me.vault().is_err() {
                    if let Some((_, task)) = stream.take() {
                        task.abort();
                    }
                    // The first pass after an unlock says how the connection is, even if
                    // it is as before the lock: the tray shows "locked" until then.
                    connected = None;
                    continue;
                }
                let Ok(account_id) = me.active_account_id().await else {
                    continue;
                };
                if stream
                    .as_ref()
                    .is_none_or(|(id, task)| *id != account_id || task.is_finished())
                {
                    if let Some((_, task)) = stream.take() {
                        task.abort();
                    }
                    link = Arc::new(StreamLink::default());
                    stream = me
                        .user_stream(account_id, wake.clone(), link.clone())
                        .await
                        .map(|t| (account_id, t));
                }
                let result = async {
                    me.sync_pass(false).await?;
                    me.watch_liquidation().await
                }
                .await;
                let ok = result.is_ok();
                // After the stream reported a drop, the first pass with it back says so;
                // "connected" is not claimed while the stream is still down.
                if link.back.swap(false, Ordering::AcqRel) {
                    connected = None;
                }
                if connected != Some(ok) && !(ok && link.down.load(Ordering::Acquire)) {
                    me.events.emit(AppEvent::Connection {
                        account_id,
                        connected: ok,
                        message: match &result {
                            Ok(()) => "connected".to_owned(),
                            Err(e) => e.to_string(),
                        },
                    });
                    connected = Some(ok);
                }
                if let Err(e) = result {
                    tracing::warn!(error = %e, "background sync failed; retrying");
                }
            }
        })
    }
}

/// The user-data stream's connection state as the sync loop needs it.
#[derive(Debug, Default)]
struct StreamLink {
    /// The connection dropped (and a `Connection` event said so); it is reconnecting.
    down: std::sync::atomic::AtomicBool,
    /// It came back after a drop: the next pass reports the connection again.
    back: std::sync::atomic::AtomicBool,
}

const STRONG_THRESHOLD: &str = "signals.strong_threshold";
