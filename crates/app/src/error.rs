use serde::Serialize;

/// The closed set of error codes a UI may branch on.
///
/// A code is added only when a UI does something different for it; everything else is
/// `Internal` with its detail in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    /// The caller sent something malformed or out of range; the message says what.
    InvalidInput,
    /// The vault is locked: the user must unlock it first.
    Locked,
    /// No master password yet: the first-run flow must run.
    NotInitialized,
    /// The master password was wrong.
    WrongPassword,
    /// The change loosens a safety setting: ask for the master password and send it again.
    PasswordRequired,
    /// A risk rule refused the order before anything was sent.
    RiskRefused,
    /// The exchange refused the request (its code is in the message).
    ExchangeRejected,
    /// The exchange could not be reached, or the outcome is not known yet.
    Unavailable,
    /// The thing asked for does not exist.
    NotFound,
    /// The request clashes with the current state (a taken name, an open position).
    Conflict,
    /// A failure of ours or of the machine; the message is generic, the log has the detail.
    Internal,
}

impl ErrorCode {
    /// Returns the code as the UI sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "InvalidInput",
            Self::Locked => "Locked",
            Self::NotInitialized => "NotInitialized",
            Self::WrongPassword => "WrongPassword",
            Self::PasswordRequired => "PasswordRequired",
            Self::RiskRefused => "RiskRefused",
            Self::ExchangeRejected => "ExchangeRejected",
            Self::Unavailable => "Unavailable",
            Self::NotFound => "NotFound",
            Self::Conflict => "Conflict",
            Self::Internal => "Internal",
        }
    }
}

/// Every failure the application API can report.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A field of a request failed validation.
    #[error("{field}: {reason}")]
    InvalidInput {
        /// The request field, as the UI names it.
        field: &'static str,
        /// What is wrong with it, in words a user can act on.
        reason: String,
    },
    /// A file or folder operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("create folder", "read").
        action: &'static str,
        /// The path involved.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The vault is locked.
    #[error("the vault is locked; unlock it with the master password")]
    Locked,
    /// The vault has not been set up.
    #[error("no master password has been set yet")]
    NotInitialized,
    /// Unlocking failed.
    #[error("wrong master password")]
    WrongPassword,
    /// The action needs the master password (again, or the current one as well) and came
    /// without it; nothing was changed.
    #[error("{field}: {reason}; nothing was changed")]
    PasswordRequired {
        /// What asks for it: the loosened settings by name, or the request field.
        field: String,
        /// Why, in words a user can act on.
        reason: &'static str,
    },
    /// A risk rule refused an order; nothing was sent.
    #[error("refused by risk rule {rule}: {0}", rule = .0.rule())]
    Risk(perpdesk_core::RiskRefusal),
    /// The exchange answered with an error.
    #[error("{0}")]
    Exchange(#[from] perpdesk_binance::ExchangeError),
    /// Something named by the caller does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The request clashes with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A local database failure.
    #[error("database: {0}")]
    Store(#[from] perpdesk_store::StoreError),
    /// A failure in a part of the app that is not the caller's fault.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// Shorthand for a field validation error.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

impl AppError {
    /// Returns the stable code for this error.
    pub fn code(&self) -> ErrorCode {
        use perpdesk_binance::ExchangeError as X;
        match self {
            Self::InvalidInput { .. } => ErrorCode::InvalidInput,
            Self::Locked => ErrorCode::Locked,
            Self::NotInitialized => ErrorCode::NotInitialized,
            Self::WrongPassword => ErrorCode::WrongPassword,
            Self::PasswordRequired { .. } => ErrorCode::PasswordRequired,
            Self::Risk(_) => ErrorCode::RiskRefused,
            Self::Exchange(X::Rejected { .. }) => ErrorCode::ExchangeRejected,
            Self::Exchange(
                X::RateLimited { .. }
                | X::IpBanned { .. }
                | X::UnknownExecution { .. }
                | X::Unavailable { .. }
                | X::Firewall { .. }
                | X::Transport { .. },
            ) => ErrorCode::Unavailable,
            Self::Exchange(X::Decode { .. } | X::NoCredentials { .. }) => ErrorCode::Internal,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Store(perpdesk_store::StoreError::Conflict(_)) => ErrorCode::Conflict,
            Self::Io { .. } | Self::Internal(_) | Self::Store(_) => ErrorCode::Internal,
        }
    }

    /// Converts the error into what crosses to the UI.
    ///
    /// Bad input keeps its message so the user can fix it; internal failures are logged in
    /// full and shown with a short generic message, since paths and OS errors mean nothing
    /// to a trader and may reveal more than they should.
    pub fn to_ui(&self) -> UiError {
        let code = self.code();
        let message = match code {
            ErrorCode::Internal => {
                tracing::error!(error = %self, "internal error reached the UI boundary");
                "Something went wrong inside perpdesk; the log file has the details.".to_owned()
            }
            _ => self.to_string(),
        };
        UiError {
            code: code.as_str(),
            message,
            rule: match self {
                Self::Risk(r) => Some(r.rule()),
                _ => None,
            },
        }
    }
}

/// The `{code, message}` object every failed command returns to the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiError {
    /// One of [`ErrorCode`]'s names.
    pub code: &'static str,
    /// A sentence for the user.
    pub message: String,
    /// For `RiskRefused`: the rule's stable name (`max_leverage`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

impl From<AppError> for UiError {
    fn from(err: AppError) -> Self {
        err.to_ui()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_keeps_its_message_for_the_user() {
        let ui = AppError::InvalidInput {
            field: "language",
            reason: "unknown language \"fr\"".into(),
        }
        .to_ui();
        assert_eq!(ui.code, "InvalidInput");
        assert_eq!(ui.message, "language: unknown language \"fr\"");
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let ui = AppError::Io {
            action: "create folder",
            path: "/secret/place".into(),
            source: std::io::Error::other("boom"),
        }
        .to_ui();
        assert_eq!(ui.code, "Internal");
        assert!(!ui.message.contains("/secret"));
    }

    #[test]
    fn serializes_as_code_and_message() {
        let json = serde_json::to_value(UiError {
            code: ErrorCode::InvalidInput.as_str(),
            message: "m".into(),
            rule: None,
        })
        .expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({"code": "InvalidInput", "message": "m"})
        );
    }
}
