//! The record store: ciphertexts of records, content-addressed by SHA-256. Behind a trait so a
//! deployment can use an object store; the local store keeps files on disk. Hashes are checked
//! while writing and while reading, and data is streamed, never held whole in memory. Each
//! upload writes a scratch file of its own, renamed into place once complete and synced, the
//! directory synced after; scratch files a crash left are removed when the store opens.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use medchain_primitives::Hash32;

/// Largest record ciphertext accepted.
pub const MAX_BLOB_SIZE: u64 = 256 * 1024 * 1024;

/// Size of the chunks data is streamed in.
const CHUNK: usize = 64 * 1024;

/// What scratch files of uploads end with.
const SCRATCH: &str = ".partial";

/// Why a blob could not be stored or read.
#[derive(Debug, Error)]
pub enum BlobError {
    /// The data does not hash to the expected value.
    #[error("data hashes to {actual}, not the expected {expected}")]
    HashMismatch {
        /// The hash asked for.
        expected: Hash32,
        /// The hash of the data.
        actual: Hash32,
    },
    /// The data is larger than [`MAX_BLOB_SIZE`].
    #[error("data is larger than {MAX_BLOB_SIZE} bytes")]
    TooLarge,
    /// No blob with this hash.
    #[error("no record ciphertext {0}")]
    NotFound(Hash32),
    /// Disk or stream failure.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Where record ciphertexts live.
pub trait BlobStore: Send + Sync {
    /// Stores the data read from `data`, which must hash to `expected`. Nothing is kept when
    /// the hash or the size is wrong.
    fn put(&self, expected: &Hash32, data: &mut dyn Read) -> Result<u64, BlobError>;

    /// Opens the blob with this hash; the reader fails if the stored bytes no longer match.
    fn open(&self, hash: &Hash32) -> Result<Box<dyn Read + Send>, BlobError>;

    /// Whether a blob is stored.
    fn contains(&self, hash: &Hash32) -> bool;
}

/// Blobs as files named by their hash in a directory.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    dir: PathBuf,
}

impl LocalBlobStore {
    /// A store in `dir`, created if needed; scratch files of uploads a crash cut short are
    /// removed.
    pub fn open(dir: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().contains(SCRATCH) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(Self { dir: dir.to_owned() })
    }

    fn path(&self, hash: &Hash32) -> PathBuf {
        self.dir.join(hash.to_hex())
    }
}

impl BlobStore for LocalBlobStore {
    fn put(&self, expected: &Hash32, data: &mut dyn Read) -> Result<u64, BlobError> {
        if self.contains(expected) {
            // Content addressing: the same hash is the same data. Drain and check anyway.
            let (size, actual) = hash_stream(data, &mut io::sink())?;
            return if actual == *expected {
                Ok(size)
            } else {
                Err(BlobError::HashMismatch { expected: *expected, actual })
            };
        }
        // A scratch file of this upload's own: two uploads of one hash never share one. It is
        // removed if anything fails before it is renamed into place.
        let mut scratch = tempfile::Builder::new()
            .prefix(&format!("{}.", expected.to_hex()))
            .suffix(SCRATCH)
            .tempfile_in(&self.dir)?;
        let (size, actual) = hash_stream(data, scratch.as_file_mut())?;
        if actual != *expected {
            return Err(BlobError::HashMismatch { expected: *expected, actual });
        }
        scratch.as_file().sync_all()?;
        scratch.persist(self.path(expected)).map_err(|e| BlobError::Io(e.error))?;
        // The rename is durable only once the directory is.
        File::open(&self.dir)?.sync_all()?;
        Ok(size)
    }

    fn open(&self, hash: &Hash32) -> Result<Box<dyn Read + Send>, BlobError> {
        let file = File::open(self.path(hash)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => BlobError::NotFound(*hash),
            _ => BlobError::Io(e),
        })?;
        Ok(Box::new(VerifyingReader {
            inner: BufReader::new(file),
            hasher: Sha256::new(),
            expected: *hash,
            done: false,
        }))
    }

    fn contains(&self, hash: &Hash32) -> bool {
        self.path(hash).is_file()
    }
}

/// Copies `data` to `out` in chunks, hashing it; refuses more than [`MAX_BLOB_SIZE`] bytes.
fn hash_stream(data: &mut dyn Read, out: &mut dyn Write) -> Result<(u64, Hash32), BlobError> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut size: u64 = 0;
    loop {
        let n = data.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > MAX_BLOB_SIZE {
            return Err(BlobError::TooLarge);
        }
        let chunk = buffer.get(..n).unwrap_or_default();
        hasher.update(chunk);
        out.write_all(chunk)?;
    }
    Ok((size, Hash32(hasher.finalize().into())))
}

/// Streams a stored blob and fails at the end if it no longer hashes to its name.
struct VerifyingReader<R> {
    inner: R,
    hasher: Sha256,
    expected: Hash32,
    done: bool,
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !self.done {
            self.done = true;
            let actual = Hash32(std::mem::take(&mut self.hasher).finalize().into());
            if actual != self.expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("stored record {} is corrupt", self.expected),
                ));
            }
        }
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_streams_and_checks_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let data = vec![7u8; 300_000];
        let hash = Hash32::sha256(&data);
        assert_eq!(store.put(&hash, &mut data.as_slice()).unwrap(), 300_000);
        let mut read = Vec::new();
        store.open(&hash).unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read, data);
        assert!(matches!(store.open(&Hash32::sha256(b"x")), Err(BlobError::NotFound(_))));
        let wrong = Hash32::sha256(b"other");
        assert!(matches!(store.put(&wrong, &mut data.as_slice()), Err(BlobError::HashMismatch { .. })));
        assert!(!store.contains(&wrong));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no partial file is left behind");
    }

    #[test]
    fn uploads_of_one_hash_at_once_leave_one_whole_blob_and_debris_goes_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
        let hash = Hash32::sha256(&data);
        // Slow readers, so that the uploads overlap.
        struct Slow<'a>(&'a [u8]);
        impl Read for Slow<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                std::thread::sleep(std::time::Duration::from_micros(200));
                let n = buf.len().min(4096).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        std::thread::scope(|scope| {
            let uploads: Vec<_> =
                (0..4).map(|_| scope.spawn(|| store.put(&hash, &mut Slow(&data)).map(|_| ()))).collect();
            for upload in uploads {
                upload.join().unwrap().unwrap();
            }
        });
        let mut read = Vec::new();
        store.open(&hash).unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read, data, "the blob is whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no scratch file is left");
        std::fs::write(dir.path().join(format!("{hash}.crash{SCRATCH}")), b"half").unwrap();
        LocalBlobStore::open(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "debris is removed at open");
    }

    #[test]
    fn corruption_on_disk_is_detected_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let hash = Hash32::sha256(b"ciphertext");
        store.put(&hash, &mut &b"ciphertext"[..]).unwrap();
        std::fs::write(dir.path().join(hash.to_hex()), b"tampered!!").unwrap();
        let mut read = Vec::new();
        let error = store.open(&hash).unwrap().read_to_end(&mut read).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
