//! Planning a click: from a ticket and the market to the exact orders that would go out.

use serde::{Deserialize, Serialize};

use crate::{MaintenanceBracket, SymbolFilters};

/// A symbol's trading rules: its filters and its maintenance-margin brackets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolRules {
    pub filters: SymbolFilters,
    /// In ascending notional order; empty when the exchange lists none.
    pub brackets: Vec<MaintenanceBracket>,
}
