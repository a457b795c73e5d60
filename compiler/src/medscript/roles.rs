//! The role registry: role names and the numbers scripts use for them. The chain's genesis
//! file names the roles; [`RoleRegistry::standard`] holds the ones MedChain ships with.

use std::collections::BTreeMap;

/// Role names and their numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRegistry {
    roles: BTreeMap<String, u32>,
}

impl RoleRegistry {
    /// The standard roles: medical institution, research, insurer, information platform.
    pub fn standard() -> Self {
        Self::from_pairs([
            ("medical_institution", 1),
            ("research", 2),
            ("insurer", 3),
            ("information_platform", 4),
            ("auditor", 5),
        ])
    }

    /// A registry from (name, number) pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        Self { roles: pairs.into_iter().map(|(name, id)| (name.to_owned(), id)).collect() }
    }

    /// The number of a role.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.roles.get(name).copied()
    }

    /// The name of a role number.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.roles.iter().find(|(_, i)| **i == id).map(|(name, _)| name.as_str())
    }

    /// Every role name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }
}

impl Default for RoleRegistry {
    fn default() -> Self {
        Self::standard()
    }
}
