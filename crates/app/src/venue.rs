//! Where an account's requests go, and the embedded paper exchange.
//!
//! Paper mode is not a separate code path: the app starts `perpdesk-sim` on 127.0.0.1 and
//! talks to it with the same signed client it would use for Binance. Testnet and live only
//! change the base URLs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use perpdesk_binance::rest::LocalClock;
use perpdesk_binance::{BaseUrls, Client, Environment as Urls, HmacSigner, RestClient, RestConfig};
use perpdesk_sim::exchange::{Exchange, Permissions};
use perpdesk_sim::market::{ClockMode, MarketData, Residency, SimClock};
use perpdesk_sim::server::{Running, serve};
use perpdesk_store::Environment;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::AppError;
use crate::runtime::MAX_WATCHLIST;

/// The symbols a fresh paper watchlist watches (the paper exchange lists every symbol with
/// data in `shared/data` and `shared/data/wide`, see [`PaperSymbol::available`]).
pub const PAPER_SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];

/// A symbol the paper exchange lists: its name and the symbol whose real data and contract
/// it replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperSymbol {
    pub name: String,
    pub source: String,
}

impl PaperSymbol {
    /// [`PAPER_SYMBOLS`], each under its own name: what a fresh watchlist watches. Given to
    /// [`PaperVenue::start_listing`] they stand for a user's paper mode, which lists every
    /// symbol with data ([`PaperSymbol::available`]).
    pub fn defaults() -> Vec<PaperSymbol> {
        PAPER_SYMBOLS
            .iter()
            .map(|s| PaperSymbol {
                name: (*s).into(),
                source: (*s).into(),
            })
            .collect()
    }

    /// Every symbol with data in `data_dir` (and its `wide/` folder), each under its own name:
    /// what a user's paper mode lists.
    ///
    /// # Errors
    /// [`AppError::Internal`] when the folder cannot be read.
    pub fn available(data_dir: &Path) -> Result<Vec<PaperSymbol>, AppError> {
        let symbols = perpdesk_sim::market::available_symbols(data_dir).map_err(|e| {
            AppError::Internal(format!("paper market data in {}: {e}", data_dir.display()))
        })?;
        Ok(symbols
            .into_iter()
            .map(|s| PaperSymbol {
                name: s.clone(),
                source: s,
            })
            .collect())
    }

    /// Reads a developer's list for load measurements (`PERPDESK_PAPER_SYMBOLS`): up to
    /// [`MAX_WATCHLIST`] comma-separated entries, `NAME` for a symbol with data of its own or
    /// `NAME=SOURCE` to list SOURCE's series a second time under another name, e.g.
    /// `BTCUSDT,ETHUSDT,BTC2USDT=BTCUSDT`. The names are what the watchlist then shows.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] naming the entry: an empty list, too many, a name or
    /// source that is not a symbol, a name given twice. A source without data is refused
    /// when the paper exchange loads it.
    pub fn parse_list(text: &str) -> Result<Vec<PaperSymbol>, AppError> {
        let field = "PERPDESK_PAPER_SYMBOLS";
        let mut out: Vec<PaperSymbol> = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, source) = entry.split_once('=').unwrap_or((entry, entry));
            let (name, source) = (name.trim(), source.trim());
            for s in [name, source] {
                perpdesk_core::Symbol::new(s)
                    .map_err(|e| AppError::invalid(field, format!("{entry}: {e}")))?;
            }
            if out.iter().any(|p| p.name == name) {
                return Err(AppError::invalid(field, format!("{name} is listed twice")));
            }
            out.push(PaperSymbol {
                name: name.into(),
                source: source.into(),
            });
        }
        if out.is_empty() || out.len() > MAX_WATCHLIST {
            return Err(AppError::invalid(
                field,
                format!("list between 1 and {MAX_WATCHLIST} symbols"),
            ));
        }
        Ok(out)
    }
}

/// Days of data kept behind a fresh paper exchange's clock for the signal model's history.
pub const PAPER_HISTORY_DAYS: i64 = 540;

/// The default replay speed: one hour of market per real minute, so a 1h candle closes
/// every minute and a new user sees signals arrive while they look.
pub const DEFAULT_SPEED: f64 = 60.0;

/// The embedded simulator of paper mode.
#[derive(Debug)]
pub struct PaperVenue {
    running: Running,
    /// Where the paper exchange keeps its state between runs, if anywhere.
    state_file: Option<PathBuf>,
    saver: Option<tokio::task::JoinHandle<()>>,
    /// Added to the replay clock that signed paper sessions read (tests of a wrong local
    /// clock); 0 outside tests.
    clock_skew_ms: Arc<AtomicI64>,
    /// What a fresh watchlist watches: [`PAPER_SYMBOLS`] of the whole universe, or all of
    /// a developer's list.
    watch: Vec<String>,
}

impl Drop for PaperVenue {
    fn drop(&mut self) {
        if let Some(saver) = self.saver.take() {
            saver.abort();
        }
        // A last save on the way out; a crash loses at most the last few seconds, which
        // the engine's sync and reconciliation then see as the exchange's truth.
        if let Err(e) = self.save() {
            tracing::error!(error = %e, "saving the paper exchange failed");
        }
    }
}

/// The replay clock as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayStatus {
    pub now_ms: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Simulated milliseconds per real millisecond; 0 when paused or manual.
    pub speed: f64,
    pub running: bool,
}

impl PaperVenue {
    /// Loads the market data in `data_dir` and starts the exchange on a free loopback port,
    /// replaying at `speed` (`None`: a manual clock that only tests and `advance` move).
    ///
    /// # Errors
    /// [`AppError::Internal`] when the data cannot be loaded or the port not bound.
    ///
    /// With `state_file`, the exchange resumes from it when it exists (accounts, positions,
    /// orders, trades, income and the replay clock) and saves itself there every 10 seconds
    /// and when dropped; a damaged file is refused, never overwritten with an empty state.
    ///
    /// It lists every symbol with data ([`PaperSymbol::available`]); a fresh watchlist
    /// watches [`PAPER_SYMBOLS`] of them.
    pub async fn start(
        data_dir: &Path,
        speed: Option<f64>,
        state_file: Option<PathBuf>,
    ) -> Result<Self, AppError> {
        Self::start_listing(data_dir, &PaperSymbol::defaults(), speed, state_file).await
    }

    /// [`PaperVenue::start`] listing only `symbols` (a developer's load list), all of
    /// which a fresh watchlist watches; [`PaperSymbol::defaults`] is [`PaperVenue::start`].
    ///
    /// # Errors
    /// As [`PaperVenue::start`].
    pub async fn start_listing(
        data_dir: &Path,
        symbols: &[PaperSymbol],
        speed: Option<f64>,
        state_file: Option<PathBuf>,
    ) -> Result<Self, AppError> {
        let all;
        let (symbols, watch) = if symbols == PaperSymbol::defaults().as_slice() {
            all = PaperSymbol::available(data_dir)?;
            let watch: Vec<String> = symbols
                .iter()
                .filter(|s| all.contains(s))
                .map(|p| p.name.clone())
                .collect();
            (all.as_slice(), watch)
        } else {
            (symbols, symbols.iter().map(|p| p.name.clone()).collect())
        };
        let pairs: Vec<(String, String)> = symbols
            .iter()
            .map(|p| (p.name.clone(), p.source.clone()))
            .collect();
        // Reading ~30 symbols' three years takes a while: off the async threads, so the
        // runtime keeps serving (the window, other commands) meanwhile. The exchange is made
        // there too: it cuts the market to its window, and the thread that allocated the
        // full series frees them (an allocator returns a thread's pages more readily to the
        // system when that thread frees them).
        let dir = data_dir.to_path_buf();
        let mode = speed.map_or(ClockMode::Manual, |speed| ClockMode::Accelerated { speed });
        let saved = state_file.clone().filter(|p| p.exists());
        let (exchange, clock) = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(n, s)| (n.as_str(), s.as_str()))
                .collect();
            // Only a window of candles around the replay clock stays in memory; the app's
            // start-up reads of older history go to the files (Residency::PAPER says why).
            let market = MarketData::load_dir_as(&dir, &pairs)
                .map_err(|e| {
                    AppError::Internal(format!("paper market data in {}: {e}", dir.display()))
                })?
                .keeping(Residency::PAPER);
            let (min, max) = (market.start_ms(), market.end_ms());
            match saved {
                Some(path) => {
                    let exchange = Exchange::load(market, &path).map_err(|e| {
                        AppError::Internal(format!(
                            "the paper exchange's saved state {} cannot be read ({e}); move \
                             it away to start a fresh paper exchange",
                            path.display()
                        ))
                    })?;
                    let at = exchange.clock_ms();
                    // A read error is logged and met again at the first step.
                    let _ = exchange.market.keep_window(at, at);
                    Ok((exchange, SimClock::new(mode, at, min, max)))
                }
                None => {
                    // Start late enough that the model has its training history behind it
                    // (the signal loop needs about 520 days of hourly candles), leaving the
                    // rest of the data to trade on.
                    let start = (min + PAPER_HISTORY_DAYS * 86_400_000).min(max);
                    let clock = SimClock::new(mode, start, min, max);
                    Ok((Exchange::new(market, clock.now_ms()), clock))
                }
            }
        })
        .await
        .map_err(|e| AppError::Internal(format!("loading the paper market data: {e}")))??;
        let mut exchange = exchange;
        // Paper fills pay what real ones would (a saved state keeps no slippage setting).
        exchange.slippage = perpdesk_sim::exchange::Slippage::PAPER;
        let shared = perpdesk_sim::server::Shared::new(exchange, clock);
        // The same reason as `paper_pacing`: a paused replay never ends its minute.
        shared.set_weight_limit(1_000_000_000);
        let running = serve(shared, ([127, 0, 0, 1], 0).into())
            .await
            .map_err(|e| AppError::Internal(format!("paper exchange: {e}")))?;
        tracing::info!(url = %running.url(), "paper exchange started");
        let saver = state_file.clone().map(|path| {
            let shared = running.shared.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
                every.tick().await;
                loop {
                    every.tick().await;
                    if let Err(e) = shared.save(&path) {
                        tracing::error!(error = %e, "saving the paper exchange failed");
                    }
                }
            })
        });
        Ok(Self {
            running,
            state_file,
            saver,
            clock_skew_ms: Arc::new(AtomicI64::new(0)),
            watch,
        })
    }

    /// Wraps a simulator someone else started (tests with a manual clock).
    pub fn from_running(running: Running) -> Self {
        let watch = running
            .shared
            .exchange
            .lock()
            .map(|x| x.market.symbols().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        Self {
            running,
            state_file: None,
            saver: None,
            clock_skew_ms: Arc::new(AtomicI64::new(0)),
            watch,
        }
    }

    /// Saves the paper exchange's state now (when it has a state file).
    ///
    /// # Errors
    /// [`AppError::Internal`] when the file cannot be written.
    pub fn save(&self) -> Result<(), AppError> {
        match &self.state_file {
            Some(path) => self
                .running
                .shared
                .save(path)
                .map_err(|e| AppError::Internal(format!("saving the paper exchange: {e}"))),
            None => Ok(()),
        }
    }

    /// The symbols this exchange lists, in listing order.
    pub fn symbols(&self) -> Vec<String> {
        self.running
            .shared
            .exchange
            .lock()
            .map(|x| x.market.symbols().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// What a fresh watchlist watches (see [`PaperVenue::start`]).
    pub fn default_watchlist(&self) -> Vec<String> {
        self.watch.clone()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.running.url()
    }

    /// The replay time: the paper exchange's "now".
    pub fn now_ms(&self) -> i64 {
        self.running.shared.clock.now_ms()
    }

    /// Opens a paper account with `balance` USDT and returns its generated key and secret.
    ///
    /// # Errors
    /// [`AppError::Internal`] when the system has no randomness.
    pub fn open_account(&self, balance: Decimal) -> Result<(String, String), AppError> {
        let key = random_token(32)?;
        let secret = random_token(48)?;
        let now = self.now_ms();
        self.running
            .shared
            .exchange
            .lock()
            .map_err(|_| AppError::Internal("paper exchange state poisoned".into()))?
            .add_account(
                &key,
                &secret,
                balance,
                Permissions {
                    // A paper key is as safe as a key can be: no withdrawals, and since it
                    // never leaves the machine an IP restriction would add nothing.
                    ip_restrict: true,
                    ..Permissions::default()
                },
                now,
            );
        Ok((key, secret))
    }

    /// Registers a stored paper account's key again if this exchange does not know it (the
    /// paper exchange restarted without its saved state). Returns true when it did.
    ///
    /// # Errors
    /// [`AppError::Internal`] when the exchange state is poisoned.
    pub fn ensure_account(
        &self,
        key: &str,
        secret: &str,
        balance: Decimal,
    ) -> Result<bool, AppError> {
        let now = self.now_ms();
        let mut ex = self
            .running
            .shared
            .exchange
            .lock()
            .map_err(|_| AppError::Internal("paper exchange state poisoned".into()))?;
        if ex.account_index(key).is_some() {
            return Ok(false);
        }
        ex.add_account(key, secret, balance, Permissions::default(), now);
        Ok(true)
    }

    /// Reports the replay clock.
    pub fn replay(&self) -> ReplayStatus {
        let clock = &self.running.shared.clock;
        let speed = match clock.mode() {
            ClockMode::Accelerated { speed } => speed,
            ClockMode::RealTime => 1.0,
            ClockMode::Manual => 0.0,
        };
        ReplayStatus {
            now_ms: clock.now_ms(),
            start_ms: clock.min_ms(),
            end_ms: clock.max_ms(),
            speed,
            running: speed > 0.0 && !clock.at_end(),
        }
    }

    /// Changes the replay speed; `None` pauses it.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for a speed that is not between 1 and 10,000.
    pub fn set_speed(&self, speed: Option<f64>) -> Result<ReplayStatus, AppError> {
        let mode = match speed {
            None => ClockMode::Manual,
            Some(s) if (1.0..=10_000.0).contains(&s) => ClockMode::Accelerated { speed: s },
            Some(s) => {
                return Err(AppError::invalid(
                    "speed",
                    format!("must be between 1 and 10000, got {s}"),
                ));
            }
        };
        self.running
            .shared
            .clock
            .set_mode(mode)
            .map_err(|e| AppError::invalid("speed", e.to_string()))?;
        Ok(self.replay())
    }

    /// Jumps the replay forward by `minutes` and lets the exchange catch up: resting orders,
    /// take-profits, stop-losses, funding and liquidations all happen on the way.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for 0 or more than 30 days.
    pub fn advance(&self, minutes: u32) -> Result<ReplayStatus, AppError> {
        if minutes == 0 || minutes > 30 * 24 * 60 {
            return Err(AppError::invalid(
                "minutes",
                format!("must be between 1 and 43200, got {minutes}"),
            ));
        }
        let shared = &self.running.shared;
        // Step an hour at a time so the exchange sees every candle on the way and no
        // trigger is skipped between two far-apart ticks.
        let mut left = i64::from(minutes) * 60_000;
        while left > 0 {
            let step = left.min(3_600_000);
            let to = shared.clock.now_ms() + step;
            shared
                .clock
                .set(to)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            shared.tick();
            left -= step;
        }
        Ok(self.replay())
    }

    /// Runs the exchange's clock tick now (tests with a manual clock).
    pub fn tick(&self) {
        self.running.shared.tick();
    }

    /// The server itself, for tests that inject faults or inspect the exchange.
    pub fn running(&self) -> &Running {
        &self.running
    }

    /// Makes the clock that signed paper sessions read run `ms` ahead of the exchange
    /// (behind when negative), as on a computer whose clock is set wrong; it applies to
    /// sessions already open too. For tests of the clock-offset handling.
    #[doc(hidden)]
    pub fn set_clock_skew(&self, ms: i64) {
        self.clock_skew_ms.store(ms, Ordering::Release);
    }

    fn clock(&self) -> LocalClock {
        let shared = self.running.shared.clone();
        let skew = self.clock_skew_ms.clone();
        Arc::new(move || shared.clock.now_ms() + skew.load(Ordering::Acquire))
    }
}

/// Builds a signed client for an account.
///
/// Paper accounts read the replay clock directly (the simulator's "now" is years in the past,
/// and asking it for the time on every call would be a pointless round trip); testnet and
/// live measure the offset to Binance's clock.
///
/// # Errors
/// [`AppError::Internal`] when the HTTP client cannot be built, [`AppError::NotFound`] for
/// a paper account without a running paper exchange.
pub fn connect(
    environment: Environment,
    paper: Option<&PaperVenue>,
    api_key: &str,
    secret: &str,
    config: RestConfig,
) -> Result<Client, AppError> {
    let signer = Some(Arc::new(HmacSigner::new(api_key, secret)) as Arc<_>);
    let rest = match environment {
        Environment::Paper => {
            let paper = paper.ok_or_else(|| AppError::NotFound("paper exchange".into()))?;
            let url = paper.url();
            let urls = BaseUrls {
                rest: url.clone(),
                spot_rest: Some(url.clone()),
                streams: url.replace("http://", "ws://"),
            };
            RestClient::with_clock(&urls, signer, paper_pacing(config), paper.clock())
        }
        Environment::Testnet => RestClient::new(&Urls::Demo.urls(), signer, config),
        Environment::Live => RestClient::new(&Urls::Live.urls(), signer, config),
    }
    .map_err(|e| AppError::Internal(format!("http client: {e}")))?;
    Ok(Client::new(Arc::new(rest)))
}

/// Rate pacing protects Binance and the user's IP from bans; the paper exchange is a
/// local process whose clock is the replay's, which stands still when paused, so pacing
/// by it would wait for a minute that never ends. Paper sessions are not paced.
pub(crate) fn paper_pacing(mut config: RestConfig) -> RestConfig {
    let unlimited = |window| perpdesk_binance::RateLimit::per(window, 1_000_000_000);
    config.weight_limit = unlimited(std::time::Duration::from_secs(60));
    config.order_limit_short = unlimited(std::time::Duration::from_secs(10));
    config.order_limit_long = unlimited(std::time::Duration::from_secs(60));
    config
}

/// Base URLs of an environment (streams for the signal loop and the user stream).
pub fn urls(environment: Environment, paper: Option<&PaperVenue>) -> Option<BaseUrls> {
    match environment {
        Environment::Paper => paper.map(|p| {
            let url = p.url();
            BaseUrls {
                rest: url.clone(),
                spot_rest: Some(url.clone()),
                streams: url.replace("http://", "ws://"),
            }
        }),
        Environment::Testnet => Some(Urls::Demo.urls()),
        Environment::Live => Some(Urls::Live.urls()),
    }
}

fn random_token(len: usize) -> Result<String, AppError> {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0_u8; len];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    // 62 does not divide 256, so a tiny bias remains; a paper key guards play money only.
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_list_names_sources_with_data_and_nothing_twice() {
        let list = PaperSymbol::parse_list(" BTCUSDT, ETHUSDT ,BTC2USDT=BTCUSDT,").expect("valid");
        assert_eq!(
            list.iter()
                .map(|p| (p.name.as_str(), p.source.as_str()))
                .collect::<Vec<_>>(),
            [
                ("BTCUSDT", "BTCUSDT"),
                ("ETHUSDT", "ETHUSDT"),
                ("BTC2USDT", "BTCUSDT")
            ]
        );
        for (bad, says) in [
            ("", "between 1 and 30"),
            ("X=doge usdt", "doge usdt"),
            ("BTCUSDT,BTCUSDT", "listed twice"),
            ("btc usdt=BTCUSDT", "btc usdt"),
        ] {
            let err = PaperSymbol::parse_list(bad).unwrap_err();
            assert!(
                matches!(err, AppError::InvalidInput { .. }) && err.to_string().contains(says),
                "{bad:?}: {err}"
            );
        }
        let many: Vec<String> = (0..=MAX_WATCHLIST)
            .map(|i| format!("B{i}USDT=BTCUSDT"))
            .collect();
        let err = PaperSymbol::parse_list(&many.join(",")).unwrap_err();
        assert!(err.to_string().contains("between 1 and 30"), "{err}");
        assert_eq!(
            PaperSymbol::parse_list(&many[..MAX_WATCHLIST].join(","))
                .expect("30 is the most")
                .len(),
            30
        );
    }
}
