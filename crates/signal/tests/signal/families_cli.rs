//! `perpdesk-signal backtest` and `evaluate` on a folder of real files: any symbol set works
//! (one without a funding file, one listed mid-period), a run is bit-for-bit reproducible, and
//! trial lines are appended once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perpdesk_signal::edge::TrialLog;
use perpdesk_signal::study::StudyReport;

use crate::common::shared_dir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_perpdesk-signal"))
}

fn ok(out: Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn strategy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("strategies/perpdesk-v1.json")
}

/// A data folder of this test: BTC and ETH (plain CSV with funding) at the top, and in a
/// subfolder five gzip symbols: SUI (listed 2023-05, with funding), ATOM (funding from 2023),
/// AAVE, ALGO and BCH (no funding file).
fn folder(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("families-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("more")).expect("tmp dir");
    let data = shared_dir().join("data");
    for f in [
        "binance_um_BTCUSDT_1h_2021-2023.csv",
        "binance_um_BTCUSDT_funding_2021-2023.csv",
        "binance_um_ETHUSDT_1h_2021-2023.csv",
        "binance_um_ETHUSDT_funding_2021-2023.csv",
        "binance_um_BTCUSDT_mark_1h_2021-2023.csv",
        "binance_spot_BTCUSDT_1h_2021-2023.csv",
    ] {
        std::fs::copy(data.join(f), dir.join(f)).expect("copy");
    }
    for f in [
        "binance_um_SUIUSDT_1h_2023-05_2023-12.csv.gz",
        "binance_um_SUIUSDT_funding_2023-05_2023-12.csv.gz",
        "binance_um_ATOMUSDT_1h_2021-2023.csv.gz",
        "binance_um_ATOMUSDT_funding_2023-01_2023-12.csv.gz",
        "binance_um_AAVEUSDT_1h_2021-2023.csv.gz",
        "binance_um_ALGOUSDT_1h_2021-2023.csv.gz",
        "binance_um_BCHUSDT_1h_2021-2023.csv.gz",
    ] {
        std::fs::copy(data.join("wide").join(f), dir.join("more").join(f)).expect("copy");
    }
    dir
}

fn backtest(dir: &Path, json: bool) -> Vec<u8> {
    let mut c = bin();
    c.arg("backtest")
        .arg("--strategy")
        .arg(strategy())
        .arg("--data")
        .arg(dir)
        .args(["--from", "2023-01-01", "--to", "2023-12-31"]);
    if json {
        c.arg("--json");
    }
    ok(c.output().expect("run backtest"))
}

#[test]
fn backtest_is_bit_for_bit_reproducible_on_any_symbol_set() {
    let dir = folder("backtest");
    let a = backtest(&dir, true);
    let b = backtest(&dir, true);
    assert_eq!(a, b, "two runs differ");
    let r: StudyReport = serde_json::from_slice(&a).expect("report json");
    let names: Vec<&str> = r.symbols.iter().map(|s| s.symbol.as_str()).collect();
    assert_eq!(
        names,
        [
            "AAVEUSDT", "ALGOUSDT", "ATOMUSDT", "BCHUSDT", "BTCUSDT", "ETHUSDT", "SUIUSDT"
        ]
    );
    assert_eq!(r.families.len(), 7);
    assert_eq!(r.from.to_rfc3339(), "2023-01-01T00:00:00+00:00");
    for f in &r.families {
        assert_eq!(f.verdict.strategy.days, 365, "{}", f.id);
        assert!(f.verdict.edge == f.verdict.reasons.is_empty(), "{}", f.id);
        assert!(f.verdict.strategy.sharpe.is_finite());
        // The per-symbol records cover every symbol with data in the window, SUI included.
        assert!(
            f.per_symbol.iter().any(|s| s.symbol == "SUIUSDT"),
            "{}",
            f.id
        );
        assert_eq!(f.latest.len(), 7);
        if !f.verdict.edge {
            assert!(
                f.latest
                    .iter()
                    .all(|s| s.direction == perpdesk_signal::SignalDirection::Flat),
                "{}: a family without edge shows no direction",
                f.id
            );
        }
    }
    assert_eq!(r.strategy.freeze_date.to_string(), "2023-12-31");
    assert_eq!(r.strategy.sha256.len(), 64);
    let text = String::from_utf8(backtest(&dir, false)).expect("utf-8");
    for word in [
        "trend_momentum_ls",
        "funding_contrarian",
        "portfolio",
        "basket",
        "AAVEUSDT",
        "default 0.01%/8h (no series)",
        "SUIUSDT       2023-05-03 16:00",
        "real 2023-01-01",
    ] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    // Each row says how many years of record a 95% test needs at its Sharpe, against 0 and
    // against the deflated bar.
    assert!(text.contains("minimum track record"), "{text}");
    let years = |y: Option<f64>| y.map_or_else(|| "never".to_string(), |y| format!("{y:.1}"));
    for f in &r.families {
        let p = f.verdict.power();
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("{:<22} ", f.id)))
            .unwrap_or_else(|| panic!("no row of {} in:\n{text}", f.id));
        let expected = format!(
            " {:>7} {:>7} ",
            years(p.years_vs_zero),
            years(p.years_vs_bar)
        );
        assert!(row.contains(&expected), "{expected:?} not in {row:?}");
    }
}

#[test]
fn evaluate_appends_each_configuration_once() {
    let dir = folder("evaluate");
    let log = dir.join("trials.jsonl");
    // The shipped log without this strategy's own lines, so the run has something to add
    // whether or not the visible-data evaluation has been logged.
    let shipped: String = perpdesk_signal::edge::trials::SHIPPED_TRIALS
        .lines()
        .filter(|l| !l.contains("\"id\":\"perpdesk-v1/"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log, shipped).expect("log");
    let before = TrialLog::parse(&std::fs::read_to_string(&log).expect("log"))
        .expect("parses")
        .trials
        .len();
    let run = || {
        ok(bin()
            .arg("evaluate")
            .arg("--strategy")
            .arg(strategy())
            .arg("--data")
            .arg(&dir)
            .arg("--skip-models")
            .arg("--append-trials")
            .arg(&log)
            .output()
            .expect("run evaluate"))
    };
    let first = String::from_utf8(run()).expect("utf-8");
    assert!(first.contains("2021-06-01 → 2023-12-31"), "{first}");
    let after = TrialLog::parse(&std::fs::read_to_string(&log).expect("log")).expect("parses");
    let added = after.trials.len() - before;
    // Seven rule families, and the portfolio only if one of them passed.
    assert!(added == 7 || added == 8, "{added}");
    assert!(after.trials.iter().any(|t| t.family == "xs_reversal"));
    run();
    let again = TrialLog::parse(&std::fs::read_to_string(&log).expect("log")).expect("parses");
    assert_eq!(
        again.trials.len(),
        after.trials.len(),
        "re-running is not a new trial"
    );
}

#[test]
fn bad_family_inputs_are_clear_errors() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("families-cli-bad");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    let err = |args: &[&str]| {
        let out = bin().args(args).output().expect("run");
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let s = strategy();
    let s = s.to_str().expect("utf-8 path");
    let d = dir.to_str().expect("utf-8 path");
    let e = err(&[
        "backtest",
        "--strategy",
        s,
        "--data",
        d,
        "--from",
        "2023-01-01",
        "--to",
        "2023-02-01",
    ]);
    assert!(e.contains("holds no binance_um_"), "{e}");
    let e = err(&[
        "backtest",
        "--strategy",
        "nope.json",
        "--data",
        d,
        "--from",
        "2023-01-01",
        "--to",
        "2023-02-01",
    ]);
    assert!(e.contains("nope.json"), "{e}");
    let e = err(&[
        "backtest",
        "--strategy",
        s,
        "--data",
        d,
        "--from",
        "2023-02-01",
        "--to",
        "2023-01-01",
    ]);
    assert!(e.contains("before"), "{e}");
}

fn manifest(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn backtest_frozen(dir: &Path, model: &Path) -> Vec<u8> {
    ok(bin()
        .arg("backtest")
        .arg("--strategy")
        .arg(manifest("strategies/perpdesk-v2.json"))
        .arg("--model")
        .arg(model)
        .arg("--data")
        .arg(dir)
        .args(["--from", "2023-10-01", "--to", "2023-12-31", "--json"])
        .output()
        .expect("run backtest"))
}

#[test]
fn the_shipped_frozen_pooled_model_scores_any_period_byte_for_byte_without_refitting() {
    let dir = folder("frozen");
    let model = manifest("models/pooled-v2.json");
    let shipped = perpdesk_signal::frozen::FrozenPooled::from_json(
        &std::fs::read_to_string(&model).expect("the shipped frozen model"),
    )
    .expect("parses");
    let v2 = perpdesk_signal::strategy::Strategy::from_json(
        &std::fs::read_to_string(manifest("strategies/perpdesk-v2.json")).expect("v2"),
    )
    .expect("v2");
    shipped
        .check(&v2)
        .expect("the shipped model belongs to the shipped v2");
    assert_eq!(shipped.fit_end.to_string(), "2023-12-31");
    assert_eq!(shipped.symbols.len(), 28);
    let a = backtest_frozen(&dir, &model);
    let b = backtest_frozen(&dir, &model);
    assert_eq!(a, b, "two runs differ");
    let r: StudyReport = serde_json::from_slice(&a).expect("report json");
    for id in ["pooled_4h", "pooled_daily"] {
        let f = r.families.iter().find(|f| f.id == id).expect(id);
        // Every forecast was scored on these seven symbols, none of it fitted on them.
        assert!(f.verdict.brier.is_some_and(|b| b.n > 0), "{id}");
    }
    // freeze on this folder, then backtest with that file: the CLI path end to end.
    let mine = dir.join("pooled-mine.json");
    ok(bin()
        .arg("freeze")
        .arg("--strategy")
        .arg(manifest("strategies/perpdesk-v2.json"))
        .arg("--data")
        .arg(&dir)
        .args(["--to", "2023-12-31", "--out"])
        .arg(&mine)
        .output()
        .expect("run freeze"));
    let f = perpdesk_signal::frozen::FrozenPooled::from_json(
        &std::fs::read_to_string(&mine).expect("written"),
    )
    .expect("parses");
    assert_eq!(f.symbols.len(), 7);
    assert_eq!(backtest_frozen(&dir, &mine), backtest_frozen(&dir, &mine));
}

#[test]
fn a_frozen_model_is_refused_by_another_strategy_before_any_data_is_read() {
    let out = bin()
        .arg("backtest")
        .arg("--strategy")
        .arg(strategy())
        .arg("--model")
        .arg(manifest("models/pooled-v2.json"))
        .arg("--data")
        .arg("/nonexistent-data-folder")
        .args(["--from", "2023-10-01", "--to", "2023-12-31"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not belong to") && err.contains("sha256"),
        "{err}"
    );
}
