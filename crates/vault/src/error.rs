//! The one error type of the crate.

use crate::password::PasswordWeakness;

/// Everything the vault can refuse, worded for a person reading it in the UI.
///
/// None of the variants carries secret material: an error may be logged or shown as is.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VaultError {
    /// The proposed master password failed a strength rule; the payload says which one.
    #[error("master password is too weak: {0}")]
    WeakPassword(PasswordWeakness),
    /// The master password does not open this vault's verifier.
    #[error("wrong master password")]
    WrongPassword,
    /// The key is not in memory: `lock()` was called or the vault sat idle past its timeout.
    #[error("the vault is locked; enter the master password to unlock it")]
    Locked,
    /// AES-GCM authentication failed: the bytes were altered, or they belong to another
    /// account or purpose (the two are indistinguishable by design).
    #[error(
        "sealed data failed authentication: it was altered, or it belongs to another account or purpose"
    )]
    Tampered,
    /// The stored text is not a sealed value or header this crate wrote.
    #[error("stored vault data is malformed: {0}")]
    BadEncoding(String),
    /// The stored data names a format version this build does not know.
    #[error("unsupported vault format version {0}; this build understands version 1")]
    UnsupportedVersion(u32),
    /// Argon2 parameters out of range, or below the floor this build accepts.
    #[error("invalid key-derivation parameters: {0}")]
    InvalidParams(String),
    /// The operating system's random source failed; nothing was sealed.
    #[error("the operating system's random number source failed: {0}")]
    Rng(String),
    /// A master-password change is being stored; sealing waits for it so that nothing new
    /// is sealed under the key being replaced.
    #[error("the master password is being changed; try again in a moment")]
    Busy,
    /// So many master-password checks are already queued that this one was refused without
    /// waiting (see [`crate::PasswordGate`]).
    #[error("too many password attempts are waiting; try again when the current one has finished")]
    TooManyAttempts,
    /// The runtime shut down while a password check was running; its outcome is unknown.
    #[error("the password check was interrupted")]
    Interrupted,
    /// AES-GCM refused to seal (only possible for absurdly large inputs).
    #[error("sealing failed: {0}")]
    SealFailed(&'static str),
}

/// Shorthand for this crate's results.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;
