//! Secret holders that wipe themselves and refuse to be printed or serialized.

use std::fmt;

use serde::{Deserialize, Deserializer};
use zeroize::{Zeroize, ZeroizeOnDrop};

const REDACTED: &str = "REDACTED";

/// Secret bytes: zeroized on drop, printed as `REDACTED`, never serialized.
///
/// There is deliberately no `Clone` and no `Serialize`: every copy is one more place to wipe,
/// and a secret that cannot be serialized cannot leak into an IPC reply or a log line.
#[derive(Zeroize, ZeroizeOnDrop, Default, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Takes ownership of `bytes`; they are wiped when the `Secret` drops.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The raw bytes. Named so that every use of the secret is easy to find in review.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret: ciphertext length reveals it anyway).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A secret UTF-8 string (API secret, master password): zeroized on drop, printed as
/// `REDACTED`, never serialized.
///
/// It implements `Deserialize` so that an IPC command can *receive* a secret typed by the user;
/// it does not implement `Serialize`, so no reply can carry one back by accident.
#[derive(Zeroize, ZeroizeOnDrop, Default, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Takes ownership of `s`; it is wiped when the `SecretString` drops.
    #[must_use]
    pub fn new(s: String) -> Self {
        Self(s)
    }

    /// The secret text. Named so that every use of the secret is easy to find in review.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The deserializer's own buffers are outside our control; at least the owned copy is ours.
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = SecretString::from("hunter2-super-secret");
        assert_eq!(format!("{s:?}"), "REDACTED");
        assert_eq!(format!("{s}"), "REDACTED");
        assert_eq!(format!("{:#?}", Some(&s)), "Some(\n    REDACTED,\n)");
        let b = Secret::new(b"raw-bytes".to_vec());
        assert_eq!(format!("{b:?} {b}"), "REDACTED REDACTED");
    }

    #[test]
    fn zeroize_wipes_contents() {
        let mut s = SecretString::from("wipe me");
        s.zeroize();
        assert!(s.expose().is_empty());
        let mut b = Secret::new(vec![1, 2, 3]);
        b.zeroize();
        assert!(b.is_empty());
    }

    /// Inherent consts win over trait consts only when their bounds hold, so `IS` reads `true`
    /// exactly for types that implement `Serialize`.
    struct SerializeProbe<T>(std::marker::PhantomData<T>);
    trait Fallback {
        const IS: bool = false;
    }
    impl<T> Fallback for SerializeProbe<T> {}
    impl<T: serde::Serialize> SerializeProbe<T> {
        const IS: bool = true;
    }

    // Checked when the test build compiles: adding `Serialize` to a secret type breaks it.
    const _: () = assert!(SerializeProbe::<String>::IS, "the probe itself must work");
    const _: () = assert!(!SerializeProbe::<SecretString>::IS);
    const _: () = assert!(!SerializeProbe::<Secret>::IS);

    #[test]
    fn deserializes_from_json_string() {
        let s: SecretString = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
    }
}
