//! `countdownCancelAll`, Binance's dead-man switch: when a symbol's countdown runs out
//! without being renewed, every open order of the account on that symbol is cancelled.

use super::Exchange;
use crate::error::ApiError;

impl Exchange {
    /// Starts (or renews) the countdown of `symbol` to end at `deadline` in replay time, or
    /// stops it (`None`).
    ///
    /// # Errors
    /// -1121 for a symbol the exchange does not list.
    pub fn set_countdown(
        &mut self,
        acct: usize,
        symbol: &str,
        deadline: Option<i64>,
        now: i64,
    ) -> Result<(), ApiError> {
        self.spec(symbol)?;
        self.advance(now);
        let countdowns = &mut self.accounts[acct].countdowns;
        match deadline {
            Some(at) => countdowns.insert(symbol.to_owned(), at),
            None => countdowns.remove(symbol),
        };
        Ok(())
    }

    /// Cancels the open orders of every symbol whose countdown ended by `now`.
    pub(super) fn run_countdowns(&mut self, acct: usize, now: i64) {
        let due: Vec<String> = self.accounts[acct]
            .countdowns
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(symbol, _)| symbol.clone())
            .collect();
        for symbol in due {
            self.accounts[acct].countdowns.remove(&symbol);
            self.cancel_open_of(acct, &symbol, now);
            tracing::info!(account = acct, %symbol, "countdown ran out: open orders cancelled");
        }
    }
}
