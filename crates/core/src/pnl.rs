//! PnL from the exchange's own records: round trips built from fills, and period summaries
//! built from income rows. Nothing here estimates; every number is a sum of exchange data.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::ClosedTrade;
use crate::{ClientOrderId, Fill, Income, IncomeKind, PositionSide, Side, Symbol};

/// One position's life from flat to flat on a symbol and position side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundTrip {
    pub symbol: Symbol,
    pub position_side: PositionSide,
    /// The side of the opening fill: `Buy` for a long, `Sell` for a short.
    pub direction: Side,
    pub opened_at: DateTime<Utc>,
    /// `None` while the position is still open.
    pub closed_at: Option<DateTime<Utc>>,
    /// Largest absolute size the position reached.
    pub max_quantity: Decimal,
    /// Sum of the realised PnL the exchange reported on the fills.
    pub realized_pnl: Decimal,
    /// Commission paid in the settlement asset (positive).
    pub commission: Decimal,
    /// Funding received (positive) or paid (negative) between open and close.
    pub funding: Decimal,
    /// The client order id of the opening order, which tells perpdesk's orders from others.
    pub open_client_order_id: Option<ClientOrderId>,
    pub trade_ids: Vec<i64>,
    pub income_ids: Vec<i64>,
}

impl RoundTrip {
    /// Returns realised PnL − commission + funding.
    pub fn net(&self) -> Decimal {
        self.realized_pnl - self.commission + self.funding
    }

    /// Returns the profit-share input for a closed trip, or `None` while it is open.
    pub fn closed_trade(&self) -> Option<ClosedTrade> {
        let closed_at = self.closed_at?;
        Some(ClosedTrade {
            trade_ref: format!(
                "{}:{:?}:{}",
                self.symbol,
                self.position_side,
                self.trade_ids.first().copied().unwrap_or_default()
            ),
            realized_pnl: self.realized_pnl,
            commission: self.commission,
            funding: self.funding,
            closed_at,
            trade_ids: self.trade_ids.clone(),
            income_ids: self.income_ids.clone(),
        })
    }
}

fn settles_in(asset: &str) -> bool {
    // USDⓈ-M settles in USDT (or USDC for USDC pairs); commission paid in BNB is a discount
    // on another asset and does not move the settlement wallet.
    matches!(asset, "USDT" | "USDC" | "")
}

/// Groups fills into round trips and attributes income rows to them.
///
/// Fills may come in any order; they are sorted by time then trade id. A one-way fill that
/// crosses zero (a flip) closes one trip and opens the next, with its commission split by
/// quantity. Funding rows are matched by symbol and time window; realised-PnL and commission
/// income rows by their trade id.
pub fn round_trips(fills: &[Fill], incomes: &[Income]) -> Vec<RoundTrip> {
    let mut sorted: Vec<&Fill> = fills.iter().collect();
    sorted.sort_by_key(|f| (f.time, f.trade_id));
    let mut open: BTreeMap<(Symbol, PositionSide), (Decimal, RoundTrip)> = BTreeMap::new();
    let mut done = Vec::new();
    for f in sorted {
        let key = (f.symbol.clone(), f.position_side);
        let delta = f.side.sign() * f.quantity;
        let commission = if settles_in(&f.commission_asset) {
            f.commission
        } else {
            Decimal::ZERO
        };
        let (qty, trip) = open
            .entry(key.clone())
            .or_insert_with(|| (Decimal::ZERO, new_trip(f, Decimal::ZERO, Decimal::ZERO)));
        let after = *qty + delta;
        let flips = !qty.is_zero()
            && !after.is_zero()
            && after.is_sign_negative() != qty.is_sign_negative();
        if flips {
            // Split the fill: the part that brings the position to zero closes this trip.
            let closing = qty.abs();
            let share = closing / f.quantity;
            let closing_fee = (commission * share).round_dp(8);
            trip.realized_pnl += f.realized_pnl;
            trip.commission += closing_fee;
            trip.trade_ids.push(f.trade_id);
            trip.closed_at = Some(f.time);
            let closed =
                std::mem::replace(trip, new_trip(f, after.abs(), commission - closing_fee));
            done.push(closed);
            *qty = after;
            continue;
        }
        trip.realized_pnl += f.realized_pnl;
        trip.commission += commission;
        if !trip.trade_ids.contains(&f.trade_id) {
            trip.trade_ids.push(f.trade_id);
        }
        *qty = after;
        trip.max_quantity = trip.max_quantity.max(after.abs());
        if after.is_zero() {
            trip.closed_at = Some(f.time);
            let (_, closed) = open.remove(&key).expect("entry was inserted above");
            done.push(closed);
        }
    }
    done.extend(open.into_values().map(|(_, t)| t));
    attribute_income(&mut done, incomes);
    done.sort_by_key(|t| (t.opened_at, t.trade_ids.first().copied()));
    done
}

fn new_trip(f: &Fill, size: Decimal, commission: Decimal) -> RoundTrip {
    RoundTrip {
        symbol: f.symbol.clone(),
        position_side: f.position_side,
        direction: f.side,
        opened_at: f.time,
        closed_at: None,
        max_quantity: size,
        realized_pnl: Decimal::ZERO,
        commission,
        funding: Decimal::ZERO,
        open_client_order_id: f.client_order_id.clone(),
        trade_ids: if size.is_zero() {
            Vec::new()
        } else {
            vec![f.trade_id]
        },
        income_ids: Vec::new(),
    }
}

fn attribute_income(trips: &mut [RoundTrip], incomes: &[Income]) {
    let mut by_trade: BTreeMap<(Symbol, i64), usize> = BTreeMap::new();
    for (i, t) in trips.iter().enumerate() {
        for id in &t.trade_ids {
            by_trade.entry((t.symbol.clone(), *id)).or_insert(i);
        }
    }
    for inc in incomes {
        let Some(symbol) = &inc.symbol else { continue };
        match inc.kind {
            IncomeKind::RealizedPnl | IncomeKind::Commission => {
                if let Some(i) = inc
                    .trade_id
                    .and_then(|id| by_trade.get(&(symbol.clone(), id)))
                {
                    trips[*i].income_ids.push(inc.tran_id);
                }
            }
            IncomeKind::FundingFee => {
                // Funding is charged on positions held at the funding time; a position
                // closed exactly at that instant no longer holds it.
                let holder = trips.iter_mut().find(|t| {
                    &t.symbol == symbol
                        && t.opened_at <= inc.time
                        && t.closed_at.is_none_or(|c| inc.time < c)
                });
                if let Some(t) = holder {
                    t.funding += inc.amount;
                    t.income_ids.push(inc.tran_id);
                }
            }
            _ => {}
        }
    }
}

/// A reporting period, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// ISO weeks, starting Monday.
    Week,
    Month,
}

impl Period {
    /// Returns the first day of the period holding `t`.
    pub fn start_of(self, t: DateTime<Utc>) -> NaiveDate {
        let d = t.date_naive();
        match self {
            Period::Day => d,
            Period::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Period::Month => d.with_day(1).expect("day 1 exists in every month"),
        }
    }
}

/// Income totals for one period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodPnl {
    pub start: Option<NaiveDate>,
    pub realized_pnl: Decimal,
    pub commission: Decimal,
    pub funding: Decimal,
    /// realised − commission + funding.
    pub net: Decimal,
}

/// Sums income rows into periods: the same totals the exchange's income history gives.
///
/// Commission is reported as a positive cost; the income rows carry it as negative amounts.
pub fn summarize(incomes: &[Income], period: Period) -> Vec<PeriodPnl> {
    let mut out: BTreeMap<NaiveDate, PeriodPnl> = BTreeMap::new();
    for inc in incomes {
        if !settles_in(&inc.asset) {
            continue;
        }
        let start = period.start_of(inc.time);
        let row = out.entry(start).or_insert_with(|| PeriodPnl {
            start: Some(start),
            ..PeriodPnl::default()
        });
        match inc.kind {
            IncomeKind::RealizedPnl => row.realized_pnl += inc.amount,
            IncomeKind::Commission => row.commission -= inc.amount,
            IncomeKind::FundingFee => row.funding += inc.amount,
            _ => continue,
        }
        row.net = row.realized_pnl - row.commission + row.funding;
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_700_000_000_000).unwrap() + Duration::hours(h)
    }

    fn fill(id: i64, side: Side, qty: Decimal, pnl: Decimal, fee: Decimal, h: i64) -> Fill {
        Fill {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            trade_id: id,
            order_id: id * 10,
            client_order_id: ClientOrderId::new(&format!("pd-{id}")).ok(),
            side,
            position_side: PositionSide::Both,
            price: dec!(30000),
            quantity: qty,
            realized_pnl: pnl,
            commission: fee,
            commission_asset: "USDT".into(),
            maker: false,
            time: at(h),
        }
    }

    fn income(id: i64, kind: IncomeKind, amount: Decimal, trade: Option<i64>, h: i64) -> Income {
        Income {
            tran_id: id,
            symbol: Some(Symbol::new("BTCUSDT").unwrap()),
            kind,
            amount,
            asset: "USDT".into(),
            trade_id: trade,
            info: String::new(),
            time: at(h),
        }
    }

    #[test]
    fn builds_round_trips_and_attributes_income() {
        let fills = [
            fill(1, Side::Buy, dec!(0.2), dec!(0), dec!(2.4), 0),
            fill(2, Side::Buy, dec!(0.1), dec!(0), dec!(1.2), 1),
            fill(3, Side::Sell, dec!(0.3), dec!(90), dec!(3.6), 10),
        ];
        let incomes = [
            income(100, IncomeKind::Commission, dec!(-2.4), Some(1), 0),
            income(101, IncomeKind::FundingFee, dec!(-1.5), None, 8),
            income(102, IncomeKind::RealizedPnl, dec!(90), Some(3), 10),
            income(103, IncomeKind::FundingFee, dec!(-9), None, 16),
        ];
        let trips = round_trips(&fills, &incomes);
        assert_eq!(trips.len(), 1);
        let t = &trips[0];
        assert_eq!(t.direction, Side::Buy);
        assert_eq!(t.max_quantity, dec!(0.3));
        assert_eq!(t.commission, dec!(7.2));
        assert_eq!(t.funding, dec!(-1.5));
        assert_eq!(t.net(), dec!(81.3));
        assert_eq!(t.trade_ids, vec![1, 2, 3]);
        assert_eq!(t.income_ids, vec![100, 101, 102]);
        assert_eq!(t.closed_trade().unwrap().net(), dec!(81.3));
    }

    #[test]
    fn a_flip_closes_one_trip_and_opens_the_next() {
        let fills = [
            fill(1, Side::Buy, dec!(1), dec!(0), dec!(1), 0),
            fill(2, Side::Sell, dec!(3), dec!(50), dec!(3), 1),
        ];
        let trips = round_trips(&fills, &[]);
        assert_eq!(trips.len(), 2);
        assert_eq!(trips[0].closed_at, Some(at(1)));
        assert_eq!(trips[0].commission, dec!(2));
        assert_eq!(trips[0].realized_pnl, dec!(50));
        assert_eq!(trips[1].direction, Side::Sell);
        assert_eq!(trips[1].commission, dec!(2));
        assert_eq!(trips[1].max_quantity, dec!(2));
        assert!(trips[1].closed_trade().is_none());
    }

    #[test]
    fn summarises_income_by_period() {
        let incomes = [
            income(1, IncomeKind::RealizedPnl, dec!(10), Some(1), 0),
            income(2, IncomeKind::Commission, dec!(-1), Some(1), 0),
            income(3, IncomeKind::FundingFee, dec!(0.5), None, 30),
            income(4, IncomeKind::Transfer, dec!(1000), None, 30),
        ];
        let days = summarize(&incomes, Period::Day);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].net, dec!(9));
        assert_eq!(days[1].funding, dec!(0.5));
        let month = summarize(&incomes, Period::Month);
        assert_eq!(month.len(), 1);
        assert_eq!(month[0].net, dec!(9.5));
        assert_eq!(month[0].commission, dec!(1));
    }
}
