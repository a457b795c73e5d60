//! A real node process on loopback for tests: start it, ask its status, send requests and
//! read their error codes, feed it the blocks a mirror world mined.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use medchain_primitives::Signer;
use medchain_primitives::codec::Encode;
use medchain_wallet::keyfile::KeyFile;
use serde_json::{Value, json};

use super::World;

pub struct RunningNode {
    pub child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The passphrase of the tests' key files.
pub const TEST_PASSPHRASE: &str = "correct horse battery";

/// Writes `signer`'s key file under [`TEST_PASSPHRASE`] (with a small KDF cost).
pub fn key_file_for(dir: &Path, name: &str, signer: &Signer) -> PathBuf {
    let sealed = KeyFile::seal_with_cost(&signer.secret, TEST_PASSPHRASE, 256, 1, &mut rand::rng()).unwrap();
    let path = dir.join(format!("{name}.key"));
    std::fs::write(&path, serde_json::to_string(&sealed).unwrap()).unwrap();
    path
}

/// A node process on `genesis_json`: a dev node producing with `producer`'s key (from its key
/// file), or one that only validates.
pub async fn start(genesis_json: &str, producer: Option<&Signer>) -> RunningNode {
    let dir = tempfile::tempdir().unwrap();
    let genesis = dir.path().join("genesis.json");
    std::fs::write(&genesis, genesis_json).unwrap();
    let producer_args: Vec<String> = match producer {
        Some(signer) => {
            let file = key_file_for(dir.path(), "producer", signer);
            vec!["--dev".into(), "--producer-key".into(), file.to_str().unwrap().to_owned()]
        }
        None => Vec::new(),
    };
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .arg("node")
        .args(&producer_args)
        .env("MEDCHAIN_PASSPHRASE", TEST_PASSPHRASE)
        .args(["--block-interval", "1", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path().join("data"))
        .arg("--genesis")
        .arg(&genesis)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = RunningNode { child, base: format!("http://127.0.0.1:{port}"), _dir: dir };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{}/v1/status", node.base)).send().await.is_err() {
        assert!(Instant::now() < deadline, "the node did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node
}

pub async fn status(client: &reqwest::Client, base: &str) -> Value {
    client.get(format!("{base}/v1/status")).send().await.unwrap().json().await.unwrap()
}

/// Sends a request and returns (HTTP status, error code or empty).
pub async fn code(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

/// Posts the blocks `w` mined since `sent` to the node, expecting each to be accepted.
pub async fn sync(client: &reqwest::Client, base: &str, w: &World, sent: &mut usize) {
    for block in &w.blocks[*sent..] {
        let (got, code) = code(
            client.post(format!("{base}/v1/blocks")).json(&json!({ "block": hex::encode(block.to_bytes()) })),
        )
        .await;
        assert_eq!((got, code.as_str()), (200, ""), "block {}", block.header.height);
    }
    *sent = w.blocks.len();
}
