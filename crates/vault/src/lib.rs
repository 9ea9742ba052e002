//! perpdesk-vault: keeps exchange API secrets encrypted at rest under a master password.
//!
//! The master password is stretched with Argon2id (parameters stored in a [`VaultHeader`]
//! beside the data) into a 256-bit key; each secret is sealed with AES-256-GCM under a fresh
//! random 96-bit nonce, with associated data ([`Aad`]) naming the owning account and purpose
//! and, for an API secret, its key id and environment.
//!
//! # Invariants
//!
//! - The key exists only in memory, inside [`Vault`], in a buffer wiped on [`Vault::lock`], on
//!   drop, and on the first use after the idle timeout. No API returns it.
//! - Plaintext secrets live only in [`Secret`]/[`SecretString`]: wiped on drop, printed as
//!   `REDACTED`, and not `Serialize`, so they cannot reach a log line or an IPC reply by
//!   accident; [`SecretString::expose`] marks every deliberate use.
//! - Nonces are drawn from the OS random source per seal, so reuse under one key is
//!   negligible: NIST's limit for random 96-bit nonces is 2³² seals per key, and a password
//!   change brings a fresh key anyway.
//! - A ciphertext opens only under the exact `Aad` it was sealed with.
//! - Every master-password check and every other Argon2id run goes through one
//!   [`PasswordGate`]: one at a time, with the throttle's delay inside the same turn.
//! - A password change never lowers a KDF cost; [`Vault::begin_password_change_retuned`]
//!   raises them to what this machine affords today ([`KdfTarget`]).
//! - [`Vault::change_password`] is all or nothing: it returns the full re-sealed set or an
//!   error, and changes nothing in memory on error. [`Vault::begin_password_change`] goes
//!   further for callers whose store write can fail: the vault switches keys only when the
//!   returned [`PasswordChange`] is committed, and refuses to seal until then.
//! - Idle means no use and no [`Vault::touch`]: the UI reports user activity, background
//!   work that only checks [`Vault::is_locked`] does not keep the key alive.
//!
//! # Threat model
//!
//! - **Disk (a stolen laptop, a backup, the SQLite file):** gets ciphertexts, the header (salt,
//!   costs, verifier) and account ids. Cannot read secrets without the password; each guess
//!   costs one Argon2id derivation at the stored cost (≥ OWASP's 19 MiB/2 passes; 128 MiB/4 by
//!   default). Can tell how long each secret is. Can *destroy* or swap data: swapping a
//!   ciphertext to another row or purpose, changing the key id or environment of an API
//!   secret's row, or flipping any byte, is detected ([`VaultError::Tampered`]), but deleting
//!   or rolling back a row to an older sealed value of the same row is not. Secrets sealed
//!   before the key binding (associated data without key id and environment) are bound only
//!   to account and purpose until moved with [`Vault::bind_legacy`]. A weak master password remains the weak point, hence the
//!   strength check.
//! - **The running process (debugger, memory dump, malicious code in-process):** while
//!   unlocked, gets everything: the key and any opened secret. Locking and idle auto-lock
//!   shrink that window; zeroization keeps freed memory from holding copies of what this
//!   crate owned. Live pages may still be swapped out, and copies made by callers, the
//!   allocator or the OS are outside its reach.
//! - **The UI (someone at the unlocked screen, or a compromised webview):** can ask the
//!   backend to *use* secrets (sign requests) but cannot read them: nothing secret is
//!   serializable. Guessing the password through the UI is slowed by [`PasswordGate`]
//!   (in memory only; a restart resets it, Argon2's cost still applies), which also keeps
//!   concurrent guesses from running side by side.

mod error;
mod gate;
mod kdf;
mod password;
mod sealed;
mod secret;
mod signing;
mod throttle;
mod vault;

pub use error::{Result, VaultError};
pub use gate::{MAX_QUEUED_CHECKS, PasswordGate};
pub use kdf::{KEY_LEN, KdfParams, KdfTarget, SALT_LEN};
pub use password::{
    CharClass, MIN_DISTINCT_CHARS, MIN_PASSWORD_CHARS, PasswordWeakness, check_password_strength,
};
pub use sealed::{Aad, KeyBinding, NONCE_LEN, SEALED_VERSION, Sealed, TAG_LEN};
pub use secret::{Secret, SecretString};
pub use signing::{STATEMENT_KEY_PURPOSE, StatementSigningKey};
pub use throttle::{Sleeper, ThreadSleeper, Throttle};
pub use vault::{
    Clock, DEFAULT_IDLE_TIMEOUT, HEADER_VERSION, ManualClock, PasswordChange, SystemClock,
    UnlockedVault, Vault, VaultHeader,
};
