//! The policy-module engine: one wasmtime engine configured for consensus (fuel metering,
//! NaN canonicalization, a bounded wasm stack, only the admitted features, no WASI, no clock,
//! no randomness), the host ABI linked in, compiled modules cached in memory and on disk, and
//! a call that ends in a verdict when the module is at fault and in an error when the node is.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

use medchain_vm::host::ModuleVerdict;
use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, PoolingAllocationConfig,
    ResourceLimiter, Store, Trap, WasmFeatures,
};

use super::abi::ENTRY_POINT;
use super::admission::{ALLOWED_FEATURES, MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS, PAGE_SIZE};
use super::cache::ArtifactCache;
use super::call::{CallState, ModuleFault};
use super::host::link_host_functions;
use super::request::AccessRequest;
use medchain_primitives::Hash32;

/// Largest wasm stack a call may use, in bytes; deeper recursion is a deny.
pub const MAX_WASM_STACK: usize = 256 * 1024;

/// Most compiled modules kept in memory (the least recently used is forgotten first).
pub const MAX_CACHED_MODULES: usize = 256;

/// Instances the pooling allocator keeps slots for: calls running at once (more wait).
pub const POOL_INSTANCES: u32 = 256;

/// How the engine allocates instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Instances come from preallocated slots (fast) instead of fresh mappings.
    pub pooling: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { pooling: true }
    }
}

/// A failure of this node, not of a module: the engine cannot be built, a deployed module does
/// not compile, or no instance slot is free. Validation reports these as node errors, never as
/// a verdict on the transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The engine's configuration was refused.
    #[error("cannot configure the wasm engine: {0}")]
    Config(String),
    /// A module does not compile (or its code does not match its hash).
    #[error("cannot compile policy module {hash}: {error}")]
    Compile {
        /// The module.
        hash: Hash32,
        /// Why.
        error: String,
    },
    /// A call failed for a reason that is not the module's (the operating system refused
    /// memory, wasmtime failed).
    #[error("a policy module could not run: {0}")]
    Run(String),
}

/// A call's outcome: the verdict and the fuel it burned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    /// Allow, deny with the module's reason, or the fault that ended the call.
    pub verdict: ModuleVerdict,
    /// Fuel used, host calls included.
    pub fuel: u64,
}

/// A compiled module with the host ABI linked in, ready to instantiate.
#[derive(Clone)]
pub struct CompiledModule(InstancePre<CallState>);

impl std::fmt::Debug for CompiledModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledModule")
    }
}

/// Slots for calls running at once: a call waits for one rather than fail when the pool is
/// busy, so load never turns into a verdict.
struct Slots {
    free: Mutex<u32>,
    released: Condvar,
}

/// A taken slot, given back when dropped.
struct Slot<'a>(&'a Slots);

impl Slots {
    fn take(&self) -> Result<Slot<'_>, EngineError> {
        let poisoned = |_| EngineError::Run("slot lock poisoned".into());
        let mut free = self.free.lock().map_err(poisoned)?;
        while *free == 0 {
            free = self.released.wait(free).map_err(poisoned)?;
        }
        *free -= 1;
        Ok(Slot(self))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut free) = self.0.free.lock() {
            *free += 1;
            self.0.released.notify_one();
        }
    }
}

/// The engine, its linker and its caches. Shared by every validation thread.
pub struct PolicyEngine {
    engine: Engine,
    linker: Linker<CallState>,
    fingerprint: [u8; 32],
    memory: Mutex<Compiled>,
    disk: Option<ArtifactCache>,
    slots: Slots,
    compilations: AtomicU64,
}

impl std::fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEngine").field("fingerprint", &hex::encode(self.fingerprint)).finish()
    }
}

/// Compiled modules by code hash, each with when it was last used; the least recently used
/// is forgotten first.
#[derive(Default)]
struct Compiled {
    modules: BTreeMap<Hash32, (CompiledModule, u64)>,
    uses: u64,
}

impl Compiled {
    fn get(&mut self, hash: &Hash32) -> Option<CompiledModule> {
        self.uses += 1;
        let uses = self.uses;
        self.modules.get_mut(hash).map(|(module, last)| {
            *last = uses;
            module.clone()
        })
    }

    fn insert(&mut self, hash: Hash32, module: CompiledModule) {
        self.uses += 1;
        self.modules.insert(hash, (module, self.uses));
        while self.modules.len() > MAX_CACHED_MODULES {
            let oldest = self.modules.iter().min_by_key(|(_, (_, last))| *last).map(|(hash, _)| *hash);
            if let Some(oldest) = oldest {
                self.modules.remove(&oldest);
            }
        }
    }
}

/// The engine configuration every node uses: fuel counts and verdicts depend on it.
fn consensus_config(options: EngineOptions) -> Config {
    let mut config = Config::new();
    config.consume_fuel(true);
    config.cranelift_nan_canonicalization(true);
    config.max_wasm_stack(MAX_WASM_STACK);
    config.wasm_features(WasmFeatures::all(), false);
    config.wasm_features(ALLOWED_FEATURES, true);
    config.memory_reservation(MAX_MEMORY_BYTES);
    config.memory_reservation_for_growth(0);
    config.memory_guard_size(PAGE_SIZE);
    if options.pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(POOL_INSTANCES)
            .total_memories(POOL_INSTANCES)
            .total_tables(POOL_INSTANCES)
            .max_memories_per_module(1)
            .max_tables_per_module(1)
            .max_memory_size(usize::try_from(MAX_MEMORY_BYTES).unwrap_or(usize::MAX))
            .table_elements(usize::try_from(MAX_TABLE_ELEMENTS).unwrap_or(usize::MAX))
            // Zero a small memory with memset on reuse instead of madvise and page faults.
            .linear_memory_keep_resident(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX))
            .table_keep_resident(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Feeds `std::hash::Hash` output into SHA-256.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl PolicyEngine {
    /// An engine with an in-memory cache only.
    pub fn new(options: EngineOptions) -> Result<Self, EngineError> {
        let engine =
            Engine::new(&consensus_config(options)).map_err(|e| EngineError::Config(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        link_host_functions(&mut linker).map_err(|e| EngineError::Config(e.to_string()))?;
        let mut hasher = Sha256Hasher(Sha256::new());
        hasher.write(b"medchain/policy-engine/v1");
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let fingerprint = hasher.0.finalize().into();
        Ok(Self {
            engine,
            linker,
            fingerprint,
            memory: Mutex::new(Compiled::default()),
            disk: None,
            slots: Slots { free: Mutex::new(POOL_INSTANCES), released: Condvar::new() },
            compilations: AtomicU64::new(0),
        })
    }

    /// Also keeps compiled artifacts in `dir`, loading back only those this node wrote.
    pub fn set_disk_cache(&mut self, dir: &Path) -> std::io::Result<()> {
        self.disk = Some(ArtifactCache::open(dir)?);
        Ok(())
    }

    /// What identifies this engine's compiled code: wasmtime's version and every setting that
    /// affects compilation. Cached artifacts are keyed by (code hash, fingerprint).
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// How many modules this engine compiled (rather than found in a cache).
    pub fn compilations(&self) -> u64 {
        self.compilations.load(Ordering::Relaxed)
    }

    /// Compiles `code` with no cache.
    pub fn compile(&self, code: &[u8]) -> Result<CompiledModule, EngineError> {
        self.compilations.fetch_add(1, Ordering::Relaxed);
        let hash = Hash32::sha256(code);
        let module = Module::new(&self.engine, code)
            .map_err(|e| EngineError::Compile { hash, error: e.to_string() })?;
        self.link(hash, &module)
    }

    fn link(&self, hash: Hash32, module: &Module) -> Result<CompiledModule, EngineError> {
        let pre = self
            .linker
            .instantiate_pre(module)
            .map_err(|e| EngineError::Compile { hash, error: e.to_string() })?;
        Ok(CompiledModule(pre))
    }

    /// The module with this hash, from memory, from disk, or compiled from `code` (which must
    /// hash to `hash`).
    pub fn prepare(&self, hash: &Hash32, code: &[u8]) -> Result<CompiledModule, EngineError> {
        if let Some(found) = self.memory.lock().ok().and_then(|mut m| m.get(hash)) {
            return Ok(found);
        }
        if Hash32::sha256(code) != *hash {
            return Err(EngineError::Compile { hash: *hash, error: "code does not match its hash".into() });
        }
        let loaded = self.disk.as_ref().and_then(|disk| disk.load(&self.engine, hash, &self.fingerprint));
        let compiled = match loaded {
            Some(module) => self.link(*hash, &module)?,
            None => {
                let compiled = self.compile(code)?;
                if let Some(disk) = &self.disk
                    && let Err(error) = disk.store(hash, &self.fingerprint, compiled.0.module())
                {
                    tracing::warn!(%hash, %error, "cannot cache a compiled policy module on disk");
                }
                compiled
            }
        };
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(*hash, compiled.clone());
        }
        Ok(compiled)
    }

    /// Runs `module` on `request` with `fuel`: instantiate, call the entry point, read the
    /// answer. Traps, fuel exhaustion, memory past the cap and stack overflow are verdicts.
    pub fn run(
        &self,
        module: &CompiledModule,
        request: AccessRequest,
        fuel: u64,
    ) -> Result<Evaluation, EngineError> {
        let _slot = self.slots.take()?;
        let state = CallState::new(request);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state as &mut dyn ResourceLimiter);
        store.set_fuel(fuel).map_err(|e| EngineError::Config(e.to_string()))?;
        let answer = module.0.instantiate(&mut store).and_then(|instance| {
            instance.get_typed_func::<(), i32>(&mut store, ENTRY_POINT)?.call(&mut store, ())
        });
        let verdict = match answer {
            Ok(0) => ModuleVerdict::Allow,
            Ok(reason) => ModuleVerdict::Deny(reason.cast_unsigned()),
            Err(error) => fault(store.data(), &error)?,
        };
        let left = store.get_fuel().unwrap_or(0);
        Ok(Evaluation { verdict, fuel: fuel.saturating_sub(left) })
    }

    /// [`PolicyEngine::prepare`], then [`PolicyEngine::run`].
    pub fn evaluate(
        &self,
        hash: &Hash32,
        code: &[u8],
        request: AccessRequest,
        fuel: u64,
    ) -> Result<Evaluation, EngineError> {
        let module = self.prepare(hash, code)?;
        self.run(&module, request, fuel)
    }
}

/// The verdict for a call that ended in an error, or this node's failure when the error is
/// not the module's doing.
fn fault(state: &CallState, error: &wasmtime::Error) -> Result<ModuleVerdict, EngineError> {
    if let Some(failure) = &state.node_failure {
        return Err(EngineError::Run(failure.clone()));
    }
    if state.memory_refused {
        return Ok(ModuleVerdict::MemoryLimit);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Ok(ModuleVerdict::OutOfFuel),
        Some(Trap::StackOverflow) => Ok(ModuleVerdict::StackOverflow),
        Some(_) => Ok(ModuleVerdict::Trap),
        None if error.downcast_ref::<ModuleFault>().is_some() => Ok(ModuleVerdict::Trap),
        None => Err(EngineError::Run(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cache_forgets_the_least_recently_used_module() {
        let engine = PolicyEngine::new(EngineOptions { pooling: false }).unwrap();
        let code = wat::parse_str(
            r#"(module (global (export "medchain_abi_version") i32 (i32.const 1))
                 (func (export "evaluate") (result i32) (i32.const 0)))"#,
        )
        .unwrap();
        let module = engine.compile(&code).unwrap();
        let hash = |n: usize| Hash32::sha256(&n.to_le_bytes());
        let mut cache = Compiled::default();
        for n in 0..MAX_CACHED_MODULES {
            cache.insert(hash(n), module.clone());
        }
        assert!(cache.get(&hash(0)).is_some(), "module 0 is used again");
        cache.insert(hash(MAX_CACHED_MODULES), module);
        assert_eq!(cache.modules.len(), MAX_CACHED_MODULES);
        assert!(cache.get(&hash(0)).is_some(), "the recently used module stays");
        assert!(cache.get(&hash(1)).is_none(), "the least recently used one goes");
    }
}
