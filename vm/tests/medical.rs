//! The medical opcodes: each check against a host that says yes or no, their operands, the
//! flag that switches them on, and the strict IF rule.

use medchain_vm::script::push_bytes;
use medchain_vm::{EmergencyCheck, Flags, Host, ModuleVerdict, Opcode, ScriptError, verify_script_traced};

/// A host with fixed answers that records what it was asked.
#[derive(Default)]
struct TestHost {
    role: bool,
    deposit: bool,
    emergency: Option<EmergencyCheck>,
    expiry_bound: i64,
    module: Option<ModuleVerdict>,
    asked: std::cell::RefCell<Vec<String>>,
}

impl Host for TestHost {
    fn check_signature(&self, _: &[u8], _: &[u8], _: &[u8]) -> bool {
        false
    }
    fn check_lock_time(&self, _: i64) -> bool {
        false
    }
    fn check_sequence(&self, _: i64) -> bool {
        false
    }
    fn check_role(&self, pubkey: &[u8], role: i64) -> bool {
        self.asked.borrow_mut().push(format!("role {} {role}", pubkey.len()));
        self.role
    }
    fn check_key_deposit(&self, pubkey: &[u8]) -> bool {
        self.asked.borrow_mut().push(format!("deposit {}", pubkey.len()));
        self.deposit
    }
    fn check_emergency(&self, max_blocks: i64) -> EmergencyCheck {
        self.asked.borrow_mut().push(format!("emergency {max_blocks}"));
        self.emergency.unwrap_or(EmergencyCheck::NotEmergency)
    }
    fn check_expiry(&self, bound: i64) -> bool {
        self.asked.borrow_mut().push(format!("expiry {bound}"));
        bound >= self.expiry_bound
    }
    fn call_module(&self, hash: &[u8], args: &[Vec<u8>]) -> ModuleVerdict {
        self.asked.borrow_mut().push(format!("module {} {args:?}", hash.len()));
        self.module.unwrap_or(ModuleVerdict::Unavailable)
    }
}

const KEY: [u8; 33] = [2; 33];
const MED: Flags = Flags::MEDCHAIN;

fn script(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Runs `locking` with an empty unlocking script; returns the result and the final stack.
fn run(locking: &[u8], flags: Flags, host: &TestHost) -> (Result<(), ScriptError>, Vec<Vec<u8>>) {
    let mut last = Vec::new();
    let mut observer = |step: &medchain_vm::Step<'_>| last = step.stack.to_vec();
    let result = verify_script_traced(&[], locking, flags.difference(Flags::CLEANSTACK), host, &mut observer);
    (result.map(|_| ()), last)
}

#[test]
fn role_check_reads_key_and_role_and_leaves_them() {
    let locking = script(&[&push_bytes(&KEY), &[0x53, Opcode::CHECKROLEVERIFY.0]]);
    let yes = TestHost { role: true, ..TestHost::default() };
    let (result, stack) = run(&locking, MED, &yes);
    assert_eq!(result, Ok(()));
    assert_eq!(stack, vec![KEY.to_vec(), vec![3]], "operands stay on the stack");
    assert_eq!(yes.asked.borrow().as_slice(), ["role 33 3"]);
    let no = TestHost::default();
    assert_eq!(run(&locking, MED, &no).0, Err(ScriptError::MissingRole));
    assert_eq!(ScriptError::MissingRole.name(), "MISSING_ROLE");
}

#[test]
fn each_check_fails_with_its_own_error() {
    let host = TestHost::default();
    let deposit = script(&[&push_bytes(&KEY), &[Opcode::CHECKDEPOSITVERIFY.0]]);
    assert_eq!(run(&deposit, MED, &host).0, Err(ScriptError::MissingKeyDeposit));
    let emergency = [0x02, 0x90, 0x00, Opcode::CHECKEMERGENCYVERIFY.0];
    assert_eq!(run(&emergency, MED, &host).0, Err(ScriptError::NotEmergency));
    let far = TestHost { emergency: Some(EmergencyCheck::ExpiryTooFar), ..TestHost::default() };
    assert_eq!(run(&emergency, MED, &far).0, Err(ScriptError::EmergencyExpiry));
    let granted = TestHost { emergency: Some(EmergencyCheck::Granted), ..TestHost::default() };
    assert_eq!(run(&emergency, MED, &granted).0, Ok(()));
    assert_eq!(granted.asked.borrow().as_slice(), ["emergency 144"]);
    let expiry = [0x02, 0x10, 0x27, Opcode::CHECKEXPIRYVERIFY.0];
    let late = TestHost { expiry_bound: 20_000, ..TestHost::default() };
    assert_eq!(run(&expiry, MED, &late).0, Err(ScriptError::AccessExpiry));
    let soon = TestHost { expiry_bound: 10_000, ..TestHost::default() };
    assert_eq!(run(&expiry, MED, &soon).0, Ok(()));
}

#[test]
fn module_call_passes_arguments_bottom_first() {
    let hash = [7u8; 32];
    let locking = script(&[&[0x51, 0x52, 0x52], &push_bytes(&hash), &[Opcode::CALLMODULEVERIFY.0]]);
    let host = TestHost::default();
    assert_eq!(run(&locking, MED, &host).0, Err(ScriptError::ModuleUnavailable));
    assert_eq!(ScriptError::ModuleUnavailable.name(), "MODULE_UNAVAILABLE");
    let allow = TestHost { module: Some(ModuleVerdict::Allow), ..TestHost::default() };
    assert_eq!(run(&locking, MED, &allow).0, Ok(()));
    assert_eq!(allow.asked.borrow().as_slice(), ["module 32 [[1], [2]]"]);
    let deny = TestHost { module: Some(ModuleVerdict::Deny(9)), ..TestHost::default() };
    assert_eq!(run(&locking, MED, &deny).0, Err(ScriptError::ModuleDenied(9)));
    for (fault, error) in [
        (ModuleVerdict::OutOfFuel, ScriptError::ModuleOutOfFuel),
        (ModuleVerdict::MemoryLimit, ScriptError::ModuleMemoryLimit),
        (ModuleVerdict::StackOverflow, ScriptError::ModuleStackOverflow),
        (ModuleVerdict::Trap, ScriptError::ModuleTrap),
        (ModuleVerdict::NotFound, ScriptError::ModuleNotFound),
    ] {
        let host = TestHost { module: Some(fault), ..TestHost::default() };
        assert_eq!(run(&locking, MED, &host).0, Err(error), "{fault:?}");
    }

    let short_hash = script(&[&[0x51, 0x51], &push_bytes(&[7; 31]), &[Opcode::CALLMODULEVERIFY.0]]);
    assert_eq!(run(&short_hash, MED, &allow).0, Err(ScriptError::ModuleHashSize));
    let too_many = script(&[&[0x01, 0x11], &push_bytes(&hash), &[Opcode::CALLMODULEVERIFY.0]]);
    assert_eq!(run(&too_many, MED, &allow).0, Err(ScriptError::ModuleArgCount));
    let missing_args = script(&[&[0x53], &push_bytes(&hash), &[Opcode::CALLMODULEVERIFY.0]]);
    assert_eq!(run(&missing_args, MED, &allow).0, Err(ScriptError::InvalidStackOperation));
}

#[test]
fn operands_are_checked() {
    let host = TestHost { role: true, deposit: true, ..TestHost::default() };
    assert_eq!(
        run(&[0x51, Opcode::CHECKROLEVERIFY.0], MED, &host).0,
        Err(ScriptError::InvalidStackOperation)
    );
    assert_eq!(run(&[Opcode::CHECKDEPOSITVERIFY.0], MED, &host).0, Err(ScriptError::InvalidStackOperation));
    assert_eq!(
        run(&[0x4f, Opcode::CHECKEMERGENCYVERIFY.0], MED, &host).0,
        Err(ScriptError::NegativeLocktime)
    );
    let too_long = [0x06, 1, 2, 3, 4, 5, 6, Opcode::CHECKEXPIRYVERIFY.0];
    assert_eq!(run(&too_long, MED, &host).0.map_err(|e| e.name()), Err("UNKNOWN_ERROR"));
}

#[test]
fn without_the_flag_they_are_upgradable_nops() {
    let host = TestHost::default();
    for opcode in [Opcode::CHECKROLEVERIFY, Opcode::CHECKDEPOSITVERIFY, Opcode::CALLMODULEVERIFY] {
        let locking = [0x51, opcode.0];
        assert_eq!(
            run(&locking, Flags::ALL_BITCOIN.difference(Flags::DISCOURAGE_UPGRADABLE_NOPS), &host).0,
            Ok(())
        );
        assert_eq!(run(&locking, Flags::ALL_BITCOIN, &host).0, Err(ScriptError::DiscourageUpgradableNops));
    }
    assert!(host.asked.borrow().is_empty(), "the host is never asked without the flag");
}

#[test]
fn minimal_conditions_accept_only_empty_and_one() {
    let host = TestHost::default();
    let locking = |selector: u8| [selector, Opcode::IF.0, 0x51, Opcode::ELSE.0, 0x51, Opcode::ENDIF.0];
    assert_eq!(run(&locking(0x51), MED, &host).0, Ok(()));
    assert_eq!(run(&locking(0x00), MED, &host).0, Ok(()));
    assert_eq!(run(&locking(0x52), MED, &host).0, Err(ScriptError::MinimalIf));
    assert_eq!(run(&locking(0x52), Flags::ALL_BITCOIN, &host).0, Ok(()));
}
