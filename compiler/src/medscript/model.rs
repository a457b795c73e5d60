//! The checked policy: names resolved, types checked, ready to explain, compile and satisfy.

use std::collections::BTreeMap;

use super::types::{Type, Value};

/// A value in a condition: a parameter (bound when compiling) or a literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ref {
    /// A parameter, by name.
    Param(String),
    /// A literal value.
    Literal(Value),
}

/// A condition a clause requires.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cond {
    /// A signature by the key.
    Sig(Ref),
    /// `k` signatures by distinct keys of `keys`, in key order.
    Multi {
        /// How many.
        k: usize,
        /// Of these.
        keys: Vec<Ref>,
    },
    /// `k` of the conditions hold.
    Thresh {
        /// How many.
        k: usize,
        /// Of these.
        subs: Vec<Cond>,
    },
    /// All hold.
    And(Vec<Cond>),
    /// One holds.
    Or(Vec<Cond>),
    /// The transaction's lock time has reached a height or time.
    After(Ref),
    /// The access expires at or before a height or time.
    Before(Ref),
    /// A relative lock (blocks or time) has passed since the record was stored.
    Older(Ref),
    /// The preimage of a SHA-256 hash is revealed.
    Sha256(Ref),
    /// A key holds a role.
    Role {
        /// The key.
        key: Ref,
        /// The role.
        role: Ref,
    },
    /// A signature by some key that holds the role (the key comes with the unlocking script).
    RoleSig {
        /// The role.
        role: Ref,
        /// Whether the access must also carry a key deposit addressed to that key.
        deposit: bool,
    },
    /// The access carries a key deposit addressed to the key.
    Deposit(Ref),
    /// An emergency access with a justification, expiring within a number of blocks.
    Emergency(Ref),
    /// A wasm policy module allows the access.
    Module {
        /// The module's hash.
        module: Ref,
        /// Arguments passed to it.
        args: Vec<Ref>,
    },
}

impl Cond {
    /// Every sub-condition, depth first, this one included.
    pub fn walk(&self) -> Vec<&Cond> {
        let mut out = vec![self];
        match self {
            Cond::Thresh { subs, .. } | Cond::And(subs) | Cond::Or(subs) => {
                for sub in subs {
                    out.extend(sub.walk());
                }
            }
            _ => {}
        }
        out
    }

    /// Every value this condition refers to.
    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            Cond::Sig(r) | Cond::After(r) | Cond::Before(r) | Cond::Older(r) | Cond::Sha256(r) => vec![r],
            Cond::Deposit(r) | Cond::Emergency(r) => vec![r],
            Cond::RoleSig { role, .. } => vec![role],
            Cond::Role { key, role } => vec![key, role],
            Cond::Multi { keys, .. } => keys.iter().collect(),
            Cond::Module { module, args } => std::iter::once(module).chain(args).collect(),
            Cond::Thresh { subs, .. } | Cond::And(subs) | Cond::Or(subs) => {
                subs.iter().flat_map(Cond::refs).collect()
            }
        }
    }

    /// The shape the compiler and the satisfier both work from: `thresh(n, …)` of n is `and`,
    /// `thresh(1, …)` is `or` unless every sub-condition is a signature (then it stays a
    /// threshold and compiles to CHECKMULTISIG), and nested `and`/`or` are flattened.
    pub fn normalized(&self) -> Cond {
        match self {
            Cond::Thresh { k, subs } if *k == subs.len() => Cond::And(subs.clone()).normalized(),
            Cond::Thresh { k: 1, subs } if !subs.iter().all(|s| matches!(s, Cond::Sig(_))) => {
                Cond::Or(subs.clone()).normalized()
            }
            Cond::Thresh { k, subs } => {
                Cond::Thresh { k: *k, subs: subs.iter().map(Cond::normalized).collect() }
            }
            Cond::And(subs) => {
                let mut out = Vec::new();
                for sub in subs.iter().map(Cond::normalized) {
                    match sub {
                        Cond::And(inner) => out.extend(inner),
                        other => out.push(other),
                    }
                }
                // End with the condition whose result-leaving form saves the most, so the
                // clause needs no trailing `1` (and a final lock check needs no DROP).
                let best = out.iter().map(Cond::final_position_saving).max().unwrap_or(0);
                if let Some(last) = out.iter().rposition(|c| best > 0 && c.final_position_saving() == best) {
                    let moved = out.remove(last);
                    out.push(moved);
                }
                Cond::And(out)
            }
            Cond::Or(subs) => {
                let mut out = Vec::new();
                for sub in subs.iter().map(Cond::normalized) {
                    match sub {
                        Cond::Or(inner) => out.extend(inner),
                        other => out.push(other),
                    }
                }
                Cond::Or(out)
            }
            other => other.clone(),
        }
    }

    /// Whether the compiler has a form of this condition that leaves true or false (instead of
    /// only verifying it).
    pub fn has_boolean_form(&self) -> bool {
        match self {
            Cond::Sig(_)
            | Cond::Multi { .. }
            | Cond::Sha256(_)
            | Cond::RoleSig { .. }
            | Cond::Thresh { .. } => true,
            Cond::Or(subs) => subs.iter().all(Cond::has_boolean_form),
            Cond::And(subs) => subs.iter().any(Cond::has_boolean_form),
            _ => false,
        }
    }

    /// Bytes saved by compiling this condition last in a clause: a lock or deposit check can
    /// leave its (true) operand instead of dropping it and pushing `1`; a condition with a
    /// boolean form saves the `1`.
    pub fn final_position_saving(&self) -> u8 {
        match self {
            Cond::After(_) | Cond::Before(_) | Cond::Older(_) | Cond::Emergency(_) | Cond::Deposit(_) => 2,
            c if c.has_boolean_form() => 1,
            _ => 0,
        }
    }

    /// For an alternative that requires a plain signature and something more: the key, and
    /// the rest. The compiler lets that signature (or its empty dissatisfaction) choose the
    /// branch, so the alternative needs no selector. (A lone signature keeps its selector:
    /// `IF <a> ELSE <b> ENDIF CHECKSIG` is as small.)
    pub fn signature_and_rest(&self) -> Option<(&Ref, Cond)> {
        let Cond::And(subs) = self else { return None };
        let position = subs.iter().position(|s| matches!(s, Cond::Sig(_)))?;
        let Some(Cond::Sig(key)) = subs.get(position) else { return None };
        let mut rest: Vec<Cond> =
            subs.iter().enumerate().filter(|(i, _)| *i != position).map(|(_, s)| s.clone()).collect();
        let rest = match rest.len() {
            0 => return None,
            1 => rest.pop()?,
            _ => Cond::And(rest).normalized(),
        };
        Some((key, rest))
    }

    /// Whether every way of satisfying this condition needs a signature.
    pub fn needs_signature(&self) -> bool {
        match self {
            Cond::Sig(_) | Cond::RoleSig { .. } => true,
            Cond::Multi { k, .. } => *k > 0,
            Cond::And(subs) => subs.iter().any(Cond::needs_signature),
            Cond::Or(subs) => subs.iter().all(Cond::needs_signature),
            Cond::Thresh { k, subs } => subs.iter().filter(|s| !s.needs_signature()).count() < *k,
            _ => false,
        }
    }
}

/// A checked clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedClause {
    /// Its label.
    pub label: String,
    /// What it requires.
    pub cond: Cond,
}

/// A declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDecl {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
}

/// A policy that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedPolicy {
    /// Its name.
    pub name: String,
    /// Its parameters, in order.
    pub params: Vec<ParamDecl>,
    /// Its clauses, in order; any one grants access.
    pub clauses: Vec<CheckedClause>,
}

impl CheckedPolicy {
    /// The declared type of a parameter.
    pub fn param_type(&self, name: &str) -> Option<Type> {
        self.params.iter().find(|p| p.name == name).map(|p| p.ty)
    }
}

/// Parameter values for compiling a policy.
pub type Arguments = BTreeMap<String, Value>;
