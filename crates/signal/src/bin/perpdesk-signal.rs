//! `perpdesk-signal`: headless walk-forward evaluation and scoring of a kline CSV.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use perpdesk_core::Interval;
use perpdesk_signal::backtest::{BacktestConfig, FundingRates};
use perpdesk_signal::signal::model_version;
use perpdesk_signal::{
    Evaluation, ModelCard, Ohlcv, compute_features, default_walk_forward_1h, evaluate, make_signal,
    parse_funding, parse_klines, train_latest,
};

#[derive(Parser)]
#[command(
    version,
    about = "Walk-forward evaluation and signals for Binance USDⓈ-M perpetuals"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Walk-forward evaluation + backtest against baselines; prints a table.
    Evaluate {
        /// Kline CSV (`open_time_ms,open,high,low,close,volume,...`), 1h candles.
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "BTCUSDT")]
        symbol: String,
        /// Funding CSV (`funding_time_ms,funding_rate`); default 0.01% per 8h without it.
        #[arg(long)]
        funding: Option<PathBuf>,
        /// Write the model card here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long, default_value_t = 0.55)]
        threshold: f64,
        #[arg(long, default_value_t = 1.0)]
        leverage: f64,
    },
    /// Prints the signal at the last candle of the file, with the model's record.
    Score {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value = "BTCUSDT")]
        symbol: String,
        #[arg(long)]
        funding: Option<PathBuf>,
        #[arg(long, default_value_t = 0.55)]
        threshold: f64,
        #[arg(long, default_value_t = 1.0)]
        leverage: f64,
    },
}

fn load(data: &Path, funding: Option<&Path>) -> anyhow::Result<(Ohlcv, FundingRates)> {
    let text =
        std::fs::read_to_string(data).with_context(|| format!("reading {}", data.display()))?;
    let candles = parse_klines(&text)?;
    let x = Ohlcv::from_candles(&candles, Interval::H1)?;
    let rates = match funding {
        Some(p) => {
            let t =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            FundingRates::new(&parse_funding(&t)?)?
        }
        None => FundingRates::default(),
    };
    Ok((x, rates))
}

fn run(
    x: &Ohlcv,
    rates: &FundingRates,
    threshold: f64,
    leverage: f64,
) -> anyhow::Result<Evaluation> {
    let bt = BacktestConfig {
        threshold,
        leverage,
        ..BacktestConfig::default()
    };
    Ok(evaluate(x, default_walk_forward_1h(), bt, rates)?)
}

fn print_table(card: &ModelCard) {
    let m = &card.metrics;
    println!(
        "{}  out-of-sample rows {}  accuracy {:.4}  balanced {:.4}  log loss {:.4}  Brier {:.5} (base rate {:.5})",
        card.symbol, m.n, m.accuracy, m.balanced_accuracy, m.log_loss, m.brier, m.base_rate_brier
    );
    println!(
        "{:<18} {:>10} {:>9} {:>8} {:>7} {:>7} {:>9}",
        "strategy", "net PnL %", "max DD %", "Sharpe", "win %", "trades", "exposure"
    );
    for s in std::iter::once(&card.model).chain(&card.baselines) {
        println!(
            "{:<18} {:>10.2} {:>9.2} {:>8.2} {:>7.1} {:>7} {:>9.3}",
            s.name,
            s.net_pnl_pct,
            s.max_drawdown_pct,
            s.sharpe,
            s.win_rate * 100.0,
            s.trades,
            s.exposure
        );
    }
    println!(
        "edge (beats every baseline and the base rate): {}",
        card.has_edge
    );
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Evaluate {
            data,
            symbol,
            funding,
            json,
            threshold,
            leverage,
        } => {
            let (x, rates) = load(&data, funding.as_deref())?;
            let e = run(&x, &rates, threshold, leverage)?;
            let card = ModelCard::new(&symbol, &e);
            print_table(&card);
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&card)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::Score {
            data,
            symbol,
            funding,
            threshold,
            leverage,
        } => {
            let (x, rates) = load(&data, funding.as_deref())?;
            let e = run(&x, &rates, threshold, leverage)?;
            let (model, until) = train_latest(&x, default_walk_forward_1h())?;
            let features = compute_features(&x)?;
            let s = make_signal(
                &symbol,
                &x,
                &features,
                &model,
                &model_version(&model, until),
                &e,
            )?;
            println!("{}", serde_json::to_string_pretty(&s)?);
        }
    }
    Ok(())
}
