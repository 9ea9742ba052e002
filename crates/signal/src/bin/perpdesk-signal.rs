//! `perpdesk-signal`: headless walk-forward evaluation, training and scoring of a kline CSV.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use perpdesk_core::Interval;
use perpdesk_signal::backtest::{BacktestConfig, FundingRates};
use perpdesk_signal::{
    Evaluation, ModelCard, Ohlcv, SavedModel, SignalError, default_walk_forward_1h,
    evaluate_with_progress, fold_count, parse_funding, parse_klines, train_model,
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

/// The inputs every command reads.
#[derive(Args)]
struct Input {
    /// Kline CSV (`open_time_ms,open,high,low,close,volume,...`), 1h candles.
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value = "BTCUSDT")]
    symbol: String,
    /// Funding CSV (`funding_time_ms,funding_rate`): the `funding_bp` feature and the
    /// backtest's payments. Without it both use 0.01% per 8h.
    #[arg(long)]
    funding: Option<PathBuf>,
}

/// Backtest settings of the evaluation.
#[derive(Args)]
struct Trading {
    #[arg(long, default_value_t = 0.55)]
    threshold: f64,
    #[arg(long, default_value_t = 1.0)]
    leverage: f64,
}

#[derive(Subcommand)]
enum Command {
    /// Walk-forward evaluation of both models + backtest against baselines; prints a table.
    Evaluate {
        #[command(flatten)]
        input: Input,
        /// Write the model card here as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        #[command(flatten)]
        trading: Trading,
    },
    /// Evaluates both models, trains the one with the better out-of-sample record on the
    /// latest candles and saves it with its record.
    Train {
        #[command(flatten)]
        input: Input,
        /// Where to write the model (JSON).
        #[arg(long)]
        model_out: PathBuf,
        #[command(flatten)]
        trading: Trading,
    },
    /// Prints the signal at the last candle of the file, with the model's record: from a
    /// saved model (`--model`), or evaluating and training first.
    Score {
        #[command(flatten)]
        input: Input,
        /// A model saved by `train`.
        #[arg(long)]
        model: Option<PathBuf>,
        #[command(flatten)]
        trading: Trading,
    },
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn load(input: &Input) -> anyhow::Result<(Ohlcv, FundingRates)> {
    let candles = parse_klines(&read(&input.data)?)
        .with_context(|| format!("parsing {}", input.data.display()))?;
    let x = Ohlcv::from_candles(&candles, Interval::H1)
        .with_context(|| format!("checking the candles of {}", input.data.display()))?;
    let rates = match &input.funding {
        Some(p) => FundingRates::new(
            &parse_funding(&read(p)?).with_context(|| format!("parsing {}", p.display()))?,
        )?,
        None => FundingRates::default(),
    };
    Ok((x, rates))
}

/// A bar on stderr, drawn only when stderr is a terminal (logs and pipes stay clean).
fn progress_bar(len: usize, what: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} folds, {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

fn run(
    x: &Ohlcv,
    rates: &FundingRates,
    t: &Trading,
    bar: &ProgressBar,
) -> anyhow::Result<Evaluation> {
    let bt = BacktestConfig {
        threshold: t.threshold,
        leverage: t.leverage,
        ..BacktestConfig::default()
    };
    let mut progress = |done: usize, _total: usize| bar.set_position(done as u64);
    Ok(evaluate_with_progress(
        x,
        default_walk_forward_1h(),
        bt,
        rates,
        &mut progress,
    )?)
}

fn print_table(card: &ModelCard) {
    println!(
        "{}  feature set v{}  chosen model: {}",
        card.symbol, card.feature_set_version, card.model_kind
    );
    for c in &card.candidates {
        let m = &c.metrics;
        println!(
            "{:<9} out-of-sample rows {}  accuracy {:.4}  balanced {:.4}  log loss {:.4}  Brier {:.5} (base rate {:.5})  edge {}",
            c.kind.name(),
            m.n,
            m.accuracy,
            m.balanced_accuracy,
            m.log_loss,
            m.brier,
            m.base_rate_brier,
            c.has_edge
        );
    }
    println!(
        "{:<22} {:>10} {:>9} {:>8} {:>7} {:>7} {:>9}",
        "strategy", "net PnL %", "max DD %", "Sharpe", "win %", "trades", "exposure"
    );
    let rows = card
        .candidates
        .iter()
        .flat_map(|c| {
            let mut coin = c.coin_flip.clone();
            coin.name = format!("coin_flip ({})", c.kind.name());
            [c.strategy.clone(), coin]
        })
        .chain(
            card.baselines
                .iter()
                .filter(|b| b.name != "coin_flip")
                .cloned(),
        );
    for s in rows {
        println!(
            "{:<22} {:>10.2} {:>9.2} {:>8.2} {:>7.1} {:>7} {:>9.3}",
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
        "edge of the chosen model (beats every baseline and the base rate): {}",
        card.has_edge
    );
}

/// Evaluates, then trains the chosen kind on the latest candles.
fn train(input: &Input, t: &Trading) -> anyhow::Result<(SavedModel, ModelCard)> {
    let (x, rates) = load(input)?;
    let wf = default_walk_forward_1h();
    let bar = progress_bar(fold_count(x.len(), &wf) + 1, "evaluating");
    let e = run(&x, &rates, t, &bar)?;
    bar.set_message("training");
    let (model, window) = train_model(&x, wf, &rates, e.model_kind())?;
    bar.inc(1);
    bar.finish_and_clear();
    let saved = SavedModel::new(&input.symbol, model, window, &e)?;
    Ok((saved, ModelCard::new(&input.symbol, &e)))
}

fn load_model(path: &Path) -> anyhow::Result<SavedModel> {
    SavedModel::from_json(&read(path)?).map_err(|e| match e {
        SignalError::FeatureVersion { expected, found } => anyhow::anyhow!(
            "{} was trained on feature set v{expected}, but this build computes v{found}; \
             retrain it with `perpdesk-signal train`",
            path.display()
        ),
        other => anyhow::Error::new(other).context(format!("reading {}", path.display())),
    })
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Evaluate {
            input,
            json,
            trading,
        } => {
            let (x, rates) = load(&input)?;
            let bar = progress_bar(
                fold_count(x.len(), &default_walk_forward_1h()),
                "evaluating",
            );
            let e = run(&x, &rates, &trading, &bar)?;
            bar.finish_and_clear();
            let card = ModelCard::new(&input.symbol, &e);
            print_table(&card);
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&card)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::Train {
            input,
            model_out,
            trading,
        } => {
            let (saved, card) = train(&input, &trading)?;
            print_table(&card);
            std::fs::write(&model_out, saved.to_json()?)
                .with_context(|| format!("writing {}", model_out.display()))?;
            println!(
                "saved {} ({} candles {} → {}) to {}",
                saved.model_version,
                input.symbol,
                saved.training_window.first.format("%Y-%m-%d %H:%M"),
                saved.training_window.last.format("%Y-%m-%d %H:%M"),
                model_out.display()
            );
        }
        Command::Score {
            input,
            model,
            trading,
        } => {
            let saved = match model {
                Some(path) => load_model(&path)?,
                None => train(&input, &trading)?.0,
            };
            let (x, rates) = load(&input)?;
            let s = saved.signal(&input.symbol, &x, &rates)?;
            println!("{}", serde_json::to_string_pretty(&s)?);
        }
    }
    Ok(())
}
