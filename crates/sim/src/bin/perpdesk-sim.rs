//! `perpdesk-sim`: run the simulated Binance USDⓈ-M exchange on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use perpdesk_sim::exchange::{Exchange, Permissions, Slippage, Snapshot};
use perpdesk_sim::market::{ClockMode, DEFAULT_START_OFFSET_MS, MarketData, SimClock};
use perpdesk_sim::server::{Shared, serve};
use rust_decimal::Decimal;

/// A local exchange speaking the Binance USDⓈ-M futures contract (REST under /fapi, the key
/// check under /sapi), replaying real historical candles. Point any Binance USDⓈ-M client at
/// `http://<listen>` and sign with one of the accounts below. By default the server speaks
/// this machine's time and the candles are moved to happen now (--time wall), so clients
/// sign with their own clock as they do against Binance.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    long_about,
    after_help = "Examples:\n  \
        perpdesk-sim --data ../shared/data --account demo:demosecret:10000\n  \
        perpdesk-sim --data ../shared/data --account demo:demosecret:10000 --time replay --speed 60"
)]
struct Args {
    /// Address to listen on. Only loopback addresses are accepted: the admin endpoints are for
    /// this machine only (they also need the admin token and a loopback Host).
    #[arg(long, default_value = "127.0.0.1:8765")]
    listen: SocketAddr,
    /// Folder with the candle files (binance_um_<SYMBOL>_1h_*.csv, _mark_, _funding_).
    #[arg(long, env = "PERPDESK_DATA")]
    data: PathBuf,
    /// Symbols to list, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "BTCUSDT,ETHUSDT")]
    symbols: Vec<String>,
    /// An account as KEY:SECRET:BALANCE_USDT (repeatable). Add `:withdraw` to create a key
    /// that can withdraw (to test that clients refuse it).
    #[arg(long = "account")]
    accounts: Vec<String>,
    /// Which time the server speaks. `wall` (the default, because third-party clients have
    /// no clock-offset option and sign with their machine's time): server time is this
    /// machine's clock, and every time of the data is moved by the same whole number of weeks
    /// (so candles stay on their interval, funding on its hours, days on their weekdays) so
    /// that the --start-ms moment of the data plays this week, at its weekday and time of day;
    /// the market then runs in real time, and klines, funding, orders, trades, income and
    /// stream events all carry current dates. `replay`: server time is the data's own dates
    /// (years back), at --speed or --manual; a client must sync its clock to
    /// `GET /fapi/v1/time`.
    #[arg(long, value_enum, default_value_t = TimeMode::Wall)]
    time: TimeMode,
    /// Replay speed (--time replay): 1 is real time, 60 plays an hour per minute.
    #[arg(long, default_value_t = 1.0, conflicts_with = "manual")]
    speed: f64,
    /// Stand the clock still (--time replay); move it with POST /admin/clock
    /// {"advanceMs": N} (with the admin token header).
    #[arg(long)]
    manual: bool,
    /// The moment of the data, UTC milliseconds, where the replay starts (--time replay) or
    /// that plays this week (--time wall). Default: 30 days into the data, so klines have
    /// history behind them; a saved --state resumes where it left off instead.
    #[arg(long)]
    start_ms: Option<i64>,
    /// Keep the exchange's state (accounts, positions, orders, trades, income, clock) in this
    /// JSON file: loaded at start when it exists, saved every --save-every seconds and on
    /// Ctrl-C. Each save replaces the file atomically.
    #[arg(long, env = "PERPDESK_SIM_STATE")]
    state: Option<PathBuf>,
    /// Seconds between saves of --state.
    #[arg(long, default_value_t = 10, requires = "state")]
    save_every: u64,
    /// Slippage of every taker fill against the taker, in basis points of the price (a
    /// market order fills that much worse than the replayed price; limits are respected).
    #[arg(long, default_value = "0")]
    slippage_bps: Decimal,
    /// Extra slippage in basis points per 1,000,000 USDT of the fill's notional (size impact).
    #[arg(long, default_value = "0")]
    impact_bps_per_million: Decimal,
    /// Write the admin token (needed in the X-PERPDESK-ADMIN-TOKEN header of every /admin
    /// request) to this file, readable by you only, instead of printing it on stdout. A new
    /// token is made at every start.
    #[arg(long)]
    admin_token_file: Option<PathBuf>,
}

/// Which clock the server speaks (see `--time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TimeMode {
    /// This machine's clock, the market shifted by whole weeks to happen now.
    Wall,
    /// The data's own dates, at --speed or --manual.
    Replay,
}

/// The exchange and its clock in wall time: the market shifted by the weeks a saved state
/// was shifted by (its times are on that calendar), or by the weeks that bring `anchor` of
/// the data to this week.
fn wall_time(
    market: MarketData,
    saved: Option<&std::path::Path>,
    anchor: Option<i64>,
) -> Result<(Exchange, SimClock)> {
    let now = chrono::Utc::now().timestamp_millis();
    let snapshot = saved.map(Snapshot::read).transpose()?;
    let weeks = match &snapshot {
        Some(_) if anchor.is_some() => {
            bail!("--start-ms cannot move a saved state in wall time: its times are fixed")
        }
        Some(s) => s.shift_weeks,
        None => MarketData::wall_shift_weeks(
            anchor.unwrap_or(market.start_ms().saturating_add(DEFAULT_START_OFFSET_MS)),
            now,
        ),
    };
    let market = market
        .shifted_weeks(weeks)
        .context("moving the data to now")?;
    if !(market.start_ms()..=market.end_ms()).contains(&now) {
        let date = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms).map_or(ms.to_string(), |d| d.to_rfc3339())
        };
        bail!(
            "in wall time the data, shifted {weeks} weeks, spans {} to {}, which does not hold \
             now ({}): --start-ms is outside the data, the data ends within a week of it, or \
             --state was saved in replay time (use --time replay)",
            date(market.start_ms()),
            date(market.end_ms()),
            date(now)
        );
    }
    tracing::info!(
        weeks,
        data_now_ms = now - weeks * perpdesk_sim::market::WEEK_MS,
        "wall time: the data is shifted to play now"
    );
    let clock = SimClock::wall(market.start_ms(), market.end_ms());
    let exchange = match snapshot {
        Some(s) => Exchange::from_snapshot(market, s)
            .map_err(|reason| anyhow::anyhow!("--state: {reason}"))?,
        None => Exchange::new(market, clock.now_ms()),
    };
    Ok((exchange, clock))
}

/// Hands the admin token to whoever started the sim: into `file` (owner-only on Unix) or
/// on stdout, never into the log.
fn publish_admin_token(token: &str, file: Option<&std::path::Path>) -> Result<()> {
    let Some(path) = file else {
        println!("{}={token}", perpdesk_sim::server::ADMIN_TOKEN_HEADER);
        return Ok(());
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("--admin-token-file {}", path.display()))?;
    // A file that existed keeps its mode through open(); narrow it as a new one would be.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .with_context(|| format!("--admin-token-file {}", path.display()))?;
    std::io::Write::write_all(&mut f, format!("{token}\n").as_bytes())
        .with_context(|| format!("--admin-token-file {}", path.display()))?;
    tracing::info!(path = %path.display(), "admin token written");
    Ok(())
}

fn parse_account(spec: &str) -> Result<(String, String, Decimal, Permissions)> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (key, secret, balance) = match parts.as_slice() {
        [k, s, b] | [k, s, b, _] => (*k, *s, *b),
        _ => bail!("--account {spec}: expected KEY:SECRET:BALANCE[:withdraw]"),
    };
    let balance: Decimal = balance
        .parse()
        .with_context(|| format!("--account {spec}: balance is not a number"))?;
    let withdrawals = match parts.get(3) {
        None => false,
        Some(&"withdraw") => true,
        Some(other) => bail!("--account {spec}: unknown flag {other}"),
    };
    Ok((
        key.to_owned(),
        secret.to_owned(),
        balance,
        Permissions {
            withdrawals,
            ..Permissions::default()
        },
    ))
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {}: only loopback addresses are allowed",
            args.listen
        );
    }
    if args.time == TimeMode::Wall && (args.manual || args.speed != 1.0) {
        bail!("--speed and --manual move a replay clock: add --time replay");
    }
    let symbols: Vec<&str> = args.symbols.iter().map(String::as_str).collect();
    let market = MarketData::load_dir(&args.data, &symbols)
        .with_context(|| format!("loading {}", args.data.display()))?;
    let mode = if args.manual {
        ClockMode::Manual
    } else {
        ClockMode::Accelerated { speed: args.speed }
    };
    let (min_ms, max_ms) = (market.start_ms(), market.end_ms());
    let saved = args.state.as_deref().filter(|p| p.exists());
    let (mut exchange, clock) = if args.time == TimeMode::Wall {
        wall_time(market, saved, args.start_ms)?
    } else if let Some(path) = saved {
        let exchange = Exchange::load(market, path)?;
        let start = args.start_ms.unwrap_or_else(|| exchange.clock_ms());
        tracing::info!(path = %path.display(), clock_ms = start, "resuming a saved state");
        (exchange, SimClock::new(mode, start, min_ms, max_ms))
    } else {
        let start = args
            .start_ms
            .unwrap_or(min_ms.saturating_add(DEFAULT_START_OFFSET_MS));
        let clock = SimClock::new(mode, start, min_ms, max_ms);
        (Exchange::new(market, clock.now_ms()), clock)
    };
    if args.slippage_bps < Decimal::ZERO || args.impact_bps_per_million < Decimal::ZERO {
        bail!("--slippage-bps and --impact-bps-per-million cannot be negative");
    }
    let bp = Decimal::new(1, 4);
    exchange.slippage = Slippage {
        base: args.slippage_bps * bp,
        per_million: args.impact_bps_per_million * bp,
    };
    for spec in &args.accounts {
        let (key, secret, balance, permissions) = parse_account(spec)?;
        // A resumed state keeps its accounts; only new keys are added.
        if exchange.account_index(&key).is_none() {
            exchange.add_account(&key, &secret, balance, permissions, clock.now_ms());
        }
    }
    let running = serve(Shared::new(exchange, clock), args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    match running.shared.admin_token() {
        Some(token) => publish_admin_token(token, args.admin_token_file.as_deref())?,
        None => tracing::warn!("no admin token (the OS gave no randomness): /admin is off"),
    }
    tracing::info!(url = %running.url(), accounts = args.accounts.len(), "perpdesk-sim listening");
    match &args.state {
        None => tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?,
        Some(path) => {
            let mut every =
                tokio::time::interval(std::time::Duration::from_secs(args.save_every.max(1)));
            every.tick().await;
            loop {
                tokio::select! {
                    _ = every.tick() => {
                        if let Err(e) = running.shared.save(path) {
                            tracing::error!(error = %e, "saving the state failed");
                        }
                    }
                    stop = tokio::signal::ctrl_c() => {
                        stop.context("waiting for Ctrl-C")?;
                        break;
                    }
                }
            }
            running.shared.save(path)?;
            tracing::info!(path = %path.display(), "state saved");
        }
    }
    Ok(())
}
