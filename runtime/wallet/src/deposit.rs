//! Record keys on their way to a reader: sealed to a key for one purpose (a key deposit, a
//! share, a share's release, a handover, a justification), opened with the reader's secret and
//! that purpose, or recovered from emergency shares released to it, each share checked.

use medchain_chain::limits::SALT_SIZE;
use medchain_chain::transaction::{
    EmergencyShares, Justification, MAX_JUSTIFICATION_COPIES, Sealed, ShareDeposit,
};
use medchain_primitives::ecies::{self, EciesError};
use medchain_primitives::{Hash32, PubKey};
use rand::{CryptoRng, RngCore};
use secp256k1::SecretKey;
use thiserror::Error;

use crate::record::{RECORD_KEY_SIZE, RECORD_SECRET_SIZE, RecordSecret};
use crate::shamir::{self, ShamirError, Share};

/// Domain of a share's check.
const SHARE_CHECK_DOMAIN: &[u8] = b"medchain/share-check/v1";

/// What an envelope is for. Its bytes are bound into the envelope's authenticated data beside
/// the recipient's key, so an envelope sealed for one record, access or purpose never opens as
/// another: a key deposit copied from another record's grant fails to open, and says so.
#[derive(Debug, Clone, Copy)]
pub enum Binding<'a> {
    /// A key deposit in an access to a record (its storage id), for the access's grantee.
    Deposit(&'a Hash32),
    /// A share of the key of the record that stores a release (the release's id), for its holder.
    Share(&'a Hash32),
    /// A holder's share of a record's key, re-sealed to the requester of an emergency access.
    ShareRelease {
        /// The emergency access.
        access: &'a Hash32,
        /// The record.
        record: &'a Hash32,
    },
    /// The institution's record key for the patient, for the ciphertext (its hash) it decrypts.
    Handover(&'a Hash32),
    /// An emergency access's justification, by its requester, on its records.
    Justification {
        /// The institution asking.
        requester: &'a PubKey,
        /// The records it asks for.
        records: &'a [Hash32],
    },
}

impl Binding<'_> {
    /// The bytes bound into the envelope.
    fn context(&self) -> Vec<u8> {
        match self {
            Binding::Deposit(record) => [&b"medchain/deposit/v1"[..], &record.0].concat(),
            Binding::Share(release) => [&b"medchain/share/v1"[..], &release.0].concat(),
            Binding::ShareRelease { access, record } => {
                [&b"medchain/share-release/v1"[..], &access.0, &record.0].concat()
            }
            Binding::Handover(ciphertext) => [&b"medchain/handover/v1"[..], &ciphertext.0].concat(),
            Binding::Justification { requester, records } => {
                let records = records.iter().flat_map(|r| r.0);
                b"medchain/justification/v1".iter().copied().chain(requester.0).chain(records).collect()
            }
        }
    }
}

/// Why a record key could not be sealed, opened or recovered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The recipient's key is not a valid public key.
    #[error("{0} is not a valid public key")]
    BadRecipient(String),
    /// An envelope did not open with this secret for this purpose.
    #[error("the envelope does not open with this key for this record: {0}")]
    Envelope(#[from] EciesError),
    /// What opened is not a record secret (key and salt).
    #[error("the envelope holds {0} bytes, not a {RECORD_SECRET_SIZE}-byte record key and salt")]
    NotARecordSecret(usize),
    /// A released share that is not the share its holder was given: it does not open, or does
    /// not match the record's check for that holder.
    #[error("the share released by {holder} is bad: {why}")]
    BadShare {
        /// The holder who released it.
        holder: PubKey,
        /// What is wrong with it.
        why: String,
    },
    /// A released share from a key the record gave no share.
    #[error("{0} holds no share of this record's key")]
    NotAHolder(PubKey),
    /// The shares do not recover a key.
    #[error("{count} released shares do not recover the key: {error}")]
    Shares {
        /// How many were released.
        count: usize,
        /// Why.
        error: ShamirError,
    },
    /// More readers of a justification than an access may carry.
    #[error("a justification is sealed to at most {MAX_JUSTIFICATION_COPIES} keys")]
    TooManyReaders,
    /// A justification copy that opens but is not the text the request committed to: the
    /// requester told this reader something other than what it committed to.
    #[error("the justification sealed to this key is not the one the request committed to")]
    JustificationMismatch,
}

/// `secret` sealed to `recipient` for `binding` (ECIES).
pub fn seal_to<R: RngCore + CryptoRng>(
    recipient: &PubKey,
    secret: &[u8],
    binding: Binding<'_>,
    rng: &mut R,
) -> Result<Vec<u8>, KeyError> {
    let key = recipient.key().ok_or_else(|| KeyError::BadRecipient(recipient.to_hex()))?;
    Ok(ecies::seal(&key, secret, &binding.context(), rng)?)
}

/// The record secret a key deposit on `record` seals to `reader`.
pub fn open_record_secret(
    reader: &SecretKey,
    envelope: &[u8],
    record: &Hash32,
) -> Result<RecordSecret, KeyError> {
    let bytes = ecies::open(reader, envelope, &Binding::Deposit(record).context())?;
    RecordSecret::from_bytes(&bytes).ok_or(KeyError::NotARecordSecret(bytes.len()))
}

/// The bare record key the institution's handover seals to `reader` for `ciphertext` (the
/// salt travels beside it).
pub fn open_record_key(
    reader: &SecretKey,
    envelope: &[u8],
    ciphertext: &Hash32,
) -> Result<[u8; RECORD_KEY_SIZE], KeyError> {
    let bytes = ecies::open(reader, envelope, &Binding::Handover(ciphertext).context())?;
    let length = bytes.len();
    bytes.try_into().map_err(|_| KeyError::NotARecordSecret(length))
}

/// The check of `holder`'s share: SHA-256 of a domain tag, the holder's key and the share. A
/// share of a secret split two or more ways is uniformly random, so its check tells nothing of
/// the secret.
pub fn share_check(holder: &PubKey, share: &[u8]) -> Hash32 {
    Hash32::sha256(&[SHARE_CHECK_DOMAIN, &holder.0, share].concat())
}

/// `secret` split `threshold` of `holders.len()` among `holders`, each share sealed to its
/// holder for the record storing `release`, with its check.
pub fn split_among<R: RngCore + CryptoRng>(
    secret: &RecordSecret,
    release: &Hash32,
    threshold: u8,
    holders: &[PubKey],
    rng: &mut R,
) -> Result<EmergencyShares, KeyError> {
    let count = u8::try_from(holders.len()).map_err(|_| KeyError::Shares {
        count: holders.len(),
        error: ShamirError::BadThreshold { threshold, shares: u8::MAX },
    })?;
    let shares = shamir::split(&secret.to_bytes(), threshold, count, rng)
        .map_err(|error| KeyError::Shares { count: holders.len(), error })?;
    let mut deposits = Vec::with_capacity(shares.len());
    for (holder, share) in holders.iter().zip(&shares) {
        let bytes = share.to_bytes();
        deposits.push(ShareDeposit {
            holder: *holder,
            envelope: seal_to(holder, &bytes, Binding::Share(release), rng)?,
            check: share_check(holder, &bytes),
        });
    }
    Ok(EmergencyShares { threshold, shares: deposits })
}

/// A holder's share of the record storing `release` (the record `record`), checked, re-sealed
/// to `requester` for the emergency access `access`.
pub fn reseal_share<R: RngCore + CryptoRng>(
    holder: &SecretKey,
    shares: &EmergencyShares,
    (release, record, access): (&Hash32, &Hash32, &Hash32),
    requester: &PubKey,
    rng: &mut R,
) -> Result<Vec<u8>, KeyError> {
    let key = PubKey::from_secret(holder);
    let deposit = shares.shares.iter().find(|d| d.holder == key).ok_or(KeyError::NotAHolder(key))?;
    let share = ecies::open(holder, &deposit.envelope, &Binding::Share(release).context())?;
    if share_check(&key, &share) != deposit.check {
        return Err(KeyError::BadShare { holder: key, why: "it does not match the record's check".into() });
    }
    seal_to(requester, &share, Binding::ShareRelease { access, record }, rng)
}

/// A record secret recovered from released shares, and the released shares that were bad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The record's key and salt.
    pub secret: RecordSecret,
    /// Each bad share, naming its holder: it did not open, or did not match its check.
    pub bad: Vec<KeyError>,
}

/// The record secret of `record`, combined from the shares released to `reader` for the
/// emergency access `access` (each as its holder and envelope). Each share is checked against
/// the record's check for its holder first: a bad one is named and left out, never combined, so
/// one bad holder cannot stop the others' shares from recovering the key.
pub fn recover_from_shares<'a>(
    reader: &SecretKey,
    (access, record): (&Hash32, &Hash32),
    shares: &EmergencyShares,
    released: impl IntoIterator<Item = (PubKey, &'a [u8])>,
) -> Result<Recovered, KeyError> {
    let context = Binding::ShareRelease { access, record }.context();
    let checked = |holder: PubKey, envelope: &[u8]| -> Result<Share, KeyError> {
        let deposit =
            shares.shares.iter().find(|d| d.holder == holder).ok_or(KeyError::NotAHolder(holder))?;
        let bad = |why: String| KeyError::BadShare { holder, why };
        let bytes = ecies::open(reader, envelope, &context).map_err(|e| bad(e.to_string()))?;
        if share_check(&holder, &bytes) != deposit.check {
            return Err(bad("it does not match the record's check".into()));
        }
        Share::from_bytes(&bytes).ok_or_else(|| bad("too short".into()))
    };
    let (mut parts, mut bad) = (Vec::new(), Vec::new());
    for (holder, envelope) in released {
        match checked(holder, envelope) {
            Ok(share) => parts.push(share),
            Err(error) => bad.push(error),
        }
    }
    if parts.len() < usize::from(shares.threshold)
        && let Some(first) = bad.first()
    {
        return Err(first.clone());
    }
    let key = shamir::combine(&parts).map_err(|error| KeyError::Shares { count: parts.len(), error })?;
    let secret = RecordSecret::from_bytes(&key).ok_or(KeyError::NotARecordSecret(key.len()))?;
    Ok(Recovered { secret, bad })
}

/// Domain of a justification's commitment.
const JUSTIFICATION_DOMAIN: &[u8] = b"medchain/justification-commitment/v1";

fn justification_commitment(salt: &[u8], text: &[u8]) -> Hash32 {
    Hash32::sha256(&[JUSTIFICATION_DOMAIN, salt, text].concat())
}

/// An emergency justification by `requester` on `records`, sealed to each reader (the patient
/// first, then the share holders), each copy holding a fresh salt and the text, with the salted
/// commitment every reader checks its copy against.
pub fn seal_justification<R: RngCore + CryptoRng>(
    text: &str,
    (requester, records): (&PubKey, &[Hash32]),
    readers: &[PubKey],
    rng: &mut R,
) -> Result<Justification, KeyError> {
    if readers.len() > MAX_JUSTIFICATION_COPIES {
        return Err(KeyError::TooManyReaders);
    }
    let mut salt = [0u8; SALT_SIZE];
    rng.fill_bytes(&mut salt);
    let plaintext = [&salt[..], text.as_bytes()].concat();
    let binding = Binding::Justification { requester, records };
    let copies = readers
        .iter()
        .map(|reader| Ok(Sealed(seal_to(reader, &plaintext, binding, rng)?)))
        .collect::<Result<_, KeyError>>()?;
    Ok(Justification { commitment: justification_commitment(&salt, text.as_bytes()), copies })
}

/// The justification of `requester`'s emergency access on `records` as `reader` reads it: the
/// first copy that opens with its key, checked against the commitment; `None` if no copy is
/// sealed to it.
pub fn open_justification<'a>(
    reader: &SecretKey,
    (requester, records): (&PubKey, &[Hash32]),
    commitment: &Hash32,
    copies: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<String>, KeyError> {
    let context = Binding::Justification { requester, records }.context();
    let Some(plaintext) = copies.into_iter().find_map(|copy| ecies::open(reader, copy, &context).ok()) else {
        return Ok(None);
    };
    let (salt, text) = plaintext.split_at_checked(SALT_SIZE).ok_or(KeyError::JustificationMismatch)?;
    if justification_commitment(salt, text) != *commitment {
        return Err(KeyError::JustificationMismatch);
    }
    Ok(Some(String::from_utf8_lossy(text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(n: u8) -> SecretKey {
        SecretKey::from_byte_array([n; 32]).unwrap()
    }

    #[test]
    fn a_deposit_opens_only_for_its_record_and_reader() {
        let mut rng = rand::rng();
        let reader = secret(9);
        let reader_key = PubKey::from_secret(&reader);
        let (record, other_record) = (Hash32([1; 32]), Hash32([2; 32]));
        let record_secret = RecordSecret { key: [5; 32], salt: [6; 32] };
        let deposit =
            seal_to(&reader_key, &record_secret.to_bytes(), Binding::Deposit(&record), &mut rng).unwrap();
        assert_eq!(open_record_secret(&reader, &deposit, &record).unwrap(), record_secret);
        assert!(matches!(open_record_secret(&secret(8), &deposit, &record), Err(KeyError::Envelope(_))));
        assert!(
            matches!(open_record_secret(&reader, &deposit, &other_record), Err(KeyError::Envelope(_))),
            "a deposit copied to another record's access does not open"
        );
        let short = seal_to(&reader_key, b"not a key", Binding::Deposit(&record), &mut rng).unwrap();
        assert_eq!(open_record_secret(&reader, &short, &record), Err(KeyError::NotARecordSecret(9)));
        let handover =
            seal_to(&reader_key, &record_secret.key, Binding::Handover(&record), &mut rng).unwrap();
        assert_eq!(open_record_key(&reader, &handover, &record).unwrap(), record_secret.key);
        assert!(open_record_key(&reader, &deposit, &record).is_err(), "a deposit is no handover");
    }

    #[test]
    fn shares_are_checked_and_a_bad_one_is_named() {
        let mut rng = rand::rng();
        let holders: Vec<SecretKey> = (1..=3).map(secret).collect();
        let holder_keys: Vec<PubKey> = holders.iter().map(PubKey::from_secret).collect();
        let requester = secret(7);
        let requester_key = PubKey::from_secret(&requester);
        let (release, record, access) = (Hash32([1; 32]), Hash32([2; 32]), Hash32([3; 32]));
        let record_secret = RecordSecret { key: [5; 32], salt: [6; 32] };
        let shares = split_among(&record_secret, &release, 2, &holder_keys, &mut rng).unwrap();
        let released: Vec<(PubKey, Vec<u8>)> = holders
            .iter()
            .map(|h| {
                let envelope =
                    reseal_share(h, &shares, (&release, &record, &access), &requester_key, &mut rng).unwrap();
                (PubKey::from_secret(h), envelope)
            })
            .collect();
        fn of(list: &[(PubKey, Vec<u8>)]) -> Vec<(PubKey, &[u8])> {
            list.iter().map(|(k, e)| (*k, e.as_slice())).collect()
        }
        let two = of(&released[..2]);
        let recovered = recover_from_shares(&requester, (&access, &record), &shares, two).unwrap();
        assert_eq!((recovered.secret, recovered.bad), (record_secret.clone(), Vec::new()));
        let one = of(&released[..1]);
        assert!(matches!(
            recover_from_shares(&requester, (&access, &record), &shares, one),
            Err(KeyError::Shares { count: 1, .. })
        ));
        // A holder that re-seals garbage of the right size is named, not combined.
        let garbage = seal_to(
            &requester_key,
            &[2, 1, 0, 0, 0, 0],
            Binding::ShareRelease { access: &access, record: &record },
            &mut rng,
        )
        .unwrap();
        let mut forged = released.clone();
        forged[1].1 = garbage;
        let named =
            KeyError::BadShare { holder: holder_keys[1], why: "it does not match the record's check".into() };
        let two = of(&forged[..2]);
        assert_eq!(recover_from_shares(&requester, (&access, &record), &shares, two), Err(named.clone()));
        // With enough good shares besides it, the key is recovered and the bad one still named.
        let recovered = recover_from_shares(&requester, (&access, &record), &shares, of(&forged)).unwrap();
        assert_eq!((recovered.secret, recovered.bad), (record_secret, vec![named]));
        // A share released for another access does not open for this one.
        let elsewhere = of(&released[..2]);
        assert!(matches!(
            recover_from_shares(&requester, (&Hash32([4; 32]), &record), &shares, elsewhere),
            Err(KeyError::BadShare { .. })
        ));
        let stranger = PubKey::from_secret(&secret(11));
        assert_eq!(
            recover_from_shares(
                &requester,
                (&access, &record),
                &shares,
                [(stranger, released[0].1.as_slice())]
            ),
            Err(KeyError::NotAHolder(stranger))
        );
    }

    #[test]
    fn a_justification_opens_for_each_of_its_readers_only_and_is_one_text() {
        let mut rng = rand::rng();
        let (patient, holder, stranger) = (secret(1), secret(2), secret(3));
        let requester = PubKey::from_secret(&secret(4));
        let records = [Hash32([1; 32])];
        let request = (&requester, &records[..]);
        let readers = [PubKey::from_secret(&patient), PubKey::from_secret(&holder)];
        let sealed = seal_justification("cardiac arrest", request, &readers, &mut rng).unwrap();
        let copies = || sealed.copies.iter().map(|c| c.0.as_slice());
        let open =
            |reader: &SecretKey, request| open_justification(reader, request, &sealed.commitment, copies());
        assert_eq!(open(&patient, request), Ok(Some("cardiac arrest".into())));
        assert_eq!(open(&holder, request), Ok(Some("cardiac arrest".into())));
        assert_eq!(open(&stranger, request), Ok(None));
        // Copied into another institution's request, or onto other records, it does not open.
        let other = PubKey::from_secret(&secret(5));
        assert_eq!(open(&patient, (&other, &records[..])), Ok(None));
        assert_eq!(open(&patient, (&requester, &[Hash32([2; 32])][..])), Ok(None));
        // A requester that tells the holder another story than it committed to is caught.
        let other_story = seal_justification("routine check", request, &readers, &mut rng).unwrap();
        let mixed = [sealed.copies[0].0.as_slice(), other_story.copies[1].0.as_slice()];
        assert_eq!(
            open_justification(&holder, request, &sealed.commitment, mixed),
            Err(KeyError::JustificationMismatch)
        );
        let too_many = vec![readers[0]; MAX_JUSTIFICATION_COPIES + 1];
        assert_eq!(seal_justification("x", request, &too_many, &mut rng), Err(KeyError::TooManyReaders));
    }
}
