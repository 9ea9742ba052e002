//! AES-256-GCM sealing, the associated data that binds a ciphertext to its row, and the
//! storage encoding of the result.

use std::fmt;
use std::str::FromStr;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};
use crate::kdf::KEY_LEN;

/// Version byte leading every encoded [`Sealed`].
pub const SEALED_VERSION: u8 = 1;

/// Bytes in an AES-GCM nonce (96 bits, the size GCM is designed for).
pub const NONCE_LEN: usize = 12;

/// Bytes in the GCM authentication tag appended to every ciphertext.
pub const TAG_LEN: usize = 16;

/// Domain prefixes keep user AAD and the verifier's AAD from ever colliding, and tell the
/// two formats of user AAD apart.
const AAD_DOMAIN: &[u8] = b"perpdesk-vault/aad/v1\0";
const KEY_AAD_DOMAIN: &[u8] = b"perpdesk-vault/aad/v2\0";
const VERIFIER_DOMAIN: &[u8] = b"perpdesk-vault/verifier/v1\0";

/// Associated data: who a secret belongs to, what it is for and, for an exchange API secret,
/// which key and environment its row names. It is authenticated but not stored, so a
/// ciphertext copied to another account's row or purpose, or left in a row whose key id or
/// environment was changed, fails to open with [`VaultError::Tampered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aad<'a> {
    /// The owning row's id (e.g. `accounts.id`).
    pub account_id: i64,
    /// What the secret is, e.g. `"binance.api_secret"`.
    pub purpose: &'a str,
    /// The API key the secret belongs to; `None` for secrets that are not half of an API key
    /// (backups) and for the first format of API secrets ([`crate::Vault::bind_legacy`]).
    pub key: Option<KeyBinding<'a>>,
}

/// The row fields an API secret is bound to besides its account: with them in the associated
/// data, pairing a secret with another key id or moving it to another environment (say, from
/// the testnet to a custom server) is detected when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBinding<'a> {
    /// The API key id the secret signs for, as the row stores it (`accounts.api_key_id`).
    pub key_id: &'a str,
    /// The environment the key is for, as the row stores it (`"paper"`, `"testnet"`,
    /// `"live"`, ...). The exact text counts: renaming an environment needs a re-seal.
    pub environment: &'a str,
}

impl<'a> Aad<'a> {
    /// Associated data for `purpose` of `account_id`, bound to nothing else: for secrets that
    /// have no API key (a backup's payload).
    #[must_use]
    pub const fn new(account_id: i64, purpose: &'a str) -> Self {
        Self {
            account_id,
            purpose,
            key: None,
        }
    }

    /// Associated data for the API secret of `account_id`, bound to its key id and
    /// environment as well.
    #[must_use]
    pub const fn for_key(
        account_id: i64,
        purpose: &'a str,
        key_id: &'a str,
        environment: &'a str,
    ) -> Self {
        Self {
            account_id,
            purpose,
            key: Some(KeyBinding {
                key_id,
                environment,
            }),
        }
    }

    /// The same associated data without the key binding: the form API secrets sealed before
    /// the binding existed were sealed under.
    #[must_use]
    pub const fn without_key(self) -> Self {
        Self { key: None, ..self }
    }

    /// The exact bytes authenticated: domain, big-endian id, then each text length-prefixed
    /// (purpose; key id and environment when bound). The length prefixes and the two domains
    /// make the encoding injective, so no two different `Aad`s share bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let texts: &[&str] = match &self.key {
            None => &[self.purpose],
            Some(k) => &[self.purpose, k.key_id, k.environment],
        };
        let domain = if self.key.is_some() {
            KEY_AAD_DOMAIN
        } else {
            AAD_DOMAIN
        };
        let len = texts.iter().map(|t| 8 + t.len()).sum::<usize>();
        let mut out = Vec::with_capacity(domain.len() + 8 + len);
        out.extend_from_slice(domain);
        out.extend_from_slice(&self.account_id.to_be_bytes());
        for text in texts {
            out.extend_from_slice(&(text.len() as u64).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out
    }
}

/// The verifier's associated data binds it to the header's salt and parameters, so a header
/// whose fields were swapped around does not verify.
pub(crate) fn verifier_aad(salt: &[u8], params_tag: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(VERIFIER_DOMAIN.len() + salt.len() + params_tag.len() + 16);
    out.extend_from_slice(VERIFIER_DOMAIN);
    out.extend_from_slice(&(salt.len() as u64).to_be_bytes());
    out.extend_from_slice(salt);
    out.extend_from_slice(params_tag.as_bytes());
    out
}

/// One sealed secret: a fresh random nonce and the AES-256-GCM ciphertext with its tag.
///
/// Stored as text by [`Sealed::encode`]: base64 of `version ‖ nonce ‖ ciphertext ‖ tag`.
/// Nothing in it is secret, so it prints and serializes freely.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sealed {
    /// The 96-bit nonce, never reused under one key (random per seal).
    pub nonce: [u8; NONCE_LEN],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl Sealed {
    /// `version ‖ nonce ‖ ciphertext ‖ tag`.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + NONCE_LEN + self.ciphertext.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Parses [`Sealed::to_bytes`] output.
    ///
    /// # Errors
    ///
    /// [`VaultError::BadEncoding`] if empty or too short to hold a nonce and tag;
    /// [`VaultError::UnsupportedVersion`] if the leading byte is not [`SEALED_VERSION`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (&version, rest) = bytes
            .split_first()
            .ok_or_else(|| VaultError::BadEncoding("sealed value is empty".into()))?;
        if version != SEALED_VERSION {
            return Err(VaultError::UnsupportedVersion(u32::from(version)));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(VaultError::BadEncoding(format!(
                "sealed value is truncated: {} bytes after the version, need at least {}",
                rest.len(),
                NONCE_LEN + TAG_LEN
            )));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let mut n = [0u8; NONCE_LEN];
        n.copy_from_slice(nonce);
        Ok(Self {
            nonce: n,
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// Base64 (standard alphabet, padded) of [`Sealed::to_bytes`], for a SQLite `TEXT` column.
    #[must_use]
    pub fn encode(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// Parses [`Sealed::encode`] output.
    ///
    /// # Errors
    ///
    /// [`VaultError::BadEncoding`] for invalid base64 or a short value;
    /// [`VaultError::UnsupportedVersion`] for an unknown version byte.
    pub fn decode(text: &str) -> Result<Self> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|e| VaultError::BadEncoding(format!("sealed value is not base64: {e}")))?;
        Self::from_bytes(&bytes)
    }

    pub(crate) fn seal(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Self> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| VaultError::Rng(e.to_string()))?;
        let cipher = Aes256Gcm::new(key.into());
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| VaultError::SealFailed("plaintext too large for AES-GCM"))?;
        Ok(Self { nonce, ciphertext })
    }

    pub(crate) fn open(&self, key: &[u8; KEY_LEN], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let cipher = Aes256Gcm::new(key.into());
        cipher
            .decrypt(
                Nonce::from_slice(&self.nonce),
                Payload {
                    msg: &self.ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Tampered)
    }
}

impl fmt::Display for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for Sealed {
    type Err = VaultError;

    fn from_str(s: &str) -> Result<Self> {
        Self::decode(s)
    }
}

impl Serialize for Sealed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Sealed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::decode(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; KEY_LEN] = [7; KEY_LEN];

    #[test]
    fn the_first_aad_format_is_unchanged() {
        // Secrets sealed before key binding existed are opened with these exact bytes.
        let mut v1 = b"perpdesk-vault/aad/v1\0".to_vec();
        v1.extend_from_slice(&7_i64.to_be_bytes());
        v1.extend_from_slice(&2_u64.to_be_bytes());
        v1.extend_from_slice(b"ab");
        assert_eq!(Aad::new(7, "ab").to_bytes(), v1);
        assert_eq!(
            Aad::for_key(7, "ab", "k", "live").without_key().to_bytes(),
            v1
        );
    }

    #[test]
    fn aad_encoding_is_injective_on_tricky_pairs() {
        let key = |id, env| Aad::for_key(1, "p", id, env).to_bytes();
        assert_ne!(key("ab", "c"), key("a", "bc"));
        assert_ne!(key("k", "live"), key("k", "testnet"));
        assert_ne!(key("", ""), Aad::new(1, "p").to_bytes());
        assert_ne!(Aad::new(1, "ab").to_bytes(), Aad::new(1, "a").to_bytes());
        assert_ne!(Aad::new(1, "x").to_bytes(), Aad::new(2, "x").to_bytes());
        assert_ne!(
            Aad::new(-1, "x").to_bytes(),
            Aad::new(i64::MAX, "x").to_bytes()
        );
    }

    #[test]
    fn nonces_are_fresh() {
        let a = Sealed::seal(&KEY, b"aad", b"same").unwrap();
        let b = Sealed::seal(&KEY, b"aad", b"same").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn encoding_round_trips_and_rejects_junk() {
        let s = Sealed::seal(&KEY, b"aad", b"payload").unwrap();
        assert_eq!(Sealed::decode(&s.encode()).unwrap(), s);
        assert_eq!(s.to_string().parse::<Sealed>().unwrap(), s);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Sealed>(&json).unwrap(), s);
        assert!(matches!(
            Sealed::decode(""),
            Err(VaultError::BadEncoding(_))
        ));
        assert!(matches!(
            Sealed::decode("!!!"),
            Err(VaultError::BadEncoding(_))
        ));
        assert!(matches!(
            Sealed::from_bytes(&[1; 28]),
            Err(VaultError::BadEncoding(_))
        ));
        assert!(Sealed::from_bytes(&[1; 29]).is_ok());
        assert!(matches!(
            Sealed::from_bytes(&[2; 40]),
            Err(VaultError::UnsupportedVersion(2))
        ));
    }

    #[test]
    fn empty_plaintext_still_authenticates() {
        let s = Sealed::seal(&KEY, b"aad", b"").unwrap();
        assert_eq!(s.ciphertext.len(), TAG_LEN);
        assert!(s.open(&KEY, b"aad").unwrap().is_empty());
        assert_eq!(s.open(&KEY, b"other"), Err(VaultError::Tampered));
    }
}
