//! Batch verification of Bitcoin spends, the libbitcoinconsensus-style entry point: JSON Lines
//! in (`{"tx", "input", "script_pubkey", "amount", "flags"}`), one compact JSON result line out
//! per line, in order. A bad line gets a `BAD_REQUEST` result and the batch goes on.

use std::io::{self, BufRead, Write};

use medchain_vm::bitcoin::transaction::MAX_TX_SIZE;
use medchain_vm::bitcoin::{DecodeError, Transaction, TransactionChecker};
use medchain_vm::script::{instructions, is_p2sh, is_witness_program};
use medchain_vm::{Flags, FlagsError, verify_script};
use serde::{Deserialize, Serialize};

/// Longest input line accepted, in bytes (a 1 MB transaction in hex, with room to spare).
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Largest amount accepted, in satoshis: Bitcoin's money supply.
pub const MAX_AMOUNT: i64 = medchain_vm::bitcoin::transaction::MAX_MONEY;

/// One check: input `input` of `tx` spends an output locked by `script_pubkey`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The spending transaction, legacy-serialized, as hex.
    pub tx: String,
    /// Which input to verify.
    pub input: u64,
    /// The spent output's locking script, as hex.
    pub script_pubkey: String,
    /// The spent output's value in satoshis.
    #[serde(default)]
    pub amount: i64,
    /// Core's flag names, comma-separated; `""` for none.
    #[serde(default)]
    pub flags: String,
}

/// The answer to one line.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Response {
    /// Whether the spend verified.
    pub ok: bool,
    /// Core's error name, or `BAD_REQUEST`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What was wrong with a bad request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Response {
    fn bad_request(detail: impl Into<String>) -> Self {
        Self { ok: false, error: Some("BAD_REQUEST".into()), detail: Some(detail.into()) }
    }
}

/// Answers one line of input.
pub fn check_line(line: &str) -> Response {
    let request: Request = match serde_json::from_str(line) {
        Ok(request) => request,
        Err(e) => return Response::bad_request(format!("malformed request: {e}")),
    };
    check(&request).unwrap_or_else(Response::bad_request)
}

fn check(request: &Request) -> Result<Response, String> {
    let flags = Flags::parse(&request.flags).map_err(|e| match e {
        FlagsError::Unknown(_) => e.to_string(),
        FlagsError::Unsupported(_) => format!("{e}; only legacy flags are accepted"),
    })?;
    if let Some(own) = flags.difference(Flags::ALL_BITCOIN).names().next() {
        return Err(format!(
            "verification flag `{own}` is MedChain's own; this entry point takes Bitcoin Core's flags"
        ));
    }
    if !(0..=MAX_AMOUNT).contains(&request.amount) {
        return Err(format!("amount {} is outside 0..={MAX_AMOUNT}", request.amount));
    }
    let tx_bytes = hex::decode(&request.tx).map_err(|e| format!("tx is not hex: {e}"))?;
    if tx_bytes.len() > MAX_TX_SIZE {
        return Err(format!(
            "tx is {} bytes, more than the {MAX_TX_SIZE} a transaction may have",
            tx_bytes.len()
        ));
    }
    let tx = Transaction::decode(&tx_bytes).map_err(|e| match e {
        DecodeError::WitnessSerialization => "witness-serialized transactions are not supported".to_owned(),
        other => format!("tx does not decode: {other}"),
    })?;
    let script_pubkey =
        hex::decode(&request.script_pubkey).map_err(|e| format!("script_pubkey is not hex: {e}"))?;
    let input = usize::try_from(request.input).unwrap_or(usize::MAX);
    let checker = TransactionChecker::new(&tx, input).map_err(|e| e.to_string())?;
    let script_sig = tx.inputs.get(input).map(|i| i.script_sig.as_slice()).unwrap_or_default();
    if flags.contains(Flags::CLEANSTACK) && spends_witness_program(script_sig, &script_pubkey) {
        // Core runs CLEANSTACK only together with WITNESS, and would validate the program.
        return Err("CLEANSTACK implies witness validation, and this output is a witness program".into());
    }
    Ok(match verify_script(script_sig, &script_pubkey, flags, &checker) {
        Ok(()) => Response { ok: true, error: None, detail: None },
        Err(e) => Response { ok: false, error: Some(e.name().into()), detail: None },
    })
}

/// Whether the spend is of a witness program, bare or wrapped in P2SH (the scriptSig's last
/// push is the redeem script).
fn spends_witness_program(script_sig: &[u8], script_pubkey: &[u8]) -> bool {
    if is_witness_program(script_pubkey) {
        return true;
    }
    let last_push = instructions(script_sig).filter_map(Result::ok).last().map(|i| i.data);
    is_p2sh(script_pubkey)
        && last_push.and_then(|range| script_sig.get(range)).is_some_and(is_witness_program)
}

/// Reads requests from `input` until it ends and writes one response line per request line.
/// Lines longer than [`MAX_LINE_BYTES`] or not UTF-8 get `BAD_REQUEST`; only I/O errors stop
/// the batch.
pub fn run(mut input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = io::Read::take(&mut input, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        let response = if line.len() > MAX_LINE_BYTES && line.last() != Some(&b'\n') {
            skip_rest_of_line(&mut input)?;
            Response::bad_request(format!("line is longer than {MAX_LINE_BYTES} bytes"))
        } else {
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            match std::str::from_utf8(text) {
                Ok(text) => check_line(text),
                Err(_) => Response::bad_request("line is not UTF-8"),
            }
        };
        serde_json::to_writer(&mut output, &response)?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
    Ok(())
}

fn skip_rest_of_line(input: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(newline) => {
                input.consume(newline + 1);
                return Ok(());
            }
            None => {
                let len = buffer.len();
                input.consume(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-input transaction whose scriptSig is `OP_1`.
    const TX: &str = "0100000001000000000000000000000000000000000000000000000000000000000000000000000000015\
                      1ffffffff0100000000000000000000000000";

    fn answer(input: &str) -> String {
        let mut out = Vec::new();
        run(input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn answers_each_line_in_order() {
        let lines = format!(
            "{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"\",\"amount\":0,\"flags\":\"\"}}\n\
             {{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"6a\",\"amount\":0,\"flags\":\"P2SH\"}}\n"
        );
        assert_eq!(answer(&lines), "{\"ok\":true}\n{\"ok\":false,\"error\":\"OP_RETURN\"}\n");
    }

    #[test]
    fn bad_lines_get_bad_request_and_the_batch_goes_on() {
        let cases = [
            "not json".to_owned(),
            String::new(),
            format!("{{\"tx\":\"{TX}\",\"input\":1,\"script_pubkey\":\"\",\"amount\":0,\"flags\":\"\"}}"),
            format!(
                "{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"\",\"amount\":0,\"flags\":\"WITNESS\"}}"
            ),
            format!(
                "{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"\",\"amount\":0,\"flags\":\"BOGUS\"}}"
            ),
            format!("{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"zz\",\"amount\":0,\"flags\":\"\"}}"),
            format!("{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"\",\"amount\":-1,\"flags\":\"\"}}"),
            "{\"tx\":\"0100000000010000\",\"input\":0,\"script_pubkey\":\"\",\"amount\":0,\"flags\":\"\"}"
                .to_owned(),
            format!("{{\"tx\":\"{TX}00\",\"input\":0,\"script_pubkey\":\"\",\"amount\":0,\"flags\":\"\"}}"),
            format!("{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"\",\"extra\":1}}"),
            format!("{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"\",\"flags\":\"MEDICAL\"}}"),
            format!(
                "{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"51020101\",\"flags\":\"CLEANSTACK\"}}"
            ),
            format!("{{\"tx\":\"{TX}\",\"input\":0,\"script_pubkey\":\"\",\"flags\":\" P2SH\"}}"),
        ];
        let output = answer(&(cases.join("\n") + "\n"));
        let lines: Vec<&str> = output.lines().collect();
        assert_eq!(lines.len(), cases.len());
        for (case, line) in cases.iter().zip(&lines) {
            assert!(
                line.starts_with("{\"ok\":false,\"error\":\"BAD_REQUEST\",\"detail\":"),
                "{case} -> {line}"
            );
        }
        assert!(lines[7].contains("witness"), "{}", lines[7]);
    }

    #[test]
    fn oversized_and_non_utf8_lines_are_refused() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n\xff\xfe\n");
        let mut out = Vec::new();
        run(input.as_slice(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("longer than"));
        assert!(lines[1].contains("not UTF-8"));
    }
}
