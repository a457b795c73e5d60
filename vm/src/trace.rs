//! The step hook: a caller can watch every instruction the interpreter runs.

use std::fmt;

use crate::opcode::Opcode;

/// Which script of a spend is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The unlocking script (scriptSig).
    ScriptSig,
    /// The locking script (scriptPubKey).
    ScriptPubKey,
    /// A pay-to-script-hash redeem script.
    RedeemScript,
}

impl Phase {
    /// A short lowercase name for listings.
    pub fn label(self) -> &'static str {
        match self {
            Self::ScriptSig => "script_sig",
            Self::ScriptPubKey => "script_pubkey",
            Self::RedeemScript => "redeem_script",
        }
    }
}

/// One completed instruction, with the stacks as it left them.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// The script that is running.
    pub phase: Phase,
    /// Byte offset of the instruction in its script.
    pub offset: usize,
    /// The opcode.
    pub opcode: Opcode,
    /// The data a push opcode carries (empty otherwise).
    pub data: &'a [u8],
    /// Whether the instruction ran: false inside a branch not taken, except for the
    /// flow-control opcodes, which always run.
    pub executed: bool,
    /// The main stack after the instruction, bottom first.
    pub stack: &'a [Vec<u8>],
    /// The alt stack after the instruction, bottom first.
    pub alt_stack: &'a [Vec<u8>],
}

/// Receives every step. Implemented for closures taking a [`Step`].
pub trait StepObserver {
    /// Called after each instruction that did not fail.
    fn on_step(&mut self, step: &Step<'_>);
}

impl<F: FnMut(&Step<'_>)> StepObserver for F {
    fn on_step(&mut self, step: &Step<'_>) {
        self(step)
    }
}

/// The observer that watches nothing; the interpreter compiles it away.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl StepObserver for NoTrace {
    #[inline(always)]
    fn on_step(&mut self, _step: &Step<'_>) {}
}

impl fmt::Display for Step<'_> {
    /// One line: phase, offset, the instruction (pushes as `<hex>`), then both stacks as hex,
    /// bottom first, with `''` for an empty item.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instruction = if self.opcode.0 > Opcode::OP_0.0 && self.opcode.0 <= Opcode::PUSHDATA4.0 {
            format!("<{}>", short_hex(self.data))
        } else {
            self.opcode.to_string()
        };
        let instruction = if self.executed { instruction } else { format!("{instruction} (skipped)") };
        write!(f, "{:<13} {:>4}  {instruction:<24}", self.phase.label(), self.offset)?;
        write!(f, "  stack: [{}]", items(self.stack))?;
        if !self.alt_stack.is_empty() {
            write!(f, "  alt: [{}]", items(self.alt_stack))?;
        }
        Ok(())
    }
}

/// Items longer than this many bytes are shortened in traces.
const SHORT_ITEM_BYTES: usize = 20;

/// Hex of an item; a long one shows its first 8 bytes, an ellipsis and its length.
fn short_hex(bytes: &[u8]) -> String {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    match bytes.get(..8) {
        Some(head) if bytes.len() > SHORT_ITEM_BYTES => format!("{}…[{} bytes]", hex(head), bytes.len()),
        _ => hex(bytes),
    }
}

/// Stack items as space-separated hex, bottom first, `''` for the empty item; items over
/// 20 bytes are shortened to their first 8 bytes and their length.
pub fn items(stack: &[Vec<u8>]) -> String {
    let words: Vec<String> =
        stack.iter().map(|item| if item.is_empty() { "''".to_owned() } else { short_hex(item) }).collect();
    words.join(" ")
}
