//! The opcode table: one row per opcode gives its byte, name, class and documentation.
//! Names, the assembler's vocabulary, the disassembler and the docs all come from here.

use std::fmt;

/// One opcode byte.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Opcode(pub u8);

/// What kind of opcode a byte is; decides how the interpreter treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpClass {
    /// Pushes the bytes that follow it (0x00..0x4e).
    Push,
    /// Pushes a small number (-1, 1..16).
    Constant,
    /// Flow control, lock times and signature checks.
    Control,
    /// Rearranges the stacks.
    Stack,
    /// Compares or computes with numbers or bytes.
    Arithmetic,
    /// Hashes and signatures.
    Crypto,
    /// Does nothing; reserved for soft-fork upgrades.
    UpgradableNop,
    /// Fails wherever it appears, executed or not.
    Disabled,
    /// Fails when executed.
    Reserved,
    /// A MedChain medical check in an upgradable NOP slot: a NOP unless the MEDICAL flag is set.
    Medical,
}

/// A row of the opcode table.
#[derive(Debug, Clone, Copy)]
pub struct OpInfo {
    /// The opcode byte.
    pub code: u8,
    /// Its name without the `OP_` prefix, as the assembler reads it.
    pub name: &'static str,
    /// What kind of opcode it is.
    pub class: OpClass,
    /// Operands, effect and failures, in one line.
    pub doc: &'static str,
}

macro_rules! opcode_table {
    ($( $konst:ident = $code:literal, $name:literal, $class:ident, $doc:literal; )*) => {
        impl Opcode {
            $( #[doc = $doc] pub const $konst: Opcode = Opcode($code); )*
        }
        /// Every named opcode, in byte order.
        pub const OPCODE_TABLE: &[OpInfo] = &[
            $( OpInfo { code: $code, name: $name, class: OpClass::$class, doc: $doc }, )*
        ];
    };
}

opcode_table! {
    OP_0 = 0x00, "0", Push, "Push the empty item (false, zero).";
    PUSHDATA1 = 0x4c, "PUSHDATA1", Push, "Push the next N bytes; N is one byte.";
    PUSHDATA2 = 0x4d, "PUSHDATA2", Push, "Push the next N bytes; N is two bytes, little-endian.";
    PUSHDATA4 = 0x4e, "PUSHDATA4", Push, "Push the next N bytes; N is four bytes, little-endian.";
    OP_1NEGATE = 0x4f, "-1", Constant, "Push the number -1.";
    RESERVED = 0x50, "RESERVED", Reserved, "Fails with BAD_OPCODE when executed; does not count as an opcode.";
    OP_1 = 0x51, "1", Constant, "Push the number 1 (true).";
    OP_16 = 0x60, "16", Constant, "Push the number 16 (0x52..0x60 push 2..16).";
    NOP = 0x61, "NOP", Control, "Does nothing.";
    VER = 0x62, "VER", Reserved, "Fails with BAD_OPCODE when executed.";
    IF = 0x63, "IF", Control, "x -- : run the branch if x is true; empty stack is UNBALANCED_CONDITIONAL.";
    NOTIF = 0x64, "NOTIF", Control, "x -- : run the branch if x is false.";
    VERIF = 0x65, "VERIF", Reserved, "Fails with BAD_OPCODE wherever it appears, executed or not.";
    VERNOTIF = 0x66, "VERNOTIF", Reserved, "Fails with BAD_OPCODE wherever it appears, executed or not.";
    ELSE = 0x67, "ELSE", Control, "Flip the innermost branch; without IF it is UNBALANCED_CONDITIONAL.";
    ENDIF = 0x68, "ENDIF", Control, "End the innermost branch; without IF it is UNBALANCED_CONDITIONAL.";
    VERIFY = 0x69, "VERIFY", Control, "x -- : fail with VERIFY unless x is true.";
    RETURN = 0x6a, "RETURN", Control, "Fail with OP_RETURN.";
    TOALTSTACK = 0x6b, "TOALTSTACK", Stack, "x -- : move x to the alt stack.";
    FROMALTSTACK = 0x6c, "FROMALTSTACK", Stack, "-- x : move the alt stack's top back; INVALID_ALTSTACK_OPERATION if empty.";
    TWO_DROP = 0x6d, "2DROP", Stack, "a b -- : drop two items.";
    TWO_DUP = 0x6e, "2DUP", Stack, "a b -- a b a b";
    THREE_DUP = 0x6f, "3DUP", Stack, "a b c -- a b c a b c";
    TWO_OVER = 0x70, "2OVER", Stack, "a b c d -- a b c d a b";
    TWO_ROT = 0x71, "2ROT", Stack, "a b c d e f -- c d e f a b";
    TWO_SWAP = 0x72, "2SWAP", Stack, "a b c d -- c d a b";
    IFDUP = 0x73, "IFDUP", Stack, "x -- x x if x is true, else x -- x";
    DEPTH = 0x74, "DEPTH", Stack, "-- n : push the number of stack items.";
    DROP = 0x75, "DROP", Stack, "x -- ";
    DUP = 0x76, "DUP", Stack, "x -- x x";
    NIP = 0x77, "NIP", Stack, "a b -- b";
    OVER = 0x78, "OVER", Stack, "a b -- a b a";
    PICK = 0x79, "PICK", Stack, "xn .. x0 n -- xn .. x0 xn";
    ROLL = 0x7a, "ROLL", Stack, "xn .. x0 n -- xn-1 .. x0 xn";
    ROT = 0x7b, "ROT", Stack, "a b c -- b c a";
    SWAP = 0x7c, "SWAP", Stack, "a b -- b a";
    TUCK = 0x7d, "TUCK", Stack, "a b -- b a b";
    CAT = 0x7e, "CAT", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    SUBSTR = 0x7f, "SUBSTR", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    LEFT = 0x80, "LEFT", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    RIGHT = 0x81, "RIGHT", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    SIZE = 0x82, "SIZE", Stack, "x -- x n : push the length of x.";
    INVERT = 0x83, "INVERT", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    AND = 0x84, "AND", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    OR = 0x85, "OR", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    XOR = 0x86, "XOR", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    EQUAL = 0x87, "EQUAL", Arithmetic, "a b -- bool : bytewise equality.";
    EQUALVERIFY = 0x88, "EQUALVERIFY", Arithmetic, "a b -- : fail with EQUALVERIFY unless equal.";
    RESERVED1 = 0x89, "RESERVED1", Reserved, "Fails with BAD_OPCODE when executed.";
    RESERVED2 = 0x8a, "RESERVED2", Reserved, "Fails with BAD_OPCODE when executed.";
    ONE_ADD = 0x8b, "1ADD", Arithmetic, "a -- a+1";
    ONE_SUB = 0x8c, "1SUB", Arithmetic, "a -- a-1";
    TWO_MUL = 0x8d, "2MUL", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    TWO_DIV = 0x8e, "2DIV", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    NEGATE = 0x8f, "NEGATE", Arithmetic, "a -- -a";
    ABS = 0x90, "ABS", Arithmetic, "a -- |a|";
    NOT = 0x91, "NOT", Arithmetic, "a -- (a == 0)";
    ZERO_NOTEQUAL = 0x92, "0NOTEQUAL", Arithmetic, "a -- (a != 0)";
    ADD = 0x93, "ADD", Arithmetic, "a b -- a+b";
    SUB = 0x94, "SUB", Arithmetic, "a b -- a-b";
    MUL = 0x95, "MUL", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    DIV = 0x96, "DIV", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    MOD = 0x97, "MOD", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    LSHIFT = 0x98, "LSHIFT", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    RSHIFT = 0x99, "RSHIFT", Disabled, "Disabled: DISABLED_OPCODE wherever it appears.";
    BOOLAND = 0x9a, "BOOLAND", Arithmetic, "a b -- (a != 0 && b != 0)";
    BOOLOR = 0x9b, "BOOLOR", Arithmetic, "a b -- (a != 0 || b != 0)";
    NUMEQUAL = 0x9c, "NUMEQUAL", Arithmetic, "a b -- (a == b)";
    NUMEQUALVERIFY = 0x9d, "NUMEQUALVERIFY", Arithmetic, "a b -- : fail with NUMEQUALVERIFY unless a == b.";
    NUMNOTEQUAL = 0x9e, "NUMNOTEQUAL", Arithmetic, "a b -- (a != b)";
    LESSTHAN = 0x9f, "LESSTHAN", Arithmetic, "a b -- (a < b)";
    GREATERTHAN = 0xa0, "GREATERTHAN", Arithmetic, "a b -- (a > b)";
    LESSTHANOREQUAL = 0xa1, "LESSTHANOREQUAL", Arithmetic, "a b -- (a <= b)";
    GREATERTHANOREQUAL = 0xa2, "GREATERTHANOREQUAL", Arithmetic, "a b -- (a >= b)";
    MIN = 0xa3, "MIN", Arithmetic, "a b -- min(a, b)";
    MAX = 0xa4, "MAX", Arithmetic, "a b -- max(a, b)";
    WITHIN = 0xa5, "WITHIN", Arithmetic, "x min max -- (min <= x < max)";
    RIPEMD160 = 0xa6, "RIPEMD160", Crypto, "x -- RIPEMD160(x)";
    SHA1 = 0xa7, "SHA1", Crypto, "x -- SHA1(x)";
    SHA256 = 0xa8, "SHA256", Crypto, "x -- SHA256(x)";
    HASH160 = 0xa9, "HASH160", Crypto, "x -- RIPEMD160(SHA256(x))";
    HASH256 = 0xaa, "HASH256", Crypto, "x -- SHA256(SHA256(x))";
    CODESEPARATOR = 0xab, "CODESEPARATOR", Crypto, "Signatures commit to the script after this point; OP_CODESEPARATOR error under CONST_SCRIPTCODE.";
    CHECKSIG = 0xac, "CHECKSIG", Crypto, "sig pubkey -- bool : verify sig over the transaction digest.";
    CHECKSIGVERIFY = 0xad, "CHECKSIGVERIFY", Crypto, "sig pubkey -- : fail with CHECKSIGVERIFY unless valid.";
    CHECKMULTISIG = 0xae, "CHECKMULTISIG", Crypto, "dummy sig1..sigm m key1..keyn n -- bool : m of n signatures, in key order.";
    CHECKMULTISIGVERIFY = 0xaf, "CHECKMULTISIGVERIFY", Crypto, "as CHECKMULTISIG, then fail with CHECKMULTISIGVERIFY unless valid.";
    NOP1 = 0xb0, "NOP1", UpgradableNop, "Does nothing; DISCOURAGE_UPGRADABLE_NOPS when executed under that flag.";
    CHECKLOCKTIMEVERIFY = 0xb1, "CHECKLOCKTIMEVERIFY", Control, "t -- t : fail unless the transaction's lock time has reached t (BIP 65); a NOP without its flag.";
    CHECKSEQUENCEVERIFY = 0xb2, "CHECKSEQUENCEVERIFY", Control, "d -- d : fail unless the input's relative lock time has reached d (BIP 112); a NOP without its flag.";
    CHECKROLEVERIFY = 0xb3, "CHECKROLEVERIFY", Medical, "key role -- key role : fail with MISSING_ROLE unless key holds role (a number) in chain state at the transaction's height. Bitcoin's NOP4.";
    CHECKDEPOSITVERIFY = 0xb4, "CHECKDEPOSITVERIFY", Medical, "key -- key : fail with MISSING_KEY_DEPOSIT unless the transaction carries a key deposit addressed to key. Bitcoin's NOP5.";
    CHECKEMERGENCYVERIFY = 0xb5, "CHECKEMERGENCYVERIFY", Medical, "n -- n : fail with NOT_EMERGENCY unless the transaction is an emergency access with a justification, or EMERGENCY_EXPIRY unless its access expires within n blocks. Bitcoin's NOP6.";
    CALLMODULEVERIFY = 0xb6, "CALLMODULEVERIFY", Medical, "args.. n hash -- args.. n hash : run the wasm policy module with this 32-byte hash on the n arguments; deny fails with MODULE_DENIED, running out of fuel, memory or stack or trapping with MODULE_OUT_OF_FUEL, MODULE_MEMORY_LIMIT, MODULE_STACK_OVERFLOW or MODULE_TRAP, an unknown hash with MODULE_NOT_FOUND, no module runtime with MODULE_UNAVAILABLE. Bitcoin's NOP7.";
    CHECKEXPIRYVERIFY = 0xb7, "CHECKEXPIRYVERIFY", Medical, "t -- t : fail with ACCESS_EXPIRY unless the transaction's access expires at or before t (a height, or a time from 500,000,000 on). Bitcoin's NOP8.";
    NOP9 = 0xb8, "NOP9", UpgradableNop, "Does nothing; DISCOURAGE_UPGRADABLE_NOPS when executed under that flag.";
    NOP10 = 0xb9, "NOP10", UpgradableNop, "Does nothing; DISCOURAGE_UPGRADABLE_NOPS when executed under that flag.";
}

/// Bitcoin's names for the upgradable NOP slots that hold MedChain's medical opcodes.
pub const BITCOIN_SLOT_NAMES: &[(&str, u8)] =
    &[("NOP4", 0xb3), ("NOP5", 0xb4), ("NOP6", 0xb5), ("NOP7", 0xb6), ("NOP8", 0xb7)];

impl Opcode {
    /// The table row of this opcode: the named row, or a generated row for direct pushes,
    /// small numbers and undefined bytes.
    pub fn info(self) -> OpInfo {
        if let Some(info) = OPCODE_TABLE.iter().find(|info| info.code == self.0) {
            return *info;
        }
        let (class, doc) = match self.0 {
            0x01..=0x4b => (OpClass::Push, "Push the next 1..75 bytes (the opcode is the length)."),
            0x52..=0x5f => (OpClass::Constant, "Push the number 2..15."),
            _ => (OpClass::Reserved, "Undefined: fails with BAD_OPCODE when executed."),
        };
        OpInfo { code: self.0, name: "", class, doc }
    }

    /// The class of this opcode.
    pub fn class(self) -> OpClass {
        match self.0 {
            0x00..=0x4e => OpClass::Push,
            0x4f | 0x51..=0x60 => OpClass::Constant,
            _ => self.info().class,
        }
    }

    /// Whether this opcode counts toward [`crate::limits::MAX_OPS_PER_SCRIPT`].
    pub fn counts_as_op(self) -> bool {
        self.0 > Self::OP_16.0
    }

    /// Whether this opcode fails wherever it appears (disabled, VERIF, VERNOTIF).
    pub fn is_disabled(self) -> bool {
        matches!(self.0, 0x7e..=0x81 | 0x83..=0x86 | 0x8d | 0x8e | 0x95..=0x99)
    }

    /// The number pushed by OP_1NEGATE and OP_1..OP_16, if this is one of them.
    pub fn small_number(self) -> Option<i64> {
        match self.0 {
            0x4f => Some(-1),
            0x51..=0x60 => Some(i64::from(self.0) - 0x50),
            _ => None,
        }
    }

    /// The assembler name of a named opcode (`DUP`, `CHECKSIG`, …); `None` for pushes,
    /// small numbers and undefined bytes.
    pub fn name(self) -> Option<&'static str> {
        match self.class() {
            OpClass::Push | OpClass::Constant => None,
            _ => OPCODE_TABLE.iter().find(|info| info.code == self.0).map(|info| info.name),
        }
    }

    /// Looks up a named opcode by its assembler name, with or without `OP_`. Bitcoin's names
    /// of the medical slots (`NOP4`..`NOP8`) are accepted too. Push opcodes and small numbers
    /// are not names: write them as numbers or data.
    pub fn from_name(name: &str) -> Option<Opcode> {
        let bare = name.strip_prefix("OP_").unwrap_or(name);
        if let Some(&(_, code)) = BITCOIN_SLOT_NAMES.iter().find(|(alias, _)| *alias == bare) {
            return Some(Opcode(code));
        }
        OPCODE_TABLE
            .iter()
            .find(|info| info.name == bare && !matches!(info.class, OpClass::Push | OpClass::Constant))
            .map(|info| Opcode(info.code))
    }
}

impl fmt::Debug for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.name() {
            return write!(f, "OP_{name}");
        }
        match (self.0, self.small_number()) {
            (0x00, _) => f.write_str("OP_0"),
            (_, Some(n)) => write!(f, "OP_{n}"),
            (0x01..=0x4b, _) => write!(f, "OP_PUSHBYTES_{}", self.0),
            (0x4c..=0x4e, _) => write!(f, "OP_PUSHDATA{}", 1u8 << (self.0 - 0x4c)),
            _ => write!(f, "OP_UNKNOWN_{:#04x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_with_and_without_prefix() {
        assert_eq!(Opcode::from_name("DUP"), Some(Opcode::DUP));
        assert_eq!(Opcode::from_name("OP_CHECKMULTISIG"), Some(Opcode::CHECKMULTISIG));
        assert_eq!(Opcode::from_name("NOP2"), None);
        assert_eq!(Opcode::from_name("PUSHDATA1"), None);
        assert_eq!(Opcode::from_name("0"), None);
        assert_eq!(Opcode::from_name("RESERVED"), Some(Opcode::RESERVED));
        assert_eq!(Opcode::from_name("NOP4"), Some(Opcode::CHECKROLEVERIFY));
        assert_eq!(Opcode::from_name("OP_NOP8"), Some(Opcode::CHECKEXPIRYVERIFY));
        assert_eq!(Opcode(0xb6).name(), Some("CALLMODULEVERIFY"));
    }

    #[test]
    fn every_byte_from_0x61_to_0xb9_is_named() {
        for code in 0x61..=0xb9u8 {
            let name = Opcode(code).name().unwrap();
            assert_eq!(Opcode::from_name(name), Some(Opcode(code)));
        }
        assert_eq!(Opcode(0xba).name(), None);
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(OPCODE_TABLE.windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn displays_every_byte() {
        assert_eq!(Opcode(0x14).to_string(), "OP_PUSHBYTES_20");
        assert_eq!(Opcode(0x4d).to_string(), "OP_PUSHDATA2");
        assert_eq!(Opcode(0x55).to_string(), "OP_5");
        assert_eq!(Opcode(0xff).to_string(), "OP_UNKNOWN_0xff");
        assert_eq!(Opcode::CHECKSIG.to_string(), "OP_CHECKSIG");
    }
}
