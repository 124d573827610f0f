use proptest::prelude::*;

use super::*;
use crate::{
    bls::BlsSecretKey,
    header_v2::{chain_hash, data_root},
    validators::Validator,
};

/// Validators with their secret keys in canonical (set) order.
struct Net {
    keys: Vec<BlsSecretKey>,
    set: ValidatorSet,
    chain: [u8; 32],
}

/// A set whose validator `i` (in canonical order) has power `powers[i]`.
fn net(powers: &[u64]) -> Net {
    let mut keys: Vec<BlsSecretKey> = (0..powers.len())
        .map(|i| BlsSecretKey::from_ikm(&[i as u8 + 1; 32]))
        .collect();
    keys.sort_by_cached_key(BlsSecretKey::public_key);
    let set = ValidatorSet::new(
        keys.iter()
            .zip(powers)
            .map(|(k, &power)| Validator {
                public_key: k.public_key(),
                power,
            })
            .collect(),
    )
    .expect("set");
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(set.index_of(&k.public_key()), Some(i));
    }
    Net {
        keys,
        set,
        chain: chain_hash("devnet"),
    }
}

fn block(net: &Net, height: u64, timestamp_ms: u64) -> BlockHeader {
    let commitments = vec![[0xa0; 48], [0xa1; 48]];
    BlockHeader {
        header: ConsensusHeader {
            chain: net.chain,
            height,
            parent: [1; 32],
            timestamp_ms,
            proposer: 0,
            validators_hash: net.set.hash(),
            next_validators_hash: net.set.hash(),
            data_root: data_root(1, 0, &commitments),
            tuple_root: [0; 32],
        },
        k: 1,
        blob_count: 0,
        commitments,
    }
}

fn precommit(net: &Net, signer: usize, height: u64, round: u32, id: &[u8; 32]) -> BlsSignature {
    let msg = vote_sign_bytes(VoteKind::Precommit, &net.chain, height, round, Some(id));
    net.keys[signer].sign(&msg)
}

fn certify(net: &Net, b: &BlockHeader, round: u32, signers: &[usize]) -> Certificate {
    let id = b.id();
    let h = b.header.height;
    let precommits: Vec<(usize, BlsSignature)> = signers
        .iter()
        .map(|&i| (i, precommit(net, i, h, round, &id)))
        .collect();
    Certificate::aggregate(&net.set, &net.chain, h, round, &id, &precommits).expect("aggregate")
}

fn bitmap(n: u16, bits: &[usize]) -> SignerBitmap {
    let mut b = SignerBitmap::new(n);
    for &i in bits {
        b.set(i).expect("in range");
    }
    b
}

#[test]
fn quorum_is_strictly_more_than_two_thirds_of_the_power() {
    let three = net(&[1, 1, 1]);
    let b = block(&three, 5, 1);
    let cert = certify(&three, &b, 0, &[0, 2]);
    assert_eq!(
        cert.verify(&three.set, &three.chain, &b.header),
        Err(CertificateError::InsufficientPower {
            signed: 2,
            total: 3
        })
    );
    let cert = certify(&three, &b, 0, &[0, 1, 2]);
    assert_eq!(cert.verify(&three.set, &three.chain, &b.header), Ok(3));

    let four = net(&[1, 1, 1, 1]);
    let b = block(&four, 5, 1);
    assert_eq!(
        certify(&four, &b, 0, &[1, 2, 3]).verify(&four.set, &four.chain, &b.header),
        Ok(3)
    );
    assert_eq!(
        certify(&four, &b, 0, &[0, 3]).verify(&four.set, &four.chain, &b.header),
        Err(CertificateError::InsufficientPower {
            signed: 2,
            total: 4
        })
    );

    // Weighted: 100 of 150 is exactly 2/3, 101 of 151 is more.
    let exact = net(&[100, 50]);
    let b = block(&exact, 2, 1);
    assert_eq!(
        certify(&exact, &b, 0, &[0]).verify(&exact.set, &exact.chain, &b.header),
        Err(CertificateError::InsufficientPower {
            signed: 100,
            total: 150
        })
    );
    let over = net(&[101, 50]);
    let b = block(&over, 2, 1);
    assert_eq!(
        certify(&over, &b, 0, &[0]).verify(&over.set, &over.chain, &b.header),
        Ok(101)
    );
    // The small validator alone, or nobody, is never enough.
    let mut nobody = certify(&over, &b, 0, &[1]);
    assert_eq!(
        nobody.verify(&over.set, &over.chain, &b.header),
        Err(CertificateError::InsufficientPower {
            signed: 50,
            total: 151
        })
    );
    nobody.signers = SignerBitmap::new(2);
    assert!(matches!(
        nobody.verify(&over.set, &over.chain, &b.header),
        Err(CertificateError::InsufficientPower { signed: 0, .. })
    ));
}

#[test]
fn forged_bitmaps_fail_the_signature_check() {
    let four = net(&[1, 1, 1, 1]);
    let b = block(&four, 5, 1);
    // Validator 3 did not sign but is claimed.
    let mut cert = certify(&four, &b, 0, &[0, 1, 2]);
    cert.signers.set(3).expect("bit");
    assert_eq!(
        cert.verify(&four.set, &four.chain, &b.header),
        Err(CertificateError::BadSignature)
    );
    // Validator 2 signed but is not claimed, and the rest still has a quorum.
    let seven = net(&[1; 7]);
    let b = block(&seven, 5, 1);
    let mut cert = certify(&seven, &b, 0, &[0, 1, 2, 3, 4, 5]);
    assert_eq!(cert.verify(&seven.set, &seven.chain, &b.header), Ok(6));
    cert.signers = bitmap(7, &[0, 1, 3, 4, 5]);
    assert_eq!(
        cert.verify(&seven.set, &seven.chain, &b.header),
        Err(CertificateError::BadSignature)
    );
    // Another signer set of the same size.
    cert.signers = bitmap(7, &[0, 1, 2, 3, 4, 6]);
    assert_eq!(
        cert.verify(&seven.set, &seven.chain, &b.header),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn a_signature_over_another_header_is_rejected() {
    let four = net(&[1, 1, 1, 1]);
    let a = block(&four, 5, 1);
    let other = block(&four, 5, 2);
    let cert = certify(&four, &a, 0, &[0, 1, 2]);
    assert_eq!(cert.verify(&four.set, &four.chain, &a.header), Ok(3));
    assert_eq!(
        cert.verify(&four.set, &four.chain, &other.header),
        Err(CertificateError::WrongHeader {
            certificate: a.id(),
            header: other.id()
        })
    );
    // The certificate relabelled with the other header's id: the signatures are over `a`.
    let mut relabelled = cert.clone();
    relabelled.header_id = other.id();
    assert_eq!(
        relabelled.verify(&four.set, &four.chain, &other.header),
        Err(CertificateError::BadSignature)
    );
    // Relabelled with another round or height: the sign bytes differ.
    let mut round = cert.clone();
    round.round = 1;
    assert_eq!(
        round.verify(&four.set, &four.chain, &a.header),
        Err(CertificateError::BadSignature)
    );
    let mut higher = a.clone();
    higher.header.height = 6;
    let mut height = cert.clone();
    height.height = 6;
    height.header_id = higher.id();
    assert_eq!(
        height.verify(&four.set, &four.chain, &higher.header),
        Err(CertificateError::BadSignature)
    );
    // Prevotes for the header are not precommits.
    let prevotes: Vec<BlsSignature> = [0, 1, 2]
        .iter()
        .map(|&i| {
            let msg = vote_sign_bytes(VoteKind::Prevote, &four.chain, 5, 0, Some(&a.id()));
            four.keys[i].sign(&msg)
        })
        .collect();
    let mut prevoted = cert;
    prevoted.signature = BlsSignature::aggregate(&prevotes).expect("aggregate");
    assert_eq!(
        prevoted.verify(&four.set, &four.chain, &a.header),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn a_signer_outside_the_set_is_rejected() {
    let four = net(&[1, 1, 1, 1]);
    let b = block(&four, 5, 1);
    let id = b.id();
    let outsider = BlsSecretKey::from_ikm(&[99; 32]);
    let msg = vote_sign_bytes(VoteKind::Precommit, &four.chain, 5, 0, Some(&id));
    let sigs = [
        precommit(&four, 0, 5, 0, &id),
        precommit(&four, 1, 5, 0, &id),
        outsider.sign(&msg),
    ];
    // Claimed as validator 2's precommit.
    let forged = Certificate {
        height: 5,
        round: 0,
        header_id: id,
        signers: bitmap(4, &[0, 1, 2]),
        signature: BlsSignature::aggregate(&sigs).expect("aggregate"),
    };
    assert_eq!(
        forged.verify(&four.set, &four.chain, &b.header),
        Err(CertificateError::BadSignature)
    );
    let precommits = [(0, sigs[0]), (1, sigs[1]), (2, sigs[2])];
    assert_eq!(
        Certificate::aggregate(&four.set, &four.chain, 5, 0, &id, &precommits),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn checks_run_in_the_documented_order() {
    let four = net(&[1, 1, 1, 1]);
    let b = block(&four, 5, 1);
    let cert = certify(&four, &b, 0, &[0, 1, 2]);
    let other_chain = chain_hash("other");
    // Wrong height comes first, even with everything else wrong too.
    let mut wrong_height = cert.clone();
    wrong_height.height = 4;
    assert_eq!(
        wrong_height.verify(&four.set, &other_chain, &b.header),
        Err(CertificateError::WrongHeight {
            certificate: 4,
            header: 5
        })
    );
    // The verifier is on another chain.
    assert_eq!(
        cert.verify(&four.set, &other_chain, &b.header),
        Err(CertificateError::WrongChain {
            header: four.chain,
            expected: other_chain
        })
    );
    // A header of another chain, correctly certified there, is refused here.
    let mut foreign = b.clone();
    foreign.header.chain = other_chain;
    let foreign_net = Net {
        keys: four.keys.clone(),
        set: four.set.clone(),
        chain: other_chain,
    };
    let foreign_cert = certify(&foreign_net, &foreign, 0, &[0, 1, 2]);
    assert_eq!(
        foreign_cert.verify(&four.set, &other_chain, &foreign.header),
        Ok(3)
    );
    assert!(matches!(
        foreign_cert.verify(&four.set, &four.chain, &foreign.header),
        Err(CertificateError::WrongChain { .. })
    ));
    // Another validator set than the header names.
    let five = net(&[1, 1, 1, 1, 1]);
    assert_eq!(
        cert.verify(&five.set, &four.chain, &b.header),
        Err(CertificateError::WrongValidatorSet {
            header: four.set.hash(),
            set: five.set.hash()
        })
    );
    // A bitmap sized for another set.
    let mut wide = cert;
    wide.signers = bitmap(5, &[0, 1, 2]);
    assert_eq!(
        wide.verify(&four.set, &four.chain, &b.header),
        Err(CertificateError::BitmapLength { bitmap: 5, set: 4 })
    );
    wide.signers = bitmap(3, &[0, 1, 2]);
    assert_eq!(
        wide.verify(&four.set, &four.chain, &b.header),
        Err(CertificateError::BitmapLength { bitmap: 3, set: 4 })
    );
}

#[test]
fn aggregate_rejects_bad_precommit_lists() {
    let four = net(&[1, 1, 1, 1]);
    let b = block(&four, 5, 1);
    let id = b.id();
    let p = |i| (i, precommit(&four, i, 5, 0, &id));
    let agg = |list: &[(usize, BlsSignature)]| {
        Certificate::aggregate(&four.set, &four.chain, 5, 0, &id, list)
    };
    assert_eq!(agg(&[]), Err(CertificateError::NoSigners));
    assert_eq!(
        agg(&[p(0), p(1), p(0)]),
        Err(CertificateError::DuplicateSigner { index: 0 })
    );
    assert_eq!(
        agg(&[p(0), (4, precommit(&four, 3, 5, 0, &id))]),
        Err(CertificateError::SignerOutOfRange { index: 4, len: 4 })
    );
    // A precommit attributed to the wrong validator, or for another round.
    assert_eq!(
        agg(&[p(0), (1, precommit(&four, 2, 5, 0, &id))]),
        Err(CertificateError::BadSignature)
    );
    assert_eq!(
        agg(&[p(0), (1, precommit(&four, 1, 5, 1, &id))]),
        Err(CertificateError::BadSignature)
    );
    // Order of the list does not matter.
    let cert = agg(&[p(2), p(0), p(1)]).expect("aggregate");
    assert_eq!(cert, agg(&[p(0), p(1), p(2)]).expect("aggregate"));
    assert_eq!(cert.signers, bitmap(4, &[0, 1, 2]));
    assert_eq!((cert.height, cert.round, cert.header_id), (5, 0, id));
}

#[test]
fn bitmap_layout_and_rules() {
    let b = bitmap(10, &[0, 3, 9]);
    assert_eq!(b.encode(), vec![0, 10, 0b0000_1001, 0b0000_0010]);
    assert_eq!(b.len(), 10);
    assert_eq!(b.count(), 3);
    assert_eq!(b.iter_set().collect::<Vec<_>>(), vec![0, 3, 9]);
    assert!(b.get(3) && !b.get(4) && !b.get(10) && !b.get(1000));
    assert_eq!(SignerBitmap::decode(&b.encode()), Ok(b.clone()));
    let mut m = b;
    assert_eq!(
        m.set(10),
        Err(CertificateError::SignerOutOfRange { index: 10, len: 10 })
    );
    // Bits past n in the last byte.
    for bad in [
        vec![0, 10, 0, 0b0000_0100],
        vec![0, 10, 0, 0b1000_0000],
        vec![0, 1, 0b10],
    ] {
        assert!(matches!(
            SignerBitmap::decode(&bad),
            Err(CertificateError::BitsBeyondLength { .. })
        ));
    }
    // Every bit of a full last byte is allowed.
    let full = SignerBitmap::decode(&[0, 16, 0xff, 0xff]).expect("16 bits");
    assert_eq!(full.count(), 16);
    // Empty, and wrong lengths.
    let empty = SignerBitmap::decode(&[0, 0]).expect("empty");
    assert!(empty.is_empty() && empty.count() == 0);
    for bad in [
        vec![],
        vec![0],
        vec![0, 9, 0],
        vec![0, 8, 0, 0],
        vec![0, 0, 0],
    ] {
        assert!(matches!(
            SignerBitmap::decode(&bad),
            Err(CertificateError::Length { .. })
        ));
    }
}

#[test]
fn certificate_bytes_round_trip_and_every_other_length_is_rejected() {
    let seven = net(&[1; 7]);
    let b = block(&seven, 5, 1);
    let cert = certify(&seven, &b, 3, &[0, 1, 2, 3, 5, 6]);
    let bytes = cert.encode();
    assert_eq!(bytes.len(), 8 + 4 + 32 + 2 + 1 + 96);
    assert_eq!(bytes.len(), cert.encoded_len());
    assert_eq!(&bytes[..8], &5u64.to_be_bytes());
    assert_eq!(&bytes[8..12], &3u32.to_be_bytes());
    assert_eq!(&bytes[12..44], &b.id());
    assert_eq!(&bytes[44..47], &[0, 7, 0b0110_1111]);
    assert_eq!(&bytes[47..], &cert.signature.to_bytes());
    let decoded = Certificate::decode(&bytes).expect("decode");
    assert_eq!(decoded, cert);
    assert_eq!(decoded.verify(&seven.set, &seven.chain, &b.header), Ok(6));
    for len in 0..bytes.len() {
        assert!(
            matches!(
                Certificate::decode(&bytes[..len]),
                Err(CertificateError::Length { .. })
            ),
            "prefix {len}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Certificate::decode(&long),
        Err(CertificateError::Length { .. })
    ));
    // A bit beyond n, and signature bytes that are no signature.
    let mut beyond = bytes.clone();
    beyond[46] |= 0x80;
    assert_eq!(
        Certificate::decode(&beyond),
        Err(CertificateError::BitsBeyondLength { len: 7 })
    );
    let mut no_sig = bytes;
    no_sig[47..].fill(0);
    assert!(matches!(
        Certificate::decode(&no_sig),
        Err(CertificateError::Signature(_))
    ));
}

#[test]
fn the_longest_certified_header_is_bounded() {
    assert_eq!(MAX_CERTIFIED_HEADER_LEN, 33_130);
    let one = net(&[1]);
    let b = block(&one, 3, 1);
    let ch = CertifiedHeader {
        certificate: certify(&one, &b, 0, &[0]),
        block: b,
    };
    // k = 1 and one validator: 1 + 213 + 6 + 96 + 44 + 2 + 1 + 96.
    assert_eq!(ch.to_bytes().len(), 459);
    let reasons: Vec<&str> = [
        CertificateError::WrongHeight {
            certificate: 1,
            header: 2,
        },
        CertificateError::InsufficientPower {
            signed: 1,
            total: 3,
        },
        CertificateError::BadSignature,
        CertificateError::UnsupportedVersion(1),
    ]
    .iter()
    .map(CertificateError::reason)
    .collect();
    assert_eq!(
        reasons,
        [
            "wrong_height",
            "insufficient_power",
            "bad_signature",
            "malformed"
        ]
    );
}

#[test]
fn certified_header_bytes_and_verification() {
    let four = net(&[1, 1, 1, 1]);
    let b = block(&four, 5, 1);
    let ch = CertifiedHeader {
        certificate: certify(&four, &b, 0, &[0, 1, 3]),
        block: b.clone(),
    };
    assert_eq!(ch.verify(&four.set, &four.chain), Ok(3));
    assert_eq!((ch.id(), ch.height()), (b.id(), 5));
    let bytes = ch.to_bytes();
    assert_eq!(bytes[0], 2);
    assert_eq!(&bytes[1..214], &b.header.encode());
    assert_eq!(&bytes[214..216], &1u16.to_be_bytes());
    assert_eq!(&bytes[216..220], &0u32.to_be_bytes());
    assert_eq!(&bytes[220..316], &[[0xa0; 48], [0xa1; 48]].concat());
    assert_eq!(&bytes[316..], &ch.certificate.encode());
    assert_eq!(CertifiedHeader::from_bytes(&bytes), Ok(ch.clone()));
    for len in 0..bytes.len() {
        assert!(
            CertifiedHeader::from_bytes(&bytes[..len]).is_err(),
            "prefix {len}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(CertifiedHeader::from_bytes(&long).is_err());

    // Other versions, v1 storage bytes among them.
    for v in [0u8, 1, 3] {
        let mut other = bytes.clone();
        other[0] = v;
        assert_eq!(
            CertifiedHeader::from_bytes(&other),
            Err(CertificateError::UnsupportedVersion(v))
        );
    }
    // A v1 (ed25519) storage form: `u32_be(len) ‖ encoding (version 1, ...) ‖ producer (32) ‖
    // signature (64)`, as v1 nodes stored and gossiped headers. The signature is irrelevant here.
    let mut enc = vec![1u8];
    enc.extend_from_slice(&6u16.to_be_bytes());
    enc.extend_from_slice(b"devnet");
    enc.extend_from_slice(&1u64.to_be_bytes());
    enc.extend_from_slice(&[0; 32]);
    enc.extend_from_slice(&1u64.to_be_bytes());
    enc.extend_from_slice(&1u16.to_be_bytes());
    enc.extend_from_slice(&0u32.to_be_bytes());
    enc.extend_from_slice(&[0xc0; 96]);
    let mut v1 = (enc.len() as u32).to_be_bytes().to_vec();
    v1.extend_from_slice(&enc);
    v1.extend_from_slice(&[0x11; 96]);
    assert_eq!(
        CertifiedHeader::from_bytes(&v1),
        Err(CertificateError::UnsupportedVersion(0))
    );

    // Commitments that do not match the data root are refused on decoding and on verifying.
    let mut tampered = bytes;
    tampered[230] ^= 1;
    assert!(matches!(
        CertifiedHeader::from_bytes(&tampered),
        Err(CertificateError::Header(
            HeaderV2Error::DataRootMismatch { .. }
        ))
    ));
    let mut bad = ch;
    bad.block.commitments[0][0] ^= 1;
    assert!(matches!(
        bad.verify(&four.set, &four.chain),
        Err(CertificateError::Header(
            HeaderV2Error::DataRootMismatch { .. }
        ))
    ));
}

proptest! {
    #[test]
    fn bitmaps_round_trip(n in 0u16..300, bits in proptest::collection::vec(any::<u16>(), 0..40)) {
        let mut b = SignerBitmap::new(n);
        let mut expected: Vec<usize> = vec![];
        for bit in bits {
            if n > 0 {
                let i = usize::from(bit % n);
                b.set(i).expect("in range");
                expected.push(i);
            }
        }
        expected.sort_unstable();
        expected.dedup();
        prop_assert_eq!(b.iter_set().collect::<Vec<_>>(), expected.clone());
        prop_assert_eq!(b.count(), expected.len());
        let enc = b.encode();
        prop_assert_eq!(enc.len(), 2 + usize::from(n).div_ceil(8));
        prop_assert_eq!(SignerBitmap::decode(&enc), Ok(b));
    }
}
