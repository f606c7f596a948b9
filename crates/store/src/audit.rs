//! The tamper-evident audit log (seed 003 Arts. 15, 19; DESIGN.md "Audit log"; issue 20).
//!
//! Entries are append-only; each carries the hash of the one before it (a hash chain), so an
//! altered, deleted or reordered entry breaks the chain at that point. The "hash" is a MAC
//! (HMAC-SHA-256) under a key derived from the audit signing key, which is not in the database:
//! whoever can write only the database cannot add an entry that verifies, and the writer
//! refuses to chain onto one. Checkpoints signed with the Ed25519 key are stored every
//! [`CHECKPOINT_EVERY`] entries (a missing one fails verification), and the latest signed head
//! is also written outside the database (`audit-head.json`; [`HeadFile`]), so a truncated tail
//! cannot pass for a complete log; a head printed for safekeeping (`mamori audit head`) lets an
//! auditor detect an older head file put back. Entries hold ids and category names, never
//! personal values.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::crypto::AuditEntryKey;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
pub const CHECKPOINT_EVERY: i64 = 1000;

/// What the caller records; the writer gives it its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuditDraft {
    /// The staff login (or `system`, `portal`).
    pub actor: String,
    /// What was done: `principal.add`, `principal.read`, `staff.add`, …
    pub action: String,
    pub principal_id: Option<String>,
    pub purpose: Option<String>,
    /// `notified`, `consent`, `exception:law`, …
    pub basis: Option<String>,
    /// Category ids touched, comma-separated in the stored form.
    pub categories: Vec<String>,
    /// `allow`, `deny` or `done`.
    pub decision: String,
    /// Why a request was denied (rule text, never personal values).
    pub reason: Option<String>,
    /// Further ids as a small JSON object (never personal values).
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub principal_id: Option<String>,
    pub purpose: Option<String>,
    pub basis: Option<String>,
    pub categories: String,
    pub decision: String,
    pub reason: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

fn put(h: &mut Hmac<Sha256>, s: &[u8]) {
    h.update(&(s.len() as u64).to_be_bytes());
    h.update(s);
}

fn put_opt(h: &mut Hmac<Sha256>, s: Option<&[u8]>) {
    match s {
        None => h.update(&[0u8]),
        Some(v) => {
            h.update(&[1u8]);
            put(h, v);
        }
    }
}

/// An entry borrowed from wherever it was read (a database row, an [`AuditEntry`]): verification
/// of a long log hashes these without copying a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub seq: i64,
    pub at: &'a [u8],
    pub actor: &'a [u8],
    pub action: &'a [u8],
    pub principal_id: Option<&'a [u8]>,
    pub purpose: Option<&'a [u8]>,
    pub basis: Option<&'a [u8]>,
    pub categories: &'a [u8],
    pub decision: &'a [u8],
    pub reason: Option<&'a [u8]>,
    pub detail: &'a [u8],
    pub prev_hash: &'a [u8],
    pub hash: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// HMAC-SHA-256 under the entry key over a length-prefixed encoding of every field but the
    /// hash.
    pub fn digest(&self, key: &AuditEntryKey) -> [u8; 32] {
        let mut h = key.mac();
        h.update(b"mamori-audit-v2");
        put(&mut h, self.prev_hash);
        h.update(&self.seq.to_be_bytes());
        put(&mut h, self.at);
        put(&mut h, self.actor);
        put(&mut h, self.action);
        put_opt(&mut h, self.principal_id);
        put_opt(&mut h, self.purpose);
        put_opt(&mut h, self.basis);
        put(&mut h, self.categories);
        put(&mut h, self.decision);
        put_opt(&mut h, self.reason);
        put(&mut h, self.detail);
        h.finalize().into_bytes().into()
    }

    /// Whether the stored hash is exactly the hex of the MAC of the contents (encoded on the
    /// stack: no string is built per entry).
    pub fn hash_matches(&self, key: &AuditEntryKey) -> bool {
        let mut hex = [0u8; 64];
        hex::encode_to_slice(self.digest(key), &mut hex).is_ok() && hex.as_slice() == self.hash
    }

    /// An entry's fields framed in one value, in the order of [`FRAMED_COLUMNS`]: each as its
    /// length in bytes (decimal), `:`, then the bytes; an absent optional field as `~`. SQLite
    /// builds this in the verification query, so a row crosses the driver as one value instead
    /// of twelve (`None`: not such a value).
    pub fn from_framed(seq: i64, mut framed: &'a [u8]) -> Option<EntryRef<'a>> {
        let mut next = |optional: bool| -> Option<Option<&'a [u8]>> {
            if optional && framed.first() == Some(&b'~') {
                framed = framed.get(1..)?;
                return Some(None);
            }
            let colon = framed.iter().take(21).position(|b| *b == b':')?;
            let len: usize = std::str::from_utf8(framed.get(..colon)?)
                .ok()?
                .parse()
                .ok()?;
            let value = framed.get(colon + 1..colon + 1 + len)?;
            framed = framed.get(colon + 1 + len..)?;
            Some(Some(value))
        };
        let e = EntryRef {
            seq,
            at: next(false)??,
            actor: next(false)??,
            action: next(false)??,
            principal_id: next(true)?,
            purpose: next(true)?,
            basis: next(true)?,
            categories: next(false)??,
            decision: next(false)??,
            reason: next(true)?,
            detail: next(false)??,
            prev_hash: next(false)??,
            hash: next(false)??,
        };
        framed.is_empty().then_some(e)
    }
}

/// The columns [`EntryRef::from_framed`] reads, in order, and whether each may be NULL.
pub const FRAMED_COLUMNS: [(&str, bool); 12] = [
    ("at", false),
    ("actor", false),
    ("action", false),
    ("principal_id", true),
    ("purpose", true),
    ("basis", true),
    ("categories", false),
    ("decision", false),
    ("reason", true),
    ("detail", false),
    ("prev_hash", false),
    ("hash", false),
];

impl AuditEntry {
    pub fn as_ref(&self) -> EntryRef<'_> {
        EntryRef {
            seq: self.seq,
            at: self.at.as_bytes(),
            actor: self.actor.as_bytes(),
            action: self.action.as_bytes(),
            principal_id: self.principal_id.as_deref().map(str::as_bytes),
            purpose: self.purpose.as_deref().map(str::as_bytes),
            basis: self.basis.as_deref().map(str::as_bytes),
            categories: self.categories.as_bytes(),
            decision: self.decision.as_bytes(),
            reason: self.reason.as_deref().map(str::as_bytes),
            detail: self.detail.as_bytes(),
            prev_hash: self.prev_hash.as_bytes(),
            hash: self.hash.as_bytes(),
        }
    }

    /// The entry's hash (hex): see [`EntryRef::digest`].
    pub fn compute_hash(&self, key: &AuditEntryKey) -> String {
        hex::encode(self.as_ref().digest(key))
    }

    pub fn from_draft(
        d: &AuditDraft,
        seq: i64,
        at: &str,
        prev_hash: &str,
        key: &AuditEntryKey,
    ) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: at.to_string(),
            actor: d.actor.clone(),
            action: d.action.clone(),
            principal_id: d.principal_id.clone(),
            purpose: d.purpose.clone(),
            basis: d.basis.clone(),
            categories: d.categories.join(","),
            decision: d.decision.clone(),
            reason: d.reason.clone(),
            detail: if d.detail.is_null() {
                "{}".to_string()
            } else {
                d.detail.to_string()
            },
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        e.hash = e.compute_hash(key);
        e
    }
}

/// The message a checkpoint or head signature covers.
pub fn checkpoint_message(seq: i64, hash: &str) -> Vec<u8> {
    format!("mamori-audit-checkpoint-v1|{seq}|{hash}").into_bytes()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub signature: String,
    pub at: String,
}

/// A signed head: the last entry's place and hash, signed with the audit signing key. The
/// committed part of the head file, and what `mamori audit head` prints for safekeeping
/// (`mamori audit verify --head FILE` reads it back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    pub seq: i64,
    pub hash: String,
    pub signature: String,
    pub public_key: String,
}

/// A head the writer is about to commit: written into the head file before the commit, so that a
/// process killed between the commit and the head file's update leaves a head file that still
/// accounts for every committed entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingHead {
    pub seq: i64,
    pub hash: String,
    pub signature: String,
}

/// The head file outside the database (`audit-head.json`): the committed signed head and, while
/// a batch is being committed, the head it will have. (A head file of the first round, without
/// `pending`, reads as one.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadFile {
    #[serde(flatten)]
    pub head: SignedHead,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingHead>,
}

/// What was found where the head file should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadState {
    Missing,
    /// The file is there but cannot be read or is not a head file (why, without its contents).
    Unreadable(String),
    Present(HeadFile),
}

/// The first problem verification found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tamper {
    #[error(
        "audit entry {seq} was altered or was not written by Mamori: its hash does not match its contents under the signing key"
    )]
    Altered { seq: i64 },
    #[error(
        "audit entry {seq} does not follow entry {prev}: an entry was deleted, inserted or moved before it"
    )]
    Broken { seq: i64, prev: i64 },
    #[error("audit entry {expected} is missing: the log jumps from {before} to {found}")]
    Missing {
        expected: i64,
        before: i64,
        found: i64,
    },
    #[error(
        "signed checkpoint {seq} does not match the log: the entries up to {seq} were rewritten"
    )]
    CheckpointMismatch { seq: i64 },
    #[error("signed checkpoint {seq} has an invalid signature")]
    BadCheckpointSignature { seq: i64 },
    #[error(
        "signed checkpoint {seq} is missing from the database: a checkpoint is kept every {every} entries and the log has {last}"
    )]
    CheckpointMissing { seq: i64, every: i64, last: i64 },
    #[error(
        "the log ends at entry {last} but the signed head outside the database says {head}: the tail was truncated"
    )]
    Truncated { last: i64, head: i64 },
    #[error(
        "the signed head outside the database does not match entry {seq}: the log was rewritten"
    )]
    HeadMismatch { seq: i64 },
    #[error("the signed head file has an invalid signature")]
    BadHeadSignature,
    #[error(
        "the signed head file audit-head.json is missing but the log has {last} entries: put back the head kept for safekeeping and run `mamori audit verify --head FILE`"
    )]
    HeadMissing { last: i64 },
    #[error("the signed head file audit-head.json cannot be read: {why}")]
    HeadUnreadable { why: String },
    #[error(
        "the signed head outside the database is at entry {head} but the log goes on to entry {last}: an older head file was put back"
    )]
    HeadBehind { head: i64, last: i64 },
    #[error("the head kept elsewhere is not signed by this data folder's audit signing key")]
    ExternalBadSignature,
    #[error(
        "the log ends at entry {last} but the head kept elsewhere says {head}: entries after {last} were deleted"
    )]
    ExternalTruncated { last: i64, head: i64 },
    #[error(
        "the head kept elsewhere does not match entry {seq}: the log up to {seq} was rewritten"
    )]
    ExternalMismatch { seq: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub checkpoints: usize,
    /// The head recorded outside the database, if there is one.
    pub signed_head_seq: Option<i64>,
    /// The head kept elsewhere that the log was checked against (`--head FILE`), if one was given.
    pub external_head_seq: Option<i64>,
}

/// Incremental chain verification, so a million entries can be checked while streaming.
#[derive(Debug)]
pub struct ChainVerifier {
    key: AuditEntryKey,
    prev_seq: i64,
    prev_hash: String,
    count: i64,
    hashes_at: std::collections::HashMap<i64, String>,
    wanted: std::collections::HashSet<i64>,
}

impl ChainVerifier {
    /// `key`: the entry MAC key; `wanted`: the sequence numbers whose hashes the checkpoints and
    /// heads will be compared to.
    pub fn new(key: AuditEntryKey, wanted: impl IntoIterator<Item = i64>) -> ChainVerifier {
        ChainVerifier {
            key,
            prev_seq: 0,
            prev_hash: GENESIS.to_string(),
            count: 0,
            hashes_at: Default::default(),
            wanted: wanted.into_iter().collect(),
        }
    }

    /// The sequence numbers [`ChainVerifier::finish`] needs the hashes of, for these
    /// checkpoints and heads.
    pub fn wanted_for(
        checkpoints: &[Checkpoint],
        head: &HeadState,
        external: Option<&SignedHead>,
    ) -> Vec<i64> {
        let mut wanted: Vec<i64> = checkpoints.iter().map(|c| c.seq).collect();
        if let HeadState::Present(f) = head {
            wanted.push(f.head.seq);
            if let Some(p) = &f.pending {
                wanted.push(p.seq);
            }
        }
        if let Some(h) = external {
            wanted.push(h.seq);
        }
        wanted
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), Tamper> {
        self.push_ref(&e.as_ref())
    }

    /// One entry, in the order read: its MAC, its place and its link to the one before.
    pub fn push_ref(&mut self, e: &EntryRef<'_>) -> Result<(), Tamper> {
        if !e.hash_matches(&self.key) {
            return Err(Tamper::Altered { seq: e.seq });
        }
        let linked = e.prev_hash == self.prev_hash.as_bytes();
        if e.seq != self.prev_seq + 1 {
            if e.seq > self.prev_seq + 1 && !linked {
                return Err(Tamper::Missing {
                    expected: self.prev_seq + 1,
                    before: self.prev_seq,
                    found: e.seq,
                });
            }
            return Err(Tamper::Broken {
                seq: e.seq,
                prev: self.prev_seq,
            });
        }
        if !linked {
            return Err(Tamper::Broken {
                seq: e.seq,
                prev: self.prev_seq,
            });
        }
        // The hash is 64 hex digits here (it matched the MAC's hex).
        let hash = std::str::from_utf8(e.hash).map_err(|_| Tamper::Altered { seq: e.seq })?;
        if self.wanted.contains(&e.seq) {
            self.hashes_at.insert(e.seq, hash.to_string());
        }
        self.prev_seq = e.seq;
        // Reuses the buffer: no allocation per entry.
        self.prev_hash.clear();
        self.prev_hash.push_str(hash);
        self.count += 1;
        Ok(())
    }

    fn hash_at(&self, seq: i64) -> Option<&String> {
        self.hashes_at.get(&seq)
    }

    /// Compare the chain with the signed checkpoints, the head file outside the database and,
    /// if given, a head kept elsewhere.
    pub fn finish(
        self,
        checkpoints: &[Checkpoint],
        public_key: &str,
        head: &HeadState,
        external: Option<&SignedHead>,
    ) -> Result<VerifyReport, Tamper> {
        let last = self.prev_seq;
        let signed = |seq: i64, hash: &str, sig: &str| {
            crate::crypto::verify_signature(public_key, &checkpoint_message(seq, hash), sig)
        };
        for c in checkpoints {
            if !signed(c.seq, &c.hash, &c.signature) {
                return Err(Tamper::BadCheckpointSignature { seq: c.seq });
            }
            if c.seq > last {
                return Err(Tamper::Truncated { last, head: c.seq });
            }
            if self.hash_at(c.seq) != Some(&c.hash) {
                return Err(Tamper::CheckpointMismatch { seq: c.seq });
            }
        }
        // Every CHECKPOINT_EVERY-th entry has its checkpoint (the writer stores it in the same
        // transaction as the entry): one deleted from the table is named.
        let present: std::collections::HashSet<i64> = checkpoints.iter().map(|c| c.seq).collect();
        let mut seq = CHECKPOINT_EVERY;
        while seq <= last {
            if !present.contains(&seq) {
                return Err(Tamper::CheckpointMissing {
                    seq,
                    every: CHECKPOINT_EVERY,
                    last,
                });
            }
            seq += CHECKPOINT_EVERY;
        }
        let signed_head_seq = match head {
            HeadState::Missing if last == 0 => None,
            HeadState::Missing => return Err(Tamper::HeadMissing { last }),
            HeadState::Unreadable(why) => return Err(Tamper::HeadUnreadable { why: why.clone() }),
            HeadState::Present(f) => {
                let h = &f.head;
                if h.public_key != public_key || !signed(h.seq, &h.hash, &h.signature) {
                    return Err(Tamper::BadHeadSignature);
                }
                if h.seq > last {
                    return Err(Tamper::Truncated { last, head: h.seq });
                }
                if h.seq > 0 && self.hash_at(h.seq) != Some(&h.hash) {
                    return Err(Tamper::HeadMismatch { seq: h.seq });
                }
                if h.seq < last {
                    // Only the batch being committed when a process stopped may be past the
                    // committed head, and then the file names it as pending.
                    let pending_is_last = f.pending.as_ref().is_some_and(|p| {
                        p.seq == last
                            && signed(p.seq, &p.hash, &p.signature)
                            && self.hash_at(p.seq) == Some(&p.hash)
                    });
                    if !pending_is_last {
                        return Err(Tamper::HeadBehind { head: h.seq, last });
                    }
                }
                Some(h.seq)
            }
        };
        if let Some(x) = external {
            if x.public_key != public_key || !signed(x.seq, &x.hash, &x.signature) {
                return Err(Tamper::ExternalBadSignature);
            }
            if x.seq > last {
                return Err(Tamper::ExternalTruncated { last, head: x.seq });
            }
            if x.seq > 0 && self.hash_at(x.seq) != Some(&x.hash) {
                return Err(Tamper::ExternalMismatch { seq: x.seq });
            }
        }
        Ok(VerifyReport {
            entries: self.count,
            head_seq: last,
            head_hash: self.prev_hash,
            checkpoints: checkpoints.len(),
            signed_head_seq,
            external_head_seq: external.map(|x| x.seq),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::crypto::AuditSigner;

    /// One signing key for every test here, so heads and entries agree.
    fn signer() -> AuditSigner {
        AuditSigner::from_hex(&"1f".repeat(32)).unwrap()
    }

    fn key() -> AuditEntryKey {
        signer().entry_key()
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        chain_under(n, &key())
    }

    fn chain_under(n: i64, key: &AuditEntryKey) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let d = AuditDraft {
                    actor: "clerk1".into(),
                    action: "principal.read".into(),
                    principal_id: Some(format!("p{seq}")),
                    decision: "allow".into(),
                    ..Default::default()
                };
                let e = AuditEntry::from_draft(&d, seq, "2026-11-22T00:00:00Z", &prev, key);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn verify(
        entries: &[AuditEntry],
        head: Option<&SignedHead>,
        cps: &[Checkpoint],
        pk: &str,
    ) -> Result<VerifyReport, Tamper> {
        let head = match head {
            Some(h) => HeadState::Present(HeadFile {
                head: h.clone(),
                pending: None,
            }),
            None => HeadState::Missing,
        };
        verify_full(entries, &head, cps, pk, None)
    }

    fn verify_full(
        entries: &[AuditEntry],
        head: &HeadState,
        cps: &[Checkpoint],
        pk: &str,
        external: Option<&SignedHead>,
    ) -> Result<VerifyReport, Tamper> {
        let mut v = ChainVerifier::new(key(), ChainVerifier::wanted_for(cps, head, external));
        for e in entries {
            v.push(e)?;
        }
        v.finish(cps, pk, head, external)
    }

    fn signed_head(s: &AuditSigner, e: &AuditEntry) -> SignedHead {
        SignedHead {
            seq: e.seq,
            hash: e.hash.clone(),
            signature: s.sign(&checkpoint_message(e.seq, &e.hash)),
            public_key: s.public_hex(),
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        let s = signer();
        let c = chain(5);
        let head = signed_head(&s, &c[4]);
        let r = verify(&c, Some(&head), &[], &s.public_hex()).unwrap();
        assert_eq!(r.entries, 5);
        assert_eq!(r.head_seq, 5);
    }

    #[test]
    fn an_altered_entry_is_named() {
        let mut c = chain(5);
        c[2].actor = "someone-else".into();
        assert_eq!(
            verify(&c, None, &[], "").unwrap_err(),
            Tamper::Altered { seq: 3 }
        );
    }

    #[test]
    fn an_altered_entry_with_a_recomputed_hash_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].actor = "someone-else".into();
        c[2].hash = c[2].compute_hash(&key());
        assert_eq!(
            verify(&c, None, &[], "").unwrap_err(),
            Tamper::Broken { seq: 4, prev: 3 }
        );
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut c = chain(5);
        c.remove(2);
        assert_eq!(
            verify(&c, None, &[], "").unwrap_err(),
            Tamper::Missing {
                expected: 3,
                before: 2,
                found: 4
            }
        );
    }

    #[test]
    fn reordered_entries_are_detected() {
        // Moving entry 3 before entry 2 in the table means giving them each other's places.
        let mut c = chain(5);
        c.swap(1, 2);
        c[1].seq = 2;
        c[2].seq = 3;
        assert_eq!(
            verify(&c, None, &[], "").unwrap_err(),
            Tamper::Altered { seq: 2 }
        );
        // Read in the wrong order instead, the gap is named.
        let mut c = chain(5);
        c.swap(1, 2);
        assert_eq!(
            verify(&c, None, &[], "").unwrap_err(),
            Tamper::Missing {
                expected: 2,
                before: 1,
                found: 3
            }
        );
    }

    #[test]
    fn a_truncated_tail_is_detected_by_the_signed_head() {
        let s = signer();
        let mut c = chain(5);
        let head = signed_head(&s, &c[4]);
        c.truncate(3);
        assert_eq!(
            verify(&c, Some(&head), &[], &s.public_hex()).unwrap_err(),
            Tamper::Truncated { last: 3, head: 5 }
        );
    }

    /// The framing the SQLite verification query builds (`crate::verify_sqlite`), in Rust.
    fn framed(e: &AuditEntry) -> Vec<u8> {
        let r = e.as_ref();
        let fields = [
            Some(r.at),
            Some(r.actor),
            Some(r.action),
            r.principal_id,
            r.purpose,
            r.basis,
            Some(r.categories),
            Some(r.decision),
            r.reason,
            Some(r.detail),
            Some(r.prev_hash),
            Some(r.hash),
        ];
        let mut out = Vec::new();
        for f in fields {
            match f {
                None => out.push(b'~'),
                Some(v) => {
                    out.extend_from_slice(format!("{}:", v.len()).as_bytes());
                    out.extend_from_slice(v);
                }
            }
        }
        out
    }

    #[test]
    fn a_framed_entry_reads_back_field_for_field() {
        let mut e = chain(1).remove(0);
        // Separators, markers and multibyte text inside values; one optional field present
        // and empty, the others absent.
        e.actor = "a:b~c".into();
        e.detail = r#"{"note":"~12:x 受付"}"#.into();
        e.purpose = Some(String::new());
        e.hash = e.compute_hash(&key());
        let bytes = framed(&e);
        let back = EntryRef::from_framed(e.seq, &bytes).unwrap();
        assert_eq!(back, e.as_ref());
        assert!(back.hash_matches(&key()));
        // Anything cut or left over is refused, not misread.
        assert!(EntryRef::from_framed(e.seq, &bytes[..bytes.len() - 1]).is_none());
        let mut longer = bytes.clone();
        longer.push(b'~');
        assert!(EntryRef::from_framed(e.seq, &longer).is_none());
    }

    #[test]
    fn a_rewritten_chain_fails_its_signed_checkpoint() {
        let s = signer();
        let c = chain(5);
        let cp = Checkpoint {
            seq: 3,
            hash: c[2].hash.clone(),
            signature: s.sign(&checkpoint_message(3, &c[2].hash)),
            at: String::new(),
        };
        // Rebuild the whole chain with one entry changed: internally consistent, but not what
        // was signed.
        let mut forged = chain(5);
        forged[1].action = "principal.add".into();
        let mut prev = GENESIS.to_string();
        for e in forged.iter_mut() {
            e.prev_hash = prev.clone();
            e.hash = e.compute_hash(&key());
            prev = e.hash.clone();
        }
        assert_eq!(
            verify(&forged, None, std::slice::from_ref(&cp), &s.public_hex()).unwrap_err(),
            Tamper::CheckpointMismatch { seq: 3 }
        );
        let head = signed_head(&s, &c[4]);
        assert!(verify(&c, Some(&head), &[cp], &s.public_hex()).is_ok());
    }

    /// Issue 20: whoever can write the database but has no signing key (a DBA) cannot append an
    /// entry that verifies, however correctly they chain it.
    #[test]
    fn an_entry_made_without_the_signing_key_is_refused() {
        let s = signer();
        let mut c = chain(3);
        let forger = AuditSigner::from_hex(&"2e".repeat(32)).unwrap().entry_key();
        let d = AuditDraft {
            actor: "manager".into(),
            action: "principal.read".into(),
            principal_id: Some("p_victim".into()),
            basis: Some("exception:law".into()),
            decision: "allow".into(),
            ..Default::default()
        };
        c.push(AuditEntry::from_draft(
            &d,
            4,
            "2026-11-22T00:00:00Z",
            &c[2].hash,
            &forger,
        ));
        let head = signed_head(&s, &c[3]);
        assert_eq!(
            verify(&c, Some(&head), &[], &s.public_hex()).unwrap_err(),
            Tamper::Altered { seq: 4 }
        );
        // The same with a plain SHA-256 chain (the first round's): refused too.
        let forged_elsewhere = chain_under(3, &forger);
        assert_eq!(
            verify(&forged_elsewhere, None, &[], &s.public_hex()).unwrap_err(),
            Tamper::Altered { seq: 1 }
        );
    }

    #[test]
    fn a_missing_or_unreadable_head_file_fails_verification() {
        let s = signer();
        let c = chain(3);
        let e = verify(&c, None, &[], &s.public_hex()).unwrap_err();
        assert_eq!(e, Tamper::HeadMissing { last: 3 });
        assert!(e.to_string().contains("audit-head.json is missing"), "{e}");
        let e = verify_full(
            &c,
            &HeadState::Unreadable("not JSON".into()),
            &[],
            &s.public_hex(),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the signed head file audit-head.json cannot be read: not JSON"
        );
        // An empty log needs no head.
        assert_eq!(verify(&[], None, &[], &s.public_hex()).unwrap().entries, 0);
    }

    #[test]
    fn an_older_head_file_fails_unless_the_rest_is_the_batch_pending_at_a_crash() {
        let s = signer();
        let c = chain(5);
        let old = signed_head(&s, &c[2]);
        assert_eq!(
            verify(&c, Some(&old), &[], &s.public_hex()).unwrap_err(),
            Tamper::HeadBehind { head: 3, last: 5 }
        );
        let pending = |e: &AuditEntry| PendingHead {
            seq: e.seq,
            hash: e.hash.clone(),
            signature: s.sign(&checkpoint_message(e.seq, &e.hash)),
        };
        // Killed after committing entries 4-5 and before the head file caught up: fine.
        let crashed = HeadState::Present(HeadFile {
            head: old.clone(),
            pending: Some(pending(&c[4])),
        });
        assert_eq!(
            verify_full(&c, &crashed, &[], &s.public_hex(), None)
                .unwrap()
                .signed_head_seq,
            Some(3)
        );
        // A pending head that is not the log's last entry does not excuse the gap.
        let stale = HeadState::Present(HeadFile {
            head: old.clone(),
            pending: Some(pending(&c[3])),
        });
        assert_eq!(
            verify_full(&c, &stale, &[], &s.public_hex(), None).unwrap_err(),
            Tamper::HeadBehind { head: 3, last: 5 }
        );
        // Killed before the commit: the pending head is past the log, the committed one is it.
        let before_commit = HeadState::Present(HeadFile {
            head: old,
            pending: Some(PendingHead {
                seq: 9,
                hash: "ab".repeat(32),
                signature: s.sign(&checkpoint_message(9, &"ab".repeat(32))),
            }),
        });
        assert!(verify_full(&c[..3], &before_commit, &[], &s.public_hex(), None).is_ok());
    }

    #[test]
    fn a_deleted_checkpoint_is_named() {
        let s = signer();
        let c = chain(2 * CHECKPOINT_EVERY + 5);
        let cp = |seq: i64| Checkpoint {
            seq,
            hash: c[(seq - 1) as usize].hash.clone(),
            signature: s.sign(&checkpoint_message(seq, &c[(seq - 1) as usize].hash)),
            at: String::new(),
        };
        let head = signed_head(&s, c.last().unwrap());
        let both = [cp(CHECKPOINT_EVERY), cp(2 * CHECKPOINT_EVERY)];
        assert!(verify(&c, Some(&head), &both, &s.public_hex()).is_ok());
        let e = verify(&c, Some(&head), &both[..1], &s.public_hex()).unwrap_err();
        assert_eq!(
            e,
            Tamper::CheckpointMissing {
                seq: 2 * CHECKPOINT_EVERY,
                every: CHECKPOINT_EVERY,
                last: 2 * CHECKPOINT_EVERY + 5
            }
        );
        assert!(
            e.to_string()
                .starts_with("signed checkpoint 2000 is missing"),
            "{e}"
        );
    }

    /// A head printed by `mamori audit head` and kept elsewhere catches what the head file beside
    /// the database cannot: the tail deleted and an older head file put back.
    #[test]
    fn a_head_kept_elsewhere_catches_a_truncation_hidden_by_an_old_head_file() {
        let s = signer();
        let c = chain(8);
        let kept = signed_head(&s, &c[7]);
        let truncated = &c[..5];
        let old_file = signed_head(&s, &c[4]);
        // Beside the database everything agrees ...
        assert!(verify(truncated, Some(&old_file), &[], &s.public_hex()).is_ok());
        // ... the head kept elsewhere does not.
        let file = HeadState::Present(HeadFile {
            head: old_file,
            pending: None,
        });
        assert_eq!(
            verify_full(truncated, &file, &[], &s.public_hex(), Some(&kept)).unwrap_err(),
            Tamper::ExternalTruncated { last: 5, head: 8 }
        );
        let mut rewritten = kept.clone();
        rewritten.seq = 5;
        rewritten.signature = s.sign(&checkpoint_message(5, &kept.hash));
        assert_eq!(
            verify_full(truncated, &file, &[], &s.public_hex(), Some(&rewritten)).unwrap_err(),
            Tamper::ExternalMismatch { seq: 5 }
        );
        let other = AuditSigner::from_hex(&"2e".repeat(32)).unwrap();
        let foreign = signed_head(&other, &c[4]);
        assert_eq!(
            verify_full(truncated, &file, &[], &s.public_hex(), Some(&foreign)).unwrap_err(),
            Tamper::ExternalBadSignature
        );
        let full = HeadState::Present(HeadFile {
            head: kept.clone(),
            pending: None,
        });
        let r = verify_full(&c, &full, &[], &s.public_hex(), Some(&kept)).unwrap();
        assert_eq!(r.external_head_seq, Some(8));
    }
}
