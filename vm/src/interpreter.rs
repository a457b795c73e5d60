//! The interpreter: runs one decoded script on a stack with Bitcoin Core's exact semantics.

use std::borrow::Cow;

use ripemd::Ripemd160;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::ScriptError;
use crate::flags::Flags;
use crate::host::{EmergencyCheck, Host, ModuleVerdict};
use crate::limits::{
    MAX_LOCKTIME_NUM_SIZE, MAX_MODULE_ARGS, MAX_NUM_SIZE, MAX_OPS_PER_SCRIPT, MAX_PUBKEYS_PER_MULTISIG,
    MAX_SCRIPT_ELEMENT_SIZE, MAX_SCRIPT_SIZE, MAX_STACK_SIZE, MODULE_HASH_SIZE,
    SEQUENCE_LOCKTIME_DISABLE_FLAG,
};
use crate::num::{cast_to_bool, decode_num, encode_num};
use crate::opcode::Opcode;
use crate::script::{Instruction, Script, find_and_delete};
use crate::signature::{check_pubkey_encoding, check_signature_encoding};
use crate::trace::{Phase, Step, StepObserver};

/// A stack of byte strings, bottom first.
pub type Stack = Vec<Vec<u8>>;

/// Runs the script `bytes` on `stack` (Core's `EvalScript` for legacy scripts): checks its
/// size, decodes it once and runs the instructions. The alt stack and the condition stack
/// start empty; the main stack is left as the script leaves it.
pub fn eval_script<H: Host, O: StepObserver>(
    stack: &mut Stack,
    bytes: &[u8],
    flags: Flags,
    host: &H,
    phase: Phase,
    observer: &mut O,
) -> Result<(), ScriptError> {
    if bytes.len() > MAX_SCRIPT_SIZE {
        return Err(ScriptError::ScriptSize);
    }
    eval_decoded(stack, &Script::decode(bytes), flags, host, phase, observer)
}

/// Runs an already decoded script (for callers that cache decoded scripts). Checks the size
/// limit as [`eval_script`] does.
pub fn eval_decoded<H: Host, O: StepObserver>(
    stack: &mut Stack,
    script: &Script<'_>,
    flags: Flags,
    host: &H,
    phase: Phase,
    observer: &mut O,
) -> Result<(), ScriptError> {
    if script.bytes().len() > MAX_SCRIPT_SIZE {
        return Err(ScriptError::ScriptSize);
    }
    let mut machine = Machine {
        stack,
        alt: Vec::new(),
        conditions: Vec::new(),
        false_conditions: 0,
        op_count: 0,
        code_start: 0,
        flags,
        host,
        script: script.bytes(),
    };
    for instruction in script.instructions() {
        let executing = machine.false_conditions == 0;
        let data = script.data(instruction);
        machine.step(instruction, data, executing)?;
        observer.on_step(&Step {
            phase,
            offset: instruction.offset,
            opcode: instruction.opcode,
            data,
            executed: executing || is_flow_control(instruction.opcode),
            stack: machine.stack.as_slice(),
            alt_stack: &machine.alt,
        });
    }
    if script.truncated().is_some() {
        return Err(ScriptError::BadOpcode);
    }
    if !machine.conditions.is_empty() {
        return Err(ScriptError::UnbalancedConditional);
    }
    Ok(())
}

/// The state of one script's evaluation.
struct Machine<'s, 'h, H> {
    stack: &'s mut Stack,
    alt: Stack,
    /// The condition stack of nested IF branches; `false_conditions` counts its false entries.
    conditions: Vec<bool>,
    false_conditions: usize,
    op_count: usize,
    /// Where the signature script code starts: after the last executed CODESEPARATOR.
    code_start: usize,
    flags: Flags,
    host: &'h H,
    script: &'s [u8],
}

const TRUE: [u8; 1] = [1];

impl<'s, H: Host> Machine<'s, '_, H> {
    /// Runs one instruction: the checks that apply whether or not it executes, then its effect.
    fn step(&mut self, instruction: &Instruction, data: &[u8], executing: bool) -> Result<(), ScriptError> {
        let opcode = instruction.opcode;
        if data.len() > MAX_SCRIPT_ELEMENT_SIZE {
            return Err(ScriptError::PushSize);
        }
        if opcode.counts_as_op() {
            self.op_count += 1;
            if self.op_count > MAX_OPS_PER_SCRIPT {
                return Err(ScriptError::OpCount);
            }
        }
        if opcode.is_disabled() {
            return Err(ScriptError::DisabledOpcode);
        }
        if opcode == Opcode::CODESEPARATOR && self.flags.contains(Flags::CONST_SCRIPTCODE) {
            return Err(ScriptError::OpCodeSeparator);
        }
        if opcode.0 <= Opcode::PUSHDATA4.0 {
            if executing {
                if self.flags.contains(Flags::MINIMALDATA) && !is_minimal_push(opcode, data) {
                    return Err(ScriptError::MinimalData);
                }
                self.stack.push(data.to_vec());
            }
        } else if executing || is_flow_control(opcode) {
            self.execute(opcode, instruction.end(), executing)?;
        }
        if self.stack.len() + self.alt.len() > MAX_STACK_SIZE {
            return Err(ScriptError::StackSize);
        }
        Ok(())
    }

    fn need(&self, items: usize) -> Result<(), ScriptError> {
        if self.stack.len() < items { Err(ScriptError::InvalidStackOperation) } else { Ok(()) }
    }

    /// The item `depth` places below the top (0 is the top).
    fn top(&self, depth: usize) -> Result<&[u8], ScriptError> {
        let index = self.stack.len().checked_sub(depth + 1).ok_or(ScriptError::InvalidStackOperation)?;
        self.stack.get(index).map(Vec::as_slice).ok_or(ScriptError::InvalidStackOperation)
    }

    fn pop(&mut self) -> Result<Vec<u8>, ScriptError> {
        self.stack.pop().ok_or(ScriptError::InvalidStackOperation)
    }

    fn push_bool(&mut self, value: bool) {
        self.stack.push(if value { TRUE.to_vec() } else { Vec::new() });
    }

    fn num(&self, depth: usize) -> Result<i64, ScriptError> {
        Ok(decode_num(self.top(depth)?, self.flags.contains(Flags::MINIMALDATA), MAX_NUM_SIZE)?)
    }

    /// Copies the item `depth` places below the top onto the top.
    fn copy(&mut self, depth: usize) -> Result<(), ScriptError> {
        let item = self.top(depth)?.to_vec();
        self.stack.push(item);
        Ok(())
    }

    /// Moves the item `depth` places below the top onto the top.
    fn roll(&mut self, depth: usize) -> Result<(), ScriptError> {
        let index = self.stack.len().checked_sub(depth + 1).ok_or(ScriptError::InvalidStackOperation)?;
        let item = self.stack.remove(index);
        self.stack.push(item);
        Ok(())
    }

    fn push_condition(&mut self, value: bool) {
        self.conditions.push(value);
        if !value {
            self.false_conditions += 1;
        }
    }

    /// Runs an executing opcode, or a flow-control opcode in any branch.
    fn execute(&mut self, opcode: Opcode, next: usize, executing: bool) -> Result<(), ScriptError> {
        if let Some(n) = opcode.small_number() {
            self.stack.push(encode_num(n));
            return Ok(());
        }
        match opcode {
            Opcode::NOP => {}
            Opcode::IF | Opcode::NOTIF => {
                let mut value = false;
                if executing {
                    let top = self.stack.pop().ok_or(ScriptError::UnbalancedConditional)?;
                    if self.flags.contains(Flags::MINIMAL_CONDITIONS) && !matches!(top.as_slice(), [] | [1]) {
                        return Err(ScriptError::MinimalIf);
                    }
                    value = cast_to_bool(&top) != (opcode == Opcode::NOTIF);
                }
                self.push_condition(value);
            }
            Opcode::ELSE => {
                let last = self.conditions.last_mut().ok_or(ScriptError::UnbalancedConditional)?;
                *last = !*last;
                if *last {
                    self.false_conditions -= 1;
                } else {
                    self.false_conditions += 1;
                }
            }
            Opcode::ENDIF => {
                let last = self.conditions.pop().ok_or(ScriptError::UnbalancedConditional)?;
                if !last {
                    self.false_conditions -= 1;
                }
            }
            Opcode::VERIFY => {
                self.need(1)?;
                if !cast_to_bool(self.top(0)?) {
                    return Err(ScriptError::Verify);
                }
                self.pop()?;
            }
            Opcode::RETURN => return Err(ScriptError::OpReturn),
            Opcode::CHECKLOCKTIMEVERIFY | Opcode::CHECKSEQUENCEVERIFY => self.lock_time(opcode)?,
            Opcode::CHECKROLEVERIFY
            | Opcode::CHECKDEPOSITVERIFY
            | Opcode::CHECKEMERGENCYVERIFY
            | Opcode::CALLMODULEVERIFY
            | Opcode::CHECKEXPIRYVERIFY
                if self.flags.contains(Flags::MEDICAL) =>
            {
                self.medical(opcode)?
            }
            Opcode::NOP1
            | Opcode::CHECKROLEVERIFY
            | Opcode::CHECKDEPOSITVERIFY
            | Opcode::CHECKEMERGENCYVERIFY
            | Opcode::CALLMODULEVERIFY
            | Opcode::CHECKEXPIRYVERIFY
            | Opcode::NOP9
            | Opcode::NOP10 => {
                if self.flags.contains(Flags::DISCOURAGE_UPGRADABLE_NOPS) {
                    return Err(ScriptError::DiscourageUpgradableNops);
                }
            }
            Opcode::CODESEPARATOR => self.code_start = next,
            Opcode::CHECKSIG | Opcode::CHECKSIGVERIFY => self.check_sig(opcode)?,
            Opcode::CHECKMULTISIG | Opcode::CHECKMULTISIGVERIFY => self.check_multisig(opcode)?,
            _ => self.execute_data_op(opcode)?,
        }
        Ok(())
    }

    /// Stack, arithmetic and hash opcodes.
    fn execute_data_op(&mut self, opcode: Opcode) -> Result<(), ScriptError> {
        match opcode {
            Opcode::TOALTSTACK => {
                let item = self.pop()?;
                self.alt.push(item);
            }
            Opcode::FROMALTSTACK => {
                let item = self.alt.pop().ok_or(ScriptError::InvalidAltstackOperation)?;
                self.stack.push(item);
            }
            Opcode::TWO_DROP => {
                self.need(2)?;
                self.pop()?;
                self.pop()?;
            }
            Opcode::TWO_DUP => {
                self.need(2)?;
                self.copy(1)?;
                self.copy(1)?;
            }
            Opcode::THREE_DUP => {
                self.need(3)?;
                for _ in 0..3 {
                    self.copy(2)?;
                }
            }
            Opcode::TWO_OVER => {
                self.need(4)?;
                self.copy(3)?;
                self.copy(3)?;
            }
            Opcode::TWO_ROT => {
                self.need(6)?;
                self.roll(5)?;
                self.roll(5)?;
            }
            Opcode::TWO_SWAP => {
                self.need(4)?;
                self.roll(3)?;
                self.roll(3)?;
            }
            Opcode::IFDUP => {
                if cast_to_bool(self.top(0)?) {
                    self.copy(0)?;
                }
            }
            Opcode::DEPTH => {
                let depth = i64::try_from(self.stack.len()).map_err(|_| ScriptError::StackSize)?;
                self.stack.push(encode_num(depth));
            }
            Opcode::DROP => {
                self.pop()?;
            }
            Opcode::DUP => self.copy(0)?,
            Opcode::NIP => {
                self.need(2)?;
                let index = self.stack.len() - 2;
                self.stack.remove(index);
            }
            Opcode::OVER => {
                self.need(2)?;
                self.copy(1)?;
            }
            Opcode::PICK | Opcode::ROLL => {
                self.need(2)?;
                let n = self.num(0)?;
                self.pop()?;
                let depth = usize::try_from(n)
                    .ok()
                    .filter(|&d| d < self.stack.len())
                    .ok_or(ScriptError::InvalidStackOperation)?;
                if opcode == Opcode::PICK { self.copy(depth)? } else { self.roll(depth)? }
            }
            Opcode::ROT => {
                self.need(3)?;
                self.roll(2)?;
            }
            Opcode::SWAP => {
                self.need(2)?;
                self.roll(1)?;
            }
            Opcode::TUCK => {
                self.need(2)?;
                let top = self.top(0)?.to_vec();
                let index = self.stack.len() - 2;
                self.stack.insert(index, top);
            }
            Opcode::SIZE => {
                let len = self.top(0)?.len();
                self.stack.push(encode_num(i64::try_from(len).map_err(|_| ScriptError::PushSize)?));
            }
            Opcode::EQUAL | Opcode::EQUALVERIFY => {
                self.need(2)?;
                let equal = self.top(0)? == self.top(1)?;
                self.pop()?;
                self.pop()?;
                if opcode == Opcode::EQUAL {
                    self.push_bool(equal);
                } else if !equal {
                    return Err(ScriptError::EqualVerify);
                }
            }
            Opcode::ONE_ADD
            | Opcode::ONE_SUB
            | Opcode::NEGATE
            | Opcode::ABS
            | Opcode::NOT
            | Opcode::ZERO_NOTEQUAL => {
                let a = self.num(0)?;
                let result = match opcode {
                    Opcode::ONE_ADD => a + 1,
                    Opcode::ONE_SUB => a - 1,
                    Opcode::NEGATE => -a,
                    Opcode::ABS => a.abs(),
                    Opcode::NOT => i64::from(a == 0),
                    _ => i64::from(a != 0),
                };
                self.pop()?;
                self.stack.push(encode_num(result));
            }
            Opcode::WITHIN => {
                self.need(3)?;
                let (x, min, max) = (self.num(2)?, self.num(1)?, self.num(0)?);
                for _ in 0..3 {
                    self.pop()?;
                }
                self.push_bool(min <= x && x < max);
            }
            Opcode::RIPEMD160 | Opcode::SHA1 | Opcode::SHA256 | Opcode::HASH160 | Opcode::HASH256 => {
                let item = self.pop()?;
                let digest = match opcode {
                    Opcode::RIPEMD160 => Ripemd160::digest(&item).to_vec(),
                    Opcode::SHA1 => Sha1::digest(&item).to_vec(),
                    Opcode::SHA256 => Sha256::digest(&item).to_vec(),
                    Opcode::HASH160 => Ripemd160::digest(Sha256::digest(&item)).to_vec(),
                    _ => Sha256::digest(Sha256::digest(&item)).to_vec(),
                };
                self.stack.push(digest);
            }
            _ => return self.binary_num_op(opcode),
        }
        Ok(())
    }

    /// Binary numeric opcodes; anything else left is a bad opcode.
    fn binary_num_op(&mut self, opcode: Opcode) -> Result<(), ScriptError> {
        if !(Opcode::ADD..=Opcode::MAX).contains(&opcode) {
            return Err(ScriptError::BadOpcode);
        }
        self.need(2)?;
        let (a, b) = (self.num(1)?, self.num(0)?);
        let result = match opcode {
            Opcode::ADD => a + b,
            Opcode::SUB => a - b,
            Opcode::BOOLAND => i64::from(a != 0 && b != 0),
            Opcode::BOOLOR => i64::from(a != 0 || b != 0),
            Opcode::NUMEQUAL | Opcode::NUMEQUALVERIFY => i64::from(a == b),
            Opcode::NUMNOTEQUAL => i64::from(a != b),
            Opcode::LESSTHAN => i64::from(a < b),
            Opcode::GREATERTHAN => i64::from(a > b),
            Opcode::LESSTHANOREQUAL => i64::from(a <= b),
            Opcode::GREATERTHANOREQUAL => i64::from(a >= b),
            Opcode::MIN => a.min(b),
            Opcode::MAX => a.max(b),
            _ => return Err(ScriptError::BadOpcode),
        };
        self.pop()?;
        self.pop()?;
        self.stack.push(encode_num(result));
        if opcode == Opcode::NUMEQUALVERIFY {
            if result == 0 {
                return Err(ScriptError::NumEqualVerify);
            }
            self.pop()?;
        }
        Ok(())
    }

    /// CHECKLOCKTIMEVERIFY and CHECKSEQUENCEVERIFY: plain NOPs unless their flag is set.
    fn lock_time(&mut self, opcode: Opcode) -> Result<(), ScriptError> {
        let is_cltv = opcode == Opcode::CHECKLOCKTIMEVERIFY;
        let flag = if is_cltv { Flags::CHECKLOCKTIMEVERIFY } else { Flags::CHECKSEQUENCEVERIFY };
        if !self.flags.contains(flag) {
            return Ok(());
        }
        let operand =
            decode_num(self.top(0)?, self.flags.contains(Flags::MINIMALDATA), MAX_LOCKTIME_NUM_SIZE)?;
        if operand < 0 {
            return Err(ScriptError::NegativeLocktime);
        }
        let satisfied = if is_cltv {
            self.host.check_lock_time(operand)
        } else {
            operand & SEQUENCE_LOCKTIME_DISABLE_FLAG != 0 || self.host.check_sequence(operand)
        };
        if satisfied { Ok(()) } else { Err(ScriptError::UnsatisfiedLocktime) }
    }

    /// The medical opcodes (MEDICAL flag): VERIFY-style checks that read their operands,
    /// leave the stack as it is, and ask the host.
    fn medical(&mut self, opcode: Opcode) -> Result<(), ScriptError> {
        let minimal = self.flags.contains(Flags::MINIMALDATA);
        let bound = |item: &[u8]| -> Result<i64, ScriptError> {
            let value = decode_num(item, minimal, MAX_LOCKTIME_NUM_SIZE)?;
            if value < 0 { Err(ScriptError::NegativeLocktime) } else { Ok(value) }
        };
        match opcode {
            Opcode::CHECKROLEVERIFY => {
                self.need(2)?;
                let role = self.num(0)?;
                if !self.host.check_role(self.top(1)?, role) {
                    return Err(ScriptError::MissingRole);
                }
            }
            Opcode::CHECKDEPOSITVERIFY => {
                if !self.host.check_key_deposit(self.top(0)?) {
                    return Err(ScriptError::MissingKeyDeposit);
                }
            }
            Opcode::CHECKEMERGENCYVERIFY => match self.host.check_emergency(bound(self.top(0)?)?) {
                EmergencyCheck::Granted => {}
                EmergencyCheck::NotEmergency => return Err(ScriptError::NotEmergency),
                EmergencyCheck::ExpiryTooFar => return Err(ScriptError::EmergencyExpiry),
            },
            Opcode::CHECKEXPIRYVERIFY => {
                if !self.host.check_expiry(bound(self.top(0)?)?) {
                    return Err(ScriptError::AccessExpiry);
                }
            }
            _ => self.call_module()?,
        }
        Ok(())
    }

    /// CALLMODULEVERIFY: `args.. n hash`, hash on top.
    fn call_module(&mut self) -> Result<(), ScriptError> {
        self.need(2)?;
        let hash = self.top(0)?;
        if hash.len() != MODULE_HASH_SIZE {
            return Err(ScriptError::ModuleHashSize);
        }
        let count = usize::try_from(self.num(1)?)
            .ok()
            .filter(|&n| n <= MAX_MODULE_ARGS)
            .ok_or(ScriptError::ModuleArgCount)?;
        self.need(count + 2)?;
        let first = self.stack.len() - count - 2;
        let args = self.stack.get(first..first + count).ok_or(ScriptError::InvalidStackOperation)?;
        match self.host.call_module(hash, args) {
            ModuleVerdict::Allow => Ok(()),
            ModuleVerdict::Deny(reason) => Err(ScriptError::ModuleDenied(reason)),
            ModuleVerdict::OutOfFuel => Err(ScriptError::ModuleOutOfFuel),
            ModuleVerdict::MemoryLimit => Err(ScriptError::ModuleMemoryLimit),
            ModuleVerdict::StackOverflow => Err(ScriptError::ModuleStackOverflow),
            ModuleVerdict::Trap => Err(ScriptError::ModuleTrap),
            ModuleVerdict::NotFound => Err(ScriptError::ModuleNotFound),
            ModuleVerdict::Unavailable => Err(ScriptError::ModuleUnavailable),
        }
    }

    /// The script code signatures commit to, with every push of each signature removed.
    fn script_code<'a>(&self, sigs: impl Iterator<Item = &'a [u8]>) -> Result<Cow<'s, [u8]>, ScriptError> {
        let mut code = Cow::Borrowed(self.script.get(self.code_start..).unwrap_or_default());
        for sig in sigs {
            let (cleaned, found) = find_and_delete(&code, sig);
            if found > 0 {
                if self.flags.contains(Flags::CONST_SCRIPTCODE) {
                    return Err(ScriptError::SigFindAndDelete);
                }
                code = Cow::Owned(cleaned.into_owned());
            }
        }
        Ok(code)
    }

    fn check_sig(&mut self, opcode: Opcode) -> Result<(), ScriptError> {
        self.need(2)?;
        let (sig, pubkey) = (self.top(1)?, self.top(0)?);
        let code = self.script_code(std::iter::once(sig))?;
        check_signature_encoding(sig, self.flags)?;
        check_pubkey_encoding(pubkey, self.flags)?;
        let ok = self.host.check_signature(sig, pubkey, &code);
        if !ok && self.flags.contains(Flags::NULLFAIL) && !sig.is_empty() {
            return Err(ScriptError::NullFail);
        }
        self.pop()?;
        self.pop()?;
        if opcode == Opcode::CHECKSIGVERIFY {
            return if ok { Ok(()) } else { Err(ScriptError::CheckSigVerify) };
        }
        self.push_bool(ok);
        Ok(())
    }

    /// CHECKMULTISIG(VERIFY): `dummy sig1..sigM M key1..keyN N`, N on top.
    fn check_multisig(&mut self, opcode: Opcode) -> Result<(), ScriptError> {
        let minimal = self.flags.contains(Flags::MINIMALDATA);
        self.need(1)?;
        let key_count = decode_num(self.top(0)?, minimal, MAX_NUM_SIZE)?;
        let key_count = usize::try_from(key_count)
            .ok()
            .filter(|&n| n <= MAX_PUBKEYS_PER_MULTISIG)
            .ok_or(ScriptError::PubkeyCount)?;
        self.op_count += key_count;
        if self.op_count > MAX_OPS_PER_SCRIPT {
            return Err(ScriptError::OpCount);
        }
        self.need(key_count + 2)?;
        let sig_count = decode_num(self.top(key_count + 1)?, minimal, MAX_NUM_SIZE)?;
        let sig_count =
            usize::try_from(sig_count).ok().filter(|&m| m <= key_count).ok_or(ScriptError::SigCount)?;
        // The dummy item below the signatures must be there too.
        self.need(key_count + sig_count + 3)?;

        // Depths from the top: keys at 1..=N, signatures at N+2..=N+M+1.
        let key_depth = |k: usize| k + 1;
        let sig_depth = |s: usize| key_count + 2 + s;
        let code = {
            let sigs: Result<Vec<&[u8]>, _> = (0..sig_count).map(|s| self.top(sig_depth(s))).collect();
            self.script_code(sigs?.into_iter())?
        };

        let (mut sig, mut key) = (0, 0);
        let mut success = true;
        while success && sig < sig_count {
            let (sig_bytes, key_bytes) = (self.top(sig_depth(sig))?, self.top(key_depth(key))?);
            check_signature_encoding(sig_bytes, self.flags)?;
            check_pubkey_encoding(key_bytes, self.flags)?;
            if self.host.check_signature(sig_bytes, key_bytes, &code) {
                sig += 1;
            }
            key += 1;
            if sig_count - sig > key_count - key {
                success = false;
            }
        }

        if !success && self.flags.contains(Flags::NULLFAIL) {
            let any_signature = (0..sig_count)
                .map(|s| self.top(sig_depth(s)))
                .collect::<Result<Vec<_>, _>>()?
                .iter()
                .any(|s| !s.is_empty());
            if any_signature {
                return Err(ScriptError::NullFail);
            }
        }
        for _ in 0..key_count + sig_count + 2 {
            self.pop()?;
        }
        let dummy = self.pop()?;
        if self.flags.contains(Flags::NULLDUMMY) && !dummy.is_empty() {
            return Err(ScriptError::SigNullDummy);
        }
        if opcode == Opcode::CHECKMULTISIGVERIFY {
            return if success { Ok(()) } else { Err(ScriptError::CheckMultisigVerify) };
        }
        self.push_bool(success);
        Ok(())
    }
}

/// IF, NOTIF, VERIF, VERNOTIF, ELSE and ENDIF: they run even inside a branch not taken.
fn is_flow_control(opcode: Opcode) -> bool {
    (Opcode::IF..=Opcode::ENDIF).contains(&opcode)
}

/// Whether a push uses the smallest form MINIMALDATA allows for its data.
pub fn is_minimal_push(opcode: Opcode, data: &[u8]) -> bool {
    match data {
        [] => opcode == Opcode::OP_0,
        [n @ 1..=16] => opcode.0 == Opcode::OP_1.0 + n - 1,
        [0x81] => opcode == Opcode::OP_1NEGATE,
        _ if data.len() <= 75 => usize::from(opcode.0) == data.len(),
        _ if data.len() <= 255 => opcode == Opcode::PUSHDATA1,
        _ if data.len() <= 65_535 => opcode == Opcode::PUSHDATA2,
        _ => true,
    }
}
