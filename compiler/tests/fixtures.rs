//! Reviewed snapshots per fixture file: tokens, syntax tree, bytecode listing and explanation
//! of each policy under `tests/fixtures/`, and the diagnostics of each broken source under
//! `tests/fixtures/broken/`.

#![expect(clippy::unwrap_used, reason = "a failing test stops loudly; these are its assertions")]

use std::path::{Path, PathBuf};

use medchain_compiler::listing;
use medchain_compiler::medscript::lexer::lex;
use medchain_compiler::medscript::model::{Arguments, CheckedPolicy};
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::max_unlocking_size;
use medchain_compiler::medscript::types::{Duration, Type, Value};
use medchain_compiler::medscript::{check, compile, explain, format, parse, render};
use secp256k1::{PublicKey, SECP256K1, SecretKey};
use sha2::{Digest, Sha256};

fn sources(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "med"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Deterministic arguments for every parameter, by type and position.
pub fn test_arguments(policy: &CheckedPolicy) -> Arguments {
    policy
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let n = u32::try_from(i).unwrap();
            let digest: [u8; 32] = Sha256::digest(p.name.as_bytes()).into();
            let value = match p.ty {
                Type::PubKey => {
                    let secret = SecretKey::from_byte_array([u8::try_from(i + 1).unwrap(); 32]).unwrap();
                    Value::PubKey(PublicKey::from_secret_key(SECP256K1, &secret).serialize())
                }
                Type::Hash => Value::Hash(digest),
                Type::Module => Value::Module(digest),
                Type::Height => Value::Height(700_000 + 1_000 * n),
                Type::Time => Value::Time(1_800_000_000 + 86_400 * n),
                Type::Duration => Value::Duration(Duration::Blocks(144)),
                Type::Role => Value::Role(2, "research".into()),
                Type::Number => Value::Number(7),
            };
            (p.name.clone(), value)
        })
        .collect()
}

#[test]
fn policies() {
    for (name, source) in sources("tests/fixtures") {
        let lexed = lex(&source);
        assert!(lexed.errors.is_empty(), "{name}: lexical errors");
        let tokens: Vec<String> =
            lexed.tokens.iter().map(|(s, t, e)| format!("{s:>4}..{e:<4} {t:?}")).collect();
        insta::assert_snapshot!(format!("{name}__tokens"), tokens.join("\n"));

        let ast = parse(&source).unwrap_or_else(|d| panic!("{name}: {}", render(&name, &source, &d)));
        insta::assert_snapshot!(format!("{name}__ast"), format!("{ast:#?}"));

        let (checked, diagnostics) = check(&ast, &RoleRegistry::standard());
        assert!(diagnostics.is_empty(), "{name}: {}", render(&name, &source, &diagnostics));
        let checked = checked.unwrap();
        let compiled = compile(&checked, &test_arguments(&checked)).unwrap();
        let again = compile(&checked, &test_arguments(&checked)).unwrap();
        assert_eq!(compiled.script, again.script, "{name}: compilation is canonical");
        insta::assert_snapshot!(
            format!("{name}__listing"),
            format!(
                "size: {} bytes\nop count: {}\nworst-case unlocking size: {} bytes\n\n{}",
                compiled.script.len(),
                compiled.op_count,
                max_unlocking_size(&compiled),
                listing(&compiled.script)
            )
        );
        insta::assert_snapshot!(format!("{name}__explain"), explain(&checked));

        let formatted = format(&source).unwrap();
        assert_eq!(formatted, source, "{name}: fixtures are kept in canonical format");
    }
}

#[test]
fn broken_sources() {
    for (name, source) in sources("tests/fixtures/broken") {
        let diagnostics = match parse(&source) {
            Ok(ast) => check(&ast, &RoleRegistry::standard()).1,
            Err(diagnostics) => diagnostics,
        };
        assert!(diagnostics.iter().any(|d| d.is_error()), "{name}: expected errors");
        insta::assert_snapshot!(
            format!("broken_{name}"),
            render(&format!("{name}.med"), &source, &diagnostics)
        );
    }
}

#[test]
fn format_is_idempotent_on_messy_sources() {
    let messy = "// top\npolicy   p( a :pubkey,b: pubkey ){clause \"x\"{sig(a)   and (sig(b)or sig(a)) // why\n}\n// before y\nclause \"y\" { multi(1,a,b) }}\n// end\n";
    let once = format(messy).unwrap();
    assert_eq!(format(&once).unwrap(), once);
    insta::assert_snapshot!("format_messy", once);

    // Comments stay on their side of the parameter list's closing parenthesis.
    let header = "policy p(\n // about a\n a: pubkey, // trailing\n) {\n // first clause\n clause \"c\" { sig(a) }\n}\n";
    let formatted = format(header).unwrap();
    assert_eq!(format(&formatted).unwrap(), formatted);
    let close = formatted.find(") {").unwrap();
    assert!(formatted.find("// about a").unwrap() < close && formatted.find("// trailing").unwrap() < close);
    assert!(formatted.find("// first clause").unwrap() > close, "{formatted}");
}
