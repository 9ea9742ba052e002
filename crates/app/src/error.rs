use serde::Serialize;

/// The closed set of error codes a UI may branch on.
///
/// A code is added only when a UI does something different for it; everything else is
/// `Internal` with its detail in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    /// The caller sent something malformed or out of range; the message says what.
    InvalidInput,
    /// A failure of ours or of the machine; the message is generic, the log has the detail.
    Internal,
}

impl ErrorCode {
    /// Returns the code as the UI sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "InvalidInput",
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
    /// A failure in a part of the app that is not the caller's fault.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// Returns the stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidInput { .. } => ErrorCode::InvalidInput,
            Self::Io { .. } | Self::Internal(_) => ErrorCode::Internal,
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
            ErrorCode::InvalidInput => self.to_string(),
            ErrorCode::Internal => {
                tracing::error!(error = %self, "internal error reached the UI boundary");
                "Something went wrong inside perpdesk; the log file has the details.".to_owned()
            }
        };
        UiError {
            code: code.as_str(),
            message,
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
        })
        .expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({"code": "InvalidInput", "message": "m"})
        );
    }
}
