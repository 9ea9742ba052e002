//! Volatility-targeted sizing, worked by hand.

use perpdesk_signal::sizing::{
    EwmaCov, Limits, VolTarget, book_scale, ewma_vol, position_weight, suggest, vol_stop,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

fn cfg(seed: usize) -> VolTarget {
    VolTarget {
        target_annual_vol: 0.2,
        ewma_lambda: 0.94,
        seed_returns: seed,
        bars_per_year: 365.0,
    }
}

#[test]
fn ewma_volatility_is_seeded_by_a_mean_then_decays() {
    let r = [0.01, -0.03, 0.02, 0.0];
    let o = [true, true, false, true];
    let v = ewma_vol(&r, &o, &cfg(2));
    assert_eq!(v[0], None, "one return is not enough to seed");
    let seed = (0.01f64.powi(2) + 0.03f64.powi(2)) / 2.0;
    let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-15);
    assert!(close(v[1], (seed * 365.0).sqrt()));
    assert!(
        close(v[2], (seed * 365.0).sqrt()),
        "no return observed: carried"
    );
    let next = 0.94 * seed + 0.06 * 0.0;
    assert!(close(v[3], (next * 365.0).sqrt()));
}

#[test]
fn the_covariance_diagonal_is_the_same_estimate_as_one_asset_alone() {
    let a = [0.01, -0.02, 0.03, -0.01, 0.02];
    let b = [0.02, -0.01, 0.01, 0.0, -0.03];
    let c = cfg(3);
    let mut cov = EwmaCov::new(2);
    for t in 0..a.len() {
        cov.update(&[a[t], b[t]], &[true, true], &c);
    }
    let alone = ewma_vol(&a, &[true; 5], &c)[4].expect("seeded");
    let diag = (cov.variance(0).expect("seeded") * 365.0).sqrt();
    assert!((alone - diag).abs() < 1e-15);
    // Perfectly anti-correlated equal positions hedge each other.
    let mut h = EwmaCov::new(2);
    for x in a {
        h.update(&[x, -x], &[true, true], &c);
    }
    assert!(h.book_variance(&[1.0, 1.0]).abs() < 1e-18);
    assert!((h.book_variance(&[1.0, -1.0]) - 4.0 * h.variance(0).expect("seeded")).abs() < 1e-15);
}

#[test]
fn positions_target_the_volatility_within_the_limits() {
    // 20% target on a 80% asset: a quarter of equity; half the signal, an eighth.
    assert!((position_weight(1.0, 0.8, 0.2, 1.0) - 0.25).abs() < 1e-15);
    assert!((position_weight(-0.5, 0.8, 0.2, 1.0) + 0.125).abs() < 1e-15);
    // A very calm asset is capped at the largest weight.
    assert_eq!(position_weight(1.0, 0.01, 0.2, 1.0), 1.0);
    assert_eq!(
        position_weight(1.0, 0.0, 0.2, 1.0),
        0.0,
        "no estimate, no size"
    );
    assert_eq!(position_weight(f64::NAN, 0.5, 0.2, 1.0), 0.0);
    // The book: a 40% book is halved, a 10% one is left alone, the gross cap binds last.
    assert!((book_scale(&[0.5, 0.5], 0.4, 0.2, 3.0) - 0.5).abs() < 1e-15);
    assert_eq!(book_scale(&[0.5, -0.5], 0.1, 0.2, 3.0), 1.0);
    assert!((book_scale(&[2.0, 2.0, 2.0], 0.2, 0.2, 3.0) - 0.5).abs() < 1e-15);
}

#[test]
fn stops_sit_k_sigma_root_horizon_away_and_respect_the_limit() {
    // 3 × 2% × √4 = 12% below a long's entry.
    let s = vol_stop(100.0, 1.0, 0.02, 3.0, 4.0, None).expect("stop");
    assert!((s.price - 88.0).abs() < 1e-12 && !s.capped);
    let short = vol_stop(100.0, -0.3, 0.02, 3.0, 4.0, None).expect("stop");
    assert!((short.price - 112.0).abs() < 1e-12);
    let capped = vol_stop(100.0, 1.0, 0.02, 3.0, 4.0, Some(0.05)).expect("stop");
    assert!((capped.price - 95.0).abs() < 1e-12 && capped.capped);
    assert!(vol_stop(100.0, 0.0, 0.02, 3.0, 1.0, None).is_err());
    assert!(vol_stop(100.0, 1.0, 0.0, 3.0, 1.0, None).is_err());
}

#[test]
fn a_suggestion_is_a_decimal_notional_and_a_stop() {
    let limits = Limits {
        max_position_weight: 1.0,
        max_gross_leverage: 3.0,
        max_stop_distance: Some(0.05),
    };
    let s = suggest(-0.25, Decimal::from(10_000), 50.0, 0.04, 3.0, 1.0, &limits).expect("size");
    assert_eq!(s.notional, Decimal::from(2_500));
    assert!(s.stop.capped && (s.stop.price - 52.5).abs() < 1e-12);
    let odd = suggest(
        0.123_456_789_123,
        Decimal::from(3),
        1.0,
        0.01,
        3.0,
        1.0,
        &limits,
    )
    .expect("size");
    assert_eq!(
        odd.notional,
        (Decimal::from(3) * Decimal::from_f64(0.123_456_789_123).expect("decimal")).round_dp(8)
    );
    assert!(suggest(0.0, Decimal::ONE, 1.0, 0.01, 3.0, 1.0, &limits).is_err());
    assert!(
        suggest(1.5, Decimal::ONE, 1.0, 0.01, 3.0, 1.0, &limits).is_err(),
        "above the limit"
    );
}
