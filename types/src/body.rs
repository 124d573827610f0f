//! The block body a proposal carries (`specs/11-consensus.md` §"Block body"): the blobs in
//! square order, `u32_be(count) ‖ (namespace (29) ‖ u32_be(len) ‖ data)*`. Its bytes come from
//! the proposer, so [`decode_body`] takes any input: every blob is checked by the blob rules and
//! nothing is reserved from a declared count or length.

use crate::{namespace::NAMESPACE_SIZE, Blob, Namespace};

/// Why a body does not decode.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Fewer bytes than announced.
    #[error("body truncated")]
    Truncated,
    /// Bytes after the last blob.
    #[error("{0} trailing bytes after the last blob")]
    Trailing(usize),
    /// A blob breaks the blob rules (namespace, size).
    #[error("blob {index}: {reason}")]
    Blob {
        /// Its position in the body.
        index: usize,
        /// The rule.
        reason: String,
    },
}

/// Encodes the blobs of a block: `u32_be(count) ‖ (namespace (29) ‖ u32_be(len) ‖ data)*`.
pub fn encode_body(blobs: &[Blob]) -> Vec<u8> {
    let len = 4 + blobs
        .iter()
        .map(|b| NAMESPACE_SIZE + 4 + b.data().len())
        .sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(blobs.len() as u32).to_be_bytes());
    for b in blobs {
        out.extend_from_slice(b.namespace().as_bytes());
        out.extend_from_slice(&(b.data().len() as u32).to_be_bytes());
        out.extend_from_slice(b.data());
    }
    out
}

/// Decodes [`encode_body`], applying the blob rules to every blob.
pub fn decode_body(bytes: &[u8]) -> Result<Vec<Blob>, BodyError> {
    let mut rest = bytes;
    let mut take = |n: usize| -> Result<&[u8], BodyError> {
        if rest.len() < n {
            return Err(BodyError::Truncated);
        }
        let (a, b) = rest.split_at(n);
        rest = b;
        Ok(a)
    };
    let count = u32::from_be_bytes(take(4)?.try_into().map_err(|_| BodyError::Truncated)?);
    let mut blobs = Vec::new();
    for index in 0..count as usize {
        let ns = take(NAMESPACE_SIZE)?;
        let len = u32::from_be_bytes(take(4)?.try_into().map_err(|_| BodyError::Truncated)?);
        let data = take(len as usize)?.to_vec();
        let namespace = Namespace::new_blob(ns).map_err(|e| BodyError::Blob {
            index,
            reason: e.to_string(),
        })?;
        let blob = Blob::new(namespace, data).map_err(|e| BodyError::Blob {
            index,
            reason: e.to_string(),
        })?;
        blobs.push(blob);
    }
    if !rest.is_empty() {
        return Err(BodyError::Trailing(rest.len()));
    }
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(seed: u8, n: usize) -> Vec<Blob> {
        (0..n)
            .map(|i| {
                let ns = Namespace::new_v0(&[seed, i as u8 + 1]).expect("namespace");
                Blob::new(ns, vec![seed ^ i as u8; 70_000 + 1000 * i]).expect("blob")
            })
            .collect()
    }

    #[test]
    fn body_round_trips_and_rejects_truncation_and_trailing_bytes() {
        let b = blobs(3, 4);
        let body = encode_body(&b);
        assert_eq!(decode_body(&body).expect("decodes"), b);
        for cut in [0, 3, 4, 20, body.len() - 1] {
            assert_eq!(
                decode_body(&body[..cut]),
                Err(BodyError::Truncated),
                "cut {cut}"
            );
        }
        let mut long = body.clone();
        long.push(0);
        assert_eq!(decode_body(&long), Err(BodyError::Trailing(1)));
        // A reserved namespace is refused by the blob rules.
        let mut bad = body;
        bad[4..4 + NAMESPACE_SIZE].copy_from_slice(Namespace::INDEX.as_bytes());
        assert!(matches!(
            decode_body(&bad),
            Err(BodyError::Blob { index: 0, .. })
        ));
    }
}
