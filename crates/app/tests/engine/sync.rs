//! Sync against the simulator: what is stored equals what the exchange reports, a second
//! run writes nothing, and closes made outside perpdesk are reported.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use perpdesk_app::books::ShareSettings;
use perpdesk_app::sync::{ForcedCause, SyncReport, sync_account};
use perpdesk_binance::Client;
use perpdesk_binance::wire::Side as WireSide;
use perpdesk_binance::wire::trade::NewOrderRequest;
use perpdesk_core::journal::client_order_id;
use perpdesk_core::{
    Fill, Income, IncomeKind, Leg, MarginType, OrderKind, OrderRequest, PositionSide, Side, Symbol,
    TicketOrigin, ticket_id,
};
use perpdesk_sim::server::Running;
use perpdesk_store::{Environment, NewAccount, Store};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::support::{START, advance, client, start_sim};

pub const HOUR: i64 = 3_600_000;

pub fn btc() -> Symbol {
    Symbol::new("BTCUSDT").expect("symbol")
}

pub fn eth() -> Symbol {
    Symbol::new("ETHUSDT").expect("symbol")
}

/// A simulator, a client for its account and a local database to sync into.
pub struct Desk {
    pub sim: Running,
    pub client: Client,
    seq: Cell<u32>,
}

impl Desk {
    pub async fn new() -> Self {
        let sim = start_sim().await;
        let client = client(&sim);
        Self {
            sim,
            client,
            seq: Cell::new(0),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.sim.shared.clock.now_ms()
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.now_ms()).expect("sim time")
    }

    pub fn advance(&self, ms: i64) {
        advance(&self.sim, ms);
    }

    /// The replayed last price of `symbol` at `t_ms` (read ahead, to choose a direction).
    pub fn price_at(&self, symbol: &Symbol, t_ms: i64) -> Decimal {
        self.sim
            .shared
            .exchange
            .lock()
            .expect("exchange lock")
            .market
            .last_price(symbol.as_str(), t_ms)
            .expect("price in data")
    }

    /// Places a market order through perpdesk's client with the client order id of `leg`
    /// of `ticket`.
    pub async fn market(&self, ticket: &str, leg: Leg, symbol: &Symbol, side: Side, qty: Decimal) {
        let order = OrderRequest {
            symbol: symbol.clone(),
            side,
            position_side: PositionSide::Both,
            kind: OrderKind::Market,
            quantity: Some(qty),
            reduce_only: leg != Leg::Entry,
            close_position: false,
            client_order_id: client_order_id(ticket, leg, 0).expect("client id"),
        };
        self.client
            .raw()
            .place_order(&order)
            .await
            .expect("order placed");
    }

    /// Opens a position from a new ticket of `origin` and returns the ticket id.
    pub async fn open(
        &self,
        origin: TicketOrigin,
        symbol: &Symbol,
        side: Side,
        qty: Decimal,
    ) -> String {
        self.seq.set(self.seq.get() + 1);
        let ticket = ticket_id(origin, self.now_ms(), self.seq.get());
        self.market(&ticket, Leg::Entry, symbol, side, qty).await;
        ticket
    }

    /// Closes the position of `ticket` with its close leg.
    pub async fn close(&self, ticket: &str, symbol: &Symbol, open_side: Side, qty: Decimal) {
        self.market(ticket, Leg::Close, symbol, open_side.opposite(), qty)
            .await;
    }

    /// Finds the next whole-hour start from now where `symbol` moves by more than `by`
    /// (a fraction) over `hold_ms`, moves the clock there, and returns the side that
    /// profits. Reading ahead in the replayed data lets a test choose wins and losses.
    pub fn seek_move(&self, symbol: &Symbol, hold_ms: i64, by: Decimal) -> Side {
        let mut t = self.now_ms() + HOUR - self.now_ms().rem_euclid(HOUR);
        loop {
            let a = self.price_at(symbol, t);
            let b = self.price_at(symbol, t + hold_ms);
            if ((b - a) / a).abs() > by {
                self.advance(t - self.now_ms());
                return if b > a { Side::Buy } else { Side::Sell };
            }
            t += HOUR;
        }
    }

    /// One round trip held for `hold_ms`, winning or losing by choice; returns its ticket.
    pub async fn trip(
        &self,
        origin: TicketOrigin,
        symbol: &Symbol,
        win: bool,
        hold_ms: i64,
    ) -> String {
        let up = self.seek_move(symbol, hold_ms, dec!(0.005));
        let side = if win { up } else { up.opposite() };
        let qty = if *symbol == btc() {
            dec!(0.01)
        } else {
            dec!(0.1)
        };
        let ticket = self.open(origin, symbol, side, qty).await;
        self.advance(hold_ms);
        self.close(&ticket, symbol, side, qty).await;
        self.advance(1_000);
        ticket
    }
}

pub async fn new_store() -> (Store, i64) {
    let store = Store::open_in_memory().await.expect("store");
    let account = store
        .create_account(
            &NewAccount {
                name: "paper".into(),
                environment: Environment::Paper,
                api_key_id: "engine-key".into(),
                secret_sealed: "sealed".into(),
            },
            DateTime::from_timestamp_millis(START).expect("time"),
        )
        .await
        .expect("account");
    (store, account)
}

pub async fn sync(
    desk: &Desk,
    store: &Store,
    account: i64,
    settings: &ShareSettings,
) -> SyncReport {
    sync_account(
        &desk.client,
        store,
        account,
        &[btc(), eth()],
        settings,
        desk.now(),
        |_| {},
    )
    .await
    .expect("sync")
}

fn income_key(i: &Income) -> (i64, String, i64) {
    (
        i.time.timestamp_millis(),
        format!("{:?}", i.kind),
        i.tran_id,
    )
}

/// Asserts that the stored fills and income are exactly the exchange's records.
pub async fn assert_store_mirrors_exchange(desk: &Desk, store: &Store, account: i64) {
    let stored_fills = store.fills(account, 0, i64::MAX).await.expect("fills");
    let mut exchange_trades = Vec::new();
    for symbol in [btc(), eth()] {
        exchange_trades.extend(
            desk.client
                .raw()
                .user_trades(symbol.as_str(), None, 1000)
                .await
                .expect("userTrades"),
        );
    }
    assert_eq!(stored_fills.len(), exchange_trades.len());
    for t in &exchange_trades {
        let f: &Fill = stored_fills
            .iter()
            .find(|f| f.symbol.as_str() == t.symbol && f.trade_id == t.id)
            .expect("every exchange trade is stored");
        assert_eq!(f.order_id, t.order_id);
        assert_eq!(f.price, t.price);
        assert_eq!(f.quantity, t.qty);
        assert_eq!(f.realized_pnl, t.realized_pnl);
        assert_eq!(f.commission, t.commission);
        assert_eq!(f.commission_asset, t.commission_asset);
        assert_eq!(f.maker, t.maker);
        assert_eq!(f.time.timestamp_millis(), t.time);
        let side = if t.side == WireSide::Buy {
            Side::Buy
        } else {
            Side::Sell
        };
        assert_eq!(f.side, side);
    }

    let mut stored_income = store.income(account, 0, i64::MAX).await.expect("income");
    let since = DateTime::from_timestamp_millis(0).expect("epoch");
    let mut exchange_income = desk.client.income_since(since, 1000).await.expect("income");
    stored_income.sort_by_key(income_key);
    exchange_income.sort_by_key(income_key);
    assert_eq!(stored_income, exchange_income);
}

#[tokio::test]
async fn sync_stores_exactly_the_exchange_records_and_a_rerun_writes_nothing() {
    let desk = Desk::new().await;
    let (store, account) = new_store().await;
    let settings = ShareSettings::default();

    // A BTC long held across the 08:00 funding event, and an ETH short in and out.
    desk.advance(HOUR);
    let btc_ticket = desk
        .open(TicketOrigin::Signal, &btc(), Side::Buy, dec!(0.01))
        .await;
    let eth_ticket = desk
        .open(TicketOrigin::Manual, &eth(), Side::Sell, dec!(0.1))
        .await;
    desk.advance(2 * HOUR);
    desk.close(&eth_ticket, &eth(), Side::Sell, dec!(0.1)).await;
    desk.advance(6 * HOUR);
    desk.close(&btc_ticket, &btc(), Side::Buy, dec!(0.01)).await;
    desk.advance(1_000);

    let first = sync(&desk, &store, account, &settings).await;
    assert_eq!(first.new_fills, 4);
    assert!(
        first.new_income >= 5,
        "PnL, commission and funding rows: {first:?}"
    );
    assert_eq!(first.new_ledger_rows, 1, "only the signal trip is shared");
    assert!(first.closed_outside.is_empty());
    assert!(first.forced_closes.is_empty());
    assert!(first.unresolved_orders.is_empty());
    assert_store_mirrors_exchange(&desk, &store, account).await;

    let income = store.income(account, 0, i64::MAX).await.expect("income");
    let funding: Vec<&Income> = income
        .iter()
        .filter(|i| i.kind == IncomeKind::FundingFee && i.symbol == Some(btc()))
        .collect();
    assert_eq!(funding.len(), 1, "one funding event at 08:00 while long");
    assert_eq!(funding[0].time.timestamp_millis(), START + 8 * HOUR);
    let fills = store.fills(account, 0, i64::MAX).await.expect("fills");
    assert!(
        fills.iter().all(|f| f
            .client_order_id
            .as_ref()
            .is_some_and(|c| c.as_str().starts_with("pd-"))),
        "client order ids come back from allOrders"
    );

    let again = sync(&desk, &store, account, &settings).await;
    assert_eq!(
        again,
        SyncReport::default(),
        "nothing new on the exchange, nothing written"
    );
    assert_eq!(
        store
            .fills(account, 0, i64::MAX)
            .await
            .expect("fills")
            .len(),
        4
    );

    // New activity is picked up from the cursors, and only it.
    let ticket = desk
        .open(TicketOrigin::Signal, &btc(), Side::Sell, dec!(0.02))
        .await;
    desk.advance(HOUR);
    desk.close(&ticket, &btc(), Side::Sell, dec!(0.02)).await;
    desk.advance(1_000);
    let third = sync(&desk, &store, account, &settings).await;
    assert_eq!(third.new_fills, 2);
    assert_eq!(third.new_ledger_rows, 1);
    assert_store_mirrors_exchange(&desk, &store, account).await;
}

#[tokio::test]
async fn a_position_closed_by_a_foreign_order_is_reported_once() {
    let desk = Desk::new().await;
    let (store, account) = new_store().await;
    let settings = ShareSettings::default();

    let ticket = desk
        .open(TicketOrigin::Signal, &btc(), Side::Buy, dec!(0.01))
        .await;
    desk.advance(HOUR);
    let opened = sync(&desk, &store, account, &settings).await;
    assert!(opened.positions_changed);
    assert_eq!(
        store
            .latest_positions(account)
            .await
            .expect("snapshot")
            .len(),
        1
    );

    // Closed by perpdesk's own close leg: not an outside close.
    desk.close(&ticket, &btc(), Side::Buy, dec!(0.01)).await;
    desk.advance(1_000);
    let closed = sync(&desk, &store, account, &settings).await;
    assert!(closed.positions_changed);
    assert!(closed.closed_outside.is_empty(), "{closed:?}");

    // Opened by perpdesk, closed from "the Binance app".
    let ticket = desk
        .open(TicketOrigin::Signal, &btc(), Side::Buy, dec!(0.01))
        .await;
    desk.advance(HOUR);
    sync(&desk, &store, account, &settings).await;
    let mut foreign = NewOrderRequest::market("BTCUSDT", WireSide::Sell, dec!(0.01));
    foreign.reduce_only = Some(true);
    foreign.new_client_order_id = Some("web_close_1".into());
    desk.client
        .raw()
        .new_order(&foreign)
        .await
        .expect("foreign close");
    desk.advance(1_000);
    let outside = sync(&desk, &store, account, &settings).await;
    assert_eq!(outside.closed_outside.len(), 1, "{outside:?}");
    let c = &outside.closed_outside[0];
    assert_eq!(c.symbol, btc());
    assert_eq!(c.previous_quantity, dec!(0.01));
    assert_eq!(
        c.closing_client_order_id.as_ref().map(|c| c.as_str()),
        Some("web_close_1")
    );
    assert!(!ticket.is_empty());
    // The signal trip closed outside is still a signal trip: it is booked.
    assert_eq!(outside.new_ledger_rows, 1);

    let later = sync(&desk, &store, account, &settings).await;
    assert!(later.closed_outside.is_empty(), "reported once: {later:?}");
    assert!(!later.positions_changed);
}

#[tokio::test]
async fn a_liquidation_is_reported_as_a_forced_close_not_as_closed_outside() {
    let desk = Desk::new().await;
    let (store, account) = new_store().await;
    let settings = ShareSettings::default();
    desk.client
        .set_margin_type(&btc(), MarginType::Isolated)
        .await
        .expect("isolated");
    desk.client
        .set_leverage(&btc(), 100)
        .await
        .expect("leverage");

    // At 100x isolated, a 2% move against the position is far past its margin.
    let hold = 4 * HOUR;
    let up = desk.seek_move(&btc(), hold, dec!(0.02));
    desk.open(TicketOrigin::Signal, &btc(), up.opposite(), dec!(0.01))
        .await;
    desk.advance(1_000);
    let opened = sync(&desk, &store, account, &settings).await;
    assert!(opened.positions_changed);
    desk.advance(hold);

    let report = sync(&desk, &store, account, &settings).await;
    assert!(report.closed_outside.is_empty(), "{report:?}");
    let causes: Vec<ForcedCause> = report.forced_closes.iter().map(|c| c.cause).collect();
    assert!(causes.contains(&ForcedCause::Liquidation), "{report:?}");
    assert!(causes.contains(&ForcedCause::InsuranceClear), "{report:?}");
    let liquidation = report
        .forced_closes
        .iter()
        .find(|c| c.cause == ForcedCause::Liquidation)
        .expect("liquidation");
    assert_eq!(liquidation.symbol, btc());
    assert_eq!(liquidation.amount, dec!(0.01));
    // A signal trip that ended in liquidation is still booked: as a loss, sharing nothing.
    assert_eq!(report.new_ledger_rows, 1);
    let rows = store.share_entries(account).await.expect("ledger");
    assert!(rows[0].entry.total_pnl < Decimal::ZERO);
    assert_eq!(rows[0].entry.shareable, Decimal::ZERO);
    assert_store_mirrors_exchange(&desk, &store, account).await;
}
