//! The access request a policy module sees: who asks, for which records and why, at which
//! height and block time, and the arguments the calling script passed.

use medchain_primitives::{Hash32, PubKey};

/// Everything a module may read about the access being validated. Owned, so a call needs
/// no borrow of chain state: roles are looked up before the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRequest {
    /// Who gets access (the grantee, or an emergency access's requester); `None` when the
    /// module is called from a token input's script.
    pub grantee: Option<PubKey>,
    /// The records the access asks for, in transaction order.
    pub records: Vec<Hash32>,
    /// The purpose-of-use code of a grant (0 for other transactions).
    pub purpose: u32,
    /// The height the transaction is validated at.
    pub height: u32,
    /// The block's time (Unix seconds); in the mempool, the time of the block being built.
    pub time: u64,
    /// Whether the access carries a key deposit for the record whose policy is running.
    pub deposit: bool,
    /// Whether this is an emergency access.
    pub emergency: bool,
    /// The arguments the script passed, bottom of the stack first.
    pub args: Vec<Vec<u8>>,
    /// The roles (ascending) held by the keys a module may ask about: the grantee and every
    /// argument that is a public key.
    pub key_roles: Vec<(PubKey, Vec<u32>)>,
}

impl AccessRequest {
    /// The roles `key` holds, if it is a key the request knows.
    pub fn roles_of(&self, key: &[u8]) -> Option<&[u32]> {
        self.key_roles.iter().find(|(k, _)| k.0.as_slice() == key).map(|(_, roles)| roles.as_slice())
    }

    /// The roles the grantee holds, ascending.
    pub fn grantee_roles(&self) -> &[u32] {
        self.grantee.and_then(|g| self.roles_of(&g.0)).unwrap_or_default()
    }

    /// The arguments that are public keys (33 bytes that parse as a point).
    pub fn key_args(&self) -> impl Iterator<Item = PubKey> + '_ {
        self.args.iter().filter_map(|arg| <[u8; 33]>::try_from(arg.as_slice()).ok().and_then(PubKey::parse))
    }
}
