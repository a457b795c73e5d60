//! Satisfaction paths: every way of satisfying a condition (its disjunctive normal form),
//! bounded, for the checker's satisfiability rules and the compiler's relative-lock rule.

use super::model::Cond;

/// Most satisfaction paths a clause is expanded into for the satisfiability checks.
pub const MAX_PATHS: usize = 4096;

/// The atoms of one way of satisfying a clause.
pub type Path<'c> = Vec<&'c Cond>;

/// Every way of satisfying `cond` (disjunctive normal form), or `None` past [`MAX_PATHS`].
pub fn paths(cond: &Cond) -> Option<Vec<Path<'_>>> {
    let result = match cond {
        Cond::Or(subs) => {
            let mut all = Vec::new();
            for sub in subs {
                all.extend(paths(sub)?);
                if all.len() > MAX_PATHS {
                    return None;
                }
            }
            all
        }
        Cond::And(subs) => {
            let mut acc: Vec<Path<'_>> = vec![Vec::new()];
            for sub in subs {
                let options = paths(sub)?;
                let mut next = Vec::new();
                for a in &acc {
                    for o in &options {
                        next.push(a.iter().chain(o).copied().collect());
                        if next.len() > MAX_PATHS {
                            return None;
                        }
                    }
                }
                acc = next;
            }
            acc
        }
        Cond::Thresh { k, subs } => {
            let sub_paths: Vec<Vec<Path<'_>>> = subs.iter().map(paths).collect::<Option<_>>()?;
            let mut all = Vec::new();
            for combo in combinations(subs.len(), *k) {
                let mut acc: Vec<Path<'_>> = vec![Vec::new()];
                for index in combo {
                    let mut next = Vec::new();
                    for a in &acc {
                        for o in sub_paths.get(index)? {
                            next.push(a.iter().chain(o).copied().collect());
                            if next.len() > MAX_PATHS {
                                return None;
                            }
                        }
                    }
                    acc = next;
                    if acc.len() > MAX_PATHS {
                        return None;
                    }
                }
                all.extend(acc);
                if all.len() > MAX_PATHS {
                    return None;
                }
            }
            all
        }
        atom => vec![vec![atom]],
    };
    Some(result)
}

/// All `k`-element subsets of `0..n`, in lexicographic order.
pub fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut current = Vec::with_capacity(k);
    fn go(start: usize, n: usize, k: usize, current: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if current.len() == k {
            out.push(current.clone());
            return;
        }
        if out.len() > MAX_PATHS {
            return;
        }
        for i in start..n {
            if n - i < k - current.len() {
                break;
            }
            current.push(i);
            go(i + 1, n, k, current, out);
            current.pop();
        }
    }
    go(0, n, k, &mut current, &mut out);
    out
}
