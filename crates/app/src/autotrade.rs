//! Optional auto-trading of signals, per symbol, behind the same risk checks as a click.
//!
//! Off by default, and turning it on needs an explicit confirmation. By default only a
//! signal with a direction (an edge shown out of sample) is traded; trading the model's
//! unproven lean is a separate, also explicit, choice (the headless replay uses it to show
//! the machinery working, and says so).

use std::collections::BTreeMap;

use perpdesk_core::{MarginType, Side, Sizing, Symbol};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

use crate::trading::{EntryType, PlacedTicket, Ticket};
use crate::{AppError, Engine};

const AUTO_TRADE: &str = "autotrade.settings";

/// How signals of one symbol are traded automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoTradeSymbol {
    pub enabled: bool,
    /// Notional of each entry, USDT.
    pub usdt: Decimal,
    pub leverage: u32,
    pub margin_type: MarginType,
    /// Also trade the model's lean when the signal is flat (no demonstrated edge).
    pub trade_lean: bool,
}

impl Default for AutoTradeSymbol {
    fn default() -> Self {
        Self {
            enabled: false,
            usdt: Decimal::from(500),
            leverage: 5,
            margin_type: MarginType::Isolated,
            trade_lean: false,
        }
    }
}

/// Auto-trading per symbol; symbols not listed are not traded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoTrade {
    pub symbols: BTreeMap<Symbol, AutoTradeSymbol>,
}

impl Engine {
    /// The auto-trade settings.
    ///
    /// # Errors
    /// Store errors.
    pub async fn auto_trade(&self) -> Result<AutoTrade, AppError> {
        Ok(self
            .store
            .setting::<AutoTrade>(AUTO_TRADE)
            .await?
            .unwrap_or_default())
    }

    /// Saves the auto-trade settings. Enabling a symbol that was off, or its lean trading,
    /// needs `confirm`; anything that trades more (on, larger, more leverage, another margin
    /// type, the lean) also needs the vault unlocked and `password`. Turning off never does.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] without confirmation or for bad values; for a loosening
    /// [`AppError::Locked`], [`AppError::PasswordRequired`], [`AppError::WrongPassword`].
    /// Nothing changes on error.
    pub async fn set_auto_trade(
        &self,
        settings: AutoTrade,
        confirm: bool,
        password: Option<perpdesk_vault::SecretString>,
    ) -> Result<AutoTrade, AppError> {
        let before = self.auto_trade().await?;
        for (symbol, s) in &settings.symbols {
            if s.usdt <= Decimal::ZERO || !(1..=125).contains(&s.leverage) {
                return Err(AppError::invalid(
                    "symbols",
                    format!("{symbol}: notional must be positive and leverage 1–125"),
                ));
            }
            let was_on = before.symbols.get(symbol).is_some_and(|b| b.enabled);
            if s.enabled && !was_on && !confirm {
                return Err(AppError::invalid(
                    "confirm",
                    format!(
                        "auto-trading {symbol} places orders without a click: confirm to turn it on"
                    ),
                ));
            }
            // Trading the unproven lean is a second, riskier choice: it asks on its own too.
            let lean_was_on = before
                .symbols
                .get(symbol)
                .is_some_and(|b| b.enabled && b.trade_lean);
            if s.enabled && s.trade_lean && !lean_was_on && !confirm {
                return Err(AppError::invalid(
                    "confirm",
                    format!(
                        "trading {symbol}'s flat signals places orders the model has shown no                          edge for: confirm to turn it on"
                    ),
                ));
            }
        }
        let loosened = crate::safety::loosened_auto_trade(&before, &settings);
        let confirmed = self.confirm_loosening(&loosened, password).await?;
        self.store
            .put_setting(AUTO_TRADE, &settings, self.now(None))
            .await?;
        self.audit(
            "user",
            "settings.auto_trade",
            serde_json::json!({
                "settings": settings, "loosened": loosened, "password_confirmed": confirmed,
            }),
        )
        .await;
        Ok(settings)
    }

    /// Trades the latest signal of `symbol` if auto-trading allows it and no position is
    /// open on the symbol. Returns what was placed, if anything.
    ///
    /// # Errors
    /// As [`Engine::place_order`]; a risk refusal is an error here too (and an event).
    pub async fn auto_trade_signal(
        &self,
        signal: &perpdesk_signal::Signal,
    ) -> Result<Option<PlacedTicket>, AppError> {
        let Ok(symbol) = Symbol::new(&signal.symbol) else {
            return Ok(None);
        };
        let settings = self.auto_trade().await?;
        let Some(cfg) = settings.symbols.get(&symbol).filter(|c| c.enabled) else {
            return Ok(None);
        };
        let side = match signal.direction {
            perpdesk_signal::SignalDirection::Long => Side::Buy,
            perpdesk_signal::SignalDirection::Short => Side::Sell,
            perpdesk_signal::SignalDirection::Flat if cfg.trade_lean => {
                if signal.p_up >= 0.5 {
                    Side::Buy
                } else {
                    Side::Sell
                }
            }
            perpdesk_signal::SignalDirection::Flat => return Ok(None),
        };
        if self
            .positions()
            .await?
            .iter()
            .any(|p| p.symbol == symbol.as_str())
        {
            return Ok(None);
        }
        let price = |v: f64| Decimal::from_f64(v).map(|d| d.round_dp(8));
        let ticket = Ticket {
            symbol: symbol.to_string(),
            side,
            sizing: Sizing::FixedNotional { usdt: cfg.usdt },
            leverage: cfg.leverage,
            margin_type: cfg.margin_type,
            order_type: EntryType::Market,
            price: None,
            take_profit: price(signal.take_profit),
            stop_loss: price(signal.stop_loss),
            signal_id: Some(signal.time.timestamp_millis()),
        };
        self.place_order(&ticket).await.map(Some)
    }
}
