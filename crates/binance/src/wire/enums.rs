//! String enums of the USDⓈ-M contract ("Common Definition" page plus later additions).
//!
//! Binance adds enum values without notice (`RPI`, `EXPIRED_IN_MATCH`, `AMENDMENT`, new income
//! types), so every enum has an `Unknown(String)` variant that keeps the raw value: parsing never
//! fails on a new value, and re-serialising writes it back unchanged.

/// Generates a string enum with an `Unknown(String)` catch-all.
///
/// Parsing tries the exact wire string first, then a case-insensitive match (Binance is not
/// consistent about case, e.g. `isolated` vs `ISOLATED`), and falls back to `Unknown`. Integers
/// are accepted as their decimal text, because some codes (`er`) are documented as strings but
/// are numbers in spirit. Serialising writes the canonical wire string.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know yet, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The string Binance uses for this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(raw) => raw.as_str(),
                }
            }

            /// Parses a wire string; never fails (unknown values become `Unknown`).
            pub fn from_wire(raw: &str) -> Self {
                match raw {
                    $( $wire => return Self::$variant, )+
                    _ => {}
                }
                $(
                    if raw.eq_ignore_ascii_case($wire) {
                        return Self::$variant;
                    }
                )+
                Self::Unknown(raw.to_owned())
            }

            /// True when the value is not one this crate knows.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(raw: &str) -> Self {
                Self::from_wire(raw)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(raw))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct EnumVisitor;
                impl ::serde::de::Visitor<'_> for EnumVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " string"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from_wire(v))
                    }
                    fn visit_i64<E: ::serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        Ok($name::from_wire(&v.to_string()))
                    }
                    fn visit_u64<E: ::serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        Ok($name::from_wire(&v.to_string()))
                    }
                }
                deserializer.deserialize_any(EnumVisitor)
            }
        }
    };
}

wire_enum! {
    /// Order side (`side`, stream `S`).
    pub enum Side {
        Buy => "BUY",
        Sell => "SELL",
    }
}

wire_enum! {
    /// Position side (`positionSide`, stream `ps`). `BOTH` in one-way mode; `LONG`/`SHORT` in
    /// hedge mode.
    pub enum PositionSide {
        Both => "BOTH",
        Long => "LONG",
        Short => "SHORT",
    }
}

wire_enum! {
    /// Order type (`type`, `origType`, algo `orderType`, stream `o`/`ot`).
    ///
    /// Since 2025-12-09 `/fapi/v1/order` accepts only `LIMIT` and `MARKET`; the conditional
    /// types go to `/fapi/v1/algoOrder`. `LIQUIDATION` appears only in stream events.
    pub enum OrderType {
        Limit => "LIMIT",
        Market => "MARKET",
        Stop => "STOP",
        StopMarket => "STOP_MARKET",
        TakeProfit => "TAKE_PROFIT",
        TakeProfitMarket => "TAKE_PROFIT_MARKET",
        TrailingStopMarket => "TRAILING_STOP_MARKET",
        Liquidation => "LIQUIDATION",
    }
}

wire_enum! {
    /// Order status (`status`, stream `X`).
    pub enum OrderStatus {
        New => "NEW",
        PartiallyFilled => "PARTIALLY_FILLED",
        Filled => "FILLED",
        Canceled => "CANCELED",
        Rejected => "REJECTED",
        Expired => "EXPIRED",
        /// Expired by self-trade prevention.
        ExpiredInMatch => "EXPIRED_IN_MATCH",
    }
}

wire_enum! {
    /// Time in force (`timeInForce`, stream `f`).
    pub enum TimeInForce {
        Gtc => "GTC",
        Ioc => "IOC",
        Fok => "FOK",
        /// Post-only.
        Gtx => "GTX",
        /// Good till `goodTillDate`.
        Gtd => "GTD",
        /// Retail price improvement.
        Rpi => "RPI",
    }
}

wire_enum! {
    /// Which price triggers a conditional order (`workingType`, stream `wt`).
    pub enum WorkingType {
        MarkPrice => "MARK_PRICE",
        ContractPrice => "CONTRACT_PRICE",
    }
}

wire_enum! {
    /// `newOrderRespType`. With `RESULT`, MARKET and IOC/FOK/GTX orders answer with their final
    /// state.
    pub enum NewOrderRespType {
        Ack => "ACK",
        Result => "RESULT",
    }
}

wire_enum! {
    /// `selfTradePreventionMode` (stream `V`). Algo orders also have `NONE` (their default).
    pub enum SelfTradePreventionMode {
        None => "NONE",
        ExpireTaker => "EXPIRE_TAKER",
        ExpireMaker => "EXPIRE_MAKER",
        ExpireBoth => "EXPIRE_BOTH",
    }
}

wire_enum! {
    /// `priceMatch` (stream `pm`). Not combinable with `price`.
    pub enum PriceMatch {
        None => "NONE",
        Opponent => "OPPONENT",
        Opponent5 => "OPPONENT_5",
        Opponent10 => "OPPONENT_10",
        Opponent20 => "OPPONENT_20",
        Queue => "QUEUE",
        Queue5 => "QUEUE_5",
        Queue10 => "QUEUE_10",
        Queue20 => "QUEUE_20",
    }
}

wire_enum! {
    /// Execution type of an `ORDER_TRADE_UPDATE` (`x`).
    pub enum ExecutionType {
        New => "NEW",
        Canceled => "CANCELED",
        /// Liquidation execution.
        Calculated => "CALCULATED",
        Expired => "EXPIRED",
        Trade => "TRADE",
        /// The order was modified (`PUT /fapi/v1/order`).
        Amendment => "AMENDMENT",
    }
}

wire_enum! {
    /// Expiry reason of an `ORDER_TRADE_UPDATE` (`er`, since 2025-12).
    pub enum ExpiryReason {
        None => "0",
        SelfTradePrevention => "1",
        IocRemainder => "2",
        IocAndSelfTradePrevention => "3",
        /// Knocked out by a higher-priority reduce-only order, or it would have reversed the
        /// position.
        ReduceOnlyKnockOut => "4",
        AccountLiquidated => "5",
        GteConditionUnsatisfied => "6",
        SymbolDelisted => "7",
        /// The initial order expired after its stop order triggered.
        StopTriggered => "8",
        MarketRemainder => "9",
    }
}

wire_enum! {
    /// Margin type as REST parameters, `symbolConfig` and `MARGIN_CALL.mt` spell it.
    pub enum MarginType {
        Isolated => "ISOLATED",
        Crossed => "CROSSED",
    }
}

wire_enum! {
    /// Margin type as v2 `positionRisk.marginType` and `ACCOUNT_UPDATE` `mt` spell it
    /// (lowercase; crossed is `cross`).
    pub enum PositionMarginType {
        Isolated => "isolated",
        Cross => "cross",
    }
}

wire_enum! {
    /// `incomeType` of `GET /fapi/v1/income`.
    pub enum IncomeType {
        Transfer => "TRANSFER",
        WelcomeBonus => "WELCOME_BONUS",
        RealizedPnl => "REALIZED_PNL",
        FundingFee => "FUNDING_FEE",
        Commission => "COMMISSION",
        InsuranceClear => "INSURANCE_CLEAR",
        ReferralKickback => "REFERRAL_KICKBACK",
        CommissionRebate => "COMMISSION_REBATE",
        ApiRebate => "API_REBATE",
        ContestReward => "CONTEST_REWARD",
        CrossCollateralTransfer => "CROSS_COLLATERAL_TRANSFER",
        OptionsPremiumFee => "OPTIONS_PREMIUM_FEE",
        OptionsSettleProfit => "OPTIONS_SETTLE_PROFIT",
        InternalTransfer => "INTERNAL_TRANSFER",
        AutoExchange => "AUTO_EXCHANGE",
        /// Binance's spelling.
        DeliveredSettlement => "DELIVERED_SETTELMENT",
        CoinSwapDeposit => "COIN_SWAP_DEPOSIT",
        CoinSwapWithdraw => "COIN_SWAP_WITHDRAW",
        PositionLimitIncreaseFee => "POSITION_LIMIT_INCREASE_FEE",
        StrategyUmfuturesTransfer => "STRATEGY_UMFUTURES_TRANSFER",
        FeeReturn => "FEE_RETURN",
        BfusdReward => "BFUSD_REWARD",
    }
}

wire_enum! {
    /// `algoType` of `/fapi/v1/algoOrder`; only `CONDITIONAL` exists.
    pub enum AlgoType {
        Conditional => "CONDITIONAL",
    }
}

wire_enum! {
    /// `algoStatus` (stream `ALGO_UPDATE.X`): NEW → TRIGGERING → TRIGGERED → FINISHED, or
    /// CANCELED / REJECTED / EXPIRED.
    pub enum AlgoStatus {
        New => "NEW",
        Canceled => "CANCELED",
        Triggering => "TRIGGERING",
        Triggered => "TRIGGERED",
        Finished => "FINISHED",
        Rejected => "REJECTED",
        Expired => "EXPIRED",
    }
}

wire_enum! {
    /// Reason of an `ACCOUNT_UPDATE` (`a.m`).
    pub enum AccountUpdateReason {
        Deposit => "DEPOSIT",
        Withdraw => "WITHDRAW",
        Order => "ORDER",
        FundingFee => "FUNDING_FEE",
        WithdrawReject => "WITHDRAW_REJECT",
        Adjustment => "ADJUSTMENT",
        InsuranceClear => "INSURANCE_CLEAR",
        AdminDeposit => "ADMIN_DEPOSIT",
        AdminWithdraw => "ADMIN_WITHDRAW",
        MarginTransfer => "MARGIN_TRANSFER",
        MarginTypeChange => "MARGIN_TYPE_CHANGE",
        AssetTransfer => "ASSET_TRANSFER",
        OptionsPremiumFee => "OPTIONS_PREMIUM_FEE",
        OptionsSettleProfit => "OPTIONS_SETTLE_PROFIT",
        AutoExchange => "AUTO_EXCHANGE",
        CoinSwapDeposit => "COIN_SWAP_DEPOSIT",
        CoinSwapWithdraw => "COIN_SWAP_WITHDRAW",
    }
}

wire_enum! {
    /// `contractType` of an `exchangeInfo` symbol.
    pub enum ContractType {
        Perpetual => "PERPETUAL",
        CurrentMonth => "CURRENT_MONTH",
        NextMonth => "NEXT_MONTH",
        CurrentQuarter => "CURRENT_QUARTER",
        NextQuarter => "NEXT_QUARTER",
        PerpetualDelivering => "PERPETUAL_DELIVERING",
        TradifiPerpetual => "TRADIFI_PERPETUAL",
    }
}

wire_enum! {
    /// `status` of an `exchangeInfo` symbol.
    pub enum SymbolStatus {
        PendingTrading => "PENDING_TRADING",
        Trading => "TRADING",
        PreDelivering => "PRE_DELIVERING",
        Delivering => "DELIVERING",
        Delivered => "DELIVERED",
        PreSettle => "PRE_SETTLE",
        Settling => "SETTLING",
        Close => "CLOSE",
    }
}

wire_enum! {
    /// `rateLimitType` of `exchangeInfo.rateLimits` and `/fapi/v1/rateLimit/order`.
    pub enum RateLimitType {
        RequestWeight => "REQUEST_WEIGHT",
        Orders => "ORDERS",
    }
}

wire_enum! {
    /// `interval` of a rate limit.
    pub enum RateLimitInterval {
        Second => "SECOND",
        Minute => "MINUTE",
        Day => "DAY",
    }
}

wire_enum! {
    /// Kline interval (`interval` parameter, stream `k.i`).
    pub enum KlineInterval {
        M1 => "1m",
        M3 => "3m",
        M5 => "5m",
        M15 => "15m",
        M30 => "30m",
        H1 => "1h",
        H2 => "2h",
        H4 => "4h",
        H6 => "6h",
        H8 => "8h",
        H12 => "12h",
        D1 => "1d",
        D3 => "3d",
        W1 => "1w",
        Mo1 => "1M",
    }
}

impl MarginType {
    /// The same setting in the lowercase spelling of v2 `positionRisk` and `ACCOUNT_UPDATE`.
    pub fn to_position_spelling(&self) -> PositionMarginType {
        match self {
            Self::Isolated => PositionMarginType::Isolated,
            Self::Crossed => PositionMarginType::Cross,
            Self::Unknown(raw) => PositionMarginType::from_wire(raw),
        }
    }
}

impl PositionMarginType {
    /// The same setting in the uppercase spelling of the REST parameter and `symbolConfig`.
    ///
    /// `crossed` (a spelling the docs leave open for `ACCOUNT_UPDATE.mt`) maps to `CROSSED`.
    pub fn to_rest_spelling(&self) -> MarginType {
        match self {
            Self::Isolated => MarginType::Isolated,
            Self::Cross => MarginType::Crossed,
            Self::Unknown(raw) => MarginType::from_wire(raw),
        }
    }
}
