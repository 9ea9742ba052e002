//! A simulator for tests and benches (cargo feature `testing`): the real candles of
//! `shared/data`, an ephemeral port on 127.0.0.1, the accounts a test names, and a clock that
//! stands until moved (or runs accelerated) from a start inside the data, or the wall clock
//! over the data shifted to play now ([`TestSim::wall_time`]).
//!
//! The sim's own tests, the app's engine tests and the app's benches start their simulators
//! here, so a change to how a simulator starts is made once. It panics rather than returns
//! errors: a test that cannot load its data or bind loopback cannot run.

use std::path::PathBuf;

use rust_decimal::Decimal;

use crate::exchange::{Exchange, Permissions};
use crate::market::{ClockMode, MarketData, SimClock};
use crate::server::{Running, Shared, serve};

/// 2022-03-01 00:00 UTC: inside the replayed data, with a year of history before it.
pub const START: i64 = 1_646_092_800_000;

/// `shared/data`: under `PERPDESK_SHARED` when set (`scripts/shared-env.sh` sets it), else
/// beside the repository.
pub fn data_dir() -> PathBuf {
    match std::env::var("PERPDESK_SHARED") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir).join("data"),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

/// BTCUSDT and ETHUSDT from [`data_dir`].
///
/// # Panics
/// When the data does not load.
pub fn market() -> MarketData {
    MarketData::load_dir(&data_dir(), &["BTCUSDT", "ETHUSDT"]).expect("shared/data loads")
}

/// A simulator to start: what it replays and from when, its accounts, its clock and limits.
#[derive(Debug)]
pub struct TestSim {
    exchange: Exchange,
    start_ms: i64,
    mode: ClockMode,
    /// Serve on [`SimClock::wall`] (the market shifted to now) instead of `mode`.
    wall: bool,
    unlimited: bool,
}

impl Default for TestSim {
    fn default() -> Self {
        Self::new()
    }
}

impl TestSim {
    /// BTCUSDT and ETHUSDT of `shared/data` from [`START`], with no accounts.
    ///
    /// # Panics
    /// When the data does not load.
    pub fn new() -> Self {
        Self::on(market(), START)
    }

    /// `market` (synthetic rows, other symbols) from `start_ms`.
    pub fn on(market: MarketData, start_ms: i64) -> Self {
        Self {
            exchange: Exchange::new(market, start_ms),
            start_ms,
            mode: ClockMode::Manual,
            wall: false,
            unlimited: false,
        }
    }

    /// BTCUSDT and ETHUSDT of `shared/data` in wall time, as the binary serves by default:
    /// the data shifted by whole weeks so that [`START`] plays this week, on a clock that
    /// reads the machine's time.
    ///
    /// # Panics
    /// When the data does not load.
    pub fn wall_time() -> Self {
        let now = chrono::Utc::now().timestamp_millis();
        let weeks = MarketData::wall_shift_weeks(START, now);
        let market = market()
            .shifted_weeks(weeks)
            .expect("a shift of a few hundred weeks stays in range");
        Self {
            exchange: Exchange::new(market, now),
            start_ms: now,
            mode: ClockMode::RealTime,
            wall: true,
            unlimited: false,
        }
    }

    /// An exchange as it stands (a loaded state); the clock resumes where it left off.
    pub fn resume(exchange: Exchange) -> Self {
        Self {
            start_ms: exchange.clock_ms(),
            exchange,
            mode: ClockMode::Manual,
            wall: false,
            unlimited: false,
        }
    }

    /// A clock that runs at `speed` times real time rather than standing until moved (from
    /// the start's time, also after [`TestSim::wall_time`]).
    #[must_use]
    pub fn accelerated(self, speed: f64) -> Self {
        Self {
            mode: ClockMode::Accelerated { speed },
            wall: false,
            ..self
        }
    }

    /// An account with `balance` USDT whose key reads and trades and cannot withdraw.
    #[must_use]
    pub fn account(self, key: &str, secret: &str, balance: Decimal) -> Self {
        self.account_with(key, secret, balance, Permissions::default())
    }

    /// An account with `balance` USDT and these key permissions.
    #[must_use]
    pub fn account_with(
        mut self,
        key: &str,
        secret: &str,
        balance: Decimal,
        permissions: Permissions,
    ) -> Self {
        self.exchange
            .add_account(key, secret, balance, permissions, self.start_ms);
        self
    }

    /// Changes the exchange before it serves (a prepared history, fees, slippage).
    #[must_use]
    pub fn setup(mut self, change: impl FnOnce(&mut Exchange)) -> Self {
        change(&mut self.exchange);
        self
    }

    /// Raises the request-weight and order limits out of reach, for benches and load tests
    /// that measure the engine rather than the limiter.
    #[must_use]
    pub fn unlimited(self) -> Self {
        Self {
            unlimited: true,
            ..self
        }
    }

    /// Serves it on an ephemeral port of 127.0.0.1.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(self) -> Running {
        let market = &self.exchange.market;
        let clock = if self.wall {
            SimClock::wall(market.start_ms(), market.end_ms())
        } else {
            SimClock::new(self.mode, self.start_ms, market.start_ms(), market.end_ms())
        };
        let shared = Shared::new(self.exchange, clock);
        if self.unlimited {
            shared.set_weight_limit(u32::MAX / 2);
            shared.set_order_limits(u32::MAX / 2, u32::MAX / 2);
        }
        serve(shared, ([127, 0, 0, 1], 0).into())
            .await
            .expect("a loopback port")
    }
}

/// Moves a manual clock forward by `ms` and lets the exchange catch up (fills, triggers,
/// funding, liquidations), pushing the stream events that produced.
///
/// # Panics
/// With an accelerated clock, or past the end of the data.
pub fn advance(sim: &Running, ms: i64) {
    sim.shared
        .clock
        .advance(ms)
        .expect("a manual clock inside the data");
    sim.shared.tick();
}
