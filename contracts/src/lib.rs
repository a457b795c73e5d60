//! MedChain's standard policy library: the MedScript sources of the standard access policies,
//! embedded so tools and the node can compile them without the files, and the WAT sources of
//! the standard (and, for tests, hostile) wasm policy modules.

#![forbid(unsafe_code)]

pub mod modules;

use medchain_compiler::medscript::model::CheckedPolicy;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::{Diagnostic, check, parse};

/// A standard policy.
#[derive(Debug, Clone, Copy)]
pub struct StandardPolicy {
    /// Its name (the file name without `.med`).
    pub name: &'static str,
    /// Its MedScript source.
    pub source: &'static str,
}

macro_rules! policies {
    ($($name:literal),* $(,)?) => {
        /// Every standard policy, by name.
        pub const STANDARD_POLICIES: &[StandardPolicy] = &[
            $( StandardPolicy { name: $name, source: include_str!(concat!("../policies/", $name, ".med")) }, )*
        ];
    };
}

policies![
    "pay_to_key",
    "multisig",
    "consent",
    "delegated_consent",
    "time_limited_consent",
    "emergency_override",
    "key_deposit",
    "research_consent",
    "approved_research",
    "vault_emergency",
];

/// The standard policy with this name.
pub fn standard(name: &str) -> Option<&'static StandardPolicy> {
    STANDARD_POLICIES.iter().find(|p| p.name == name)
}

impl StandardPolicy {
    /// Parses and checks the policy against a role registry.
    pub fn checked(&self, roles: &RoleRegistry) -> Result<CheckedPolicy, Vec<Diagnostic>> {
        let ast = parse(self.source)?;
        let (checked, diagnostics) = check(&ast, roles);
        checked.ok_or(diagnostics)
    }
}
