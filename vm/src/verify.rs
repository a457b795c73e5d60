//! Spend verification: the unlocking script, the locking script and a P2SH redeem script,
//! checked together as Bitcoin Core's `VerifyScript` does for legacy (non-witness) spends.

use crate::error::ScriptError;
use crate::flags::Flags;
use crate::host::Host;
use crate::interpreter::{Stack, eval_script};
use crate::num::cast_to_bool;
use crate::script::{is_p2sh, is_push_only};
use crate::trace::{NoTrace, Phase, StepObserver};

/// Verifies that `script_sig` unlocks `script_pubkey` under `flags`, asking `host` about the
/// transaction. CLEANSTACK implies P2SH (Bitcoin Core requires the pair).
pub fn verify_script<H: Host>(
    script_sig: &[u8],
    script_pubkey: &[u8],
    flags: Flags,
    host: &H,
) -> Result<(), ScriptError> {
    verify_script_traced(script_sig, script_pubkey, flags, host, &mut NoTrace).map(|_| ())
}

/// As [`verify_script`], reporting every step to `observer`. On success returns the final
/// stack.
pub fn verify_script_traced<H: Host, O: StepObserver>(
    script_sig: &[u8],
    script_pubkey: &[u8],
    flags: Flags,
    host: &H,
    observer: &mut O,
) -> Result<Stack, ScriptError> {
    let flags = if flags.contains(Flags::CLEANSTACK) { flags.union(Flags::P2SH) } else { flags };
    if flags.contains(Flags::SIGPUSHONLY) && !is_push_only(script_sig) {
        return Err(ScriptError::SigPushOnly);
    }

    let mut stack = Stack::new();
    eval_script(&mut stack, script_sig, flags, host, Phase::ScriptSig, observer)?;
    // Only a P2SH spend needs the stack as the unlocking script left it.
    let p2sh = flags.contains(Flags::P2SH) && is_p2sh(script_pubkey);
    let after_sig = if p2sh { Some(stack.clone()) } else { None };
    eval_script(&mut stack, script_pubkey, flags, host, Phase::ScriptPubKey, observer)?;
    require_true(&stack)?;

    if let Some(mut p2sh_stack) = after_sig {
        if !is_push_only(script_sig) {
            return Err(ScriptError::SigPushOnly);
        }
        let redeem = p2sh_stack.pop().ok_or(ScriptError::EvalFalse)?;
        eval_script(&mut p2sh_stack, &redeem, flags, host, Phase::RedeemScript, observer)?;
        require_true(&p2sh_stack)?;
        stack = p2sh_stack;
    }

    if flags.contains(Flags::CLEANSTACK) && stack.len() != 1 {
        return Err(ScriptError::CleanStack);
    }
    Ok(stack)
}

fn require_true(stack: &Stack) -> Result<(), ScriptError> {
    match stack.last() {
        Some(top) if cast_to_bool(top) => Ok(()),
        _ => Err(ScriptError::EvalFalse),
    }
}
