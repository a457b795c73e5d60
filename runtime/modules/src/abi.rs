//! The policy-module ABI, version 1: the host functions a module may import (each with its
//! fixed fuel price), the exports it must have, and how its answer reads.
//! `docs/policy-modules.md` is the reference for module authors.

/// The ABI version a module must export as the global [`ABI_VERSION_EXPORT`].
pub const ABI_VERSION: i32 = 1;

/// The import module every host function lives in.
pub const HOST_MODULE: &str = "medchain";

/// The exported immutable `i32` global holding the module's ABI version.
pub const ABI_VERSION_EXPORT: &str = "medchain_abi_version";

/// The exported entry point, `evaluate() -> i32`: 0 allows the access, any other value denies
/// it with that value as the reason code.
pub const ENTRY_POINT: &str = "evaluate";

/// The exported memory that host functions taking pointers read and write.
pub const MEMORY_EXPORT: &str = "memory";

/// A wasm value type in a host function's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// 32-bit integer (also pointers and lengths).
    I32,
    /// 64-bit integer.
    I64,
}

/// A host function a module may import from [`HOST_MODULE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFunction {
    /// Its import name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [Ty],
    /// Result types.
    pub results: &'static [Ty],
    /// Fuel charged for each call, before it does anything.
    pub fuel: u64,
    /// Fuel charged per byte it reads or writes on top of [`HostFunction::fuel`].
    pub fuel_per_byte: u64,
    /// Whether it takes pointers into the module's exported memory.
    pub uses_memory: bool,
}

const fn getter(name: &'static str, result: Ty) -> HostFunction {
    let results: &'static [Ty] = match result {
        Ty::I32 => &[Ty::I32],
        Ty::I64 => &[Ty::I64],
    };
    HostFunction { name, params: &[], results, fuel: GETTER_FUEL, fuel_per_byte: 0, uses_memory: false }
}

/// Fuel every module call costs before anything runs: finding the code, building the request
/// (role lookups included), taking an instance. A check without it left ends out of fuel.
pub const MODULE_CALL_FUEL: u64 = 5_000;

/// Fuel a module call costs per byte of the module's code besides [`MODULE_CALL_FUEL`]: the
/// price of compiling it, charged on every call whether or not this node has it compiled, so
/// the fuel a check burns is the same on every node.
pub const MODULE_CODE_FUEL_PER_BYTE: u64 = 4;

/// The fuel a call to a module of `code_len` bytes costs before it runs.
pub fn module_call_fuel(code_len: usize) -> u64 {
    let bytes = u64::try_from(code_len).unwrap_or(u64::MAX);
    MODULE_CALL_FUEL.saturating_add(bytes.saturating_mul(MODULE_CODE_FUEL_PER_BYTE))
}

/// Fuel for a call that reads one number of the request.
pub const GETTER_FUEL: u64 = 10;

/// Fuel for a signature verification (a bare ECDSA verification costs about as much as
/// 50,000 simple wasm instructions).
pub const VERIFY_SIGNATURE_FUEL: u64 = 50_000;

/// Fuel for a role lookup.
pub const ROLE_HELD_FUEL: u64 = 100;

/// Every host function of ABI version 1, by name.
pub const HOST_FUNCTIONS: &[HostFunction] = &[
    getter("height", Ty::I64),
    getter("block_time", Ty::I64),
    getter("purpose", Ty::I64),
    getter("has_deposit", Ty::I32),
    getter("is_emergency", Ty::I32),
    getter("record_count", Ty::I32),
    getter("role_count", Ty::I32),
    getter("arg_count", Ty::I32),
    HostFunction {
        name: "grantee",
        params: &[Ty::I32],
        results: &[Ty::I32],
        fuel: 50,
        fuel_per_byte: 0,
        uses_memory: true,
    },
    HostFunction {
        name: "record",
        params: &[Ty::I32, Ty::I32],
        results: &[Ty::I32],
        fuel: 50,
        fuel_per_byte: 0,
        uses_memory: true,
    },
    HostFunction {
        name: "role",
        params: &[Ty::I32],
        results: &[Ty::I64],
        fuel: GETTER_FUEL,
        fuel_per_byte: 0,
        uses_memory: false,
    },
    HostFunction {
        name: "arg_len",
        params: &[Ty::I32],
        results: &[Ty::I32],
        fuel: GETTER_FUEL,
        fuel_per_byte: 0,
        uses_memory: false,
    },
    HostFunction {
        name: "arg_read",
        params: &[Ty::I32, Ty::I32],
        results: &[Ty::I32],
        fuel: 50,
        fuel_per_byte: 1,
        uses_memory: true,
    },
    HostFunction {
        name: "arg_number",
        params: &[Ty::I32],
        results: &[Ty::I64],
        fuel: 20,
        fuel_per_byte: 0,
        uses_memory: false,
    },
    HostFunction {
        name: "sha256",
        params: &[Ty::I32, Ty::I32, Ty::I32],
        results: &[],
        fuel: 500,
        fuel_per_byte: 4,
        uses_memory: true,
    },
    HostFunction {
        name: "verify_signature",
        params: &[Ty::I32, Ty::I32, Ty::I32, Ty::I32],
        results: &[Ty::I32],
        fuel: VERIFY_SIGNATURE_FUEL,
        fuel_per_byte: 0,
        uses_memory: true,
    },
    HostFunction {
        name: "role_held",
        params: &[Ty::I32, Ty::I64],
        results: &[Ty::I32],
        fuel: ROLE_HELD_FUEL,
        fuel_per_byte: 0,
        uses_memory: true,
    },
];

/// The host function with this import name.
pub fn host_function(name: &str) -> Option<&'static HostFunction> {
    HOST_FUNCTIONS.iter().find(|f| f.name == name)
}

/// What [`HostFunction`] `arg_number` answers for an argument that is not a script number of
/// at most 8 bytes (no script number decodes to it).
pub const NOT_A_NUMBER: i64 = i64::MIN;
