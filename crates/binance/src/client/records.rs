//! The exchange-records export: an account's fills and income history in the exchange's own
//! words, for whoever checks a perpdesk settlement statement without a key to the account.
//!
//! The file is one JSON object (`format` [`RECORDS_FORMAT`]):
//! - `userTrades`: rows of `GET /fapi/v1/userTrades`, every field as Binance returns it;
//! - `income`: rows of `GET /fapi/v1/income`, every field as Binance returns it;
//! - `orders`: `symbol`, `orderId` and `clientOrderId` of the orders behind the trades, the
//!   fields of `GET /fapi/v1/allOrders` that say which orders perpdesk placed from a signal
//!   (the trade list does not carry the client order id).
//!
//! A platform holding its own dump of those endpoints can feed it as is; perpdesk writes the
//! same shape from the records it synced. Reading goes through the same wire → domain mapping
//! as the client's own pagers, so a file is read exactly as a fetch would be.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use perpdesk_core as core;
use serde::{Deserialize, Serialize};

use super::convert;
use crate::error::ExchangeError;
use crate::wire::account::Income as IncomeRow;
use crate::wire::trade::UserTrade;
use crate::wire::{self, IncomeType};

/// The `format` of an exchange-records file this build writes and reads.
pub const RECORDS_FORMAT: &str = "perpdesk.exchange-records/1";

/// An order's client id, as `GET /fapi/v1/allOrders` reports it (the fields used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderClientId {
    pub symbol: String,
    pub order_id: i64,
    pub client_order_id: String,
}

/// An account's fills, income and order client ids in the exchange's own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRecords {
    /// [`RECORDS_FORMAT`].
    pub format: String,
    /// When the records were taken, UTC milliseconds.
    pub exported_at: i64,
    pub user_trades: Vec<UserTrade>,
    pub income: Vec<IncomeRow>,
    #[serde(default)]
    pub orders: Vec<OrderClientId>,
}

/// Why an exchange-records file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("not an exchange-records file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("format {0:?} is not {RECORDS_FORMAT:?}")]
    Format(String),
    #[error("a row cannot be read: {0}")]
    Row(#[from] ExchangeError),
}

impl ExchangeRecords {
    /// Writes domain records back in the exchange's words: the inverse of
    /// [`ExchangeRecords::to_domain`] for everything the domain keeps.
    pub fn from_domain(fills: &[core::Fill], income: &[core::Income], at: DateTime<Utc>) -> Self {
        let mut orders: BTreeMap<(String, i64), String> = BTreeMap::new();
        for f in fills {
            if let Some(id) = &f.client_order_id {
                orders.insert((f.symbol.to_string(), f.order_id), id.to_string());
            }
        }
        Self {
            format: RECORDS_FORMAT.to_owned(),
            exported_at: at.timestamp_millis(),
            user_trades: fills.iter().map(user_trade).collect(),
            income: income.iter().map(income_row).collect(),
            orders: orders
                .into_iter()
                .map(|((symbol, order_id), client_order_id)| OrderClientId {
                    symbol,
                    order_id,
                    client_order_id,
                })
                .collect(),
        }
    }

    /// Parses a file's text.
    ///
    /// # Errors
    /// [`RecordsError::Json`] for text that is not this shape, [`RecordsError::Format`] for
    /// another format.
    pub fn from_json(text: &str) -> Result<Self, RecordsError> {
        let records: Self = serde_json::from_str(text)?;
        if records.format != RECORDS_FORMAT {
            return Err(RecordsError::Format(records.format));
        }
        Ok(records)
    }

    /// Renders the file's text (pretty JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the records are plain data")
    }

    /// The records as the domain's fills (client order ids from `orders`) and income rows.
    ///
    /// # Errors
    /// [`RecordsError::Row`] for a row the client would refuse too (a bad symbol or side);
    /// a client order id that is not one is left out, as an order placed elsewhere.
    pub fn to_domain(&self) -> Result<(Vec<core::Fill>, Vec<core::Income>), RecordsError> {
        let ids: HashMap<(&str, i64), &str> = self
            .orders
            .iter()
            .map(|o| ((o.symbol.as_str(), o.order_id), o.client_order_id.as_str()))
            .collect();
        let mut fills = Vec::with_capacity(self.user_trades.len());
        for t in &self.user_trades {
            let mut fill = convert::fill(t)?;
            fill.client_order_id = ids
                .get(&(t.symbol.as_str(), t.order_id))
                .and_then(|id| core::ClientOrderId::new(id).ok());
            fills.push(fill);
        }
        let income = self
            .income
            .iter()
            .cloned()
            .map(convert::income)
            .collect::<Result<_, _>>()?;
        Ok((fills, income))
    }
}

fn user_trade(f: &core::Fill) -> UserTrade {
    UserTrade {
        buyer: f.side == core::Side::Buy,
        commission: f.commission,
        commission_asset: f.commission_asset.clone(),
        id: f.trade_id,
        maker: f.maker,
        order_id: f.order_id,
        price: f.price,
        qty: f.quantity,
        quote_qty: f.price * f.quantity,
        realized_pnl: f.realized_pnl,
        side: match f.side {
            core::Side::Buy => wire::Side::Buy,
            core::Side::Sell => wire::Side::Sell,
        },
        position_side: match f.position_side {
            core::PositionSide::Both => wire::PositionSide::Both,
            core::PositionSide::Long => wire::PositionSide::Long,
            core::PositionSide::Short => wire::PositionSide::Short,
        },
        symbol: f.symbol.to_string(),
        time: f.time.timestamp_millis(),
    }
}

fn income_row(i: &core::Income) -> IncomeRow {
    let income_type = match &i.kind {
        core::IncomeKind::RealizedPnl => IncomeType::RealizedPnl,
        core::IncomeKind::Commission => IncomeType::Commission,
        core::IncomeKind::FundingFee => IncomeType::FundingFee,
        core::IncomeKind::Transfer => IncomeType::Transfer,
        core::IncomeKind::InsuranceClear => IncomeType::InsuranceClear,
        core::IncomeKind::Other(name) => IncomeType::from_wire(name),
    };
    IncomeRow {
        symbol: i
            .symbol
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        income_type,
        income: i.amount,
        asset: i.asset.clone(),
        info: i.info.clone(),
        time: i.time.timestamp_millis(),
        tran_id: i.tran_id,
        trade_id: i.trade_id.map(|id| id.to_string()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "format": "perpdesk.exchange-records/1",
      "exportedAt": 1700000000000,
      "userTrades": [
        {"buyer": true, "commission": "0.34000000", "commissionAsset": "USDT", "id": 1001,
         "maker": false, "orderId": 55, "price": "68000.0", "qty": "0.010",
         "quoteQty": "680.00", "realizedPnl": "0", "side": "BUY", "positionSide": "BOTH",
         "symbol": "BTCUSDT", "time": 1699999000000}
      ],
      "income": [
        {"symbol": "BTCUSDT", "incomeType": "COMMISSION", "income": "-0.34000000",
         "asset": "USDT", "info": "COMMISSION", "time": 1699999000000, "tranId": 9001,
         "tradeId": "1001"},
        {"symbol": "", "incomeType": "TRANSFER", "income": "100", "asset": "USDT",
         "info": "TRANSFER", "time": 1699990000000, "tranId": 9000, "tradeId": ""}
      ],
      "orders": [{"symbol": "BTCUSDT", "orderId": 55, "clientOrderId": "pd-s1-en0"}]
    }"#;

    #[test]
    fn reads_the_exchange_rows_and_writes_them_back_the_same() {
        let records = ExchangeRecords::from_json(FILE).expect("reads");
        let (fills, income) = records.to_domain().expect("domain");
        assert_eq!(fills.len(), 1);
        assert_eq!(
            fills[0].client_order_id.as_ref().map(|c| c.as_str()),
            Some("pd-s1-en0")
        );
        assert_eq!(income[0].trade_id, Some(1001));
        assert_eq!(income[1].symbol, None);
        let at = DateTime::from_timestamp_millis(records.exported_at).expect("time");
        let again = ExchangeRecords::from_domain(&fills, &income, at);
        assert_eq!(again, records);
        assert_eq!(
            ExchangeRecords::from_json(&again.to_json()).expect("round trip"),
            records
        );
    }

    #[test]
    fn refuses_another_format_or_an_unreadable_row() {
        let other = FILE.replace("exchange-records/1", "exchange-records/9");
        assert!(matches!(
            ExchangeRecords::from_json(&other),
            Err(RecordsError::Format(_))
        ));
        let bad_side = FILE.replace("\"side\": \"BUY\"", "\"side\": \"UP\"");
        let records = ExchangeRecords::from_json(&bad_side).expect("parses leniently");
        assert!(matches!(records.to_domain(), Err(RecordsError::Row(_))));
    }
}
