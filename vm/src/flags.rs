//! Script verification flags, with Bitcoin Core's names and bit positions.

use std::fmt;

use thiserror::Error;

/// A set of script verification flags. Each flag only narrows what is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u32);

/// Where a flag comes from, and whether this VM runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A Bitcoin Core flag for legacy scripts: implemented.
    Bitcoin,
    /// A Bitcoin Core flag for witness or taproot scripts: refused.
    Witness,
    /// MedChain's own: implemented.
    MedChain,
}

/// One row of the flag table: its name, its bit, where it comes from.
struct FlagInfo {
    name: &'static str,
    bit: u32,
    origin: Origin,
}

macro_rules! flag_table {
    ($( $(#[$doc:meta])* $konst:ident = $bit:literal, $name:literal, $origin:ident; )*) => {
        impl Flags {
            $( $(#[$doc])* pub const $konst: Flags = Flags(1 << $bit); )*
        }
        impl Flags {
            /// Every Bitcoin Core flag for legacy scripts (the ones this VM implements, without
            /// MedChain's own).
            pub const ALL_BITCOIN: Flags =
                Flags(0 $( | if matches!(Origin::$origin, Origin::Bitcoin) { 1 << $bit } else { 0 } )*);
        }
        const FLAG_TABLE: &[FlagInfo] = &[
            $( FlagInfo { name: $name, bit: $bit, origin: Origin::$origin }, )*
        ];
    };
}

flag_table! {
    /// Evaluate pay-to-script-hash redeem scripts (BIP 16).
    P2SH = 0, "P2SH", Bitcoin;
    /// Strict signature and public key encodings, defined hash types.
    STRICTENC = 1, "STRICTENC", Bitcoin;
    /// Strict DER signatures (BIP 66).
    DERSIG = 2, "DERSIG", Bitcoin;
    /// Signatures must use the low S value.
    LOW_S = 3, "LOW_S", Bitcoin;
    /// CHECKMULTISIG's extra item must be empty (BIP 147).
    NULLDUMMY = 4, "NULLDUMMY", Bitcoin;
    /// Unlocking scripts must be push-only.
    SIGPUSHONLY = 5, "SIGPUSHONLY", Bitcoin;
    /// Pushes and numeric operands must be minimally encoded.
    MINIMALDATA = 6, "MINIMALDATA", Bitcoin;
    /// Executing an upgradable NOP fails.
    DISCOURAGE_UPGRADABLE_NOPS = 7, "DISCOURAGE_UPGRADABLE_NOPS", Bitcoin;
    /// Exactly one item must remain after evaluation (implies P2SH).
    CLEANSTACK = 8, "CLEANSTACK", Bitcoin;
    /// OP_CHECKLOCKTIMEVERIFY (BIP 65).
    CHECKLOCKTIMEVERIFY = 9, "CHECKLOCKTIMEVERIFY", Bitcoin;
    /// OP_CHECKSEQUENCEVERIFY (BIP 112).
    CHECKSEQUENCEVERIFY = 10, "CHECKSEQUENCEVERIFY", Bitcoin;
    /// Segregated witness (not supported: witness is out of scope).
    WITNESS = 11, "WITNESS", Witness;
    /// Discourage unknown witness versions (not supported).
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM = 12, "DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM", Witness;
    /// Minimal IF arguments in witness scripts (not supported).
    MINIMALIF = 13, "MINIMALIF", Witness;
    /// A failed signature check must have an empty signature.
    NULLFAIL = 14, "NULLFAIL", Bitcoin;
    /// Compressed keys only in witness scripts (not supported).
    WITNESS_PUBKEYTYPE = 15, "WITNESS_PUBKEYTYPE", Witness;
    /// OP_CODESEPARATOR and FindAndDelete matches fail in legacy scripts.
    CONST_SCRIPTCODE = 16, "CONST_SCRIPTCODE", Bitcoin;
    /// Taproot (not supported).
    TAPROOT = 17, "TAPROOT", Witness;
    /// Discourage unknown taproot leaf versions (not supported).
    DISCOURAGE_UPGRADABLE_TAPROOT_VERSION = 18, "DISCOURAGE_UPGRADABLE_TAPROOT_VERSION", Witness;
    /// Discourage OP_SUCCESSx (not supported).
    DISCOURAGE_OP_SUCCESS = 19, "DISCOURAGE_OP_SUCCESS", Witness;
    /// Discourage unknown public key types in tapscript (not supported).
    DISCOURAGE_UPGRADABLE_PUBKEYTYPE = 20, "DISCOURAGE_UPGRADABLE_PUBKEYTYPE", Witness;
    /// MedChain: the medical opcodes in the NOP4..NOP8 slots (role, key deposit, emergency,
    /// module call, expiry checks). Without it they stay NOPs.
    MEDICAL = 24, "MEDICAL", MedChain;
    /// MedChain: the argument of IF/NOTIF must be empty or exactly `01` (error `MINIMALIF`),
    /// so a third party cannot swap one true value for another.
    MINIMAL_CONDITIONS = 25, "MINIMAL_CONDITIONS", MedChain;
}

/// Why a flag list could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlagsError {
    /// A name that is not a Bitcoin Core verification flag.
    #[error("unknown verification flag `{0}`")]
    Unknown(String),
    /// A witness or taproot flag; this VM runs legacy scripts only.
    #[error("verification flag `{0}` belongs to witness or taproot, which this VM does not run")]
    Unsupported(String),
}

impl Flags {
    /// No flags.
    pub const NONE: Flags = Flags(0);

    /// The flags MedChain's chain validates with: every Bitcoin legacy flag but
    /// CONST_SCRIPTCODE, and MedChain's own. MedChain's signature digest does not hash the
    /// script code, so FindAndDelete cannot matter; CONST_SCRIPTCODE would only make an empty
    /// (dissatisfying) signature fail whenever the script contains an OP_0.
    pub const MEDCHAIN: Flags = Flags(
        (Self::ALL_BITCOIN.0 & !Self::CONST_SCRIPTCODE.0) | Self::MEDICAL.0 | Self::MINIMAL_CONDITIONS.0,
    );

    /// The flags Bitcoin enforces by consensus among those this VM implements.
    pub const CONSENSUS: Flags = Flags(
        Self::P2SH.0
            | Self::DERSIG.0
            | Self::NULLDUMMY.0
            | Self::CHECKLOCKTIMEVERIFY.0
            | Self::CHECKSEQUENCEVERIFY.0,
    );

    /// The raw bit set.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two sets.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// This set without the flags of `other`.
    pub const fn difference(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }

    /// The flags of `self` that are also in `allowed`.
    pub const fn intersection(self, allowed: Flags) -> Flags {
        Flags(self.0 & allowed.0)
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses Core's comma-separated flag names (`"P2SH,STRICTENC"`; `""` and `"NONE"` are
    /// no flags).
    /// Witness and taproot flags are refused with [`FlagsError::Unsupported`].
    pub fn parse(text: &str) -> Result<Flags, FlagsError> {
        let mut flags = Flags::NONE;
        for name in text.split(',').filter(|n| !n.is_empty() && *n != "NONE") {
            let info = FLAG_TABLE
                .iter()
                .find(|info| info.name == name)
                .ok_or_else(|| FlagsError::Unknown(name.to_owned()))?;
            if info.origin == Origin::Witness {
                return Err(FlagsError::Unsupported(name.to_owned()));
            }
            flags.0 |= 1 << info.bit;
        }
        Ok(flags)
    }

    /// Each flag of this set on its own, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Flags> {
        (0..32).map(|bit| Flags(1 << bit)).filter(move |flag| self.contains(*flag))
    }

    /// Core's names of the flags in this set, in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        FLAG_TABLE.iter().filter(move |info| self.0 & (1 << info.bit) != 0).map(|info| info.name)
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.names().collect();
        f.write_str(&names.join(","))
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_core_names_and_round_trips() {
        let flags = Flags::parse("P2SH,STRICTENC").unwrap();
        assert_eq!(flags, Flags::P2SH | Flags::STRICTENC);
        assert_eq!(flags.to_string(), "P2SH,STRICTENC");
        assert_eq!(Flags::parse(""), Ok(Flags::NONE));
        assert_eq!(Flags::parse("CONST_SCRIPTCODE").unwrap().bits(), 1 << 16);
    }

    #[test]
    fn refuses_unknown_and_witness_flags() {
        assert_eq!(Flags::parse("P2SH,BOGUS"), Err(FlagsError::Unknown("BOGUS".into())));
        assert_eq!(Flags::parse("WITNESS"), Err(FlagsError::Unsupported("WITNESS".into())));
        assert_eq!(Flags::parse("p2sh"), Err(FlagsError::Unknown("p2sh".into())));
    }

    #[test]
    fn all_bitcoin_has_the_thirteen_legacy_flags() {
        assert_eq!(Flags::ALL_BITCOIN.names().count(), 13);
        assert!(!Flags::ALL_BITCOIN.contains(Flags::WITNESS));
        assert!(!Flags::ALL_BITCOIN.contains(Flags::MEDICAL));
        assert_eq!(
            Flags::parse("MEDICAL,MINIMAL_CONDITIONS"),
            Ok(Flags::MEDICAL | Flags::MINIMAL_CONDITIONS)
        );
    }
}
