//! Compiled policy modules on disk, so a restarted node need not compile them again. An
//! artifact is loaded back only if this node wrote it: each file carries an HMAC-SHA256 tag
//! under a secret key kept beside the artifacts, over the engine fingerprint, the module's
//! hash and the artifact bytes.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::{Engine, Module};

use medchain_primitives::Hash32;

/// The file holding the cache's secret key.
const KEY_FILE: &str = "cache.key";

/// Length of the tag in front of each artifact.
const TAG_LEN: usize = 32;

/// Compiled artifacts in a directory, each behind its tag.
#[derive(Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    key: [u8; 32],
}

impl ArtifactCache {
    /// Opens `dir` (creating it and its key on first use).
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let key_path = dir.join(KEY_FILE);
        let key = match fs::read(&key_path) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a 32-byte key", key_path.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                write_atomically(&key_path, &key)?;
                key
            }
            Err(e) => return Err(e),
        };
        Ok(Self { dir: dir.to_path_buf(), key })
    }

    fn path(&self, hash: &Hash32, fingerprint: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}-{}{ARTIFACT}", hash.to_hex(), hex::encode(&fingerprint[..8])))
    }

    /// The tag of an artifact: HMAC over (fingerprint, hash, artifact).
    fn tag(&self, hash: &Hash32, fingerprint: &[u8; 32], artifact: &[u8]) -> io::Result<Hmac<Sha256>> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).map_err(|e| io::Error::other(e.to_string()))?;
        mac.update(fingerprint);
        mac.update(&hash.0);
        mac.update(artifact);
        Ok(mac)
    }

    /// The artifact for `hash` compiled by an engine with `fingerprint`, if this node wrote it
    /// and it is intact.
    pub fn load(&self, engine: &Engine, hash: &Hash32, fingerprint: &[u8; 32]) -> Option<Module> {
        let path = self.path(hash, fingerprint);
        let file = fs::read(&path).ok()?;
        let (tag, artifact) = file.split_at_checked(TAG_LEN)?;
        self.tag(hash, fingerprint, artifact).ok()?.verify_slice(tag).ok()?;
        // Used now: the last to go when the cache is over its size.
        let _ = fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(SystemTime::now()));
        deserialize(engine, artifact)
    }

    /// Writes the compiled `module` for `hash`, tagged.
    pub fn store(&self, hash: &Hash32, fingerprint: &[u8; 32], module: &Module) -> io::Result<()> {
        let artifact = module.serialize().map_err(|e| io::Error::other(e.to_string()))?;
        let tag = self.tag(hash, fingerprint, &artifact)?.finalize().into_bytes();
        write_atomically(&self.path(hash, fingerprint), &[tag.as_slice(), &artifact].concat())?;
        evict(&self.dir, MAX_CACHE_BYTES)
    }
}

/// Most bytes of compiled artifacts kept on disk; the least recently used go first.
pub const MAX_CACHE_BYTES: u64 = 512 * 1024 * 1024;

/// What artifact files end with.
const ARTIFACT: &str = ".cwasm";

/// Removes the least recently used artifacts in `dir` until they take at most `max_bytes`.
fn evict(dir: &Path, max_bytes: u64) -> io::Result<()> {
    let mut artifacts = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().ends_with(ARTIFACT) {
            let meta = entry.metadata()?;
            artifacts.push((meta.modified()?, meta.len(), entry.path()));
        }
    }
    let mut total: u64 = artifacts.iter().map(|(_, len, _)| *len).sum();
    artifacts.sort();
    for (_, len, path) in artifacts {
        if total <= max_bytes {
            break;
        }
        fs::remove_file(path)?;
        total = total.saturating_sub(len);
    }
    Ok(())
}

/// Loads compiled machine code back into the engine.
#[expect(
    unsafe_code,
    reason = "wasmtime's Module::deserialize is unsafe; the artifact's tag was checked first"
)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> Option<Module> {
    // SAFETY: `Module::deserialize` trusts its input to be an artifact wasmtime produced. The
    // caller checked the HMAC tag under this node's own key, so these bytes are exactly what
    // this node's `Module::serialize` wrote; wasmtime itself refuses artifacts from another
    // version or configuration.
    unsafe { Module::deserialize(engine, artifact) }.ok()
}

/// Writes `bytes` to `path` through a temporary file of its own in the same directory (readable
/// by the node's user only), so concurrent writers and crashes never leave a partial file.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_least_recently_used_artifacts_go_when_the_cache_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for (name, age) in [("old", 30), ("middle", 20), ("new", 10)] {
            let path = dir.path().join(format!("{name}{ARTIFACT}"));
            fs::write(&path, [0u8; 100]).unwrap();
            let file = fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(now - Duration::from_secs(age)).unwrap();
        }
        fs::write(dir.path().join(KEY_FILE), [1u8; 32]).unwrap();
        evict(dir.path(), 250).unwrap();
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [KEY_FILE.to_owned(), format!("middle{ARTIFACT}"), format!("new{ARTIFACT}")]);
        evict(dir.path(), 0).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "only artifacts go; the key stays");
    }
}
