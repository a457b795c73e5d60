//! Signature and public key encoding rules, and ECDSA verification with Bitcoin Core's
//! permissive parsing (lax DER, high S accepted, hybrid keys).

use secp256k1::{Message, PublicKey, ecdsa::Signature};

use crate::error::ScriptError;
use crate::flags::Flags;

/// Hash type bit: sign only this input.
pub const SIGHASH_ANYONECANPAY: u8 = 0x80;
/// Hash type: sign all outputs.
pub const SIGHASH_ALL: u8 = 1;
/// Hash type: sign no outputs.
pub const SIGHASH_NONE: u8 = 2;
/// Hash type: sign the output with this input's index.
pub const SIGHASH_SINGLE: u8 = 3;

/// Whether `sig` (DER plus one hash-type byte) is strict DER as BIP 66 defines it.
pub fn is_strict_der(sig: &[u8]) -> bool {
    let size = sig.len();
    if !(9..=73).contains(&size) {
        return false;
    }
    let byte = |i: usize| sig.get(i).copied().unwrap_or(0);
    let len_r = usize::from(byte(3));
    if byte(0) != 0x30 || usize::from(byte(1)) != size - 3 || 5 + len_r >= size {
        return false;
    }
    let len_s = usize::from(byte(5 + len_r));
    if len_r + len_s + 7 != size || byte(2) != 0x02 || len_r == 0 || byte(4) & 0x80 != 0 {
        return false;
    }
    if len_r > 1 && byte(4) == 0 && byte(5) & 0x80 == 0 {
        return false;
    }
    let s = len_r + 6;
    if byte(s - 2) != 0x02 || len_s == 0 || byte(s) & 0x80 != 0 {
        return false;
    }
    !(len_s > 1 && byte(s) == 0 && byte(s + 1) & 0x80 == 0)
}

/// Whether the S value of a DER signature (without hash type) is at most half the curve order.
/// A signature the lax parser cannot read is not low-S; an out-of-range one reads as zero.
fn has_low_s(der: &[u8]) -> bool {
    match Signature::from_der_lax(der) {
        Ok(sig) => {
            let mut normalized = sig;
            normalized.normalize_s();
            normalized == sig
        }
        Err(_) => false,
    }
}

/// Applies the signature encoding rules the flags ask for (Core's `CheckSignatureEncoding`).
/// An empty signature always passes: it is the compact way to fail a check.
pub fn check_signature_encoding(sig: &[u8], flags: Flags) -> Result<(), ScriptError> {
    let Some((&hash_type, der)) = sig.split_last() else {
        return Ok(());
    };
    let strict = Flags::DERSIG.union(Flags::LOW_S).union(Flags::STRICTENC);
    if flags.bits() & strict.bits() != 0 && !is_strict_der(sig) {
        return Err(ScriptError::SigDer);
    }
    if flags.contains(Flags::LOW_S) && !has_low_s(der) {
        return Err(ScriptError::SigHighS);
    }
    if flags.contains(Flags::STRICTENC) {
        let base = hash_type & !SIGHASH_ANYONECANPAY;
        if !(SIGHASH_ALL..=SIGHASH_SINGLE).contains(&base) {
            return Err(ScriptError::SigHashtype);
        }
    }
    Ok(())
}

/// Applies the public key encoding rule of STRICTENC: 33 bytes starting 02/03 or 65 starting 04.
pub fn check_pubkey_encoding(pubkey: &[u8], flags: Flags) -> Result<(), ScriptError> {
    let well_formed = matches!((pubkey.first(), pubkey.len()), (Some(0x02 | 0x03), 33) | (Some(0x04), 65));
    if flags.contains(Flags::STRICTENC) && !well_formed {
        return Err(ScriptError::PubkeyType);
    }
    Ok(())
}

/// Whether a key's length matches its prefix (02/03: 33 bytes; 04/06/07: 65), Core's
/// `CPubKey::IsValid`; checked before any hashing.
pub fn has_valid_key_length(pubkey: &[u8]) -> bool {
    match pubkey.first() {
        Some(0x02 | 0x03) => pubkey.len() == 33,
        Some(0x04 | 0x06 | 0x07) => pubkey.len() == 65,
        _ => false,
    }
}

/// Verifies an ECDSA signature (DER, without hash type) over a 32-byte digest exactly as
/// Bitcoin Core does: the key's length must match its prefix (02/03: 33; 04/06/07: 65),
/// the signature is parsed leniently, and a high S is normalized before verifying.
pub fn verify_ecdsa(der: &[u8], pubkey: &[u8], digest: &[u8; 32]) -> bool {
    if !has_valid_key_length(pubkey) {
        return false;
    }
    let Ok(key) = PublicKey::from_slice(pubkey) else {
        return false;
    };
    let Ok(mut sig) = Signature::from_der_lax(der) else {
        return false;
    };
    sig.normalize_s();
    let message = Message::from_digest(*digest);
    secp256k1::SECP256K1.verify_ecdsa(message, &sig, &key).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut sig = vec![0x30, (r.len() + s.len() + 4) as u8, 0x02, r.len() as u8];
        sig.extend_from_slice(r);
        sig.extend_from_slice(&[0x02, s.len() as u8]);
        sig.extend_from_slice(s);
        sig.push(SIGHASH_ALL);
        sig
    }

    #[test]
    fn strict_der_accepts_minimal_and_rejects_padding() {
        assert!(is_strict_der(&der(&[1], &[1])));
        assert!(is_strict_der(&der(&[0, 0x80], &[1])));
        assert!(!is_strict_der(&der(&[0, 1], &[1])));
        assert!(!is_strict_der(&der(&[0x80], &[1])));
        assert!(!is_strict_der(&der(&[1], &[])));
        assert!(!is_strict_der(&[0x30; 8]));
    }

    #[test]
    fn encoding_rules_follow_flags() {
        let bad = [0x30, 0x01, 0x01];
        assert_eq!(check_signature_encoding(&bad, Flags::NONE), Ok(()));
        assert_eq!(check_signature_encoding(&bad, Flags::DERSIG), Err(ScriptError::SigDer));
        assert_eq!(check_signature_encoding(&[], Flags::ALL_BITCOIN), Ok(()));
        let mut undefined = der(&[1], &[1]);
        *undefined.last_mut().unwrap() = 0x21;
        assert_eq!(check_signature_encoding(&undefined, Flags::STRICTENC), Err(ScriptError::SigHashtype));
        let mut s = vec![0xff; 32];
        s[0] = 0x7f;
        let high_s = der(&[1], &s);
        assert_eq!(check_signature_encoding(&high_s, Flags::LOW_S), Err(ScriptError::SigHighS));
        assert_eq!(check_pubkey_encoding(&[0x06; 65], Flags::STRICTENC), Err(ScriptError::PubkeyType));
        assert_eq!(check_pubkey_encoding(&[0x06; 65], Flags::NONE), Ok(()));
    }
}
