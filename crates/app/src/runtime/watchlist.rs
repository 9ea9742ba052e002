//! The watchlist and what the signals panel reads: signals, candles, indicator overlays and
//! model cards of the watched symbols.

use perpdesk_core::Symbol;
use serde::Serialize;

use crate::events::Direction;
use crate::signal_loop::SignalLoop;
use crate::venue::{PAPER_SYMBOLS, PaperVenue};
use crate::{AppError, Engine};

/// The most symbols a watchlist holds (and so the signal loop watches): every symbol of the
/// paper universe (28 with the wide data) with room for two more. It was 20 when paper mode
/// listed two symbols; 30 is what the footprint targets are measured with (issue 18).
pub const MAX_WATCHLIST: usize = 30;

/// A signal as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalView {
    /// The candle's open time; with the symbol it identifies the signal.
    pub id: i64,
    pub symbol: String,
    pub time_ms: i64,
    /// `long`/`short` only with out-of-sample evidence of an edge, else `flat`.
    pub direction: Direction,
    /// The model's more likely side (never flat), shown as unproven when `direction` is flat.
    pub lean: Direction,
    pub probability: f64,
    pub p_up: f64,
    pub entry: f64,
    pub take_profit: f64,
    pub stop_loss: f64,
    pub strong: bool,
    pub model_version: String,
    pub record: perpdesk_signal::Record,
}

/// A watchlist row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchRow {
    pub symbol: String,
    pub price: Option<rust_decimal::Decimal>,
    pub change_24h_pct: Option<rust_decimal::Decimal>,
    pub signal: Option<SignalView>,
}

/// A candle for the chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandleView {
    pub t: i64,
    pub o: rust_decimal::Decimal,
    pub h: rust_decimal::Decimal,
    pub l: rust_decimal::Decimal,
    pub c: rust_decimal::Decimal,
    pub v: rust_decimal::Decimal,
}

impl Engine {
    pub(crate) async fn watchlist_symbols(&self) -> Result<Vec<Symbol>, AppError> {
        if let Some(list) = self.store.setting::<Vec<Symbol>>(WATCHLIST).await?
            && !list.is_empty()
        {
            return Ok(list);
        }
        // Paper mode watches BTCUSDT and ETHUSDT of its whole universe (the others are a
        // click away), or all of a developer's load list, up to the watchlist's limit.
        let listed = self.paper().map_or_else(
            || PAPER_SYMBOLS.iter().map(|s| (*s).to_owned()).collect(),
            PaperVenue::default_watchlist,
        );
        Ok(listed
            .iter()
            .take(MAX_WATCHLIST)
            .filter_map(|s| Symbol::new(s).ok())
            .collect())
    }

    /// Saves the watchlist; it takes effect when the signal loop next starts.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for an empty list, a bad symbol or one the venue does not
    /// list.
    pub async fn set_watchlist(&self, symbols: &[String]) -> Result<Vec<WatchRow>, AppError> {
        if symbols.is_empty() || symbols.len() > MAX_WATCHLIST {
            return Err(AppError::invalid(
                "symbols",
                format!("watch between 1 and {MAX_WATCHLIST} symbols"),
            ));
        }
        let listed = self.market_client().await?.listed_symbols().await?;
        let mut list = Vec::new();
        for s in symbols {
            let sym =
                Symbol::new(s.trim()).map_err(|e| AppError::invalid("symbols", e.to_string()))?;
            if !listed.contains(&sym) {
                return Err(AppError::invalid(
                    "symbols",
                    format!("{sym} is not listed on this exchange"),
                ));
            }
            if !list.contains(&sym) {
                list.push(sym);
            }
        }
        self.store
            .put_setting(WATCHLIST, &list, self.now(None))
            .await?;
        self.watchlist().await
    }

    /// Price, 24h change and latest signal of each watched symbol.
    ///
    /// # Errors
    /// Store errors; market data errors leave the price empty rather than failing.
    pub async fn watchlist(&self) -> Result<Vec<WatchRow>, AppError> {
        let client = self.market_client().await?;
        let lp = self.signals.read().await.clone();
        let mut rows = Vec::new();
        for symbol in self.watchlist_symbols().await? {
            let ticker = client.day_ticker(&symbol).await.ok();
            let signal = match &lp {
                Some(lp) => lp
                    .latest_signal(&symbol)
                    .ok()
                    .flatten()
                    .map(|s| view(lp, &s)),
                None => None,
            };
            rows.push(WatchRow {
                symbol: symbol.to_string(),
                price: ticker.map(|t| t.last_price),
                change_24h_pct: ticker.map(|t| t.change_pct),
                signal,
            });
        }
        Ok(rows)
    }

    /// Recent signals of a symbol, newest first.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for an unwatched symbol; `NotFound` while loading.
    pub async fn signals(&self, symbol: &str, limit: usize) -> Result<Vec<SignalView>, AppError> {
        let lp = self.signal_loop().await?;
        let symbol = Symbol::new(symbol).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        let mut list: Vec<SignalView> = lp
            .recent_signals(&symbol, limit.clamp(1, 500))?
            .iter()
            .map(|s| view(&lp, s))
            .collect();
        list.reverse();
        Ok(list)
    }

    /// Closed candles of a watched symbol for the chart, oldest first.
    ///
    /// # Errors
    /// As [`Engine::signals`].
    pub async fn candles(&self, symbol: &str, limit: usize) -> Result<Vec<CandleView>, AppError> {
        let lp = self.signal_loop().await?;
        let symbol = Symbol::new(symbol).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        Ok(lp
            .candles(&symbol, limit.clamp(1, 5000))?
            .iter()
            .map(|c| CandleView {
                t: c.open_time.timestamp_millis(),
                o: c.open,
                h: c.high,
                l: c.low,
                c: c.close,
                v: c.volume,
            })
            .collect())
    }

    /// Indicator overlays for the chart.
    ///
    /// # Errors
    /// As [`Engine::signals`].
    pub async fn indicators(
        &self,
        symbol: &str,
        limit: usize,
    ) -> Result<crate::signal_loop::Overlays, AppError> {
        let lp = self.signal_loop().await?;
        let symbol = Symbol::new(symbol).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        Ok(lp.overlays(&symbol, limit.clamp(1, 5000))?)
    }

    /// The model card of a symbol (out-of-sample evaluation, calibration, baselines).
    ///
    /// # Errors
    /// As [`Engine::signals`].
    pub async fn model_card(&self, symbol: &str) -> Result<serde_json::Value, AppError> {
        let lp = self.signal_loop().await?;
        let symbol = Symbol::new(symbol).map_err(|e| AppError::invalid("symbol", e.to_string()))?;
        Ok(lp.model_card_json(&symbol)?)
    }
}

const WATCHLIST: &str = "signals.watchlist";

fn view(lp: &SignalLoop, s: &perpdesk_signal::Signal) -> SignalView {
    SignalView {
        id: s.time.timestamp_millis(),
        symbol: s.symbol.clone(),
        time_ms: s.time.timestamp_millis(),
        direction: s.direction.into(),
        lean: if s.p_up >= 0.5 {
            Direction::Long
        } else {
            Direction::Short
        },
        probability: s.probability,
        p_up: s.p_up,
        entry: s.entry,
        take_profit: s.take_profit,
        stop_loss: s.stop_loss,
        strong: lp.is_strong(s),
        model_version: s.model_version.clone(),
        record: s.record.clone(),
    }
}
