//! `explain`: a checked policy as plain sentences a patient can read, clause by clause.

use super::model::{CheckedPolicy, Cond, Ref};
use super::types::{LOCKTIME_THRESHOLD, Value};

/// The policy in plain English.
pub fn explain(policy: &CheckedPolicy) -> String {
    let mut out = format!("Policy `{}` grants access when any one of these holds:\n", policy.name);
    for (i, clause) in policy.clauses.iter().enumerate() {
        let emergency = requires_emergency(&clause.cond);
        out.push_str(&format!("{}. \"{}\": {}.\n", i + 1, clause.label, sentence(&clause.cond, emergency)));
    }
    if policy.clauses.iter().any(|c| requires_emergency(&c.cond) && has_older(&c.cond)) {
        out.push_str(
            "An emergency access's waiting time is its veto window, the blocks after its request's: in them \
             the patient, or as many of the record's key-share holders as recover its key, can veto the request \
             on chain; a vetoed request never unlocks, and one not vetoed unlocks in the block after.\n",
        );
    }
    if let Some(p) = policy.params.iter().find(|p| p.ty == super::types::Type::PubKey) {
        out.push_str(&format!(
            "Names in backticks are the policy's parameters, e.g. `{}` is a public key.\n",
            p.name
        ));
    }
    out
}

/// Whether every way to meet `cond` is an emergency access.
fn requires_emergency(cond: &Cond) -> bool {
    match cond {
        Cond::Emergency(_) => true,
        Cond::And(subs) => subs.iter().any(requires_emergency),
        Cond::Or(subs) => !subs.is_empty() && subs.iter().all(requires_emergency),
        Cond::Thresh { k, subs } => {
            // At least k of the subs hold; all ways need an emergency if fewer than k others can.
            let others = subs.iter().filter(|s| !requires_emergency(s)).count();
            others < *k
        }
        _ => false,
    }
}

/// Whether `cond` mentions a relative lock.
fn has_older(cond: &Cond) -> bool {
    match cond {
        Cond::Older(_) => true,
        Cond::And(subs) | Cond::Or(subs) | Cond::Thresh { subs, .. } => subs.iter().any(has_older),
        _ => false,
    }
}

/// `cond` in words; `emergency` when only an emergency access can meet it (its `older` then
/// counts from the request).
fn sentence(cond: &Cond, emergency: bool) -> String {
    let sentence = |c: &Cond| sentence(c, emergency);
    match cond {
        Cond::Sig(key) => format!("{} signs", name(key)),
        Cond::Multi { k, keys } if *k == keys.len() => format!("all of {} sign", list(keys, "and")),
        Cond::Multi { k, keys } => format!("{k} of {} sign", list(keys, "and")),
        Cond::Thresh { k, subs } => {
            let parts: Vec<String> = subs.iter().map(|s| format!("({})", sentence(s))).collect();
            format!("at least {k} of these hold: {}", parts.join(", "))
        }
        Cond::And(subs) => join(
            subs.iter()
                .map(|s| if matches!(s, Cond::Or(_)) { format!("({})", sentence(s)) } else { sentence(s) })
                .collect(),
            "and",
        ),
        Cond::Or(subs) if subs.iter().all(|s| matches!(s, Cond::Sig(_))) => {
            let keys: Vec<Ref> = subs
                .iter()
                .filter_map(|s| if let Cond::Sig(k) = s { Some(k.clone()) } else { None })
                .collect();
            format!("one of {} signs", list(&keys, "or"))
        }
        Cond::Or(subs) => {
            let parts: Vec<String> = subs.iter().map(sentence).collect();
            format!("either {}", parts.join(", or "))
        }
        Cond::After(r) => format!("the access is made at or after {}", moment(r)),
        Cond::Before(r) => format!("the access expires by {}", moment(r)),
        Cond::Older(r) if emergency => {
            format!("the {} after the emergency request's block have passed with no veto", name(r))
        }
        Cond::Older(r) => format!("the record has been stored for at least {}", name(r)),
        Cond::Sha256(r) => format!("someone reveals the secret whose SHA-256 is {}", name(r)),
        Cond::Role { key, role } => format!("{} is registered as {}", name(key), name(role)),
        Cond::RoleSig { role, deposit: false } => format!("a key registered as {} signs", name(role)),
        Cond::RoleSig { role, deposit: true } => {
            format!("a key registered as {} signs (with the record key deposited for that key)", name(role))
        }
        Cond::Deposit(key) => format!("the access deposits the record key for {}", name(key)),
        Cond::Emergency(r) => {
            format!("it is an emergency access with a written justification that expires within {}", name(r))
        }
        Cond::Module { module, args } if args.is_empty() => {
            format!("the policy module {} allows it", name(module))
        }
        Cond::Module { module, args } => {
            let args: Vec<String> = args.iter().map(name).collect();
            format!("the policy module {} allows it (given {})", name(module), args.join(", "))
        }
    }
}

fn join(parts: Vec<String>, word: &str) -> String {
    match parts.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}, {word} {last}", init.join(", ")),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn list(refs: &[Ref], word: &str) -> String {
    let names: Vec<String> = refs.iter().map(name).collect();
    match names.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} {word} {last}", init.join(", ")),
        _ => names.join(""),
    }
}

/// A parameter in backticks, or a literal value in words.
fn name(r: &Ref) -> String {
    match r {
        Ref::Param(p) => format!("`{p}`"),
        Ref::Literal(v) => value_words(v),
    }
}

fn moment(r: &Ref) -> String {
    match r {
        Ref::Param(p) => format!("`{p}`"),
        Ref::Literal(Value::Height(h)) => format!("block {}", group(*h)),
        Ref::Literal(Value::Time(t)) => utc(*t),
        Ref::Literal(other) => value_words(other),
    }
}

fn value_words(v: &Value) -> String {
    match v {
        Value::Height(h) => format!("block {}", group(*h)),
        Value::Time(t) if *t >= LOCKTIME_THRESHOLD => utc(*t),
        Value::Duration(d) => d.to_string(),
        Value::Role(_, name) => name.replace('_', " "),
        other => format!("`{other}`"),
    }
}

fn group(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A Unix time as `2027-01-01 00:00 UTC`.
fn utc(seconds: u32) -> String {
    let days = i64::from(seconds / 86_400);
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rest / 3_600, (rest % 3_600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(1_767_225_600), "2026-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(group(120_000), "120,000");
    }
}
