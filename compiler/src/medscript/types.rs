//! MedScript's types, the values a parameter can take, and how argument text is read.

use std::fmt;

use crate::medscript::roles::RoleRegistry;

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// A compressed secp256k1 public key: a party.
    PubKey,
    /// A SHA-256 digest, for hash preimage conditions.
    Hash,
    /// An absolute block height.
    Height,
    /// An absolute time (Unix seconds, from 500,000,000 on).
    Time,
    /// A relative lock: a number of blocks, or of 512-second units.
    Duration,
    /// A role from the chain's role registry.
    Role,
    /// A wasm policy module's hash.
    Module,
    /// A plain whole number, e.g. a purpose code passed to a policy module.
    Number,
}

impl Type {
    /// Every type, with its MedScript name.
    pub const ALL: [(Type, &'static str); 8] = [
        (Type::PubKey, "pubkey"),
        (Type::Hash, "hash"),
        (Type::Height, "height"),
        (Type::Time, "time"),
        (Type::Duration, "duration"),
        (Type::Role, "role"),
        (Type::Module, "module"),
        (Type::Number, "number"),
    ];

    /// The type with this MedScript name.
    pub fn from_name(name: &str) -> Option<Type> {
        Type::ALL.iter().find(|(_, n)| *n == name).map(|(t, _)| *t)
    }

    /// The MedScript name.
    pub fn name(self) -> &'static str {
        Type::ALL.iter().find(|(t, _)| *t == self).map_or("?", |(_, n)| n)
    }

    /// How an argument of this type is written, for help lines.
    pub fn example(self) -> &'static str {
        match self {
            Type::PubKey => "66 hex digits of a compressed key, e.g. 02a1…",
            Type::Hash => "64 hex digits",
            Type::Height => "a block height below 500000000, e.g. 650000",
            Type::Time => "Unix seconds from 500000000 on, e.g. 1767225600",
            Type::Duration => "a number with a unit: `144 blocks`, `30 days`",
            Type::Role => "a role name such as `medical_institution`, or its number",
            Type::Module => "64 hex digits (the module's SHA-256)",
            Type::Number => "a whole number, e.g. 7",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Largest role number: scripts read roles as 4-byte script numbers.
pub const MAX_ROLE: u32 = 0x7fff_ffff;

/// Lock times from this value on are Unix times, below it block heights (Bitcoin's rule).
pub const LOCKTIME_THRESHOLD: u32 = 500_000_000;

/// Largest relative lock value (BIP 68: 16 bits).
pub const MAX_RELATIVE: u32 = 0xffff;

/// Seconds per unit of a time-based relative lock (BIP 68).
pub const RELATIVE_TIME_UNIT: u32 = 512;

/// A relative lock's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duration {
    /// A number of blocks.
    Blocks(u32),
    /// A number of 512-second units.
    TimeUnits(u32),
}

impl Duration {
    /// The CHECKSEQUENCEVERIFY operand (BIP 68 encoding).
    pub fn sequence(self) -> i64 {
        match self {
            Duration::Blocks(n) => i64::from(n),
            Duration::TimeUnits(n) => i64::from(n) | (1 << 22),
        }
    }

    /// Reads `144 blocks`, `7 days`, `12 hours`, `30 minutes`, `600 seconds`, `2 weeks`.
    /// Times round up to whole 512-second units.
    pub fn from_quantity(value: u64, unit: &str) -> Result<Duration, String> {
        let seconds_per = match unit {
            "block" | "blocks" => {
                let blocks = u32::try_from(value).ok().filter(|&b| b <= MAX_RELATIVE);
                return blocks.map(Duration::Blocks).ok_or(format!("at most {MAX_RELATIVE} blocks"));
            }
            "second" | "seconds" => 1,
            "minute" | "minutes" => 60,
            "hour" | "hours" => 3_600,
            "day" | "days" => 86_400,
            "week" | "weeks" => 604_800,
            other => return Err(format!("unknown unit `{other}`")),
        };
        let seconds = value.checked_mul(seconds_per).ok_or("too long")?;
        let units = seconds.div_ceil(u64::from(RELATIVE_TIME_UNIT));
        u32::try_from(units)
            .ok()
            .filter(|&u| u <= MAX_RELATIVE)
            .map(Duration::TimeUnits)
            .ok_or(format!("at most {} seconds (about 388 days)", u64::from(MAX_RELATIVE) * 512))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Duration::Blocks(1) => f.write_str("1 block"),
            Duration::Blocks(n) => write!(f, "{n} blocks"),
            Duration::TimeUnits(n) => {
                let seconds = u64::from(*n) * u64::from(RELATIVE_TIME_UNIT);
                if seconds % 86_400 == 0 {
                    write!(f, "{} days", seconds / 86_400)
                } else {
                    write!(f, "{seconds} seconds")
                }
            }
        }
    }
}

/// A value bound to a parameter or written as a literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A compressed public key.
    PubKey([u8; 33]),
    /// A SHA-256 digest.
    Hash([u8; 32]),
    /// A block height.
    Height(u32),
    /// A Unix time.
    Time(u32),
    /// A relative lock.
    Duration(Duration),
    /// A role's number and name.
    Role(u32, String),
    /// A module hash.
    Module([u8; 32]),
    /// A whole number.
    Number(i64),
}

impl Value {
    /// The type of this value.
    pub fn ty(&self) -> Type {
        match self {
            Value::PubKey(_) => Type::PubKey,
            Value::Hash(_) => Type::Hash,
            Value::Height(_) => Type::Height,
            Value::Time(_) => Type::Time,
            Value::Duration(_) => Type::Duration,
            Value::Role(..) => Type::Role,
            Value::Module(_) => Type::Module,
            Value::Number(_) => Type::Number,
        }
    }

    /// Reads an argument of type `ty` from text.
    pub fn parse(ty: Type, text: &str, roles: &RoleRegistry) -> Result<Value, String> {
        let text = text.trim();
        let number =
            || text.replace('_', "").parse::<u32>().map_err(|_| format!("`{text}` is not a whole number"));
        match ty {
            Type::PubKey => {
                let bytes: [u8; 33] = hex_array(text)?;
                secp256k1::PublicKey::from_slice(&bytes)
                    .map_err(|_| format!("`{text}` is not a valid public key"))?;
                Ok(Value::PubKey(bytes))
            }
            Type::Hash => Ok(Value::Hash(hex_array(text)?)),
            Type::Module => Ok(Value::Module(hex_array(text)?)),
            Type::Height => match number()? {
                h if h < LOCKTIME_THRESHOLD => Ok(Value::Height(h)),
                _ => Err(format!("`{text}` is a time, not a height: heights are below {LOCKTIME_THRESHOLD}")),
            },
            Type::Time => match number()? {
                t if t >= LOCKTIME_THRESHOLD => Ok(Value::Time(t)),
                _ => Err(format!("`{text}` is a height, not a time: times are from {LOCKTIME_THRESHOLD} on")),
            },
            Type::Duration => {
                let (value, unit) =
                    text.split_once(char::is_whitespace).ok_or("write a number and a unit")?;
                let value = value
                    .replace('_', "")
                    .parse::<u64>()
                    .map_err(|_| format!("`{value}` is not a number"))?;
                Ok(Value::Duration(Duration::from_quantity(value, unit.trim())?))
            }
            Type::Number => text
                .replace('_', "")
                .parse::<i64>()
                .ok()
                .filter(|n| n.unsigned_abs() <= u64::from(u32::MAX))
                .map(Value::Number)
                .ok_or(format!("`{text}` is not a whole number between -4294967295 and 4294967295")),
            Type::Role => {
                if let Ok(id) = number() {
                    if id > MAX_ROLE {
                        return Err(format!("role numbers go up to {MAX_ROLE}"));
                    }
                    return Ok(Value::Role(
                        id,
                        roles.name(id).map_or_else(|| format!("role {id}"), str::to_owned),
                    ));
                }
                roles.id(text).map(|id| Value::Role(id, text.to_owned())).ok_or_else(|| {
                    format!(
                        "unknown role `{text}`; known roles: {}",
                        roles.names().collect::<Vec<_>>().join(", ")
                    )
                })
            }
        }
    }
}

fn hex_array<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes =
        hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|_| format!("`{text}` is not hex"))?;
    let len = bytes.len();
    bytes.try_into().map_err(|_| format!("expected {N} bytes ({} hex digits), found {len}", 2 * N))
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::PubKey(k) => write!(f, "{}", hex::encode(k)),
            Value::Hash(h) | Value::Module(h) => write!(f, "{}", hex::encode(h)),
            Value::Height(h) => write!(f, "height {h}"),
            Value::Time(t) => write!(f, "time {t}"),
            Value::Duration(d) => write!(f, "{d}"),
            Value::Role(_, name) => f.write_str(name),
            Value::Number(n) => write!(f, "{n}"),
        }
    }
}
