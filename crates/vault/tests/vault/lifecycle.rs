//! Creating, unlocking, locking, auto-locking, throttling and changing the password.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use perpdesk_vault::{
    Aad, KdfParams, KdfTarget, ManualClock, Sealed, Sleeper, Throttle, Vault, VaultError,
    VaultHeader,
};

use crate::{NEW_PASSWORD, PASSWORD, cheap_vault, pw};

#[test]
fn header_round_trips_through_json_and_unlocks() {
    let (vault, header) = cheap_vault();
    let sealed = vault.seal(Aad::new(3, "p"), &pw("s3cret")).unwrap();
    let json = header.to_json().unwrap();
    for field in [
        "\"version\":1",
        "m_cost_kib",
        "t_cost",
        "p_cost",
        "salt",
        "verifier",
    ] {
        assert!(json.contains(field), "{json}");
    }
    let back = VaultHeader::from_json(&json).unwrap();
    assert_eq!(back, header);
    let again = Vault::unlock(&back, &pw(PASSWORD)).unwrap();
    assert_eq!(
        again.open(Aad::new(3, "p"), &sealed).unwrap().expose(),
        "s3cret"
    );
}

#[test]
fn wrong_password_is_an_error_not_a_panic() {
    let (_, header) = cheap_vault();
    for wrong in [
        "",
        "correct horse battery stapl",
        "correct horse battery staple ",
        "🔑",
    ] {
        assert_eq!(
            Vault::unlock(&header, &pw(wrong)).unwrap_err(),
            VaultError::WrongPassword
        );
    }
}

#[test]
fn damaged_headers_are_refused_clearly() {
    let (_, header) = cheap_vault();
    let json = header.to_json().unwrap();

    let future = json.replace("\"version\":1", "\"version\":2");
    assert_eq!(
        VaultHeader::from_json(&future).unwrap_err(),
        VaultError::UnsupportedVersion(2)
    );
    assert!(matches!(
        VaultHeader::from_json(""),
        Err(VaultError::BadEncoding(_))
    ));
    assert!(matches!(
        VaultHeader::from_json("{\"version\":1}"),
        Err(VaultError::BadEncoding(_))
    ));

    let mut bad_salt = header.clone();
    bad_salt.salt = "%%%".into();
    assert!(matches!(
        Vault::unlock(&bad_salt, &pw(PASSWORD)),
        Err(VaultError::BadEncoding(_))
    ));

    let mut wrong_version = header.clone();
    wrong_version.version = 9;
    assert_eq!(
        Vault::unlock(&wrong_version, &pw(PASSWORD)).unwrap_err(),
        VaultError::UnsupportedVersion(9)
    );

    // Changing the stored costs changes the derived key: the verifier catches it.
    let mut other_costs = header.clone();
    other_costs.kdf.t_cost += 1;
    assert_eq!(
        Vault::unlock(&other_costs, &pw(PASSWORD)).unwrap_err(),
        VaultError::WrongPassword
    );

    let mut huge = header;
    huge.kdf.m_cost_kib = u32::MAX;
    assert!(matches!(
        Vault::unlock(&huge, &pw(PASSWORD)),
        Err(VaultError::InvalidParams(_))
    ));
}

#[test]
fn weak_master_passwords_are_explained() {
    for (candidate, hint) in [
        ("tooshort", "at least 12"),
        ("onlylowercaseletters", "only lowercase"),
        ("Password2024!", "commonly used"),
    ] {
        let err = Vault::create(&pw(candidate), KdfParams::insecure_for_tests()).unwrap_err();
        assert!(
            matches!(err, VaultError::WeakPassword(_)),
            "{candidate}: {err:?}"
        );
        assert!(err.to_string().contains(hint), "{candidate}: {err}");
    }
}

#[test]
fn lock_wipes_and_resume_restores() {
    let (vault, _) = cheap_vault();
    let aad = Aad::new(1, "p");
    let sealed = vault.seal(aad, &pw("x")).unwrap();
    vault.lock();
    assert!(vault.is_locked());
    assert_eq!(vault.open(aad, &sealed).unwrap_err(), VaultError::Locked);
    assert_eq!(vault.seal(aad, &pw("x")).unwrap_err(), VaultError::Locked);
    assert_eq!(
        vault.resume(&pw("nope nope nope")).unwrap_err(),
        VaultError::WrongPassword
    );
    assert!(vault.is_locked());
    vault.resume(&pw(PASSWORD)).unwrap();
    assert_eq!(vault.open(aad, &sealed).unwrap().expose(), "x");
}

#[test]
fn auto_locks_after_idle_timeout() {
    let clock = Arc::new(ManualClock::new());
    let (vault, _) = cheap_vault();
    let vault = vault.with_clock(clock.clone());
    vault.set_idle_timeout(Some(Duration::from_secs(5 * 60)));
    let aad = Aad::new(1, "p");
    let sealed = vault.seal(aad, &pw("x")).unwrap();

    clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(vault.open(aad, &sealed).unwrap().expose(), "x");
    clock.advance(Duration::from_secs(4 * 60));
    assert!(
        vault.seal(aad, &pw("y")).is_ok(),
        "each use restarts the idle period"
    );
    clock.advance(Duration::from_secs(5 * 60));
    assert_eq!(vault.seal(aad, &pw("y")).unwrap_err(), VaultError::Locked);
    assert_eq!(vault.open(aad, &sealed).unwrap_err(), VaultError::Locked);
    assert!(vault.is_locked());

    // With auto-lock disabled, time passing does nothing.
    vault.resume(&pw(PASSWORD)).unwrap();
    vault.set_idle_timeout(None);
    clock.advance(Duration::from_secs(365 * 24 * 3600));
    assert!(vault.open(aad, &sealed).is_ok());
}

#[derive(Default)]
struct Recorder(RefCell<Vec<Duration>>);

impl Sleeper for Recorder {
    fn sleep(&self, duration: Duration) {
        self.0.borrow_mut().push(duration);
    }
}

#[test]
fn repeated_wrong_passwords_wait_longer_each_time() {
    let (_, header) = cheap_vault();
    let mut throttle = Throttle::with_sleeper(Recorder::default());
    for _ in 0..6 {
        assert_eq!(
            throttle
                .unlock(&header, &pw("guess guess guess"))
                .unwrap_err(),
            VaultError::WrongPassword
        );
    }
    assert_eq!(throttle.failures(), 6);
    assert_eq!(throttle.next_delay(), Duration::from_secs(16));
    let slept: Vec<u64> = throttle
        .sleeper()
        .0
        .borrow()
        .iter()
        .map(Duration::as_secs)
        .collect();
    // Attempts 1 and 2 are free; then 1 s, 2 s, 4 s, 8 s.
    assert_eq!(slept, [1, 2, 4, 8]);

    throttle.unlock(&header, &pw(PASSWORD)).unwrap();
    assert_eq!(throttle.failures(), 0);
    assert_eq!(throttle.next_delay(), Duration::ZERO);
}

fn seal_three(vault: &Vault) -> Vec<(Aad<'static>, Sealed)> {
    [
        (Aad::new(1, "binance.api_key"), "key-one"),
        (Aad::new(1, "binance.api_secret"), "secret-one"),
        (Aad::new(2, "binance.api_secret"), "secret-two"),
    ]
    .into_iter()
    .map(|(aad, s)| {
        (
            aad,
            vault
                .seal(aad, &pw(s))
                .expect("sealing with an unlocked vault"),
        )
    })
    .collect()
}

#[test]
fn change_password_reseals_everything() {
    let (vault, old_header) = cheap_vault();
    let items = seal_three(&vault);

    let (new_header, resealed) = vault
        .change_password(&pw(PASSWORD), &pw(NEW_PASSWORD), items.clone())
        .unwrap();
    assert_eq!(resealed.len(), items.len());
    assert_ne!(new_header.salt, old_header.salt);
    assert_eq!(new_header.kdf, old_header.kdf);
    assert_eq!(vault.header(), new_header);

    // The old password no longer opens the new header; the new one does, and opens every item.
    assert_eq!(
        Vault::unlock(&new_header, &pw(PASSWORD)).unwrap_err(),
        VaultError::WrongPassword
    );
    let fresh = Vault::unlock(&new_header, &pw(NEW_PASSWORD)).unwrap();
    let expected = ["key-one", "secret-one", "secret-two"];
    for (((aad, old), new), want) in items.iter().zip(&resealed).zip(expected) {
        assert_eq!(fresh.open(*aad, new).unwrap().expose(), want);
        assert_eq!(vault.open(*aad, new).unwrap().expose(), want);
        // Old ciphertexts are dead under the new key.
        assert_eq!(fresh.open(*aad, old).unwrap_err(), VaultError::Tampered);
    }
}

#[test]
fn change_password_is_all_or_nothing() {
    let (vault, header) = cheap_vault();
    let mut items = seal_three(&vault);
    // One item sealed for another row: it cannot be opened under the Aad it is listed with.
    items[2].1 = items[1].1.clone();

    let err = vault
        .change_password(&pw(PASSWORD), &pw(NEW_PASSWORD), items.clone())
        .unwrap_err();
    assert_eq!(err, VaultError::Tampered);
    // Nothing changed: same header, old key still in use, old password still valid.
    assert_eq!(vault.header(), header);
    assert_eq!(
        vault.open(items[0].0, &items[0].1).unwrap().expose(),
        "key-one"
    );
    Vault::unlock(&header, &pw(PASSWORD)).unwrap();

    assert_eq!(
        vault
            .change_password(&pw("wrong wrong wrong"), &pw(NEW_PASSWORD), items.clone())
            .unwrap_err(),
        VaultError::WrongPassword
    );
    assert!(matches!(
        vault
            .change_password(&pw(PASSWORD), &pw("weak"), items)
            .unwrap_err(),
        VaultError::WeakPassword(_)
    ));
    assert_eq!(vault.header(), header);
}

#[test]
fn change_password_works_on_a_locked_vault() {
    let (vault, _) = cheap_vault();
    let items = seal_three(&vault);
    vault.lock();
    let (_, resealed) = vault
        .change_password(&pw(PASSWORD), &pw(NEW_PASSWORD), items.clone())
        .unwrap();
    assert!(!vault.is_locked());
    assert_eq!(
        vault.open(items[0].0, &resealed[0]).unwrap().expose(),
        "key-one"
    );
}

/// The shipped parameters, end to end (under a second: the workspace optimises argon2 even in
/// debug builds; the `unlock` bench gives the precise number).
#[test]
fn recommended_parameters_create_and_unlock() {
    let (vault, header) = Vault::create(&pw(PASSWORD), KdfParams::RECOMMENDED).unwrap();
    assert_eq!(header.kdf, KdfParams::RECOMMENDED);
    let sealed = vault.seal(Aad::new(1, "p"), &pw("x")).unwrap();
    let again = Vault::unlock(&header, &pw(PASSWORD)).unwrap();
    assert_eq!(again.open(Aad::new(1, "p"), &sealed).unwrap().expose(), "x");
}

#[test]
fn user_activity_keeps_the_vault_open_and_idleness_locks_it() {
    let clock = Arc::new(ManualClock::new());
    let (vault, _) = cheap_vault();
    let vault = vault.with_clock(clock.clone());
    vault.set_idle_timeout(Some(Duration::from_secs(15 * 60)));
    let aad = Aad::new(1, "p");
    let sealed = vault.seal(aad, &pw("x")).unwrap();

    // An hour of a user clicking every 10 minutes, with nothing sealed or opened meanwhile.
    for _ in 0..6 {
        clock.advance(Duration::from_secs(10 * 60));
        assert!(vault.touch(), "activity within the timeout keeps it open");
        assert!(!vault.is_locked());
    }
    // Checking the state is not activity: background polling must not keep the key alive.
    for _ in 0..3 {
        clock.advance(Duration::from_secs(5 * 60));
        let _ = vault.is_locked();
    }
    assert!(vault.is_locked());
    assert!(
        !vault.touch(),
        "a touch after the timeout does not revive the key"
    );
    assert_eq!(vault.open(aad, &sealed).unwrap_err(), VaultError::Locked);
    vault.resume(&pw(PASSWORD)).unwrap();
    assert!(vault.touch());
}

#[test]
fn a_begun_password_change_switches_keys_only_on_commit() {
    let (vault, old_header) = cheap_vault();
    let vault = Arc::new(vault);
    let items = seal_three(&vault);
    let change = vault
        .begin_password_change(&pw(PASSWORD), &pw(NEW_PASSWORD), items.clone())
        .unwrap();
    assert_ne!(change.header(), &old_header);
    assert_eq!(change.resealed().len(), 3);
    // Until commit: the old header, old and new ciphertexts both open, nothing new is sealed.
    assert_eq!(vault.header(), old_header);
    for ((aad, old), new) in items.iter().zip(change.resealed()) {
        assert_eq!(
            vault.open(*aad, old).unwrap().expose(),
            vault.open(*aad, new).unwrap().expose()
        );
    }
    assert_eq!(
        vault.seal(Aad::new(9, "p"), &pw("late")).unwrap_err(),
        VaultError::Busy
    );
    assert_eq!(
        vault
            .begin_password_change(&pw(PASSWORD), &pw(NEW_PASSWORD), Vec::new())
            .unwrap_err(),
        VaultError::Busy,
        "one change at a time"
    );
    let (new_header, resealed) = (change.header().clone(), change.resealed().to_vec());
    change.commit();
    assert_eq!(vault.header(), new_header);
    assert!(!vault.is_locked());
    assert_eq!(
        vault.open(items[0].0, &items[0].1).unwrap_err(),
        VaultError::Tampered,
        "the old key is gone"
    );
    assert_eq!(
        vault.open(items[2].0, &resealed[2]).unwrap().expose(),
        "secret-two"
    );
    vault.seal(Aad::new(9, "p"), &pw("after")).unwrap();
    Vault::unlock(&new_header, &pw(NEW_PASSWORD)).unwrap();
}

#[test]
fn an_abandoned_or_failed_password_change_leaves_the_vault_as_it_was() {
    let (vault, header) = cheap_vault();
    let vault = Arc::new(vault);
    let items = seal_three(&vault);
    let change = vault
        .begin_password_change(&pw(PASSWORD), &pw(NEW_PASSWORD), items.clone())
        .unwrap();
    let orphan = change.resealed()[0].clone();
    drop(change);
    assert_eq!(vault.header(), header);
    assert_eq!(
        vault.open(items[0].0, &orphan).unwrap_err(),
        VaultError::Tampered,
        "the abandoned key was wiped"
    );
    vault.seal(Aad::new(9, "p"), &pw("ok")).unwrap();

    let mut bad = items.clone();
    bad[1].1 = items[2].1.clone();
    for (old, new, items, want) in [
        (
            "wrong wrong wrong",
            NEW_PASSWORD,
            items.clone(),
            VaultError::WrongPassword,
        ),
        (PASSWORD, NEW_PASSWORD, bad, VaultError::Tampered),
    ] {
        assert_eq!(
            vault
                .begin_password_change(&pw(old), &pw(new), items)
                .unwrap_err(),
            want
        );
        assert_eq!(vault.header(), header);
        // The reservation was released: sealing works again.
        vault.seal(Aad::new(9, "p"), &pw("ok")).unwrap();
    }
    assert!(matches!(
        vault
            .begin_password_change(&pw(PASSWORD), &pw("weak"), items)
            .unwrap_err(),
        VaultError::WeakPassword(_)
    ));
}

#[test]
fn locking_during_a_password_change_commits_it_locked() {
    let (vault, _) = cheap_vault();
    let vault = Arc::new(vault);
    let items = seal_three(&vault);
    let change = vault
        .begin_password_change(&pw(PASSWORD), &pw(NEW_PASSWORD), items)
        .unwrap();
    let new_header = change.header().clone();
    vault.lock();
    change.commit();
    assert!(vault.is_locked(), "a lock is never undone by a commit");
    assert_eq!(vault.header(), new_header);
    assert_eq!(
        vault.resume(&pw(PASSWORD)).unwrap_err(),
        VaultError::WrongPassword
    );
    vault.resume(&pw(NEW_PASSWORD)).unwrap();
}

#[test]
fn throttle_records_attempts_made_elsewhere() {
    let mut t = Throttle::with_sleeper(Recorder::default());
    for _ in 0..3 {
        t.record::<()>(&Err(VaultError::WrongPassword));
    }
    assert_eq!(t.next_delay(), Duration::from_secs(2));
    t.record::<()>(&Err(VaultError::Busy));
    assert_eq!(t.failures(), 3);
    t.record(&Ok(()));
    assert_eq!(t.next_delay(), Duration::ZERO);
    assert!(t.sleeper().0.borrow().is_empty(), "record never sleeps");
}

/// A target that asks for no time at all, so the measurement settles on OWASP's minimum and
/// `floor` decides: deterministic, whatever the machine's load.
fn target_with_floor(floor: KdfParams) -> KdfTarget {
    KdfTarget {
        time: Duration::ZERO,
        max_m_cost_kib: 64 * 1024,
        floor,
    }
}

fn change_retuned(old: KdfParams, target: &KdfTarget) -> (Arc<Vault>, VaultHeader) {
    let (vault, _) = Vault::create(&pw(PASSWORD), old).expect("test costs are valid");
    let vault = Arc::new(vault);
    let items = seal_three(&vault);
    let change = vault
        .begin_password_change_retuned(&pw(PASSWORD), &pw(NEW_PASSWORD), items.clone(), target)
        .expect("the right password and a strong new one");
    let header = change.header().clone();
    let resealed = change.resealed().to_vec();
    change.commit();
    // The new header records the new costs, the new password opens it, and every secret
    // survived the re-keying.
    let again = Vault::unlock(&header, &pw(NEW_PASSWORD)).expect("the new password opens it");
    for ((aad, _), sealed) in items.iter().zip(&resealed) {
        again
            .open(*aad, sealed)
            .expect("re-sealed under the new key");
    }
    (vault, header)
}

#[test]
fn a_password_change_raises_the_kdf_costs_to_todays_target() {
    let target = target_with_floor(KdfParams::new(24 * 1024, 3, 1));
    let (vault, header) = change_retuned(KdfParams::insecure_for_tests(), &target);
    assert_eq!(header.kdf, KdfParams::new(24 * 1024, 3, 1));
    assert_eq!(vault.header().kdf, header.kdf);
}

#[test]
fn a_password_change_never_lowers_a_kdf_cost() {
    let owasp = target_with_floor(KdfParams::OWASP_MINIMUM);
    // Costlier than the target everywhere: kept as they are.
    let (_, header) = change_retuned(KdfParams::new(32 * 1024, 3, 2), &owasp);
    assert_eq!(header.kdf, KdfParams::new(32 * 1024, 3, 2));
    // More passes but less memory than the target: each cost is the larger of the two.
    let (_, header) = change_retuned(KdfParams::new(8, 5, 1), &owasp);
    assert_eq!(header.kdf, KdfParams::new(19 * 1024, 5, 1));
}

#[test]
fn a_plain_password_change_keeps_the_costs() {
    let (vault, header) = cheap_vault();
    let vault = Arc::new(vault);
    let change = vault
        .begin_password_change(&pw(PASSWORD), &pw(NEW_PASSWORD), Vec::new())
        .unwrap();
    assert_eq!(change.header().kdf, header.kdf);
}
