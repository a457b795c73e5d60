//! A real node process on loopback for tests: start it, ask its status, send requests and
//! read their error codes, feed it the blocks a mirror world mined.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use medchain_primitives::codec::Encode;
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

pub async fn start(genesis_json: &str, dev: bool) -> RunningNode {
    let dir = tempfile::tempdir().unwrap();
    let genesis = dir.path().join("genesis.json");
    // A node that does not produce refuses a genesis holding a secret key: leave it out.
    let mut parsed: Value = serde_json::from_str(genesis_json).unwrap();
    if !dev {
        parsed.as_object_mut().unwrap().remove("dev_key");
    }
    std::fs::write(&genesis, parsed.to_string()).unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .arg("node")
        .args(dev.then_some("--dev"))
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
