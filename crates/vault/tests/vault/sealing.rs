//! Sealing, opening, tampering and encodings.

use perpdesk_vault::{Aad, KeyBinding, NONCE_LEN, Sealed, TAG_LEN, VaultError};

use crate::{cheap_vault, pw};

const SECRET: &str = "binance-api-secret-0123456789abcdef";

#[test]
fn round_trip_through_storage_text() {
    let (vault, _) = cheap_vault();
    let aad = Aad::new(42, "binance.api_secret");
    let sealed = vault.seal(aad, &pw(SECRET)).unwrap();
    let stored: String = sealed.encode();
    assert!(!stored.contains(SECRET));
    let loaded = Sealed::decode(&stored).unwrap();
    assert_eq!(vault.open(aad, &loaded).unwrap().expose(), SECRET);
    // Empty and non-ASCII secrets survive too.
    for s in ["", "ключ-🔑"] {
        let sealed = vault.seal(aad, &pw(s)).unwrap();
        assert_eq!(vault.open(aad, &sealed).unwrap().expose(), s);
    }
}

#[test]
fn flipping_any_byte_of_nonce_ciphertext_or_tag_fails() {
    let (vault, _) = cheap_vault();
    let aad = Aad::new(7, "binance.api_secret");
    let sealed = vault.seal(aad, &pw(SECRET)).unwrap();
    let bytes = sealed.to_bytes();
    assert_eq!(bytes.len(), 1 + NONCE_LEN + SECRET.len() + TAG_LEN);
    // Index 0 is the version byte, covered by the encoding test; every other byte is nonce,
    // ciphertext or tag.
    for i in 1..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut forged = bytes.clone();
            forged[i] ^= flip;
            let forged = Sealed::from_bytes(&forged).unwrap();
            assert_eq!(
                vault.open(aad, &forged).unwrap_err(),
                VaultError::Tampered,
                "byte {i} ^ {flip:#x} went unnoticed"
            );
        }
    }
    // Truncating the tag or appending bytes fails as well.
    let mut short = sealed.clone();
    short.ciphertext.pop();
    assert_eq!(vault.open(aad, &short).unwrap_err(), VaultError::Tampered);
    let mut long = sealed;
    long.ciphertext.push(0);
    assert_eq!(vault.open(aad, &long).unwrap_err(), VaultError::Tampered);
}

#[test]
fn ciphertext_moved_to_another_row_or_purpose_fails() {
    let (vault, _) = cheap_vault();
    let sealed = vault
        .seal(Aad::new(1, "binance.api_secret"), &pw(SECRET))
        .unwrap();
    for wrong in [
        Aad::new(2, "binance.api_secret"),
        Aad::new(-1, "binance.api_secret"),
        Aad::new(1, "binance.api_key"),
        Aad::new(1, "binance.api_secre"),
        Aad::new(1, ""),
    ] {
        assert_eq!(
            vault.open(wrong, &sealed).unwrap_err(),
            VaultError::Tampered,
            "{wrong:?}"
        );
    }
}

const PURPOSE: &str = "binance.api_secret";

#[test]
fn a_swapped_key_id_or_environment_fails_to_open() {
    let (vault, _) = cheap_vault();
    let aad = Aad::for_key(1, PURPOSE, "key-A", "testnet");
    let sealed = vault.seal(aad, &pw(SECRET)).unwrap();
    assert_eq!(vault.open(aad, &sealed).unwrap().expose(), SECRET);
    for wrong in [
        Aad::for_key(1, PURPOSE, "key-B", "testnet"),
        Aad::for_key(1, PURPOSE, "key-A", "live"),
        Aad::for_key(1, PURPOSE, "key-A", "custom"),
        Aad::for_key(1, PURPOSE, "key-A", ""),
        Aad::for_key(1, PURPOSE, "", "testnet"),
        Aad::for_key(1, PURPOSE, "key-", "Atestnet"),
        Aad::for_key(2, PURPOSE, "key-A", "testnet"),
        Aad::new(1, PURPOSE),
    ] {
        assert_eq!(
            vault.open(wrong, &sealed).unwrap_err(),
            VaultError::Tampered,
            "{wrong:?}"
        );
    }
}

#[test]
fn a_legacy_secret_moves_to_the_bound_format_once() {
    let (vault, _) = cheap_vault();
    let legacy = vault.seal(Aad::new(1, PURPOSE), &pw(SECRET)).unwrap();
    let key = KeyBinding {
        key_id: "key-A",
        environment: "live",
    };
    let bound = vault.bind_legacy(1, PURPOSE, key, &legacy).unwrap();
    let aad = Aad::for_key(1, PURPOSE, "key-A", "live");
    assert_eq!(vault.open(aad, &bound).unwrap().expose(), SECRET);
    // The moved value is bound: the first format no longer opens it, a swapped row field
    // does not either, and it cannot be "moved" again under other fields.
    assert_eq!(
        vault.open(Aad::new(1, PURPOSE), &bound).unwrap_err(),
        VaultError::Tampered
    );
    assert_eq!(
        vault
            .open(Aad::for_key(1, PURPOSE, "key-A", "testnet"), &bound)
            .unwrap_err(),
        VaultError::Tampered
    );
    let elsewhere = KeyBinding {
        key_id: "key-A",
        environment: "testnet",
    };
    assert_eq!(
        vault
            .bind_legacy(1, PURPOSE, elsewhere, &bound)
            .unwrap_err(),
        VaultError::Tampered
    );
    // The first format still names the account and purpose.
    assert_eq!(
        vault.bind_legacy(2, PURPOSE, key, &legacy).unwrap_err(),
        VaultError::Tampered
    );
    assert_eq!(
        vault.bind_legacy(1, "other", key, &legacy).unwrap_err(),
        VaultError::Tampered
    );
    vault.lock();
    assert_eq!(
        vault.bind_legacy(1, PURPOSE, key, &legacy).unwrap_err(),
        VaultError::Locked
    );
}

#[test]
fn another_vaults_ciphertext_fails() {
    let (a, _) = cheap_vault();
    let (b, _) = cheap_vault();
    let aad = Aad::new(1, "p");
    let sealed = a.seal(aad, &pw(SECRET)).unwrap();
    assert_eq!(b.open(aad, &sealed).unwrap_err(), VaultError::Tampered);
}

#[test]
fn bad_encodings_are_reported_as_such() {
    let (vault, _) = cheap_vault();
    let good = vault.seal(Aad::new(1, "p"), &pw(SECRET)).unwrap();
    let bytes = good.to_bytes();

    assert!(matches!(
        Sealed::decode(""),
        Err(VaultError::BadEncoding(_))
    ));
    assert!(matches!(
        Sealed::from_bytes(&[]),
        Err(VaultError::BadEncoding(_))
    ));
    assert!(matches!(
        Sealed::decode("not base64 at all!"),
        Err(VaultError::BadEncoding(_))
    ));
    assert!(matches!(
        Sealed::decode("AAAA="),
        Err(VaultError::BadEncoding(_))
    ));
    for cut in [1, NONCE_LEN, NONCE_LEN + TAG_LEN] {
        assert!(
            matches!(
                Sealed::from_bytes(&bytes[..cut]),
                Err(VaultError::BadEncoding(_))
            ),
            "cut at {cut}"
        );
    }
    // Truncated text, not just truncated bytes.
    let text = good.encode();
    assert!(Sealed::decode(&text[..text.len() / 3]).is_err());

    let mut future = bytes;
    future[0] = 2;
    assert_eq!(
        Sealed::from_bytes(&future).unwrap_err(),
        VaultError::UnsupportedVersion(2)
    );
    future[0] = 0;
    assert_eq!(
        Sealed::from_bytes(&future).unwrap_err(),
        VaultError::UnsupportedVersion(0)
    );
}

#[test]
fn secrets_never_print() {
    let secret = pw(SECRET);
    let shown = format!("{secret} {secret:?} {secret:#?} {:?}", Some(&secret));
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("REDACTED"));

    let (vault, header) = cheap_vault();
    let sealed = vault.seal(Aad::new(1, "p"), &secret).unwrap();
    let opened = vault.open(Aad::new(1, "p"), &sealed).unwrap();
    let shown = format!("{opened} {opened:?} {vault:?} {header:?} {sealed:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains(crate::PASSWORD), "{shown}");
}
