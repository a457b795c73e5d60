//! Repeated `kill -9` of a real `medchain chain import`: after every kill it starts again,
//! and when it finally finishes the state equals a replay from genesis.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;
use medchain_chain::genesis::Genesis;
use medchain_chain::ledger::{Ledger, replay};
use medchain_chain::transaction::Payload;
use medchain_chain::validate::Chain;
use medchain_primitives::codec::Encode;
use rand::Rng;

/// Most restarts before the test gives up (each import run is bounded too).
const MAX_RUNS: usize = 300;

#[test]
fn state_survives_repeated_kill_9() {
    let mut w = World::new();
    let payers = [w.p.patient.clone(), w.p.hospital.clone(), w.p.researcher.clone(), w.p.insurer.clone()];
    for round in 0..24 {
        let txs = (0..4).map(|i| w.tx(&payers[(round + i) % 4], Payload::Transfer, 0, None)).collect();
        w.mine(txs);
    }
    let dir = tempfile::tempdir().unwrap();
    let genesis_path = dir.path().join("genesis.json");
    let blocks_path = dir.path().join("blocks.bin");
    let data = dir.path().join("data");
    std::fs::write(&genesis_path, &w.genesis_json).unwrap();
    let mut file = Vec::new();
    for block in &w.blocks {
        let bytes = block.to_bytes();
        file.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        file.extend_from_slice(&bytes);
    }
    std::fs::write(&blocks_path, file).unwrap();

    let mut rng = rand::rng();
    let (mut kills, mut finished) = (0, false);
    for run in 0..MAX_RUNS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_medchain"))
            .args(["chain", "import", "--data"])
            .arg(&data)
            .arg("--genesis")
            .arg(&genesis_path)
            .arg(&blocks_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Kills come at random moments; later runs get longer, so the import finishes.
        let patience = 5 + 4 * u64::try_from(run).unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(patience..patience * 2)));
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            assert!(status.success(), "import failed: {}", String::from_utf8_lossy(&output.stderr));
            finished = true;
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
    }
    assert!(finished, "import never finished in {MAX_RUNS} runs");
    assert!(kills > 0, "no run was killed; the test proved nothing");
    println!("import finished after {kills} kills");
    let chain = Chain::new(Genesis::from_json(&w.genesis_json).unwrap());
    let ledger = Ledger::open(&data, chain.clone()).unwrap();
    assert_eq!(ledger.tip().unwrap(), w.tip);
    assert_eq!(ledger.store().dump().unwrap(), replay(&chain, &w.blocks).unwrap(), "after {kills} kills");
}
