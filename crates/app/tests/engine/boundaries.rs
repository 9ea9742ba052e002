//! The app's boundary to the exchange, checked in its sources: `perpdesk_binance::Client` is
//! the one door. The app never names the wire types (every mapping lives in the binance
//! crate, once) and never reaches past the door to the endpoint layer, where an order could
//! be sent without a risk approval.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every line of `crates/app/src` containing one of `needles`, as `file:line: text`.
fn lines_naming(needles: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 10, "the scan found the sources: {files:?}");
    let mut hits = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (i, line) in text.lines().enumerate() {
            let words: Vec<&str> = line
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .collect();
            if needles
                .iter()
                .any(|n| words.contains(n) || (n.starts_with('.') && line.contains(n)))
            {
                hits.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn the_app_never_names_the_wire_types() {
    let hits = lines_naming(&["wire"]);
    assert!(
        hits.is_empty(),
        "the app reads the exchange through Client's domain types only:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_app_never_reaches_past_the_client() {
    let hits = lines_naming(&[".raw()", "Raw"]);
    assert!(
        hits.is_empty(),
        "the app goes through Client, never its endpoint layer:\n{}",
        hits.join("\n")
    );
}
