//! The transaction encoding: every transaction round-trips, every mutation of an encoding is
//! refused or decodes to a different transaction (one encoding per value), and the signing
//! digest ignores exactly the unlocking scripts and signatures.

#![expect(clippy::unwrap_used, reason = "a failing test stops loudly; these are its assertions")]

use medchain_chain::transaction::{
    EmergencyShares, Justification, OutPoint, Payload, RecordAccess, Sealed, ShareDeposit, Transaction, TxIn,
    TxOut,
};
use medchain_primitives::codec::{CodecError, Decode, Encode};
use medchain_primitives::{Hash32, PubKey, Sig};
use proptest::prelude::*;
use secp256k1::SecretKey;

fn key() -> impl Strategy<Value = PubKey> {
    (1u8..=200).prop_map(|n| PubKey::from_secret(&SecretKey::from_byte_array([n; 32]).unwrap()))
}

fn hash() -> impl Strategy<Value = Hash32> {
    any::<[u8; 32]>().prop_map(Hash32)
}

fn sig() -> impl Strategy<Value = Sig> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Sig(s)
    })
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn record() -> impl Strategy<Value = RecordAccess> {
    (hash(), bytes(80), any::<u32>(), bytes(100))
        .prop_map(|(record, unlock, sequence, deposit)| RecordAccess { record, unlock, sequence, deposit })
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        Just(Payload::Transfer),
        any::<u32>().prop_map(|height| Payload::Coinbase { height }),
        (key(), any::<u32>(), key(), sig(), any::<bool>()).prop_map(
            |(subject, role, governor, signature, add)| {
                if add {
                    Payload::RegisterRole { subject, role, governor, signature }
                } else {
                    Payload::WithdrawRole { subject, role, governor, signature }
                }
            }
        ),
        (key(), key(), hash(), sig()).prop_map(|(patient, institution, commitment, signature)| {
            Payload::Release { patient, institution, commitment, signature }
        }),
        (
            hash(),
            key(),
            hash(),
            bytes(60),
            prop::option::of((1u8..4, prop::collection::vec((key(), bytes(50), hash()), 0..4))),
            sig()
        )
            .prop_map(|(release, patient, ciphertext, policy, emergency, signature)| {
                Payload::Storage {
                    release,
                    patient,
                    ciphertext,
                    policy,
                    emergency: emergency.map(|(threshold, shares)| EmergencyShares {
                        threshold,
                        shares: shares
                            .into_iter()
                            .map(|(holder, envelope, check)| ShareDeposit { holder, envelope, check })
                            .collect(),
                    }),
                    signature,
                }
            }),
        (key(), any::<u32>(), prop::collection::vec(record(), 0..4))
            .prop_map(|(grantee, purpose, records)| Payload::AccessGrant { grantee, purpose, records }),
        (key(), hash(), prop::collection::vec(bytes(80), 0..3), prop::collection::vec(record(), 0..3), sig())
            .prop_map(|(requester, commitment, copies, records, signature)| Payload::EmergencyAccess {
                requester,
                justification: Justification { commitment, copies: copies.into_iter().map(Sealed).collect() },
                records,
                signature
            }),
        (hash(), hash(), key(), bytes(100), sig()).prop_map(
            |(emergency, record, holder, envelope, signature)| {
                Payload::ShareRelease { emergency, record, holder, envelope, signature }
            }
        ),
        (hash(), key(), sig()).prop_map(|(grant, owner, signature)| Payload::Revocation {
            grant,
            owner,
            signature
        }),
        (hash(), key(), sig()).prop_map(|(access, voter, signature)| Payload::Veto {
            access,
            voter,
            signature
        }),
        bytes(300).prop_map(|code| Payload::DeployModule { code }),
    ]
}

fn transaction() -> impl Strategy<Value = Transaction> {
    let input =
        (hash(), any::<u32>(), bytes(80), any::<u32>()).prop_map(|(txid, index, unlock, sequence)| TxIn {
            prevout: OutPoint { txid, index },
            unlock,
            sequence,
        });
    let output = (any::<u64>(), bytes(40)).prop_map(|(value, lock)| TxOut { value, lock });
    (
        prop::collection::vec(input, 0..3),
        prop::collection::vec(output, 0..3),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        payload(),
    )
        .prop_map(|(inputs, outputs, lock_time, expiry, fuel, payload)| Transaction {
            version: 1,
            inputs,
            outputs,
            lock_time,
            expiry,
            fuel,
            payload,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn round_trips(tx in transaction()) {
        let bytes = tx.to_bytes();
        prop_assert_eq!(Transaction::from_bytes(&bytes), Ok(tx));
    }

    #[test]
    fn one_encoding_per_value(tx in transaction(), position in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let bytes = tx.to_bytes();
        let mut mutated = bytes.clone();
        let i = position.index(mutated.len());
        mutated[i] ^= flip;
        if let Ok(other) = Transaction::from_bytes(&mutated) {
            prop_assert_ne!(&other, &tx);
            prop_assert_eq!(other.to_bytes(), mutated);
        }
        prop_assert!(Transaction::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert_eq!(Transaction::from_bytes(&longer), Err(CodecError::TrailingBytes(1)));
    }

    #[test]
    fn signing_digest_ignores_only_unlocking_scripts_and_signatures(tx in transaction(), unlock in bytes(20)) {
        let chain = Hash32([7; 32]);
        let digest = tx.signing_digest(&chain);
        let mut unlocked = tx.clone();
        for input in &mut unlocked.inputs {
            input.unlock = unlock.clone();
        }
        prop_assert_eq!(unlocked.signing_digest(&chain), digest);
        prop_assert_ne!(tx.signing_digest(&Hash32([8; 32])), digest, "the chain id is committed");
        let mut later = tx.clone();
        later.lock_time = later.lock_time.wrapping_add(1);
        prop_assert_ne!(later.signing_digest(&chain), digest);
    }
}

#[test]
fn refuses_unknown_versions_tags_and_bad_keys() {
    let tx = Transaction::new(vec![], vec![], Payload::Transfer);
    let mut bytes = tx.to_bytes();
    bytes[0] = 2;
    assert_eq!(
        Transaction::from_bytes(&bytes),
        Err(CodecError::UnknownTag { field: "transaction version", tag: 2 })
    );
    let mut bytes = tx.to_bytes();
    *bytes.last_mut().unwrap() = 12;
    assert_eq!(Transaction::from_bytes(&bytes), Err(CodecError::UnknownTag { field: "payload", tag: 12 }));
    let mut revoke = Transaction::new(
        vec![],
        vec![],
        Payload::Revocation {
            grant: Hash32([1; 32]),
            owner: PubKey::from_secret(&SecretKey::from_byte_array([1; 32]).unwrap()),
            signature: Sig([0; 64]),
        },
    )
    .to_bytes();
    let owner_at = revoke.len() - 64 - 33;
    revoke[owner_at] = 0x05;
    assert!(matches!(
        Transaction::from_bytes(&revoke),
        Err(CodecError::NonCanonical { field: "public key", .. })
    ));
    let oversized = [&[1u8][..], &u32::MAX.to_le_bytes()].concat();
    assert!(matches!(Transaction::from_bytes(&oversized), Err(CodecError::TooLong { field: "inputs", .. })));
}
