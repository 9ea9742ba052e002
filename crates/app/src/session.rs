//! One exchange account with an open, signed client, and what perpdesk caches per account.
//!
//! Invariants:
//! - A session exists only while the vault is open (`Engine::session` checks on every use);
//!   the secret inside its client is never copied out.
//! - Symbol rules are read from the exchange once per session, on first use.

use std::collections::HashMap;
use std::sync::Mutex;

use perpdesk_binance::Client;
use perpdesk_core::{MarginType, Symbol, SymbolRules};
use perpdesk_store::Account;

use crate::AppError;

/// An account with an open, signed client.
#[derive(Debug)]
pub(crate) struct Session {
    pub account: Account,
    pub client: Client,
    rules: tokio::sync::Mutex<HashMap<Symbol, SymbolRules>>,
    /// Leverage and margin type perpdesk last set per symbol, so they are only sent again
    /// when they differ (each change costs a request and an order-rate slot).
    pub margin: Mutex<HashMap<Symbol, (u32, MarginType)>>,
}

impl Session {
    /// A session for `account` over its signed `client`, with nothing cached yet.
    pub fn new(account: Account, client: Client) -> Self {
        Self {
            account,
            client,
            rules: tokio::sync::Mutex::new(HashMap::new()),
            margin: Mutex::new(HashMap::new()),
        }
    }

    /// Returns the symbol's filters and brackets, reading them from the exchange once.
    pub async fn rules(&self, symbol: &Symbol) -> Result<SymbolRules, AppError> {
        let mut rules = self.rules.lock().await;
        if let Some(r) = rules.get(symbol) {
            return Ok(r.clone());
        }
        let r = self.client.symbol_rules(symbol).await?.ok_or_else(|| {
            AppError::invalid("symbol", format!("{symbol} is not traded on this exchange"))
        })?;
        rules.insert(symbol.clone(), r.clone());
        Ok(r)
    }
}
