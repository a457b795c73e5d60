//! The chain's limits, each a named constant with its own error where it is enforced.

/// Largest encoded transaction, in bytes.
pub const MAX_TX_SIZE: usize = 100_000;

/// Most token inputs or outputs in one transaction.
pub const MAX_TX_IO: usize = 1_000;

/// Largest locking or unlocking script (the VM's limit).
pub const MAX_SCRIPT_SIZE: usize = medchain_vm::limits::MAX_SCRIPT_SIZE;

/// Most records one access may ask for.
pub const MAX_RECORDS_PER_ACCESS: usize = 64;

/// A record key's size, in bytes.
pub const RECORD_KEY_SIZE: usize = 32;

/// The salt of a release's commitment, `SHA-256(salt ‖ record)`, in bytes.
pub const SALT_SIZE: usize = 32;

/// What a reader needs, in bytes: the record key and its release's salt, to decrypt the record
/// and check it is the one released. A key deposit seals exactly this.
pub const RECORD_SECRET_SIZE: usize = RECORD_KEY_SIZE + SALT_SIZE;

/// A record secret's emergency share, in bytes: the threshold, the share's index, and one byte
/// per byte of the secret.
pub const KEY_SHARE_SIZE: usize = 2 + RECORD_SECRET_SIZE;

/// Largest key-deposit or share envelope.
pub const MAX_ENVELOPE_SIZE: usize = 512;

/// Longest emergency justification, in bytes of UTF-8.
pub const MAX_JUSTIFICATION: usize = 2_000;

/// Fewest shares that may recover a record's key in an emergency: no single holder reads alone.
pub const MIN_EMERGENCY_THRESHOLD: u8 = 2;

/// Most emergency key shares a record may have.
pub const MAX_EMERGENCY_SHARES: usize = 16;

/// Largest encoded block, in bytes.
pub const MAX_BLOCK_SIZE: usize = 4_000_000;

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 20_000;

/// Most script checks (inputs and record accesses, each one script run under the VM's limits)
/// in one block: the signature and script work a block may ask of every node.
pub const MAX_BLOCK_SCRIPT_CHECKS: usize = 40_000;

/// Most policy-module fuel one block may declare, over all its transactions' script checks:
/// ten transactions' worth of [`MAX_FUEL`] in two checks each.
pub const MAX_BLOCK_FUEL: u64 = 200_000_000;

/// All tokens that can ever exist, in the smallest unit.
pub const MAX_MONEY: u64 = 21_000_000 * 100_000_000;

/// Blocks whose median time a new block's time must exceed.
pub const MEDIAN_TIME_SPAN: usize = 11;

/// Furthest a block's time may be past the median of the last [`MEDIAN_TIME_SPAN`] blocks, in
/// seconds (seven days): no block can carry a time so far ahead that time locks are skipped or
/// time arithmetic runs out of range. A chain that stood still for longer catches up over a few
/// blocks.
pub const MAX_TIME_AFTER_MEDIAN: u64 = 7 * 24 * 3600;

/// Blocks before a coinbase output may be spent.
pub const COINBASE_MATURITY: u32 = 10;

/// Most fuel a transaction may declare for each of its script checks.
pub const MAX_FUEL: u64 = 10_000_000;

/// Fuel one unit of fee pays for.
pub const FUEL_PER_FEE_UNIT: u64 = 1_000;

/// Least fee per 1,000 bytes of a transaction's encoding (consensus): storing a transaction on
/// every node for good is never free.
pub const MIN_FEE_PER_KB: u64 = 100;

/// Least fee per 1,000 bytes a node relays and mines (relay policy, not consensus: a node may
/// ask more than [`MIN_FEE_PER_KB`]). Wallets pay at least this.
pub const MIN_RELAY_FEE_PER_KB: u64 = 200;

/// The least fee for `size` bytes at `per_kb` per 1,000 bytes, rounded up.
pub fn size_fee(size: usize, per_kb: u64) -> u64 {
    u64::try_from(size).unwrap_or(u64::MAX).saturating_mul(per_kb).div_ceil(1_000)
}

/// The fee a transaction must pay at least for `fuel` in each of `checks` script checks:
/// every check may burn the whole budget, so all of it is paid for up front.
pub fn fuel_fee(fuel: u64, checks: usize) -> u64 {
    let checks = u64::try_from(checks).unwrap_or(u64::MAX);
    fuel.saturating_mul(checks).div_ceil(FUEL_PER_FEE_UNIT)
}
