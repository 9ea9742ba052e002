//! Which setting changes loosen safety, and the second password check they need.
//!
//! A page that can reach the commands (a later XSS, another process driving the window) must
//! not be able to arm trading while nobody is looking: turning the kill switch off, raising a
//! risk limit, turning auto-trading on or sizing it up, a longer or no auto-lock, and any
//! change to the profit-share split or basis need an unlocked vault *and* the master password
//! typed again. Tightening (kill switch on, lower limits, auto-trading off, a shorter
//! auto-lock) always works, locked or not: the user must be able to make things safer in any
//! state. Every change is written to the audit log with what it loosened.

use perpdesk_core::RiskLimits;
use perpdesk_vault::{SecretString, Vault, VaultError};

use crate::autotrade::AutoTrade;
use crate::records::LedgerSettings;
use crate::{AppError, Engine};

/// The fields of `after` that allow more risk than `before`.
pub(crate) fn loosened_limits(before: &RiskLimits, after: &RiskLimits) -> Vec<String> {
    let mut out = Vec::new();
    let mut higher = |field: &str, raised: bool| {
        if raised {
            out.push(field.to_owned());
        }
    };
    higher(
        "max_position_notional",
        after.max_position_notional > before.max_position_notional,
    );
    higher(
        "max_total_notional",
        after.max_total_notional > before.max_total_notional,
    );
    higher("max_leverage", after.max_leverage > before.max_leverage);
    higher(
        "max_trades_per_day",
        after.max_trades_per_day > before.max_trades_per_day,
    );
    higher(
        "require_stop_loss",
        before.require_stop_loss && !after.require_stop_loss,
    );
    higher(
        "max_stop_distance_pct",
        after.max_stop_distance_pct > before.max_stop_distance_pct,
    );
    higher(
        "daily_loss_limit",
        after.daily_loss_limit > before.daily_loss_limit,
    );
    higher(
        "max_concurrent_positions",
        after.max_concurrent_positions > before.max_concurrent_positions,
    );
    higher("kill_switch", before.kill_switch && !after.kill_switch);
    out
}

/// The symbols whose auto-trading `after` turns on or makes riskier (larger, more leverage,
/// another margin type, the unproven lean).
pub(crate) fn loosened_auto_trade(before: &AutoTrade, after: &AutoTrade) -> Vec<String> {
    let mut out = Vec::new();
    for (symbol, s) in after.symbols.iter().filter(|(_, s)| s.enabled) {
        let riskier = match before.symbols.get(symbol).filter(|b| b.enabled) {
            None => true,
            Some(b) => {
                s.usdt > b.usdt
                    || s.leverage > b.leverage
                    || s.margin_type != b.margin_type
                    || (s.trade_lean && !b.trade_lean)
            }
        };
        if riskier {
            out.push(format!("auto_trade.{symbol}"));
        }
    }
    out
}

/// Whether an auto-lock of `after` minutes keeps the vault open longer than `before` (0 is
/// never).
pub(crate) fn loosens_auto_lock(before: u32, after: u32) -> bool {
    before != 0 && (after == 0 || after > before)
}

/// Whether the profit-share settings change at all: the split and the basis have no safe
/// direction (each side of the share loses by one of them), so any change is confirmed.
pub(crate) fn changes_ledger(before: &LedgerSettings, after: &LedgerSettings) -> bool {
    before != after
}

impl Engine {
    /// Lets a change through that loosens `changes` (nothing to confirm when empty): the
    /// vault must be unlocked and `password` the master password, checked through the
    /// password gate like an unlock guess (wrong ones slow the next). Returns whether a
    /// password was checked, for the audit log.
    ///
    /// # Errors
    /// [`AppError::Locked`]; [`AppError::PasswordRequired`] naming the changes when no
    /// password came; [`AppError::WrongPassword`].
    pub(crate) async fn confirm_loosening(
        &self,
        changes: &[String],
        password: Option<SecretString>,
    ) -> Result<bool, AppError> {
        if changes.is_empty() {
            return Ok(false);
        }
        let vault = self.vault()?;
        let Some(password) = password else {
            return Err(AppError::PasswordRequired {
                field: changes.join(", "),
                reason: "loosening a safety setting needs the master password again",
            });
        };
        let header = vault.header();
        self.throttled(move || Vault::unlock(&header, &password).map(drop))
            .await?
            .map_err(|e| match e {
                VaultError::WrongPassword => AppError::WrongPassword,
                other => AppError::Internal(format!("vault: {other}")),
            })?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use perpdesk_core::Symbol;
    use rust_decimal::Decimal;

    use crate::autotrade::AutoTradeSymbol;

    #[test]
    fn every_higher_limit_and_every_switch_off_is_loosening() {
        let before = RiskLimits {
            kill_switch: true,
            ..RiskLimits::default()
        };
        assert!(loosened_limits(&before, &before).is_empty());
        let after = RiskLimits {
            max_position_notional: before.max_position_notional + Decimal::ONE,
            max_total_notional: before.max_total_notional + Decimal::ONE,
            max_leverage: before.max_leverage + 1,
            max_trades_per_day: before.max_trades_per_day + 1,
            require_stop_loss: false,
            max_stop_distance_pct: before.max_stop_distance_pct + Decimal::ONE,
            daily_loss_limit: before.daily_loss_limit + Decimal::ONE,
            max_concurrent_positions: before.max_concurrent_positions + 1,
            kill_switch: false,
        };
        assert_eq!(loosened_limits(&before, &after).len(), 9);
        // The way back is tightening, every field of it.
        assert!(loosened_limits(&after, &before).is_empty());
    }

    #[test]
    fn auto_trade_on_larger_or_leaning_is_loosening_and_off_is_not() {
        let btc = Symbol::new("BTCUSDT").expect("symbol");
        let on = AutoTradeSymbol {
            enabled: true,
            ..AutoTradeSymbol::default()
        };
        let with = |s: AutoTradeSymbol| AutoTrade {
            symbols: [(btc.clone(), s)].into(),
        };
        let off = AutoTrade::default();
        assert_eq!(
            loosened_auto_trade(&off, &with(on.clone())),
            ["auto_trade.BTCUSDT"]
        );
        assert!(loosened_auto_trade(&with(on.clone()), &off).is_empty());
        assert!(loosened_auto_trade(&with(on.clone()), &with(on.clone())).is_empty());
        for riskier in [
            AutoTradeSymbol {
                leverage: on.leverage + 1,
                ..on.clone()
            },
            AutoTradeSymbol {
                usdt: on.usdt + Decimal::ONE,
                ..on.clone()
            },
            AutoTradeSymbol {
                trade_lean: true,
                ..on.clone()
            },
            AutoTradeSymbol {
                margin_type: perpdesk_core::MarginType::Cross,
                ..on.clone()
            },
        ] {
            assert_eq!(
                loosened_auto_trade(&with(on.clone()), &with(riskier)).len(),
                1
            );
        }
        let smaller = AutoTradeSymbol {
            leverage: 1,
            ..on.clone()
        };
        assert!(loosened_auto_trade(&with(on), &with(smaller)).is_empty());
    }

    #[test]
    fn a_longer_or_no_auto_lock_is_loosening() {
        assert!(loosens_auto_lock(15, 0));
        assert!(loosens_auto_lock(15, 30));
        assert!(!loosens_auto_lock(15, 5));
        assert!(!loosens_auto_lock(15, 15));
        assert!(!loosens_auto_lock(0, 5));
    }
}
