//! Consensus limits of the script language, each a named constant.

/// Largest script, in bytes, that may be evaluated (`SCRIPT_SIZE`).
pub const MAX_SCRIPT_SIZE: usize = 10_000;

/// Largest element, in bytes, that may be pushed onto the stack (`PUSH_SIZE`).
pub const MAX_SCRIPT_ELEMENT_SIZE: usize = 520;

/// Most non-push opcodes a single script may contain (`OP_COUNT`).
pub const MAX_OPS_PER_SCRIPT: usize = 201;

/// Most items the main and alt stacks may hold together (`STACK_SIZE`).
pub const MAX_STACK_SIZE: usize = 1_000;

/// Most public keys a CHECKMULTISIG may name (`PUBKEY_COUNT`).
pub const MAX_PUBKEYS_PER_MULTISIG: usize = 20;

/// Longest operand, in bytes, of arithmetic opcodes.
pub const MAX_NUM_SIZE: usize = 4;

/// Longest operand, in bytes, of CHECKLOCKTIMEVERIFY and CHECKSEQUENCEVERIFY.
pub const MAX_LOCKTIME_NUM_SIZE: usize = 5;

/// Lock times below this are block heights, at or above it Unix times.
pub const LOCKTIME_THRESHOLD: i64 = 500_000_000;

/// Input sequence number that marks the input final (disables CHECKLOCKTIMEVERIFY).
pub const SEQUENCE_FINAL: u32 = 0xffff_ffff;

/// Sequence bit that disables relative lock time (BIP 68).
pub const SEQUENCE_LOCKTIME_DISABLE_FLAG: i64 = 1 << 31;

/// Sequence bit that makes a relative lock time count time instead of blocks (BIP 68).
pub const SEQUENCE_LOCKTIME_TYPE_FLAG: i64 = 1 << 22;

/// Sequence bits that hold the relative lock time value (BIP 68).
pub const SEQUENCE_LOCKTIME_MASK: i64 = 0x0000_ffff;

/// Most arguments a script may pass to a wasm policy module (`MODULE_ARG_COUNT`).
pub const MAX_MODULE_ARGS: usize = 16;

/// Length of a policy module's hash (SHA-256 of its bytes).
pub const MODULE_HASH_SIZE: usize = 32;
