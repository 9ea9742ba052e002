use serde::{Deserialize, Serialize};

use crate::AppError;

/// The dashboard's interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    /// Simplified Chinese, the original system's language and the default.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

/// The dashboard's panels, in the order the navigation shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Panel {
    /// Binding the Binance API key.
    ApiConfig,
    /// Live prediction signals and their track records.
    #[default]
    Signals,
    /// One-click order placement.
    Trade,
    /// Orders, fills and positions synced from the exchange.
    Records,
    /// The profit-share ledger and statements.
    ProfitShare,
    /// Risk limits.
    Risk,
}

/// UI preferences that survive a restart. Trading settings live elsewhere, in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preferences {
    /// Interface language.
    pub language: Language,
    /// The panel shown at start.
    pub last_panel: Panel,
}

impl Preferences {
    /// Parses preferences sent by a UI, naming the field that is wrong.
    ///
    /// # Errors
    /// [`AppError::InvalidInput`] for unknown languages or panels, unknown fields or a
    /// value that is not an object.
    pub fn from_json(value: serde_json::Value) -> Result<Self, AppError> {
        serde_json::from_value(value).map_err(|e| AppError::InvalidInput {
            field: "preferences",
            reason: e.to_string(),
        })
    }

    /// Reads preferences saved by an earlier run; anything unreadable falls back to the
    /// defaults, because a damaged preferences file must never stop the app from starting.
    pub fn from_saved(value: Option<serde_json::Value>) -> Self {
        match value.map(Self::from_json) {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "saved preferences unreadable; using defaults");
                Self::default()
            }
            None => Self::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorCode;

    #[test]
    fn defaults_to_chinese_and_the_signals_panel() {
        let p = Preferences::default();
        assert_eq!(p.language, Language::ZhCn);
        assert_eq!(p.last_panel, Panel::Signals);
        assert_eq!(
            serde_json::to_value(p).expect("serializable"),
            json!({"language": "zh-CN", "lastPanel": "signals"})
        );
    }

    #[test]
    fn parses_what_the_ui_sends() {
        let p = Preferences::from_json(json!({"language": "en", "lastPanel": "profit-share"}))
            .expect("valid");
        assert_eq!(p.language, Language::En);
        assert_eq!(p.last_panel, Panel::ProfitShare);
    }

    #[test]
    fn refuses_unknown_languages_and_fields_with_a_clear_message() {
        let err = Preferences::from_json(json!({"language": "fr", "lastPanel": "risk"}))
            .expect_err("fr is not offered");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.to_string().contains("fr"), "{err}");
        let err = Preferences::from_json(json!({"language": "en", "lastPanel": "risk", "x": 1}))
            .expect_err("unknown field");
        assert!(err.to_string().contains('x'), "{err}");
    }

    #[test]
    fn damaged_saved_preferences_fall_back_to_defaults() {
        assert_eq!(
            Preferences::from_saved(Some(json!("garbage"))),
            Preferences::default()
        );
        assert_eq!(Preferences::from_saved(None), Preferences::default());
    }
}
