//! The host trait: everything the VM needs to know about the transaction being validated.

/// What the interpreter asks of the chain. Core's interpreter checks encodings, counts and
/// lock-time signs itself; the host answers the questions that need the transaction.
pub trait Host {
    /// Whether `sig` (DER signature plus a trailing hash-type byte) is a valid signature by
    /// `pubkey` over this transaction's digest for the given script code (the executing script
    /// from after its last executed CODESEPARATOR, with the signature already removed).
    fn check_signature(&self, sig: &[u8], pubkey: &[u8], script_code: &[u8]) -> bool;

    /// Whether the transaction's lock time satisfies CHECKLOCKTIMEVERIFY's non-negative operand.
    fn check_lock_time(&self, lock_time: i64) -> bool;

    /// Whether this input's sequence satisfies CHECKSEQUENCEVERIFY's non-negative operand
    /// (whose disable bit is clear).
    fn check_sequence(&self, sequence: i64) -> bool;
}

/// A host with no transaction: every signature, lock time and sequence check fails.
/// Useful for evaluating scripts that check no signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTransaction;

impl Host for NoTransaction {
    fn check_signature(&self, _sig: &[u8], _pubkey: &[u8], _script_code: &[u8]) -> bool {
        false
    }
    fn check_lock_time(&self, _lock_time: i64) -> bool {
        false
    }
    fn check_sequence(&self, _sequence: i64) -> bool {
        false
    }
}
