//! The host functions of the ABI as wasmtime sees them: each charges its fuel price first,
//! reads the request or the module's memory with bounds checked before any copy, and reports a
//! module's misuse as a [`ModuleFault`] (a trap, a verdict on the module).

use sha2::{Digest, Sha256};
use wasmtime::{Caller, Extern, Linker, Memory, Trap};

use super::abi::{HOST_MODULE, HostFunction, MEMORY_EXPORT, NOT_A_NUMBER, host_function};
use super::call::{CallState, module_fault};

/// Longest signature `verify_signature` reads (a DER signature is at most 72 bytes).
const MAX_SIGNATURE_LEN: usize = 72;

type HostResult<T> = wasmtime::Result<T>;

/// Charges a host function's price (plus `bytes` at its per-byte price) before it runs.
fn charge(caller: &mut Caller<'_, CallState>, function: &HostFunction, bytes: usize) -> HostResult<()> {
    let per_byte = function.fuel_per_byte.saturating_mul(u64::try_from(bytes).unwrap_or(u64::MAX));
    let price = function.fuel.saturating_add(per_byte);
    let left = caller.get_fuel()?;
    match left.checked_sub(price) {
        Some(rest) => caller.set_fuel(rest),
        None => {
            caller.set_fuel(0)?;
            Err(Trap::OutOfFuel.into())
        }
    }
}

fn memory(caller: &mut Caller<'_, CallState>) -> HostResult<Memory> {
    caller
        .get_export(MEMORY_EXPORT)
        .and_then(Extern::into_memory)
        .ok_or_else(|| module_fault("the module exports no memory"))
}

fn offset(ptr: i32) -> usize {
    usize::try_from(ptr.cast_unsigned()).unwrap_or(usize::MAX)
}

fn write_memory(caller: &mut Caller<'_, CallState>, ptr: i32, bytes: &[u8]) -> HostResult<()> {
    let memory = memory(caller)?;
    memory
        .write(&mut *caller, offset(ptr), bytes)
        .map_err(|_| module_fault("a host call writes out of bounds"))
}

/// Reads `len` bytes at `ptr`, checking bounds before copying anything.
fn read_memory(caller: &mut Caller<'_, CallState>, ptr: i32, len: usize) -> HostResult<Vec<u8>> {
    let memory = memory(caller)?;
    let start = offset(ptr);
    start
        .checked_add(len)
        .and_then(|end| memory.data(&*caller).get(start..end))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| module_fault("a host call reads out of bounds"))
}

fn index(i: i32) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn abi(name: &str) -> wasmtime::Result<HostFunction> {
    host_function(name).copied().ok_or_else(|| wasmtime::Error::msg(format!("no host function {name}")))
}

/// Defines every host function of the ABI, each charging its price first.
pub(super) fn link_host_functions(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    macro_rules! getter {
        ($name:literal, $ty:ty, |$request:ident| $value:expr) => {{
            let function = abi($name)?;
            linker.func_wrap(
                HOST_MODULE,
                $name,
                move |mut caller: Caller<'_, CallState>| -> HostResult<$ty> {
                    charge(&mut caller, &function, 0)?;
                    let $request = &caller.data().request;
                    Ok($value)
                },
            )?;
        }};
    }
    getter!("height", i64, |r| i64::from(r.height));
    getter!("block_time", i64, |r| i64::try_from(r.time).unwrap_or(i64::MAX));
    getter!("purpose", i64, |r| i64::from(r.purpose));
    getter!("has_deposit", i32, |r| i32::from(r.deposit));
    getter!("is_emergency", i32, |r| i32::from(r.emergency));
    getter!("record_count", i32, |r| count(r.records.len()));
    getter!("role_count", i32, |r| count(r.grantee_roles().len()));
    getter!("arg_count", i32, |r| count(r.args.len()));

    let function = abi("grantee")?;
    linker.func_wrap(HOST_MODULE, "grantee", move |mut caller: Caller<'_, CallState>, out: i32| {
        charge(&mut caller, &function, 0)?;
        let Some(grantee) = caller.data().request.grantee else { return Ok(-1) };
        write_memory(&mut caller, out, &grantee.0)?;
        Ok(0)
    })?;
    let function = abi("record")?;
    linker.func_wrap(HOST_MODULE, "record", move |mut caller: Caller<'_, CallState>, i: i32, out: i32| {
        charge(&mut caller, &function, 0)?;
        let Some(record) = caller.data().request.records.get(index(i)).copied() else { return Ok(-1) };
        write_memory(&mut caller, out, &record.0)?;
        Ok(0)
    })?;
    let function = abi("role")?;
    linker.func_wrap(HOST_MODULE, "role", move |mut caller: Caller<'_, CallState>, i: i32| {
        charge(&mut caller, &function, 0)?;
        Ok(caller.data().request.grantee_roles().get(index(i)).map_or(-1, |&role| i64::from(role)))
    })?;
    let function = abi("arg_len")?;
    linker.func_wrap(HOST_MODULE, "arg_len", move |mut caller: Caller<'_, CallState>, i: i32| {
        charge(&mut caller, &function, 0)?;
        Ok(caller.data().request.args.get(index(i)).map_or(-1, |arg| count(arg.len())))
    })?;
    let function = abi("arg_read")?;
    linker.func_wrap(
        HOST_MODULE,
        "arg_read",
        move |mut caller: Caller<'_, CallState>, i: i32, out: i32| {
            let Some(arg) = caller.data().request.args.get(index(i)).cloned() else {
                charge(&mut caller, &function, 0)?;
                return Ok(-1);
            };
            charge(&mut caller, &function, arg.len())?;
            write_memory(&mut caller, out, &arg)?;
            Ok(count(arg.len()))
        },
    )?;
    let function = abi("arg_number")?;
    linker.func_wrap(HOST_MODULE, "arg_number", move |mut caller: Caller<'_, CallState>, i: i32| {
        charge(&mut caller, &function, 0)?;
        let arg = caller.data().request.args.get(index(i));
        Ok(arg.and_then(|a| medchain_vm::num::decode_num(a, true, 8).ok()).unwrap_or(NOT_A_NUMBER))
    })?;
    let function = abi("sha256")?;
    linker.func_wrap(
        HOST_MODULE,
        "sha256",
        move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32, out: i32| {
            let len = usize::try_from(len).map_err(|_| module_fault("a negative length"))?;
            charge(&mut caller, &function, len)?;
            let data = read_memory(&mut caller, ptr, len)?;
            write_memory(&mut caller, out, &Sha256::digest(&data))
        },
    )?;
    let function = abi("verify_signature")?;
    linker.func_wrap(
        HOST_MODULE,
        "verify_signature",
        move |mut caller: Caller<'_, CallState>, digest: i32, key: i32, sig: i32, sig_len: i32| {
            charge(&mut caller, &function, 0)?;
            let Some(sig_len) = usize::try_from(sig_len).ok().filter(|&n| n <= MAX_SIGNATURE_LEN) else {
                return Ok(0);
            };
            let digest = read_memory(&mut caller, digest, 32)?;
            let key = read_memory(&mut caller, key, 33)?;
            let sig = read_memory(&mut caller, sig, sig_len)?;
            let digest: [u8; 32] =
                digest.try_into().map_err(|_| module_fault("a digest of the wrong size"))?;
            Ok(i32::from(medchain_vm::signature::verify_ecdsa(&sig, &key, &digest)))
        },
    )?;
    let function = abi("role_held")?;
    linker.func_wrap(
        HOST_MODULE,
        "role_held",
        move |mut caller: Caller<'_, CallState>, key: i32, role: i64| {
            charge(&mut caller, &function, 0)?;
            let key = read_memory(&mut caller, key, 33)?;
            let Some(roles) = caller.data().request.roles_of(&key) else { return Ok(-1) };
            Ok(i32::from(u32::try_from(role).is_ok_and(|role| roles.contains(&role))))
        },
    )?;
    Ok(())
}
