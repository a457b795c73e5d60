//! `medchain script …`: assembly, disassembly, running a spend and batch verification.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use medchain_compiler::{assemble, disassemble};
use medchain_vm::bitcoin::{TransactionChecker, crediting_transaction, spending_transaction};
use medchain_vm::trace::items;
use medchain_vm::{Flags, OPCODE_TABLE, Step, verify_script_traced};
use miette::{IntoDiagnostic, miette};

use super::argument_or_stdin;

#[derive(Debug, Subcommand)]
pub enum ScriptCommand {
    /// Assemble script text (Bitcoin Core's vector notation, plus <hex> pushes) into hex.
    Asm {
        /// The script text, or `-` to read it from standard input.
        text: String,
    },
    /// Disassemble hex into script text that assembles back to the same bytes.
    Disasm {
        /// The script as hex, or `-` to read it from standard input.
        hex: String,
    },
    /// Run an unlocking script against a locking script in the crediting and spending
    /// transactions of Bitcoin Core's test harness.
    Run(RunArgs),
    /// Verify spends read as JSON Lines on standard input; one JSON result line per input line.
    VerifyBatch,
    /// List every named opcode with its byte and what it does.
    Opcodes,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The unlocking script (scriptSig), as assembly.
    #[arg(long, allow_hyphen_values = true)]
    script_sig: String,
    /// The locking script (scriptPubKey), as assembly.
    #[arg(long, allow_hyphen_values = true)]
    script_pubkey: String,
    /// Verification flags, Core's names comma-separated; "" for none.
    #[arg(long, default_value = "P2SH,DERSIG,NULLDUMMY,CHECKLOCKTIMEVERIFY,CHECKSEQUENCEVERIFY")]
    flags: String,
    /// Value of the spent output, in satoshis.
    #[arg(long, default_value_t = 0)]
    amount: i64,
    /// Print every step with both stacks.
    #[arg(long)]
    trace: bool,
}

pub fn run(command: ScriptCommand) -> miette::Result<ExitCode> {
    match command {
        ScriptCommand::Asm { text } => {
            let bytes = assemble(&argument_or_stdin(&text)?)?;
            println!("{}", hex::encode(bytes));
        }
        ScriptCommand::Disasm { hex: text } => {
            let text = argument_or_stdin(&text)?;
            let bytes = hex::decode(text.trim()).map_err(|e| miette!("not hex: {e}"))?;
            println!("{}", disassemble(&bytes));
        }
        ScriptCommand::Run(args) => return run_spend(&args),
        ScriptCommand::VerifyBatch => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            crate::verify_batch::run(stdin, stdout).into_diagnostic()?;
        }
        ScriptCommand::Opcodes => {
            for info in OPCODE_TABLE {
                println!("0x{:02x}  {:<20} {}", info.code, info.name, info.doc);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_spend(args: &RunArgs) -> miette::Result<ExitCode> {
    let script_sig = assemble(&args.script_sig)?;
    let script_pubkey = assemble(&args.script_pubkey)?;
    let flags = Flags::parse(&args.flags)
        .map_err(|e| miette!(help = "flags are Core's names, e.g. P2SH,STRICTENC", "{e}"))?;
    let crediting = crediting_transaction(&script_pubkey, args.amount);
    let spending = spending_transaction(&crediting, &script_sig, args.amount);
    let checker = TransactionChecker::new(&spending, 0).into_diagnostic()?;

    let mut out = std::io::stdout().lock();
    let mut last_stack: Vec<Vec<u8>> = Vec::new();
    let mut observer = |step: &Step<'_>| {
        if args.trace {
            // A closed stdout only loses trace lines; the result still sets the exit code.
            let _ = writeln!(out, "{step}");
        }
        last_stack = step.stack.to_vec();
    };
    let result = verify_script_traced(&script_sig, &script_pubkey, flags, &checker, &mut observer);
    let (code, stack) = match result {
        Ok(stack) => {
            println!("result: OK");
            (ExitCode::SUCCESS, stack)
        }
        Err(error) => {
            println!("result: {} ({error})", error.name());
            (ExitCode::FAILURE, last_stack)
        }
    };
    println!("final stack (bottom first): [{}]", items(&stack));
    Ok(code)
}
