//! Files that hold secrets (key files, record keys, handovers, decrypted records): readable by
//! their owner only (mode 0600), and never written over unless the caller says so.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use thiserror::Error;

/// The mode of a file that holds a secret: read and write for its owner, nothing for others.
pub const PRIVATE_MODE: u32 = 0o600;

/// Why a private file could not be written.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file exists and the caller did not ask to replace it.
    #[error("{0} already exists; pass --force to replace it")]
    Exists(String),
    /// The file could not be written.
    #[error("cannot write {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// Fails if `path` exists and `replace` is not set: checked before work whose result would
/// have nowhere to go.
pub fn ensure_writable(path: &Path, replace: bool) -> Result<(), FileError> {
    if !replace && path.exists() {
        return Err(FileError::Exists(path.display().to_string()));
    }
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600: a new file, or with `replace` one that replaces
/// whatever was there (its mode narrowed to 0600 too).
pub fn write_private(path: &Path, bytes: &[u8], replace: bool) -> Result<(), FileError> {
    let io = |error| FileError::Io { path: path.display().to_string(), error };
    let mut options = OpenOptions::new();
    options.write(true).mode(PRIVATE_MODE);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => FileError::Exists(path.display().to_string()),
        _ => io(error),
    })?;
    file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_MODE)).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_the_owners_and_are_not_replaced_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.key");
        write_private(&path, b"secret", false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, PRIVATE_MODE);
        assert!(matches!(write_private(&path, b"other", false), Err(FileError::Exists(_))));
        assert!(matches!(ensure_writable(&path, false), Err(FileError::Exists(_))));
        assert_eq!(std::fs::read(&path).unwrap(), b"secret", "nothing was lost");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"other", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"other");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, PRIVATE_MODE);
    }
}
