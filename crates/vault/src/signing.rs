//! The Ed25519 key that signs settlement statements, sealed like the API secrets.
//!
//! Made once, at first run ([`StatementSigningKey::generate`], from the OS random source);
//! its private half is stored only sealed under the vault key with its own purpose
//! ([`STATEMENT_KEY_PURPOSE`]), so it opens only while the vault is unlocked and a
//! ciphertext copied from an API-secret slot (or to one) does not open. The public half is
//! given to the platform, which verifies statements with it (`perpdesk_core::verify`).
//!
//! The key wipes itself on drop (ed25519-dalek's `zeroize` feature) and prints as
//! `REDACTED` with its public fingerprint; the secret bytes pass through a [`Secret`] only
//! to be sealed or opened.

use std::fmt;

use ed25519_dalek::{SECRET_KEY_LENGTH, Signer, SigningKey};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};
use crate::sealed::{Aad, Sealed};
use crate::secret::Secret;
use crate::vault::Vault;

/// The [`Aad::purpose`] the signing key is sealed under; no API secret uses it.
pub const STATEMENT_KEY_PURPOSE: &str = "ledger.statement_signing_key";

/// The private key that signs settlement statements.
pub struct StatementSigningKey(SigningKey);

impl StatementSigningKey {
    /// Makes a new key from the OS random source.
    ///
    /// # Errors
    /// [`VaultError::Rng`] when the OS has no randomness to give.
    pub fn generate() -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; SECRET_KEY_LENGTH]);
        getrandom::fill(seed.as_mut()).map_err(|e| VaultError::Rng(e.to_string()))?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// Returns the public key's 32 bytes (give them to `perpdesk_core::PublicKey`).
    #[must_use]
    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs `message` (a statement's canonical bytes).
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Seals the private key under the vault's key. Use an [`Aad`] whose purpose is
    /// [`STATEMENT_KEY_PURPOSE`].
    ///
    /// # Errors
    /// [`VaultError::Locked`] when the vault is locked; as [`Vault::seal_secret`] otherwise.
    pub fn seal(&self, vault: &Vault, aad: Aad<'_>) -> Result<Sealed> {
        let bytes = Zeroizing::new(self.0.to_bytes());
        let secret = Secret::new(bytes.to_vec());
        vault.seal_secret(aad, &secret)
    }

    /// Opens a key sealed by [`StatementSigningKey::seal`] with the same `aad`.
    ///
    /// # Errors
    /// [`VaultError::Locked`]; [`VaultError::Tampered`] when the ciphertext or its
    /// associated data changed; [`VaultError::BadEncoding`] when what opens is not a key.
    pub fn open(vault: &Vault, aad: Aad<'_>, sealed: &Sealed) -> Result<Self> {
        let secret = vault.open_secret(aad, sealed)?;
        let seed: Zeroizing<[u8; SECRET_KEY_LENGTH]> =
            Zeroizing::new(secret.expose().try_into().map_err(|_| {
                VaultError::BadEncoding(format!(
                    "a signing key is {SECRET_KEY_LENGTH} bytes, this one {}",
                    secret.len()
                ))
            })?);
        Ok(Self(SigningKey::from_bytes(&seed)))
    }
}

impl fmt::Debug for StatementSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StatementSigningKey(REDACTED)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KdfParams, SecretString};

    fn vault() -> Vault {
        let password = SecretString::new("correct horse battery staple 9!".into());
        Vault::create(&password, KdfParams::insecure_for_tests())
            .expect("vault")
            .0
    }

    #[test]
    fn a_sealed_key_opens_to_the_same_key_only_under_its_own_purpose() {
        let vault = vault();
        let key = StatementSigningKey::generate().expect("key");
        let aad = Aad::new(0, STATEMENT_KEY_PURPOSE);
        let sealed = key.seal(&vault, aad).expect("seal");
        let opened = StatementSigningKey::open(&vault, aad, &sealed).expect("open");
        assert_eq!(opened.public_key(), key.public_key());
        assert_eq!(opened.sign(b"statement"), key.sign(b"statement"));
        assert!(matches!(
            StatementSigningKey::open(&vault, Aad::new(0, "binance.api_secret"), &sealed),
            Err(VaultError::Tampered)
        ));
        vault.lock();
        assert!(matches!(
            StatementSigningKey::open(&vault, aad, &sealed),
            Err(VaultError::Locked)
        ));
    }

    #[test]
    fn keys_are_fresh_and_never_print_their_secret() {
        let a = StatementSigningKey::generate().expect("key");
        let b = StatementSigningKey::generate().expect("key");
        assert_ne!(a.public_key(), b.public_key());
        assert_eq!(format!("{a:?}"), "StatementSigningKey(REDACTED)");
    }

    #[test]
    fn a_sealed_value_of_the_wrong_length_is_not_a_key() {
        let vault = vault();
        let aad = Aad::new(0, STATEMENT_KEY_PURPOSE);
        let short = vault
            .seal_secret(aad, &Secret::new(vec![1; 16]))
            .expect("seal");
        assert!(matches!(
            StatementSigningKey::open(&vault, aad, &short),
            Err(VaultError::BadEncoding(_))
        ));
    }
}
