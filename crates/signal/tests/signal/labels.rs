//! Labels with a fee-aware dead zone.

use perpdesk_signal::{Direction, LabelSpec, forward_labels};

#[test]
fn dead_zone_is_the_round_trip_cost() {
    let spec = LabelSpec::fee_aware(2, 0.0005, 0.0001).unwrap();
    assert!((spec.dead_zone - 0.0012).abs() < 1e-15);
    let close = [100.0, 100.0, 100.1, 100.0, 99.8, 100.5];
    let l = forward_labels(&close, spec).unwrap();
    // t=0: 100.1/100 - 1 = 0.001 is inside the 0.0012 dead zone; t=2: 99.8/100.1 - 1 = -0.003.
    assert_eq!(
        l,
        vec![
            Some(Direction::Flat),
            Some(Direction::Flat),
            Some(Direction::Down),
            Some(Direction::Up),
            None,
            None
        ]
    );
}

#[test]
fn bad_label_input_is_an_error() {
    assert!(LabelSpec::fee_aware(0, 0.0005, 0.0).is_err());
    assert!(LabelSpec::fee_aware(1, -0.1, 0.0).is_err());
    let spec = LabelSpec::fee_aware(1, 0.0005, 0.0).unwrap();
    assert!(forward_labels(&[1.0, f64::NAN], spec).is_err());
    assert!(forward_labels(&[1.0, 0.0], spec).is_err());
    assert!(forward_labels(&[], spec).unwrap().is_empty());
}
