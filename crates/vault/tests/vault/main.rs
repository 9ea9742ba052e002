//! The vault's public contract, exercised as the store and app crates will use it.

mod gate;
mod lifecycle;
mod sealing;

use perpdesk_vault::{KdfParams, SecretString, Vault, VaultHeader};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "Another long-enough passphrase 42";

fn pw(s: &str) -> SecretString {
    SecretString::from(s)
}

/// A vault with cheap Argon2 costs so the suite runs in milliseconds.
fn cheap_vault() -> (Vault, VaultHeader) {
    Vault::create(&pw(PASSWORD), KdfParams::insecure_for_tests())
        .expect("a strong password creates a vault")
}
