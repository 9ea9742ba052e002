//! String enums: known values, unknown values, case drift.

use perpdesk_binance::wire::{
    ExecutionType, ExpiryReason, IncomeType, KlineInterval, OrderStatus, OrderType,
    PositionMarginType, Side, TimeInForce,
};

#[test]
fn known_values_round_trip_to_their_wire_string() {
    for (raw, status) in [
        ("\"NEW\"", OrderStatus::New),
        ("\"EXPIRED_IN_MATCH\"", OrderStatus::ExpiredInMatch),
        ("\"PARTIALLY_FILLED\"", OrderStatus::PartiallyFilled),
    ] {
        let parsed: OrderStatus = serde_json::from_str(raw).unwrap();
        assert_eq!(parsed, status);
        assert_eq!(serde_json::to_string(&parsed).unwrap(), raw);
    }
    let tif: Vec<TimeInForce> = serde_json::from_str(r#"["GTD","RPI","GTX"]"#).unwrap();
    assert_eq!(tif, [TimeInForce::Gtd, TimeInForce::Rpi, TimeInForce::Gtx]);
    let x: Vec<ExecutionType> =
        serde_json::from_str(r#"["AMENDMENT","CALCULATED","EXPIRED"]"#).unwrap();
    assert_eq!(
        x,
        [
            ExecutionType::Amendment,
            ExecutionType::Calculated,
            ExecutionType::Expired
        ]
    );
}

#[test]
fn an_unknown_value_is_kept_verbatim_and_written_back() {
    let parsed: OrderType = serde_json::from_str("\"ICEBERG_SOMEDAY\"").unwrap();
    assert_eq!(parsed, OrderType::Unknown("ICEBERG_SOMEDAY".to_owned()));
    assert!(parsed.is_unknown());
    assert_eq!(
        serde_json::to_string(&parsed).unwrap(),
        "\"ICEBERG_SOMEDAY\""
    );

    let income: IncomeType = serde_json::from_str("\"NEW_INCOME_KIND\"").unwrap();
    assert_eq!(income.as_str(), "NEW_INCOME_KIND");
}

#[test]
fn case_drift_maps_to_the_known_value() {
    let side: Side = serde_json::from_str("\"buy\"").unwrap();
    assert_eq!(side, Side::Buy);
    let mt: PositionMarginType = serde_json::from_str("\"ISOLATED\"").unwrap();
    assert_eq!(mt, PositionMarginType::Isolated);
}

#[test]
fn exact_case_wins_when_values_differ_only_by_case() {
    // `1m` is one minute and `1M` one month.
    let minute: KlineInterval = serde_json::from_str("\"1m\"").unwrap();
    let month: KlineInterval = serde_json::from_str("\"1M\"").unwrap();
    assert_eq!(minute, KlineInterval::M1);
    assert_eq!(month, KlineInterval::Mo1);
}

#[test]
fn numeric_codes_are_accepted_as_numbers_or_strings() {
    let from_string: ExpiryReason = serde_json::from_str("\"4\"").unwrap();
    let from_number: ExpiryReason = serde_json::from_str("4").unwrap();
    assert_eq!(from_string, ExpiryReason::ReduceOnlyKnockOut);
    assert_eq!(from_number, ExpiryReason::ReduceOnlyKnockOut);
}

#[test]
fn a_non_string_value_is_an_error_not_a_panic() {
    assert!(serde_json::from_str::<Side>("true").is_err());
    assert!(serde_json::from_str::<Side>("{}").is_err());
}

#[test]
fn the_two_margin_type_spellings_convert_into_each_other() {
    use perpdesk_binance::wire::MarginType;
    assert_eq!(
        PositionMarginType::Cross.to_rest_spelling(),
        MarginType::Crossed
    );
    assert_eq!(
        MarginType::Isolated.to_position_spelling(),
        PositionMarginType::Isolated
    );
    // The event spelling the docs leave open: `crossed` in lowercase still means CROSSED.
    let crossed: PositionMarginType = serde_json::from_str("\"crossed\"").unwrap();
    assert_eq!(crossed.to_rest_spelling(), MarginType::Crossed);
}
