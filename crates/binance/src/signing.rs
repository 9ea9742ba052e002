//! Request signing for `USER_DATA` and `TRADE` endpoints.
//!
//! Binance signs `totalParams`: the query string immediately followed by the form body, with
//! no `&` between them (General Info, "SIGNED Endpoint Examples", example 3). The signature is
//! appended as the last `signature` parameter and the key goes in `X-MBX-APIKEY`.
//!
//! # What is wiped, and what is not
//!
//! [`HmacSigner`] owns one copy of the secret, in a buffer zeroized on drop, and is not
//! `Clone` (share it behind an `Arc`), so that copy is the only one it makes. The HMAC state
//! is not kept: each [`Signer::sign`] builds it from the secret on the stack and drops it.
//! The `hmac` 0.12 and `sha2` 0.10 crates cannot zeroize that state (no `zeroize` support),
//! and safe Rust cannot wipe it for them, so after each signature the calling thread's stack
//! may still hold the padded key block and the inner/outer SHA-256 midstates (each as good as
//! the secret for signing) until later calls overwrite them. No heap copy is left behind.
//! Copies the caller made before handing the secret over (the string it came from) are the
//! caller's to wipe.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The header that carries the API key on every keyed request.
pub const API_KEY_HEADER: &str = "X-MBX-APIKEY";

/// Something that can sign a request payload for Binance.
///
/// HMAC-SHA256 is the only kind implemented; Ed25519 keys sign the same `totalParams` and
/// return base64, so they fit behind this trait without touching the client.
pub trait Signer: Send + Sync {
    /// The API key sent in [`API_KEY_HEADER`].
    fn api_key(&self) -> &str;
    /// Signs `total_params` and returns the value of the `signature` parameter.
    fn sign(&self, total_params: &str) -> String;
}

/// An HMAC-SHA256 key pair. The secret is wiped from memory on drop and never printed; the
/// signer is not `Clone`, so it never multiplies the secret (share it behind an `Arc`).
pub struct HmacSigner {
    api_key: String,
    secret: Zeroizing<Vec<u8>>,
}

impl HmacSigner {
    /// Creates a signer from an API key and its secret. An owned `String` is taken over as
    /// it is (no copy); a `&str` is copied once, into the wiped buffer.
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            secret: Zeroizing::new(secret.into().into_bytes()),
        }
    }
}

impl fmt::Debug for HmacSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSigner")
            .field("api_key", &redact_key(&self.api_key))
            .field("secret", &"REDACTED")
            .finish()
    }
}

impl Signer for HmacSigner {
    fn api_key(&self) -> &str {
        &self.api_key
    }

    fn sign(&self, total_params: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        // Built per call rather than kept: a kept state would be one more key-equivalent
        // copy that nothing can wipe (see the module doc).
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(total_params.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Shows the first four characters of an API key, enough to tell keys apart in a log.
pub fn redact_key(key: &str) -> String {
    let head: String = key.chars().take(4).collect();
    format!("{head}…")
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Builds the query string of a signed request: the parameters in the order given, then
/// `recvWindow`, `timestamp` and, last, `signature` over everything before it.
pub fn signed_query(
    params: &[(&str, String)],
    recv_window_ms: u64,
    timestamp_ms: i64,
    signer: &dyn Signer,
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::with_capacity(256));
    for (k, v) in params {
        q.append_pair(k, v);
    }
    q.append_pair("recvWindow", &recv_window_ms.to_string());
    q.append_pair("timestamp", &timestamp_ms.to_string());
    let unsigned = q.finish();
    // The body is empty (every parameter travels in the query), so totalParams is the query.
    let signature = signer.sign(&total_params(&unsigned, ""));
    let mut q = url::form_urlencoded::Serializer::new(unsigned);
    q.append_pair("signature", &signature);
    q.finish()
}

/// Joins a query string and a form body the way Binance does before signing.
pub fn total_params(query: &str, body: &str) -> String {
    let mut total = String::with_capacity(query.len() + body.len());
    total.push_str(query);
    total.push_str(body);
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_secret() {
        let signer = HmacSigner::new("abcdefgh", "topsecret");
        let shown = format!("{signer:?}");
        assert!(!shown.contains("topsecret"));
        assert!(!shown.contains("abcdefgh"));
        assert!(shown.contains("abcd…"));
    }

    #[test]
    fn signed_queries_end_with_the_signature_of_everything_before_it() {
        let signer = HmacSigner::new("k", "s");
        let q = signed_query(
            &[("symbol", "BTCUSDT".into()), ("note", "a b&c".into())],
            5000,
            1,
            &signer,
        );
        let (payload, signature) = q.rsplit_once("&signature=").expect("signature last");
        assert_eq!(
            payload,
            "symbol=BTCUSDT&note=a+b%26c&recvWindow=5000&timestamp=1"
        );
        assert_eq!(signature, signer.sign(payload));
    }

    #[test]
    fn the_secret_lives_only_in_a_buffer_wiped_on_drop() {
        let signer = HmacSigner::new("k", String::from("topsecret"));
        let owned: &Zeroizing<Vec<u8>> = &signer.secret;
        assert_eq!(owned.as_slice(), b"topsecret");
    }

    /// Inherent consts win over trait consts only when their bounds hold, so `IS` reads
    /// `true` exactly for types that implement `Clone`.
    struct CloneProbe<T>(std::marker::PhantomData<T>);
    trait NotClone {
        const IS: bool = false;
    }
    impl<T> NotClone for CloneProbe<T> {}
    impl<T: Clone> CloneProbe<T> {
        const IS: bool = true;
    }

    // Checked when the test build compiles: a `Clone` signer would copy the secret.
    const _: () = assert!(CloneProbe::<String>::IS, "the probe itself must work");
    const _: () = assert!(!CloneProbe::<HmacSigner>::IS);

    #[test]
    fn hex_is_lowercase_and_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }
}
