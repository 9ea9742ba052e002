//! `perpdesk-signal`: the signal families' record over a data folder (`evaluate`,
//! `backtest` of a frozen strategy and model over any window, `freeze` of the pooled model),
//! and the 1h model's walk-forward
//! evaluation, training and scoring of one kline CSV. The only I/O of the crate lives here:
//! it lists the data folder, reads and gunzips the files and hands their text to the library.
//!
//! About 800 lines: one function per subcommand, each argument parsing and printing around
//! a library call; they share the file-reading helpers, so they stay in one file.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use perpdesk_core::Interval;
use perpdesk_signal::backtest::{BacktestConfig, FundingRates};
use perpdesk_signal::edge::TrialLog;
use perpdesk_signal::frozen::{FrozenPooled, freeze};
use perpdesk_signal::model_family::{frozen_books, hourly_panel, walk_forward_books};
use perpdesk_signal::strategy::{Days, LoadedStrategy, Strategy};
use perpdesk_signal::study::{StudyReport, study, study_with, universe_label};
use perpdesk_signal::universe::{ParsedFile, Universe, UniverseBuilder, classify_file};
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

/// The inputs of the family commands.
#[derive(Args)]
struct FamilyInput {
    /// A strategy file (e.g. crates/signal/strategies/perpdesk-v1.json).
    #[arg(long)]
    strategy: PathBuf,
    /// The data folder: every `binance_um_{SYMBOL}_1h_*.csv[.gz]` and
    /// `binance_um_{SYMBOL}_funding_*.csv[.gz]` in it and its direct subfolders.
    /// Default: $PERPDESK_SHARED/data.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Print the full record as JSON on stdout instead of the tables.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// The visible-data evaluation: every family of the strategy (rules and the 1h models'
    /// walk-forward) over the strategy's evaluation window, the portfolio and the basket.
    Evaluate {
        #[command(flatten)]
        input: FamilyInput,
        /// Leave out the 1h model families (their walk-forward takes minutes).
        #[arg(long)]
        skip_models: bool,
        /// Append this run's configurations that are not in it yet to this trial log.
        #[arg(long)]
        append_trials: Option<PathBuf>,
    },
    /// A frozen strategy (and optionally a frozen model) over any window of the data: the
    /// full record, bit for bit the same on every run.
    Backtest {
        #[command(flatten)]
        input: FamilyInput,
        /// A pooled model frozen by `freeze` (its pooled families are then scored by it, with
        /// no refit), or a 1h model saved by `train` (scored frozen on every symbol).
        #[arg(long)]
        model: Option<PathBuf>,
        /// First day scored (UTC, e.g. 2024-01-01); earlier data only warms the rules up.
        #[arg(long)]
        from: NaiveDate,
        /// Last day scored (UTC, included).
        #[arg(long)]
        to: NaiveDate,
    },
    /// Freezes the strategy's pooled model: its walk-forward with fits up to `--to`, the last
    /// fit of each horizon written to a versioned JSON file naming the strategy's sha256.
    Freeze {
        #[command(flatten)]
        input: FamilyInput,
        /// No fit uses a label ending after this day (at most the strategy's freeze date).
        #[arg(long)]
        to: NaiveDate,
        /// Where to write the frozen model (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Walk-forward evaluation of both 1h models of one symbol + backtest against baselines.
    #[command(name = "evaluate-1h")]
    Evaluate1h {
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
fn progress_bar(len: usize, what: &str, unit: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit}, {{elapsed}}"
    )) {
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
    let bar = progress_bar(fold_count(x.len(), &wf) + 1, "evaluating", "folds");
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

/// The text of a data file, gunzipped when its name ends in `.gz`.
fn read_data_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .with_context(|| format!("decompressing {}", path.display()))?;
        Ok(text)
    } else {
        String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))
    }
}

/// Reads every universe file of `dir` and its direct subfolders, in path order.
fn load_universe(dir: &Path) -> anyhow::Result<Universe> {
    let list = |d: &Path| -> anyhow::Result<Vec<PathBuf>> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .with_context(|| format!("listing {}", d.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .with_context(|| format!("listing {}", d.display()))?;
        v.sort();
        Ok(v)
    };
    let mut files = Vec::new();
    for path in list(dir)? {
        if path.is_dir() {
            files.extend(list(&path)?.into_iter().filter(|p| p.is_file()));
        } else {
            files.push(path);
        }
    }
    let files: Vec<(PathBuf, &str)> = files
        .iter()
        .filter_map(|p| {
            let name = p.file_name().and_then(|n| n.to_str())?;
            classify_file(name).map(|_| (p.clone(), name))
        })
        .collect();
    // Reading, gunzipping and parsing each file is independent: files are dealt to the
    // cores one at a time and added in path order, so the universe is the same.
    let parse = |(path, name): &(PathBuf, &str)| -> anyhow::Result<ParsedFile> {
        Ok(UniverseBuilder::parse_file(name, &read_data_file(path)?)?)
    };
    let mut parsed: Vec<Option<anyhow::Result<ParsedFile>>> = files.iter().map(|_| None).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else {
                            break done;
                        };
                        done.push((i, parse(f)));
                    }
                })
            })
            .collect();
        for w in workers {
            for (i, r) in w.join().expect("parsing a file does not panic") {
                parsed[i] = Some(r);
            }
        }
    });
    let mut b = UniverseBuilder::new();
    for p in parsed {
        b.add_parsed(p.expect("every file was parsed")?);
    }
    let u = b.build()?;
    if u.symbols.is_empty() {
        anyhow::bail!(
            "{} holds no binance_um_{{SYMBOL}}_1h_*.csv[.gz] file",
            dir.display()
        );
    }
    Ok(u)
}

fn data_dir(input: &FamilyInput) -> anyhow::Result<PathBuf> {
    match (&input.data, std::env::var_os("PERPDESK_SHARED")) {
        (Some(d), _) => Ok(d.clone()),
        (None, Some(shared)) => Ok(PathBuf::from(shared).join("data")),
        (None, None) => anyhow::bail!("give --data DIR (or set PERPDESK_SHARED)"),
    }
}

fn load_strategy(path: &Path) -> anyhow::Result<LoadedStrategy> {
    Strategy::from_json(&read(path)?).with_context(|| format!("reading {}", path.display()))
}

fn evaluate_families(
    input: &FamilyInput,
    skip_models: bool,
    append: Option<&Path>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let strategy = load_strategy(&input.strategy)?;
    let universe = load_universe(&data_dir(input)?)?;
    let loaded = started.elapsed();
    let window = strategy.strategy.evaluation.window();
    let mut models = Vec::new();
    if !skip_models && !strategy.strategy.model_1h.kinds.is_empty() {
        let panel = hourly_panel(&universe)?;
        let bar = progress_bar(universe.symbols.len(), "1h models, walk-forward", "symbols");
        let mut progress = |done: usize, _: usize| bar.set_position(done as u64);
        models = walk_forward_books(
            &universe,
            &panel,
            &strategy.strategy.model_1h.kinds,
            default_walk_forward_1h(),
            BacktestConfig::default(),
            &mut progress,
        )?;
        bar.finish_and_clear();
    }
    let modelled = started.elapsed();
    let log = TrialLog::shipped()?;
    let report = study(&universe, &strategy, window, &log, models)?;
    let done = started.elapsed();
    output(&report, input.json)?;
    eprintln!(
        "timing: data {:.2} s, model walk-forward {:.2} s, families + edge test {:.2} s, total {:.2} s",
        loaded.as_secs_f64(),
        (modelled - loaded).as_secs_f64(),
        (done - modelled).as_secs_f64(),
        done.as_secs_f64()
    );
    if let Some(path) = append {
        append_trials(path, &report, &universe)?;
    }
    Ok(())
}

/// A model file given to `backtest`: a frozen pooled model (it has `horizons`) or a 1h model.
enum ModelFile {
    Pooled(FrozenPooled),
    Hourly(Box<SavedModel>),
}

fn load_any_model(path: &Path) -> anyhow::Result<ModelFile> {
    let text = read(path)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON model file", path.display()))?;
    if value.get("horizons").is_some() {
        Ok(ModelFile::Pooled(
            FrozenPooled::from_json(&text)
                .with_context(|| format!("reading {}", path.display()))?,
        ))
    } else {
        Ok(ModelFile::Hourly(Box::new(load_model(path)?)))
    }
}

fn backtest_families(input: &FamilyInput, model: Option<&Path>, days: Days) -> anyhow::Result<()> {
    if days.to < days.from {
        anyhow::bail!("--to {} is before --from {}", days.to, days.from);
    }
    let started = Instant::now();
    let strategy = load_strategy(&input.strategy)?;
    // The model file is checked against the strategy before any data is read.
    let model = model
        .map(|p| load_any_model(p).map(|m| (p, m)))
        .transpose()?;
    if let Some((path, ModelFile::Pooled(f))) = &model {
        f.check(&strategy).with_context(|| {
            format!(
                "{} does not belong to {}",
                path.display(),
                input.strategy.display()
            )
        })?;
    }
    let universe = load_universe(&data_dir(input)?)?;
    let window = days.window();
    let mut models = Vec::new();
    let mut frozen = None;
    match model {
        Some((_, ModelFile::Hourly(saved))) => {
            let panel = hourly_panel(&universe)?;
            models.push(frozen_books(&universe, &panel, &saved, window)?);
        }
        Some((_, ModelFile::Pooled(f))) => frozen = Some(f),
        None => {}
    }
    let report = study_with(
        &universe,
        &strategy,
        window,
        &TrialLog::shipped()?,
        models,
        frozen.as_ref(),
    )?;
    output(&report, input.json)?;
    eprintln!("timing: total {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn freeze_pooled(input: &FamilyInput, to: NaiveDate, out: &Path) -> anyhow::Result<()> {
    let strategy = load_strategy(&input.strategy)?;
    let universe = load_universe(&data_dir(input)?)?;
    let frozen = freeze(&universe, &strategy, to)?;
    std::fs::write(out, frozen.to_json()?).with_context(|| format!("writing {}", out.display()))?;
    for h in &frozen.horizons {
        println!(
            "{}: fitted at {} on {} rows",
            h.family.id,
            h.model.fitted_at.format("%Y-%m-%d %H:%M"),
            h.model.n_train
        );
    }
    println!(
        "froze strategy {} v{} (sha256 {}) up to {} to {}",
        frozen.strategy.name,
        frozen.strategy.version,
        frozen.strategy.sha256,
        to,
        out.display()
    );
    Ok(())
}

fn output(report: &StudyReport, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", tables(report))?;
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The record as plain tables.
fn tables(r: &StudyReport) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "strategy {} v{} (sha256 {}), frozen {}; days {} → {}; {} symbols; costs {:.1} bp per unit turnover",
        r.strategy.name,
        r.strategy.version,
        r.strategy.sha256,
        r.strategy.freeze_date,
        r.from.date_naive(),
        r.to.date_naive(),
        r.symbols.len(),
        (r.costs.taker_fee + r.costs.slippage) * 1e4
    );
    let _ = writeln!(
        o,
        "trials counted for the deflated Sharpe: N = {} (Sharpe mean {:.3}, variance {:.4})",
        r.trials.n, r.trials.sharpe_mean, r.trials.sharpe_variance
    );
    if let Some(f) = r.families.first() {
        let p = f.verdict.power();
        let _ = writeln!(
            o,
            "deflated bar SR0 = {:.2}; record {:.1} years of days; yrs>0 and yrs>SR0: years of record a {:.0}% test needs at each Sharpe (minimum track record, Bailey & López de Prado 2012)",
            p.bar_sharpe,
            p.record_years,
            p.confidence * 100.0
        );
    }
    let _ = writeln!(
        o,
        "\n{:<22} {:>7} {:>17} {:>8} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6}  flat because",
        "family",
        "Sharpe",
        "90% interval",
        "max DD",
        "turn/yr",
        "pctile",
        "DSR p",
        "basket",
        "trades",
        "yrs>0",
        "yrs>SR0",
        "edge"
    );
    let years = |y: Option<f64>| y.map_or_else(|| "never".to_string(), |y| format!("{y:.1}"));
    let row = |o: &mut String, name: &str, v: &perpdesk_signal::edge::Verdict| {
        let power = v.power();
        let reasons: Vec<String> = v
            .reasons
            .iter()
            .map(|x| {
                serde_json::to_string(x)
                    .unwrap_or_default()
                    .replace('"', "")
            })
            .collect();
        let _ = writeln!(
            o,
            "{:<22} {:>7.2} {:>17} {:>8} {:>9.1} {:>7.1} {:>7.3} {:>7.2} {:>7} {:>7} {:>7} {:>6}  {}",
            name,
            v.strategy.sharpe,
            format!("[{:.2}, {:.2}]", v.interval.lower, v.interval.upper),
            pct(-v.strategy.max_drawdown),
            v.activity.turnover_per_year,
            v.random_timing.percentile,
            v.deflated.p_value,
            v.benchmark.sharpe,
            v.activity.trades,
            years(power.years_vs_zero),
            years(power.years_vs_bar),
            if v.edge { "yes" } else { "no" },
            reasons.join(", ")
        );
    };
    for f in &r.families {
        row(&mut o, &f.id, &f.verdict);
    }
    match &r.portfolio.verdict {
        Some(v) => {
            row(&mut o, "portfolio", v);
            let _ = writeln!(
                o,
                "portfolio members: {}; the issue's aim (Sharpe ≥ basket + 0.3, max DD ≤ half the basket's) met: {}",
                r.portfolio.members.join(", "),
                r.portfolio.aim_met
            );
        }
        None => {
            let _ = writeln!(
                o,
                "{:<22} no family passes the edge test: the portfolio is flat",
                "portfolio"
            );
        }
    }
    let b = &r.basket.stats;
    let _ = writeln!(
        o,
        "{:<22} {:>7.2} {:>17} {:>8}   (equal-weight basket of every symbol with data, rebalanced daily)",
        "basket (buy & hold)",
        b.sharpe,
        "",
        pct(-b.max_drawdown)
    );
    let _ = writeln!(o, "\nsymbols and funding:");
    for s in &r.symbols {
        let funding = match s.funding {
            perpdesk_signal::universe::FundingSource::Real {
                first,
                last,
                events,
            } => format!(
                "real {} → {} ({events} events), default 0.01%/8h outside",
                first.date_naive(),
                last.date_naive()
            ),
            perpdesk_signal::universe::FundingSource::Default => {
                "default 0.01%/8h (no series)".to_string()
            }
        };
        let carry = r
            .carry
            .iter()
            .find(|c| c.symbol == s.symbol)
            .map(|c| {
                format!(
                    "carry {} a year ({})",
                    pct(c.carry.annualised),
                    if c.carry.real { "real" } else { "default" }
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {:<13} {} → {}  missing hours {:>4}  funding {}; {}",
            s.symbol,
            s.first_candle.format("%Y-%m-%d %H:%M"),
            s.last_candle.format("%Y-%m-%d %H:%M"),
            s.missing_hours,
            funding,
            carry
        );
    }
    o
}

/// Appends a line per configuration of this run that the log does not hold yet.
fn append_trials(path: &Path, r: &StudyReport, u: &Universe) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let log = TrialLog::parse(&text).with_context(|| format!("reading {}", path.display()))?;
    let universe = universe_label(u);
    let funded: Vec<&str> = r
        .symbols
        .iter()
        .filter(|s| {
            matches!(
                s.funding,
                perpdesk_signal::universe::FundingSource::Real { .. }
            )
        })
        .map(|s| s.symbol.as_str())
        .collect();
    let funding = format!(
        "real series at their own times for {} within their spans, else 0.01%/8h at 00/08/16 UTC",
        funded.join(",")
    );
    let mut lines = Vec::new();
    let mut add = |id: &str,
                   family: &str,
                   parameters: serde_json::Value,
                   bar: &str,
                   v: &perpdesk_signal::edge::Verdict| {
        if log.trials.iter().any(|t| t.id == id) {
            return;
        }
        let t = perpdesk_signal::edge::Trial {
            id: id.to_string(),
            kind: perpdesk_signal::edge::TrialKind::Trial,
            family: family.to_string(),
            parameters,
            universe: universe.clone(),
            bar: bar.to_string(),
            window: perpdesk_signal::edge::Window {
                from: r.from.date_naive(),
                to: r.to.date_naive(),
            },
            costs_bp: (r.costs.taker_fee + r.costs.slippage) * 1e4,
            funding: funding.clone(),
            sharpe: v.strategy.sharpe,
            date: chrono::Utc::now().date_naive(),
            source: format!(
                "perpdesk-signal evaluate, strategy {} v{} sha256 {}",
                r.strategy.name, r.strategy.version, r.strategy.sha256
            ),
            metrics: Some(serde_json::json!({
                "max_drawdown": v.strategy.max_drawdown,
                "turnover_per_year": v.activity.turnover_per_year,
                "trades": v.activity.trades,
                "random_timing_percentile": v.random_timing.percentile,
                "dsr_p_value": v.deflated.p_value,
                "edge": v.edge,
            })),
            note: None,
        };
        lines.push(t.to_line());
    };
    for f in &r.families {
        let (params, bar) = match (&f.rule, &f.pooled) {
            (Some(rule), _) => (serde_json::to_value(rule).unwrap_or_default(), "1d"),
            (None, Some(p)) => (
                serde_json::to_value(p).unwrap_or_default(),
                if p.bar_hours == 24 { "1d" } else { "4h" },
            ),
            (None, None) => (f.parameters.clone().unwrap_or_default(), "1h"),
        };
        add(&f.trial_id, &f.id, params, bar, &f.verdict);
    }
    if let Some(v) = &r.portfolio.verdict {
        add(
            &r.portfolio.trial_id,
            "portfolio",
            serde_json::json!({ "members": r.portfolio.members }),
            "1d",
            v,
        );
    }
    if !lines.is_empty() {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        if !text.is_empty() && !text.ends_with('\n') {
            writeln!(f)?;
        }
        for l in &lines {
            writeln!(f, "{l}")?;
        }
    }
    eprintln!(
        "{} trial line(s) appended to {}",
        lines.len(),
        path.display()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Evaluate {
            input,
            skip_models,
            append_trials,
        } => evaluate_families(&input, skip_models, append_trials.as_deref())?,
        Command::Backtest {
            input,
            model,
            from,
            to,
        } => backtest_families(&input, model.as_deref(), Days { from, to })?,
        Command::Freeze { input, to, out } => freeze_pooled(&input, to, &out)?,
        Command::Evaluate1h {
            input,
            json,
            trading,
        } => {
            let (x, rates) = load(&input)?;
            let bar = progress_bar(
                fold_count(x.len(), &default_walk_forward_1h()),
                "evaluating",
                "folds",
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
