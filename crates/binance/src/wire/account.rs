//! Account, balances, positions and account settings (USER_DATA / TRADE), plus the listenKey
//! and the spot API-key permission check.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::de as lenient;
use super::enums::{IncomeType, MarginType, PositionMarginType, PositionSide};

/// `GET /fapi/v3/account` (and the older `GET /fapi/v2/account`).
///
/// v3 dropped the account flags and the per-position leverage/entry fields (now in
/// `GET /fapi/v1/accountConfig` and `GET /fapi/v1/symbolConfig`); those are `Option`s here so
/// one type reads both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub total_initial_margin: Decimal,
    pub total_maint_margin: Decimal,
    pub total_wallet_balance: Decimal,
    pub total_unrealized_profit: Decimal,
    pub total_margin_balance: Decimal,
    pub total_position_initial_margin: Decimal,
    pub total_open_order_initial_margin: Decimal,
    pub total_cross_wallet_balance: Decimal,
    pub total_cross_un_pnl: Decimal,
    pub available_balance: Decimal,
    pub max_withdraw_amount: Decimal,
    pub assets: Vec<AccountAsset>,
    pub positions: Vec<AccountPosition>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub fee_tier: Option<u32>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub fee_burn: Option<bool>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub can_trade: Option<bool>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub can_deposit: Option<bool>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub can_withdraw: Option<bool>,
    /// v2 only (reserved; 0).
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_time: Option<i64>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub multi_assets_margin: Option<bool>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub trade_group_id: Option<i64>,
}

/// One asset of [`Account::assets`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountAsset {
    pub asset: String,
    pub wallet_balance: Decimal,
    pub unrealized_profit: Decimal,
    pub margin_balance: Decimal,
    pub maint_margin: Decimal,
    pub initial_margin: Decimal,
    pub position_initial_margin: Decimal,
    pub open_order_initial_margin: Decimal,
    pub cross_wallet_balance: Decimal,
    pub cross_un_pnl: Decimal,
    pub available_balance: Decimal,
    pub max_withdraw_amount: Decimal,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub margin_available: Option<bool>,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// One position of [`Account::positions`]. Fields marked v2 are absent from v3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPosition {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Signed: positive long, negative short (one-way mode).
    pub position_amt: Decimal,
    pub unrealized_profit: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub isolated_margin: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub notional: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub isolated_wallet: Option<Decimal>,
    pub initial_margin: Decimal,
    pub maint_margin: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub position_initial_margin: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub open_order_initial_margin: Option<Decimal>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub leverage: Option<u32>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub isolated: Option<bool>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub entry_price: Option<Decimal>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_notional: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub bid_notional: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ask_notional: Option<Decimal>,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// One asset of `GET /fapi/v3/balance` (and `GET /fapi/v2/balance`, same shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// Unique account code.
    pub account_alias: String,
    pub asset: String,
    /// Wallet balance.
    pub balance: Decimal,
    pub cross_wallet_balance: Decimal,
    /// Unrealised PnL of crossed positions.
    pub cross_un_pnl: Decimal,
    pub available_balance: Decimal,
    pub max_withdraw_amount: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub margin_available: Option<bool>,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// One row of `GET /fapi/v3/positionRisk` (and `GET /fapi/v2/positionRisk`).
///
/// v3 returns only symbols with a position or open orders, and has no `leverage`/`marginType`
/// (read them from `symbolConfig`); v2 has them but lacks the margin breakdown. Fields present in
/// only one version are `Option`s. In hedge mode there is one row per `LONG`/`SHORT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionRisk {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Signed: positive long, negative short (one-way mode).
    pub position_amt: Decimal,
    pub entry_price: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub break_even_price: Option<Decimal>,
    pub mark_price: Decimal,
    pub un_realized_profit: Decimal,
    /// `0` when there is no liquidation price.
    pub liquidation_price: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub isolated_margin: Option<Decimal>,
    pub notional: Decimal,
    /// v3 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_asset: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub isolated_wallet: Option<Decimal>,
    /// v3 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub initial_margin: Option<Decimal>,
    /// v3 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub maint_margin: Option<Decimal>,
    /// v3 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub position_initial_margin: Option<Decimal>,
    /// v3 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub open_order_initial_margin: Option<Decimal>,
    /// v3 only: auto-deleverage quantile (0–4).
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub adl: Option<u32>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub bid_notional: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ask_notional: Option<Decimal>,
    /// v2 only, lowercase (`isolated`/`cross`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_type: Option<PositionMarginType>,
    /// v2 only; the docs send the string `"false"`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_auto_add_margin: Option<bool>,
    /// v2 only; a string on the wire.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub leverage: Option<u32>,
    /// v2 only.
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_notional_value: Option<Decimal>,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// `GET /fapi/v1/positionSide/dual`: `true` = hedge mode, `false` = one-way mode (all symbols;
/// shared by UM and CM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionMode {
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub dual_side_position: bool,
}

/// `GET /fapi/v1/multiAssetsMargin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiAssetsMode {
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub multi_assets_margin: bool,
}

/// `GET /fapi/v1/feeBurn`: whether BNB pays the fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeBurn {
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub fee_burn: bool,
}

/// `POST /fapi/v1/leverage` response. `leverage` is a JSON number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeverageChange {
    #[serde(deserialize_with = "lenient::int")]
    pub leverage: u32,
    /// Max position notional at this leverage.
    pub max_notional_value: Decimal,
    pub symbol: String,
}

/// One symbol of `GET /fapi/v1/leverageBracket`. All numbers are JSON numbers.
///
/// The docs show a single object when `symbol` is sent and an array otherwise; read it as
/// [`super::OneOrMany`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeverageBracket {
    pub symbol: String,
    /// Present only when the user's brackets were adjusted.
    #[serde(
        default,
        with = "lenient::number::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub notional_coef: Option<Decimal>,
    pub brackets: Vec<Bracket>,
}

/// One notional bracket of [`LeverageBracket`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bracket {
    #[serde(deserialize_with = "lenient::int")]
    pub bracket: u32,
    /// Max leverage in this bracket.
    #[serde(deserialize_with = "lenient::int")]
    pub initial_leverage: u32,
    #[serde(with = "lenient::number")]
    pub notional_cap: Decimal,
    #[serde(with = "lenient::number")]
    pub notional_floor: Decimal,
    #[serde(with = "lenient::number")]
    pub maint_margin_ratio: Decimal,
    /// Maintenance amount: `maintMargin = notional × maintMarginRatio − cum`.
    #[serde(with = "lenient::number")]
    pub cum: Decimal,
}

/// One record of `GET /fapi/v1/income`.
///
/// Commission and paid funding are negative, received funding positive, `REALIZED_PNL` signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Income {
    /// Empty for account-level records (transfers).
    pub symbol: String,
    pub income_type: IncomeType,
    pub income: Decimal,
    pub asset: String,
    pub info: String,
    #[serde(deserialize_with = "lenient::int")]
    pub time: i64,
    /// Unique per `incomeType` per user, not globally.
    #[serde(deserialize_with = "lenient::int")]
    pub tran_id: i64,
    /// A string; empty when the record is not trade-related.
    #[serde(default)]
    pub trade_id: String,
}

/// `GET /fapi/v1/commissionRate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommissionRate {
    pub symbol: String,
    pub maker_commission_rate: Decimal,
    pub taker_commission_rate: Decimal,
    #[serde(
        default,
        deserialize_with = "lenient::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub rpi_commission_rate: Option<Decimal>,
}

/// `GET /fapi/v1/accountConfig`: the account flags v3 `account` no longer carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountConfig {
    #[serde(deserialize_with = "lenient::int")]
    pub fee_tier: u32,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub can_trade: bool,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub can_deposit: bool,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub can_withdraw: bool,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub dual_side_position: bool,
    #[serde(default, deserialize_with = "lenient::int")]
    pub update_time: i64,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub multi_assets_margin: bool,
    #[serde(default, deserialize_with = "lenient::int")]
    pub trade_group_id: i64,
}

/// One symbol of `GET /fapi/v1/symbolConfig`: leverage and margin type per symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolConfig {
    pub symbol: String,
    pub margin_type: MarginType,
    /// Boolean live, string `"false"` in some docs.
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub is_auto_add_margin: bool,
    #[serde(deserialize_with = "lenient::int")]
    pub leverage: u32,
    pub max_notional_value: Decimal,
}

/// `POST`/`PUT /fapi/v1/listenKey`: the user-data stream key (valid 60 min, extended by PUT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenKey {
    pub listen_key: String,
}

/// `GET https://api.binance.com/sapi/v1/account/apiRestrictions` (spot host): what the API key
/// may do.
///
/// perpdesk refuses keys with `enableWithdrawals`, requires `enableFutures` and warns without
/// `ipRestrict`, so those fields are required: a payload without them is an error, never a
/// silent `false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiRestrictions {
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub ip_restrict: bool,
    #[serde(deserialize_with = "lenient::int")]
    pub create_time: i64,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub enable_reading: bool,
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub enable_withdrawals: bool,
    /// Keys created before the futures account was opened lack futures permission.
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub enable_futures: bool,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_internal_transfer: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_margin: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub permits_universal_transfer: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_vanilla_options: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_fix_api_trade: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_fix_read_only: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_spot_and_margin_trading: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_portfolio_margin_trading: Option<bool>,
    /// Present only for some keys.
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub trading_authority_expiration_time: Option<i64>,
}

/// `GET /fapi/v1/apiTradingStatus`: quantitative-rule indicators that may lock trading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradingStatus {
    /// By symbol, plus the key `ACCOUNT` for account-wide indicators.
    pub indicators: BTreeMap<String, Vec<TradingIndicator>>,
    #[serde(deserialize_with = "lenient::int")]
    pub update_time: i64,
}

/// One indicator of [`TradingStatus`] (`UFR`, `IFER`, `GCR`, `DR`, `TMV`, …). Values are JSON
/// numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradingIndicator {
    #[serde(deserialize_with = "lenient::bool_lenient")]
    pub is_locked: bool,
    #[serde(
        default,
        deserialize_with = "lenient::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub planned_recover_time: Option<i64>,
    pub indicator: String,
    #[serde(with = "lenient::number")]
    pub value: Decimal,
    #[serde(with = "lenient::number")]
    pub trigger_value: Decimal,
}

/// `GET /fapi/v1/adlQuantile` row: ADL queue position (0–4) per position side
/// (`LONG`, `SHORT`, `BOTH`, `HEDGE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdlQuantile {
    pub symbol: String,
    pub adl_quantile: BTreeMap<String, u8>,
}

/// `GET /fapi/v1/income/asyn`, `/fapi/v1/order/asyn`, `/fapi/v1/trade/asyn`: the id of an
/// asynchronous history export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadId {
    /// Average time taken for data download in the past 30 days.
    #[serde(deserialize_with = "lenient::int")]
    pub avg_cost_timestamp_of_last30d: i64,
    pub download_id: String,
}

/// `GET /fapi/v1/{income,order,trade}/asyn/id`: state and link of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadLink {
    pub download_id: String,
    /// `completed` or `processing`.
    pub status: String,
    /// Empty while processing.
    #[serde(default)]
    pub url: String,
    /// Ignore.
    #[serde(default, deserialize_with = "lenient::bool_lenient")]
    pub notified: bool,
    /// `-1` while processing.
    #[serde(deserialize_with = "lenient::int")]
    pub expiration_timestamp: i64,
    /// The docs' mock sends the string `"null"`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_expired: Option<bool>,
}
