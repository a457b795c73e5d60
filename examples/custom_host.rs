//! Runs a locking script against a host of your own: here the "transaction" is a signed
//! message and a chain height, and the script is a time-locked signature check.
//!
//! Run: `cargo run -p medchain-examples --bin custom_host`

use medchain_compiler::assemble;
use medchain_vm::signature::verify_ecdsa;
use medchain_vm::{Flags, Host, Step, verify_script_traced};
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};
use sha2::{Digest, Sha256};

/// A host whose signatures are over one message, and whose lock times are chain heights.
struct MessageHost {
    digest: [u8; 32],
    height: i64,
}

impl Host for MessageHost {
    fn check_signature(&self, sig: &[u8], pubkey: &[u8], _script_code: &[u8]) -> bool {
        // Signatures carry a trailing hash-type byte, as in Bitcoin; this host ignores it.
        sig.split_last().is_some_and(|(_, der)| verify_ecdsa(der, pubkey, &self.digest))
    }

    fn check_lock_time(&self, lock_time: i64) -> bool {
        lock_time <= self.height
    }

    fn check_sequence(&self, _sequence: i64) -> bool {
        false
    }
}

fn main() -> anyhow::Result<()> {
    let secret = SecretKey::from_byte_array([0x42; 32])?;
    let pubkey = PublicKey::from_secret_key(SECP256K1, &secret).serialize();
    let digest: [u8; 32] = Sha256::digest(b"release record 17 to Dr. Ada").into();
    let mut sig = SECP256K1.sign_ecdsa(Message::from_digest(digest), &secret).serialize_der().to_vec();
    sig.push(0x01);

    let locking = assemble(&format!("120000 CHECKLOCKTIMEVERIFY DROP <{}> CHECKSIG", hex(&pubkey)))?;
    let unlocking = assemble(&format!("<{}>", hex(&sig)))?;
    let flags = Flags::CHECKLOCKTIMEVERIFY | Flags::STRICTENC | Flags::LOW_S;

    for height in [119_999, 120_000] {
        let host = MessageHost { digest, height };
        let mut steps = Vec::new();
        let mut observer = |step: &Step<'_>| steps.push(step.to_string());
        let result = verify_script_traced(&unlocking, &locking, flags, &host, &mut observer);
        println!("at height {height}:");
        for step in &steps {
            println!("  {step}");
        }
        match result {
            Ok(_) => println!("  => unlocked\n"),
            Err(error) => println!("  => refused: {} ({error})\n", error.name()),
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
