//! Code generation: a checked policy and its arguments to IR, then optimized canonical bytes,
//! with the clause metadata the satisfier needs.
//!
//! Every clause compiles to code that consumes its unlocking items and leaves exactly one true
//! item; clauses are chosen by `IF`/`ELSE` selectors (strict under MINIMAL_CONDITIONS, so a
//! third party cannot swap them). Conditions compile in "verify" form (consume, leave nothing,
//! fail if unmet) except the last of a clause, which leaves its result.

use std::collections::BTreeSet;

use medchain_vm::Opcode;
use medchain_vm::limits::{MAX_OPS_PER_SCRIPT, MAX_SCRIPT_ELEMENT_SIZE, MAX_SCRIPT_SIZE, MAX_STACK_SIZE};
use thiserror::Error;

use super::ir::{Ir, lower, optimize, static_op_count};
use super::model::{Arguments, CheckedPolicy, Cond, Ref};
use super::paths::paths;
use super::types::{Duration, LOCKTIME_THRESHOLD, Type, Value};

/// Why a checked policy could not be compiled with the given arguments.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompileError {
    /// A parameter has no value.
    #[error("parameter `{0}` has no value")]
    MissingArgument(String),
    /// A value was given for a name that is not a parameter.
    #[error("`{0}` is not a parameter of this policy")]
    UnknownArgument(String),
    /// A value of the wrong type.
    #[error("parameter `{name}` is a {expected}, but the value is a {found}")]
    WrongType {
        /// The parameter.
        name: String,
        /// Its type.
        expected: &'static str,
        /// The value's type.
        found: &'static str,
    },
    /// Two key parameters bound to the same key.
    #[error("parameters `{0}` and `{1}` are the same key")]
    DuplicateKey(String, String),
    /// An emergency bound given in time units.
    #[error("the emergency bound `{0}` must be a number of blocks")]
    EmergencyBoundNotBlocks(String),
    /// A clause mixes block-based and time-based relative locks.
    #[error("clause \"{0}\" mixes block-based and time-based relative locks")]
    MixedRelativeLocks(String),
    /// The script exceeds a consensus limit.
    #[error("the compiled script {0}")]
    Limit(String),
}

/// A compiled policy: its bytes, its IR and what the satisfier needs to unlock it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// The locking script.
    pub script: Vec<u8>,
    /// The optimized IR it was lowered from.
    pub ir: Vec<Ir>,
    /// Opcodes counted toward the 201 limit (upper bound over all paths).
    pub op_count: usize,
    /// The policy and arguments it was compiled from.
    pub policy: CheckedPolicy,
    /// The arguments.
    pub args: Arguments,
}

impl Compiled {
    /// The value of a reference under this policy's arguments.
    pub fn resolve(&self, r: &Ref) -> Option<Value> {
        resolve(&self.args, r).ok()
    }
}

/// Stand-in arguments of the largest encodings (distinct valid keys, 5-byte times), so a policy
/// can be compiled to check limits before its real arguments are known.
pub fn placeholder_arguments(policy: &CheckedPolicy) -> Arguments {
    policy
        .params
        .iter()
        .enumerate()
        .map(|(i, param)| {
            let seed = u32::try_from(i).unwrap_or(u32::MAX).to_le_bytes();
            let digest = |tag: u8| -> [u8; 32] {
                use sha2::{Digest, Sha256};
                Sha256::digest([&[tag][..], &seed].concat()).into()
            };
            let value = match param.ty {
                Type::PubKey => Value::PubKey(
                    secp256k1::SecretKey::from_byte_array(digest(0))
                        .map(|s| secp256k1::PublicKey::from_secret_key(secp256k1::SECP256K1, &s).serialize())
                        .unwrap_or([2; 33]),
                ),
                Type::Hash => Value::Hash(digest(1)),
                Type::Module => Value::Module(digest(2)),
                Type::Height => Value::Height(LOCKTIME_THRESHOLD - 1),
                Type::Time => Value::Time(u32::MAX),
                Type::Duration => Value::Duration(Duration::Blocks(0xffff)),
                Type::Role => Value::Role(u32::MAX, "placeholder".into()),
                Type::Number => Value::Number(i64::from(u32::MAX)),
            };
            (param.name.clone(), value)
        })
        .collect()
}

/// The value a reference stands for.
pub fn resolve(args: &Arguments, r: &Ref) -> Result<Value, CompileError> {
    match r {
        Ref::Literal(value) => Ok(value.clone()),
        Ref::Param(name) => {
            args.get(name).cloned().ok_or_else(|| CompileError::MissingArgument(name.clone()))
        }
    }
}

/// Compiles a checked policy with its arguments.
pub fn compile(policy: &CheckedPolicy, args: &Arguments) -> Result<Compiled, CompileError> {
    check_arguments(policy, args)?;
    let generator = Generator { args };
    for clause in &policy.clauses {
        check_relative_locks(&clause.label, &clause.cond, args)?;
    }
    let clauses: Vec<Cond> = policy.clauses.iter().map(|c| c.cond.normalized()).collect();
    let ir = optimize(generator.alternatives(&clauses, true)?);
    let script = lower(&ir);
    let op_count = static_op_count(&script);
    if script.len() > MAX_SCRIPT_SIZE {
        return Err(CompileError::Limit(format!("is {} bytes, more than {MAX_SCRIPT_SIZE}", script.len())));
    }
    if op_count > MAX_OPS_PER_SCRIPT {
        return Err(CompileError::Limit(format!(
            "counts {op_count} opcodes, more than {MAX_OPS_PER_SCRIPT}"
        )));
    }
    let stack = max_stack_items(policy);
    if stack > MAX_STACK_SIZE {
        return Err(CompileError::Limit(format!("may need {stack} stack items, more than {MAX_STACK_SIZE}")));
    }
    for instruction in medchain_vm::script::instructions(&script).map_while(Result::ok) {
        if instruction.data.len() > MAX_SCRIPT_ELEMENT_SIZE {
            return Err(CompileError::Limit(format!(
                "pushes {} bytes, more than {MAX_SCRIPT_ELEMENT_SIZE}",
                instruction.data.len()
            )));
        }
    }
    Ok(Compiled { script, ir, op_count, policy: policy.clone(), args: args.clone() })
}

fn check_arguments(policy: &CheckedPolicy, args: &Arguments) -> Result<(), CompileError> {
    if let Some(unknown) = args.keys().find(|name| policy.param_type(name).is_none()) {
        return Err(CompileError::UnknownArgument(unknown.clone()));
    }
    let mut keys: Vec<(&[u8; 33], &str)> = Vec::new();
    for param in &policy.params {
        let value = args.get(&param.name).ok_or_else(|| CompileError::MissingArgument(param.name.clone()))?;
        if value.ty() != param.ty {
            return Err(CompileError::WrongType {
                name: param.name.clone(),
                expected: param.ty.name(),
                found: value.ty().name(),
            });
        }
        if let Value::PubKey(key) = value {
            if let Some((_, other)) = keys.iter().find(|(k, _)| *k == key) {
                return Err(CompileError::DuplicateKey((*other).to_owned(), param.name.clone()));
            }
            keys.push((key, &param.name));
        }
    }
    for clause in &policy.clauses {
        for cond in clause.cond.walk() {
            if let Cond::Emergency(r) = cond
                && let Value::Duration(Duration::TimeUnits(_)) = resolve(args, r)?
            {
                return Err(CompileError::EmergencyBoundNotBlocks(resolve(args, r)?.to_string()));
            }
        }
    }
    Ok(())
}

fn check_relative_locks(label: &str, cond: &Cond, args: &Arguments) -> Result<(), CompileError> {
    let Some(paths) = paths(cond) else { return Ok(()) };
    let mixed = |path: &Vec<&Cond>| -> Result<bool, CompileError> {
        let mut kinds = BTreeSet::new();
        for c in path {
            if let Cond::Older(r) = c
                && let Value::Duration(d) = resolve(args, r)?
            {
                kinds.insert(matches!(d, Duration::Blocks(_)));
            }
        }
        Ok(kinds.len() > 1)
    };
    let mut all_mixed = !paths.is_empty();
    for path in &paths {
        all_mixed &= mixed(path)?;
    }
    if all_mixed { Err(CompileError::MixedRelativeLocks(label.to_owned())) } else { Ok(()) }
}

/// Most stack items any satisfaction may need: unlocking items plus the pushes the script
/// makes on top of them (a generous bound).
fn max_stack_items(policy: &CheckedPolicy) -> usize {
    fn items(cond: &Cond) -> usize {
        match cond {
            Cond::Sig(_) | Cond::Sha256(_) => 3,
            Cond::RoleSig { .. } => 4,
            Cond::Multi { k, keys } => 3 + k + keys.len(),
            Cond::Module { args, .. } => args.len() + 2,
            Cond::And(subs) | Cond::Thresh { subs, .. } | Cond::Or(subs) => {
                subs.iter().map(items).sum::<usize>() + subs.len() + 1
            }
            _ => 2,
        }
    }
    policy.clauses.len() + policy.clauses.iter().map(|c| items(&c.cond)).max().unwrap_or(0)
}

struct Generator<'a> {
    args: &'a Arguments,
}

impl Generator<'_> {
    fn value(&self, r: &Ref) -> Result<Value, CompileError> {
        resolve(self.args, r)
    }

    /// The push of a value.
    fn push(&self, r: &Ref) -> Result<Ir, CompileError> {
        Ok(match self.value(r)? {
            Value::PubKey(key) => Ir::Push(key.to_vec()),
            Value::Hash(hash) | Value::Module(hash) => Ir::Push(hash.to_vec()),
            Value::Height(n) | Value::Time(n) => Ir::Num(i64::from(n)),
            Value::Duration(d) => Ir::Num(d.sequence()),
            Value::Role(id, _) => Ir::Num(i64::from(id)),
            Value::Number(n) => Ir::Num(n),
        })
    }

    /// A clause's top-level code: consumes its items and leaves one true item.
    fn top(&self, cond: &Cond) -> Result<Vec<Ir>, CompileError> {
        match cond {
            Cond::And(subs) => {
                let Some((last, init)) = subs.split_last() else { return Ok(vec![Ir::Num(1)]) };
                let mut code = Vec::new();
                for sub in init {
                    code.extend(self.verify(sub)?);
                }
                code.extend(self.top(last)?);
                Ok(code)
            }
            Cond::Or(subs) => self.alternatives(subs, true),
            Cond::After(r) | Cond::Before(r) | Cond::Older(r) | Cond::Emergency(r) | Cond::Deposit(r)
                if self.is_truthy(r)? =>
            {
                // Leave the (true) operand as the result instead of dropping it.
                let mut code = self.verify(cond)?;
                code.pop();
                Ok(code)
            }
            _ => match self.boolean(cond)? {
                Some(code) => Ok(code),
                None => {
                    let mut code = self.verify(cond)?;
                    code.push(Ir::Num(1));
                    Ok(code)
                }
            },
        }
    }

    /// Whether a value's push is true as a stack item (non-zero).
    fn is_truthy(&self, r: &Ref) -> Result<bool, CompileError> {
        Ok(match self.value(r)? {
            Value::Height(n) | Value::Time(n) => n != 0,
            Value::Duration(d) => d.sequence() != 0,
            Value::Number(n) => n != 0,
            Value::Role(id, _) => id != 0,
            Value::PubKey(_) | Value::Hash(_) | Value::Module(_) => true,
        })
    }

    /// One of several alternatives, in top form (`top`) or verify form. An alternative that
    /// needs a plain signature and more is chosen by that signature: `<key> CHECKSIG IF rest
    /// ELSE others ENDIF`, where an empty signature (the only failing one NULLFAIL allows)
    /// picks the others; any other alternative is chosen by a selector: `IF alt ELSE others
    /// ENDIF`.
    pub(crate) fn alternatives(&self, subs: &[Cond], top: bool) -> Result<Vec<Ir>, CompileError> {
        let form = |c: &Cond| if top { self.top(c) } else { self.verify(c) };
        let Some((first, rest)) = subs.split_first() else { return Ok(Vec::new()) };
        if rest.is_empty() {
            return form(first);
        }
        let others = self.alternatives(rest, top)?;
        match first.signature_and_rest() {
            Some((key, rest)) => Ok(vec![
                self.push(key)?,
                Ir::Op(Opcode::CHECKSIG),
                Ir::If { then: form(&rest)?, otherwise: others },
            ]),
            None => Ok(vec![Ir::If { then: form(first)?, otherwise: others }]),
        }
    }

    /// The form that leaves true or false, for conditions that have one
    /// ([`Cond::has_boolean_form`]).
    fn boolean(&self, cond: &Cond) -> Result<Option<Vec<Ir>>, CompileError> {
        Ok(Some(match cond {
            Cond::Sig(key) => vec![self.push(key)?, Ir::Op(Opcode::CHECKSIG)],
            Cond::Multi { k, keys } => self.multi(*k, keys)?,
            Cond::Sha256(hash) => vec![
                Ir::Op(Opcode::SIZE),
                Ir::Num(32),
                Ir::Op(Opcode::EQUAL),
                Ir::Op(Opcode::VERIFY),
                Ir::Op(Opcode::SHA256),
                self.push(hash)?,
                Ir::Op(Opcode::EQUAL),
            ],
            Cond::RoleSig { role, deposit } => {
                let mut code = vec![self.push(role)?, Ir::Op(Opcode::CHECKROLEVERIFY), Ir::Op(Opcode::DROP)];
                if *deposit {
                    code.push(Ir::Op(Opcode::CHECKDEPOSITVERIFY));
                }
                code.push(Ir::Op(Opcode::CHECKSIG));
                code
            }
            Cond::Thresh { k, subs } => self.thresh(*k, subs)?,
            _ => return Ok(None),
        }))
    }

    /// The verify form: consumes its items, leaves nothing, fails unless met.
    fn verify(&self, cond: &Cond) -> Result<Vec<Ir>, CompileError> {
        let with_drop = |operand: Ir, op: Opcode| vec![operand, Ir::Op(op), Ir::Op(Opcode::DROP)];
        Ok(match cond {
            Cond::And(subs) => {
                let mut code = Vec::new();
                for sub in subs {
                    code.extend(self.verify(sub)?);
                }
                code
            }
            Cond::Or(subs) => self.alternatives(subs, false)?,
            Cond::After(r) => with_drop(self.push(r)?, Opcode::CHECKLOCKTIMEVERIFY),
            Cond::Before(r) => with_drop(self.push(r)?, Opcode::CHECKEXPIRYVERIFY),
            Cond::Older(r) => with_drop(self.push(r)?, Opcode::CHECKSEQUENCEVERIFY),
            Cond::Emergency(r) => with_drop(self.push(r)?, Opcode::CHECKEMERGENCYVERIFY),
            Cond::Deposit(key) => with_drop(self.push(key)?, Opcode::CHECKDEPOSITVERIFY),
            Cond::Role { key, role } => {
                vec![
                    self.push(key)?,
                    self.push(role)?,
                    Ir::Op(Opcode::CHECKROLEVERIFY),
                    Ir::Op(Opcode::TWO_DROP),
                ]
            }
            Cond::Module { module, args } => {
                let mut code: Vec<Ir> = args.iter().map(|a| self.push(a)).collect::<Result<_, _>>()?;
                code.push(Ir::Num(i64::try_from(args.len()).unwrap_or(i64::MAX)));
                code.push(self.push(module)?);
                code.push(Ir::Op(Opcode::CALLMODULEVERIFY));
                code.extend(std::iter::repeat_n(Ir::Op(Opcode::DROP), args.len() + 2));
                code
            }
            other => {
                let mut code = self.boolean(other)?.unwrap_or_default();
                code.push(Ir::Op(Opcode::VERIFY));
                code
            }
        })
    }

    fn multi(&self, k: usize, keys: &[Ref]) -> Result<Vec<Ir>, CompileError> {
        let mut code = vec![Ir::Num(i64::try_from(k).unwrap_or(i64::MAX))];
        for key in keys {
            code.push(self.push(key)?);
        }
        code.push(Ir::Num(i64::try_from(keys.len()).unwrap_or(i64::MAX)));
        code.push(Ir::Op(Opcode::CHECKMULTISIG));
        Ok(code)
    }

    /// `k` of `subs`: all-signature thresholds become CHECKMULTISIG; otherwise each
    /// signature adds its CHECKSIG result and every other sub-condition is chosen by a
    /// selector (`IF cond 1 ELSE 0 ENDIF`), then the count is compared with `k`.
    fn thresh(&self, k: usize, subs: &[Cond]) -> Result<Vec<Ir>, CompileError> {
        let keys: Option<Vec<Ref>> =
            subs.iter().map(|s| if let Cond::Sig(key) = s { Some(key.clone()) } else { None }).collect();
        if let Some(keys) = keys.filter(|keys| keys.len() <= medchain_vm::limits::MAX_PUBKEYS_PER_MULTISIG) {
            return self.multi(k, &keys);
        }
        let mut code = Vec::new();
        for (i, sub) in subs.iter().enumerate() {
            let counted = match sub {
                Cond::Sig(key) => vec![self.push(key)?, Ir::Op(Opcode::CHECKSIG)],
                other => vec![Ir::If {
                    then: [self.verify(other)?, vec![Ir::Num(1)]].concat(),
                    otherwise: vec![Ir::Num(0)],
                }],
            };
            if i == 0 {
                code.extend(counted);
            } else if matches!(sub, Cond::Sig(_)) {
                code.push(Ir::Op(Opcode::SWAP));
                code.extend(counted);
                code.push(Ir::Op(Opcode::ADD));
            } else {
                code.push(Ir::Op(Opcode::TOALTSTACK));
                code.extend(counted);
                code.push(Ir::Op(Opcode::FROMALTSTACK));
                code.push(Ir::Op(Opcode::ADD));
            }
        }
        code.push(Ir::Num(i64::try_from(k).unwrap_or(i64::MAX)));
        code.push(Ir::Op(Opcode::EQUAL));
        Ok(code)
    }
}
