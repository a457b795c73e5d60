//! Policy modules in WAT: the standard ones a policy calls with `module(hash, args…)`, and
//! hostile ones that tests deploy to show a node survives them.

/// A policy module's WAT source.
#[derive(Debug, Clone, Copy)]
pub struct ModuleSource {
    /// Its name (the file name without `.wat`).
    pub name: &'static str,
    /// Its WAT text.
    pub wat: &'static str,
}

impl ModuleSource {
    /// The module's wasm bytes.
    pub fn wasm(&self) -> Result<Vec<u8>, wat::Error> {
        wat::parse_str(self.wat)
    }
}

macro_rules! modules {
    ($doc:literal, $list:ident, $dir:literal, [$($name:literal),* $(,)?]) => {
        #[doc = $doc]
        pub const $list: &[ModuleSource] = &[
            $( ModuleSource { name: $name, wat: include_str!(concat!("../modules/", $dir, $name, ".wat")) }, )*
        ];
    };
}

modules!(
    "The standard policy modules, by name.",
    STANDARD_MODULES,
    "",
    ["research_purpose", "institution_hours"]
);

modules!(
    "Hostile modules for tests: each must end in a deny or a refused deployment, never a crash.",
    HOSTILE_MODULES,
    "hostile/",
    ["infinite_loop", "memory_bomb", "deep_recursion", "float_heavy", "forbidden_import", "wrong_abi"]
);

/// The standard or hostile module with this name.
pub fn module(name: &str) -> Option<&'static ModuleSource> {
    STANDARD_MODULES.iter().chain(HOSTILE_MODULES).find(|m| m.name == name)
}

/// A valid module of ABI version 1 that always allows, padded with a passive data segment to
/// about `size` bytes: too large to deploy once `size` passes the node's module size limit.
pub fn huge_module(size: usize) -> Result<Vec<u8>, wat::Error> {
    let padding = "\\00".repeat(size);
    wat::parse_str(format!(
        r#"(module
             (global (export "medchain_abi_version") i32 (i32.const 1))
             (data "{padding}")
             (func (export "evaluate") (result i32) (i32.const 0)))"#
    ))
}
