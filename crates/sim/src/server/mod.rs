//! The HTTP and WebSocket front of the simulator: Binance's paths, parameters, headers and
//! error bodies, over [`Exchange`].
//!
//! Besides Binance's paths it serves admin routes for tests and the CLI: `POST /admin/accounts`,
//! `/admin/clock`, `/admin/faults` and `/admin/streams/drop`. They can mint balances and move
//! the clock, so each needs the server's random admin token in [`ADMIN_TOKEN_HEADER`] and a
//! loopback `Host` (a web page that rebinds its own name to 127.0.0.1 sends its own name);
//! the binary only binds loopback addresses.
//!
//! - `routes`: every path, each parsing its typed request and rendering its reply.
//! - `endpoint`: what every REST request goes through: faults, weight, authentication, order
//!   limits, Binance's headers.
//! - `client_endpoints`: the endpoints third-party clients use beyond perpdesk's own.
//! - `auth`: API key, HMAC signature, timestamp and recvWindow.
//! - `limits`: request weight and order counts.
//! - `listen_keys`: the user-data stream's keys.
//! - `admin`: the admin routes.

mod admin;
mod auth;
mod client_endpoints;
mod endpoint;
mod limits;
mod listen_keys;
mod routes;
mod token;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::exchange::Exchange;
use crate::market::SimClock;
use crate::replies;

pub use admin::ADMIN_TOKEN_HEADER;
pub use listen_keys::LISTEN_KEY_TTL_MS;
pub(crate) use listen_keys::listen_key_owner;
pub use routes::router;

use limits::{Limits, ORDER_LIMIT_1M, ORDER_LIMIT_10S, WEIGHT_LIMIT};
use listen_keys::ListenKey;

/// Everything the handlers share.
pub struct Shared {
    /// The exchange, behind one lock: every request sees a consistent state.
    pub exchange: Mutex<Exchange>,
    /// The replay clock; it is also the server time `GET /fapi/v1/time` reports.
    pub clock: SimClock,
    limits: Mutex<Limits>,
    /// Request weight allowed per minute; Binance's 2400 unless a load test raises it.
    weight_limit: std::sync::atomic::AtomicU32,
    /// New orders allowed per account per 10 seconds and per minute.
    order_limits: Mutex<(u32, u32)>,
    listen_keys: Mutex<Vec<ListenKey>>,
    /// Injected faults (tests).
    faults: Mutex<crate::faults::Faults>,
    /// User-data events fanned out to `/private` sockets: (account index, event).
    events: tokio::sync::broadcast::Sender<(usize, Arc<Value>)>,
    /// Bumped by [`Shared::drop_streams`]; every open socket watches it and ends when it moves.
    drops: tokio::sync::watch::Sender<u64>,
    /// Bumped when a listen key is deleted; user-data sockets then check that theirs lives.
    key_deletions: tokio::sync::watch::Sender<u64>,
    /// What `/admin/*` requests must carry; `None` (no OS randomness) refuses them all.
    admin_token: Option<String>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Shares `exchange` driven by `clock`.
    pub fn new(exchange: Exchange, clock: SimClock) -> Arc<Self> {
        Arc::new(Self {
            exchange: Mutex::new(exchange),
            clock,
            limits: Mutex::new(Limits::default()),
            weight_limit: std::sync::atomic::AtomicU32::new(WEIGHT_LIMIT),
            order_limits: Mutex::new((ORDER_LIMIT_10S, ORDER_LIMIT_1M)),
            listen_keys: Mutex::new(Vec::new()),
            faults: Mutex::new(crate::faults::Faults::default()),
            events: tokio::sync::broadcast::channel(4096).0,
            drops: tokio::sync::watch::channel(0).0,
            key_deletions: tokio::sync::watch::channel(0).0,
            admin_token: token::random_alnum(64)
                .inspect_err(|e| {
                    tracing::error!(error = %e, "no randomness for an admin token: /admin is off");
                })
                .ok(),
        })
    }

    /// The token `/admin/*` requests carry in [`ADMIN_TOKEN_HEADER`]: 64 random letters and
    /// digits made at start, for whoever started this server (the CLI prints or stores it).
    /// `None` when the OS had no randomness, and then every admin request is refused.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    /// Ends every open WebSocket (user data and market) at once, as a network drop would: the
    /// connection is cut without a close frame. ListenKeys stay valid, so a client that
    /// reconnects with the same key gets its events again.
    pub fn drop_streams(&self) {
        self.drops.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes when [`Shared::drop_streams`] is called; sockets hold one each.
    pub(crate) fn stream_drops(&self) -> tokio::sync::watch::Receiver<u64> {
        self.drops.subscribe()
    }

    /// A receiver that changes when a listen key is deleted; user-data sockets hold one each.
    pub(crate) fn key_deletions(&self) -> tokio::sync::watch::Receiver<u64> {
        self.key_deletions.subscribe()
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: crate::faults::Faults) {
        *self
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    }

    /// Changes the per-minute weight limit (load tests measure the engine, not the limiter).
    pub fn set_weight_limit(&self, limit: u32) {
        self.weight_limit
            .store(limit, std::sync::atomic::Ordering::Relaxed);
    }

    /// Changes the new-order limits per account (per 10 seconds, per minute); load tests and
    /// the app's paper exchange raise them.
    pub fn set_order_limits(&self, per_10s: u32, per_minute: u32) {
        *self
            .order_limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (per_10s, per_minute);
    }

    /// Saves the exchange's state at the clock's time to `path` (atomically; see
    /// [`Exchange::save`]).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: &std::path::Path) -> Result<(), crate::exchange::StateError> {
        self.tick();
        self.exchange().save(path)
    }

    /// Moves the exchange to the clock's time and pushes the events it produced.
    pub fn tick(&self) {
        let now = self.clock.now_ms();
        let events = {
            let mut ex = self.exchange();
            ex.advance(now);
            std::mem::take(&mut ex.outbox)
        };
        for (account, event) in events {
            // No subscriber is fine: nobody is listening to that account.
            let _ = self
                .events
                .send((account, Arc::new(replies::events::user_event(&event))));
        }
        self.expire_listen_keys(now);
    }

    /// The exchange, locked, and the clock's time read under the lock (so a request never
    /// acts at a time before one the exchange has already processed).
    pub(super) fn locked(&self) -> (std::sync::MutexGuard<'_, Exchange>, i64) {
        let ex = self.exchange();
        (ex, self.clock.now_ms())
    }

    pub(super) fn exchange(&self) -> std::sync::MutexGuard<'_, Exchange> {
        // A panic while holding the lock would leave a half-applied change; the exchange
        // applies changes only after all checks, so the state is still consistent to read.
        self.exchange
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Subscribes to user-data events: (account index, event) as the `/private` sockets get them.
pub fn subscribe(s: &Shared) -> tokio::sync::broadcast::Receiver<(usize, Arc<Value>)> {
    s.events.subscribe()
}

/// A running simulator.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, for in-process tests.
    pub shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `shared` on `addr` (use `127.0.0.1:0` for a free port).
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(shared: Arc<Shared>, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let app = router(shared.clone());
    let ticking = shared.clone();
    let task = tokio::spawn(async move {
        // Binance pushes user events as they happen; a quarter second is the sim's heartbeat
        // for resting orders, triggers, funding and liquidations between requests.
        let ticker = async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(250));
            loop {
                every.tick().await;
                ticking.tick();
            }
        };
        tokio::select! {
            served = axum::serve(listener, app) => if let Err(e) = served {
                tracing::error!(error = %e, "simulator server stopped");
            },
            () = ticker => {}
        }
    });
    Ok(Running { addr, shared, task })
}
