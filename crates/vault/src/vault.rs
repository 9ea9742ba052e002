//! The vault: the derived key, its header on disk, auto-lock and password changes.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};
use crate::kdf::{KEY_LEN, KdfParams, KdfTarget, SALT_LEN};
use crate::password::check_password_strength;
use crate::sealed::{Aad, KeyBinding, Sealed, verifier_aad};
use crate::secret::{Secret, SecretString};

/// The header format this build writes and reads.
pub const HEADER_VERSION: u32 = 1;

/// How long an unused vault keeps its key before wiping it.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Known plaintext of the verifier. Not secret: its only job is to make a wrong key fail
/// authentication before any real secret is touched.
const VERIFIER_PLAINTEXT: &[u8] = b"perpdesk-vault verifier v1";

/// What is stored beside the sealed secrets (e.g. a `vault` row or `vault.json`): everything
/// needed to re-derive the key from the password, and nothing that helps without it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VaultHeader {
    /// Format version, [`HEADER_VERSION`] for headers this build writes.
    pub version: u32,
    /// Argon2id costs used for this vault's key.
    pub kdf: KdfParams,
    /// Base64 of the random salt.
    pub salt: String,
    /// A known value sealed under the key; opens only with the right password.
    pub verifier: Sealed,
}

impl VaultHeader {
    /// The header as JSON.
    ///
    /// # Errors
    ///
    /// [`VaultError::BadEncoding`] if serialization fails (it cannot for this type; the
    /// `Result` keeps callers honest should fields change).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VaultError::BadEncoding(e.to_string()))
    }

    /// Parses [`VaultHeader::to_json`] output, checking the version before the shape so a
    /// future format is reported as such rather than as garbage.
    ///
    /// # Errors
    ///
    /// [`VaultError::UnsupportedVersion`] for another version; [`VaultError::BadEncoding`]
    /// for anything that is not a header.
    pub fn from_json(json: &str) -> Result<Self> {
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let bad = |e: serde_json::Error| VaultError::BadEncoding(format!("vault header: {e}"));
        let VersionOnly { version } = serde_json::from_str(json).map_err(bad)?;
        if version != HEADER_VERSION {
            return Err(VaultError::UnsupportedVersion(version));
        }
        serde_json::from_str(json).map_err(bad)
    }

    fn salt_bytes(&self) -> Result<Vec<u8>> {
        let salt = B64
            .decode(&self.salt)
            .map_err(|e| VaultError::BadEncoding(format!("vault salt is not base64: {e}")))?;
        if salt.len() < 8 {
            return Err(VaultError::BadEncoding(format!(
                "vault salt has {} bytes, need at least 8",
                salt.len()
            )));
        }
        Ok(salt)
    }

    fn verifier_aad(&self, salt: &[u8]) -> Vec<u8> {
        let k = self.kdf;
        verifier_aad(
            salt,
            &format!(
                "argon2id/v19/m={},t={},p={}",
                k.m_cost_kib, k.t_cost, k.p_cost
            ),
        )
    }

    /// Derives the key and checks it against the verifier.
    fn derive_checked(&self, password: &SecretString) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        if self.version != HEADER_VERSION {
            return Err(VaultError::UnsupportedVersion(self.version));
        }
        let salt = self.salt_bytes()?;
        let key = self.kdf.derive(password.expose().as_bytes(), &salt)?;
        // A wrong password and a corrupted verifier look the same; both mean "not this key".
        let plain = self
            .verifier
            .open(&key, &self.verifier_aad(&salt))
            .map_err(|_| VaultError::WrongPassword)?;
        if plain.as_slice() != VERIFIER_PLAINTEXT {
            return Err(VaultError::WrongPassword);
        }
        Ok(key)
    }

    fn generate(
        password: &SecretString,
        params: KdfParams,
    ) -> Result<(Self, Zeroizing<[u8; KEY_LEN]>)> {
        params.validate()?;
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| VaultError::Rng(e.to_string()))?;
        let key = params.derive(password.expose().as_bytes(), &salt)?;
        let mut header = Self {
            version: HEADER_VERSION,
            kdf: params,
            salt: B64.encode(salt),
            verifier: Sealed {
                nonce: [0; 12],
                ciphertext: Vec::new(),
            },
        };
        header.verifier = Sealed::seal(&key, &header.verifier_aad(&salt), VERIFIER_PLAINTEXT)?;
        Ok((header, key))
    }
}

/// Where the vault reads the time for auto-lock; injectable so tests need not wait.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to, for tests of auto-lock.
#[derive(Debug)]
pub struct ManualClock(Mutex<Instant>);

impl ManualClock {
    /// Starts at the real current instant.
    #[must_use]
    pub fn new() -> Self {
        Self(Mutex::new(Instant::now()))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The same type as [`Vault`]: what [`Vault::unlock`] returns. A vault can lock itself again
/// (idle timeout, [`Vault::lock`]), so one type covers both states and every operation checks.
pub type UnlockedVault = Vault;

/// Holds the derived key in memory and seals/opens secrets with it.
///
/// Shareable across threads (`Arc<Vault>`): every method takes `&self`. The key is wiped on
/// [`Vault::lock`], on drop, and lazily when an operation finds the vault idle past its timeout.
pub struct Vault {
    inner: Mutex<Inner>,
}

struct Inner {
    header: VaultHeader,
    key: Option<Zeroizing<[u8; KEY_LEN]>>,
    last_use: Instant,
    idle_timeout: Option<Duration>,
    clock: Arc<dyn Clock>,
    /// Set from the start of a [`Vault::begin_password_change`] until its [`PasswordChange`]
    /// is committed or dropped: sealing is refused meanwhile, so nothing new can be sealed
    /// under a key that is about to be replaced.
    changing: bool,
    /// The prepared header and key of a password change whose items are being stored.
    pending: Option<Pending>,
}

/// The other half of a prepared password change.
struct Pending {
    header: VaultHeader,
    /// `None` once [`Vault::lock`] ran during the change: committing then leaves it locked.
    key: Option<Zeroizing<[u8; KEY_LEN]>>,
}

impl Inner {
    /// The key if the vault is unlocked and not idle-expired; an expired key is wiped here, so
    /// the wipe happens at the latest on the first use after the timeout.
    fn live_key(&mut self) -> Result<&[u8; KEY_LEN]> {
        let now = self.clock.now();
        if let Some(timeout) = self.idle_timeout
            && now.saturating_duration_since(self.last_use) >= timeout
        {
            self.key = None;
        }
        if self.key.is_none() {
            return Err(VaultError::Locked);
        }
        self.last_use = now;
        self.key.as_deref().ok_or(VaultError::Locked)
    }

    fn install(&mut self, key: Zeroizing<[u8; KEY_LEN]>) {
        self.key = Some(key);
        self.last_use = self.clock.now();
    }

    /// The key of a pending password change, for values already stored under it.
    fn pending_key(&self) -> Option<&[u8; KEY_LEN]> {
        self.pending.as_ref()?.key.as_deref()
    }
}

/// Opens every item under `old_key` and seals it again under `new_key`, all or nothing.
fn reseal_all<'a>(
    old_key: &[u8; KEY_LEN],
    new_key: &[u8; KEY_LEN],
    items: impl IntoIterator<Item = (Aad<'a>, Sealed)>,
) -> Result<Vec<Sealed>> {
    items
        .into_iter()
        .map(|(aad, sealed)| {
            let aad = aad.to_bytes();
            let plain = sealed.open(old_key, &aad)?;
            Sealed::seal(new_key, &aad, &plain)
        })
        .collect()
}

impl Vault {
    fn from_parts(header: VaultHeader, key: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Self {
            inner: Mutex::new(Inner {
                header,
                key: Some(key),
                last_use: clock.now(),
                idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
                clock,
                changing: false,
                pending: None,
            }),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Every mutation of Inner is a single assignment, so a panic elsewhere cannot leave it
        // half-updated; carrying on is safe.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// First run: checks the password's strength, derives a key with fresh salt and returns the
    /// unlocked vault plus the header to store.
    ///
    /// # Errors
    ///
    /// [`VaultError::WeakPassword`] with the failed rule; [`VaultError::InvalidParams`] for
    /// parameters out of range or (outside test builds) below [`KdfParams::OWASP_MINIMUM`];
    /// [`VaultError::Rng`] if the OS random source fails.
    pub fn create(password: &SecretString, params: KdfParams) -> Result<(Self, VaultHeader)> {
        check_password_strength(password.expose()).map_err(VaultError::WeakPassword)?;
        if !cfg!(any(test, feature = "test-params")) && !params.is_at_least_owasp() {
            return Err(VaultError::InvalidParams(format!(
                "{params:?} is below the OWASP minimum {:?}",
                KdfParams::OWASP_MINIMUM
            )));
        }
        let (header, key) = VaultHeader::generate(password, params)?;
        Ok((Self::from_parts(header.clone(), key), header))
    }

    /// Re-derives the key from a stored header. Use [`crate::Throttle`] around it in the UI.
    ///
    /// # Errors
    ///
    /// [`VaultError::WrongPassword`]; [`VaultError::UnsupportedVersion`] or
    /// [`VaultError::BadEncoding`] for a header this build cannot read;
    /// [`VaultError::InvalidParams`] for out-of-range costs.
    pub fn unlock(header: &VaultHeader, password: &SecretString) -> Result<Self> {
        let key = header.derive_checked(password)?;
        Ok(Self::from_parts(header.clone(), key))
    }

    /// Unlocks this vault again after [`Vault::lock`] or an idle timeout.
    ///
    /// # Errors
    ///
    /// As [`Vault::unlock`].
    pub fn resume(&self, password: &SecretString) -> Result<()> {
        let header = self.header();
        let key = header.derive_checked(password)?;
        self.inner().install(key);
        Ok(())
    }

    /// Replaces the clock (tests use [`ManualClock`]); the idle period restarts from its now.
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        {
            let mut inner = self.inner();
            inner.last_use = clock.now();
            inner.clock = clock;
        }
        self
    }

    /// Sets the idle timeout; `None` disables auto-lock.
    pub fn set_idle_timeout(&self, timeout: Option<Duration>) {
        self.inner().idle_timeout = timeout;
    }

    /// A copy of the header this vault was created or unlocked with (or changed to).
    #[must_use]
    pub fn header(&self) -> VaultHeader {
        self.inner().header.clone()
    }

    /// Wipes the key now (and the new key of a password change in progress, which then
    /// commits locked). Sealed data stays valid; [`Vault::resume`] brings the key back.
    pub fn lock(&self) {
        let mut inner = self.inner();
        inner.key = None;
        if let Some(p) = inner.pending.as_mut() {
            p.key = None;
        }
    }

    /// Records that the user is active: restarts the idle period if the vault is unlocked.
    /// A key already idle past the timeout is wiped, never revived. Returns whether the vault
    /// is unlocked. Cheap (no cryptography), so the UI may call it on every burst of input.
    pub fn touch(&self) -> bool {
        self.inner().live_key().is_ok()
    }

    /// Whether the key is gone (locked explicitly or idle past the timeout, which this call
    /// also enforces).
    #[must_use]
    pub fn is_locked(&self) -> bool {
        let mut inner = self.inner();
        if let Some(timeout) = inner.idle_timeout
            && inner.clock.now().saturating_duration_since(inner.last_use) >= timeout
        {
            inner.key = None;
        }
        inner.key.is_none()
    }

    /// Seals `secret` for `aad` under a fresh random nonce.
    ///
    /// # Errors
    ///
    /// [`VaultError::Locked`]; [`VaultError::Rng`] if no nonce could be drawn.
    pub fn seal(&self, aad: Aad<'_>, secret: &SecretString) -> Result<Sealed> {
        self.seal_bytes(aad, secret.expose().as_bytes())
    }

    /// Opens a value sealed by [`Vault::seal`] for the same `aad`.
    ///
    /// # Errors
    ///
    /// [`VaultError::Locked`]; [`VaultError::Tampered`] if any byte changed or `aad` differs;
    /// [`VaultError::BadEncoding`] if it was sealed as bytes that are not UTF-8.
    pub fn open(&self, aad: Aad<'_>, sealed: &Sealed) -> Result<SecretString> {
        let mut plain = self.open_raw(aad, sealed)?;
        let bytes = std::mem::take(&mut *plain);
        String::from_utf8(bytes)
            .map(SecretString::new)
            .map_err(|e| {
                // The rejected bytes are still secret; wipe them before dropping.
                drop(Zeroizing::new(e.into_bytes()));
                VaultError::BadEncoding("sealed value is not UTF-8 text".into())
            })
    }

    /// [`Vault::seal`] for binary secrets.
    ///
    /// # Errors
    ///
    /// As [`Vault::seal`].
    pub fn seal_secret(&self, aad: Aad<'_>, secret: &Secret) -> Result<Sealed> {
        self.seal_bytes(aad, secret.expose())
    }

    /// [`Vault::open`] for binary secrets.
    ///
    /// # Errors
    ///
    /// As [`Vault::open`], without the UTF-8 check.
    pub fn open_secret(&self, aad: Aad<'_>, sealed: &Sealed) -> Result<Secret> {
        let mut plain = self.open_raw(aad, sealed)?;
        Ok(Secret::new(std::mem::take(&mut *plain)))
    }

    /// Moves an API secret sealed in the first format (associated data naming only its
    /// account and purpose) to one bound to its key id and environment as well: opens it
    /// under `Aad::new(account_id, purpose)` and seals it again under
    /// `Aad::for_key(account_id, purpose, key.key_id, key.environment)`. The caller stores
    /// the result in place of the old value, and, once every row is moved, stops calling
    /// this: until then a row whose key id or environment was swapped still opens.
    ///
    /// # Errors
    /// [`VaultError::Locked`]; [`VaultError::Tampered`] if `sealed` does not open in the first
    /// format (already moved, altered, or another account's); [`VaultError::Busy`] during a
    /// password change; [`VaultError::Rng`].
    pub fn bind_legacy(
        &self,
        account_id: i64,
        purpose: &str,
        key: KeyBinding<'_>,
        sealed: &Sealed,
    ) -> Result<Sealed> {
        let plain = self.open_raw(Aad::new(account_id, purpose), sealed)?;
        let bound = Aad {
            key: Some(key),
            ..Aad::new(account_id, purpose)
        };
        self.seal_bytes(bound, &plain)
    }

    fn seal_bytes(&self, aad: Aad<'_>, plaintext: &[u8]) -> Result<Sealed> {
        let mut inner = self.inner();
        if inner.changing {
            return Err(VaultError::Busy);
        }
        let key = inner.live_key()?;
        Sealed::seal(key, &aad.to_bytes(), plaintext)
    }

    fn open_raw(&self, aad: Aad<'_>, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>> {
        let mut inner = self.inner();
        let aad = aad.to_bytes();
        let opened = sealed.open(inner.live_key()?, &aad);
        // Between the store's commit of a password change and its `commit()` here, a row may
        // already hold the new ciphertext; the pending key opens it.
        match (opened, inner.pending_key()) {
            (Err(VaultError::Tampered), Some(next)) => sealed.open(next, &aad),
            (opened, _) => opened,
        }
    }

    /// Changes the master password and re-seals every item under the new key, all or nothing:
    /// if the old password is wrong, the new one weak, or any item fails to open, nothing
    /// changes and the error is returned. On success the vault holds the new key and the caller
    /// must store the returned header and items (in input order) in one transaction.
    ///
    /// Works on a locked vault too: the old password is checked against the stored header, not
    /// the key in memory. Keeps the vault's current KDF parameters. When storing can fail, use
    /// [`Vault::begin_password_change`], which switches keys only once the caller commits.
    ///
    /// # Errors
    ///
    /// [`VaultError::WeakPassword`] for `new`; [`VaultError::WrongPassword`] for `old`;
    /// [`VaultError::Tampered`] if an item does not open under its `Aad`;
    /// [`VaultError::Busy`] while another change is in progress;
    /// [`VaultError::Rng`] if the OS random source fails.
    pub fn change_password<'a>(
        &self,
        old: &SecretString,
        new: &SecretString,
        items: impl IntoIterator<Item = (Aad<'a>, Sealed)>,
    ) -> Result<(VaultHeader, Vec<Sealed>)> {
        check_password_strength(new.expose()).map_err(VaultError::WeakPassword)?;
        // Held throughout so no seal under the old key can slip in between re-sealing and the
        // switch to the new key.
        let mut inner = self.inner();
        if inner.changing {
            return Err(VaultError::Busy);
        }
        let old_key = inner.header.derive_checked(old)?;
        let (new_header, new_key) = VaultHeader::generate(new, inner.header.kdf)?;
        let resealed = reseal_all(&old_key, &new_key, items)?;
        inner.header = new_header.clone();
        inner.install(new_key);
        Ok((new_header, resealed))
    }

    /// The first half of a password change whose result must be stored before the vault
    /// switches: checks both passwords, derives the new key and re-seals every item, without
    /// holding the vault's lock during the (slow) key derivations. From here until the
    /// returned [`PasswordChange`] is committed or dropped, sealing is refused with
    /// [`VaultError::Busy`]; opening works for values under the old key and the new one.
    /// Dropping it without [`PasswordChange::commit`] leaves the vault exactly as it was.
    ///
    /// Works on a locked vault too (the old password is checked against the header).
    ///
    /// # Errors
    ///
    /// As [`Vault::change_password`]; nothing changes on error.
    pub fn begin_password_change<'a>(
        self: &Arc<Self>,
        old: &SecretString,
        new: &SecretString,
        items: impl IntoIterator<Item = (Aad<'a>, Sealed)>,
    ) -> Result<PasswordChange> {
        self.begin_change(old, new, items, None)
    }

    /// [`Vault::begin_password_change`] that also re-tunes Argon2id: once the old password
    /// is verified, it measures this machine for `target` ([`KdfTarget::params`]) and gives
    /// the new key each cost the larger of that and the current header's, so a password
    /// change follows faster hardware and never lowers any cost. The new header records
    /// the parameters. Costs one extra derivation of about the target's length.
    ///
    /// # Errors
    /// As [`Vault::begin_password_change`]; [`VaultError::InvalidParams`] if the measurement
    /// fails. Nothing changes on error.
    pub fn begin_password_change_retuned<'a>(
        self: &Arc<Self>,
        old: &SecretString,
        new: &SecretString,
        items: impl IntoIterator<Item = (Aad<'a>, Sealed)>,
        target: &KdfTarget,
    ) -> Result<PasswordChange> {
        self.begin_change(old, new, items, Some(target))
    }

    fn begin_change<'a>(
        self: &Arc<Self>,
        old: &SecretString,
        new: &SecretString,
        items: impl IntoIterator<Item = (Aad<'a>, Sealed)>,
        target: Option<&KdfTarget>,
    ) -> Result<PasswordChange> {
        check_password_strength(new.expose()).map_err(VaultError::WeakPassword)?;
        let header = {
            let mut inner = self.inner();
            if inner.changing {
                return Err(VaultError::Busy);
            }
            inner.changing = true;
            inner.header.clone()
        };
        // From here on the change must be released on every path; the token does that.
        let mut change = PasswordChange {
            vault: Arc::clone(self),
            header: header.clone(),
            resealed: Vec::new(),
            committed: false,
        };
        let old_key = header.derive_checked(old)?;
        // Measured only after the old password proved right: a wrong guess costs no timing run.
        let params = match target {
            Some(target) => target.params()?.raised_to(header.kdf),
            None => header.kdf,
        };
        let (new_header, new_key) = VaultHeader::generate(new, params)?;
        change.resealed = reseal_all(&old_key, &new_key, items)?;
        change.header = new_header.clone();
        self.inner().pending = Some(Pending {
            header: new_header,
            key: Some(new_key),
        });
        Ok(change)
    }
}

/// A password change prepared by [`Vault::begin_password_change`]: the header and items to
/// store. The vault switches to the new key at [`PasswordChange::commit`]; dropping the value
/// instead abandons the change and wipes the new key.
#[must_use = "the vault keeps its old password unless the change is committed"]
pub struct PasswordChange {
    vault: Arc<Vault>,
    header: VaultHeader,
    resealed: Vec<Sealed>,
    committed: bool,
}

impl PasswordChange {
    /// The header to store in place of the current one.
    #[must_use]
    pub fn header(&self) -> &VaultHeader {
        &self.header
    }

    /// The items re-sealed under the new key, in the order they were given.
    #[must_use]
    pub fn resealed(&self) -> &[Sealed] {
        &self.resealed
    }

    /// Switches the vault to the new header and key; call it once the header and items are
    /// stored. Unlocks the vault unless it was locked while the change was in progress.
    pub fn commit(mut self) {
        let mut inner = self.vault.inner();
        if let Some(p) = inner.pending.take() {
            inner.header = p.header;
            match p.key {
                Some(key) => inner.install(key),
                None => inner.key = None,
            }
        }
        inner.changing = false;
        self.committed = true;
    }
}

impl Drop for PasswordChange {
    fn drop(&mut self) {
        if !self.committed {
            let mut inner = self.vault.inner();
            inner.pending = None;
            inner.changing = false;
        }
    }
}

impl fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordChange")
            .field("items", &self.resealed.len())
            .field("committed", &self.committed)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner();
        f.debug_struct("Vault")
            .field("locked", &inner.key.is_none())
            .field("kdf", &inner.header.kdf)
            .field("idle_timeout", &inner.idle_timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> SecretString {
        SecretString::from(s)
    }

    const GOOD: &str = "correct horse battery staple";

    #[test]
    fn create_rejects_weak_password_with_reason() {
        let err = Vault::create(&pw("short"), KdfParams::insecure_for_tests()).unwrap_err();
        assert!(matches!(err, VaultError::WeakPassword(_)));
        assert!(err.to_string().contains("at least 12"), "{err}");
    }

    #[test]
    fn idle_expiry_wipes_key() {
        let clock = Arc::new(ManualClock::new());
        let (vault, _) = Vault::create(&pw(GOOD), KdfParams::insecure_for_tests()).unwrap();
        let vault = vault.with_clock(clock.clone());
        vault.set_idle_timeout(Some(Duration::from_secs(60)));
        let aad = Aad::new(1, "p");
        let sealed = vault.seal(aad, &pw("s")).unwrap();
        clock.advance(Duration::from_secs(59));
        assert_eq!(vault.open(aad, &sealed).unwrap().expose(), "s");
        clock.advance(Duration::from_secs(59));
        // Use resets the idle period, so 118 s after creation is still fine.
        assert!(!vault.is_locked());
        clock.advance(Duration::from_secs(60));
        assert_eq!(vault.open(aad, &sealed).unwrap_err(), VaultError::Locked);
        assert!(
            vault.inner().key.is_none(),
            "the key must be wiped, not just hidden"
        );
        vault.resume(&pw(GOOD)).unwrap();
        assert_eq!(vault.open(aad, &sealed).unwrap().expose(), "s");
    }

    #[test]
    fn vault_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Vault>();
        let (vault, _) = Vault::create(&pw(GOOD), KdfParams::insecure_for_tests()).unwrap();
        let vault = Arc::new(vault);
        let handles: Vec<_> = (0..4_i64)
            .map(|id| {
                let vault = Arc::clone(&vault);
                std::thread::spawn(move || {
                    let aad = Aad::new(id, "p");
                    let sealed = vault.seal(aad, &pw("s")).unwrap();
                    vault.open(aad, &sealed).unwrap().expose() == "s"
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap());
        }
    }

    #[test]
    fn debug_shows_no_key() {
        let (vault, _) = Vault::create(&pw(GOOD), KdfParams::insecure_for_tests()).unwrap();
        let dbg = format!("{vault:?}");
        assert!(
            dbg.contains("locked: false") && !dbg.contains("key"),
            "{dbg}"
        );
    }
}
