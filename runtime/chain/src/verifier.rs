//! How script checks run: worker threads, the bounded cache of verified signatures, and the
//! policy-module engine (made on first use, with its disk cache).

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use medchain_modules::{EngineError, EngineOptions, PolicyEngine};
use medchain_primitives::Hash32;
use sha2::{Digest, Sha256};

/// Most verified signatures remembered.
pub const SIGNATURE_CACHE_CAPACITY: usize = 200_000;

/// Remembers (digest, key, signature) triples that verified. Only successes are kept, so a
/// hit can only skip work, never change a verdict.
#[derive(Debug, Default)]
pub struct SignatureCache {
    inner: Mutex<CacheInner>,
    /// Entries held, readable without the lock (a cold cache costs no hashing).
    count: std::sync::atomic::AtomicUsize,
}

#[derive(Debug, Default)]
struct CacheInner {
    known: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl SignatureCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(digest: &Hash32, pubkey: &[u8], sig: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(digest.0);
        hasher.update([u8::try_from(pubkey.len()).unwrap_or(u8::MAX)]);
        hasher.update(pubkey);
        hasher.update(sig);
        hasher.finalize().into()
    }

    /// Whether this signature verified before.
    pub fn contains(&self, digest: &Hash32, pubkey: &[u8], sig: &[u8]) -> bool {
        if self.count.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            return false;
        }
        let entry = Self::entry(digest, pubkey, sig);
        self.inner.lock().is_ok_and(|inner| inner.known.contains(&entry))
    }

    /// Remembers a signature that verified, forgetting the oldest past the capacity.
    pub fn insert(&self, digest: &Hash32, pubkey: &[u8], sig: &[u8]) {
        let entry = Self::entry(digest, pubkey, sig);
        if let Ok(mut inner) = self.inner.lock()
            && inner.known.insert(entry)
        {
            inner.order.push_back(entry);
            while inner.order.len() > SIGNATURE_CACHE_CAPACITY {
                if let Some(old) = inner.order.pop_front() {
                    inner.known.remove(&old);
                }
            }
            self.count.store(inner.known.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// How many signatures are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |inner| inner.known.len())
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How script checks run.
#[derive(Debug)]
pub struct Verifier {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Verified signatures.
    pub cache: SignatureCache,
    /// Where compiled policy modules are kept on disk, if anywhere.
    module_cache: Option<PathBuf>,
    /// The policy-module engine, made when a script first calls a module (and tried again
    /// on the next call if making it failed).
    engine: OnceLock<PolicyEngine>,
}

impl Verifier {
    /// A verifier with `threads` workers and empty caches.
    pub fn new(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            cache: SignatureCache::new(),
            module_cache: None,
            engine: OnceLock::new(),
        }
    }

    /// Also keeps compiled policy modules in `dir`.
    pub fn with_module_cache(mut self, dir: PathBuf) -> Self {
        self.module_cache = Some(dir);
        self
    }

    /// The policy-module engine (made on first use).
    pub fn policy_engine(&self) -> Result<&PolicyEngine, EngineError> {
        if let Some(engine) = self.engine.get() {
            return Ok(engine);
        }
        let mut engine = PolicyEngine::new(EngineOptions::default())?;
        if let Some(dir) = &self.module_cache
            && let Err(error) = engine.set_disk_cache(dir)
        {
            tracing::warn!(dir = %dir.display(), %error, "policy modules are cached in memory only");
        }
        // Two threads may both make one; the first stored is the one everybody uses.
        Ok(self.engine.get_or_init(|| engine))
    }

    /// A verifier using every core.
    pub fn all_cores() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }
}
