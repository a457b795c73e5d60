//! Shamir secret sharing over GF(2^8): a record key split `t` of `n`, so no single emergency
//! institution can read alone. Field arithmetic is constant-time (no tables indexed by secrets).

use rand::RngCore;
use thiserror::Error;

/// Most shares a secret may be split into (share indices are 1..=255).
pub const MAX_SHARES: u8 = 255;

/// Largest secret that may be split.
pub const MAX_SECRET: usize = 1024;

/// One share of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// How many shares recover the secret.
    pub threshold: u8,
    /// This share's x-coordinate, 1..=n.
    pub index: u8,
    /// The polynomial values at `index`, one per secret byte.
    pub data: Vec<u8>,
}

impl Share {
    /// The bytes sealed in a share envelope: threshold, index, then the data.
    pub fn to_bytes(&self) -> Vec<u8> {
        [&[self.threshold, self.index][..], &self.data].concat()
    }

    /// A share from its envelope bytes; `None` if they are shorter than the two header bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Share> {
        let (&threshold, rest) = bytes.split_first()?;
        let (&index, data) = rest.split_first()?;
        Some(Share { threshold, index, data: data.to_vec() })
    }
}

/// Why a secret could not be split or recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ShamirError {
    /// The threshold is zero or larger than the number of shares.
    #[error("threshold {threshold} is not within 1..={shares}")]
    BadThreshold {
        /// The threshold asked for.
        threshold: u8,
        /// The number of shares.
        shares: u8,
    },
    /// The secret is empty or larger than [`MAX_SECRET`].
    #[error("secret of {0} bytes is not within 1..={MAX_SECRET}")]
    BadSecretLength(usize),
    /// Fewer shares than the threshold.
    #[error("{given} shares given, {threshold} needed")]
    TooFewShares {
        /// Shares given.
        given: usize,
        /// Shares needed.
        threshold: u8,
    },
    /// Shares disagree on threshold or length, or one has index 0.
    #[error("shares do not belong together")]
    Inconsistent,
    /// Two shares have the same index.
    #[error("share {0} given twice")]
    DuplicateIndex(u8),
}

/// Multiplication in GF(2^8) with the AES polynomial, without secret-dependent branches.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// The multiplicative inverse: a^254.
fn inverse(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut exponent = 254u8;
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exponent >>= 1;
    }
    result
}

/// Splits `secret` into `shares` shares, any `threshold` of which recover it.
pub fn split<R: RngCore>(
    secret: &[u8],
    threshold: u8,
    shares: u8,
    rng: &mut R,
) -> Result<Vec<Share>, ShamirError> {
    if threshold == 0 || threshold > shares {
        return Err(ShamirError::BadThreshold { threshold, shares });
    }
    if secret.is_empty() || secret.len() > MAX_SECRET {
        return Err(ShamirError::BadSecretLength(secret.len()));
    }
    let mut out: Vec<Share> = (1..=shares)
        .map(|index| Share { threshold, index, data: Vec::with_capacity(secret.len()) })
        .collect();
    let mut coefficients = vec![0u8; usize::from(threshold) - 1];
    for &byte in secret {
        rng.fill_bytes(&mut coefficients);
        for share in &mut out {
            // Horner: the polynomial with constant term `byte`, evaluated at the share index.
            let value = coefficients.iter().rev().fold(0u8, |acc, &c| mul(acc, share.index) ^ c);
            share.data.push(mul(value, share.index) ^ byte);
        }
    }
    Ok(out)
}

/// Recovers the secret from at least `threshold` shares (Lagrange interpolation at 0).
pub fn combine(shares: &[Share]) -> Result<Vec<u8>, ShamirError> {
    let first = shares.first().ok_or(ShamirError::TooFewShares { given: 0, threshold: 1 })?;
    let threshold = first.threshold;
    if shares.iter().any(|s| s.threshold != threshold || s.data.len() != first.data.len() || s.index == 0) {
        return Err(ShamirError::Inconsistent);
    }
    if shares.len() < usize::from(threshold) {
        return Err(ShamirError::TooFewShares { given: shares.len(), threshold });
    }
    for (i, share) in shares.iter().enumerate() {
        if shares.iter().skip(i + 1).any(|other| other.index == share.index) {
            return Err(ShamirError::DuplicateIndex(share.index));
        }
    }
    let used = shares.get(..usize::from(threshold)).unwrap_or(shares);
    let weights: Vec<u8> = used
        .iter()
        .map(|share| {
            let (numerator, denominator) = used
                .iter()
                .filter(|other| other.index != share.index)
                .fold((1u8, 1u8), |(n, d), other| (mul(n, other.index), mul(d, other.index ^ share.index)));
            mul(numerator, inverse(denominator))
        })
        .collect();
    Ok((0..first.data.len())
        .map(|position| {
            used.iter()
                .zip(&weights)
                .fold(0u8, |acc, (share, &w)| acc ^ mul(share.data.get(position).copied().unwrap_or(0), w))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_is_sound() {
        assert_eq!(mul(0x57, 0x83), 0xc1);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1, "{a}");
        }
    }

    #[test]
    fn any_threshold_subset_recovers_the_secret() {
        let secret = b"a 32-byte record key, not shown!";
        let shares = split(secret, 3, 5, &mut rand::rng()).unwrap();
        for a in 0..5 {
            for b in a + 1..5 {
                for c in b + 1..5 {
                    let subset = [shares[a].clone(), shares[b].clone(), shares[c].clone()];
                    assert_eq!(combine(&subset).unwrap(), secret);
                }
            }
        }
        assert_eq!(combine(&shares).unwrap(), secret);
    }

    #[test]
    fn too_few_or_mixed_shares_are_refused() {
        let shares = split(b"key", 2, 3, &mut rand::rng()).unwrap();
        assert_eq!(combine(&shares[..1]), Err(ShamirError::TooFewShares { given: 1, threshold: 2 }));
        assert_eq!(combine(&[shares[0].clone(), shares[0].clone()]), Err(ShamirError::DuplicateIndex(1)));
        let other = split(b"key", 3, 3, &mut rand::rng()).unwrap();
        assert_eq!(combine(&[shares[0].clone(), other[1].clone()]), Err(ShamirError::Inconsistent));
        assert_eq!(
            split(b"key", 4, 3, &mut rand::rng()),
            Err(ShamirError::BadThreshold { threshold: 4, shares: 3 })
        );
        assert_eq!(split(b"", 1, 1, &mut rand::rng()), Err(ShamirError::BadSecretLength(0)));
    }

    #[test]
    fn one_share_below_threshold_reveals_nothing_fixed() {
        // With threshold 2, a single share's bytes are uniformly random: two splits differ.
        let a = split(&[0u8; 16], 2, 2, &mut rand::rng()).unwrap();
        let b = split(&[0u8; 16], 2, 2, &mut rand::rng()).unwrap();
        assert_ne!(a[0].data, b[0].data);
    }
}
