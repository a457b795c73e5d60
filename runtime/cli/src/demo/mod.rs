//! `medchain demo`: the lecture's story, played by separate parties against a dev node over
//! HTTP, chapter by chapter. A hospital is registered and releases a record; the patient stores
//! it under a consent and emergency policy; a research team gets it through a grant with a key
//! deposit; an insurer without consent is refused; a second hospital breaks the glass and
//! decrypts with released key shares; the patient revokes and the next read fails. A record in
//! a vault: one emergency request is vetoed and never unlocks, another unlocks only after its
//! veto window. The patient's signed view of the audit log shows it all (and nobody else gets
//! it), and the read log is anchored on chain. Then a study record under a
//! research-purpose rule that runs as a wasm policy module: a grant for another purpose is
//! refused with the module's reason, one for the approved purpose works.

mod audit;
mod cast;
mod emergency;
mod module;
mod release;
mod sharing;

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use medchain_chain::genesis::Genesis;
use medchain_chain::standard::pay_to_key;
use medchain_chain::transaction::{OutPoint, Transaction};
use medchain_chain::validate::Chain;
use medchain_client::{Client, ClientError};
use medchain_node::{Node, NodeConfig, serve_on};
use medchain_primitives::{Hash32, Signer};
use medchain_wallet::builder::{Spendable, TxBuilder};
use medchain_wallet::deposit::open_record_secret;
use medchain_wallet::record::RecordSecret;

pub use cast::Cast;
use cast::Party;

/// Every party's fee.
const FEE: u64 = 1_000;

/// How long a transaction may take to enter a block.
const WAIT: Duration = Duration::from_secs(60);

/// The demo's connection to the node.
struct Demo {
    client: Client,
    chain_id: Hash32,
}

/// A chapter's heading.
fn step(title: &str) {
    println!("\n== {title}");
}

/// The first twelve hex digits of a hash.
fn short(hash: &Hash32) -> String {
    hash.to_hex().get(..12).unwrap_or_default().to_owned() + "…"
}

impl Demo {
    /// A transaction from `builder`, paid from `payer`'s coins (which it takes out of the
    /// party's purse until its block returns the change).
    fn build(&self, payer: &mut Party, builder: TxBuilder) -> Result<Transaction, String> {
        // The parties hold no coinbase coins, so no height makes one immature.
        let tx = builder.build(&self.chain_id, &payer.signer, &payer.coins, 0).map_err(|e| e.to_string())?;
        payer.coins.retain(|coin| !tx.inputs.iter().any(|input| input.prevout == coin.outpoint));
        Ok(tx)
    }

    /// Builds a transaction paid and signed by `payer`, submits it and waits for its block.
    async fn send(&self, payer: &mut Party, builder: TxBuilder) -> Result<Hash32, String> {
        let tx = self.build(payer, builder)?;
        self.submit(payer, tx).await.map_err(|e| e.to_string())
    }

    /// Submits `tx` and waits for its block; the change goes back into `payer`'s purse.
    async fn submit(&self, payer: &mut Party, tx: Transaction) -> Result<Hash32, ClientError> {
        let txid = self.client.submit(&tx).await?;
        let interactive = std::io::stdout().is_terminal();
        let mut last = u64::MAX;
        let confirmed = self
            .client
            .wait_confirmed(&txid, WAIT, &mut |seconds| {
                if interactive && seconds != last {
                    print!("\r   … waiting for {} to enter a block ({seconds}s)", short(&txid));
                    let _ = std::io::stdout().flush();
                    last = seconds;
                }
            })
            .await?;
        if interactive && last != u64::MAX {
            print!("\r\x1b[2K");
        }
        let height = confirmed.block.map_or(0, |b| b.height);
        println!("   {} ({}) in block {height}", tx.payload.kind(), short(&txid));
        let change = pay_to_key(&payer.signer.key);
        for (index, output) in (0u32..).zip(&tx.outputs) {
            if output.lock == change {
                let outpoint = OutPoint { txid, index };
                payer.coins.push(Spendable { outpoint, value: output.value, height, coinbase: false });
            }
        }
        Ok(txid)
    }

    /// Downloads a record (by its storage id and its release) as `reader`, decrypts it with the
    /// record secret the deposit seals to them for that record, and checks it against the
    /// release's commitment on chain.
    async fn read_with_deposit(
        &self,
        reader: &Signer,
        (record, release): (&Hash32, &Hash32),
        deposit: &[u8],
    ) -> Result<Vec<u8>, String> {
        let secret = open_record_secret(&reader.secret, deposit, record).map_err(|e| e.to_string())?;
        self.read_record(reader, (record, release), &secret).await
    }

    /// Downloads a record (by its storage id and its release) as `reader`, decrypts it with
    /// `secret` and checks it against the commitment its release made on chain.
    async fn read_record(
        &self,
        reader: &Signer,
        (record, release): (&Hash32, &Hash32),
        secret: &RecordSecret,
    ) -> Result<Vec<u8>, String> {
        let commitment = self.client.release_commitment(release).await.map_err(|e| e.to_string())?;
        let downloaded =
            self.client.download(&self.chain_id, reader, record).await.map_err(|e| e.to_string())?;
        secret.read(&downloaded, &commitment).map_err(|e| e.to_string())
    }

    /// Expects `result` to be a refusal with `code`, and prints it.
    fn refused<T: std::fmt::Debug>(
        what: &str,
        result: Result<T, ClientError>,
        code: &str,
    ) -> Result<(), String> {
        match result {
            Err(ClientError::Refused { code: got, message, .. }) if got == code => {
                println!("   {what}: {got}: {message}");
                Ok(())
            }
            other => Err(format!("{what} should be refused with {code}, got {other:?}")),
        }
    }
}

/// Runs the demo on a dev node of its own (a temporary directory, a loopback port); returns an
/// error message if a step did not go as the story says.
pub async fn run() -> Result<(), String> {
    let mut cast = Cast::new();
    let genesis = Genesis::from_json(&cast.genesis_json()).map_err(|e| e.to_string())?;
    let chain = Chain::new(genesis);

    step("Starting a dev node on a temporary directory");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let config = NodeConfig {
        producer: Some(cast.producer_signer().clone()),
        block_interval: Duration::from_secs(1),
        listen: address,
    };
    let node = Arc::new(Node::open(dir.path(), chain.clone(), config)?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(node, listener, async move {
        let _ = stopped.await;
    }));
    let outcome = play(&format!("http://{address}"), &chain, &mut cast).await;
    let _ = stop.send(());
    let _ = server.await;
    outcome
}

/// Plays the story against the node at `url`, which runs `chain` from the cast's genesis.
pub async fn play(url: &str, chain: &Chain, cast: &mut Cast) -> Result<(), String> {
    cast.fund(chain);
    let demo = Demo { client: Client::new(url), chain_id: chain.chain_id };
    let status = demo.client.status().await.map_err(|e| e.to_string())?;
    println!("   node at {url}, chain {} ({})", status.chain_name, short(&chain.chain_id));

    release::register_hospital(&demo, cast).await?;
    let stored = release::release_and_store(&demo, cast, &release::ECG).await?;
    let grant = sharing::share_with_research(&demo, cast, &stored).await?;
    sharing::refuse_the_insurer(&demo, cast, &stored).await?;
    emergency::break_the_glass(&demo, cast, &stored).await?;
    sharing::revoke(&demo, cast, &stored, grant).await?;
    let vault = release::release_and_store(&demo, cast, &release::VAULT).await?;
    emergency::veto_and_wait(&demo, cast, &vault).await?;
    audit::audit_log(&demo, cast, &[&stored, &vault]).await?;
    audit::anchored_read_log(&demo).await?;
    module::research_under_a_module(&demo, cast).await?;
    audit::blocks(&demo).await?;
    println!("\nThe story played out as it should.");
    Ok(())
}
