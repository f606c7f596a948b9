//! Envelope encryption, blind indexes and the audit signing key (DESIGN.md "Protecting the data").
//!
//! - The master key (key-encryption key source) comes from a key file (mode 0600) or
//!   `MAMORI_MASTER_KEY`. From it HKDF derives the key that wraps data keys and the key of the
//!   blind indexes, so neither is ever stored.
//! - Each principal has a random data key, stored wrapped (XChaCha20-Poly1305, the principal id
//!   as associated data) in the separate key store. Destroying it is erasure (crypto-shredding,
//!   seed 000 Art. 8-4 "復元が不可能な方法").
//! - Each field value is sealed under the data key with the principal id, record id and category
//!   as associated data, so a ciphertext moved to another principal or field fails to open.
//! - Blind indexes: HMAC-SHA-256 of the normalized value, for exact-match search without
//!   decryption.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::SystemTime;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{AeadCore, KeyInit, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::StoreError;

const NONCE_LEN: usize = 24;

pub type Key32 = Zeroizing<[u8; 32]>;

fn random_key() -> Key32 {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(k.as_mut());
    k
}

/// Random bytes as lower-case hex (ids, tokens).
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn parse_key_hex(s: &str, what: &str) -> Result<Key32, StoreError> {
    let s = Zeroizing::new(s.trim().to_string());
    let mut k = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(s.as_bytes(), k.as_mut()).map_err(|_| {
        StoreError::Input(format!(
            "{what}: the key must be 64 hexadecimal characters (32 bytes); check the file or the variable"
        ))
    })?;
    Ok(k)
}

/// Write a secret file readable by its owner only (0600), refusing to overwrite one.
pub fn write_secret_file(path: &Path, contents: &str) -> Result<(), StoreError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| StoreError::Unavailable(format!("cannot write {}: {e}", path.display())))
}

/// Read a secret file, refusing one that others can read (DESIGN.md: mode 0600).
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<String>, StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot read {}: {e}; run `mamori init` first or point --data at the data folder",
                path.display()
            ))
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StoreError::Unavailable(format!(
                "{} is readable by others (mode {mode:o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| StoreError::Unavailable(format!("cannot read {}: {e}", path.display())))
}

/// A data key wrapped under a KEK, with that KEK's id (stored beside it in the key store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    pub bytes: Vec<u8>,
    pub kek_id: String,
}

/// One key-encryption key (derived from one master key) and its id (the key is zeroized on drop).
#[derive(Clone)]
struct Kek {
    id: String,
    key: Key32,
}

fn derive_kek(hex_text: &str, what: &str) -> Result<Kek, StoreError> {
    let master = parse_key_hex(hex_text, what)?;
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"mamori"), master.as_ref());
    let mut kek = Zeroizing::new([0u8; 32]);
    hk.expand(b"mamori key-encryption key v1", kek.as_mut())
        .map_err(|_| StoreError::Crypto("key derivation failed".into()))?;
    let id = sha256_hex(kek.as_ref()).get(..16).unwrap_or("").to_string();
    Ok(Kek { id, key: kek })
}

/// The keys: the key-encryption keys known (the master key's, and during a rotation the next
/// one's), the blind-index key (random, kept wrapped in the key store so that rotating the
/// master key leaves every blind index valid), and the cache of unwrapped data keys. Never
/// serialized, zeroized on drop.
pub struct Keys {
    /// The KEK new data keys are wrapped with.
    primary: RwLock<Kek>,
    /// Every KEK that may have wrapped a stored key (by id).
    ring: RwLock<Vec<Kek>>,
    blind: RwLock<Option<Key32>>,
    cache: Mutex<HashMap<String, Key32>>,
    cache_capacity: usize,
    /// The data folder whose key files are watched, and the files' last seen stamps.
    #[allow(clippy::type_complexity)]
    watch: Mutex<Option<(PathBuf, Option<(Option<SystemTime>, Option<SystemTime>)>)>>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("kek_id", &self.kek_id())
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// A new master key, as the hex text stored in the key file.
    pub fn generate_master_hex() -> Zeroizing<String> {
        Zeroizing::new(hex::encode(random_key().as_ref()))
    }

    pub fn from_master_hex(hex_text: &str, what: &str) -> Result<Keys, StoreError> {
        let kek = derive_kek(hex_text, what)?;
        let keys = Keys {
            primary: RwLock::new(kek.clone()),
            ring: RwLock::new(vec![kek]),
            blind: RwLock::new(None),
            cache: Mutex::new(HashMap::new()),
            cache_capacity: 100_000,
            watch: Mutex::new(None),
        };
        // Until the store hands in the stored blind-index key, a derived one (unit tests).
        let derived = {
            let master = parse_key_hex(hex_text, what)?;
            let hk = hkdf::Hkdf::<Sha256>::new(Some(b"mamori"), master.as_ref());
            let mut b = Zeroizing::new([0u8; 32]);
            hk.expand(b"mamori blind index v1", b.as_mut())
                .map_err(|_| StoreError::Crypto("key derivation failed".into()))?;
            b
        };
        keys.set_blind_key(derived);
        Ok(keys)
    }

    /// The id of the KEK new keys are wrapped with.
    pub fn kek_id(&self) -> String {
        self.primary
            .read()
            .map(|k| k.id.clone())
            .unwrap_or_default()
    }

    /// Learn another master key (a rotation's next one); `primary` makes it the one new keys
    /// are wrapped with. Returns its KEK id.
    pub fn add_master_hex(
        &self,
        hex_text: &str,
        what: &str,
        primary: bool,
    ) -> Result<String, StoreError> {
        let kek = derive_kek(hex_text, what)?;
        let id = kek.id.clone();
        if let Ok(mut ring) = self.ring.write()
            && !ring.iter().any(|k| k.id == id)
        {
            ring.push(kek.clone());
        }
        if primary && let Ok(mut p) = self.primary.write() {
            *p = kek;
        }
        Ok(id)
    }

    /// Forget every KEK but the primary (the end of a rotation).
    pub fn keep_only_primary(&self) {
        let id = self.kek_id();
        if let Ok(mut ring) = self.ring.write() {
            ring.retain(|k| k.id == id);
        }
    }

    pub fn knows(&self, kek_id: &str) -> bool {
        self.ring
            .read()
            .is_ok_and(|r| r.iter().any(|k| k.id == kek_id))
    }

    fn kek(&self, kek_id: &str) -> Option<Key32> {
        self.ring
            .read()
            .ok()
            .and_then(|r| r.iter().find(|k| k.id == kek_id).map(|k| k.key.clone()))
    }

    pub fn set_blind_key(&self, key: Key32) {
        if let Ok(mut b) = self.blind.write() {
            *b = Some(key);
        }
    }

    /// A secret (such as the blind-index key) wrapped under the primary KEK.
    pub fn wrap_secret(&self, name: &str, secret: &Key32) -> Result<(Vec<u8>, String), StoreError> {
        let p = self
            .primary
            .read()
            .map_err(|_| StoreError::Crypto("key ring unavailable".into()))?
            .clone();
        Ok((seal_with(&p.key, secret.as_ref(), &secret_aad(name))?, p.id))
    }

    pub fn unwrap_secret(
        &self,
        name: &str,
        wrapped: &[u8],
        kek_id: &str,
    ) -> Result<Key32, StoreError> {
        let kek = self
            .kek(kek_id)
            .ok_or_else(|| StoreError::Crypto(format!("the secret {name} is wrapped under a master key this process does not have ({kek_id})")))?;
        to_key32(open_with(&kek, wrapped, &secret_aad(name)).map_err(|_| {
            StoreError::Crypto(format!(
                "the secret {name} does not open with the master key"
            ))
        })?)
        .ok_or_else(|| StoreError::Crypto(format!("the secret {name} has the wrong length")))
    }

    /// The key that authenticates backups made under the KEK `kek_id` (HKDF from that KEK, so
    /// only whoever holds the master key can make a backup that `restore` accepts; seed 000
    /// Art. 8-4, seed 003 Art. 16). `None` when this process does not know that KEK.
    pub fn backup_mac_key(&self, kek_id: &str) -> Option<Key32> {
        let kek = self.kek(kek_id)?;
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"mamori backup"), kek.as_ref());
        let mut k = Zeroizing::new([0u8; 32]);
        hk.expand(b"mamori backup authentication v1", k.as_mut())
            .ok()?;
        Some(k)
    }

    /// A fresh random key (the blind-index key of a new data folder).
    pub fn random_secret() -> Key32 {
        random_key()
    }

    /// A fresh data key for a principal (or a request, complaint, incident), and its wrapped
    /// form for the key store. During a master-key rotation by another process, the next master
    /// key is picked up first, so no key is wrapped under one about to be destroyed.
    pub fn new_data_key(&self, principal_id: &str) -> Result<(Key32, Wrapped), StoreError> {
        self.follow_rotation();
        let dk = random_key();
        let p = self
            .primary
            .read()
            .map_err(|_| StoreError::Crypto("key ring unavailable".into()))?
            .clone();
        let bytes = seal_with(&p.key, dk.as_ref(), &wrap_aad(principal_id))?;
        Ok((
            dk,
            Wrapped {
                bytes,
                kek_id: p.id,
            },
        ))
    }

    /// Watch the master key files of a data folder (key-file mode) for rotations.
    pub fn watch(&self, data_dir: &Path) {
        if let Ok(mut w) = self.watch.lock() {
            *w = Some((data_dir.to_path_buf(), None));
        }
    }

    /// If a rotation is under way (`master.key.new`) or finished (`master.key` changed), adopt
    /// the new master key as primary. Costs two `stat`s when nothing changed.
    pub fn follow_rotation(&self) {
        let Ok(mut w) = self.watch.lock() else { return };
        let Some((dir, seen)) = w.as_mut() else {
            return;
        };
        let next = dir.join("master.key.new");
        let cur = dir.join("master.key");
        let stamp = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let now = (stamp(&next), stamp(&cur));
        if *seen == Some(now) {
            return;
        }
        *seen = Some(now);
        let file = if now.0.is_some() { next } else { cur };
        if let Ok(text) = read_secret_file(&file) {
            let _ = self.add_master_hex(&text, "master key", true);
        }
    }

    /// Wrap an existing data key under the primary KEK (rotation).
    pub fn rewrap(&self, principal_id: &str, dk: &Key32) -> Result<(Vec<u8>, String), StoreError> {
        let p = self
            .primary
            .read()
            .map_err(|_| StoreError::Crypto("key ring unavailable".into()))?
            .clone();
        Ok((
            seal_with(&p.key, dk.as_ref(), &wrap_aad(principal_id))?,
            p.id,
        ))
    }

    /// Unwrap a data key with the KEK that wrapped it (`kek_id` as stored beside it).
    pub fn unwrap_data_key(
        &self,
        principal_id: &str,
        wrapped: &[u8],
        kek_id: &str,
    ) -> Result<Key32, StoreError> {
        let kek = self.kek(kek_id).ok_or_else(|| {
            StoreError::Crypto(format!(
                "the data key of principal {principal_id} is wrapped under a master key this process does not have ({kek_id})"
            ))
        })?;
        let plain = Zeroizing::new(open_with(&kek, wrapped, &wrap_aad(principal_id)).map_err(
            |_| {
                StoreError::Crypto(format!(
                    "the data key of principal {principal_id} does not open with this master key"
                ))
            },
        )?);
        to_key32(plain.to_vec()).ok_or_else(|| {
            StoreError::Crypto(format!(
                "the data key of principal {principal_id} has the wrong length"
            ))
        })
    }

    /// Cached data keys: a read costs one AEAD open, not a key unwrap. Evicted keys are zeroized
    /// (they are `Zeroizing`).
    pub fn cached(&self, principal_id: &str) -> Option<Key32> {
        self.cache
            .lock()
            .ok()
            .and_then(|c| c.get(principal_id).cloned())
    }

    pub fn remember(&self, principal_id: &str, key: &Key32) {
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= self.cache_capacity {
                c.clear();
            }
            c.insert(principal_id.to_string(), key.clone());
        }
    }

    pub fn forget(&self, principal_id: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(principal_id);
        }
    }

    /// The keyed blind index of a normalized value of a category.
    pub fn blind_index(&self, category: &str, normalized: &str) -> Vec<u8> {
        let key = self
            .blind
            .read()
            .ok()
            .and_then(|b| b.clone())
            .unwrap_or_default();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        mac.update(category.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The MAC binding the facts an access decision rests on (a principal's channel and policy
    /// version, a consent, a suspension, a staff member's role; [`crate::facts`]), under the
    /// blind-index key with a domain-separated `kind` ("facts:principal", ...). The key is a
    /// random secret wrapped in the key store, never in the database, so a database edit
    /// cannot recompute it. `None` if no key is loaded (then nothing verifies).
    pub fn facts_mac(&self, kind: &str, canonical: &[u8]) -> Option<String> {
        let key = self.blind.read().ok().and_then(|b| b.clone())?;
        if key.iter().all(|b| *b == 0) {
            return None;
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).ok()?;
        mac.update(b"mamori/facts/v1");
        mac.update(&[0]);
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(canonical);
        Some(hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `stored` is the MAC of `canonical` (constant time); NULL never is.
    pub fn facts_mac_ok(&self, kind: &str, canonical: &[u8], stored: Option<&str>) -> bool {
        match (self.facts_mac(kind, canonical), stored) {
            (Some(want), Some(got)) if want.len() == got.len() => {
                want.bytes()
                    .zip(got.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
            }
            _ => false,
        }
    }

    /// A keyed fingerprint of arbitrary bytes (import de-duplication), unlinkable without the key.
    pub fn fingerprint(&self, data: &[u8]) -> Vec<u8> {
        self.blind_index("fingerprint", &hex::encode(Sha256::digest(data)))
    }
}

/// A keyed fingerprint of a value under one principal's own data key (the old and new values in
/// a correction's audit entry). It shows on the log that a value changed, and whoever holds
/// that principal's key can check a candidate; it is meaningless once the key is destroyed
/// (erasure), and two principals' fingerprints of the same value differ, so correcting another
/// principal to a candidate value confirms nothing about anyone (issue 20).
pub fn principal_fingerprint(data_key: &Key32, category: &str, value: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(data_key.as_ref())
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(b"mamori correction fingerprint v1");
    mac.update(&[0]);
    mac.update(category.as_bytes());
    mac.update(&[0]);
    mac.update(value);
    mac.finalize().into_bytes().to_vec()
}

fn to_key32(v: Vec<u8>) -> Option<Key32> {
    let v = Zeroizing::new(v);
    let mut k = Zeroizing::new([0u8; 32]);
    if v.len() != 32 {
        return None;
    }
    k.copy_from_slice(&v);
    Some(k)
}

fn secret_aad(name: &str) -> Vec<u8> {
    format!("mamori/secret/v1|{name}").into_bytes()
}

fn wrap_aad(principal_id: &str) -> Vec<u8> {
    format!("mamori/dk/v1|{principal_id}").into_bytes()
}

/// The associated data binding a sealed value to its principal, record and category.
pub fn field_aad(principal_id: &str, record_id: &str, category: &str) -> Vec<u8> {
    format!("mamori/field/v1|{principal_id}|{record_id}|{category}").into_bytes()
}

pub fn seal_with(key: &Key32, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::rngs::OsRng);
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| StoreError::Crypto("sealing failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

pub fn open_with(key: &Key32, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, StoreError> {
    let (nonce, ct) = sealed
        .split_at_checked(NONCE_LEN)
        .ok_or_else(|| StoreError::Crypto("sealed value too short".into()))?;
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| StoreError::Crypto("sealed value does not open".into()))
}

/// The audit signing key (Ed25519): signs checkpoints and the head file.
pub struct AuditSigner {
    key: SigningKey,
}

impl AuditSigner {
    pub fn generate_hex() -> Zeroizing<String> {
        Zeroizing::new(hex::encode(random_key().as_ref()))
    }

    pub fn from_hex(hex_text: &str) -> Result<AuditSigner, StoreError> {
        let seed = parse_key_hex(hex_text, "audit signing key")?;
        Ok(AuditSigner {
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    pub fn sign(&self, msg: &[u8]) -> String {
        hex::encode(self.key.sign(msg).to_bytes())
    }
}

impl AuditSigner {
    /// The key that authenticates every audit entry (HMAC-SHA-256), derived from the signing
    /// key with HKDF: it is never stored, so whoever holds only the database (a DBA, a copy of
    /// `mamori.db`) cannot write an entry that verifies (issue 20).
    pub fn entry_key(&self) -> AuditEntryKey {
        let seed = Zeroizing::new(self.key.to_bytes());
        let hk = hkdf::Hkdf::<Sha256>::new(Some(b"mamori"), seed.as_ref());
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA-256 output length.
        let _ = hk.expand(b"mamori-audit-entry-mac-v1", key.as_mut());
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        AuditEntryKey { mac }
    }
}

/// The audit entries' MAC key ([`AuditSigner::entry_key`]): the HMAC state keyed with it,
/// cloned for each entry so that keying is paid once. (The key bytes themselves are wiped when
/// derived; the keyed state is the hmac crate's, like the AEAD's key schedule: SECURITY.md
/// "Known limits".)
#[derive(Clone)]
pub struct AuditEntryKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for AuditEntryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditEntryKey(..)")
    }
}

impl AuditEntryKey {
    /// A fresh HMAC keyed with this key.
    pub fn mac(&self) -> Hmac<Sha256> {
        self.mac.clone()
    }
}

/// Check an Ed25519 signature made by [`AuditSigner::sign`].
pub fn verify_signature(public_hex: &str, msg: &[u8], sig_hex: &str) -> bool {
    let mut pk = [0u8; 32];
    let mut sig = [0u8; 64];
    if hex::decode_to_slice(public_hex.trim(), &mut pk).is_err()
        || hex::decode_to_slice(sig_hex.trim(), &mut sig).is_err()
    {
        return false;
    }
    let Ok(vk) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    vk.verify(msg, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from_master_hex(&Keys::generate_master_hex(), "test").unwrap()
    }

    /// Keys are zeroized when dropped (issue 14; seed 000 Art. 8, seed 003 Art. 13): every type
    /// that holds key material — data keys, key-encryption keys and the blind-index key (`Key32`),
    /// the master key's text, the audit signing key — wipes its bytes on drop. The compiler checks
    /// it: changing one of them to a plain array or string fails to build this test. (The
    /// workspace forbids `unsafe`, so no test reads freed memory.)
    #[test]
    fn every_type_holding_key_material_is_zeroized_on_drop() {
        fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let k = keys();
        let (dk, _) = k.new_data_key("p1").unwrap();
        zeroized_on_drop(&dk);
        zeroized_on_drop(&k.primary.read().unwrap().key);
        for kek in k.ring.read().unwrap().iter() {
            zeroized_on_drop(&kek.key);
        }
        if let Some(b) = k.blind.read().unwrap().as_ref() {
            zeroized_on_drop(b);
        }
        k.remember("p1", &dk);
        for cached in k.cache.lock().unwrap().values() {
            zeroized_on_drop(cached);
        }
        zeroized_on_drop(&Keys::generate_master_hex());
        zeroized_on_drop(
            &AuditSigner::from_hex(&AuditSigner::generate_hex())
                .unwrap()
                .key,
        );
        // A forgotten data key leaves the cache (and is dropped, so wiped).
        k.forget("p1");
        assert!(k.cached("p1").is_none());
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_own_associated_data() {
        let k = keys();
        let (dk, wrapped) = k.new_data_key("p1").unwrap();
        let wrapped = wrapped.bytes;
        let sealed = seal_with(&dk, b"Yamada Taro", &field_aad("p1", "r1", "name")).unwrap();
        assert_eq!(
            open_with(&dk, &sealed, &field_aad("p1", "r1", "name")).unwrap(),
            b"Yamada Taro"
        );
        assert!(open_with(&dk, &sealed, &field_aad("p2", "r1", "name")).is_err());
        assert!(open_with(&dk, &sealed, &field_aad("p1", "r1", "email")).is_err());
        let again = k.unwrap_data_key("p1", &wrapped, &k.kek_id()).unwrap();
        assert_eq!(again.as_ref(), dk.as_ref());
        let err = k
            .unwrap_data_key("p2", &wrapped, &k.kek_id())
            .unwrap_err()
            .to_string();
        assert!(err.contains("principal p2"), "{err}");
    }

    #[test]
    fn blind_indexes_depend_on_the_key_and_the_category() {
        let a = keys();
        let b = keys();
        assert_eq!(
            a.blind_index("email", "x@example.jp"),
            a.blind_index("email", "x@example.jp")
        );
        assert_ne!(
            a.blind_index("email", "x@example.jp"),
            b.blind_index("email", "x@example.jp")
        );
        assert_ne!(
            a.blind_index("email", "x@example.jp"),
            a.blind_index("name", "x@example.jp")
        );
    }

    #[test]
    fn signatures_verify_and_detect_changes() {
        let s = AuditSigner::from_hex(&AuditSigner::generate_hex()).unwrap();
        let sig = s.sign(b"head 10");
        assert!(verify_signature(&s.public_hex(), b"head 10", &sig));
        assert!(!verify_signature(&s.public_hex(), b"head 11", &sig));
    }

    #[test]
    fn a_malformed_master_key_is_refused_without_echoing_it() {
        let e = Keys::from_master_hex("not-a-key-secret", "MAMORI_MASTER_KEY")
            .unwrap_err()
            .to_string();
        assert!(e.contains("64 hexadecimal"), "{e}");
        assert!(!e.contains("secret"), "{e}");
    }
}
