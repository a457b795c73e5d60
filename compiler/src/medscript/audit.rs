//! Which clause an unlocking script went through, read back from the script itself: for an
//! auditor who knows the policy (the patient's wallet, say) and an unlocking the chain accepted.

use medchain_vm::Opcode;
use medchain_vm::script::Script;

use super::Compiled;

/// The label of the clause `unlock` chose in `compiled`, if `unlock` is push-only. Clauses are
/// chosen the way the compiler lays them out: the items on top of the stack pass over one clause
/// each with an empty item (an empty signature or selector), and the first non-empty one (a
/// signature or a `1` selector) takes its clause; the last clause needs no selector.
pub fn clause_taken<'a>(compiled: &'a Compiled, unlock: &[u8]) -> Option<&'a str> {
    let script = Script::decode(unlock);
    if !script.is_push_only() {
        return None;
    }
    let passed_over = script
        .instructions()
        .iter()
        .rev()
        .take_while(|i| {
            i.opcode == Opcode::OP_0 || (i.opcode.0 <= Opcode::PUSHDATA4.0 && script.data(i).is_empty())
        })
        .count();
    let clauses = &compiled.policy.clauses;
    clauses.get(passed_over.min(clauses.len().saturating_sub(1))).map(|c| c.label.as_str())
}

#[cfg(test)]
mod tests {

    use secp256k1::{PublicKey, SECP256K1, SecretKey};

    use super::*;
    use crate::medscript::roles::RoleRegistry;
    use crate::medscript::satisfy::{Holdings, satisfy};
    use crate::medscript::types::Value;
    use crate::medscript::{check, compile, parse};

    const POLICY: &str = r#"
policy three(a: pubkey, b: pubkey, c: pubkey) {
    clause "first" { sig(a) }
    clause "second" { sig(b) and after(100) }
    clause "third" { sig(c) }
}
"#;

    #[test]
    fn every_clause_is_read_back_from_its_unlocking() {
        let secrets: Vec<SecretKey> = (1..=3).map(|n| SecretKey::from_byte_array([n; 32]).unwrap()).collect();
        let keys: Vec<[u8; 33]> =
            secrets.iter().map(|s| PublicKey::from_secret_key(SECP256K1, s).serialize()).collect();
        let (checked, _) = check(&parse(POLICY).unwrap(), &RoleRegistry::standard());
        let args =
            ["a", "b", "c"].iter().zip(&keys).map(|(n, k)| ((*n).to_owned(), Value::PubKey(*k))).collect();
        let compiled = compile(&checked.unwrap(), &args).unwrap();
        for (clause, label) in ["first", "second", "third"].iter().enumerate() {
            let holdings =
                Holdings { secret_keys: vec![secrets[clause]], height: Some(200), ..Holdings::default() };
            let plan = satisfy(&compiled, &holdings);
            let witness = plan.clauses[clause].result.clone().unwrap();
            assert_eq!(clause_taken(&compiled, &witness.script()), Some(*label));
        }
        assert_eq!(clause_taken(&compiled, &[Opcode::DUP.0]), None, "not push-only");
    }
}
