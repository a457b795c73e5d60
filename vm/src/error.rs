//! Every way a script can fail, each with Bitcoin Core's name for it.

use thiserror::Error;

use crate::num::NumError;

/// Why a script failed. [`ScriptError::name`] gives Bitcoin Core's name for each failure Core
/// knows, and MedChain's own names for the medical opcodes' failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// The script finished with an empty stack or a false top item.
    #[error("script evaluated to false")]
    EvalFalse,
    /// OP_RETURN was executed.
    #[error("OP_RETURN was executed")]
    OpReturn,
    /// A script is longer than [`crate::limits::MAX_SCRIPT_SIZE`].
    #[error("script is longer than 10,000 bytes")]
    ScriptSize,
    /// A push is longer than [`crate::limits::MAX_SCRIPT_ELEMENT_SIZE`].
    #[error("push is longer than 520 bytes")]
    PushSize,
    /// More than [`crate::limits::MAX_OPS_PER_SCRIPT`] opcodes.
    #[error("more than 201 opcodes in one script")]
    OpCount,
    /// Stack and alt stack together hold more than [`crate::limits::MAX_STACK_SIZE`] items.
    #[error("stack and alt stack hold more than 1,000 items")]
    StackSize,
    /// CHECKMULTISIG signature count is negative or above the key count.
    #[error("signature count out of range")]
    SigCount,
    /// CHECKMULTISIG key count is negative or above [`crate::limits::MAX_PUBKEYS_PER_MULTISIG`].
    #[error("public key count out of range")]
    PubkeyCount,
    /// OP_VERIFY found a false value.
    #[error("OP_VERIFY failed")]
    Verify,
    /// OP_EQUALVERIFY found two different values.
    #[error("OP_EQUALVERIFY failed")]
    EqualVerify,
    /// OP_CHECKMULTISIGVERIFY found the signatures invalid.
    #[error("OP_CHECKMULTISIGVERIFY failed")]
    CheckMultisigVerify,
    /// OP_CHECKSIGVERIFY found the signature invalid.
    #[error("OP_CHECKSIGVERIFY failed")]
    CheckSigVerify,
    /// OP_NUMEQUALVERIFY found two different numbers.
    #[error("OP_NUMEQUALVERIFY failed")]
    NumEqualVerify,
    /// An undecodable push, or an unknown or reserved opcode was executed.
    #[error("bad opcode")]
    BadOpcode,
    /// A disabled opcode appears in the script.
    #[error("disabled opcode")]
    DisabledOpcode,
    /// An opcode needs more stack items than there are.
    #[error("operation needs more stack items than there are")]
    InvalidStackOperation,
    /// OP_FROMALTSTACK on an empty alt stack.
    #[error("alt stack is empty")]
    InvalidAltstackOperation,
    /// IF/ELSE/ENDIF do not pair up, or IF found an empty stack.
    #[error("unbalanced conditional")]
    UnbalancedConditional,
    /// A lock-time operand is negative.
    #[error("negative lock time")]
    NegativeLocktime,
    /// The transaction does not meet the lock time the script asks for.
    #[error("lock time requirement not satisfied")]
    UnsatisfiedLocktime,
    /// The signature's hash type is not one of the defined ones (STRICTENC).
    #[error("undefined signature hash type")]
    SigHashtype,
    /// The signature is not strict DER (DERSIG, LOW_S or STRICTENC).
    #[error("signature is not strict DER")]
    SigDer,
    /// A push is not in its minimal form (MINIMALDATA).
    #[error("push is not minimal")]
    MinimalData,
    /// The unlocking script contains non-push opcodes (SIGPUSHONLY, P2SH).
    #[error("unlocking script is not push-only")]
    SigPushOnly,
    /// The signature's S value is above half the curve order (LOW_S).
    #[error("signature S value is high")]
    SigHighS,
    /// CHECKMULTISIG's extra item is not empty (NULLDUMMY).
    #[error("CHECKMULTISIG dummy item is not empty")]
    SigNullDummy,
    /// The public key is neither compressed nor uncompressed (STRICTENC).
    #[error("public key has an unknown encoding")]
    PubkeyType,
    /// More than one item is left on the stack (CLEANSTACK).
    #[error("stack is not clean after evaluation")]
    CleanStack,
    /// A failed signature check had a non-empty signature (NULLFAIL).
    #[error("failed signature check with a non-empty signature")]
    NullFail,
    /// An upgradable NOP was executed (DISCOURAGE_UPGRADABLE_NOPS).
    #[error("upgradable NOP executed")]
    DiscourageUpgradableNops,
    /// OP_CODESEPARATOR appears in a script (CONST_SCRIPTCODE).
    #[error("OP_CODESEPARATOR in a legacy script")]
    OpCodeSeparator,
    /// A signature was found in the script code (CONST_SCRIPTCODE).
    #[error("signature found in the script code")]
    SigFindAndDelete,
    /// An IF/NOTIF argument other than empty or `01` (MINIMAL_CONDITIONS).
    #[error("IF argument must be empty or exactly 01")]
    MinimalIf,
    /// CHECKROLEVERIFY: the key does not hold the role.
    #[error("the key does not hold the required role")]
    MissingRole,
    /// CHECKDEPOSITVERIFY: no key deposit addressed to the key.
    #[error("the transaction carries no key deposit for the key")]
    MissingKeyDeposit,
    /// CHECKEMERGENCYVERIFY: not an emergency access with a justification.
    #[error("not an emergency access with a justification")]
    NotEmergency,
    /// CHECKEMERGENCYVERIFY: the emergency access expires later than the policy allows.
    #[error("emergency access expires later than the policy allows")]
    EmergencyExpiry,
    /// CHECKEXPIRYVERIFY: the access expires later than the policy allows.
    #[error("access expires later than the policy allows")]
    AccessExpiry,
    /// CALLMODULEVERIFY: the module hash is not 32 bytes.
    #[error("module hash must be 32 bytes")]
    ModuleHashSize,
    /// CALLMODULEVERIFY: the argument count is negative or above [`crate::limits::MAX_MODULE_ARGS`].
    #[error("module argument count out of range")]
    ModuleArgCount,
    /// CALLMODULEVERIFY: the host cannot run policy modules.
    #[error("policy module calls are not available")]
    ModuleUnavailable,
    /// CALLMODULEVERIFY: the module denied access, with its reason code.
    #[error("policy module denied access (reason {0})")]
    ModuleDenied(u32),
    /// CALLMODULEVERIFY: the module ran out of fuel.
    #[error("policy module ran out of fuel")]
    ModuleOutOfFuel,
    /// CALLMODULEVERIFY: the module grew its memory past the cap.
    #[error("policy module grew its memory past the cap")]
    ModuleMemoryLimit,
    /// CALLMODULEVERIFY: the module overflowed the wasm stack.
    #[error("policy module overflowed its stack")]
    ModuleStackOverflow,
    /// CALLMODULEVERIFY: the module trapped.
    #[error("policy module trapped")]
    ModuleTrap,
    /// CALLMODULEVERIFY: no module with this hash is deployed.
    #[error("no policy module with this hash is deployed")]
    ModuleNotFound,
    /// A numeric operand is too long or not minimally encoded.
    #[error("bad numeric operand: {0}")]
    Number(NumError),
}

impl ScriptError {
    /// Bitcoin Core's name for this failure, as used in its test vectors (`EVAL_FALSE`, `SIG_DER`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::EvalFalse => "EVAL_FALSE",
            Self::OpReturn => "OP_RETURN",
            Self::ScriptSize => "SCRIPT_SIZE",
            Self::PushSize => "PUSH_SIZE",
            Self::OpCount => "OP_COUNT",
            Self::StackSize => "STACK_SIZE",
            Self::SigCount => "SIG_COUNT",
            Self::PubkeyCount => "PUBKEY_COUNT",
            Self::Verify => "VERIFY",
            Self::EqualVerify => "EQUALVERIFY",
            Self::CheckMultisigVerify => "CHECKMULTISIGVERIFY",
            Self::CheckSigVerify => "CHECKSIGVERIFY",
            Self::NumEqualVerify => "NUMEQUALVERIFY",
            Self::BadOpcode => "BAD_OPCODE",
            Self::DisabledOpcode => "DISABLED_OPCODE",
            Self::InvalidStackOperation => "INVALID_STACK_OPERATION",
            Self::InvalidAltstackOperation => "INVALID_ALTSTACK_OPERATION",
            Self::UnbalancedConditional => "UNBALANCED_CONDITIONAL",
            Self::NegativeLocktime => "NEGATIVE_LOCKTIME",
            Self::UnsatisfiedLocktime => "UNSATISFIED_LOCKTIME",
            Self::SigHashtype => "SIG_HASHTYPE",
            Self::SigDer => "SIG_DER",
            Self::MinimalData => "MINIMALDATA",
            Self::SigPushOnly => "SIG_PUSHONLY",
            Self::SigHighS => "SIG_HIGH_S",
            Self::SigNullDummy => "SIG_NULLDUMMY",
            Self::PubkeyType => "PUBKEYTYPE",
            Self::CleanStack => "CLEANSTACK",
            Self::NullFail => "NULLFAIL",
            Self::DiscourageUpgradableNops => "DISCOURAGE_UPGRADABLE_NOPS",
            Self::OpCodeSeparator => "OP_CODESEPARATOR",
            Self::SigFindAndDelete => "SIG_FINDANDDELETE",
            Self::Number(_) => "UNKNOWN_ERROR",
            Self::MinimalIf => "MINIMALIF",
            Self::MissingRole => "MISSING_ROLE",
            Self::MissingKeyDeposit => "MISSING_KEY_DEPOSIT",
            Self::NotEmergency => "NOT_EMERGENCY",
            Self::EmergencyExpiry => "EMERGENCY_EXPIRY",
            Self::AccessExpiry => "ACCESS_EXPIRY",
            Self::ModuleHashSize => "MODULE_HASH_SIZE",
            Self::ModuleArgCount => "MODULE_ARG_COUNT",
            Self::ModuleUnavailable => "MODULE_UNAVAILABLE",
            Self::ModuleDenied(_) => "MODULE_DENIED",
            Self::ModuleOutOfFuel => "MODULE_OUT_OF_FUEL",
            Self::ModuleMemoryLimit => "MODULE_MEMORY_LIMIT",
            Self::ModuleStackOverflow => "MODULE_STACK_OVERFLOW",
            Self::ModuleTrap => "MODULE_TRAP",
            Self::ModuleNotFound => "MODULE_NOT_FOUND",
        }
    }
}

impl From<NumError> for ScriptError {
    fn from(error: NumError) -> Self {
        Self::Number(error)
    }
}
