//! Admission of a policy module's code before a deployment is accepted: size, validity under
//! the allowed wasm features, imports only from the host ABI with the right signatures, the ABI
//! version and entry point exported, and bounded memory, tables, functions, locals and globals.
//! Each refusal is its own error with a stable code.

use wasmparser::{CompositeInnerType, FuncType, Operator, Parser, Payload, ValType, Validator, WasmFeatures};

use wasmparser::types::{EntityType, TypesRef};

use super::abi::{
    ABI_VERSION, ABI_VERSION_EXPORT, ENTRY_POINT, HOST_MODULE, MEMORY_EXPORT, Ty, host_function,
};

/// Largest module, in bytes.
pub const MAX_MODULE_SIZE: usize = 64 * 1024;

/// Wasm page size, in bytes.
pub const PAGE_SIZE: u64 = 64 * 1024;

/// Most linear memory a module may have, in pages (initially here; at run time the store's
/// limiter refuses growth past it).
pub const MAX_MEMORY_PAGES: u64 = 16;

/// Most memory a call may have, in bytes; growing past it is a deny.
pub const MAX_MEMORY_BYTES: u64 = MAX_MEMORY_PAGES * PAGE_SIZE;

/// Most functions a module may define.
pub const MAX_FUNCTIONS: u32 = 1_000;

/// Most locals one function may declare (parameters not counted).
pub const MAX_LOCALS: u64 = 1_000;

/// Most globals a module may define.
pub const MAX_GLOBALS: u32 = 100;

/// Most elements a table may have (one table at most: more need reference types).
pub const MAX_TABLE_ELEMENTS: u64 = 1_000;

/// The wasm features a module may use: the MVP with floats, and the small settled proposals
/// (mutable globals, sign extension, saturating conversions, multi-value, bulk memory). No
/// threads, SIMD, multi-memory, memory64, reference types, GC, exceptions, tail calls or
/// stack switching.
pub const ALLOWED_FEATURES: WasmFeatures = WasmFeatures::MUTABLE_GLOBAL
    .union(WasmFeatures::SATURATING_FLOAT_TO_INT)
    .union(WasmFeatures::SIGN_EXTENSION)
    .union(WasmFeatures::MULTI_VALUE)
    .union(WasmFeatures::BULK_MEMORY)
    .union(WasmFeatures::FLOATS);

/// Why a module was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// Over [`MAX_MODULE_SIZE`].
    #[error("module is {0} bytes, more than {MAX_MODULE_SIZE}")]
    TooLarge(usize),
    /// Not valid wasm, or uses a feature outside [`ALLOWED_FEATURES`].
    #[error("module does not validate: {0}")]
    Invalid(String),
    /// Imports something that is not a host function of the ABI.
    #[error("module imports `{module}.{name}`, which is not a host function of ABI version {ABI_VERSION}")]
    ForbiddenImport {
        /// The import's module.
        module: String,
        /// The import's name.
        name: String,
    },
    /// Imports a host function with the wrong signature.
    #[error("module imports `{HOST_MODULE}.{0}` with the wrong signature")]
    ImportSignature(String),
    /// Does not export the ABI version global.
    #[error("module exports no immutable i32 global `{ABI_VERSION_EXPORT}`")]
    MissingAbiVersion,
    /// Exports another ABI version.
    #[error("module is for ABI version {0}; this node runs version {ABI_VERSION}")]
    WrongAbiVersion(i64),
    /// Does not export the entry point with its signature.
    #[error("module exports no function `{ENTRY_POINT}` of type () -> i32")]
    MissingEntryPoint,
    /// Imports a host function that takes pointers but exports no memory.
    #[error("module imports `{HOST_MODULE}.{0}`, which takes pointers, but exports no `{MEMORY_EXPORT}`")]
    NoMemory(String),
    /// Has a start function (only the entry point may run).
    #[error("module has a start function; only `{ENTRY_POINT}` may run")]
    StartFunction,
    /// Memory over [`MAX_MEMORY_PAGES`].
    #[error("module wants {0} pages of memory, more than {MAX_MEMORY_PAGES}")]
    MemoryTooLarge(u64),
    /// More than [`MAX_FUNCTIONS`].
    #[error("module defines {0} functions, more than {MAX_FUNCTIONS}")]
    TooManyFunctions(u32),
    /// A function with more than [`MAX_LOCALS`].
    #[error("a function of the module declares {0} locals, more than {MAX_LOCALS}")]
    TooManyLocals(u64),
    /// More than [`MAX_GLOBALS`].
    #[error("module defines {0} globals, more than {MAX_GLOBALS}")]
    TooManyGlobals(u32),
    /// A table over [`MAX_TABLE_ELEMENTS`].
    #[error("a table of the module has {0} elements, more than {MAX_TABLE_ELEMENTS}")]
    TableTooLarge(u64),
}

impl AdmissionError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            AdmissionError::TooLarge(_) => "MODULE_TOO_LARGE",
            AdmissionError::Invalid(_) => "MODULE_INVALID",
            AdmissionError::ForbiddenImport { .. } => "MODULE_FORBIDDEN_IMPORT",
            AdmissionError::ImportSignature(_) => "MODULE_IMPORT_SIGNATURE",
            AdmissionError::MissingAbiVersion => "MODULE_NO_ABI_VERSION",
            AdmissionError::WrongAbiVersion(_) => "MODULE_WRONG_ABI_VERSION",
            AdmissionError::MissingEntryPoint => "MODULE_NO_ENTRY_POINT",
            AdmissionError::NoMemory(_) => "MODULE_NO_MEMORY",
            AdmissionError::StartFunction => "MODULE_START_FUNCTION",
            AdmissionError::MemoryTooLarge(_) => "MODULE_MEMORY_TOO_LARGE",
            AdmissionError::TooManyFunctions(_) => "MODULE_TOO_MANY_FUNCTIONS",
            AdmissionError::TooManyLocals(_) => "MODULE_TOO_MANY_LOCALS",
            AdmissionError::TooManyGlobals(_) => "MODULE_TOO_MANY_GLOBALS",
            AdmissionError::TableTooLarge(_) => "MODULE_TABLE_TOO_LARGE",
        }
    }
}

/// Checks a module's code against every admission rule; the first broken rule is the answer.
pub fn admit(code: &[u8]) -> Result<(), AdmissionError> {
    if code.len() > MAX_MODULE_SIZE {
        return Err(AdmissionError::TooLarge(code.len()));
    }
    let types = Validator::new_with_features(ALLOWED_FEATURES)
        .validate_all(code)
        .map_err(|e| AdmissionError::Invalid(e.message().to_owned()))?;
    let types = types.as_ref();
    check_counts(&types)?;
    let exports_memory = check_exports(&types)?;
    check_imports(&types, exports_memory)?;
    check_sections(code)
}

fn check_counts(types: &TypesRef<'_>) -> Result<(), AdmissionError> {
    let imported = types.core_imports().into_iter().flatten().count();
    let defined = types.function_count().saturating_sub(u32::try_from(imported).unwrap_or(u32::MAX));
    if defined > MAX_FUNCTIONS {
        return Err(AdmissionError::TooManyFunctions(defined));
    }
    if types.global_count() > MAX_GLOBALS {
        return Err(AdmissionError::TooManyGlobals(types.global_count()));
    }
    for index in 0..types.table_count() {
        let table = types.table_at(index);
        let elements = table.maximum.unwrap_or(table.initial).max(table.initial);
        if elements > MAX_TABLE_ELEMENTS {
            return Err(AdmissionError::TableTooLarge(elements));
        }
    }
    for index in 0..types.memory_count() {
        let initial = types.memory_at(index).initial;
        if initial > MAX_MEMORY_PAGES {
            return Err(AdmissionError::MemoryTooLarge(initial));
        }
    }
    Ok(())
}

fn func_type<'t>(types: &'t TypesRef<'_>, entity: EntityType) -> Option<&'t FuncType> {
    match entity {
        EntityType::Func(id) | EntityType::FuncExact(id) => match &types.get(id)?.composite_type.inner {
            CompositeInnerType::Func(f) => Some(f),
            _ => None,
        },
        _ => None,
    }
}

/// Checks the entry point and ABI version exports; returns whether memory is exported.
fn check_exports(types: &TypesRef<'_>) -> Result<bool, AdmissionError> {
    let exports: Vec<(&str, EntityType)> = types.core_exports().into_iter().flatten().collect();
    let find = |name: &str| exports.iter().find(|(n, _)| *n == name).map(|(_, e)| *e);
    let entry = find(ENTRY_POINT).and_then(|e| func_type(types, e));
    if !entry.is_some_and(|f| f.params().is_empty() && f.results() == [ValType::I32]) {
        return Err(AdmissionError::MissingEntryPoint);
    }
    match find(ABI_VERSION_EXPORT) {
        Some(EntityType::Global(g)) if g.content_type == ValType::I32 && !g.mutable => {}
        _ => return Err(AdmissionError::MissingAbiVersion),
    }
    Ok(matches!(find(MEMORY_EXPORT), Some(EntityType::Memory(_))))
}

fn check_imports(types: &TypesRef<'_>, exports_memory: bool) -> Result<(), AdmissionError> {
    for (module, name, entity) in types.core_imports().into_iter().flatten() {
        let function = (module == HOST_MODULE).then(|| host_function(name)).flatten();
        let (Some(function), Some(ty)) = (function, func_type(types, entity)) else {
            return Err(AdmissionError::ForbiddenImport { module: module.to_owned(), name: name.to_owned() });
        };
        let wasm = |tys: &[Ty]| -> Vec<ValType> {
            tys.iter().map(|t| if *t == Ty::I32 { ValType::I32 } else { ValType::I64 }).collect()
        };
        if ty.params() != wasm(function.params) || ty.results() != wasm(function.results) {
            return Err(AdmissionError::ImportSignature(name.to_owned()));
        }
        if function.uses_memory && !exports_memory {
            return Err(AdmissionError::NoMemory(name.to_owned()));
        }
    }
    Ok(())
}

/// What the validator's types do not say: the start function, each function's locals and
/// the ABI version global's value.
fn check_sections(code: &[u8]) -> Result<(), AdmissionError> {
    let invalid = |e: wasmparser::BinaryReaderError| AdmissionError::Invalid(e.message().to_owned());
    let mut globals: Vec<Option<i64>> = Vec::new();
    let mut abi_global = None;
    for payload in Parser::new(0).parse_all(code) {
        match payload.map_err(invalid)? {
            Payload::StartSection { .. } => return Err(AdmissionError::StartFunction),
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global.map_err(invalid)?;
                    let mut ops = global.init_expr.get_operators_reader();
                    let value = match ops.read().map_err(invalid)? {
                        Operator::I32Const { value } => Some(i64::from(value)),
                        _ => None,
                    };
                    globals.push(value);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    if export.name == ABI_VERSION_EXPORT {
                        abi_global = Some(export.index);
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut locals: u64 = 0;
                for group in body.get_locals_reader().map_err(invalid)? {
                    let (count, _) = group.map_err(invalid)?;
                    locals = locals.saturating_add(u64::from(count));
                }
                if locals > MAX_LOCALS {
                    return Err(AdmissionError::TooManyLocals(locals));
                }
            }
            _ => {}
        }
    }
    // Imports are functions only, so global indices are the module's own.
    let version = abi_global
        .and_then(|index| usize::try_from(index).ok())
        .and_then(|index| globals.get(index).copied().flatten())
        .ok_or(AdmissionError::MissingAbiVersion)?;
    if version != i64::from(ABI_VERSION) {
        return Err(AdmissionError::WrongAbiVersion(version));
    }
    Ok(())
}
