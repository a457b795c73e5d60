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

    /// CHECKROLEVERIFY: whether `pubkey` holds `role` in chain state at the transaction's
    /// height. A host without chain state answers no.
    fn check_role(&self, _pubkey: &[u8], _role: i64) -> bool {
        false
    }

    /// CHECKDEPOSITVERIFY: whether the transaction carries a key deposit addressed to `pubkey`.
    fn check_key_deposit(&self, _pubkey: &[u8]) -> bool {
        false
    }

    /// CHECKEMERGENCYVERIFY: whether the transaction is an emergency access with a
    /// justification whose access expires at most `max_blocks` after its height.
    fn check_emergency(&self, _max_blocks: i64) -> EmergencyCheck {
        EmergencyCheck::NotEmergency
    }

    /// CHECKEXPIRYVERIFY: whether the transaction's access expires at or before `bound`, both
    /// heights or both times (as lock times are compared).
    fn check_expiry(&self, _bound: i64) -> bool {
        false
    }

    /// CALLMODULEVERIFY: runs the wasm policy module with this hash on `args` (bottom first).
    fn call_module(&self, _module_hash: &[u8], _args: &[Vec<u8>]) -> ModuleVerdict {
        ModuleVerdict::Unavailable
    }
}

/// The answer to an emergency check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmergencyCheck {
    /// An emergency access with a justification, expiring within the bound.
    Granted,
    /// Not marked as an emergency access, or without a justification.
    NotEmergency,
    /// An emergency access whose expiry lies beyond the policy's bound.
    ExpiryTooFar,
}

/// What a policy module decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleVerdict {
    /// Access allowed: the script goes on.
    Allow,
    /// Access denied, with the module's reason code.
    Deny(u32),
    /// The module ran out of the fuel the transaction pays for.
    OutOfFuel,
    /// The module grew its memory past the cap.
    MemoryLimit,
    /// The module overflowed the wasm stack.
    StackOverflow,
    /// The module trapped (unreachable, bad memory access, a host call it used wrongly…).
    Trap,
    /// No module with this hash is deployed.
    NotFound,
    /// The host cannot run policy modules.
    Unavailable,
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
