//! The strategy file: the shipped one parses, its hash is of its exact bytes, and a file
//! with an unknown field or an impossible parameter is refused with its name.

use perpdesk_signal::strategy::{Strategy, sha256_hex};

use crate::families::SHIPPED;

fn refused(text: &str) -> String {
    Strategy::from_json(text)
        .expect_err("should be refused")
        .to_string()
}

#[test]
fn the_shipped_strategy_parses_and_names_its_hash_and_freeze_date() {
    let loaded = Strategy::from_json(SHIPPED).expect("shipped strategy");
    let s = &loaded.strategy;
    assert_eq!(loaded.sha256, sha256_hex(SHIPPED.as_bytes()));
    assert_eq!(loaded.sha256.len(), 64);
    assert_eq!(s.freeze_date.to_string(), "2023-12-31");
    let ids: Vec<&str> = s.families.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "trend_momentum_ls",
            "trend_momentum_lf",
            "trend_breakout_ls",
            "trend_breakout_lf",
            "xs_momentum",
            "xs_reversal",
            "funding_contrarian"
        ]
    );
    assert_eq!(s.model_1h.kinds.len(), 2);
    // Any byte changes the hash, even one that leaves the meaning alone.
    let spaced = format!("{SHIPPED} ");
    let again = Strategy::from_json(&spaced).expect("still valid");
    assert_eq!(again.strategy, loaded.strategy);
    assert_ne!(again.sha256, loaded.sha256);
}

#[test]
fn unknown_fields_and_impossible_parameters_are_refused() {
    let typo = SHIPPED.replacen("\"sides\": \"long_short\"", "\"side\": \"long_short\"", 1);
    assert!(refused(&typo).contains("side"));
    let top = SHIPPED.replacen("\"rationale\"", "\"rationale_\"", 1);
    assert!(refused(&top).contains("rationale_"));
    let twice = SHIPPED.replacen("trend_momentum_lf", "trend_momentum_ls", 1);
    assert!(refused(&twice).contains("used twice"));
    let buckets = SHIPPED.replacen("\"buckets\": 3", "\"buckets\": 1", 1);
    assert!(refused(&buckets).contains("xs_momentum"));
    let horizons = SHIPPED.replacen("[20, 60, 120]", "[]", 1);
    assert!(refused(&horizons).contains("trend_momentum_ls"));
    let thresholds = SHIPPED.replacen("\"long_below\": -0.0001", "\"long_below\": 0.001", 1);
    assert!(refused(&thresholds).contains("funding_contrarian"));
    let format = SHIPPED.replacen("\"format\": 1", "\"format\": 2", 1);
    assert!(refused(&format).contains("format 2"));
    let window = SHIPPED.replacen("\"from\": \"2021-06-01\"", "\"from\": \"2024-06-01\"", 1);
    assert!(refused(&window).contains("window"));
    let vol = SHIPPED.replacen("\"ewma_lambda\": 0.94", "\"ewma_lambda\": 1.5", 1);
    assert!(refused(&vol).contains("volatility"));
}
