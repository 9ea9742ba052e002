//! The exchange's state and matching: accounts, orders, fills, positions, income.
//!
//! One-way or hedge position mode (`dualSidePosition`: positions kept per symbol and
//! `LONG`/`SHORT`, SELL LONG and BUY SHORT close), cross or isolated margin, MARKET and LIMIT
//! orders (GTC, IOC, FOK, GTX), reduce-only, client-id uniqueness, modification of resting
//! LIMIT orders (`PUT /fapi/v1/order`, with an amendment history), batch place, modify and
//! cancel with per-item results, conditional orders through the algo service (STOP_MARKET,
//! TAKE_PROFIT_MARKET; STOP and TAKE_PROFIT, which become LIMIT orders when they trigger;
//! TRAILING_STOP_MARKET, which follows the best price along the replayed path), funding,
//! liquidation, and MARGIN_CALL once per crossing of [`MARGIN_CALL_RATIO`]. History queries
//! (`userTrades`, `allOrders`) follow Binance's 7-day window and `fromId`/`orderId` paging.
//! Every state change happens under one lock, after every check has passed, so a refused
//! request changes nothing. The state (everything but the market data) saves to and loads
//! from a JSON [`Snapshot`], written atomically.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::market::{MarketData, SymbolSpec};

/// A status or type name from a fixed set (read back from a saved state by `known_str`).
pub type Code = &'static str;

/// Taker and maker commission rates (Binance's regular-user defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fees {
    /// Taker rate, 0.05%.
    pub taker: Decimal,
    /// Maker rate, 0.02%.
    pub maker: Decimal,
}

impl Default for Fees {
    fn default() -> Self {
        Self {
            taker: Decimal::new(5, 4),
            maker: Decimal::new(2, 4),
        }
    }
}

/// Where a taker fill lands against the replayed price: the replay has one price per instant
/// where a real market order walks the book. A fraction of the price against the taker,
/// `base` plus `per_million` for every 1,000,000 of quote notional (a size impact), rounded
/// to the tick against the taker. Zero by default: fills at the replayed price exactly.
/// Limit orders never fill worse than their limit; liquidations are not slipped (Binance
/// closes them at the bankruptcy side through its insurance engine).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slippage {
    /// Fraction of the price on every taker fill, e.g. 0.0001 for 1 basis point.
    pub base: Decimal,
    /// Extra fraction per 1,000,000 of quote notional.
    pub per_million: Decimal,
}

impl Slippage {
    /// The taker's fill price for `qty` at the replayed `price`.
    pub fn fill_price(&self, side: Side, price: Decimal, qty: Decimal, tick: Decimal) -> Decimal {
        let fraction = self.base + self.per_million * (price * qty / Decimal::from(1_000_000));
        if fraction <= Decimal::ZERO || tick <= Decimal::ZERO {
            return price;
        }
        let ticks = |p: Decimal| p / tick;
        match side {
            Side::Buy => ticks(price * (Decimal::ONE + fraction)).ceil() * tick,
            Side::Sell => (ticks(price * (Decimal::ONE - fraction)).floor() * tick).max(tick),
        }
    }
}

/// What a key may do; `GET /sapi/v1/account/apiRestrictions` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// Reading account data.
    pub reading: bool,
    /// Futures trading.
    pub futures: bool,
    /// Withdrawals (perpdesk refuses such keys; the sim can make them to test that).
    pub withdrawals: bool,
    /// Restricted to listed IPs.
    pub ip_restrict: bool,
}

impl Default for Permissions {
    fn default() -> Self {
        Self {
            reading: true,
            futures: true,
            withdrawals: false,
            ip_restrict: true,
        }
    }
}

/// An order resting on the book or finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimOrder {
    pub order_id: i64,
    pub client_order_id: String,
    pub symbol: String,
    pub side: Side,
    /// `BOTH` in one-way mode, `LONG`/`SHORT` in hedge mode.
    #[serde(default)]
    pub position_side: PositionSide,
    pub order_type: String,
    pub time_in_force: String,
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    pub cum_quote: Decimal,
    pub reduce_only: bool,
    #[serde(deserialize_with = "known_str")]
    pub status: Code,
    pub time: i64,
    pub update_time: i64,
}

/// A conditional order held by the algo service until its trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgoOrder {
    pub algo_id: i64,
    pub client_algo_id: String,
    pub symbol: String,
    pub side: Side,
    /// `BOTH` in one-way mode, `LONG`/`SHORT` in hedge mode.
    #[serde(default)]
    pub position_side: PositionSide,
    pub order_type: String,
    pub quantity: Decimal,
    pub trigger_price: Decimal,
    pub working_type: String,
    pub close_position: bool,
    pub reduce_only: bool,
    pub price_protect: bool,
    #[serde(deserialize_with = "known_str")]
    pub status: Code,
    pub create_time: i64,
    pub update_time: i64,
    pub trigger_time: i64,
    pub actual_order_id: Option<i64>,
    /// The limit price of STOP and TAKE_PROFIT (zero for the market kinds).
    #[serde(default)]
    pub price: Decimal,
    /// The time in force of the LIMIT order a STOP or TAKE_PROFIT becomes.
    #[serde(default = "gtc")]
    pub time_in_force: String,
    /// TRAILING_STOP_MARKET: the price at which the trail starts (none: at once).
    #[serde(default)]
    pub activate_price: Option<Decimal>,
    /// TRAILING_STOP_MARKET: how far back from the best price it triggers, in percent.
    #[serde(default)]
    pub callback_rate: Option<Decimal>,
    /// TRAILING_STOP_MARKET: the best price (by `working_type`) since it was placed: the
    /// highest for a SELL, the lowest for a BUY.
    #[serde(default)]
    pub extreme: Option<Decimal>,
}

fn gtc() -> String {
    "GTC".to_owned()
}

/// One modification of an order (`PUT /fapi/v1/order`), as `GET /fapi/v1/orderAmendment`
/// lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amendment {
    pub amendment_id: i64,
    pub order_id: i64,
    pub client_order_id: String,
    pub symbol: String,
    pub time: i64,
    pub price_before: Decimal,
    pub price_after: Decimal,
    pub qty_before: Decimal,
    pub qty_after: Decimal,
    /// The how-manieth modification of this order (1 for the first).
    pub count: u32,
    /// The caller's own `modifyId`, echoed back (0 when none was sent).
    pub modify_id: i64,
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// Parses Binance's `BUY`/`SELL`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BUY" => Some(Self::Buy),
            "SELL" => Some(Self::Sell),
            _ => None,
        }
    }
    fn sign(self) -> Decimal {
        match self {
            Self::Buy => Decimal::ONE,
            Self::Sell => Decimal::NEGATIVE_ONE,
        }
    }
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// Binance's `positionSide`: `BOTH` (one-way mode) or `LONG`/`SHORT` (hedge mode).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum PositionSide {
    #[default]
    Both,
    Long,
    Short,
}

impl PositionSide {
    /// Parses Binance's `BOTH`/`LONG`/`SHORT`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BOTH" => Some(Self::Both),
            "LONG" => Some(Self::Long),
            "SHORT" => Some(Self::Short),
            _ => None,
        }
    }

    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "BOTH",
            Self::Long => "LONG",
            Self::Short => "SHORT",
        }
    }

    /// Whether `side` on this position side closes it in hedge mode (SELL LONG, BUY SHORT).
    pub fn closed_by(self, side: Side) -> bool {
        matches!(
            (self, side),
            (Self::Long, Side::Sell) | (Self::Short, Side::Buy)
        )
    }
}

/// A position's key: symbol and position side (`BOTH` in one-way mode).
pub type PositionKey = (String, PositionSide);

/// One position (signed amount: a `SHORT` position's amount is negative, as Binance shows it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub amount: Decimal,
    pub entry_price: Decimal,
    pub update_time: i64,
}

/// Per-symbol account settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolSettings {
    pub leverage: u32,
    pub isolated: bool,
}

impl Default for SymbolSettings {
    fn default() -> Self {
        Self {
            leverage: 20,
            isolated: false,
        }
    }
}

/// A fill, as `userTrades` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub id: i64,
    pub order_id: i64,
    pub symbol: String,
    pub side: Side,
    #[serde(default)]
    pub position_side: PositionSide,
    pub price: Decimal,
    pub qty: Decimal,
    pub realized_pnl: Decimal,
    pub commission: Decimal,
    pub maker: bool,
    pub time: i64,
}

/// One row of `GET /fapi/v1/income`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomeRow {
    pub tran_id: i64,
    pub symbol: String,
    #[serde(deserialize_with = "known_str")]
    pub income_type: Code,
    pub income: Decimal,
    pub info: String,
    pub time: i64,
    pub trade_id: Option<i64>,
}

/// One account: a key pair, a USDT wallet and everything traded with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub api_key: String,
    pub secret: String,
    pub permissions: Permissions,
    pub wallet: Decimal,
    /// Hedge mode (`dualSidePosition`): positions are kept per (symbol, LONG/SHORT).
    pub dual_side: bool,
    /// Positions by (symbol, position side), serialized as a list (JSON keys are strings).
    #[serde(with = "position_list")]
    pub positions: BTreeMap<PositionKey, Position>,
    pub settings: BTreeMap<String, SymbolSettings>,
    pub orders: Vec<SimOrder>,
    /// Indices into `orders` of the open ones (NEW or PARTIALLY_FILLED), so margin checks and
    /// matching do not scan an account's whole history.
    pub open: Vec<usize>,
    pub algo_orders: Vec<AlgoOrder>,
    pub trades: Vec<Trade>,
    pub income: Vec<IncomeRow>,
    /// Order modifications, oldest first.
    #[serde(default)]
    pub amendments: Vec<Amendment>,
    /// Whether a MARGIN_CALL for the cross positions was sent and their margin ratio has not
    /// fallen back below the level since: one event per crossing, not one per step.
    #[serde(skip)]
    pub margin_called_cross: bool,
    /// The isolated positions in the same state.
    #[serde(skip)]
    pub margin_called_isolated: BTreeSet<PositionKey>,
}

/// The margin ratio (maintenance margin over margin balance) at which MARGIN_CALL is sent.
/// Binance's docs say only "when the user's position risk ratio is too high"; 80 % is the
/// sim's choice, a fifth of the way before liquidation at 100 %.
pub const MARGIN_CALL_RATIO: Decimal = Decimal::from_parts(8, 0, 0, false, 1);

/// One position in a margin-call check, at the step's worst mark price.
struct MarginCallRow {
    key: PositionKey,
    amount: Decimal,
    mark: Decimal,
    maint: Decimal,
    pnl: Decimal,
    isolated: bool,
}

/// One execution to book.
struct Fill<'a> {
    order_id: i64,
    symbol: &'a str,
    side: Side,
    position_side: PositionSide,
    qty: Decimal,
    price: Decimal,
    maker: bool,
}

/// What one fill did, for the order's stream event.
#[derive(Debug, Clone, Default)]
struct Execution {
    trade_id: i64,
    price: Decimal,
    qty: Decimal,
    commission: Decimal,
    realized: Decimal,
    maker: bool,
}

/// The whole exchange.
#[derive(Debug)]
pub struct Exchange {
    pub market: MarketData,
    pub fees: Fees,
    /// Taker fills' distance from the replayed price (a run's setting, not saved state).
    pub slippage: Slippage,
    pub accounts: Vec<Account>,
    next_id: i64,
    /// The sim time up to which resting orders, triggers and funding have been processed.
    processed_to: i64,
    /// User-data events (account index, event) waiting to be pushed to `/private` sockets.
    pub outbox: Vec<(usize, Value)>,
}

fn dec(v: Decimal) -> String {
    v.normalize().to_string()
}

impl Exchange {
    /// An exchange over `market` with no accounts.
    pub fn new(market: MarketData, start_ms: i64) -> Self {
        Self {
            market,
            fees: Fees::default(),
            slippage: Slippage::default(),
            accounts: Vec::new(),
            next_id: 1,
            processed_to: start_ms,
            outbox: Vec::new(),
        }
    }

    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds an account with `balance` USDT.
    pub fn add_account(
        &mut self,
        api_key: &str,
        secret: &str,
        balance: Decimal,
        permissions: Permissions,
        now: i64,
    ) {
        let tran_id = self.id();
        self.accounts.push(Account {
            api_key: api_key.to_owned(),
            secret: secret.to_owned(),
            permissions,
            wallet: balance,
            dual_side: false,
            positions: BTreeMap::new(),
            settings: BTreeMap::new(),
            orders: Vec::new(),
            open: Vec::new(),
            algo_orders: Vec::new(),
            trades: Vec::new(),
            amendments: Vec::new(),
            margin_called_cross: false,
            margin_called_isolated: BTreeSet::new(),
            income: vec![IncomeRow {
                tran_id,
                symbol: String::new(),
                income_type: "TRANSFER",
                income: balance,
                info: "TRANSFER".into(),
                time: now,
                trade_id: None,
            }],
        });
    }

    /// Finds the account of `api_key`.
    pub fn account_index(&self, api_key: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.api_key == api_key)
    }

    /// The spec of `symbol`, or -1121.
    pub fn spec(&self, symbol: &str) -> Result<&SymbolSpec, ApiError> {
        self.market.spec(symbol).ok_or_else(ApiError::bad_symbol)
    }

    fn last(&self, symbol: &str, now: i64) -> Result<Decimal, ApiError> {
        self.market.last_price(symbol, now).ok_or_else(|| {
            ApiError::bad(-1121, "No market data for this symbol at the current time.")
        })
    }

    /// Unrealized PnL of one position at mark price.
    fn unrealized(&self, symbol: &str, p: &Position, now: i64) -> Decimal {
        let mark = self.market.mark_price(symbol, now).unwrap_or(p.entry_price);
        (mark - p.entry_price) * p.amount
    }

    /// Margin the account's positions and open orders hold (initial margin at their leverage).
    fn used_margin(&self, a: &Account, now: i64) -> Decimal {
        let mut used = Decimal::ZERO;
        for ((symbol, _), p) in &a.positions {
            let lev = Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
            let mark = self.market.mark_price(symbol, now).unwrap_or(p.entry_price);
            used += (p.amount.abs() * mark) / lev;
        }
        for o in a.open.iter().map(|&i| &a.orders[i]) {
            let lev = Decimal::from(
                a.settings
                    .get(&o.symbol)
                    .copied()
                    .unwrap_or_default()
                    .leverage,
            );
            used += ((o.orig_qty - o.executed_qty) * o.price) / lev;
        }
        used
    }

    /// Wallet + unrealized PnL: Binance's margin balance.
    pub fn margin_balance(&self, a: &Account, now: i64) -> Decimal {
        a.wallet
            + a.positions
                .iter()
                .map(|((s, _), p)| self.unrealized(s, p, now))
                .sum::<Decimal>()
    }

    /// What new orders can still use.
    pub fn available(&self, a: &Account, now: i64) -> Decimal {
        (self.margin_balance(a, now) - self.used_margin(a, now)).max(Decimal::ZERO)
    }

    /// A taker's fill price for `qty` at the replayed `price` (see [`Slippage`]).
    fn taker_price(&self, symbol: &str, side: Side, price: Decimal, qty: Decimal) -> Decimal {
        let tick = self
            .market
            .spec(symbol)
            .map_or(Decimal::ZERO, |s| s.tick_size);
        self.slippage.fill_price(side, price, qty, tick)
    }

    /// Applies a fill to the account: position, realized PnL, commission, trade and income rows.
    fn fill(&mut self, acct: usize, f: Fill<'_>, now: i64) -> Execution {
        let Fill {
            order_id,
            symbol,
            side,
            position_side,
            qty,
            price,
            maker,
        } = f;
        let rate = if maker {
            self.fees.maker
        } else {
            self.fees.taker
        };
        let commission = (qty * price * rate).round_dp(8);
        let trade_id = self.id();
        let pnl_id = self.id();
        let fee_id = self.id();
        let a = &mut self.accounts[acct];
        let p = a
            .positions
            .entry((symbol.to_owned(), position_side))
            .or_default();
        let signed = qty * side.sign();
        let mut realized = Decimal::ZERO;
        if p.amount.is_zero() || p.amount.is_sign_positive() == signed.is_sign_positive() {
            let total = p.amount.abs() + qty;
            p.entry_price = ((p.amount.abs() * p.entry_price + qty * price) / total).round_dp(8);
            p.amount += signed;
        } else {
            let closing = qty.min(p.amount.abs());
            let direction = if p.amount.is_sign_positive() {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            realized = ((price - p.entry_price) * closing * direction).round_dp(8);
            let before = p.amount;
            p.amount += signed;
            if p.amount.is_zero() {
                p.entry_price = Decimal::ZERO;
            } else if p.amount.is_sign_positive() != before.is_sign_positive() {
                // The fill crossed zero: the rest opens a new position at the fill price.
                p.entry_price = price;
            }
        }
        p.update_time = now;
        a.wallet += realized - commission;
        a.trades.push(Trade {
            id: trade_id,
            order_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            price,
            qty,
            realized_pnl: realized,
            commission,
            maker,
            time: now,
        });
        if !realized.is_zero() {
            a.income.push(IncomeRow {
                tran_id: pnl_id,
                symbol: symbol.to_owned(),
                income_type: "REALIZED_PNL",
                income: realized,
                info: "REALIZED_PNL".into(),
                time: now,
                trade_id: Some(trade_id),
            });
        }
        a.income.push(IncomeRow {
            tran_id: fee_id,
            symbol: symbol.to_owned(),
            income_type: "COMMISSION",
            income: -commission,
            info: "COMMISSION".into(),
            time: now,
            trade_id: Some(trade_id),
        });
        let execution = Execution {
            trade_id,
            price,
            qty,
            commission,
            realized,
            maker,
        };
        self.emit_account(acct, "ORDER", symbol, position_side, now);
        execution
    }

    /// Queues an `ACCOUNT_UPDATE` with the wallet and the position of `symbol` on `side`.
    fn emit_account(
        &mut self,
        acct: usize,
        reason: &str,
        symbol: &str,
        side: PositionSide,
        now: i64,
    ) {
        let a = &self.accounts[acct];
        let p = a
            .positions
            .get(&(symbol.to_owned(), side))
            .cloned()
            .unwrap_or_default();
        let isolated = a.settings.get(symbol).copied().unwrap_or_default().isolated;
        let mark = self.market.mark_price(symbol, now).unwrap_or(p.entry_price);
        let event = json!({
            "e": "ACCOUNT_UPDATE", "E": now, "T": now,
            "a": {
                "m": reason,
                "B": [{"a": "USDT", "wb": dec(a.wallet), "cw": dec(a.wallet), "bc": "0"}],
                "P": [{
                    "s": symbol, "pa": dec(p.amount), "ep": dec(p.entry_price), "bep": dec(p.entry_price), "cr": "0",
                    "up": dec(((mark - p.entry_price) * p.amount).round_dp(8)),
                    "mt": if isolated { "isolated" } else { "cross" }, "iw": "0", "ps": side.as_str(),
                }],
            },
        });
        self.outbox.push((acct, event));
    }

    /// Queues an `ORDER_TRADE_UPDATE` for `order` with execution type `x`.
    fn emit_order(
        &mut self,
        acct: usize,
        order: &SimOrder,
        x: &str,
        exec: Option<&Execution>,
        now: i64,
    ) {
        let avg = if order.executed_qty.is_zero() {
            Decimal::ZERO
        } else {
            (order.cum_quote / order.executed_qty).round_dp(8)
        };
        let zero = Execution::default();
        let e = exec.unwrap_or(&zero);
        let event = json!({
            "e": "ORDER_TRADE_UPDATE", "E": now, "T": now,
            "o": {
                "s": order.symbol, "c": order.client_order_id, "S": order.side.as_str(), "o": order.order_type,
                "f": order.time_in_force, "q": dec(order.orig_qty), "p": dec(order.price), "ap": dec(avg), "sp": "0",
                "x": x, "X": order.status, "i": order.order_id, "l": dec(e.qty), "z": dec(order.executed_qty),
                "L": dec(e.price), "N": "USDT", "n": dec(e.commission), "T": now, "t": e.trade_id, "b": "0", "a": "0",
                "m": e.maker, "R": order.reduce_only, "wt": "CONTRACT_PRICE", "ot": order.order_type, "ps": order.position_side.as_str(),
                "cp": false, "rp": dec(e.realized), "pP": false, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE",
                "gtd": 0, "er": "0",
            },
        });
        self.outbox.push((acct, event));
    }

    /// Queues an `ALGO_UPDATE` for `o`.
    fn emit_algo(&mut self, acct: usize, o: &AlgoOrder, now: i64) {
        let event = json!({
            "e": "ALGO_UPDATE", "T": now, "E": now,
            "o": {
                "caid": o.client_algo_id, "aid": o.algo_id, "at": "CONDITIONAL", "o": o.order_type, "s": o.symbol,
                "S": o.side.as_str(), "ps": o.position_side.as_str(), "f": o.time_in_force, "q": dec(o.quantity), "X": o.status,
                "ai": o.actual_order_id.map_or_else(String::new, |i| i.to_string()), "ap": "0", "aq": "0",
                "act": actual_type(o).unwrap_or("0"), "tp": dec(o.trigger_price), "p": dec(o.price), "V": "EXPIRE_MAKER", "wt": o.working_type, "pm": "NONE",
                "cp": o.close_position, "pP": o.price_protect, "R": o.reduce_only, "tt": o.trigger_time, "gtd": 0,
                "rm": "",
            },
        });
        self.outbox.push((acct, event));
    }

    /// `POST /fapi/v1/order`.
    ///
    /// # Errors
    /// Binance's codes for every refused case; nothing changes when refused.
    pub fn new_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let side =
            Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))?;
        let order_type = p.req("type")?;
        match order_type {
            "MARKET" | "LIMIT" => {}
            "STOP"
            | "STOP_MARKET"
            | "TAKE_PROFIT"
            | "TAKE_PROFIT_MARKET"
            | "TRAILING_STOP_MARKET" => {
                return Err(ApiError::bad(
                    -4120,
                    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
                ));
            }
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        }
        let dual = self.accounts[acct].dual_side;
        let position_side = order_position_side(dual, p)?;
        // In hedge mode SELL LONG and BUY SHORT close: they act as reduce-only orders.
        let hedge_close = dual && position_side.closed_by(side);
        let qty = p
            .decimal("quantity")?
            .ok_or_else(|| ApiError::mandatory("quantity"))?;
        let reduce_only = p.bool("reduceOnly")?.unwrap_or(false);
        let client_id = match p.get("newClientOrderId") {
            Some(id) => valid_client_id(id)?,
            None => format!("sim{}", self.next_id + 1),
        };
        let a = &self.accounts[acct];
        if a.open
            .iter()
            .any(|&i| a.orders[i].client_order_id == client_id)
        {
            return Err(ApiError::bad(-4015, "Client order id is not valid."));
        }
        let last = self.last(symbol, now)?;
        let (qty_step, min_qty, max_qty) = if order_type == "MARKET" {
            (
                spec.market_step_size,
                spec.market_min_qty,
                spec.market_max_qty,
            )
        } else {
            (spec.step_size, spec.min_qty, spec.max_qty)
        };
        if qty.normalize().scale() > spec.quantity_precision {
            return Err(ApiError::bad(
                -1111,
                "Precision is over the maximum defined for this asset.",
            ));
        }
        if !((qty - min_qty) / qty_step).fract().is_zero() {
            return Err(ApiError::bad(-4023, "Quantity not increased by step size."));
        }
        if qty < min_qty {
            return Err(ApiError::bad(-4004, "Quantity less than min quantity."));
        }
        if qty > max_qty {
            return Err(ApiError::bad(-4005, "Quantity greater than max quantity."));
        }
        let (price, tif) = if order_type == "LIMIT" {
            let price = p
                .decimal("price")?
                .ok_or_else(|| ApiError::mandatory("price"))?;
            let tif = p.req("timeInForce")?;
            if !["GTC", "IOC", "FOK", "GTX"].contains(&tif) {
                return Err(ApiError::bad(-1115, "Invalid timeInForce."));
            }
            check_price(&spec, price)?;
            let mark = self.market.mark_price(symbol, now).unwrap_or(last);
            if side == Side::Buy && price > mark * spec.multiplier_up {
                return Err(ApiError::bad(
                    -4016,
                    "Limit price can't be higher than the mark price multiplied by the cap.",
                ));
            }
            if side == Side::Sell && price < mark * spec.multiplier_down {
                return Err(ApiError::bad(
                    -4024,
                    "Limit price can't be lower than the mark price multiplied by the floor.",
                ));
            }
            (price, tif.to_owned())
        } else {
            (last, "GTC".to_owned())
        };
        // MARKET orders are measured at the mark price (filter semantics in the contract).
        let notional_price = if order_type == "MARKET" {
            self.market.mark_price(symbol, now).unwrap_or(last)
        } else {
            price
        };
        if qty * notional_price < spec.min_notional && !reduce_only && !hedge_close {
            return Err(ApiError::bad(
                -4164,
                format!(
                    "Order's notional must be no smaller than {} (unless you choose reduce only).",
                    dec(spec.min_notional)
                ),
            ));
        }
        let position = a
            .positions
            .get(&(symbol.to_owned(), position_side))
            .cloned()
            .unwrap_or_default();
        if hedge_close {
            // What the position still has to close after the closing orders already resting.
            let pending: Decimal = a
                .open
                .iter()
                .map(|&i| &a.orders[i])
                .filter(|o| {
                    o.symbol == symbol && o.position_side == position_side && o.side == side
                })
                .map(|o| o.orig_qty - o.executed_qty)
                .sum();
            if position.amount.is_zero() || qty > position.amount.abs() - pending {
                return Err(ApiError::bad(-2022, "ReduceOnly Order is rejected."));
            }
        } else if reduce_only {
            let reduces = !position.amount.is_zero()
                && position.amount.is_sign_positive() != (side == Side::Buy);
            if !reduces || qty > position.amount.abs() {
                return Err(ApiError::bad(-2022, "ReduceOnly Order is rejected."));
            }
        } else {
            let lev = Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
            let reducing = if position.amount.is_sign_positive() != (side == Side::Buy) {
                qty.min(position.amount.abs())
            } else {
                Decimal::ZERO
            };
            let needed =
                ((qty - reducing) * price) / lev + (qty - reducing) * price * self.fees.taker;
            if needed > self.available(a, now) {
                return Err(ApiError::margin());
            }
        }
        let marketable = order_type == "MARKET"
            || (side == Side::Buy && price >= last)
            || (side == Side::Sell && price <= last);
        if tif == "GTX" && marketable {
            return Err(ApiError::bad(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be rejected.",
            ));
        }
        let order_id = self.id();
        let mut order = SimOrder {
            order_id,
            client_order_id: client_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            order_type: order_type.to_owned(),
            time_in_force: tif.clone(),
            price: if order_type == "MARKET" {
                Decimal::ZERO
            } else {
                price
            },
            orig_qty: qty,
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            reduce_only,
            status: "NEW",
            time: now,
            update_time: now,
        };
        if marketable {
            // A marketable order takes at the replayed price (a limit order never worse than its limit).
            let taken = self.taker_price(symbol, side, last, qty);
            let fill_price = if order_type == "MARKET" {
                taken
            } else if side == Side::Buy {
                taken.min(price)
            } else {
                taken.max(price)
            };
            let exec = self.fill(
                acct,
                Fill {
                    order_id,
                    symbol,
                    side,
                    position_side,
                    qty,
                    price: fill_price,
                    maker: false,
                },
                now,
            );
            order.executed_qty = qty;
            order.cum_quote = (qty * fill_price).round_dp(8);
            order.status = "FILLED";
            self.emit_order(acct, &order, "TRADE", Some(&exec), now);
        } else if tif == "IOC" || tif == "FOK" {
            order.status = "EXPIRED";
            self.emit_order(acct, &order, "EXPIRED", None, now);
        } else {
            self.emit_order(acct, &order, "NEW", None, now);
        }
        let reply = order_json(
            &order,
            p.get("newOrderRespType") == Some("RESULT") || order_type == "MARKET",
        );
        let resting = order.status == "NEW";
        let a = &mut self.accounts[acct];
        a.orders.push(order);
        if resting {
            a.open.push(a.orders.len() - 1);
        }
        Ok(reply)
    }

    /// Finds an order by `orderId` or `origClientOrderId`.
    fn find_order(&self, acct: usize, p: &Params) -> Result<usize, ApiError> {
        let symbol = p.req("symbol")?;
        let orders = &self.accounts[acct].orders;
        let found = if let Some(id) = p.get("orderId") {
            let id: i64 = id.parse().map_err(|_| ApiError::invalid("orderId"))?;
            // Ids grow with every order, so the history is sorted by id.
            orders
                .binary_search_by_key(&id, |o| o.order_id)
                .ok()
                .filter(|&i| orders[i].symbol == symbol)
        } else if let Some(cid) = p.get("origClientOrderId") {
            orders
                .iter()
                .rposition(|o| o.client_order_id == cid && o.symbol == symbol)
        } else {
            return Err(ApiError::bad(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            ));
        };
        found.ok_or_else(ApiError::no_such_order)
    }

    /// `GET /fapi/v1/order`.
    ///
    /// # Errors
    /// -2013 when there is no such order.
    pub fn query_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self.find_order(acct, p)?;
        Ok(order_json(&self.accounts[acct].orders[i], true))
    }

    /// `DELETE /fapi/v1/order`.
    ///
    /// # Errors
    /// -2011 when the order is not open.
    pub fn cancel_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self
            .find_order(acct, p)
            .map_err(|_| ApiError::bad(-2011, "Unknown order sent."))?;
        let o = &mut self.accounts[acct].orders[i];
        if o.status != "NEW" && o.status != "PARTIALLY_FILLED" {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        }
        o.status = "CANCELED";
        o.update_time = now;
        let reply = order_json(o, true);
        let order = o.clone();
        self.accounts[acct].open.retain(|&j| j != i);
        self.emit_order(acct, &order, "CANCELED", None, now);
        Ok(reply)
    }

    /// `GET /fapi/v1/openOrders`.
    pub fn open_orders(&mut self, acct: usize, symbol: Option<&str>, now: i64) -> Value {
        self.advance(now);
        let a = &self.accounts[acct];
        Value::Array(
            a.open
                .iter()
                .map(|&i| &a.orders[i])
                .filter(|o| symbol.is_none_or(|s| s == o.symbol))
                .map(|o| order_json(o, true))
                .collect(),
        )
    }

    /// `POST /fapi/v1/batchOrders`: at most 5 orders, each placed as `POST /fapi/v1/order`
    /// would; the reply keeps the input order, with `{code, msg}` for each refused one.
    ///
    /// # Errors
    /// -1102 without `batchOrders`, -1130 when it is not a JSON array of objects, -4082 for
    /// more than 5 (nothing is placed then).
    pub fn batch_orders(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        let items = batch_items(p)?;
        Ok(Value::Array(
            items
                .iter()
                .map(|one| {
                    self.new_order(acct, one, now)
                        .unwrap_or_else(|e| error_json(&e))
                })
                .collect(),
        ))
    }

    /// `GET /fapi/v1/leverageBracket`: one object for `symbol`, else an array of all symbols.
    /// Values are JSON numbers, as Binance sends them.
    ///
    /// # Errors
    /// -1121 for an unknown symbol.
    pub fn leverage_bracket(&self, symbol: Option<&str>) -> Result<Value, ApiError> {
        let one = |spec: &SymbolSpec| -> Value {
            let number = |d: Decimal| {
                serde_json::Number::from_f64(d.to_string().parse().unwrap_or(0.0))
                    .map_or(Value::Null, Value::Number)
            };
            let brackets: Vec<Value> = spec
                .brackets
                .iter()
                .map(|b| {
                    json!({
                        "bracket": b.bracket, "initialLeverage": b.initial_leverage,
                        "notionalCap": number(b.notional_cap), "notionalFloor": number(b.notional_floor),
                        "maintMarginRatio": number(b.maint_margin_ratio), "cum": number(b.cum),
                    })
                })
                .collect();
            json!({"symbol": spec.symbol, "brackets": brackets})
        };
        match symbol {
            Some(s) => Ok(one(self.spec(s)?)),
            None => Ok(Value::Array(
                self.market
                    .symbols()
                    .into_iter()
                    .filter_map(|s| self.market.spec(s))
                    .map(one)
                    .collect(),
            )),
        }
    }

    /// `DELETE /fapi/v1/allOpenOrders`.
    pub fn cancel_all(&mut self, acct: usize, symbol: &str, now: i64) -> Value {
        self.advance(now);
        let a = &mut self.accounts[acct];
        let (cancel, keep): (Vec<usize>, Vec<usize>) =
            a.open.iter().partition(|&&i| a.orders[i].symbol == symbol);
        a.open = keep;
        for i in cancel {
            let o = &mut self.accounts[acct].orders[i];
            o.status = "CANCELED";
            o.update_time = now;
            let order = o.clone();
            self.emit_order(acct, &order, "CANCELED", None, now);
        }
        json!({"code": 200, "msg": "The operation of cancel all open order is done."})
    }

    /// `GET /fapi/v1/allAlgoOrders` for `symbol` (oldest first, at most `limit`).
    pub fn all_algo_orders(&mut self, acct: usize, symbol: &str, limit: usize, now: i64) -> Value {
        self.advance(now);
        let all: Vec<&AlgoOrder> = self.accounts[acct]
            .algo_orders
            .iter()
            .filter(|o| o.symbol == symbol)
            .collect();
        let skip = all.len().saturating_sub(limit);
        Value::Array(all.into_iter().skip(skip).map(algo_json).collect())
    }

    /// `DELETE /fapi/v1/algoOpenOrders` for `symbol`.
    pub fn cancel_all_algo(&mut self, acct: usize, symbol: &str, now: i64) -> Value {
        self.advance(now);
        let open: Vec<usize> = self.accounts[acct]
            .algo_orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status == "NEW" && o.symbol == symbol)
            .map(|(i, _)| i)
            .collect();
        for i in open {
            let o = &mut self.accounts[acct].algo_orders[i];
            o.status = "CANCELED";
            o.update_time = now;
            let order = o.clone();
            self.emit_algo(acct, &order, now);
        }
        json!({"code": 200, "msg": "The operation of cancel all open order is done."})
    }

    /// `GET /fapi/v1/openAlgoOrders`.
    pub fn open_algo_orders(&mut self, acct: usize, symbol: Option<&str>, now: i64) -> Value {
        self.advance(now);
        Value::Array(
            self.accounts[acct]
                .algo_orders
                .iter()
                .filter(|o| o.status == "NEW" && symbol.is_none_or(|s| s == o.symbol))
                .map(algo_json)
                .collect(),
        )
    }

    /// `POST /fapi/v1/algoOrder` (conditional orders): STOP_MARKET and TAKE_PROFIT_MARKET
    /// (`triggerPrice`, `closePosition`), STOP and TAKE_PROFIT (`triggerPrice`, `price`,
    /// `timeInForce`) and TRAILING_STOP_MARKET (`callbackRate` 0.1–20 %, `activatePrice`).
    ///
    /// # Errors
    /// Binance's codes; nothing changes when refused.
    pub fn new_algo_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        if p.req("algoType")? != "CONDITIONAL" {
            return Err(ApiError::invalid("algoType"));
        }
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let side =
            Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))?;
        let order_type = p.req("type")?;
        let (limit, trailing) = match order_type {
            "STOP_MARKET" | "TAKE_PROFIT_MARKET" => (false, false),
            "STOP" | "TAKE_PROFIT" => (true, false),
            "TRAILING_STOP_MARKET" => (false, true),
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        };
        let not_required = |name: &str| {
            ApiError::bad(-1106, format!("Parameter '{name}' sent when not required."))
        };
        let dual = self.accounts[acct].dual_side;
        let position_side = order_position_side(dual, p)?;
        let trigger = if trailing {
            if p.get("triggerPrice").is_some() {
                return Err(not_required("triggerPrice"));
            }
            Decimal::ZERO
        } else {
            let trigger = p
                .decimal("triggerPrice")?
                .ok_or_else(|| ApiError::mandatory("triggerPrice"))?;
            check_price(&spec, trigger)?;
            trigger
        };
        // STOP and TAKE_PROFIT become LIMIT orders at `price` when they trigger.
        let (price, time_in_force) = if limit {
            let price = p
                .decimal("price")?
                .ok_or_else(|| ApiError::mandatory("price"))?;
            check_price(&spec, price)?;
            let tif = p.get("timeInForce").unwrap_or("GTC");
            if !["GTC", "IOC", "FOK", "GTX"].contains(&tif) {
                return Err(ApiError::bad(-1115, "Invalid timeInForce."));
            }
            (price, tif.to_owned())
        } else {
            if p.get("price").is_some() {
                return Err(not_required("price"));
            }
            (Decimal::ZERO, gtc())
        };
        let close_position = p.bool("closePosition")?.unwrap_or(false);
        if close_position && (limit || trailing) {
            // Only the market kinds can close the whole position.
            return Err(not_required("closePosition"));
        }
        let reduce_only = p.bool("reduceOnly")?.unwrap_or(false);
        let quantity = p.decimal("quantity")?;
        if close_position && (quantity.is_some() || reduce_only) {
            return Err(ApiError::bad(
                -1106,
                "Parameter 'quantity' sent when not required.",
            ));
        }
        // closePosition closes the side it names: SELL on LONG, BUY on SHORT (hedge mode).
        if close_position && dual && !position_side.closed_by(side) {
            return Err(ApiError::bad(
                -1128,
                "Combination of optional parameters invalid.",
            ));
        }
        let quantity = match (close_position, quantity) {
            (true, _) => Decimal::ZERO,
            (false, Some(q)) => q,
            (false, None) => return Err(ApiError::mandatory("quantity")),
        };
        let working_type = p.get("workingType").unwrap_or("CONTRACT_PRICE").to_owned();
        if working_type != "MARK_PRICE" && working_type != "CONTRACT_PRICE" {
            return Err(ApiError::invalid("workingType"));
        }
        let reference = if working_type == "MARK_PRICE" {
            self.market.mark_price(symbol, now)
        } else {
            self.market.last_price(symbol, now)
        }
        .ok_or_else(ApiError::bad_symbol)?;
        let (callback_rate, activate_price) = if trailing {
            let rate = p
                .decimal("callbackRate")?
                .ok_or_else(|| ApiError::mandatory("callbackRate"))?;
            // 0.1 % to 20 % since 2026-10-23 (it was 10 % before; CONTRACT.md section 0).
            if rate < Decimal::new(1, 1) || rate > Decimal::from(20) {
                return Err(ApiError::invalid("callbackRate"));
            }
            let activate = p.decimal("activatePrice")?;
            if let Some(a) = activate {
                check_price(&spec, a)?;
                // A SELL trail starts above the price and a BUY trail below it; one on the
                // other side would be active at once, which Binance refuses.
                let wrong_side = match side {
                    Side::Sell => a <= reference,
                    Side::Buy => a >= reference,
                };
                if wrong_side {
                    return Err(ApiError::bad(-2021, "Order would immediately trigger."));
                }
            }
            (Some(rate), activate)
        } else {
            for name in ["callbackRate", "activatePrice"] {
                if p.get(name).is_some() {
                    return Err(not_required(name));
                }
            }
            (None, None)
        };
        if !trailing {
            // A stop that is already through its trigger would fire at once: Binance refuses it.
            let immediate = match (order_type, side) {
                ("STOP_MARKET" | "STOP", Side::Sell)
                | ("TAKE_PROFIT_MARKET" | "TAKE_PROFIT", Side::Buy) => reference <= trigger,
                _ => reference >= trigger,
            };
            if immediate {
                return Err(ApiError::bad(-2021, "Order would immediately trigger."));
            }
        }
        let client_algo_id = match p.get("clientAlgoId").or_else(|| p.get("newClientOrderId")) {
            Some(id) => valid_client_id(id)?,
            None => format!("simalgo{}", self.next_id + 1),
        };
        let a = &self.accounts[acct];
        if a.algo_orders
            .iter()
            .any(|o| o.client_algo_id == client_algo_id && o.status == "NEW")
        {
            return Err(ApiError::bad(-4015, "Client order id is not valid."));
        }
        if a.algo_orders.iter().filter(|o| o.status == "NEW").count() >= 200 {
            return Err(ApiError::bad(-4045, "Reach max stop order limit."));
        }
        let algo_id = self.id();
        let order = AlgoOrder {
            algo_id,
            client_algo_id,
            symbol: symbol.to_owned(),
            side,
            position_side,
            order_type: order_type.to_owned(),
            quantity,
            trigger_price: trigger,
            working_type,
            close_position,
            reduce_only,
            price_protect: p.bool("priceProtect")?.unwrap_or(false),
            status: "NEW",
            create_time: now,
            update_time: now,
            trigger_time: 0,
            actual_order_id: None,
            price,
            time_in_force,
            activate_price,
            callback_rate,
            extreme: trailing.then_some(reference),
        };
        let reply = algo_json(&order);
        self.emit_algo(acct, &order, now);
        self.accounts[acct].algo_orders.push(order);
        Ok(reply)
    }

    fn find_algo(&self, acct: usize, p: &Params) -> Result<usize, ApiError> {
        let orders = &self.accounts[acct].algo_orders;
        let found = if let Some(id) = p.get("algoId") {
            let id: i64 = id.parse().map_err(|_| ApiError::invalid("algoId"))?;
            orders.iter().position(|o| o.algo_id == id)
        } else if let Some(cid) = p.get("clientAlgoId") {
            orders.iter().rposition(|o| o.client_algo_id == cid)
        } else {
            return Err(ApiError::bad(
                -1102,
                "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!",
            ));
        };
        found.ok_or_else(ApiError::no_such_order)
    }

    /// `GET /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// -2013 when there is no such order.
    pub fn query_algo(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self.find_algo(acct, p)?;
        Ok(algo_json(&self.accounts[acct].algo_orders[i]))
    }

    /// `DELETE /fapi/v1/algoOrder`.
    ///
    /// # Errors
    /// -2011 when it is not open.
    pub fn cancel_algo(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self
            .find_algo(acct, p)
            .map_err(|_| ApiError::bad(-2011, "Unknown order sent."))?;
        let o = &mut self.accounts[acct].algo_orders[i];
        if o.status != "NEW" {
            return Err(ApiError::bad(-2011, "Unknown order sent."));
        }
        o.status = "CANCELED";
        o.update_time = now;
        let order = o.clone();
        self.emit_algo(acct, &order, now);
        Ok(
            json!({"algoId": order.algo_id, "clientAlgoId": order.client_algo_id, "code": "200", "msg": "success"}),
        )
    }

    /// Processes the market from the last processed time to `now`: resting limit orders,
    /// algo triggers and funding, in time order per step.
    pub fn advance(&mut self, now: i64) {
        if now <= self.processed_to {
            return;
        }
        let from = self.processed_to;
        self.processed_to = now;
        for acct in 0..self.accounts.len() {
            self.match_resting(acct, from, now);
            self.trigger_algos(acct, from, now);
            self.apply_funding(acct, from, now);
            self.liquidate(acct, from, now);
        }
    }

    fn match_resting(&mut self, acct: usize, from: i64, now: i64) {
        let a = &self.accounts[acct];
        let open: Vec<(usize, String, Side, PositionSide, Decimal, Decimal, i64)> = a
            .open
            .iter()
            .map(|&i| (i, &a.orders[i]))
            .filter(|(_, o)| o.order_type == "LIMIT")
            .map(|(i, o)| {
                (
                    i,
                    o.symbol.clone(),
                    o.side,
                    o.position_side,
                    o.price,
                    o.orig_qty - o.executed_qty,
                    o.order_id,
                )
            })
            .collect();
        for (i, symbol, side, position_side, price, qty, order_id) in open {
            let Some((low, high)) = self.market.price_range(&symbol, from, now) else {
                continue;
            };
            let touched = match side {
                Side::Buy => low <= price,
                Side::Sell => high >= price,
            };
            if touched && position_side.closed_by(side) {
                // A hedge-mode closing order never opens the other way: when its position
                // has shrunk below it (a stop closed it meanwhile), it expires instead.
                let left = self.accounts[acct]
                    .positions
                    .get(&(symbol.clone(), position_side))
                    .map_or(Decimal::ZERO, |p| p.amount.abs());
                if left < qty {
                    let o = &mut self.accounts[acct].orders[i];
                    o.status = "EXPIRED";
                    o.update_time = now;
                    let order = o.clone();
                    self.accounts[acct].open.retain(|&j| j != i);
                    self.emit_order(acct, &order, "EXPIRED", None, now);
                    continue;
                }
            }
            if touched {
                let exec = self.fill(
                    acct,
                    Fill {
                        order_id,
                        symbol: &symbol,
                        side,
                        position_side,
                        qty,
                        price,
                        maker: true,
                    },
                    now,
                );
                let o = &mut self.accounts[acct].orders[i];
                o.executed_qty += qty;
                o.cum_quote += (qty * price).round_dp(8);
                o.status = "FILLED";
                o.update_time = now;
                let order = o.clone();
                self.accounts[acct].open.retain(|&j| j != i);
                self.emit_order(acct, &order, "TRADE", Some(&exec), now);
            }
        }
    }

    fn trigger_algos(&mut self, acct: usize, from: i64, now: i64) {
        let open: Vec<usize> = self.accounts[acct]
            .algo_orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status == "NEW")
            .map(|(i, _)| i)
            .collect();
        for i in open {
            let o = self.accounts[acct].algo_orders[i].clone();
            let fired_at = if o.order_type == "TRAILING_STOP_MARKET" {
                let (extreme, fired) = self.trail(&o, from, now);
                self.accounts[acct].algo_orders[i].extreme = extreme;
                fired
            } else {
                let range = if o.working_type == "MARK_PRICE" {
                    self.market.mark_price_range(&o.symbol, from, now)
                } else {
                    self.market.price_range(&o.symbol, from, now)
                };
                let Some((low, high)) = range else { continue };
                let fires = match (o.order_type.as_str(), o.side) {
                    ("STOP_MARKET" | "STOP", Side::Sell)
                    | ("TAKE_PROFIT_MARKET" | "TAKE_PROFIT", Side::Buy) => low <= o.trigger_price,
                    _ => high >= o.trigger_price,
                };
                fires.then_some(o.trigger_price)
            };
            let Some(at) = fired_at else { continue };
            let position = self.accounts[acct]
                .positions
                .get(&(o.symbol.clone(), o.position_side))
                .cloned()
                .unwrap_or_default();
            let reduces = !position.amount.is_zero()
                && position.amount.is_sign_positive() != (o.side == Side::Buy);
            // In hedge mode an order that closes its side is reduce-only by nature.
            let hedge_close = o.position_side.closed_by(o.side);
            let qty = if o.close_position || o.reduce_only || hedge_close {
                if reduces {
                    if o.close_position {
                        position.amount.abs()
                    } else {
                        o.quantity.min(position.amount.abs())
                    }
                } else {
                    Decimal::ZERO
                }
            } else {
                o.quantity
            };
            let a = &mut self.accounts[acct].algo_orders[i];
            a.trigger_time = now;
            a.update_time = now;
            if qty.is_zero() {
                // Nothing left to close: Binance expires such an order when it triggers.
                a.status = "EXPIRED";
                let expired = a.clone();
                self.emit_algo(acct, &expired, now);
                continue;
            }
            // The algo service's part ends when it hands the order to the matching engine.
            a.status = "FINISHED";
            let order_id = self.id();
            self.accounts[acct].algo_orders[i].actual_order_id = Some(order_id);
            let finished = self.accounts[acct].algo_orders[i].clone();
            self.emit_algo(acct, &finished, now);
            let limit = o.order_type == "STOP" || o.order_type == "TAKE_PROFIT";
            let mut triggered = SimOrder {
                order_id,
                client_order_id: format!("{}-t", o.client_algo_id).chars().take(36).collect(),
                symbol: o.symbol.clone(),
                side: o.side,
                position_side: o.position_side,
                order_type: if limit { "LIMIT" } else { "MARKET" }.into(),
                time_in_force: o.time_in_force.clone(),
                price: if limit { o.price } else { Decimal::ZERO },
                orig_qty: qty,
                executed_qty: Decimal::ZERO,
                cum_quote: Decimal::ZERO,
                reduce_only: o.reduce_only || o.close_position,
                status: "NEW",
                time: now,
                update_time: now,
            };
            // The price was at `at` when the order triggered. A market order fills there (the
            // replay path is continuous, so that is where it crossed); a limit order fills
            // there too when its limit allows, else it rests on the book like any LIMIT.
            let marketable = !limit
                || match o.side {
                    Side::Buy => o.price >= at,
                    Side::Sell => o.price <= at,
                };
            if marketable && o.time_in_force != "GTX" {
                let taken = self.taker_price(&o.symbol, o.side, at, qty);
                let fill_price = match (limit, o.side) {
                    (false, _) => taken,
                    (true, Side::Buy) => taken.min(o.price),
                    (true, Side::Sell) => taken.max(o.price),
                };
                let exec = self.fill(
                    acct,
                    Fill {
                        order_id,
                        symbol: &o.symbol,
                        side: o.side,
                        position_side: o.position_side,
                        qty,
                        price: fill_price,
                        maker: false,
                    },
                    now,
                );
                triggered.executed_qty = qty;
                triggered.cum_quote = (qty * fill_price).round_dp(8);
                triggered.status = "FILLED";
                self.emit_order(acct, &triggered, "TRADE", Some(&exec), now);
                self.accounts[acct].orders.push(triggered);
            } else if marketable || o.time_in_force == "IOC" || o.time_in_force == "FOK" {
                // A post-only order that would take, or an IOC/FOK that cannot fill now.
                triggered.status = "EXPIRED";
                self.emit_order(acct, &triggered, "EXPIRED", None, now);
                self.accounts[acct].orders.push(triggered);
            } else {
                self.emit_order(acct, &triggered, "NEW", None, now);
                let a = &mut self.accounts[acct];
                a.orders.push(triggered);
                a.open.push(a.orders.len() - 1);
            }
        }
    }

    /// Walks a TRAILING_STOP_MARKET along the price path of `(from, now]`: the best price
    /// since placement follows the path, the trail is active once that best price has reached
    /// `activate_price` (at once without one), and it fires when the price comes back by
    /// `callback_rate` percent from the best. Returns the new best price and, when it fired,
    /// the price it fired at.
    ///
    /// The path is monotone inside each quarter of a candle (see `market::replay`), and every
    /// data interval's quarters are whole multiples of 15 s, so walking 15-second windows
    /// aligned to the clock sees the moves in their true order.
    fn trail(&self, o: &AlgoOrder, from: i64, now: i64) -> (Option<Decimal>, Option<Decimal>) {
        const WINDOW_MS: i64 = 15_000;
        let price_at = |t: i64| {
            if o.working_type == "MARK_PRICE" {
                self.market.mark_price(&o.symbol, t)
            } else {
                self.market.last_price(&o.symbol, t)
            }
        };
        let Some(rate) = o.callback_rate else {
            return (o.extreme, None);
        };
        let back = rate / Decimal::ONE_HUNDRED;
        let tick = self
            .market
            .spec(&o.symbol)
            .map_or(Decimal::ZERO, |s| s.tick_size);
        let on_tick = |v: Decimal| {
            if tick.is_zero() {
                v
            } else {
                (v / tick).round() * tick
            }
        };
        let mut best = o.extreme;
        let mut a = from;
        while a < now {
            let b = ((a.div_euclid(WINDOW_MS) + 1) * WINDOW_MS).min(now);
            let (Some(pa), Some(pb)) = (price_at(a), price_at(b)) else {
                a = b;
                continue;
            };
            a = b;
            match o.side {
                Side::Sell => {
                    if pb >= pa {
                        best = Some(best.map_or(pb, |e| e.max(pb)));
                        continue;
                    }
                    let top = best.map_or(pa, |e| e.max(pa));
                    best = Some(top);
                    let active = o.activate_price.is_none_or(|ap| top >= ap);
                    let stop = on_tick(top * (Decimal::ONE - back));
                    if active && pb <= stop {
                        return (best, Some(stop.min(pa).max(pb)));
                    }
                }
                Side::Buy => {
                    if pb <= pa {
                        best = Some(best.map_or(pb, |e| e.min(pb)));
                        continue;
                    }
                    let bottom = best.map_or(pa, |e| e.min(pa));
                    best = Some(bottom);
                    let active = o.activate_price.is_none_or(|ap| bottom <= ap);
                    let stop = on_tick(bottom * (Decimal::ONE + back));
                    if active && pb >= stop {
                        return (best, Some(stop.max(pa).min(pb)));
                    }
                }
            }
        }
        (best, None)
    }

    /// Closes positions whose margin no longer covers their maintenance margin, at the worst
    /// mark price of the step (Binance watches the mark price continuously, so the worst point
    /// of the step is where it would have acted). Isolated positions are judged alone; cross
    /// positions share the wallet. The clearance fee is booked as `INSURANCE_CLEAR`.
    fn liquidate(&mut self, acct: usize, from: i64, now: i64) {
        let a = &self.accounts[acct];
        let mut worst: Vec<(PositionKey, Decimal, Decimal, bool)> = Vec::new();
        for (key, p) in a.positions.iter().filter(|(_, p)| !p.amount.is_zero()) {
            let symbol = &key.0;
            let Some((low, high)) = self.market.mark_price_range(symbol, from, now) else {
                continue;
            };
            let price = if p.amount.is_sign_positive() {
                low
            } else {
                high
            };
            let isolated = a.settings.get(symbol).copied().unwrap_or_default().isolated;
            worst.push((key.clone(), price, p.amount, isolated));
        }
        let maint = |symbol: &str, amount: Decimal, price: Decimal| -> Decimal {
            let notional = (amount * price).abs();
            self.market.spec(symbol).map_or(Decimal::ZERO, |s| {
                let b = s.maint_bracket(notional);
                notional * b.maint_margin_ratio - b.cum
            })
        };
        let mut doomed: Vec<(PositionKey, Decimal)> = Vec::new();
        let mut cross_equity = a.wallet;
        let mut cross_maint = Decimal::ZERO;
        let mut cross: Vec<(PositionKey, Decimal)> = Vec::new();
        // Margin-call candidates: (key, mark price, maintenance margin, pnl, isolated).
        let mut cross_rows: Vec<MarginCallRow> = Vec::new();
        let mut isolated_calls: Vec<MarginCallRow> = Vec::new();
        let mut isolated_clear: Vec<PositionKey> = Vec::new();
        for (key, price, amount, isolated) in &worst {
            let symbol = &key.0;
            let p = &a.positions[key];
            let pnl = (*price - p.entry_price) * *amount;
            let mm = maint(symbol, *amount, *price);
            let row = MarginCallRow {
                key: key.clone(),
                amount: *amount,
                mark: *price,
                maint: mm,
                pnl,
                isolated: *isolated,
            };
            if *isolated {
                let lev =
                    Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
                let margin = (p.entry_price * amount.abs()) / lev + pnl;
                if margin <= mm {
                    doomed.push((key.clone(), *price));
                    isolated_clear.push(key.clone());
                } else if mm >= margin * MARGIN_CALL_RATIO {
                    isolated_calls.push(row);
                } else {
                    isolated_clear.push(key.clone());
                }
            } else {
                cross_equity += pnl;
                cross_maint += mm;
                cross.push((key.clone(), *price));
                cross_rows.push(row);
            }
        }
        let cross_doomed = !cross.is_empty() && cross_equity <= cross_maint;
        let cross_call =
            !cross.is_empty() && !cross_doomed && cross_maint >= cross_equity * MARGIN_CALL_RATIO;
        if cross_doomed {
            doomed.extend(cross);
        }
        self.margin_calls(
            acct,
            cross_call,
            cross_rows,
            isolated_calls,
            &isolated_clear,
            now,
        );
        for ((symbol, position_side), price) in doomed {
            let Some(p) = self.accounts[acct]
                .positions
                .get(&(symbol.clone(), position_side))
                .cloned()
            else {
                continue;
            };
            if p.amount.is_zero() {
                continue;
            }
            let side = if p.amount.is_sign_positive() {
                Side::Sell
            } else {
                Side::Buy
            };
            let qty = p.amount.abs();
            let order_id = self.id();
            let exec = self.fill(
                acct,
                Fill {
                    order_id,
                    symbol: &symbol,
                    side,
                    position_side,
                    qty,
                    price,
                    maker: false,
                },
                now,
            );
            let fee_rate = self
                .market
                .spec(&symbol)
                .map_or(Decimal::ZERO, |s| s.liquidation_fee);
            let fee = (qty * price * fee_rate).round_dp(8);
            let tran_id = self.id();
            let a = &mut self.accounts[acct];
            a.wallet -= fee;
            a.income.push(IncomeRow {
                tran_id,
                symbol: symbol.clone(),
                income_type: "INSURANCE_CLEAR",
                income: -fee,
                info: "INSURANCE_CLEAR".into(),
                time: now,
                trade_id: None,
            });
            // Binance shows the forced close as a LIQUIDATION order with an "autoclose-" id.
            let forced = SimOrder {
                order_id,
                client_order_id: format!("autoclose-{now}"),
                symbol: symbol.clone(),
                side,
                position_side,
                order_type: "LIQUIDATION".into(),
                time_in_force: "IOC".into(),
                price,
                orig_qty: qty,
                executed_qty: qty,
                cum_quote: (qty * price).round_dp(8),
                reduce_only: true,
                status: "FILLED",
                time: now,
                update_time: now,
            };
            a.orders.push(forced.clone());
            // Open orders of a liquidated symbol are cancelled, as Binance does.
            let (cancel, keep): (Vec<usize>, Vec<usize>) =
                a.open.iter().partition(|&&i| a.orders[i].symbol == symbol);
            a.open = keep;
            for i in cancel {
                a.orders[i].status = "CANCELED";
                a.orders[i].update_time = now;
            }
            self.emit_order(acct, &forced, "CALCULATED", Some(&exec), now);
            tracing::info!(account = acct, %symbol, %price, "position liquidated");
        }
    }

    /// Sends MARGIN_CALL once each time a margin ratio (maintenance margin over margin
    /// balance) rises through [`MARGIN_CALL_RATIO`]: the cross positions together, each
    /// isolated position alone. A ratio back below the level re-arms it.
    fn margin_calls(
        &mut self,
        acct: usize,
        cross_call: bool,
        cross_rows: Vec<MarginCallRow>,
        isolated_calls: Vec<MarginCallRow>,
        isolated_clear: &[PositionKey],
        now: i64,
    ) {
        let a = &mut self.accounts[acct];
        for key in isolated_clear {
            a.margin_called_isolated.remove(key);
        }
        // A closed position's call is over; a new position starts un-called.
        let positions = &a.positions;
        a.margin_called_isolated
            .retain(|k| positions.get(k).is_some_and(|p| !p.amount.is_zero()));
        let mut events = Vec::new();
        if cross_call && !a.margin_called_cross {
            events.push((Some(a.wallet), cross_rows));
        }
        a.margin_called_cross = cross_call;
        for row in isolated_calls {
            if a.margin_called_isolated.insert(row.key.clone()) {
                events.push((None, vec![row]));
            }
        }
        for (cross_wallet, rows) in events {
            let positions: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let margin = if r.isolated {
                        let lev = Decimal::from(
                            a.settings
                                .get(&r.key.0)
                                .copied()
                                .unwrap_or_default()
                                .leverage,
                        );
                        let entry = a
                            .positions
                            .get(&r.key)
                            .map_or(Decimal::ZERO, |p| p.entry_price);
                        (entry * r.amount.abs()) / lev
                    } else {
                        Decimal::ZERO
                    };
                    json!({
                        "s": r.key.0, "ps": r.key.1.as_str(), "pa": dec(r.amount),
                        "mt": if r.isolated { "ISOLATED" } else { "CROSSED" },
                        "iw": dec(margin.round_dp(8)), "mp": dec(r.mark),
                        "up": dec(r.pnl.round_dp(8)), "mm": dec(r.maint.round_dp(8)),
                    })
                })
                .collect();
            let mut event = json!({"e": "MARGIN_CALL", "E": now, "p": positions});
            // `cw` is only sent with a cross margin call (docs).
            if let Some(w) = cross_wallet {
                event["cw"] = json!(dec(w));
            }
            self.outbox.push((acct, event));
        }
    }

    fn apply_funding(&mut self, acct: usize, from: i64, now: i64) {
        // Funding happens three times a day; most steps have none, so skip them cheaply.
        if self.market.next_funding_time(from) > now {
            return;
        }
        // One payment per position: in hedge mode the LONG and SHORT sides each pay or receive.
        let symbols: Vec<(String, PositionSide, Decimal)> = self.accounts[acct]
            .positions
            .iter()
            .filter(|(_, p)| !p.amount.is_zero())
            .map(|((s, ps), p)| (s.clone(), *ps, p.amount))
            .collect();
        for (symbol, position_side, amount) in symbols {
            for (time, rate) in self.market.funding_events_between(&symbol, from, now) {
                let mark = self.market.mark_price(&symbol, time).unwrap_or_default();
                // Longs pay shorts when the rate is positive.
                let payment = (-(amount * mark * rate)).round_dp(8);
                let tran_id = self.id();
                let a = &mut self.accounts[acct];
                a.wallet += payment;
                a.income.push(IncomeRow {
                    tran_id,
                    symbol: symbol.clone(),
                    income_type: "FUNDING_FEE",
                    income: payment,
                    info: "FUNDING_FEE".into(),
                    time,
                    trade_id: None,
                });
                self.emit_account(acct, "FUNDING_FEE", &symbol, position_side, time);
            }
        }
    }

    /// `POST /fapi/v1/leverage`.
    ///
    /// # Errors
    /// -4028 when the leverage is out of the symbol's range.
    pub fn set_leverage(&mut self, acct: usize, p: &Params) -> Result<Value, ApiError> {
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let leverage: u32 = p
            .req("leverage")?
            .parse()
            .map_err(|_| ApiError::invalid("leverage"))?;
        let max = spec.brackets.first().map_or(125, |b| b.initial_leverage);
        if leverage == 0 || leverage > max {
            return Err(ApiError::bad(
                -4028,
                format!("Leverage {leverage} is not valid"),
            ));
        }
        let cap = spec
            .brackets
            .iter()
            .filter(|b| b.initial_leverage >= leverage)
            .map(|b| b.notional_cap)
            .max()
            .unwrap_or_default();
        self.accounts[acct]
            .settings
            .entry(symbol.to_owned())
            .or_default()
            .leverage = leverage;
        Ok(json!({"leverage": leverage, "maxNotionalValue": dec(cap), "symbol": symbol}))
    }

    /// `POST /fapi/v1/positionSide/dual`: switches the account between one-way
    /// (`dualSidePosition=false`) and hedge mode (`true`), for all symbols.
    ///
    /// # Errors
    /// -4059 when already in that mode, -4067 with open orders (regular or algo), -4068 with
    /// a position; nothing changes then.
    pub fn set_position_mode(
        &mut self,
        acct: usize,
        p: &Params,
        now: i64,
    ) -> Result<Value, ApiError> {
        self.advance(now);
        let dual = p
            .bool("dualSidePosition")?
            .ok_or_else(|| ApiError::mandatory("dualSidePosition"))?;
        let a = &mut self.accounts[acct];
        if a.dual_side == dual {
            return Err(ApiError::bad(-4059, "No need to change position side."));
        }
        if !a.open.is_empty() || a.algo_orders.iter().any(|o| o.status == "NEW") {
            return Err(ApiError::bad(
                -4067,
                "Position side cannot be changed if there exists open orders.",
            ));
        }
        if a.positions.values().any(|p| !p.amount.is_zero()) {
            return Err(ApiError::bad(
                -4068,
                "Position side cannot be changed if there exists position.",
            ));
        }
        a.dual_side = dual;
        Ok(json!({"code": 200, "msg": "success"}))
    }

    /// `POST /fapi/v1/marginType`.
    ///
    /// # Errors
    /// -4046 when unchanged; -4048 with an open position or orders.
    pub fn set_margin_type(&mut self, acct: usize, p: &Params) -> Result<Value, ApiError> {
        let symbol = p.req("symbol")?;
        self.spec(symbol)?;
        let isolated = match p.req("marginType")? {
            "ISOLATED" => true,
            "CROSSED" => false,
            _ => return Err(ApiError::invalid("marginType")),
        };
        let a = &mut self.accounts[acct];
        let s = a.settings.entry(symbol.to_owned()).or_default();
        if s.isolated == isolated {
            return Err(ApiError::bad(-4046, "No need to change margin type."));
        }
        let busy = a
            .positions
            .iter()
            .any(|((s, _), p)| s == symbol && !p.amount.is_zero())
            || a.open.iter().any(|&i| a.orders[i].symbol == symbol);
        if busy {
            return Err(ApiError::bad(
                -4048,
                "Margin type cannot be changed if there exists position.",
            ));
        }
        a.settings.entry(symbol.to_owned()).or_default().isolated = isolated;
        Ok(json!({"code": 200, "msg": "success"}))
    }

    /// `GET /fapi/v3/positionRisk`: symbols with a position (v3 lists only those). One-way
    /// mode gives one `BOTH` row per symbol; hedge mode gives the `LONG` and the `SHORT` row
    /// of every symbol with a position on either side.
    pub fn position_risk(&mut self, acct: usize, symbol: Option<&str>, now: i64) -> Value {
        self.advance(now);
        let a = &self.accounts[acct];
        let wanted = |s: &String| symbol.is_none_or(|x| x == s.as_str());
        let keys: Vec<(PositionKey, Position)> = if a.dual_side {
            let held: std::collections::BTreeSet<&String> = a
                .positions
                .iter()
                .filter(|((s, ps), p)| {
                    *ps != PositionSide::Both && !p.amount.is_zero() && wanted(s)
                })
                .map(|((s, _), _)| s)
                .collect();
            held.into_iter()
                .flat_map(|s| [PositionSide::Long, PositionSide::Short].map(|ps| (s.clone(), ps)))
                .map(|k| {
                    let p = a.positions.get(&k).cloned().unwrap_or_default();
                    (k, p)
                })
                .collect()
        } else {
            a.positions
                .iter()
                .filter(|((s, ps), p)| {
                    *ps == PositionSide::Both && !p.amount.is_zero() && wanted(s)
                })
                .map(|(k, p)| (k.clone(), p.clone()))
                .collect()
        };
        let rows: Vec<Value> = keys
            .iter()
            .map(|((s, ps), p)| {
                let mark = self.market.mark_price(s, now).unwrap_or(p.entry_price);
                let settings = a.settings.get(s).copied().unwrap_or_default();
                let notional = p.amount * mark;
                let initial = notional.abs() / Decimal::from(settings.leverage);
                let maint = self.market.spec(s).map_or(Decimal::ZERO, |spec| {
                    let b = spec.maint_bracket(notional.abs());
                    notional.abs() * b.maint_margin_ratio - b.cum
                });
                json!({
                    "symbol": s, "positionSide": ps.as_str(), "positionAmt": dec(p.amount),
                    "entryPrice": dec(p.entry_price), "breakEvenPrice": dec(p.entry_price),
                    "markPrice": dec(mark), "unRealizedProfit": dec(((mark - p.entry_price) * p.amount).round_dp(8)),
                    "liquidationPrice": "0", "isolatedMargin": "0", "notional": dec(notional.round_dp(8)),
                    "marginAsset": "USDT", "isolatedWallet": "0", "initialMargin": dec(initial.round_dp(8)),
                    "maintMargin": dec(maint.round_dp(8)), "positionInitialMargin": dec(initial.round_dp(8)),
                    "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0",
                    "updateTime": p.update_time,
                })
            })
            .collect();
        Value::Array(rows)
    }

    /// `GET /fapi/v3/account` (and `/fapi/v2/account` with its extra fields when `v2`).
    pub fn account(&mut self, acct: usize, v2: bool, now: i64) -> Value {
        self.advance(now);
        let risk = self.position_risk(acct, None, now);
        let a = &self.accounts[acct];
        let margin_balance = self.margin_balance(a, now);
        let unrealized = margin_balance - a.wallet;
        let available = self.available(a, now);
        let used = self.used_margin(a, now);
        let field = |row: &Value, k: &str| {
            row[k]
                .as_str()
                .and_then(|v| v.parse::<Decimal>().ok())
                .unwrap_or_default()
        };
        let rows: Vec<&Value> = risk
            .as_array()
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        let maint: Decimal = rows.iter().map(|r| field(r, "maintMargin")).sum();
        let position_im: Decimal = rows.iter().map(|r| field(r, "initialMargin")).sum();
        let positions: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut p = json!({
                    "symbol": r["symbol"], "positionSide": r["positionSide"], "positionAmt": r["positionAmt"],
                    "unrealizedProfit": r["unRealizedProfit"], "isolatedMargin": r["isolatedMargin"],
                    "notional": r["notional"], "isolatedWallet": r["isolatedWallet"],
                    "initialMargin": r["initialMargin"], "maintMargin": r["maintMargin"], "updateTime": r["updateTime"],
                });
                if v2 {
                    let symbol = r["symbol"].as_str().unwrap_or_default();
                    let s = a.settings.get(symbol).copied().unwrap_or_default();
                    p["leverage"] = json!(s.leverage.to_string());
                    p["isolated"] = json!(s.isolated);
                    p["entryPrice"] = r["entryPrice"].clone();
                    p["maxNotional"] = json!("0");
                    p["bidNotional"] = json!("0");
                    p["askNotional"] = json!("0");
                    p["positionInitialMargin"] = r["positionInitialMargin"].clone();
                    p["openOrderInitialMargin"] = json!("0");
                }
                p
            })
            .collect();
        let d = |v: Decimal| dec(v.round_dp(8));
        let mut reply = json!({
            "totalInitialMargin": d(used), "totalMaintMargin": d(maint), "totalWalletBalance": d(a.wallet),
            "totalUnrealizedProfit": d(unrealized), "totalMarginBalance": d(margin_balance),
            "totalPositionInitialMargin": d(position_im), "totalOpenOrderInitialMargin": d(used - position_im),
            "totalCrossWalletBalance": d(a.wallet), "totalCrossUnPnl": d(unrealized), "availableBalance": d(available),
            "maxWithdrawAmount": d(available),
            "assets": [{
                "asset": "USDT", "walletBalance": d(a.wallet), "unrealizedProfit": d(unrealized),
                "marginBalance": d(margin_balance), "maintMargin": d(maint), "initialMargin": d(used),
                "positionInitialMargin": d(position_im), "openOrderInitialMargin": d(used - position_im),
                "crossWalletBalance": d(a.wallet), "crossUnPnl": d(unrealized), "availableBalance": d(available),
                "maxWithdrawAmount": d(available), "marginAvailable": true, "updateTime": now,
            }],
            "positions": positions,
        });
        if v2 {
            for (k, v) in [
                ("feeTier", json!(0)),
                ("feeBurn", json!(false)),
                ("canTrade", json!(a.permissions.futures)),
                ("canDeposit", json!(true)),
                ("canWithdraw", json!(a.permissions.withdrawals)),
                ("updateTime", json!(0)),
                ("multiAssetsMargin", json!(false)),
                ("tradeGroupId", json!(-1)),
            ] {
                reply[k] = v;
            }
        }
        reply
    }

    /// `GET /fapi/v3/balance`.
    pub fn balance(&mut self, acct: usize, now: i64) -> Value {
        self.advance(now);
        let a = &self.accounts[acct];
        let unrealized: Decimal = a
            .positions
            .iter()
            .map(|((s, _), p)| self.unrealized(s, p, now))
            .sum();
        let available = self.available(a, now);
        json!([{
            "accountAlias": "SimAccount", "asset": "USDT", "balance": dec(a.wallet),
            "crossWalletBalance": dec(a.wallet), "crossUnPnl": dec(unrealized.round_dp(8)),
            "availableBalance": dec(available.round_dp(8)), "maxWithdrawAmount": dec(available.round_dp(8)),
            "marginAvailable": true, "updateTime": now,
        }])
    }

    /// `GET /fapi/v1/income` from `start` (inclusive), oldest first, at most `limit`.
    pub fn income(
        &mut self,
        acct: usize,
        start: i64,
        income_type: Option<&str>,
        limit: usize,
        now: i64,
    ) -> Value {
        self.advance(now);
        Value::Array(
            self.accounts[acct]
                .income
                .iter()
                .filter(|r| r.time >= start && income_type.is_none_or(|t| t == r.income_type))
                .take(limit)
                .map(|r| {
                    json!({
                        "symbol": r.symbol, "incomeType": r.income_type, "income": dec(r.income), "asset": "USDT",
                        "info": r.info, "time": r.time, "tranId": r.tran_id,
                        "tradeId": r.trade_id.map_or_else(String::new, |t| t.to_string()),
                    })
                })
                .collect(),
        )
    }
}

/// How far back `userTrades` and `allOrders` look by default, and the widest window they
/// accept (7 days).
const HISTORY_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

/// An optional integer parameter.
fn int_param(p: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    p.get(name)
        .map(|v| v.parse().map_err(|_| ApiError::invalid(name)))
        .transpose()
}

/// `limit` with Binance's default and maximum (values above the maximum are capped).
fn limit_param(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match p.get("limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map(|l| l.clamp(1, max))
            .map_err(|_| ApiError::invalid("limit")),
    }
}

/// The inclusive time window of a history query: the last 7 days without times, 7 days
/// from `startTime` or up to `endTime` with one of them, and at most 7 days with both.
///
/// # Errors
/// -1023 when `startTime` is after `endTime`, -1127 when they are more than 7 days apart.
fn history_window(p: &Params, now: i64) -> Result<(i64, i64), ApiError> {
    let start = int_param(p, "startTime")?;
    let end = int_param(p, "endTime")?;
    match (start, end) {
        (None, None) => Ok((now - HISTORY_WINDOW_MS, now)),
        (Some(s), None) => Ok((s, s.saturating_add(HISTORY_WINDOW_MS).min(now))),
        (None, Some(e)) => Ok((e - HISTORY_WINDOW_MS, e)),
        (Some(s), Some(e)) if s > e => {
            Err(ApiError::bad(-1023, "Start time is greater than end time."))
        }
        (Some(s), Some(e)) if e - s > HISTORY_WINDOW_MS => Err(ApiError::bad(
            -1127,
            "More than 168 hours between startTime and endTime.",
        )),
        (Some(s), Some(e)) => Ok((s, e)),
    }
}

/// The items of a `batchOrders` parameter (a JSON array of objects, at most 5), each as the
/// parameters of one single-order request.
///
/// # Errors
/// -1102 without `batchOrders`, -1130 when it is not a JSON array of objects, -4082 for
/// none or more than 5.
fn batch_items(p: &Params) -> Result<Vec<Params>, ApiError> {
    let raw = p.req("batchOrders")?;
    let items: Vec<serde_json::Map<String, Value>> =
        serde_json::from_str(raw).map_err(|_| ApiError::invalid("batchOrders"))?;
    if items.is_empty() || items.len() > 5 {
        return Err(ApiError::bad(
            -4082,
            "Invalid number of batch place orders.",
        ));
    }
    Ok(items
        .into_iter()
        .map(|item| {
            let mut one = Params::default();
            for (k, v) in item {
                // Batch values are strings; numbers and booleans are accepted as Binance does.
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                one.0.insert(k, v);
            }
            one
        })
        .collect())
}

fn error_json(e: &ApiError) -> Value {
    json!({"code": e.code, "msg": e.msg})
}

impl Exchange {
    /// `PUT /fapi/v1/order`: changes the price and quantity of an open LIMIT order (or its
    /// price by `priceMatch`). Filters, percent price, reduce-only and margin are checked as
    /// for a new order; a refused change leaves the order as it was. The order is cancelled
    /// when the new quantity is not above what it has filled, or when it is post-only (GTX)
    /// and the new price would take. A change that makes the price marketable fills at once
    /// as a taker, like a new order would.
    ///
    /// # Errors
    /// -2013 unknown or no longer open, -5025 not a LIMIT order, -5027 nothing changes,
    /// -5026 after 10,000 changes, -1128 `price` with `priceMatch`, -5037 an unknown
    /// `priceMatch`, and the filter, reduce-only (-2022) and margin (-2019) codes.
    pub fn modify_order(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.req("symbol")?;
        let spec = self.spec(symbol)?.clone();
        let side =
            Side::parse(p.req("side")?).ok_or_else(|| ApiError::bad(-1117, "Invalid side."))?;
        let qty = p
            .decimal("quantity")?
            .ok_or_else(|| ApiError::mandatory("quantity"))?;
        let sent_price = p.decimal("price")?;
        let price_match = p.get("priceMatch").filter(|m| *m != "NONE");
        let modify_id = int_param(p, "modifyId")?.unwrap_or(0);
        let i = self.find_order(acct, p)?;
        let o = self.accounts[acct].orders[i].clone();
        if o.status != "NEW" && o.status != "PARTIALLY_FILLED" {
            // Filled, cancelled and expired orders are not in the book any more.
            return Err(ApiError::no_such_order());
        }
        if o.order_type != "LIMIT" {
            return Err(ApiError::bad(-5025, "Only limit order is supported."));
        }
        if o.side != side {
            return Err(ApiError::invalid("side"));
        }
        let price = match (sent_price, price_match) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad(
                    -1128,
                    "Combination of optional parameters invalid.",
                ));
            }
            (Some(price), None) => price,
            (None, Some(mode)) => self.match_price(symbol, side, mode, now)?,
            (None, None) => return Err(ApiError::mandatory("price")),
        };
        if qty.normalize().scale() > spec.quantity_precision {
            return Err(ApiError::bad(
                -1111,
                "Precision is over the maximum defined for this asset.",
            ));
        }
        if !((qty - spec.min_qty) / spec.step_size).fract().is_zero() {
            return Err(ApiError::bad(-4023, "Quantity not increased by step size."));
        }
        if qty < spec.min_qty {
            return Err(ApiError::bad(-4004, "Quantity less than min quantity."));
        }
        if qty > spec.max_qty {
            return Err(ApiError::bad(-4005, "Quantity greater than max quantity."));
        }
        check_price(&spec, price)?;
        let last = self.last(symbol, now)?;
        let mark = self.market.mark_price(symbol, now).unwrap_or(last);
        if side == Side::Buy && price > mark * spec.multiplier_up {
            return Err(ApiError::bad(
                -4016,
                "Limit price can't be higher than the mark price multiplied by the cap.",
            ));
        }
        if side == Side::Sell && price < mark * spec.multiplier_down {
            return Err(ApiError::bad(
                -4024,
                "Limit price can't be lower than the mark price multiplied by the floor.",
            ));
        }
        if price == o.price && qty == o.orig_qty {
            return Err(ApiError::bad(-5027, "No need to modify the order."));
        }
        let a = &self.accounts[acct];
        let count = a
            .amendments
            .iter()
            .filter(|m| m.order_id == o.order_id)
            .count();
        if count >= 10_000 {
            return Err(ApiError::bad(-5026, "Exceed maximum modify order limit."));
        }
        let hedge_close = o.position_side.closed_by(side);
        let remaining = qty - o.executed_qty;
        let position = a
            .positions
            .get(&(symbol.to_owned(), o.position_side))
            .cloned()
            .unwrap_or_default();
        if remaining > Decimal::ZERO {
            if o.reduce_only || hedge_close {
                // What the other closing orders already claim of the position.
                let others: Decimal = a
                    .open
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| &a.orders[j])
                    .filter(|x| {
                        x.symbol == symbol && x.position_side == o.position_side && x.side == side
                    })
                    .map(|x| x.orig_qty - x.executed_qty)
                    .sum();
                let reduces = !position.amount.is_zero()
                    && position.amount.is_sign_positive() != (side == Side::Buy);
                let room = if hedge_close {
                    position.amount.abs() - others
                } else {
                    position.amount.abs()
                };
                if !reduces || remaining > room {
                    return Err(ApiError::bad(-2022, "ReduceOnly Order is rejected."));
                }
            } else {
                if qty * price < spec.min_notional {
                    return Err(ApiError::bad(
                        -4164,
                        format!(
                            "Order's notional must be no smaller than {} (unless you choose reduce only).",
                            dec(spec.min_notional)
                        ),
                    ));
                }
                let lev =
                    Decimal::from(a.settings.get(symbol).copied().unwrap_or_default().leverage);
                let held = ((o.orig_qty - o.executed_qty) * o.price) / lev;
                let needed = (remaining * price) / lev + remaining * price * self.fees.taker;
                if needed - held > self.available(a, now) {
                    return Err(ApiError::margin());
                }
            }
        }
        let marketable = match side {
            Side::Buy => price >= last,
            Side::Sell => price <= last,
        };
        let amendment_id = self.id();
        let a = &mut self.accounts[acct];
        a.amendments.push(Amendment {
            amendment_id,
            order_id: o.order_id,
            client_order_id: o.client_order_id.clone(),
            symbol: symbol.to_owned(),
            time: now,
            price_before: o.price,
            price_after: price,
            qty_before: o.orig_qty,
            qty_after: qty,
            count: u32::try_from(count + 1).unwrap_or(u32::MAX),
            modify_id,
        });
        let order = &mut a.orders[i];
        order.update_time = now;
        if remaining <= Decimal::ZERO || (o.time_in_force == "GTX" && marketable) {
            order.status = "CANCELED";
            let cancelled = order.clone();
            a.open.retain(|&j| j != i);
            self.emit_order(acct, &cancelled, "CANCELED", None, now);
        } else {
            order.price = price;
            order.orig_qty = qty;
            let amended = order.clone();
            self.emit_order(acct, &amended, "AMENDMENT", None, now);
            if marketable {
                let taken = self.taker_price(symbol, side, last, remaining);
                let fill_price = match side {
                    Side::Buy => taken.min(price),
                    Side::Sell => taken.max(price),
                };
                let exec = self.fill(
                    acct,
                    Fill {
                        order_id: o.order_id,
                        symbol,
                        side,
                        position_side: o.position_side,
                        qty: remaining,
                        price: fill_price,
                        maker: false,
                    },
                    now,
                );
                let a = &mut self.accounts[acct];
                let order = &mut a.orders[i];
                order.executed_qty = qty;
                order.cum_quote += (remaining * fill_price).round_dp(8);
                order.status = "FILLED";
                let filled = order.clone();
                a.open.retain(|&j| j != i);
                self.emit_order(acct, &filled, "TRADE", Some(&exec), now);
            }
        }
        let mut reply = order_json(&self.accounts[acct].orders[i], true);
        reply["pair"] = json!(symbol);
        reply["modifyId"] = json!(modify_id);
        Ok(reply)
    }

    /// The price `priceMatch` names on the book: OPPONENT(_5/_10/_20) is the best (5th, 10th,
    /// 20th) price on the other side, QUEUE(_5/_10/_20) the same on the order's own side.
    ///
    /// # Errors
    /// -5037 for another value.
    fn match_price(
        &self,
        symbol: &str,
        side: Side,
        mode: &str,
        now: i64,
    ) -> Result<Decimal, ApiError> {
        let (opponent, level) = match mode {
            "OPPONENT" => (true, 0),
            "OPPONENT_5" => (true, 4),
            "OPPONENT_10" => (true, 9),
            "OPPONENT_20" => (true, 19),
            "QUEUE" => (false, 0),
            "QUEUE_5" => (false, 4),
            "QUEUE_10" => (false, 9),
            "QUEUE_20" => (false, 19),
            _ => return Err(ApiError::bad(-5037, "Invalid price match")),
        };
        let (bids, asks) = self.market.depth(symbol, now, level + 1);
        let book = if opponent == (side == Side::Buy) {
            asks
        } else {
            bids
        };
        book.get(level)
            .map(|(price, _)| *price)
            .ok_or_else(|| ApiError::bad(-1112, "No orders on book for symbol."))
    }

    /// `PUT /fapi/v1/batchOrders`: up to 5 modifications, each as `PUT /fapi/v1/order` would
    /// do it; the reply keeps the input order, with `{code, msg}` for each refused one.
    ///
    /// # Errors
    /// -1102 without `batchOrders`, -1130 when it is not a JSON array of objects, -4082 for
    /// none or more than 5; nothing is changed then.
    pub fn batch_modify(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        let items = batch_items(p)?;
        Ok(Value::Array(
            items
                .iter()
                .map(|one| {
                    self.modify_order(acct, one, now)
                        .unwrap_or_else(|e| error_json(&e))
                })
                .collect(),
        ))
    }

    /// `GET /fapi/v1/orderAmendment`: the modifications of one order, oldest first, within
    /// `startTime`/`endTime` (inclusive), at most `limit` (default 50, at most 100).
    ///
    /// # Errors
    /// -2013 for an unknown order, -1130 for bad numbers.
    pub fn order_amendments(
        &mut self,
        acct: usize,
        p: &Params,
        now: i64,
    ) -> Result<Value, ApiError> {
        self.advance(now);
        let i = self.find_order(acct, p)?;
        let start = int_param(p, "startTime")?.unwrap_or(i64::MIN);
        let end = int_param(p, "endTime")?.unwrap_or(i64::MAX);
        let limit = limit_param(p, 50, 100)?;
        let a = &self.accounts[acct];
        let order_id = a.orders[i].order_id;
        Ok(Value::Array(
            a.amendments
                .iter()
                .filter(|m| m.order_id == order_id && (start..=end).contains(&m.time))
                .take(limit)
                .map(|m| {
                    json!({
                        "amendmentId": m.amendment_id, "symbol": m.symbol, "pair": m.symbol,
                        "orderId": m.order_id, "clientOrderId": m.client_order_id, "time": m.time,
                        "amendment": {
                            "price": {"before": dec(m.price_before), "after": dec(m.price_after)},
                            "origQty": {"before": dec(m.qty_before), "after": dec(m.qty_after)},
                            "count": m.count, "modifyId": m.modify_id,
                        },
                    })
                })
                .collect(),
        ))
    }

    /// `DELETE /fapi/v1/batchOrders`: cancels up to 10 orders of `symbol` named by
    /// `orderIdList` (a JSON array of ids) or, without it, `origClientOrderIdList` (a JSON
    /// array of client ids). Parameter names match in any case (ccxt sends them in lower
    /// case). The reply keeps the input order: the cancelled order, or `{code, msg}`
    /// (-2011) for one that is unknown or no longer open.
    ///
    /// # Errors
    /// -1102 without either list, -1130 for a malformed list, -4032 for more than 10 ids;
    /// nothing is cancelled then.
    pub fn cancel_batch(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        let symbol = p.req("symbol")?;
        self.spec(symbol)?;
        let one = |key: &str, value: String| {
            let mut q = Params::default();
            q.0.insert("symbol".into(), symbol.to_owned());
            q.0.insert(key.into(), value);
            q
        };
        let items: Vec<Params> = if let Some(raw) = p.get_any_case("orderIdList") {
            let ids: Vec<Value> =
                serde_json::from_str(raw).map_err(|_| ApiError::invalid("orderIdList"))?;
            ids.iter()
                .map(|v| {
                    let id = match v {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.parse().ok(),
                        _ => None,
                    };
                    id.map(|id| one("orderId", id.to_string()))
                        .ok_or_else(|| ApiError::invalid("orderIdList"))
                })
                .collect::<Result<_, _>>()?
        } else if let Some(raw) = p.get_any_case("origClientOrderIdList") {
            let ids: Vec<String> = serde_json::from_str(raw)
                .map_err(|_| ApiError::invalid("origClientOrderIdList"))?;
            ids.into_iter()
                .map(|id| one("origClientOrderId", id))
                .collect()
        } else {
            return Err(ApiError::bad(
                -1102,
                "Param 'orderIdList' or 'origClientOrderIdList' must be sent, but both were empty/null!",
            ));
        };
        if items.is_empty() {
            return Err(ApiError::invalid("orderIdList"));
        }
        if items.len() > 10 {
            return Err(ApiError::bad(-4032, "Exceed maximum cancel order size."));
        }
        Ok(Value::Array(
            items
                .iter()
                .map(|q| {
                    self.cancel_order(acct, q, now)
                        .unwrap_or_else(|e| error_json(&e))
                })
                .collect(),
        ))
    }

    /// `GET /fapi/v1/userTrades` for `symbol`, oldest first, at most `limit` (default 500, at
    /// most 1000). With `fromId`: the trades from that id on, whatever their time (it may not
    /// be sent with times). With `orderId`: that order's trades. Otherwise the last 7 days
    /// (or 7 days from `startTime` / up to `endTime`); from `startTime` the first `limit`
    /// trades, else the latest.
    ///
    /// # Errors
    /// -1121 unknown symbol, -1128 `fromId` with times, -1023/-1127 bad windows, -1130 bad
    /// numbers.
    pub fn user_trades(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.req("symbol")?;
        self.spec(symbol)?;
        let limit = limit_param(p, 500, 1000)?;
        let from_id = int_param(p, "fromId")?;
        let order_id = int_param(p, "orderId")?;
        let timed = p.get("startTime").is_some() || p.get("endTime").is_some();
        if from_id.is_some() && timed {
            return Err(ApiError::bad(
                -1128,
                "Combination of optional parameters invalid.",
            ));
        }
        let trades = self.accounts[acct]
            .trades
            .iter()
            .filter(|t| t.symbol == symbol && order_id.is_none_or(|o| t.order_id == o));
        let picked: Vec<&Trade> = if let Some(from) = from_id {
            trades.filter(|t| t.id >= from).take(limit).collect()
        } else if order_id.is_some() && !timed {
            trades.take(limit).collect()
        } else {
            let (start, end) = history_window(p, now)?;
            let inside: Vec<&Trade> = trades.filter(|t| (start..=end).contains(&t.time)).collect();
            latest_or_first(inside, limit, p.get("startTime").is_some())
        };
        Ok(Value::Array(picked.into_iter().map(trade_json).collect()))
    }

    /// `GET /fapi/v1/allOrders` (regular orders; `symbol` optional), oldest first, at most
    /// `limit` (default 500, at most 1000). With `orderId`: the orders from that id on,
    /// whatever their time. Otherwise the last 7 days of creation times (or 7 days from
    /// `startTime` / up to `endTime`); from `startTime` the first `limit` orders, else the
    /// latest.
    ///
    /// # Errors
    /// -1121 unknown symbol, -1023/-1127 bad windows, -1130 bad numbers.
    pub fn all_orders(&mut self, acct: usize, p: &Params, now: i64) -> Result<Value, ApiError> {
        self.advance(now);
        let symbol = p.get("symbol");
        if let Some(s) = symbol {
            self.spec(s)?;
        }
        let limit = limit_param(p, 500, 1000)?;
        let from_id = int_param(p, "orderId")?;
        let orders = self.accounts[acct]
            .orders
            .iter()
            .filter(|o| symbol.is_none_or(|s| s == o.symbol));
        let picked: Vec<&SimOrder> = if let Some(from) = from_id {
            orders.filter(|o| o.order_id >= from).take(limit).collect()
        } else {
            let (start, end) = history_window(p, now)?;
            let inside: Vec<&SimOrder> =
                orders.filter(|o| (start..=end).contains(&o.time)).collect();
            latest_or_first(inside, limit, p.get("startTime").is_some())
        };
        Ok(Value::Array(
            picked.into_iter().map(|o| order_json(o, true)).collect(),
        ))
    }
}

/// The first `limit` rows when the query starts at a time, else the latest `limit`.
fn latest_or_first<T>(mut rows: Vec<T>, limit: usize, from_start: bool) -> Vec<T> {
    if from_start {
        rows.truncate(limit);
    } else {
        let skip = rows.len().saturating_sub(limit);
        rows.drain(..skip);
    }
    rows
}

fn trade_json(t: &Trade) -> Value {
    json!({
        "buyer": t.side == Side::Buy, "commission": dec(t.commission), "commissionAsset": "USDT", "id": t.id,
        "maker": t.maker, "orderId": t.order_id, "price": dec(t.price), "qty": dec(t.qty),
        "quoteQty": dec((t.price * t.qty).round_dp(8)), "realizedPnl": dec(t.realized_pnl),
        "side": t.side.as_str(), "positionSide": t.position_side.as_str(), "symbol": t.symbol, "time": t.time,
    })
}

/// The `positionSide` of an order, checked against the account's mode: `BOTH` (or absent) in
/// one-way mode, `LONG`/`SHORT` in hedge mode (-4061 otherwise). `reduceOnly` is refused in
/// hedge mode (-1106): closing is said with the position side there.
fn order_position_side(dual: bool, p: &Params) -> Result<PositionSide, ApiError> {
    let mismatch = || {
        ApiError::bad(
            -4061,
            "Order's position side does not match user's setting.",
        )
    };
    let side = match p.get("positionSide") {
        None => PositionSide::Both,
        Some(s) => PositionSide::parse(s).ok_or_else(mismatch)?,
    };
    if dual != (side != PositionSide::Both) {
        return Err(mismatch());
    }
    if dual && p.get("reduceOnly").is_some() {
        return Err(ApiError::bad(
            -1106,
            "Parameter 'reduceonly' sent when not required.",
        ));
    }
    Ok(side)
}

/// PRICE_FILTER: precision, tick, range (applies to prices and trigger prices alike).
fn check_price(spec: &SymbolSpec, price: Decimal) -> Result<(), ApiError> {
    if price.normalize().scale() > spec.price_precision {
        return Err(ApiError::bad(
            -1111,
            "Precision is over the maximum defined for this asset.",
        ));
    }
    if !((price - spec.min_price) / spec.tick_size)
        .fract()
        .is_zero()
    {
        return Err(ApiError::bad(-4014, "Price not increased by tick size."));
    }
    if price < spec.min_price {
        return Err(ApiError::bad(-4013, "Price less than min price."));
    }
    if price > spec.max_price {
        return Err(ApiError::bad(-4002, "Price greater than max price."));
    }
    Ok(())
}

fn valid_client_id(id: &str) -> Result<String, ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 36
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:/_-".contains(c));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::invalid("newClientOrderId"))
    }
}

fn order_json(o: &SimOrder, full: bool) -> Value {
    let avg = if o.executed_qty.is_zero() {
        Decimal::ZERO
    } else {
        (o.cum_quote / o.executed_qty).round_dp(8)
    };
    let mut v = json!({
        "orderId": o.order_id, "symbol": o.symbol, "status": o.status, "clientOrderId": o.client_order_id,
        "price": dec(o.price), "avgPrice": dec(avg), "origQty": dec(o.orig_qty), "executedQty": dec(o.executed_qty),
        "cumQty": dec(o.executed_qty), "cumQuote": dec(o.cum_quote), "timeInForce": o.time_in_force, "type": o.order_type,
        "reduceOnly": o.reduce_only, "closePosition": false, "side": o.side.as_str(), "positionSide": o.position_side.as_str(),
        "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": false, "origType": o.order_type,
        "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "updateTime": o.update_time,
    });
    if full {
        v["time"] = json!(o.time);
    } else {
        // ACK replies carry no fill information.
        v["executedQty"] = json!("0");
        v["cumQty"] = json!("0");
        v["cumQuote"] = json!("0");
        v["avgPrice"] = json!("0.00");
        v["status"] = json!("NEW");
    }
    v
}

/// The type of the order an algo order placed in the matching engine, once it has.
fn actual_type(o: &AlgoOrder) -> Option<&'static str> {
    o.actual_order_id.map(|_| match o.order_type.as_str() {
        "STOP" | "TAKE_PROFIT" => "LIMIT",
        _ => "MARKET",
    })
}

fn algo_json(o: &AlgoOrder) -> Value {
    json!({
        "algoId": o.algo_id, "clientAlgoId": o.client_algo_id, "algoType": "CONDITIONAL", "orderType": o.order_type,
        "symbol": o.symbol, "side": o.side.as_str(), "positionSide": o.position_side.as_str(), "timeInForce": o.time_in_force,
        "quantity": dec(o.quantity), "algoStatus": o.status, "triggerPrice": dec(o.trigger_price), "price": dec(o.price),
        "icebergQuantity": null, "selfTradePreventionMode": "EXPIRE_MAKER", "workingType": o.working_type,
        "priceMatch": "NONE", "closePosition": o.close_position, "priceProtect": o.price_protect,
        "reduceOnly": o.reduce_only, "activatePrice": o.activate_price.map_or_else(String::new, dec),
        "callbackRate": o.callback_rate.map_or_else(String::new, dec), "createTime": o.create_time,
        "updateTime": o.update_time, "triggerTime": o.trigger_time, "goodTillDate": 0,
        "actualOrderId": o.actual_order_id.map_or_else(String::new, |i| i.to_string()),
        // Query and list shapes carry these; empty strings stand for unset (CONTRACT.md 4.4).
        "actualPrice": "", "actualQty": "", "actualType": actual_type(o).unwrap_or(""), "tpOrderType": "",
        "tpTriggerPrice": "", "tpPrice": "", "slTriggerPrice": "", "slPrice": "",
    })
}

/// Request parameters (query and form body merged; the query wins, as on Binance).
#[derive(Debug, Default, Clone)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// The value of `name`, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value of `name` in any letter case (ccxt lower-cases some names), if sent and
    /// not empty; the exact spelling wins.
    pub fn get_any_case(&self, name: &str) -> Option<&str> {
        self.get(name).or_else(|| {
            self.0
                .iter()
                .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_empty())
                .map(|(_, v)| v.as_str())
        })
    }

    /// A mandatory parameter.
    ///
    /// # Errors
    /// -1102 when missing.
    pub fn req(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::mandatory(name))
    }

    /// An optional decimal.
    ///
    /// # Errors
    /// -1130 when not a positive decimal.
    pub fn decimal(&self, name: &str) -> Result<Option<Decimal>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                let d: Decimal = v.parse().map_err(|_| ApiError::invalid(name))?;
                if d <= Decimal::ZERO {
                    Err(ApiError::invalid(name))
                } else {
                    Ok(Some(d))
                }
            }
        }
    }

    /// An optional boolean (`true`/`false`).
    ///
    /// # Errors
    /// -1130 for anything else.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true" | "TRUE") => Ok(Some(true)),
            Some("false" | "FALSE") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid(name)),
        }
    }
}

/// The `&'static str` values the exchange stores (order and algo statuses, income types),
/// read back from a saved state. An unknown value is an error, not a silent default.
const KNOWN_STRS: &[&str] = &[
    "NEW",
    "PARTIALLY_FILLED",
    "FILLED",
    "CANCELED",
    "REJECTED",
    "EXPIRED",
    "EXPIRED_IN_MATCH",
    "TRIGGERING",
    "TRIGGERED",
    "FINISHED",
    "TRANSFER",
    "REALIZED_PNL",
    "COMMISSION",
    "FUNDING_FEE",
    "INSURANCE_CLEAR",
];

fn known_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = String::deserialize(d)?;
    KNOWN_STRS
        .iter()
        .copied()
        .find(|k| *k == s)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown value {s:?}")))
}

/// Positions as a JSON list of `{symbol, positionSide, ...}` (map keys must be strings in JSON).
mod position_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Position, PositionKey, PositionSide};

    #[derive(Serialize, Deserialize)]
    struct Row {
        symbol: String,
        position_side: PositionSide,
        #[serde(flatten)]
        position: Position,
    }

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<PositionKey, Position>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let rows: Vec<Row> = map
            .iter()
            .map(|((symbol, side), p)| Row {
                symbol: symbol.clone(),
                position_side: *side,
                position: p.clone(),
            })
            .collect();
        rows.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<PositionKey, Position>, D::Error> {
        let rows = Vec::<Row>::deserialize(d)?;
        Ok(rows
            .into_iter()
            .map(|r| ((r.symbol, r.position_side), r.position))
            .collect())
    }
}

/// Everything [`Exchange`] keeps besides the market data: what paper mode saves between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version; a file of another version is refused.
    pub version: u32,
    /// Commission rates.
    pub fees: Fees,
    /// Accounts with their positions, orders, algo orders, trades, income and settings.
    pub accounts: Vec<Account>,
    /// The last id handed out (order, trade, algo and income ids share it).
    pub next_id: i64,
    /// The replay time the exchange has processed up to: where the clock resumes.
    pub clock_ms: i64,
}

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Why a saved state could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading, writing or renaming the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is not a snapshot this build understands.
    #[error("{path}: not a perpdesk-sim state file: {reason}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What was wrong.
        reason: String,
    },
}

impl Exchange {
    /// The replay time processed so far (a loaded exchange resumes its clock here).
    pub fn clock_ms(&self) -> i64 {
        self.processed_to
    }

    /// A copy of the state (everything but the market data and unsent stream events).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: SNAPSHOT_VERSION,
            fees: self.fees,
            accounts: self.accounts.clone(),
            next_id: self.next_id,
            clock_ms: self.processed_to,
        }
    }

    /// An exchange over `market` in the state `snapshot` describes.
    ///
    /// # Errors
    /// A message when the snapshot is of another version or inconsistent (an open-order
    /// index out of range, an order on a symbol `market` does not list).
    pub fn from_snapshot(market: MarketData, snapshot: Snapshot) -> Result<Self, String> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(format!(
                "version {} (this build reads {SNAPSHOT_VERSION})",
                snapshot.version
            ));
        }
        for a in &snapshot.accounts {
            if let Some(i) = a.open.iter().find(|&&i| i >= a.orders.len()) {
                return Err(format!(
                    "account {}: open order index {i} out of range",
                    a.api_key
                ));
            }
            let symbols = a
                .orders
                .iter()
                .map(|o| &o.symbol)
                .chain(a.positions.keys().map(|(s, _)| s));
            for s in symbols {
                if market.spec(s).is_none() {
                    return Err(format!(
                        "account {}: symbol {s} is not in the market data",
                        a.api_key
                    ));
                }
            }
        }
        Ok(Self {
            market,
            fees: snapshot.fees,
            slippage: Slippage::default(),
            accounts: snapshot.accounts,
            next_id: snapshot.next_id,
            processed_to: snapshot.clock_ms,
            outbox: Vec::new(),
        })
    }

    /// Writes the state to `path` as JSON, atomically: a temporary file in the same folder is
    /// written and synced, then renamed over `path`, so a crash leaves the old file or the
    /// new one, never half of one.
    ///
    /// # Errors
    /// [`StateError::Io`] when the folder is not writable.
    pub fn save(&self, path: &std::path::Path) -> Result<(), StateError> {
        use std::io::Write;
        let io = |source| StateError::Io {
            path: path.to_owned(),
            source,
        };
        let json = serde_json::to_vec_pretty(&self.snapshot()).map_err(|e| StateError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            // Make the rename itself durable (best effort: not every platform opens folders).
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && let Ok(d) = std::fs::File::open(dir)
            {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(io)
    }

    /// Reads a state written by [`Exchange::save`] over `market`.
    ///
    /// # Errors
    /// [`StateError::Io`] when unreadable, [`StateError::Format`] when it is not a snapshot
    /// of this version or does not fit `market`.
    pub fn load(market: MarketData, path: &std::path::Path) -> Result<Self, StateError> {
        let bytes = std::fs::read(path).map_err(|source| StateError::Io {
            path: path.to_owned(),
            source,
        })?;
        let format = |reason: String| StateError::Format {
            path: path.to_owned(),
            reason,
        };
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|e| format(e.to_string()))?;
        Self::from_snapshot(market, snapshot).map_err(format)
    }
}
