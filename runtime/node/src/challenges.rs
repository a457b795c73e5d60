//! Challenges for signed requests, without state: a challenge is its issue time, a nonce and a
//! MAC under this node's key, so issuing one costs nothing kept and no flood of requests for
//! them can crowd anyone out. A challenge is spent once, when a signed request carrying it is
//! authorized; spent ones are remembered until they expire, at most [`MAX_SPENT_PER_KEY`] for
//! each key, so only keys that may read can hold memory, and each only a bounded amount.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hmac::{Hmac, Mac};
use medchain_primitives::PubKey;
use sha2::Sha256;
use thiserror::Error;

/// How long a challenge stays valid.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(120);

/// Most challenges one key may have spent within a lifetime: its signed requests per two
/// minutes.
pub const MAX_SPENT_PER_KEY: usize = 1_000;

/// Domain of a challenge's MAC.
const DOMAIN: &[u8] = b"medchain/challenge/v1";

/// A challenge: 8 bytes of issue time (Unix seconds, big-endian), 8 of nonce, 16 of MAC.
pub type Challenge = [u8; 32];

/// Why a challenge does not serve a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ChallengeError {
    /// This node did not issue it.
    #[error("the challenge was not issued by this node")]
    Forged,
    /// Older than [`CHALLENGE_LIFETIME`], or from the future.
    #[error("the challenge expired")]
    Expired,
    /// Already spent on a request.
    #[error("the challenge was already used")]
    Spent,
    /// The key spent [`MAX_SPENT_PER_KEY`] challenges within a lifetime.
    #[error("this key made more than {MAX_SPENT_PER_KEY} signed requests in {} s", CHALLENGE_LIFETIME.as_secs())]
    TooMany,
}

/// Spent challenges, ordered by issue time (their first bytes), and how many each key holds.
#[derive(Default)]
struct Spent {
    by_challenge: BTreeMap<Challenge, PubKey>,
    per_key: BTreeMap<PubKey, usize>,
}

/// This node's challenges.
pub struct Challenges {
    key: [u8; 32],
    spent: Mutex<Spent>,
}

impl Default for Challenges {
    fn default() -> Self {
        Self::new()
    }
}

fn issued_at(challenge: &Challenge) -> u64 {
    let mut time = [0u8; 8];
    time.copy_from_slice(challenge.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(time)
}

impl Challenges {
    /// Challenges under a fresh random key: those of an earlier run do not serve.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        Challenges { key, spent: Mutex::new(Spent::default()) }
    }

    fn mac(&self, head: &[u8]) -> [u8; 16] {
        // HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(DOMAIN);
        mac.update(head);
        let mut tag = [0u8; 16];
        tag.copy_from_slice(mac.finalize().into_bytes().get(..16).unwrap_or(&[0; 16]));
        tag
    }

    /// A fresh challenge issued at `now` (Unix seconds).
    pub fn issue(&self, now: u64) -> Challenge {
        let mut challenge = [0u8; 32];
        challenge[..8].copy_from_slice(&now.to_be_bytes());
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut challenge[8..16]);
        let tag = self.mac(&challenge[..16]);
        challenge[16..].copy_from_slice(&tag);
        challenge
    }

    /// Whether `challenge` was issued here, is fresh at `now` and is not spent.
    pub fn check(&self, challenge: &Challenge, now: u64) -> Result<(), ChallengeError> {
        let (head, tag) = challenge.split_at(16);
        let expected = self.mac(head);
        // Constant time: a tag is compared whole.
        if tag.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) != 0 {
            return Err(ChallengeError::Forged);
        }
        let age = now.checked_sub(issued_at(challenge)).ok_or(ChallengeError::Expired)?;
        if age >= CHALLENGE_LIFETIME.as_secs() {
            return Err(ChallengeError::Expired);
        }
        let spent = self.spent.lock().map_err(|_| ChallengeError::Spent)?;
        if spent.by_challenge.contains_key(challenge) { Err(ChallengeError::Spent) } else { Ok(()) }
    }

    /// Spends `challenge` on an authorized request by `signer` at `now`: checked again, then
    /// remembered until it expires.
    pub fn spend(&self, challenge: Challenge, signer: PubKey, now: u64) -> Result<(), ChallengeError> {
        self.check(&challenge, now)?;
        let mut spent = self.spent.lock().map_err(|_| ChallengeError::Spent)?;
        // Forget what expired: the oldest come first.
        let oldest_live = now.saturating_sub(CHALLENGE_LIFETIME.as_secs());
        while let Some(entry) = spent.by_challenge.first_entry() {
            if issued_at(entry.key()) > oldest_live {
                break;
            }
            let key = entry.remove();
            if let Some(count) = spent.per_key.get_mut(&key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    spent.per_key.remove(&key);
                }
            }
        }
        let count = spent.per_key.entry(signer).or_insert(0);
        if *count >= MAX_SPENT_PER_KEY {
            return Err(ChallengeError::TooMany);
        }
        *count = count.saturating_add(1);
        if spent.by_challenge.insert(challenge, signer).is_some() {
            return Err(ChallengeError::Spent);
        }
        Ok(())
    }

    /// How many spent challenges are remembered.
    pub fn remembered(&self) -> usize {
        self.spent.lock().map_or(0, |s| s.by_challenge.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> PubKey {
        PubKey::from_secret(&secp256k1::SecretKey::from_byte_array([n; 32]).unwrap())
    }

    #[test]
    fn a_challenge_is_this_nodes_fresh_and_used_once() {
        let challenges = Challenges::new();
        let now = 1_800_000_000;
        let challenge = challenges.issue(now);
        assert_eq!(challenges.check(&challenge, now + 119), Ok(()));
        assert_eq!(challenges.check(&challenge, now + 120), Err(ChallengeError::Expired));
        assert_eq!(challenges.check(&challenge, now - 1), Err(ChallengeError::Expired));
        let mut forged = challenge;
        forged[0] ^= 1;
        assert_eq!(challenges.check(&forged, now), Err(ChallengeError::Forged), "the time is under the MAC");
        assert_eq!(Challenges::new().check(&challenge, now), Err(ChallengeError::Forged), "another node's");
        challenges.spend(challenge, key(1), now).unwrap();
        assert_eq!(challenges.spend(challenge, key(2), now), Err(ChallengeError::Spent));
        assert_eq!(challenges.check(&challenge, now), Err(ChallengeError::Spent));
    }

    #[test]
    fn issuing_holds_nothing_and_spent_challenges_are_bounded_per_key_and_forgotten() {
        let challenges = Challenges::new();
        let now = 1_800_000_000;
        for _ in 0..100_000 {
            challenges.issue(now);
        }
        assert_eq!(challenges.remembered(), 0, "a flood of challenges keeps nothing");
        for _ in 0..MAX_SPENT_PER_KEY {
            challenges.spend(challenges.issue(now), key(1), now).unwrap();
        }
        assert_eq!(challenges.spend(challenges.issue(now), key(1), now), Err(ChallengeError::TooMany));
        assert_eq!(
            challenges.spend(challenges.issue(now), key(2), now),
            Ok(()),
            "another key is not held up"
        );
        let later = now + CHALLENGE_LIFETIME.as_secs();
        challenges.spend(challenges.issue(later), key(1), later).unwrap();
        assert_eq!(challenges.remembered(), 1, "what expired is forgotten");
    }
}
