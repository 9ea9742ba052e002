//! perpdesk without a window: the same engine the desktop app uses, run over an
//! accelerated replay of the paper exchange, printing what it did; and the platform's check
//! of a signed settlement statement against the exchange's own records.
//!
//! ```text
//! perpdesk-app replay --days 1                # signals only: trades when a signal has an edge
//! perpdesk-app replay --days 3 --trade-lean   # also trades the model's unproven lean
//! perpdesk-app verify --statement S.json --public-key ed25519:… --records R.json
//! perpdesk-app export-records --key-file K.json --out R.json
//! ```

mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use perpdesk_app::replay::{self, ReplayConfig};
use rust_decimal::Decimal;

struct Args {
    days: u32,
    trade_lean: bool,
    data: PathBuf,
    usdt: Decimal,
}

const USAGE: &str =
    "usage: perpdesk-app replay [--days N] [--trade-lean] [--usdt AMOUNT] [--data DIR]
       perpdesk-app verify --help
       perpdesk-app export-records --help

Runs the signal loop and execution against the built-in paper exchange over N days of
accelerated replay (one hour per step), then prints signals, trades, PnL and the profit-share
ledger. Market data: --data, else $PERPDESK_SHARED/data.

  --days N        days of replay (default 1, at most 365)
  --trade-lean    also trade flat signals' lean (the model showed no out-of-sample edge;
                  this shows the machinery, not a strategy)
  --usdt AMOUNT   notional per trade (default 500)";

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        days: 1,
        trade_lean: false,
        data: std::env::var("PERPDESK_SHARED")
            .map(|d| PathBuf::from(d).join("data"))
            .unwrap_or_else(|_| PathBuf::from("../shared/data")),
        usdt: Decimal::from(500),
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--days" => {
                args.days = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|d| (1..=365).contains(d))
                    .ok_or("--days needs a number from 1 to 365")?;
            }
            "--usdt" => {
                args.usdt = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|d: &Decimal| *d > Decimal::ZERO)
                    .ok_or("--usdt needs a positive amount")?;
            }
            "--data" => args.data = PathBuf::from(it.next().ok_or("--data needs a folder")?),
            "--trade-lean" => args.trade_lean = true,
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown option {other:?}\n\n{USAGE}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber_init();
    let mut it = std::env::args().skip(1);
    match it.next().as_deref() {
        Some("replay") => {}
        Some("verify") => return verify::verify(it).await,
        Some("export-records") => return verify::export_records(it).await,
        Some("--help" | "-h") | None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        Some(other) => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let args = match parse(it) {
        Ok(a) => a,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("perpdesk-app: {e}");
            ExitCode::FAILURE
        }
    }
}

fn tracing_subscriber_init() {
    // Quiet by default; RUST_LOG=info shows the engine's log lines.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(args: Args) -> Result<(), perpdesk_app::AppError> {
    let config = ReplayConfig {
        days: args.days,
        trade_lean: args.trade_lean,
        data: args.data,
        usdt: args.usdt,
    };
    let (_engine, r) = replay::run(&config).await?;
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    println!(
        "perpdesk-app replay: {} → {} ({} days, paper exchange)",
        day(r.from_ms),
        day(r.to_ms),
        args.days
    );
    println!("  wall time            {:.1} s", r.wall.as_secs_f64());
    println!(
        "  signals              {} ({} with a direction; the rest flat: no out-of-sample edge)",
        r.signals, r.directional
    );
    if args.trade_lean {
        println!(
            "  trading              the model's lean on flat signals (--trade-lean): unproven, for demonstration"
        );
    }
    println!("  orders journalled    {}", r.orders);
    println!("  fills                {}", r.fills);
    println!("  risk refusals        {}", r.risk_refusals);
    println!("  realised PnL         {} USDT", r.realized_pnl);
    println!("  commission           {} USDT", r.commission);
    println!("  funding              {} USDT", r.funding);
    println!("  net                  {} USDT", r.net);
    let ledger = &r.ledger;
    println!(
        "  ledger rows          {} (platform {} / user {} USDT; high-water mark {})",
        ledger.rows.len(),
        ledger.totals.platform_share,
        ledger.totals.user_share,
        ledger.high_water_mark
    );
    println!(
        "  owed if settled now  platform {} / user {} USDT",
        ledger.owed_now.platform, ledger.owed_now.user
    );
    Ok(())
}
