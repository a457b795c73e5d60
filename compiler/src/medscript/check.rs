//! `check`: resolves names, checks types and arity, and finds the policies that compile but
//! cannot be meant: unsatisfiable or signature-free clauses, mixed lock kinds, duplicate keys,
//! break-glass without a bound. Reports every problem it finds, not just the first.

use std::collections::{BTreeMap, BTreeSet};

use super::ast::{Expr, ExprKind, Ident, Policy, Span};
use super::codegen::{CompileError, compile, placeholder_arguments};
use super::diagnostics::Diagnostic;
use super::model::{CheckedClause, CheckedPolicy, Cond, ParamDecl, Ref};
use super::paths::{Path, paths};
use super::roles::RoleRegistry;
use super::types::{Duration, LOCKTIME_THRESHOLD, MAX_ROLE, Type, Value};

/// The functions of the language, for "did you mean" help.
const FUNCTIONS: &[&str] = &[
    "sig",
    "multi",
    "thresh",
    "after",
    "before",
    "older",
    "sha256",
    "role",
    "role_sig",
    "deposit",
    "emergency",
    "module",
];

/// Most keys in one `multi` (CHECKMULTISIG's limit).
pub const MAX_MULTI_KEYS: usize = 20;

/// Most sub-conditions in one `thresh`.
pub const MAX_THRESH_SUBS: usize = 100;

/// Names longer than this get no "did you mean" suggestion (it would cost too much).
const MAX_SUGGESTED_NAME: usize = 64;

/// Most diagnostics reported for one source; past this the check stops reporting.
pub const MAX_DIAGNOSTICS: usize = 100;

/// Checks a parsed policy. Returns the checked policy when there is no error, and every
/// diagnostic (errors and warnings) found.
pub fn check(policy: &Policy, roles: &RoleRegistry) -> (Option<CheckedPolicy>, Vec<Diagnostic>) {
    let mut checker =
        Checker { roles, params: BTreeMap::new(), used: BTreeSet::new(), diagnostics: Vec::new() };
    let params = checker.params(policy);
    if policy.clauses.is_empty() {
        checker.diagnostics.push(
            Diagnostic::error(
                "no-clauses",
                policy.name.span,
                format!("policy `{}` has no clauses", policy.name.name),
            )
            .label("nobody could ever access")
            .help("add a clause, e.g. `clause \"patient consents\" { sig(patient) }`"),
        );
    }
    let mut labels: BTreeMap<&str, Span> = BTreeMap::new();
    let mut clauses = Vec::new();
    let mut signers: BTreeMap<String, String> = BTreeMap::new();
    for clause in &policy.clauses {
        if labels.insert(&clause.label, clause.label_span).is_some() {
            checker.diagnostics.push(
                Diagnostic::error(
                    "duplicate-clause",
                    clause.label_span,
                    format!("clause \"{}\" is defined twice", clause.label),
                )
                .label("second definition")
                .help("clause labels name the ways to access a record; give each clause its own"),
            );
        }
        let Some(cond) = checker.condition(&clause.body) else { continue };
        checker.clause_checks(&clause.label, clause.label_span, &cond);
        checker.signing_keys(&clause.label, clause.label_span, &cond, &mut signers);
        clauses.push(CheckedClause { label: clause.label.clone(), cond });
    }
    for param in &policy.params {
        if !checker.used.contains(&param.name.name) {
            checker.diagnostics.push(
                Diagnostic::warning(
                    "unused-parameter",
                    param.name.span,
                    format!("parameter `{}` is never used", param.name.name),
                )
                .help("remove it, or use it in a clause"),
            );
        }
    }
    let ok = !checker.diagnostics.iter().any(Diagnostic::is_error);
    let checked = ok.then(|| CheckedPolicy { name: policy.name.name.clone(), params, clauses });
    if let Some(checked) = &checked
        && let Err(CompileError::Limit(message)) = compile(checked, &placeholder_arguments(checked))
    {
        checker.diagnostics.push(
                Diagnostic::error("limit-exceeded", policy.name.span, format!("policy `{}` is too large: {message}", policy.name.name))
                    .label("on its largest path")
                    .help("split it into simpler clauses, use `multi` for many keys, or move the rule into a policy module"),
            );
    }
    checker.diagnostics.sort_by_key(|d| d.span.start);
    let ok = !checker.diagnostics.iter().any(Diagnostic::is_error);
    let checked = checked.filter(|_| ok);
    checker.diagnostics.truncate(MAX_DIAGNOSTICS);
    (checked, checker.diagnostics)
}

struct Checker<'r> {
    roles: &'r RoleRegistry,
    params: BTreeMap<String, Type>,
    used: BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
}

/// What a value position accepts.
#[derive(Clone, Copy)]
struct Expected(&'static [Type]);

impl Expected {
    fn describe(self) -> String {
        let names: Vec<String> = self.0.iter().map(|t| article(t.name())).collect();
        match names.as_slice() {
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
            [] => "nothing".into(),
        }
    }
}

fn article(name: &str) -> String {
    if name.starts_with(['a', 'e', 'i', 'o', 'u']) { format!("an {name}") } else { format!("a {name}") }
}

impl Checker<'_> {
    fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn params(&mut self, policy: &Policy) -> Vec<crate::medscript::model::ParamDecl> {
        let mut decls = Vec::new();
        for param in &policy.params {
            let Some(ty) = Type::from_name(&param.ty.name) else {
                let names: Vec<&str> = Type::ALL.iter().map(|(_, n)| *n).collect();
                let mut d = Diagnostic::error(
                    "unknown-type",
                    param.ty.span,
                    format!("unknown type `{}`", param.ty.name),
                )
                .label("not a MedScript type");
                d = d.help(match closest(&param.ty.name, names.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`? types are {}", names.join(", ")),
                    None => format!("types are {}", names.join(", ")),
                });
                self.error(d);
                continue;
            };
            if self.params.insert(param.name.name.clone(), ty).is_some() {
                self.error(
                    Diagnostic::error(
                        "duplicate-parameter",
                        param.name.span,
                        format!("parameter `{}` is declared twice", param.name.name),
                    )
                    .help("rename one of them"),
                );
                continue;
            }
            if FUNCTIONS.contains(&param.name.name.as_str()) || self.roles.id(&param.name.name).is_some() {
                self.error(
                    Diagnostic::warning(
                        "shadowing-parameter",
                        param.name.span,
                        format!("parameter `{}` has the name of a function or role", param.name.name),
                    )
                    .help("a clearer name avoids confusion"),
                );
            }
            decls.push(ParamDecl { name: param.name.name.clone(), ty });
        }
        decls
    }

    /// An expression in condition position.
    fn condition(&mut self, expr: &Expr) -> Option<Cond> {
        match &expr.kind {
            ExprKind::Or(subs) | ExprKind::And(subs) if subs.is_empty() => None,
            ExprKind::Or(subs) => self.conditions(subs).map(Cond::Or),
            ExprKind::And(subs) => self.conditions(subs).map(Cond::And),
            ExprKind::Call { name, args } => self.call(name, args, expr.span),
            ExprKind::Name(ident) => {
                let (message, help) = match self.params.get(&ident.name) {
                    Some(Type::PubKey) => (
                        format!("`{}` is a public key, not a condition", ident.name),
                        format!("write `sig({})` to require its signature", ident.name),
                    ),
                    Some(Type::Hash) => (
                        format!("`{}` is a hash, not a condition", ident.name),
                        format!("write `sha256({})` to require its preimage", ident.name),
                    ),
                    Some(ty) => (
                        format!("`{}` is {}, not a condition", ident.name, article(ty.name())),
                        "conditions are calls such as `sig(…)` or `after(…)`".into(),
                    ),
                    None => return self.undefined(ident, None),
                };
                self.used.insert(ident.name.clone());
                self.error(
                    Diagnostic::error("not-a-condition", expr.span, message).label("a value").help(help),
                );
                None
            }
            ExprKind::Number(_) | ExprKind::Quantity { .. } => {
                self.error(
                    Diagnostic::error("not-a-condition", expr.span, "a number is not a condition")
                        .help("did you mean `after(…)`, `older(…)` or `emergency(…)`?"),
                );
                None
            }
        }
    }

    fn conditions(&mut self, exprs: &[Expr]) -> Option<Vec<Cond>> {
        let all: Vec<Option<Cond>> = exprs.iter().map(|e| self.condition(e)).collect();
        all.into_iter().collect()
    }

    fn undefined<T>(&mut self, ident: &Ident, expected: Option<Expected>) -> Option<T> {
        let candidates: Vec<String> = self
            .params
            .keys()
            .cloned()
            .chain(if expected.is_some_and(|e| e.0.contains(&Type::Role)) {
                self.roles.names().map(str::to_owned).collect()
            } else {
                Vec::new()
            })
            .chain(FUNCTIONS.iter().map(|f| (*f).to_owned()))
            .collect();
        let mut d =
            Diagnostic::error("undefined-name", ident.span, format!("`{}` is not defined", ident.name))
                .label("unknown name");
        if let Some(near) = closest(&ident.name, candidates.iter().map(String::as_str)) {
            d = d.help(format!("did you mean `{near}`?"));
        } else if let Some(expected) = expected {
            d = d.help(format!(
                "declare it as a parameter, e.g. `{}: {}`",
                ident.name,
                expected.0.first().map_or("pubkey", |t| t.name())
            ));
        }
        self.error(d);
        None
    }

    /// An expression in value position, of one of the expected types.
    fn value(&mut self, expr: &Expr, expected: Expected) -> Option<(Ref, Type)> {
        let mismatch = |found: String| {
            Diagnostic::error(
                "type-mismatch",
                expr.span,
                format!("expected {}, found {found}", expected.describe()),
            )
        };
        match &expr.kind {
            ExprKind::Name(ident) => {
                if let Some(&ty) = self.params.get(&ident.name) {
                    self.used.insert(ident.name.clone());
                    if expected.0.contains(&ty) {
                        return Some((Ref::Param(ident.name.clone()), ty));
                    }
                    let help = lock_help(ty, expected);
                    self.error(
                        mismatch(format!("`{}` of type {ty}", ident.name))
                            .label(format!("this is {}", article(ty.name())))
                            .help(help),
                    );
                    return None;
                }
                if expected.0.contains(&Type::Role)
                    && let Some(id) = self.roles.id(&ident.name)
                {
                    return Some((Ref::Literal(Value::Role(id, ident.name.clone())), Type::Role));
                }
                self.undefined(ident, Some(expected))
            }
            ExprKind::Number(text) => {
                let parsed = text.replace('_', "").parse::<u64>().ok().filter(|n| *n <= u64::from(u32::MAX));
                let Some(n) = parsed else {
                    self.error(
                        Diagnostic::error(
                            "number-out-of-range",
                            expr.span,
                            format!("number `{text}` is too large"),
                        )
                        .help("numbers go up to 4294967295"),
                    );
                    return None;
                };
                let n32 = u32::try_from(n).unwrap_or(u32::MAX);
                let mut candidates: Vec<(Value, Type)> = vec![
                    (Value::Number(i64::from(n32)), Type::Number),
                    if n32 < LOCKTIME_THRESHOLD {
                        (Value::Height(n32), Type::Height)
                    } else {
                        (Value::Time(n32), Type::Time)
                    },
                ];
                if n32 <= MAX_ROLE {
                    let name = self.roles.name(n32).map_or_else(|| format!("role {n32}"), str::to_owned);
                    candidates.push((Value::Role(n32, name), Type::Role));
                }
                if let Some((value, ty)) = candidates.into_iter().find(|(_, ty)| expected.0.contains(ty)) {
                    return Some((Ref::Literal(value), ty));
                }
                let found =
                    if n32 < LOCKTIME_THRESHOLD { "a number (a height)" } else { "a number (a time)" };
                let help = if expected.0.contains(&Type::Duration) {
                    format!("give a unit: `{text} blocks` or `{text} days`")
                } else if expected.0.contains(&Type::Height) {
                    format!("heights are below {LOCKTIME_THRESHOLD}, times from it on")
                } else {
                    format!("pass a parameter of type {}", expected.0.first().map_or("?", |t| t.name()))
                };
                self.error(mismatch(found.into()).help(help));
                None
            }
            ExprKind::Quantity { value, unit } => {
                let duration = value
                    .replace('_', "")
                    .parse::<u64>()
                    .map_err(|_| format!("`{value}` is too large"))
                    .and_then(|v| Duration::from_quantity(v, &unit.name));
                match duration {
                    Ok(d) if expected.0.contains(&Type::Duration) => {
                        Some((Ref::Literal(Value::Duration(d)), Type::Duration))
                    }
                    Ok(_) => {
                        self.error(mismatch("a duration".into()).help(lock_help(Type::Duration, expected)));
                        None
                    }
                    Err(message) => {
                        self.error(
                            Diagnostic::error("bad-duration", expr.span, format!("bad duration: {message}"))
                                .help("units are blocks, seconds, minutes, hours, days and weeks"),
                        );
                        None
                    }
                }
            }
            ExprKind::Call { .. } | ExprKind::And(_) | ExprKind::Or(_) => {
                self.error(
                    mismatch("a condition".into()).help("conditions go in clauses; here a value is needed"),
                );
                None
            }
        }
    }

    fn arity(
        &mut self,
        name: &Ident,
        span: Span,
        args: &[Expr],
        min: usize,
        max: usize,
        usage: &str,
    ) -> bool {
        if (min..=max).contains(&args.len()) {
            return true;
        }
        let count = |n: usize| if n == 1 { "1 argument".to_owned() } else { format!("{n} arguments") };
        let wanted = if min == max {
            count(min)
        } else if max == usize::MAX {
            format!("at least {}", count(min))
        } else {
            format!("{min} to {max} arguments")
        };
        self.error(
            Diagnostic::error(
                "wrong-arity",
                span,
                format!("`{}` takes {wanted}, found {}", name.name, args.len()),
            )
            .help(format!("usage: {usage}")),
        );
        false
    }

    /// A count argument (`k` of multi and thresh).
    fn count(&mut self, expr: &Expr) -> Option<usize> {
        match &expr.kind {
            ExprKind::Number(text) => text.replace('_', "").parse::<usize>().ok().or_else(|| {
                self.error(Diagnostic::error(
                    "number-out-of-range",
                    expr.span,
                    format!("`{text}` is too large"),
                ));
                None
            }),
            _ => {
                self.error(
                    Diagnostic::error("type-mismatch", expr.span, "expected a number of required items")
                        .help("write the count as a number, e.g. `2`"),
                );
                None
            }
        }
    }

    fn call(&mut self, name: &Ident, args: &[Expr], span: Span) -> Option<Cond> {
        const KEY: Expected = Expected(&[Type::PubKey]);
        const LOCK: Expected = Expected(&[Type::Height, Type::Time]);
        let one = |this: &mut Self, usage: &str| this.arity(name, span, args, 1, 1, usage);
        match name.name.as_str() {
            "sig" => {
                if !one(self, "sig(key)") {
                    return None;
                }
                Some(Cond::Sig(self.value(args.first()?, KEY)?.0))
            }
            "multi" => {
                if !self.arity(name, span, args, 2, MAX_MULTI_KEYS + 1, "multi(k, key1, key2, …)") {
                    return None;
                }
                let (k, keys) = args.split_first()?;
                let k = self.count(k);
                let keys: Vec<Option<Ref>> =
                    keys.iter().map(|e| self.value(e, KEY).map(|(r, _)| r)).collect();
                let keys: Vec<Ref> = keys.into_iter().collect::<Option<_>>()?;
                self.duplicates(&keys, args.get(1..).unwrap_or_default());
                let k = self.k_of_n(k?, keys.len(), span, "keys")?;
                Some(Cond::Multi { k, keys })
            }
            "thresh" => {
                if !self.arity(
                    name,
                    span,
                    args,
                    2,
                    MAX_THRESH_SUBS + 1,
                    "thresh(k, condition1, condition2, …)",
                ) {
                    return None;
                }
                let (k, subs) = args.split_first()?;
                let k = self.count(k);
                let subs = self.conditions(subs)?;
                let k = self.k_of_n(k?, subs.len(), span, "conditions")?;
                Some(Cond::Thresh { k, subs })
            }
            "after" => {
                if !one(self, "after(height or time)") {
                    return None;
                }
                Some(Cond::After(self.value(args.first()?, LOCK)?.0))
            }
            "before" => {
                // An access's expiry is a block height.
                if !one(self, "before(height)") {
                    return None;
                }
                Some(Cond::Before(self.value(args.first()?, Expected(&[Type::Height]))?.0))
            }
            "older" => {
                if !one(self, "older(144 blocks) or older(30 days)") {
                    return None;
                }
                Some(Cond::Older(self.value(args.first()?, Expected(&[Type::Duration]))?.0))
            }
            "sha256" => {
                if !one(self, "sha256(hash)") {
                    return None;
                }
                Some(Cond::Sha256(self.value(args.first()?, Expected(&[Type::Hash]))?.0))
            }
            "role" => {
                if !self.arity(name, span, args, 2, 2, "role(key, role)") {
                    return None;
                }
                let key = self.value(args.first()?, KEY);
                let role = self.value(args.get(1)?, Expected(&[Type::Role]));
                Some(Cond::Role { key: key?.0, role: role?.0 })
            }
            "role_sig" => {
                if !self.arity(name, span, args, 1, 2, "role_sig(role) or role_sig(role, deposit)") {
                    return None;
                }
                let role = self.value(args.first()?, Expected(&[Type::Role]));
                let deposit = match args.get(1) {
                    None => false,
                    Some(Expr { kind: ExprKind::Name(ident), .. }) if ident.name == "deposit" => true,
                    Some(other) => {
                        self.error(
                            Diagnostic::error("bad-option", other.span, "the second argument of `role_sig` can only be `deposit`")
                                .help("`role_sig(research, deposit)` also requires a key deposit for the signing key"),
                        );
                        return None;
                    }
                };
                Some(Cond::RoleSig { role: role?.0, deposit })
            }
            "deposit" => {
                if !one(self, "deposit(key)") {
                    return None;
                }
                Some(Cond::Deposit(self.value(args.first()?, KEY)?.0))
            }
            "emergency" => {
                if args.is_empty() {
                    self.error(
                        Diagnostic::error(
                            "emergency-without-expiry",
                            span,
                            "an emergency access needs an expiry bound",
                        )
                        .label("no bound")
                        .help("say how long break-glass access may last, e.g. `emergency(144 blocks)`"),
                    );
                    return None;
                }
                if !one(self, "emergency(144 blocks)") {
                    return None;
                }
                let arg = args.first()?;
                let (r, _) = self.value(arg, Expected(&[Type::Duration]))?;
                if let Ref::Literal(Value::Duration(Duration::TimeUnits(_))) = r {
                    self.error(
                        Diagnostic::error(
                            "emergency-bound-in-blocks",
                            arg.span,
                            "the emergency bound is a number of blocks",
                        )
                        .help("write it in blocks, e.g. `emergency(144 blocks)` for about a day"),
                    );
                    return None;
                }
                Some(Cond::Emergency(r))
            }
            "module" => {
                if !self.arity(
                    name,
                    span,
                    args,
                    1,
                    1 + medchain_vm::limits::MAX_MODULE_ARGS,
                    "module(hash, arg1, arg2, …)",
                ) {
                    return None;
                }
                let (module, rest) = args.split_first()?;
                let module = self.value(module, Expected(&[Type::Module]));
                const ANY: Expected =
                    Expected(&[Type::Number, Type::PubKey, Type::Hash, Type::Height, Type::Time, Type::Role]);
                let args: Vec<Option<Ref>> =
                    rest.iter().map(|e| self.value(e, ANY).map(|(r, _)| r)).collect();
                Some(Cond::Module { module: module?.0, args: args.into_iter().collect::<Option<_>>()? })
            }
            other => {
                let mut d =
                    Diagnostic::error("unknown-function", name.span, format!("unknown function `{other}`"))
                        .label("not a MedScript function");
                d = d.help(match closest(other, FUNCTIONS.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("functions are {}", FUNCTIONS.join(", ")),
                });
                self.error(d);
                None
            }
        }
    }

    fn k_of_n(&mut self, k: usize, n: usize, span: Span, what: &str) -> Option<usize> {
        if k == 0 {
            self.error(
                Diagnostic::error(
                    "k-is-zero",
                    span,
                    format!("requiring 0 of {n} {what} is always satisfied"),
                )
                .help("require at least 1"),
            );
            return None;
        }
        if k > n {
            let what = if n == 1 { what.trim_end_matches('s') } else { what };
            self.error(
                Diagnostic::error("k-exceeds-n", span, format!("requires {k} of only {n} {what}"))
                    .label("can never be satisfied")
                    .help(format!("lower the count to at most {n}, or add {what}")),
            );
            return None;
        }
        Some(k)
    }

    fn duplicates(&mut self, keys: &[Ref], exprs: &[Expr]) {
        let mut seen = BTreeSet::new();
        for (key, expr) in keys.iter().zip(exprs) {
            let name = match key {
                Ref::Param(name) => name.clone(),
                Ref::Literal(value) => value.to_string(),
            };
            if !seen.insert(name.clone()) {
                self.error(
                    Diagnostic::error("duplicate-key", expr.span, format!("key `{name}` appears twice"))
                        .help("each key may appear once; a repeated key would let one party count twice"),
                );
            }
        }
    }

    /// A key may sign in one place per clause: a repeated key lets one signature count twice
    /// (`thresh(2, sig(a), sig(a), …)` would need only `a`). Across clauses a repeated key is
    /// allowed but warned about: when both clauses are met, anyone can switch between them.
    fn signing_keys(&mut self, label: &str, span: Span, cond: &Cond, signers: &mut BTreeMap<String, String>) {
        let mut in_clause = BTreeSet::new();
        for c in cond.walk() {
            let keys: Vec<&Ref> = match c {
                Cond::Sig(key) => vec![key],
                // Repeats inside one `multi` are reported where they are written.
                Cond::Multi { keys, .. } => {
                    let mut unique: Vec<&Ref> = Vec::new();
                    for key in keys {
                        if !unique.contains(&key) {
                            unique.push(key);
                        }
                    }
                    unique
                }
                _ => continue,
            };
            for key in keys {
                let name = describe(key);
                if !in_clause.insert(name.clone()) {
                    self.error(
                        Diagnostic::error(
                            "duplicate-key",
                            span,
                            format!("key {name} signs in two places in clause \"{label}\""),
                        )
                        .label("one signature would count twice")
                        .help("use each key once per clause"),
                    );
                } else if let Some(other) = signers.get(&name).filter(|other| *other != label) {
                    self.error(
                        Diagnostic::warning(
                            "repeated-key",
                            span,
                            format!("key {name} signs in clause \"{other}\" and in clause \"{label}\""),
                        )
                        .help("when both clauses are met, anyone could switch an unlocking script between them; use separate keys if that matters"),
                    );
                }
                signers.entry(name).or_insert_with(|| label.to_owned());
            }
        }
    }

    /// Checks that need the whole clause.
    fn clause_checks(&mut self, label: &str, span: Span, cond: &Cond) {
        for c in cond.walk() {
            let unsigned_choice = match c {
                Cond::Or(subs) => subs.len() > 1 && subs.iter().any(|s| !s.needs_signature()),
                Cond::Thresh { k, subs } => *k < subs.len() && subs.iter().any(|s| !s.needs_signature()),
                _ => false,
            };
            if unsigned_choice {
                self.error(
                    Diagnostic::warning(
                        "malleable-choice",
                        span,
                        format!("clause \"{label}\" has a choice that no signature decides"),
                    )
                    .label("a third party could switch to the unsigned option")
                    .help("make every alternative of `or` and `thresh` require a signature"),
                );
                break;
            }
        }
        if !cond.needs_signature() {
            self.error(
                Diagnostic::error("no-signature", span, format!("clause \"{label}\" can be satisfied without any signature"))
                    .label("anyone could use this clause")
                    .help("add a signature requirement such as `sig(…)` or `role_sig(…)` to every way of meeting it"),
            );
        }
        let walk = cond.walk();
        let has_emergency = walk.iter().any(|c| matches!(c, Cond::Emergency(_)));
        let has_role = walk.iter().any(|c| matches!(c, Cond::Role { .. } | Cond::RoleSig { .. }));
        if has_emergency && !has_role {
            self.error(
                Diagnostic::warning("emergency-without-role", span, format!("clause \"{label}\" allows break-glass access without a role check"))
                    .help("require `role_sig(medical_institution)` so that only registered institutions can break the glass"),
            );
        }
        match paths(cond) {
            None => {}
            Some(paths) => {
                let problems: Vec<String> = paths.iter().filter_map(|p| path_problem(p, self)).collect();
                if !paths.is_empty() && problems.len() == paths.len() {
                    let mut reasons: Vec<String> = problems;
                    reasons.sort();
                    reasons.dedup();
                    self.error(
                        Diagnostic::error("unsatisfiable", span, format!("clause \"{label}\" can never be satisfied"))
                            .label(reasons.join("; "))
                            .help("a transaction has one lock time and one expiry: heights and times cannot be mixed, and an end must come after a start"),
                    );
                } else {
                    if let Some(problem) = problems.iter().find(|p| p.starts_with("mixes")) {
                        self.error(
                            Diagnostic::error("mixed-locks", span, format!("clause \"{label}\" {problem}"))
                                .help("use only heights or only times within one clause"),
                        );
                    }
                }
            }
        }
    }

    fn literal_type(&self, r: &Ref) -> Option<Type> {
        match r {
            Ref::Literal(v) => Some(v.ty()),
            Ref::Param(name) => self.params.get(name).copied(),
        }
    }
}

/// Why one satisfaction path can never happen, if it cannot.
fn path_problem(path: &Path<'_>, checker: &Checker<'_>) -> Option<String> {
    let kind = |r: &Ref| checker.literal_type(r);
    // One lock time per transaction: its `after` conditions must all be heights or all times.
    let lock_times: Vec<&Ref> =
        path.iter().filter_map(|c| if let Cond::After(r) = c { Some(r) } else { None }).collect();
    let kinds: BTreeSet<Type> = lock_times.iter().filter_map(|r| kind(r)).collect();
    if kinds.len() > 1 {
        return Some("mixes block heights and times in its lock times".into());
    }
    let literal = |r: &Ref| match r {
        Ref::Literal(Value::Height(v) | Value::Time(v)) => Some(*v),
        _ => None,
    };
    let start = path.iter().filter_map(|c| if let Cond::After(r) = c { literal(r) } else { None }).max();
    let end = path.iter().filter_map(|c| if let Cond::Before(r) = c { literal(r) } else { None }).min();
    if let (Some(start), Some(end)) = (start, end)
        && start >= end
    {
        return Some(format!("ends ({end}) before it starts ({start})"));
    }
    let relative: BTreeSet<bool> = path
        .iter()
        .filter_map(|c| match c {
            Cond::Older(Ref::Literal(Value::Duration(d))) => Some(matches!(d, Duration::Blocks(_))),
            _ => None,
        })
        .collect();
    if relative.len() > 1 {
        return Some("mixes block-based and time-based relative locks".into());
    }
    None
}

/// A key as messages name it.
fn describe(key: &Ref) -> String {
    match key {
        Ref::Param(name) => format!("`{name}`"),
        Ref::Literal(value) => format!("`{value}`"),
    }
}

/// Suggests a name of `candidates` within edit distance 2 of `name`.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    if name.len() > MAX_SUGGESTED_NAME {
        return None;
    }
    candidates
        .filter(|c| c.len() <= MAX_SUGGESTED_NAME)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 2.max(name.len() / 4) && *d < c.len().max(1))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let cost = previous + usize::from(ca != *cb);
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = cost.min(above + 1).min(left + 1);
            }
            previous = above;
        }
    }
    row.last().copied().unwrap_or(0)
}

fn lock_help(found: Type, expected: Expected) -> String {
    match (found, expected.0) {
        (Type::Time, [Type::Height, ..]) | (Type::Height, [Type::Time, ..]) => {
            "heights and times are different types; declare the parameter with the type this needs".into()
        }
        (Type::Duration, e) if e.contains(&Type::Height) => {
            "a duration is relative; `after`/`before` take an absolute height or time, `older` takes a duration".into()
        }
        (Type::Height | Type::Time, e) if e.contains(&Type::Duration) => {
            "this needs a relative duration such as `144 blocks`; for an absolute lock use `after(…)`".into()
        }
        _ => format!("pass {} here", expected.describe()),
    }
}
