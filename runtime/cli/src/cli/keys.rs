//! `medchain keygen`: a new key, written encrypted under a passphrase.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::miette;

use medchain_primitives::Signer;
use medchain_wallet::files::{ensure_writable, write_private};
use medchain_wallet::keyfile::KeyFile;

/// The environment variable a passphrase is read from by default.
pub const PASSPHRASE_ENV: &str = "MEDCHAIN_PASSPHRASE";

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the key file.
    #[arg(long)]
    out: PathBuf,
    /// The environment variable holding the passphrase (read from standard input if unset).
    #[arg(long, default_value = PASSPHRASE_ENV)]
    passphrase_env: String,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

/// The passphrase from `env`, or else the first line of standard input.
pub fn passphrase(env: &str) -> miette::Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    eprint!("passphrase: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| miette!("cannot read the passphrase: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A key file and where its passphrase comes from, for commands that sign.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The key file (from `medchain keygen`).
    #[arg(long)]
    key: PathBuf,
    /// The environment variable holding the key file's passphrase (read from standard input if
    /// unset).
    #[arg(long, default_value = PASSPHRASE_ENV)]
    passphrase_env: String,
}

impl KeyArgs {
    /// The signer in the key file, opened with the passphrase.
    pub fn signer(&self) -> miette::Result<Signer> {
        open_key_file(&self.key, &self.passphrase_env)
    }
}

/// The signer in the key file at `path`, opened with the passphrase from `passphrase_env`.
pub fn open_key_file(path: &std::path::Path, passphrase_env: &str) -> miette::Result<Signer> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| miette!("cannot read the key file {}: {e}", path.display()))?;
    let file: KeyFile =
        serde_json::from_str(&text).map_err(|e| miette!("{} is not a key file: {e}", path.display()))?;
    Ok(Signer::new(file.open(&passphrase(passphrase_env)?).map_err(|e| miette!("{e}"))?))
}

pub fn run(args: KeygenArgs) -> miette::Result<ExitCode> {
    ensure_writable(&args.out, args.force).map_err(|e| miette!("{e}"))?;
    let passphrase = passphrase(&args.passphrase_env)?;
    let secret = secp256k1::SecretKey::new(&mut rand::rng());
    let file = KeyFile::seal(&secret, &passphrase, &mut rand::rng()).map_err(|e| miette!("{e}"))?;
    let json = serde_json::to_string_pretty(&file).map_err(|e| miette!("{e}"))?;
    write_private(&args.out, json.as_bytes(), args.force).map_err(|e| miette!("{e}"))?;
    println!("{}", file.public_key);
    Ok(ExitCode::SUCCESS)
}
