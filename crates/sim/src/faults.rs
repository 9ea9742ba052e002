//! Fault injection for tests: per endpoint, seeded, so a failing run replays exactly.
//!
//! The faults are the ones Binance documents or clients meet in practice: latency, a 503
//! "Unknown error" after the request *was* executed, a 503 "Service Unavailable." before it
//! was, a timeout after executing (the reply is held back), and 429 storms.

use serde::Deserialize;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FaultKind {
    /// Wait `ms` before handling the request.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// Execute, then answer 503 "Unknown error, please check your request or try again later."
    UnknownAfterExecute,
    /// Answer 503 "Service Unavailable." without executing.
    UnavailableBeforeExecute,
    /// Execute, then hold the reply for `ms` (longer than the client's timeout).
    TimeoutAfterExecute {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer 429 without executing.
    RateLimited,
}

/// One rule: which requests, what fault, how often, how many times.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// Request path (`/fapi/v1/order`), or `*` for every path.
    pub path: String,
    /// HTTP method (`POST`), or none for every method.
    #[serde(default)]
    pub method: Option<String>,
    /// The fault.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Chance per matching request, 0..=1.
    #[serde(default = "always")]
    pub probability: f64,
    /// How many times at most; none for no limit.
    #[serde(default)]
    pub count: Option<u32>,
}

fn always() -> f64 {
    1.0
}

/// The active rules and the seeded random source deciding them.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
    state: u64,
}

impl Faults {
    /// Rules decided by a generator seeded with `seed`.
    pub fn new(seed: u64, rules: Vec<FaultRule>) -> Self {
        Self { rules, state: seed }
    }

    /// SplitMix64: tiny, seedable, good enough to pick faults.
    fn next_unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits make an exact f64 in [0, 1).
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault for this request, if any (the first matching rule that fires).
    pub fn decide(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        for i in 0..self.rules.len() {
            let rule = &self.rules[i];
            let matches = (rule.path == "*" || rule.path == path)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && rule.count != Some(0);
            if !matches {
                continue;
            }
            let probability = rule.probability;
            if self.next_unit() < probability {
                let rule = &mut self.rules[i];
                if let Some(c) = rule.count.as_mut() {
                    *c -= 1;
                }
                return Some(rule.kind);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(probability: f64, count: Option<u32>) -> FaultRule {
        FaultRule {
            path: "/fapi/v1/order".into(),
            method: Some("POST".into()),
            kind: FaultKind::RateLimited,
            probability,
            count,
        }
    }

    #[test]
    fn the_same_seed_makes_the_same_decisions() {
        let run = |seed| {
            let mut f = Faults::new(seed, vec![rule(0.3, None)]);
            (0..200)
                .map(|_| f.decide("POST", "/fapi/v1/order").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).into_iter().filter(|h| *h).count();
        assert!((30..=90).contains(&hits), "about 30% of 200: {hits}");
    }

    #[test]
    fn rules_match_path_and_method_and_run_out() {
        let mut f = Faults::new(1, vec![rule(1.0, Some(2))]);
        assert_eq!(f.decide("GET", "/fapi/v1/order"), None);
        assert_eq!(f.decide("POST", "/fapi/v1/time"), None);
        assert_eq!(
            f.decide("POST", "/fapi/v1/order"),
            Some(FaultKind::RateLimited)
        );
        assert_eq!(
            f.decide("post", "/fapi/v1/order"),
            Some(FaultKind::RateLimited)
        );
        assert_eq!(f.decide("POST", "/fapi/v1/order"), None, "count exhausted");
    }

    #[test]
    fn rules_parse_from_the_admin_json() {
        let rules: Vec<FaultRule> = serde_json::from_str(
            r#"[{"path": "/fapi/v1/order", "method": "POST", "kind": "unknownAfterExecute", "count": 1},
                {"path": "*", "kind": "latency", "ms": 5, "probability": 0.5}]"#,
        )
        .expect("valid rules");
        assert_eq!(rules[0].kind, FaultKind::UnknownAfterExecute);
        assert_eq!(rules[1].kind, FaultKind::Latency { ms: 5 });
        assert_eq!(rules[1].probability, 0.5);
    }
}
