//! The whole rule-family evaluation (issue 15's target: ≤ 10 s for all rule families, the
//! whole universe, 3 years of 1h data, edge test included): from the files' text (read and
//! gunzipped once, outside the timing) to the full report, i.e. parsing, bars, every family,
//! sizing, books, the edge test of each family (500 random-timing nulls, 1,000 bootstrap
//! resamples, the deflated Sharpe), per-symbol records, the portfolio and the basket.
//! The v2 case adds the pooled model at 4h and daily (features, every walk-forward fit,
//! forecasts, their books and edge tests). The whole-evaluation case is what
//! `perpdesk-signal evaluate` and the app's study compute: v2 with the 1h models too (each
//! symbol's walk-forward of both kinds, LightGBM fits included, their trades as two more
//! books with their edge tests); one iteration takes seconds, so it is sampled flat.

use std::io::Read;
use std::path::PathBuf;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use perpdesk_signal::backtest::BacktestConfig;
use perpdesk_signal::default_walk_forward_1h;
use perpdesk_signal::edge::TrialLog;
use perpdesk_signal::model_family::{hourly_panel, walk_forward_books};
use perpdesk_signal::strategy::Strategy;
use perpdesk_signal::study::study;
use perpdesk_signal::universe::{UniverseBuilder, classify_file};

fn texts() -> Vec<(String, String)> {
    let shared = std::env::var_os("PERPDESK_SHARED").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    );
    let data = shared.join("data");
    let mut out = Vec::new();
    for dir in [data.clone(), data.join("wide")] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("data folder")
            .map(|e| e.expect("entry").path())
            .collect();
        paths.sort();
        for p in paths {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            if classify_file(&name).is_none() {
                continue;
            }
            let bytes = std::fs::read(&p).expect("file");
            let text = if name.ends_with(".gz") {
                let mut s = String::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_string(&mut s)
                    .expect("gzip");
                s
            } else {
                String::from_utf8(bytes).expect("utf-8")
            };
            out.push((name, text));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let files = texts();
    let log = TrialLog::shipped().expect("trial log");
    let mut g = c.benchmark_group("families");
    g.sample_size(10);
    for (name, text) in [
        (
            "rule_families_28_symbols_3y_from_text_with_edge_test",
            include_str!("../strategies/perpdesk-v1.json"),
        ),
        (
            "rules_and_pooled_28_symbols_3y_from_text_with_edge_test",
            include_str!("../strategies/perpdesk-v2.json"),
        ),
    ] {
        let strategy = Strategy::from_json(text).expect("shipped strategy");
        let window = strategy.strategy.evaluation.window();
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut u = UniverseBuilder::new();
                for (name, text) in &files {
                    u.add_file(name, text).expect("file");
                }
                let u = u.build().expect("universe");
                let r = study(&u, &strategy, window, &log, vec![]).expect("study");
                std::hint::black_box(r);
            });
        });
    }
    g.finish();

    let mut g = c.benchmark_group("whole_evaluation");
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    let strategy = Strategy::from_json(include_str!("../strategies/perpdesk-v2.json")).expect("v2");
    let window = strategy.strategy.evaluation.window();
    g.bench_function(
        "all_families_incl_1h_models_28_symbols_3y_from_text_with_edge_test",
        |b| {
            b.iter(|| {
                let mut u = UniverseBuilder::new();
                for (name, text) in &files {
                    u.add_file(name, text).expect("file");
                }
                let u = u.build().expect("universe");
                let panel = hourly_panel(&u).expect("1h panel");
                let models = walk_forward_books(
                    &u,
                    &panel,
                    &strategy.strategy.model_1h.kinds,
                    default_walk_forward_1h(),
                    BacktestConfig::default(),
                    &mut |_, _| {},
                )
                .expect("1h models");
                let r = study(&u, &strategy, window, &log, models).expect("study");
                std::hint::black_box(r);
            });
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
