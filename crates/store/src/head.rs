//! The signed head outside the database (`audit-head.json`; issue 20, seed 003 Arts. 15, 19).
//!
//! The head file says how far the audit log went, signed with the audit signing key, so that a
//! log cut short in the database cannot pass for a complete one. It is kept in step with the
//! log by the writer in two steps around every commit:
//!
//! 1. [`prepare`], while the writer holds the database's write lock and before it commits: the
//!    file must account for the log as the database holds it (its head is the database's head,
//!    or the batch pending when a process stopped was the last one committed); otherwise the
//!    writer refuses to add to the log (it is missing, unreadable, ahead of the database — the
//!    tail was deleted — or behind it — an older file was put back). The batch to be committed
//!    is then written into the file as `pending`.
//! 2. [`finish`], after the commit: the committed head moves up to the batch.
//!
//! A process killed between the commit and step 2 leaves a file whose `pending` names the
//! log's last entry, which verification accepts ([`crate::audit::ChainVerifier::finish`]).
//! Every update is a read-modify-write under an exclusive lock on `audit-head.json.lock`
//! (several processes may share a data folder) and replaces the file by renaming a new one
//! created 0600, never written through an existing path or symlink.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::audit::{HeadFile, HeadState, PendingHead, SignedHead, checkpoint_message};
use crate::crypto::AuditSigner;

/// Read the head file as it is.
pub fn read(path: &Path) -> HeadState {
    match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HeadState::Missing,
        Err(e) => HeadState::Unreadable(e.kind().to_string()),
        Ok(bytes) => match serde_json::from_slice::<HeadFile>(&bytes) {
            Ok(f) => HeadState::Present(f),
            Err(_) => HeadState::Unreadable(
                "it is not a signed head (JSON with seq, hash, signature, public_key)".into(),
            ),
        },
    }
}

pub fn signed(signer: &AuditSigner, seq: i64, hash: &str) -> SignedHead {
    SignedHead {
        seq,
        hash: hash.to_string(),
        signature: signer.sign(&checkpoint_message(seq, hash)),
        public_key: signer.public_hex(),
    }
}

/// Why the writer will not add to the log: the head file does not account for it.
pub fn mismatch(state: &HeadState, db_seq: i64, db_hash: &str) -> Option<String> {
    let fix =
        "run `mamori audit verify`; put back the head kept for safekeeping, or restore a backup";
    match state {
        HeadState::Missing if db_seq == 0 => None,
        HeadState::Missing => Some(format!(
            "the signed head file audit-head.json is missing but the log has {db_seq} entries: {fix}"
        )),
        HeadState::Unreadable(why) => Some(format!(
            "the signed head file audit-head.json cannot be read ({why}): {fix}"
        )),
        HeadState::Present(f) => {
            let is_db = |seq: i64, hash: &str| seq == db_seq && (seq == 0 || hash == db_hash);
            if is_db(f.head.seq, &f.head.hash)
                || f.pending.as_ref().is_some_and(|p| is_db(p.seq, &p.hash))
            {
                None
            } else if f.head.seq > db_seq {
                Some(format!(
                    "the signed head outside the database is at entry {} but the log ends at entry {db_seq}: entries were deleted; {fix}",
                    f.head.seq
                ))
            } else if f.head.seq < db_seq {
                Some(format!(
                    "the signed head outside the database is at entry {} but the log goes on to entry {db_seq}: an older head file was put back; {fix}",
                    f.head.seq
                ))
            } else {
                Some(format!(
                    "the signed head outside the database does not match entry {db_seq}: the log was rewritten; {fix}"
                ))
            }
        }
    }
}

/// Step 1 (before the commit, under the database's write lock): check that the file accounts for
/// the log at `db` and record the batch about to be committed as pending.
pub fn prepare(
    path: &Path,
    signer: &AuditSigner,
    db: (i64, &str),
    next: (i64, &str),
) -> Result<(), String> {
    let _lock = lock(path)?;
    let state = read(path);
    if let Some(why) = mismatch(&state, db.0, db.1) {
        return Err(why);
    }
    let head = match state {
        HeadState::Present(f) if f.head.seq == db.0 => f.head,
        _ => signed(signer, db.0, db.1),
    };
    let pending = PendingHead {
        seq: next.0,
        hash: next.1.to_string(),
        signature: signer.sign(&checkpoint_message(next.0, next.1)),
    };
    replace(
        path,
        &HeadFile {
            head,
            pending: Some(pending),
        },
    )
}

/// Step 2 (after the commit): the committed head moves up to `seq`; never backwards (another
/// process may have committed a later batch meanwhile).
pub fn finish(path: &Path, signer: &AuditSigner, seq: i64, hash: &str) -> Result<(), String> {
    let _lock = lock(path)?;
    let mut file = match read(path) {
        HeadState::Present(f) => f,
        _ => HeadFile {
            head: signed(signer, seq, hash),
            pending: None,
        },
    };
    if file.head.seq < seq {
        file.head = signed(signer, seq, hash);
    }
    if file.pending.as_ref().is_some_and(|p| p.seq <= seq) {
        file.pending = None;
    }
    replace(path, &file)
}

/// A new head file in place of whatever is there (after a restore, or `mamori audit head
/// --rewrite`, both recorded).
pub fn reset(path: &Path, signer: &AuditSigner, seq: i64, hash: &str) -> Result<(), String> {
    let _lock = lock(path)?;
    replace(
        path,
        &HeadFile {
            head: signed(signer, seq, hash),
            pending: None,
        },
    )
}

fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// An exclusive lock on the head file's lock file, released when the returned file is dropped.
fn lock(path: &Path) -> Result<std::fs::File, String> {
    let lp = lock_path(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(nofollow());
    }
    let f = opts
        .open(&lp)
        .map_err(|e| format!("cannot open {}: {}", lp.display(), e.kind()))?;
    f.lock()
        .map_err(|e| format!("cannot lock {}: {}", lp.display(), e.kind()))?;
    Ok(f)
}

#[cfg(unix)]
fn nofollow() -> i32 {
    // O_NOFOLLOW: Linux and the BSDs/macOS differ; std has no constant for it.
    if cfg!(target_os = "linux") {
        0o400000
    } else {
        0x0100
    }
}

/// Write `file` to a fresh temporary file (created 0600, never an existing path) and rename it
/// over the head file.
fn replace(path: &Path, file: &HeadFile) -> Result<(), String> {
    let text = serde_json::to_vec_pretty(file).map_err(|e| e.to_string())?;
    let tmp = {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(
            ".tmp{}-{}",
            std::process::id(),
            crate::crypto::random_hex(4)
        ));
        PathBuf::from(p)
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts.open(&tmp).and_then(|mut f| f.write_all(&text));
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "cannot write the signed head file {}: {}",
            path.display(),
            e.kind()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> AuditSigner {
        AuditSigner::from_hex(&"1f".repeat(32)).unwrap()
    }

    #[test]
    fn the_head_file_is_created_0600_and_follows_the_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head.json");
        let s = signer();
        let h1 = "a1".repeat(32);
        let h3 = "b3".repeat(32);
        prepare(&path, &s, (0, crate::audit::GENESIS), (1, &h1)).unwrap();
        finish(&path, &s, 1, &h1).unwrap();
        prepare(&path, &s, (1, &h1), (3, &h3)).unwrap();
        let HeadState::Present(f) = read(&path) else {
            panic!("no head file")
        };
        assert_eq!(
            (f.head.seq, f.pending.as_ref().map(|p| p.seq)),
            (1, Some(3))
        );
        finish(&path, &s, 3, &h3).unwrap();
        let HeadState::Present(f) = read(&path) else {
            panic!("no head file")
        };
        assert_eq!((f.head.seq, f.pending), (3, None));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // A late finish of an earlier batch (another process) never moves it back.
        finish(&path, &s, 1, &h1).unwrap();
        let HeadState::Present(f) = read(&path) else {
            panic!("no head file")
        };
        assert_eq!(f.head.seq, 3);
    }

    #[test]
    fn the_writer_refuses_a_log_the_head_file_does_not_account_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head.json");
        let s = signer();
        let h5 = "c5".repeat(32);
        let h7 = "d7".repeat(32);
        reset(&path, &s, 5, &h5).unwrap();
        // Entries deleted in the database (the log ends at 3).
        let e = prepare(&path, &s, (3, &"e3".repeat(32)), (4, &h7)).unwrap_err();
        assert!(
            e.contains("is at entry 5 but the log ends at entry 3: entries were deleted"),
            "{e}"
        );
        // An older head put back (the log goes on to 7).
        let e = prepare(&path, &s, (7, &h7), (8, &h7)).unwrap_err();
        assert!(e.contains("an older head file was put back"), "{e}");
        // The same place with another hash.
        let e = prepare(&path, &s, (5, &h7), (6, &h7)).unwrap_err();
        assert!(
            e.contains("does not match entry 5: the log was rewritten"),
            "{e}"
        );
        // Missing, or not JSON.
        std::fs::remove_file(&path).unwrap();
        let e = prepare(&path, &s, (5, &h5), (6, &h7)).unwrap_err();
        assert!(
            e.contains("audit-head.json is missing but the log has 5 entries"),
            "{e}"
        );
        std::fs::write(&path, "{oops").unwrap();
        let e = prepare(&path, &s, (5, &h5), (6, &h7)).unwrap_err();
        assert!(e.contains("cannot be read (it is not a signed head"), "{e}");
        // Nothing was changed by a refusal.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{oops");
    }

    #[test]
    fn a_symlink_planted_as_the_lock_file_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head.json");
        let target = dir.path().join("elsewhere");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&target, lock_path(&path)).unwrap();
            let e = reset(&path, &signer(), 1, &"a1".repeat(32)).unwrap_err();
            assert!(e.contains("cannot open"), "{e}");
            assert!(!target.exists());
        }
    }
}
