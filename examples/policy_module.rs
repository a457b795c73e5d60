//! A wasm policy module with the library API: admit the standard research module, evaluate it
//! on access requests (allowed, denied with its reason), watch a hostile module end in a deny
//! instead of hanging, and see admission refuse a module that asks for the clock.
//!
//! Run: `cargo run -p medchain-examples --bin policy_module`

use anyhow::{anyhow, bail};
use medchain_contracts::modules::module;
use medchain_modules::{AccessRequest, EngineOptions, PolicyEngine, admit};
use medchain_primitives::Hash32;
use medchain_vm::host::ModuleVerdict;
use medchain_vm::num::encode_num;

/// Fuel for each call: far more than the research rule needs.
const FUEL: u64 = 100_000;

fn wasm(name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(module(name).ok_or_else(|| anyhow!("no module {name}"))?.wasm()?)
}

fn main() -> anyhow::Result<()> {
    let code = wasm("research_purpose")?;
    admit(&code)?;
    let hash = Hash32::sha256(&code);
    println!("research_purpose: {} bytes, admitted, module hash {hash}", code.len());

    let engine = PolicyEngine::new(EngineOptions::default())?;
    // The policy calls `module(hash, 21, 22)`: purposes 21 and 22 are allowed.
    let request = |purpose: u32, deposit: bool| AccessRequest {
        purpose,
        deposit,
        args: vec![encode_num(21), encode_num(22)],
        ..AccessRequest::default()
    };
    for (purpose, deposit, expected) in [
        (21, true, ModuleVerdict::Allow),
        (7, true, ModuleVerdict::Deny(2)),
        (21, false, ModuleVerdict::Deny(1)),
    ] {
        let evaluation = engine.evaluate(&hash, &code, request(purpose, deposit), FUEL)?;
        println!(
            "purpose {purpose}, deposit {deposit}: {:?} using {} fuel",
            evaluation.verdict, evaluation.fuel
        );
        if evaluation.verdict != expected {
            bail!("expected {expected:?}");
        }
    }

    let looping = wasm("infinite_loop")?;
    let evaluation = engine.evaluate(&Hash32::sha256(&looping), &looping, request(21, true), FUEL)?;
    println!("infinite_loop: {:?} after {} fuel", evaluation.verdict, evaluation.fuel);
    if evaluation.verdict != ModuleVerdict::OutOfFuel {
        bail!("an infinite loop must run out of fuel");
    }

    match admit(&wasm("forbidden_import")?) {
        Err(refusal) => println!("forbidden_import: refused, {} ({refusal})", refusal.code()),
        Ok(()) => bail!("a module importing WASI must be refused"),
    }
    Ok(())
}
