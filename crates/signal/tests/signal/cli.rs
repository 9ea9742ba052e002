//! The `perpdesk-signal` binary on a slice of the real BTCUSDT data: train saves a model,
//! score uses it, and a model of another feature set is refused with a clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perpdesk_signal::{FEATURE_SET_VERSION, SavedModel, Scorer, Signal};

use crate::common::shared_dir;

/// One walk-forward fold of the default 1h windows needs 8,071 candles; 9,000 leave room
/// for the live training window too.
const CANDLES: usize = 9_000;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_perpdesk-signal"))
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Writes the first `CANDLES` rows of the BTCUSDT 1h file and the whole funding file into
/// a fresh directory of this test.
fn slice(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("signal-cli-{name}"));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let data = shared_dir().join("data");
    let klines =
        std::fs::read_to_string(data.join("binance_um_BTCUSDT_1h_2021-2023.csv")).expect("klines");
    let head: Vec<&str> = klines.lines().take(CANDLES + 1).collect();
    let k = dir.join("btc.csv");
    std::fs::write(&k, head.join("\n") + "\n").expect("write slice");
    let f = data.join("binance_um_BTCUSDT_funding_2021-2023.csv");
    (dir, k, f)
}

#[test]
fn train_saves_a_model_and_score_uses_it() {
    let (dir, data, funding) = slice("train");
    let model = dir.join("model.json");
    let _ = std::fs::remove_file(&model);
    let out = ok(bin()
        .args(["train", "--symbol", "BTCUSDT", "--data"])
        .arg(&data)
        .arg("--funding")
        .arg(&funding)
        .arg("--model-out")
        .arg(&model)
        .output()
        .expect("run train"));
    for word in [
        "logistic",
        "gbdt",
        "buy_and_hold",
        "ema_20_50_cross",
        "saved",
    ] {
        assert!(out.contains(word), "{word} missing from:\n{out}");
    }
    let saved = SavedModel::from_json(&std::fs::read_to_string(&model).expect("model file"))
        .expect("a valid saved model");
    assert_eq!(saved.feature_set_version, FEATURE_SET_VERSION);
    assert_eq!(saved.symbol, "BTCUSDT");
    assert!(saved.training_window.first < saved.training_window.last);
    assert!(saved.metrics.n > 1_000);

    let scored = ok(bin()
        .args(["score", "--symbol", "BTCUSDT", "--data"])
        .arg(&data)
        .arg("--funding")
        .arg(&funding)
        .arg("--model")
        .arg(&model)
        .output()
        .expect("run score"));
    let s: Signal = serde_json::from_str(&scored).expect("signal json");
    assert_eq!(s.model_version, saved.model_version);
    assert_eq!(s.record, saved.record);
    assert!((0.0..=1.0).contains(&s.p_up));
    // Scoring twice from the same file gives the same signal.
    let again = ok(bin()
        .args(["score", "--data"])
        .arg(&data)
        .arg("--funding")
        .arg(&funding)
        .arg("--model")
        .arg(&model)
        .output()
        .expect("run score"));
    assert_eq!(again, scored);

    // The frozen model scored out of time by `backtest`, next to the rule families, on a
    // folder holding the same slice.
    let folder = dir.join("folder");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::copy(&data, folder.join("binance_um_BTCUSDT_1h_slice.csv")).expect("copy");
    std::fs::copy(
        &funding,
        folder.join("binance_um_BTCUSDT_funding_2021-2023.csv"),
    )
    .expect("copy");
    let strategy = Path::new(env!("CARGO_MANIFEST_DIR")).join("strategies/perpdesk-v1.json");
    let report = ok(bin()
        .arg("backtest")
        .arg("--strategy")
        .arg(&strategy)
        .arg("--model")
        .arg(&model)
        .arg("--data")
        .arg(&folder)
        .args(["--from", "2021-10-01", "--to", "2021-12-31", "--json"])
        .output()
        .expect("run backtest"));
    let report: perpdesk_signal::study::StudyReport =
        serde_json::from_str(&report).expect("report json");
    let frozen = report
        .families
        .iter()
        .find(|f| f.id == format!("model_1h_frozen_{}", saved.model.kind().name()))
        .expect("the frozen model's record");
    assert_eq!(frozen.verdict.strategy.days, 92);
    assert!(frozen.verdict.brier.is_some_and(|b| b.n > 2_000));
    assert!(frozen.verdict.activity.trades > 0);

    // A model saved for feature set v1 is refused, naming the versions.
    let text = std::fs::read_to_string(&model).expect("model file");
    let v1 = text.replacen(
        &format!("\"feature_set_version\": {FEATURE_SET_VERSION}"),
        "\"feature_set_version\": 1",
        1,
    );
    assert_ne!(v1, text);
    let old = dir.join("model-v1.json");
    std::fs::write(&old, v1).expect("write v1");
    let out = bin()
        .args(["score", "--data"])
        .arg(&data)
        .arg("--model")
        .arg(&old)
        .output()
        .expect("run score");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("feature set v1") && err.contains("retrain"),
        "{err}"
    );
}

#[test]
fn evaluate_prints_both_models_and_writes_the_card() {
    let (dir, data, funding) = slice("evaluate");
    let card = dir.join("card.json");
    let out = ok(bin()
        .args(["evaluate-1h", "--symbol", "BTCUSDT", "--data"])
        .arg(&data)
        .arg("--funding")
        .arg(&funding)
        .arg("--json")
        .arg(&card)
        .output()
        .expect("run evaluate"));
    for word in [
        "logistic",
        "gbdt",
        "coin_flip (gbdt)",
        "rsi14_reversion",
        "Brier",
    ] {
        assert!(out.contains(word), "{word} missing from:\n{out}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&card).expect("card")).expect("json");
    assert_eq!(json["candidates"].as_array().map(Vec::len), Some(2));
    assert!(json["calibration"].is_array() && json["model"]["equity"].is_array());
}

#[test]
fn bad_input_files_are_clear_errors() {
    let (dir, _, _) = slice("bad");
    let missing = dir.join("nope.csv");
    let out = bin()
        .args(["evaluate-1h", "--data"])
        .arg(&missing)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));
    let short = dir.join("short.csv");
    std::fs::write(
        &short,
        "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n",
    )
    .expect("write");
    let out = bin()
        .args(["train", "--data"])
        .arg(&short)
        .arg("--model-out")
        .arg(dir.join("m.json"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("too few candles"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
