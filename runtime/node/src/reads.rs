//! The node's read log: every record download it served, appended to a JSON Lines file and
//! synced before the bytes go out. Each line carries the hash of the log up to and including it,
//! so the head hash commits to the whole history and can be anchored on chain.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use medchain_api::ReadEntry;
use medchain_primitives::{Hash32, PubKey};

/// Longest line the log accepts when it is read back.
pub const MAX_READ_LINE: usize = 4096;

/// Domain of the log's hash chain.
const DOMAIN: &[u8] = b"medchain/read-log/v1";

#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    entry: ReadEntry,
    /// Hash of the log through this entry.
    chain: String,
}

/// Why the log could not be opened or written.
#[derive(Debug, Error)]
pub enum ReadLogError {
    /// The file could not be read or written.
    #[error("read log {path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
    /// A line does not parse or does not continue the hash chain.
    #[error("read log {path}, line {line}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The log: the file, the entries, and the hash of the whole log.
#[derive(Debug)]
pub struct ReadLog {
    path: PathBuf,
    file: File,
    /// Bytes of whole lines on disk: an append that fails is cut back to this.
    len: u64,
    entries: Vec<ReadEntry>,
    head: Hash32,
}

/// The hash of the log after `entry`, given the hash before it.
fn link(previous: &Hash32, entry: &ReadEntry) -> Hash32 {
    let canonical = serde_json::to_vec(entry).unwrap_or_default();
    Hash32::sha256(&[DOMAIN, &previous.0, &canonical].concat())
}

impl ReadLog {
    /// Opens (or creates) the log at `path` and checks its hash chain. A last line cut short by a
    /// crash during its write is dropped; any other damage is an error.
    pub fn open(path: &Path) -> Result<ReadLog, ReadLogError> {
        let io = |error| ReadLogError::Io { path: path.to_owned(), error };
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(io)?;
        let mut entries = Vec::new();
        let mut head = Hash32::default();
        let mut valid_bytes = 0u64;
        let mut reader = BufReader::new(&file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read =
                (&mut reader).take(MAX_READ_LINE as u64 + 1).read_until(b'\n', &mut line).map_err(io)?;
            if read == 0 {
                break;
            }
            let number = entries.len() + 1;
            let corrupt =
                |reason: String| ReadLogError::Corrupt { path: path.to_owned(), line: number, reason };
            if line.last() != Some(&b'\n') {
                if line.len() > MAX_READ_LINE {
                    return Err(corrupt(format!("longer than {MAX_READ_LINE} bytes")));
                }
                break; // a torn final write: dropped below
            }
            let parsed: Line = serde_json::from_slice(&line).map_err(|e| corrupt(e.to_string()))?;
            let next = link(&head, &parsed.entry);
            if parsed.chain != next.to_hex() {
                return Err(corrupt("the hash chain is broken".into()));
            }
            head = next;
            entries.push(parsed.entry);
            valid_bytes += read as u64;
        }
        drop(reader);
        let on_disk = file.metadata().map_err(io)?.len();
        if on_disk != valid_bytes {
            tracing::warn!(path = %path.display(), dropped = on_disk.saturating_sub(valid_bytes), "dropping a read-log line cut short by a crash");
            file.set_len(valid_bytes).map_err(io)?;
            file.seek(SeekFrom::End(0)).map_err(io)?;
        }
        Ok(ReadLog { path: path.to_owned(), file, len: valid_bytes, entries, head })
    }

    /// Appends an entry and syncs it to disk.
    pub fn append(&mut self, entry: ReadEntry) -> Result<(), ReadLogError> {
        self.append_with(entry, |file, bytes| file.write_all(bytes).and_then(|()| file.sync_data()))
    }

    /// Appends an entry, written and synced by `write`.
    fn append_with(
        &mut self,
        entry: ReadEntry,
        write: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
    ) -> Result<(), ReadLogError> {
        let io = |error| ReadLogError::Io { path: self.path.clone(), error };
        let head = link(&self.head, &entry);
        let mut bytes = serde_json::to_vec(&Line { entry: entry.clone(), chain: head.to_hex() })
            .map_err(|e| io(std::io::Error::other(e)))?;
        bytes.push(b'\n');
        // A write or sync that fails leaves no part of the line behind (a torn line in the
        // middle would make the log unopenable): the file is cut back to its whole lines, and
        // the read is not served.
        if let Err(error) = write(&mut self.file, &bytes) {
            let _ = self.file.set_len(self.len);
            return Err(io(error));
        }
        self.len = self.len.saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        self.entries.push(entry);
        self.head = head;
        Ok(())
    }

    /// How many entries, and the hash committing to all of them.
    pub fn head(&self) -> (usize, Hash32) {
        (self.entries.len(), self.head)
    }

    /// The reads of one patient's records, oldest first.
    pub fn of_patient<'a>(&'a self, patient: &'a PubKey) -> impl Iterator<Item = &'a ReadEntry> {
        self.entries.iter().filter(move |e| e.patient == *patient)
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn key(n: u8) -> PubKey {
        PubKey::from_secret(&secp256k1::SecretKey::from_byte_array([n; 32]).unwrap())
    }

    fn entry(n: u64) -> ReadEntry {
        ReadEntry {
            time: n,
            patient: key(1),
            reader: key(u8::try_from(n).unwrap() + 1),
            record: Hash32([3; 32]),
            access: n.is_multiple_of(2).then_some(Hash32([4; 32])),
            emergency: n.is_multiple_of(2),
        }
    }

    #[test]
    fn survives_reopening_and_commits_to_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reads.jsonl");
        let mut log = ReadLog::open(&path).unwrap();
        assert_eq!(log.head(), (0, Hash32::default()));
        log.append(entry(1)).unwrap();
        log.append(entry(2)).unwrap();
        let head = log.head();
        drop(log);
        let mut log = ReadLog::open(&path).unwrap();
        assert_eq!(log.head(), head);
        assert_eq!(log.of_patient(&key(1)).count(), 2);
        assert_eq!(log.of_patient(&key(2)).count(), 0);
        log.append(entry(3)).unwrap();
        assert_ne!(log.head().1, head.1);
    }

    #[test]
    fn a_failed_append_leaves_no_torn_line_and_the_log_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reads.jsonl");
        let mut log = ReadLog::open(&path).unwrap();
        log.append(entry(1)).unwrap();
        let head = log.head();
        // A disk that takes half the line, then fails.
        let failed = log.append_with(entry(2), |file, bytes| {
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(std::io::Error::other("no space left on device"))
        });
        assert!(matches!(failed, Err(ReadLogError::Io { .. })));
        assert_eq!(log.head(), head, "the read that failed is not logged");
        log.append(entry(3)).unwrap();
        drop(log);
        let log = ReadLog::open(&path).unwrap();
        assert_eq!(log.head().0, 2, "the log opens, with the two whole lines");
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_tampering_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reads.jsonl");
        let mut log = ReadLog::open(&path).unwrap();
        log.append(entry(1)).unwrap();
        let head = log.head();
        drop(log);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"time\":2,\"pat").unwrap();
        drop(file);
        let mut log = ReadLog::open(&path).unwrap();
        assert_eq!(log.head(), head, "the torn line is gone");
        log.append(entry(2)).unwrap();
        drop(log);
        assert_eq!(ReadLog::open(&path).unwrap().head().0, 2, "appends after the repair read back");

        let text = std::fs::read_to_string(&path).unwrap().replacen("\"time\":1,", "\"time\":7,", 1);
        std::fs::write(&path, text).unwrap();
        let error = ReadLog::open(&path).unwrap_err();
        assert!(matches!(error, ReadLogError::Corrupt { line: 1, .. }), "{error}");
    }
}
