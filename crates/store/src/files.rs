//! Private files outside the database: backups, disclosure packages, letters (seed 000 Art. 8;
//! seed 003 Arts. 13, 16: what leaves the database is kept as carefully as what is in it).
//!
//! Every such file is written the same way, through [`PrivateFile`]:
//! - readable by its owner only (mode 0600), from the moment it exists;
//! - never through a symbolic link: the bytes go to a new temporary file beside the target with
//!   a random name, created with `O_CREAT | O_EXCL` (which refuses any existing path, a planted
//!   symlink included), and a target that is itself a symbolic link is refused;
//! - whole or not at all: the temporary file is synced and then linked into place (no-clobber,
//!   for backups) or renamed over the target (replace, for letters written again), so a reader
//!   never sees half a file; the temporary file is removed on any failure.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What to do when the target exists already (a regular file; a symlink is always refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse: the target must be a new file name (backups).
    Refuse,
    /// Replace it atomically (a letter or package written again).
    Replace,
}

/// Why a private file could not be written: a line for the person who gave the path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0} exists already: choose a new file name")]
    Exists(String),
    #[error("{0} is a symbolic link: give the path of a regular file")]
    Symlink(String),
    #[error("cannot write {0}: {1}")]
    Io(String, std::io::Error),
}

/// A file being written: a private temporary beside the target until [`PrivateFile::finish`].
#[derive(Debug)]
pub struct PrivateFile {
    dest: PathBuf,
    tmp: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    existing: Existing,
}

fn check_target(dest: &Path, existing: Existing) -> Result<(), FileError> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => Err(FileError::Symlink(dest.display().to_string())),
        Ok(_) if existing == Existing::Refuse => Err(FileError::Exists(dest.display().to_string())),
        Ok(m) if m.is_dir() => Err(FileError::Io(
            dest.display().to_string(),
            std::io::Error::other("it is a folder"),
        )),
        _ => Ok(()),
    }
}

impl PrivateFile {
    /// Start writing `dest`: checks the target, then creates the private temporary file.
    pub fn create(dest: &Path, existing: Existing) -> Result<PrivateFile, FileError> {
        check_target(dest, existing)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let tmp = dest.with_file_name(format!(".{name}.{}.partial", crate::crypto::random_hex(8)));
        let mut opts = std::fs::OpenOptions::new();
        // create_new: O_CREAT | O_EXCL, which fails on any existing path, symlinks included.
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts
            .open(&tmp)
            .map_err(|e| FileError::Io(dest.display().to_string(), e))?;
        Ok(PrivateFile {
            dest: dest.to_path_buf(),
            tmp,
            file: Some(std::io::BufWriter::new(file)),
            existing,
        })
    }

    fn io(&self, e: std::io::Error) -> FileError {
        FileError::Io(self.dest.display().to_string(), e)
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        let r = match self.file.as_mut() {
            Some(f) => f.write_all(bytes),
            None => Err(std::io::Error::other("the file is closed")),
        };
        r.map_err(|e| self.io(e))
    }

    /// Sync the bytes and put the file in place.
    pub fn finish(mut self) -> Result<PathBuf, FileError> {
        let file = self.file.take();
        let synced = match file {
            Some(f) => f
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all()),
            None => Err(std::io::Error::other("the file is closed")),
        };
        synced.map_err(|e| self.io(e))?;
        check_target(&self.dest, self.existing)?;
        match self.existing {
            Existing::Replace => std::fs::rename(&self.tmp, &self.dest).map_err(|e| self.io(e))?,
            Existing::Refuse => {
                // A hard link never replaces an existing path (no-clobber, even against a
                // file or symlink planted since the check).
                match std::fs::hard_link(&self.tmp, &self.dest) {
                    Ok(()) => {
                        let _ = std::fs::remove_file(&self.tmp);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Err(FileError::Exists(self.dest.display().to_string()));
                    }
                    // A file system without hard links: rename after the check above.
                    Err(_) => std::fs::rename(&self.tmp, &self.dest).map_err(|e| self.io(e))?,
                }
            }
        }
        if let Some(dir) = self.dest.parent()
            && let Ok(d) = std::fs::File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
        {
            let _ = d.sync_all();
        }
        Ok(self.dest.clone())
    }
}

/// Streamed writes (a backup): the bytes go to the private temporary file.
impl Write for PrivateFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        PrivateFile::write_all(self, buf).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        // Not finished (an error on the way) or finished by hard link: no temporary remains.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Write `bytes` to `dest` as a private file (0600, never through a symlink, whole or not at all).
pub fn write_private(dest: &Path, bytes: &[u8], existing: Existing) -> Result<PathBuf, FileError> {
    let mut f = PrivateFile::create(dest, existing)?;
    f.write_all(bytes)?;
    f.finish()
}

/// Create a folder for private files (0700) and any missing parents.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    #[cfg(unix)]
    fn a_private_file_is_0600_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("letter.html");
        write_private(&p, b"hello", Existing::Refuse).unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let e = write_private(&p, b"again", Existing::Refuse).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("exists already: choose a new file name"),
            "{e}"
        );
        write_private(&p, b"again", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"again");
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    #[cfg(unix)]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        let p = dir.path().join("out.data");
        // The old temporary name, planted as a symlink: irrelevant now.
        std::os::unix::fs::symlink(&victim, dir.path().join("out.partial")).unwrap();
        write_private(&p, b"backup", Existing::Refuse).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        assert!(
            !std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // The target itself a symlink: refused, for either mode, and the victim is untouched.
        let link = dir.path().join("link.html");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        for existing in [Existing::Refuse, Existing::Replace] {
            let e = write_private(&link, b"x", existing).unwrap_err();
            assert!(
                e.to_string()
                    .ends_with("is a symbolic link: give the path of a regular file"),
                "{e}"
            );
        }
        // A dangling symlink is refused too (it would create the file where it points).
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &dangling).unwrap();
        assert!(matches!(
            write_private(&dangling, b"x", Existing::Refuse),
            Err(FileError::Symlink(_))
        ));
        assert!(!dir.path().join("elsewhere").exists());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    }
}
