//! Structure-aware generators: scripts built from real instructions (pushes in minimal and
//! non-minimal forms, numbers at the 4/5-byte edges, nested conditionals, signatures and
//! keys), and fully signed spends over the harness transactions.

use medchain_vm::bitcoin::{Transaction, crediting_transaction, legacy_sighash, spending_transaction};
use medchain_vm::num::encode_num;
use medchain_vm::script::push_bytes;
use medchain_vm::{Flags, Opcode};
use proptest::prelude::*;
use secp256k1::{Message, PublicKey, SECP256K1, SecretKey};

/// Numbers at the edges that matter: small, 1-byte sign boundary, 4-byte and 5-byte limits.
pub fn edge_number() -> impl Strategy<Value = i64> {
    let edges = [
        0i64,
        1,
        -1,
        16,
        17,
        127,
        128,
        255,
        256,
        -128,
        -255,
        0x7fff,
        0x8000,
        0x7f_ffff,
        0x80_0000,
        0x7fff_ffff,
        0x8000_0000,
        -0x7fff_ffff,
        -0x8000_0000,
        0xffff_ffff,
        0x7f_ffff_ffff,
        0x80_0000_0000,
        499_999_999,
        500_000_000,
        1 << 22,
        (1 << 22) | 5,
        1 << 31,
    ];
    prop_oneof![3 => prop::sample::select(edges.to_vec()), 1 => -20i64..20, 1 => any::<i32>().prop_map(i64::from)]
}

/// A push of some item: minimal or not, numbers, odd encodings, sizes around 520.
pub fn push() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        16 => edge_number().prop_map(|n| push_bytes(&encode_num(n))),
        8 => (0u8..=16).prop_map(|n| vec![if n == 0 { 0 } else { 0x50 + n }]),
        8 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|d| push_bytes(&d)),
        4 => prop::sample::select(vec![vec![0x01, 0x00], vec![0x01, 0x80], vec![0x02, 0x01, 0x00], vec![0x01, 0x05],
            vec![0x4c, 0x00], vec![0x4c, 0x01, 0x07], vec![0x4d, 0x01, 0x00, 0x07], vec![0x4e, 0, 0, 0, 0], vec![0x4f]]),
        1 => (518usize..=522).prop_map(|n| push_bytes(&vec![0xab; n])),
    ]
}

/// Any single opcode byte from OP_1NEGATE up, biased toward the ones that do something.
pub fn opcode() -> impl Strategy<Value = Vec<u8>> {
    let common = [
        Opcode::DUP,
        Opcode::DROP,
        Opcode::SWAP,
        Opcode::OVER,
        Opcode::ROT,
        Opcode::PICK,
        Opcode::ROLL,
        Opcode::ADD,
        Opcode::SUB,
        Opcode::EQUAL,
        Opcode::EQUALVERIFY,
        Opcode::VERIFY,
        Opcode::NUMEQUAL,
        Opcode::WITHIN,
        Opcode::SIZE,
        Opcode::DEPTH,
        Opcode::TOALTSTACK,
        Opcode::FROMALTSTACK,
        Opcode::HASH160,
        Opcode::SHA256,
        Opcode::CHECKSIG,
        Opcode::CHECKMULTISIG,
        Opcode::CODESEPARATOR,
        Opcode::CHECKLOCKTIMEVERIFY,
        Opcode::CHECKSEQUENCEVERIFY,
        Opcode::NOP1,
        Opcode::NOT,
        Opcode::IFDUP,
        Opcode::TWO_DUP,
        Opcode::THREE_DUP,
        Opcode::TWO_ROT,
        Opcode::TWO_SWAP,
        Opcode::TUCK,
        Opcode::NIP,
        Opcode::BOOLAND,
        Opcode::MIN,
        Opcode::MAX,
        Opcode::ABS,
        Opcode::NEGATE,
        Opcode::ONE_ADD,
    ];
    prop_oneof![
        4 => prop::sample::select(common.to_vec()).prop_map(|op| vec![op.0]),
        1 => (0x4fu8..=0xff).prop_map(|op| vec![op]),
    ]
}

/// A signature-shaped or key-shaped push: real DER, broken DER, real and broken keys.
pub fn sig_or_key() -> impl Strategy<Value = Vec<u8>> {
    (1u8..=4, any::<[u8; 32]>(), any::<u8>(), 0u8..6).prop_map(|(key, digest, hash_type, kind)| {
        let secret = secret_key(key);
        let public = PublicKey::from_secret_key(SECP256K1, &secret);
        let item = match kind {
            0 => {
                let mut sig =
                    SECP256K1.sign_ecdsa(Message::from_digest(digest), &secret).serialize_der().to_vec();
                sig.push(hash_type);
                sig
            }
            1 => {
                let mut sig =
                    SECP256K1.sign_ecdsa(Message::from_digest(digest), &secret).serialize_der().to_vec();
                if let Some(byte) = sig.get_mut(usize::from(hash_type) % 8) {
                    *byte ^= 0x80;
                }
                sig
            }
            2 => public.serialize().to_vec(),
            3 => public.serialize_uncompressed().to_vec(),
            4 => {
                let mut hybrid = public.serialize_uncompressed();
                hybrid[0] = 0x06 | (hybrid[64] & 1);
                hybrid.to_vec()
            }
            _ => digest[..usize::from(hash_type % 33)].to_vec(),
        };
        push_bytes(&item)
    })
}

/// A script of up to `len` pieces, with nested conditionals (each usually preceded by the
/// push it tests, and now and then left unbalanced).
pub fn script(len: usize) -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![4 => push(), 2 => opcode(), 1 => sig_or_key()];
    let piece = leaf.prop_recursive(3, 24, 6, |inner| {
        let opener = prop::sample::select(vec![Opcode::IF.0, Opcode::NOTIF.0]);
        let branch = prop::collection::vec(inner, 0..4);
        (
            prop::option::weighted(0.9, push()),
            opener,
            branch.clone(),
            prop::option::of(branch),
            prop::bool::weighted(0.95),
        )
            .prop_map(|(condition, open, then, otherwise, close)| {
                let mut out = condition.unwrap_or_default();
                out.push(open);
                out.extend(then.concat());
                if let Some(otherwise) = otherwise {
                    out.push(Opcode::ELSE.0);
                    out.extend(otherwise.concat());
                }
                if close {
                    out.push(Opcode::ENDIF.0);
                }
                out
            })
    });
    prop::collection::vec(prop_oneof![3 => push(), 2 => piece], 0..len).prop_map(|pieces| pieces.concat())
}

/// Any set of the flags this VM implements.
pub fn any_flags() -> impl Strategy<Value = Flags> {
    any::<u32>().prop_map(|bits| {
        Flags::ALL_BITCOIN
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .fold(Flags::NONE, |a, (_, f)| a | f)
    })
}

/// Any set of the consensus flags libbitcoinconsensus accepts.
pub fn consensus_flags() -> impl Strategy<Value = Flags> {
    any::<u8>().prop_map(|bits| {
        Flags::CONSENSUS
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .fold(Flags::NONE, |a, (_, f)| a | f)
    })
}

/// One of four fixed test keys.
pub fn secret_key(index: u8) -> SecretKey {
    let mut bytes = [0u8; 32];
    bytes[31] = index.max(1);
    bytes[0] = 0x5a;
    SecretKey::from_byte_array(bytes).unwrap_or_else(|_| unreachable!("valid fixed key"))
}

/// A spend: locking script, unlocking script and the spending transaction that carries it.
#[derive(Debug, Clone)]
pub struct Spend {
    /// The locking script.
    pub script_pubkey: Vec<u8>,
    /// The unlocking script.
    pub script_sig: Vec<u8>,
    /// The spending transaction (input 0 carries `script_sig`).
    pub tx: Transaction,
}

/// The templates a signed spend can take.
#[derive(Debug, Clone, Copy)]
enum Template {
    PayToPubkey,
    PayToPubkeyHash,
    Multisig { required: u8, keys: u8 },
    P2shMultisig { required: u8, keys: u8 },
}

fn hash160(data: &[u8]) -> Vec<u8> {
    use ripemd::Ripemd160;
    use sha2::{Digest, Sha256};
    Ripemd160::digest(Sha256::digest(data)).to_vec()
}

/// Signed spends of standard templates over a harness transaction with varied version, lock
/// time and sequence, with optional damage (a wrong key, a flipped byte, a non-empty dummy).
pub fn signed_spend() -> impl Strategy<Value = Spend> {
    let template = prop_oneof![
        Just(Template::PayToPubkey),
        Just(Template::PayToPubkeyHash),
        (1u8..=3, 1u8..=3).prop_map(|(m, n)| Template::Multisig { required: m.min(n), keys: n }),
        (1u8..=3, 1u8..=3).prop_map(|(m, n)| Template::P2shMultisig { required: m.min(n), keys: n }),
    ];
    let hash_type = prop::sample::select(vec![0x01u8, 0x02, 0x03, 0x81, 0x82, 0x83, 0x00, 0x04, 0x41]);
    let version = prop::sample::select(vec![1i32, 2, -1, 0]);
    let lock_time = prop::sample::select(vec![0u32, 100, 499_999_999, 500_000_000, u32::MAX]);
    let sequence =
        prop::sample::select(vec![u32::MAX, 0, 10, 1 << 22, (1 << 22) | 10, 1 << 31, u32::MAX - 1]);
    let damage = prop::sample::select(vec![None, None, None, Some(0u8), Some(1), Some(2), Some(3)]);
    (template, hash_type, version, lock_time, sequence, damage, script(4)).prop_map(
        |(template, hash_type, version, lock_time, sequence, damage, prefix)| {
            build_spend(template, hash_type, version, lock_time, sequence, damage, prefix)
        },
    )
}

fn build_spend(
    template: Template,
    hash_type: u8,
    version: i32,
    lock_time: u32,
    sequence: u32,
    damage: Option<u8>,
    lock_prefix: Vec<u8>,
) -> Spend {
    let keys: Vec<SecretKey> = (1..=3).map(secret_key).collect();
    let pubkey = |i: usize| PublicKey::from_secret_key(SECP256K1, &keys[i]).serialize().to_vec();
    let multisig = |m: u8, n: u8| {
        let mut script = vec![0x50 + m];
        for i in 0..usize::from(n) {
            script.extend(push_bytes(&pubkey(i)));
        }
        script.extend([0x50 + n, Opcode::CHECKMULTISIG.0]);
        script
    };
    // A CLTV/CSV prefix sometimes guards the locking script: `<prefix> DROP`-free, raw.
    let guard = if damage == Some(3) { lock_prefix } else { Vec::new() };
    let (script_pubkey, redeem) = match template {
        Template::PayToPubkey => ([guard, push_bytes(&pubkey(0)), vec![Opcode::CHECKSIG.0]].concat(), None),
        Template::PayToPubkeyHash => {
            let body = [vec![0x76, 0xa9], push_bytes(&hash160(&pubkey(0))), vec![0x88, 0xac]].concat();
            ([guard, body].concat(), None)
        }
        Template::Multisig { required, keys } => ([guard, multisig(required, keys)].concat(), None),
        Template::P2shMultisig { required, keys } => {
            let redeem = [guard, multisig(required, keys)].concat();
            ([vec![0xa9], push_bytes(&hash160(&redeem)), vec![0x87]].concat(), Some(redeem))
        }
    };
    let crediting = crediting_transaction(&script_pubkey, 0);
    let mut tx = spending_transaction(&crediting, &[], 0);
    tx.version = version;
    tx.lock_time = lock_time;
    if let Some(input) = tx.inputs.first_mut() {
        input.sequence = sequence;
    }
    let code = redeem.clone().unwrap_or_else(|| script_pubkey.clone());
    let digest = legacy_sighash(&tx, 0, &code, i32::from(hash_type));
    let sign = |i: usize| {
        let signer = if damage == Some(0) { &keys[(i + 1) % 3] } else { &keys[i] };
        let mut sig = SECP256K1.sign_ecdsa(Message::from_digest(digest), signer).serialize_der().to_vec();
        if damage == Some(1)
            && let Some(byte) = sig.get_mut(10)
        {
            *byte ^= 1;
        }
        sig.push(hash_type);
        sig
    };
    let mut script_sig = Vec::new();
    match template {
        Template::PayToPubkey => script_sig.extend(push_bytes(&sign(0))),
        Template::PayToPubkeyHash => {
            script_sig.extend(push_bytes(&sign(0)));
            script_sig.extend(push_bytes(&pubkey(0)));
        }
        Template::Multisig { required, .. } | Template::P2shMultisig { required, .. } => {
            script_sig.push(if damage == Some(2) { 0x51 } else { 0x00 });
            for i in 0..usize::from(required) {
                script_sig.extend(push_bytes(&sign(i)));
            }
            if let Some(redeem) = &redeem {
                script_sig.extend(push_bytes(redeem));
            }
        }
    }
    if let Some(input) = tx.inputs.first_mut() {
        input.script_sig = script_sig.clone();
    }
    Spend { script_pubkey, script_sig, tx }
}
