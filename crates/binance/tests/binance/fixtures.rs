//! Every example of the golden fixture files parses into its wire type and re-serialises to the
//! same JSON (modulo the normalisations documented on [`crate::support::normalize`]).
//!
//! Each example is mapped to a type by a table; an example the table does not know fails the
//! test, so a new fixture forces a decision.

use perpdesk_binance::wire::account::{
    Account, AccountConfig, AdlQuantile, ApiRestrictions, Balance, CommissionRate, DownloadId,
    DownloadLink, FeeBurn, Income, LeverageBracket, LeverageChange, ListenKey, MultiAssetsMode,
    PositionMode, PositionRisk, SymbolConfig, TradingStatus,
};
use perpdesk_binance::wire::algo::{AlgoCancel, AlgoOrder};
use perpdesk_binance::wire::market::{
    AggTrade, AssetIndex, BasisStat, BookTicker, CompositeIndex, DeliveryPrice, ExchangeInfo,
    FundingInfo, FundingRate, IndexConstituents, InsuranceBalance, Kline, LongShortRatio,
    OpenInterest, OpenInterestStat, OrderBook, PremiumIndex, PublicTrade, RateLimit, ServerTime,
    SymbolAdlRisk, TakerBuySellVolume, Ticker24hr, TickerPrice,
};
use perpdesk_binance::wire::stream::{MarketEvent, UserDataEvent};
use perpdesk_binance::wire::trade::{
    BatchOrderResult, CountdownCancelAll, Order, OrderAmendment, PositionMarginChange,
    PositionMarginResult, UserTrade,
};
use perpdesk_binance::wire::{ApiErrorPayload, CodeMsg, Empty, OneOrMany};
use serde_json::Value;

use crate::support::{Parser, check_round_trip, fixture, round_trip};

/// What the test expects of one example.
enum Expect {
    /// Parses into the type and round-trips faithfully.
    RoundTrip(Parser),
    /// Like `RoundTrip`, but these `Unknown(…)` debug snippets are legitimate.
    RoundTripAllowingUnknown(Parser, &'static [&'static str]),
    /// A known-lossy example (listed in the fixture's `known_lossy`): it must parse and
    /// round-trip except at the listed paths, which are excused for the given reason.
    Lossy(Parser, &'static [&'static str], &'static str),
    /// A known-lossy example that is not a valid payload of the type; it must be rejected.
    MustFail(Parser, &'static str),
    /// Not modelled, for the given reason.
    OutOfScope(&'static str),
}

const TRUNCATED_KLINE: &str = "known_lossy: the connector's mock truncates each kline row to [openTime]; a real row has 12 elements";
const MERGED_BATCH: &str = "known_lossy: the connector's mock merges an order and a {code,msg} error into one \
     object; real batch arrays hold them as separate elements (CONTRACT.md 4.3), so the merged `code`/`msg` \
     are dropped when it is read as an order";

/// `binance-connector-rust.usds-futures.rest-examples.json`, by `operation`.
fn rest_expectation(operation: &str) -> Option<Expect> {
    use Expect::*;
    Some(match operation {
        // Market data.
        "check_server_time" => RoundTrip(round_trip::<ServerTime>),
        "exchange_information" => Lossy(
            round_trip::<ExchangeInfo>,
            &["$.symbols[0].filters[0]."],
            "known_lossy: all filter fields are merged into one PRICE_FILTER object and exchangeFilters is \
             [\"\"]; the extra fields of the merged filter are dropped (the docs example round-trips)",
        ),
        "order_book" | "rpi_order_book" => RoundTrip(round_trip::<OrderBook>),
        "kline_candlestick_data"
        | "continuous_contract_kline_candlestick_data"
        | "index_price_kline_candlestick_data"
        | "mark_price_kline_candlestick_data"
        | "premium_index_kline_data" => MustFail(round_trip::<Vec<Kline>>, TRUNCATED_KLINE),
        "symbol_price_ticker" | "symbol_price_ticker_v2" => {
            RoundTrip(round_trip::<OneOrMany<TickerPrice>>)
        }
        "ticker24hr_price_change_statistics" => RoundTrip(round_trip::<OneOrMany<Ticker24hr>>),
        "symbol_order_book_ticker" => RoundTrip(round_trip::<OneOrMany<BookTicker>>),
        "mark_price" => RoundTrip(round_trip::<OneOrMany<PremiumIndex>>),
        "get_funding_rate_history" => RoundTrip(round_trip::<Vec<FundingRate>>),
        "get_funding_rate_info" => RoundTrip(round_trip::<Vec<FundingInfo>>),
        "open_interest" => RoundTrip(round_trip::<OpenInterest>),
        "recent_trades_list" | "old_trades_lookup" => RoundTrip(round_trip::<Vec<PublicTrade>>),
        "compressed_aggregate_trades_list" => RoundTrip(round_trip::<Vec<AggTrade>>),
        "query_user_rate_limit" => RoundTrip(round_trip::<Vec<RateLimit>>),

        // Account and settings.
        "account_information_v2" | "account_information_v3" => RoundTrip(round_trip::<Account>),
        "futures_account_balance_v2" | "futures_account_balance_v3" => {
            RoundTrip(round_trip::<Vec<Balance>>)
        }
        "position_information_v2" | "position_information_v3" => {
            RoundTrip(round_trip::<Vec<PositionRisk>>)
        }
        "futures_account_configuration" => RoundTrip(round_trip::<AccountConfig>),
        "symbol_configuration" => RoundTrip(round_trip::<Vec<SymbolConfig>>),
        "get_current_position_mode" => RoundTrip(round_trip::<PositionMode>),
        "get_current_multi_assets_mode" => RoundTrip(round_trip::<MultiAssetsMode>),
        "get_bnb_burn_status" => RoundTrip(round_trip::<FeeBurn>),
        "change_initial_leverage" => RoundTrip(round_trip::<LeverageChange>),
        // The mock's `brackets: []` is listed as lossy but is still a valid (empty) payload.
        "notional_and_leverage_brackets" => RoundTrip(round_trip::<OneOrMany<LeverageBracket>>),
        "get_income_history" => RoundTrip(round_trip::<Vec<Income>>),
        "user_commission_rate" => RoundTrip(round_trip::<CommissionRate>),
        "start_user_data_stream" | "keepalive_user_data_stream" => {
            RoundTrip(round_trip::<ListenKey>)
        }
        "change_margin_type"
        | "change_position_mode"
        | "change_multi_assets_mode"
        | "toggle_bnb_burn_on_futures_trade"
        | "futures_tradfi_perps_contract"
        | "cancel_all_open_orders"
        | "cancel_all_algo_open_orders" => RoundTrip(round_trip::<CodeMsg>),

        // Regular orders.
        "new_order"
        | "test_order"
        | "query_order"
        | "cancel_order"
        | "modify_order"
        | "query_current_open_order" => RoundTrip(round_trip::<Order>),
        "current_all_open_orders" | "all_orders" | "users_force_orders" => {
            RoundTrip(round_trip::<Vec<Order>>)
        }
        "place_multiple_orders" | "modify_multiple_orders" | "cancel_multiple_orders" => Lossy(
            round_trip::<Vec<BatchOrderResult>>,
            &["$[0].code:", "$[0].msg:"],
            MERGED_BATCH,
        ),
        "account_trade_list" => RoundTrip(round_trip::<Vec<UserTrade>>),
        "auto_cancel_all_open_orders" => RoundTrip(round_trip::<CountdownCancelAll>),
        "modify_isolated_position_margin" => RoundTrip(round_trip::<PositionMarginResult>),
        "get_position_margin_change_history" => RoundTrip(round_trip::<Vec<PositionMarginChange>>),

        // Algo orders.
        "new_algo_order" | "query_algo_order" => RoundTrip(round_trip::<AlgoOrder>),
        "current_all_algo_open_orders" | "query_all_algo_orders" => {
            RoundTrip(round_trip::<Vec<AlgoOrder>>)
        }
        "cancel_algo_order" => RoundTrip(round_trip::<AlgoCancel>),

        // Typed although perpdesk does not call them.
        "asset_index" => RoundTrip(round_trip::<AssetIndex>),
        "query_index_price_constituents" => RoundTrip(round_trip::<IndexConstituents>),
        "composite_index_symbol_information" => RoundTrip(round_trip::<Vec<CompositeIndex>>),
        "query_insurance_fund_balance_snapshot" => RoundTrip(round_trip::<InsuranceBalance>),
        "adl_risk" => RoundTrip(round_trip::<SymbolAdlRisk>),
        "position_adl_quantile_estimation" => RoundTrip(round_trip::<Vec<AdlQuantile>>),
        "futures_trading_quantitative_rules_indicators" => RoundTrip(round_trip::<TradingStatus>),
        "get_download_id_for_futures_transaction_history"
        | "get_download_id_for_futures_order_history"
        | "get_download_id_for_futures_trade_history" => RoundTrip(round_trip::<DownloadId>),
        "get_futures_transaction_history_download_link_by_id"
        | "get_futures_order_history_download_link_by_id"
        | "get_futures_trade_download_link_by_id" => RoundTrip(round_trip::<DownloadLink>),
        "get_order_modify_history" => RoundTrip(round_trip::<Vec<OrderAmendment>>),
        "basis" => RoundTrip(round_trip::<Vec<BasisStat>>),
        "long_short_ratio"
        | "top_trader_long_short_ratio_accounts"
        | "top_trader_long_short_ratio_positions" => RoundTrip(round_trip::<Vec<LongShortRatio>>),
        "open_interest_statistics" => RoundTrip(round_trip::<Vec<OpenInterestStat>>),
        "quarterly_contract_settlement_price" => RoundTrip(round_trip::<Vec<DeliveryPrice>>),
        "taker_buy_sell_volume" => RoundTrip(round_trip::<Vec<TakerBuySellVolume>>),

        // Not modelled.
        "trading_schedule" => OutOfScope(
            "GET /fapi/v1/tradingSchedule (TradFi sessions): not used by perpdesk, and the mock's \
             `marketSchedules: {}` does not show the schedule's shape",
        ),
        _ => return None,
    })
}

/// `binance-docs.usds-futures.examples.json`, by `name`.
fn docs_expectation(name: &str) -> Option<Expect> {
    use Expect::*;
    Some(match name {
        "ORDER_TRADE_UPDATE" | "ACCOUNT_UPDATE" | "MARGIN_CALL" | "listenKeyExpired" => {
            RoundTrip(round_trip::<UserDataEvent>)
        }
        // `act: "0"` (no matching-engine order yet) is not an order type; it stays Unknown("0").
        "ALGO_UPDATE" => RoundTripAllowingUnknown(round_trip::<UserDataEvent>, &["Unknown(\"0\")"]),
        "kline stream <symbol>@kline_<interval>" | "markPrice stream <symbol>@markPrice[@1s]" => {
            RoundTrip(round_trip::<MarketEvent>)
        }
        "POST /fapi/v1/order (New Order)" => RoundTrip(round_trip::<Order>),
        "POST /fapi/v1/algoOrder (New Algo Order)" => RoundTrip(round_trip::<AlgoOrder>),
        "GET /fapi/v1/leverageBracket (no symbol -> array)" => {
            RoundTrip(round_trip::<OneOrMany<LeverageBracket>>)
        }
        "GET /fapi/v1/income" => RoundTrip(round_trip::<Vec<Income>>),
        "GET /fapi/v1/exchangeInfo" => RoundTrip(round_trip::<ExchangeInfo>),
        "GET /fapi/v1/klines" => RoundTrip(round_trip::<Vec<Kline>>),
        "GET /fapi/v1/premiumIndex (symbol sent)" => {
            RoundTrip(round_trip::<OneOrMany<PremiumIndex>>)
        }
        "GET /fapi/v1/depth" => RoundTrip(round_trip::<OrderBook>),
        "GET /fapi/v1/ticker/price and /fapi/v2/ticker/price" => {
            RoundTrip(round_trip::<OneOrMany<TickerPrice>>)
        }
        "GET /fapi/v1/time" => RoundTrip(round_trip::<ServerTime>),
        "GET /fapi/v1/ping" => RoundTrip(round_trip::<Empty>),
        "error payload" => RoundTrip(round_trip::<ApiErrorPayload>),
        "GET /sapi/v1/account/apiRestrictions (api.binance.com)" => {
            RoundTrip(round_trip::<ApiRestrictions>)
        }
        _ => return None,
    })
}

/// Runs the expectations over `(label, payload)` pairs; returns one line per failure and a
/// count of examples that were actually parsed.
fn run(examples: Vec<(String, Value)>, table: fn(&str) -> Option<Expect>) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut parsed = 0;
    for (label, payload) in examples {
        let Some(expect) = table(&label) else {
            failures.push(format!("{label}: not in the fixture table"));
            continue;
        };
        let problems = match expect {
            Expect::RoundTrip(parser) => check_round_trip(parser, &payload, &[]),
            Expect::RoundTripAllowingUnknown(parser, allowed) => {
                check_round_trip(parser, &payload, allowed)
            }
            Expect::Lossy(parser, excused, _reason) => check_round_trip(parser, &payload, &[])
                .into_iter()
                .filter(|problem| !excused.iter().any(|path| problem.starts_with(path)))
                .collect(),
            Expect::MustFail(parser, reason) => match parser(&payload) {
                Ok(_) => vec![format!("parsed although it should not ({reason})")],
                Err(_) => Vec::new(),
            },
            Expect::OutOfScope(_reason) => continue,
        };
        parsed += 1;
        failures.extend(problems.into_iter().map(|p| format!("{label}: {p}")));
    }
    (failures, parsed)
}

fn examples_of(file: &Value, key: &str) -> Vec<(String, Value)> {
    file["examples"]
        .as_array()
        .expect("fixture has an `examples` array")
        .iter()
        .map(|e| {
            let label = e[key].as_str().expect("example has a label").to_owned();
            let payload = e
                .get("response")
                .or_else(|| e.get("payload"))
                .cloned()
                .expect("example has a payload");
            (label, payload)
        })
        .collect()
}

#[test]
fn every_rest_example_parses_and_round_trips() {
    let file = fixture("binance-connector-rust.usds-futures.rest-examples.json");
    let examples = examples_of(&file, "operation");
    assert_eq!(examples.len(), 88, "the fixture changed; review the table");
    let (failures, parsed) = run(examples, rest_expectation);
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 88 examples minus `trading_schedule`.
    assert_eq!(parsed, 87);
}

#[test]
fn every_docs_example_parses_and_round_trips() {
    let file = fixture("binance-docs.usds-futures.examples.json");
    let examples = examples_of(&file, "name");
    assert_eq!(examples.len(), 20, "the fixture changed; review the table");
    let (failures, parsed) = run(examples, docs_expectation);
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(parsed, 20);
}

/// The fixture's own `known_lossy` keys are all accounted for by the table (excused with a
/// reason, or shown to be harmless).
#[test]
fn known_lossy_entries_are_handled() {
    let file = fixture("binance-connector-rust.usds-futures.rest-examples.json");
    let lossy = file["known_lossy"]
        .as_object()
        .expect("known_lossy is an object");
    for key in lossy.keys() {
        for op in key.split('/') {
            if op == "..." || op == "long_short_ratio" || op == "basis" {
                continue;
            }
            assert!(
                rest_expectation(op).is_some(),
                "known_lossy entry {op} is not in the table"
            );
        }
    }
}
