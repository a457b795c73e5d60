//! The one intermediate form between a policy and its bytes: a tree of opcodes, pushes and
//! branches. Peephole passes rewrite it (fusing `X VERIFY`, hoisting common branch tails),
//! then it is lowered to canonical script bytes.

use std::fmt;

use medchain_vm::Opcode;

use crate::asm::assemble::{minimal_push, push_number};

/// One IR node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ir {
    /// A non-push opcode.
    Op(Opcode),
    /// Bytes pushed in their minimal form.
    Push(Vec<u8>),
    /// A number pushed in its minimal form.
    Num(i64),
    /// `IF then [ELSE otherwise] ENDIF`; lowered as `NOTIF otherwise ENDIF` when `then` is
    /// empty. Either way a true selector runs `then`, a false one `otherwise`.
    If {
        /// Runs when the selector is true.
        then: Vec<Ir>,
        /// Runs otherwise; empty means no ELSE.
        otherwise: Vec<Ir>,
    },
}

/// `X VERIFY` pairs that fuse into one opcode.
const VERIFY_FUSIONS: [(Opcode, Opcode); 4] = [
    (Opcode::EQUAL, Opcode::EQUALVERIFY),
    (Opcode::NUMEQUAL, Opcode::NUMEQUALVERIFY),
    (Opcode::CHECKSIG, Opcode::CHECKSIGVERIFY),
    (Opcode::CHECKMULTISIG, Opcode::CHECKMULTISIGVERIFY),
];

/// Runs every peephole pass until nothing changes.
pub fn optimize(mut code: Vec<Ir>) -> Vec<Ir> {
    loop {
        let next = pass(code.clone());
        if next == code {
            return next;
        }
        code = next;
    }
}

/// One round of rewrites, innermost branches first.
fn pass(code: Vec<Ir>) -> Vec<Ir> {
    let mut out: Vec<Ir> = Vec::with_capacity(code.len());
    for node in code {
        let node = match node {
            Ir::If { then, otherwise } => {
                let (then, otherwise) = (pass(then), pass(otherwise));
                let (node, hoisted) = hoist_common_tail(then, otherwise);
                out.push(node);
                out.extend(hoisted);
                continue;
            }
            other => other,
        };
        match (out.last(), &node) {
            (Some(Ir::Op(prev)), Ir::Op(Opcode::VERIFY)) => {
                if let Some((_, fused)) = VERIFY_FUSIONS.iter().find(|(plain, _)| plain == prev) {
                    out.pop();
                    out.push(Ir::Op(*fused));
                    continue;
                }
            }
            (Some(Ir::Op(Opcode::DROP)), Ir::Op(Opcode::DROP)) => {
                out.pop();
                out.push(Ir::Op(Opcode::TWO_DROP));
                continue;
            }
            _ => {}
        }
        out.push(node);
    }
    out
}

/// Moves the instructions both branches end with to after the branch:
/// `IF a X ELSE b X ENDIF` → `IF a ELSE b ENDIF X`. Which selector runs which branch stays.
fn hoist_common_tail(mut then: Vec<Ir>, mut otherwise: Vec<Ir>) -> (Ir, Vec<Ir>) {
    let mut tail = Vec::new();
    while !otherwise.is_empty() && then.len() + otherwise.len() > 2 && then.last() == otherwise.last() {
        if let (Some(node), Some(_)) = (then.pop(), otherwise.pop()) {
            tail.push(node);
        }
    }
    tail.reverse();
    (Ir::If { then, otherwise }, tail)
}

/// Lowers IR to script bytes.
pub fn lower(code: &[Ir]) -> Vec<u8> {
    let mut out = Vec::new();
    lower_into(code, &mut out);
    out
}

fn lower_into(code: &[Ir], out: &mut Vec<u8>) {
    for node in code {
        match node {
            Ir::Op(op) => out.push(op.0),
            Ir::Push(data) => out.extend_from_slice(&minimal_push(data)),
            Ir::Num(n) => push_number(out, *n),
            Ir::If { then, otherwise } if then.is_empty() => {
                out.push(Opcode::NOTIF.0);
                lower_into(otherwise, out);
                out.push(Opcode::ENDIF.0);
            }
            Ir::If { then, otherwise } => {
                out.push(Opcode::IF.0);
                lower_into(then, out);
                if !otherwise.is_empty() {
                    out.push(Opcode::ELSE.0);
                    lower_into(otherwise, out);
                }
                out.push(Opcode::ENDIF.0);
            }
        }
    }
}

/// Counts what counts toward the 201-opcode limit on the costliest path: every non-push
/// opcode (executed or not, as Core counts them) plus the key count of each CHECKMULTISIG,
/// read from the push before it (20 when it is not a small number).
pub fn static_op_count(script: &[u8]) -> usize {
    let mut count = 0;
    let mut previous: Option<Opcode> = None;
    for instruction in medchain_vm::script::instructions(script).map_while(Result::ok) {
        let op = instruction.opcode;
        if op.counts_as_op() {
            count += 1;
        }
        if matches!(op, Opcode::CHECKMULTISIG | Opcode::CHECKMULTISIGVERIFY) {
            let keys = previous.and_then(Opcode::small_number).and_then(|n| usize::try_from(n).ok());
            count += keys.unwrap_or(medchain_vm::limits::MAX_PUBKEYS_PER_MULTISIG);
        }
        previous = Some(op);
    }
    count
}

impl fmt::Display for Ir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ir::Op(op) => write!(f, "{}", op.name().unwrap_or("?")),
            Ir::Push(data) => write!(f, "<{}>", hex::encode(data)),
            Ir::Num(n) => write!(f, "{n}"),
            Ir::If { then, otherwise } => {
                f.write_str("IF")?;
                for node in then {
                    write!(f, " {node}")?;
                }
                if !otherwise.is_empty() {
                    f.write_str(" ELSE")?;
                    for node in otherwise {
                        write!(f, " {node}")?;
                    }
                }
                f.write_str(" ENDIF")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuses_verify_and_drops() {
        let code =
            vec![Ir::Op(Opcode::EQUAL), Ir::Op(Opcode::VERIFY), Ir::Op(Opcode::DROP), Ir::Op(Opcode::DROP)];
        assert_eq!(optimize(code), vec![Ir::Op(Opcode::EQUALVERIFY), Ir::Op(Opcode::TWO_DROP)]);
    }

    #[test]
    fn hoists_common_tails_and_fuses_after() {
        let key = |b: u8| Ir::Push(vec![b; 33]);
        let code = vec![
            Ir::If {
                then: vec![key(2), Ir::Op(Opcode::CHECKSIG)],
                otherwise: vec![key(3), Ir::Op(Opcode::CHECKSIG)],
            },
            Ir::Op(Opcode::VERIFY),
        ];
        let optimized = optimize(code);
        assert_eq!(
            optimized,
            vec![Ir::If { then: vec![key(2)], otherwise: vec![key(3)] }, Ir::Op(Opcode::CHECKSIGVERIFY)]
        );
        assert_eq!(lower(&optimized).len(), 1 + 34 + 1 + 34 + 1 + 1);
    }

    #[test]
    fn an_emptied_first_branch_lowers_to_notif() {
        let code = vec![Ir::If { then: vec![Ir::Num(1)], otherwise: vec![Ir::Num(5), Ir::Num(1)] }];
        let optimized = optimize(code);
        assert_eq!(optimized, vec![Ir::If { then: vec![], otherwise: vec![Ir::Num(5)] }, Ir::Num(1)]);
        assert_eq!(lower(&optimized), vec![Opcode::NOTIF.0, 0x55, Opcode::ENDIF.0, 0x51]);
    }
}
