//! `medchain policy …`: check, compile, explain, format and satisfy MedScript policies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use medchain_compiler::listing;
use medchain_compiler::medscript::model::{Arguments, CheckedPolicy};
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::{Holdings, max_unlocking_size, satisfy};
use medchain_compiler::medscript::types::{Type, Value};
use medchain_compiler::medscript::{Compiled, check, compile, explain, format, parse, render, to_json};
use miette::{IntoDiagnostic, miette};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Parse and check a policy; print every error and warning.
    Check(SourceArgs),
    /// Compile a policy with its arguments: hex, size, op count, worst-case unlocking size, listing.
    Compile(CompileArgs),
    /// Explain a policy in plain sentences, clause by clause.
    Explain(SourceArgs),
    /// Print a policy in its canonical layout.
    Fmt(FmtArgs),
    /// Build the cheapest unlocking script for what a party holds, or say what is missing.
    Satisfy(SatisfyArgs),
}

#[derive(Debug, Args)]
pub struct SourceArgs {
    /// The MedScript file.
    file: PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A parameter's value, `name=value` (repeatable).
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    args: Vec<String>,
    /// A JSON object of parameter values, `{"name": "value"}`.
    #[arg(long, value_name = "FILE")]
    args_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// The MedScript file.
    file: PathBuf,
    /// Rewrite the file in place.
    #[arg(long, conflicts_with = "check")]
    write: bool,
    /// Exit with 1 if the file is not formatted.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Args)]
pub struct SatisfyArgs {
    #[command(flatten)]
    compile: CompileArgs,
    /// A JSON file describing what the party holds (see docs/medscript.md).
    #[arg(long = "with", value_name = "FILE")]
    with: PathBuf,
}

/// Largest policy or JSON file read, in bytes.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

fn read(path: &Path) -> miette::Result<String> {
    let size = std::fs::metadata(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))?.len();
    if size > MAX_INPUT_BYTES {
        return Err(miette!("{} is {size} bytes; at most {MAX_INPUT_BYTES} are read", path.display()));
    }
    std::fs::read_to_string(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))
}

/// Parses and checks a file; prints diagnostics; returns the checked policy if it has no errors.
fn load(source: &SourceArgs, quiet_ok: bool) -> miette::Result<(String, Option<CheckedPolicy>, bool)> {
    let text = read(&source.file)?;
    let name = source.file.display().to_string();
    let (checked, diagnostics) = match parse(&text) {
        Ok(ast) => check(&ast, &RoleRegistry::standard()),
        Err(diagnostics) => (None, diagnostics),
    };
    if source.json {
        if !quiet_ok || checked.is_none() {
            println!(
                "{}",
                json!({ "file": name, "ok": checked.is_some(), "diagnostics": to_json(&text, &diagnostics) })
            );
        }
    } else if !diagnostics.is_empty() {
        eprint!("{}", render(&name, &text, &diagnostics));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if !source.json && !quiet_ok {
        match checked {
            Some(_) => println!("{name}: ok ({warnings} warning(s))"),
            None => eprintln!("{name}: {errors} error(s), {warnings} warning(s)"),
        }
    }
    Ok((text, checked, errors == 0))
}

pub fn run(command: PolicyCommand) -> miette::Result<ExitCode> {
    match command {
        PolicyCommand::Check(source) => {
            let (_, checked, _) = load(&source, false)?;
            Ok(if checked.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        PolicyCommand::Explain(source) => {
            let (_, checked, _) = load(&source, true)?;
            let Some(policy) = checked else { return Ok(ExitCode::FAILURE) };
            if source.json {
                let clauses: Vec<_> = explain(&policy).lines().skip(1).map(str::to_owned).collect();
                println!("{}", json!({ "policy": policy.name, "clauses": clauses }));
            } else {
                print!("{}", explain(&policy));
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Fmt(args) => {
            let text = read(&args.file)?;
            let formatted = match format(&text) {
                Ok(formatted) => formatted,
                Err(diagnostics) => {
                    eprint!("{}", render(&args.file.display().to_string(), &text, &diagnostics));
                    return Ok(ExitCode::FAILURE);
                }
            };
            if args.check {
                if formatted != text {
                    eprintln!(
                        "{} is not formatted; run `medchain policy fmt --write {}`",
                        args.file.display(),
                        args.file.display()
                    );
                    return Ok(ExitCode::FAILURE);
                }
            } else if args.write {
                if formatted != text {
                    std::fs::write(&args.file, formatted).into_diagnostic()?;
                }
            } else {
                print!("{formatted}");
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Compile(args) => {
            let Some(compiled) = compile_with(&args)? else { return Ok(ExitCode::FAILURE) };
            print_compiled(&compiled, args.source.json);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Satisfy(args) => {
            let Some(compiled) = compile_with(&args.compile)? else { return Ok(ExitCode::FAILURE) };
            let holdings: HoldingsFile = serde_json::from_str(&read(&args.with)?).map_err(|e| {
                miette!(help = "see `Holdings` in docs/medscript.md", "{}: {e}", args.with.display())
            })?;
            let holdings = holdings.into_holdings(&RoleRegistry::standard())?;
            print_plan(&compiled, &holdings, args.compile.source.json)
        }
    }
}

pub(super) fn compile_with(args: &CompileArgs) -> miette::Result<Option<Compiled>> {
    let (_, checked, _) = load(&args.source, true)?;
    let Some(policy) = checked else { return Ok(None) };
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    if let Some(path) = &args.args_file {
        let values: BTreeMap<String, String> = serde_json::from_str(&read(path)?)
            .map_err(|e| miette!("{}: expected an object of strings: {e}", path.display()))?;
        texts.extend(values);
    }
    for pair in &args.args {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| miette!(help = "write --arg name=value", "`{pair}` has no `=`"))?;
        texts.insert(name.trim().to_owned(), value.to_owned());
    }
    let arguments = parse_arguments(&policy, &texts)?;
    let compiled = compile(&policy, &arguments).map_err(|e| miette!("{e}"))?;
    Ok(Some(compiled))
}

fn parse_arguments(policy: &CheckedPolicy, texts: &BTreeMap<String, String>) -> miette::Result<Arguments> {
    let roles = RoleRegistry::standard();
    let missing: Vec<String> = policy
        .params
        .iter()
        .filter(|p| !texts.contains_key(&p.name))
        .map(|p| format!("{}: {}", p.name, p.ty))
        .collect();
    if !missing.is_empty() {
        return Err(miette!(
            help = "give each with --arg name=value, or all in --args-file",
            "missing values for {}",
            missing.join(", ")
        ));
    }
    let mut arguments = Arguments::new();
    for (name, text) in texts {
        let ty = policy
            .param_type(name)
            .ok_or_else(|| miette!("`{name}` is not a parameter of policy `{}`", policy.name))?;
        let value = Value::parse(ty, text, &roles).map_err(|e| {
            miette!(help = format!("a {ty} is written as {}", ty.example()), "parameter `{name}`: {e}")
        })?;
        arguments.insert(name.clone(), value);
    }
    Ok(arguments)
}

fn print_compiled(compiled: &Compiled, as_json: bool) {
    let unlocking = max_unlocking_size(compiled);
    if as_json {
        let clauses: Vec<&str> = compiled.policy.clauses.iter().map(|c| c.label.as_str()).collect();
        println!(
            "{}",
            json!({
                "policy": compiled.policy.name,
                "hex": hex::encode(&compiled.script),
                "size": compiled.script.len(),
                "op_count": compiled.op_count,
                "max_unlocking_size": unlocking,
                "asm": medchain_compiler::disassemble(&compiled.script),
                "clauses": clauses,
            })
        );
        return;
    }
    println!("policy:    {}", compiled.policy.name);
    println!("hex:       {}", hex::encode(&compiled.script));
    println!("size:      {} bytes", compiled.script.len());
    println!("op count:  {} of 201", compiled.op_count);
    println!("worst-case unlocking size: {unlocking} bytes");
    println!("\n{}", listing(&compiled.script));
}

fn print_plan(compiled: &Compiled, holdings: &Holdings, as_json: bool) -> miette::Result<ExitCode> {
    let plan = satisfy(compiled, holdings);
    let best = plan.best().map(|(c, _)| c.index);
    if as_json {
        let clauses: Vec<_> = plan
            .clauses
            .iter()
            .map(|c| match &c.result {
                Ok(w) => json!({ "label": c.label, "ok": true, "unlocking": hex::encode(w.script()), "size": w.size(),
                    "requirements": {
                        "lock_time": w.requirements.lock_time, "sequence": w.requirements.sequence,
                        "expiry_at_most": w.requirements.expiry_at_most, "emergency_within": w.requirements.emergency_within,
                        "modules": w.requirements.modules.iter().map(hex::encode).collect::<Vec<_>>() } }),
                Err(need) => json!({ "label": c.label, "ok": false, "needs": need.to_string() }),
            })
            .collect();
        println!("{}", json!({ "policy": compiled.policy.name, "best": best, "clauses": clauses }));
    } else {
        for clause in &plan.clauses {
            match &clause.result {
                Ok(w) => {
                    let mark = if Some(clause.index) == best { "  <- cheapest" } else { "" };
                    println!("[ok] \"{}\": unlocking script {} bytes{mark}", clause.label, w.size());
                    println!("     {}", hex::encode(w.script()));
                    let r = &w.requirements;
                    if let Some(t) = r.lock_time {
                        println!("     the access needs lock time {t} and a non-final sequence");
                    }
                    if let Some(s) = r.sequence {
                        println!("     the access needs sequence {s}");
                    }
                    if let Some(e) = r.expiry_at_most {
                        println!("     the access must expire by {e}");
                    }
                    if let Some(b) = r.emergency_within {
                        println!(
                            "     the access must be an emergency with a justification, expiring within {b} blocks"
                        );
                    }
                    for m in &r.modules {
                        println!(
                            "     policy module {} decides when the access is validated",
                            hex::encode(m)
                        );
                    }
                }
                Err(need) => println!("[--] \"{}\": needs {need}", clause.label),
            }
        }
    }
    Ok(if best.is_some() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// What a party holds, as JSON (documented in docs/medscript.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldingsFile {
    /// The 32-byte digest to sign, hex. Without it signatures are over zeros: a plan, not a spend.
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    secret_keys: Vec<String>,
    #[serde(default)]
    signatures: BTreeMap<String, String>,
    #[serde(default)]
    preimages: Vec<String>,
    height: Option<u32>,
    time: Option<u32>,
    age_blocks: Option<u32>,
    age_seconds: Option<u32>,
    #[serde(default)]
    roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    deposits: Vec<String>,
    emergency_expires_in: Option<u32>,
}

impl HoldingsFile {
    fn into_holdings(self, roles: &RoleRegistry) -> miette::Result<Holdings> {
        let key = |text: &str| match Value::parse(Type::PubKey, text, roles) {
            Ok(Value::PubKey(k)) => Ok(k),
            Ok(_) | Err(_) => Err(miette!("`{text}` is not a compressed public key")),
        };
        let bytes = |text: &str| hex::decode(text).map_err(|e| miette!("`{text}` is not hex: {e}"));
        let digest = match &self.digest {
            Some(text) => bytes(text)?.try_into().map_err(|_| miette!("the digest must be 32 bytes"))?,
            None => {
                eprintln!(
                    "note: no \"digest\" given; signatures are over 32 zero bytes (a plan, not a valid spend)"
                );
                [0; 32]
            }
        };
        let mut holdings = Holdings { digest, ..Holdings::default() };
        for text in &self.secret_keys {
            let secret: [u8; 32] =
                bytes(text)?.try_into().map_err(|_| miette!("a secret key is 32 bytes"))?;
            holdings.secret_keys.push(
                secp256k1::SecretKey::from_byte_array(secret).map_err(|e| miette!("bad secret key: {e}"))?,
            );
        }
        for (pubkey, sig) in &self.signatures {
            holdings.signatures.insert(key(pubkey)?, bytes(sig)?);
        }
        holdings.preimages = self.preimages.iter().map(|p| bytes(p)).collect::<Result<_, _>>()?;
        for (pubkey, names) in &self.roles {
            let mut ids = BTreeSet::new();
            for name in names {
                match Value::parse(Type::Role, name, roles).map_err(|e| miette!("{e}"))? {
                    Value::Role(id, _) => ids.insert(id),
                    _ => false,
                };
            }
            holdings.roles.insert(key(pubkey)?, ids);
        }
        holdings.deposits = self.deposits.iter().map(|k| key(k)).collect::<Result<_, _>>()?;
        holdings.height = self.height;
        holdings.time = self.time;
        holdings.age_blocks = self.age_blocks;
        holdings.age_seconds = self.age_seconds;
        holdings.emergency_expires_in = self.emergency_expires_in;
        Ok(holdings)
    }
}
