//! Every admission rule as a case: a module's name, its code, and the code admission answers
//! (`ADMITTED` when it passes). Shared by the engine's tests and the running node's.

use medchain_contracts::modules::{huge_module, module};
use medchain_modules::admission::MAX_MODULE_SIZE;

/// A standard or hostile module's wasm.
pub fn wasm(name: &str) -> Vec<u8> {
    module(name).and_then(|m| m.wasm().ok()).unwrap_or_else(|| panic!("module {name}"))
}

/// Wasm from WAT text.
pub fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

/// A module of ABI version 1 with `body` spliced into it.
pub fn abi_module(body: &str) -> Vec<u8> {
    wat(&format!(
        r#"(module (global (export "medchain_abi_version") i32 (i32.const 1))
             {body}
             (func (export "evaluate") (result i32) (i32.const 0)))"#
    ))
}

/// (what, code, expected answer) for every admission rule, passing and refused.
pub fn admission_cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        ("research_purpose", wasm("research_purpose"), "ADMITTED"),
        ("institution_hours", wasm("institution_hours"), "ADMITTED"),
        ("infinite loop (runs, then runs out of fuel)", wasm("infinite_loop"), "ADMITTED"),
        ("memory bomb", wasm("memory_bomb"), "ADMITTED"),
        ("deep recursion", wasm("deep_recursion"), "ADMITTED"),
        ("float heavy", wasm("float_heavy"), "ADMITTED"),
        ("forbidden import", wasm("forbidden_import"), "MODULE_FORBIDDEN_IMPORT"),
        ("wrong ABI", wasm("wrong_abi"), "MODULE_NO_ENTRY_POINT"),
        ("huge", huge_module(MAX_MODULE_SIZE).unwrap_or_default(), "MODULE_TOO_LARGE"),
        ("just under the size limit", huge_module(MAX_MODULE_SIZE - 200).unwrap_or_default(), "ADMITTED"),
        ("not wasm", b"\0asm\x01\0\0\0garbage".to_vec(), "MODULE_INVALID"),
        ("empty", Vec::new(), "MODULE_INVALID"),
        (
            "SIMD",
            abi_module("(func (result i32) (i32x4.extract_lane 0 (v128.const i32x4 0 0 0 0)))"),
            "MODULE_INVALID",
        ),
        ("threads (shared memory)", abi_module("(memory 1 1 shared)"), "MODULE_INVALID"),
        ("multi-memory", abi_module("(memory 1) (memory 1)"), "MODULE_INVALID"),
        ("memory64", abi_module("(memory i64 1)"), "MODULE_INVALID"),
        ("tail calls", abi_module("(func $f (return_call $f))"), "MODULE_INVALID"),
        ("reference types", abi_module("(func (drop (ref.null extern)))"), "MODULE_INVALID"),
        (
            "imported memory",
            wat(r#"(module (import "medchain" "memory" (memory 1))
                     (global (export "medchain_abi_version") i32 (i32.const 1))
                     (func (export "evaluate") (result i32) (i32.const 0)))"#),
            "MODULE_FORBIDDEN_IMPORT",
        ),
        (
            "unknown host function",
            wat(r#"(module (import "medchain" "random" (func (result i64)))
                     (global (export "medchain_abi_version") i32 (i32.const 1))
                     (func (export "evaluate") (result i32) (i32.const 0)))"#),
            "MODULE_FORBIDDEN_IMPORT",
        ),
        (
            "host function with the wrong signature",
            wat(r#"(module (import "medchain" "height" (func (result i32)))
                     (global (export "medchain_abi_version") i32 (i32.const 1))
                     (func (export "evaluate") (result i32) (i32.const 0)))"#),
            "MODULE_IMPORT_SIGNATURE",
        ),
        (
            "pointer-taking host function without memory",
            wat(r#"(module (import "medchain" "grantee" (func (param i32) (result i32)))
                     (global (export "medchain_abi_version") i32 (i32.const 1))
                     (func (export "evaluate") (result i32) (i32.const 0)))"#),
            "MODULE_NO_MEMORY",
        ),
        (
            "no ABI version",
            wat(r#"(module (func (export "evaluate") (result i32) (i32.const 0)))"#),
            "MODULE_NO_ABI_VERSION",
        ),
        (
            "mutable ABI version",
            wat(r#"(module (global (export "medchain_abi_version") (mut i32) (i32.const 1))
                     (func (export "evaluate") (result i32) (i32.const 0)))"#),
            "MODULE_NO_ABI_VERSION",
        ),
        (
            "ABI version 2",
            wat(r#"(module (global (export "medchain_abi_version") i32 (i32.const 2))
                     (func (export "evaluate") (result i32) (i32.const 0)))"#),
            "MODULE_WRONG_ABI_VERSION",
        ),
        (
            "no entry point",
            wat(r#"(module (global (export "medchain_abi_version") i32 (i32.const 1)))"#),
            "MODULE_NO_ENTRY_POINT",
        ),
        ("start function", abi_module("(func $s) (start $s)"), "MODULE_START_FUNCTION"),
        ("memory of 17 pages", abi_module("(memory 17)"), "MODULE_MEMORY_TOO_LARGE"),
        ("memory of 16 pages", abi_module("(memory 16)"), "ADMITTED"),
        ("table of 1001 elements", abi_module("(table 1001 funcref)"), "MODULE_TABLE_TOO_LARGE"),
        ("table of 1000 elements", abi_module("(table 1000 funcref)"), "ADMITTED"),
        ("1000 functions", abi_module(&"(func)".repeat(999)), "ADMITTED"),
        ("1001 functions", abi_module(&"(func)".repeat(1000)), "MODULE_TOO_MANY_FUNCTIONS"),
        ("1000 locals", abi_module(&format!("(func {})", "(local i32)".repeat(1000))), "ADMITTED"),
        (
            "1001 locals",
            abi_module(&format!("(func {})", "(local i64)".repeat(1001))),
            "MODULE_TOO_MANY_LOCALS",
        ),
        ("100 globals", abi_module(&"(global i32 (i32.const 0))".repeat(99)), "ADMITTED"),
        ("101 globals", abi_module(&"(global i32 (i32.const 0))".repeat(100)), "MODULE_TOO_MANY_GLOBALS"),
    ]
}
