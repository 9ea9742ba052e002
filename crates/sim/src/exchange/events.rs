//! User-data events the exchange queues in its outbox, as typed values taken at the moment
//! they happen; `replies::events` renders them as Binance's stream events.

use rust_decimal::Decimal;

use super::Exchange;
use super::book::Execution;
use super::state::{AlgoOrder, Position, PositionKey, PositionSide, SimOrder};

/// One user-data event.
#[derive(Debug, Clone, PartialEq)]
pub enum UserEvent {
    /// `ACCOUNT_UPDATE`: the wallet and one position after a change.
    Account {
        /// Event time.
        time: i64,
        /// Why (`ORDER`, `FUNDING_FEE`).
        reason: &'static str,
        /// The wallet balance.
        wallet: Decimal,
        /// The position's symbol.
        symbol: String,
        /// The position's side.
        position_side: PositionSide,
        /// The position (flat when closed).
        position: Position,
        /// The mark price then.
        mark: Decimal,
        /// Isolated margin on that symbol.
        isolated: bool,
        /// The isolated position's own margin (`iw`; zero for cross).
        isolated_wallet: Decimal,
        /// Its break-even price (`bep`).
        break_even: Decimal,
    },
    /// `ORDER_TRADE_UPDATE`: an order changed.
    Order {
        /// Event time.
        time: i64,
        /// The order after the change.
        order: SimOrder,
        /// Binance's execution type (`NEW`, `TRADE`, `CANCELED`, `EXPIRED`, `AMENDMENT`,
        /// `CALCULATED` for a liquidation).
        execution_type: &'static str,
        /// The fill, for a trade.
        execution: Option<Execution>,
    },
    /// `ALGO_UPDATE`: an algo order changed.
    Algo {
        /// Event time.
        time: i64,
        /// The algo order after the change.
        order: AlgoOrder,
    },
    /// `MARGIN_CALL`: positions whose margin ratio rose through the margin-call level.
    MarginCall {
        /// Event time.
        time: i64,
        /// The cross wallet, for a cross margin call only.
        cross_wallet: Option<Decimal>,
        /// The positions concerned.
        positions: Vec<MarginCallRow>,
    },
}

/// One position in a margin-call check, at the step's worst mark price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginCallRow {
    /// Symbol and position side.
    pub key: PositionKey,
    /// Signed amount.
    pub amount: Decimal,
    /// The mark price it was judged at.
    pub mark: Decimal,
    /// Maintenance margin there.
    pub maint: Decimal,
    /// Unrealized PnL there.
    pub pnl: Decimal,
    /// Isolated (else cross).
    pub isolated: bool,
    /// The isolated position's own margin (zero for cross).
    pub isolated_wallet: Decimal,
}

impl Exchange {
    /// Queues an `ACCOUNT_UPDATE` with the wallet and the position of `symbol` on `side`.
    pub(super) fn emit_account(
        &mut self,
        acct: usize,
        reason: &'static str,
        symbol: &str,
        side: PositionSide,
        now: i64,
    ) {
        let a = &self.accounts[acct];
        let position = a.position(symbol, side);
        let isolated_wallet = self.isolated_wallet(a, symbol, &position).round_dp(8);
        let break_even = self.break_even_price(&position);
        let event = UserEvent::Account {
            isolated_wallet,
            break_even,
            time: now,
            reason,
            wallet: a.wallet,
            symbol: symbol.to_owned(),
            position_side: side,
            mark: self.mark_or(symbol, now, position.entry_price),
            isolated: a.settings_of(symbol).isolated,
            position,
        };
        self.outbox.push((acct, event));
    }

    /// Queues an `ORDER_TRADE_UPDATE` for `order` with execution type `x`.
    pub(super) fn emit_order(
        &mut self,
        acct: usize,
        order: &SimOrder,
        x: &'static str,
        exec: Option<&Execution>,
        now: i64,
    ) {
        let event = UserEvent::Order {
            time: now,
            order: order.clone(),
            execution_type: x,
            execution: exec.cloned(),
        };
        self.outbox.push((acct, event));
    }

    /// Queues an `ALGO_UPDATE` for `o`.
    pub(super) fn emit_algo(&mut self, acct: usize, o: &AlgoOrder, now: i64) {
        let event = UserEvent::Algo {
            time: now,
            order: o.clone(),
        };
        self.outbox.push((acct, event));
    }
}
