//! A rule the stack language cannot say: the hospital deploys a research-purpose rule as a wasm
//! policy module, the patient stores a study record under `approved_research`, a grant for
//! marketing is refused with the module's reason and one for cardiology research goes through.

use medchain_chain::transaction::{Payload, RecordAccess};
use medchain_client::ClientError;
use medchain_compiler::medscript::compile;
use medchain_compiler::medscript::roles::RoleRegistry;
use medchain_compiler::medscript::satisfy::Holdings;
use medchain_compiler::medscript::types::Value as PolicyValue;
use medchain_primitives::{Hash32, Sig};
use medchain_wallet::builder::{FINAL_SEQUENCE, PolicyUnlock, TxBuilder};
use medchain_wallet::deposit::{Binding, seal_to};
use medchain_wallet::record::{self, RecordSecret};

use super::{Cast, Demo, FEE, short, step};

/// Fuel an access through a policy that calls a module declares for each script check.
const MODULE_FUEL: u64 = 100_000;

/// The research purpose the study record approves (cardiology research).
const APPROVED_PURPOSE: u32 = 21;

/// A purpose the module refuses (marketing).
const MARKETING_PURPOSE: u32 = 9;

/// The clause of `approved_research` the patient's consent goes through.
const CONSENT_CLAUSE: usize = 0;

/// The study record under `approved_research`: refused for marketing with the module's
/// reason, granted for the approved purpose, and read.
pub async fn research_under_a_module(demo: &Demo, cast: &mut Cast) -> Result<(), String> {
    let Cast { hospital, patient, researcher, .. } = cast;
    let mut rng = rand::rng();
    step(&format!("{} deploys a research-purpose rule as a wasm policy module", hospital.name));
    let rule = medchain_contracts::modules::module("research_purpose")
        .ok_or("no research_purpose module")?
        .wasm()
        .map_err(|e| e.to_string())?;
    let rule_hash = Hash32::sha256(&rule);
    demo.send(hospital, TxBuilder::new(Payload::DeployModule { code: rule }, FEE)).await?;
    println!("   module {} passed admission; policies call it by its hash", short(&rule_hash));

    step(&format!("{} stores a study record under the `approved_research` policy", patient.name));
    let text = b"Cohort 7, anonymised: 412 ECGs, 9 long-QT findings.".to_vec();
    let salt = record::new_key(&mut rng);
    let release = Payload::Release {
        patient: patient.key(),
        institution: hospital.key(),
        commitment: record::commitment(&salt, &text),
        signature: Sig::EMPTY,
    };
    let release_id = demo.send(hospital, TxBuilder::new(release, FEE).signed_by(&hospital.signer)).await?;
    let record_key = record::new_key(&mut rng);
    let ciphertext =
        demo.client.upload(record::encrypt(&record_key, &text, &mut rng)).await.map_err(|e| e.to_string())?;
    let policy = medchain_contracts::standard("approved_research").ok_or("no standard policy")?;
    let checked = policy.checked(&RoleRegistry::standard()).map_err(|d| format!("{d:?}"))?;
    let args = [
        ("patient".to_owned(), PolicyValue::PubKey(patient.key().0)),
        ("rule".to_owned(), PolicyValue::Module(rule_hash.0)),
        ("purpose".to_owned(), PolicyValue::Number(i64::from(APPROVED_PURPOSE))),
    ]
    .into_iter()
    .collect();
    let compiled = compile(&checked, &args).map_err(|e| e.to_string())?;
    println!("   {}", medchain_compiler::medscript::explain(&checked).lines().nth(1).unwrap_or_default());
    let storage = Payload::Storage {
        release: release_id,
        patient: patient.key(),
        ciphertext,
        policy: compiled.script.clone(),
        emergency: None,
        signature: Sig::EMPTY,
    };
    let record_id = demo.send(patient, TxBuilder::new(storage, FEE).signed_by(&patient.signer)).await?;

    let secret = RecordSecret { key: record_key, salt };
    let deposit = seal_to(&researcher.key(), &secret.to_bytes(), Binding::Deposit(&record_id), &mut rng)
        .map_err(|e| e.to_string())?;
    let (consenting, grantee) = (patient.signer.secret, researcher.key());
    let grant = |purpose| {
        let access = RecordAccess {
            record: record_id,
            unlock: Vec::new(),
            sequence: FINAL_SEQUENCE,
            deposit: deposit.clone(),
        };
        let payload = Payload::AccessGrant { grantee, purpose, records: vec![access] };
        let holdings = Holdings { secret_keys: vec![consenting], ..Holdings::default() };
        TxBuilder::new(payload, FEE).fuel(MODULE_FUEL).unlock_records(PolicyUnlock {
            compiled: compiled.clone(),
            holdings,
            clause: Some(CONSENT_CLAUSE),
        })
    };

    step(&format!(
        "{} signs a grant for marketing (purpose {MARKETING_PURPOSE}): the module refuses it",
        patient.name
    ));
    let tx = demo.build(patient, grant(MARKETING_PURPOSE))?;
    match demo.client.submit(&tx).await {
        Err(ClientError::Refused { code, message, .. }) if code == "POLICY_REFUSED" => {
            println!("   refused: {code}: {message}");
            println!("   (research_purpose's reason 2: the grant's purpose is not the approved one)");
        }
        other => return Err(format!("a grant for another purpose should be refused, got {other:?}")),
    }

    step(&format!("{} grants cardiology research (purpose {APPROVED_PURPOSE})", patient.name));
    let tx = demo.build(patient, grant(APPROVED_PURPOSE))?;
    demo.submit(patient, tx).await.map_err(|e| e.to_string())?;
    let read = demo.read_with_deposit(&researcher.signer, (&record_id, &release_id), &deposit).await?;
    println!(
        "   the module allowed it; the team opens its key deposit and reads: \"{}\"",
        String::from_utf8_lossy(&read)
    );
    Ok(())
}
