//! `header_v2.json`: a genesis of 4 BLS validators (keys from fixed IKM, proofs of possession),
//! the validator-set hash, two blocks (consensus header encoding, id, `data_root` and its row
//! proofs, block bytes, vote and proposal sign bytes, precommits, the certificate and the
//! certified-header bytes), and certified headers to reject (`specs/05-header.md` §Header v2).

use da_types::{
    bls::BlsSecretKey,
    certificate::{Certificate, CertificateError, CertifiedHeader, SignerBitmap},
    header_v2::{
        chain_hash, data_root, data_root_proof, params_leaf, proposal_sign_bytes, vote_sign_bytes,
        BlockHeader, ConsensusHeader, HeaderV2Error, VoteKind,
    },
    validators::{Genesis, GenesisValidator, Validator, ValidatorSet},
    BlsSignature,
};
use serde_json::{json, Value};

use super::{array, bytes, filler, hx, list, load, num, text, v1_storage_bytes, write_or_compare};

const FILE: &str = "header_v2.json";
const CHAIN_ID: &str = "da-devnet-v2";
const GENESIS_TIME_MS: u64 = 1_700_000_000_000;
const POWERS: [u64; 4] = [10, 20, 30, 40];

/// Input keying material of genesis validator `i` (file order).
fn ikm(i: usize) -> [u8; 32] {
    filler(&format!("header_v2/validator/{i}"), 32)
        .try_into()
        .expect("32")
}

/// The genesis validators' secret keys, in file order.
fn keys() -> Vec<BlsSecretKey> {
    (0..POWERS.len())
        .map(|i| BlsSecretKey::from_ikm(&ikm(i)))
        .collect()
}

fn genesis(keys: &[BlsSecretKey]) -> Genesis {
    Genesis {
        chain_id: CHAIN_ID.into(),
        genesis_time_ms: GENESIS_TIME_MS,
        validators: keys
            .iter()
            .zip(POWERS)
            .map(|(k, p)| GenesisValidator::new(k, p))
            .collect(),
        max_square_k: 64,
        dedup_window: da_types::DEFAULT_DEDUP_WINDOW,
        attestation_window: 0,
    }
}

/// The secret key of the validator at `index` of the set.
fn key_at<'a>(keys: &'a [BlsSecretKey], set: &ValidatorSet, index: usize) -> &'a BlsSecretKey {
    let pk = set.get(index).expect("index").public_key;
    keys.iter()
        .find(|k| k.public_key() == pk)
        .expect("a genesis key")
}

fn commitments(label: &str, k: u16) -> Vec<[u8; 48]> {
    (0..2 * k)
        .map(|i| {
            filler(&format!("header_v2/{label}/commitment/{i}"), 48)
                .try_into()
                .expect("48")
        })
        .collect()
}

/// One block of the file, with the round it was decided in and who precommitted.
struct Case {
    name: &'static str,
    why: &'static str,
    block: BlockHeader,
    round: u32,
    pol_round: Option<u32>,
    signers: Vec<usize>,
}

fn block(
    set: &ValidatorSet,
    height: u64,
    parent: [u8; 32],
    round: u32,
    k: u16,
    blob_count: u32,
    tuple_root: [u8; 32],
) -> BlockHeader {
    let label = format!("height_{height}");
    let commitments = commitments(&label, k);
    BlockHeader {
        header: ConsensusHeader {
            chain: chain_hash(CHAIN_ID),
            height,
            parent,
            timestamp_ms: GENESIS_TIME_MS + 2_000 * height,
            proposer: set.proposer(height, round) as u32,
            validators_hash: set.hash(),
            next_validators_hash: set.hash(),
            data_root: data_root(k, blob_count, &commitments),
            tuple_root,
        },
        k,
        blob_count,
        commitments,
    }
}

fn cases(set: &ValidatorSet) -> Vec<Case> {
    let first = block(set, 1, [0; 32], 0, 1, 0, [0; 32]);
    let tuple_root = filler("header_v2/height_2/tuple_root", 32)
        .try_into()
        .expect("32");
    let mut second = block(set, 2, first.id(), 1, 2, 3, tuple_root);
    // The set changes at height 3 (the lightest validator goes from 10 to 15), so the two set
    // hashes of this header differ and a swap of the fields shows.
    let next: Vec<Validator> = set
        .validators()
        .iter()
        .map(|v| Validator {
            power: if v.power == 10 { 15 } else { v.power },
            ..*v
        })
        .collect();
    second.header.next_validators_hash = ValidatorSet::new(next).expect("set").hash();
    second.header.data_root = second.computed_data_root();
    // Everyone but the validator with the least power (10 of 100): 90 > 2/3.
    let smallest = (0..set.len())
        .min_by_key(|&i| set.get(i).expect("index").power)
        .expect("non-empty");
    vec![
        Case {
            name: "height_1_all_sign",
            why: "the first block: zero parent, k = 1, no blobs, zero tuple_root; decided in round 0, all four precommit",
            block: first,
            round: 0,
            pol_round: None,
            signers: (0..set.len()).collect(),
        },
        Case {
            name: "height_2_three_of_four",
            why: "k = 2, three blobs, parent = id of height 1, next_validators_hash of a changed set (power 10 -> 15); decided in round 1 (proposal re-proposed with pol_round 0), three of four precommit (90 of 100 power)",
            block: second,
            round: 1,
            pol_round: Some(0),
            signers: (0..set.len()).filter(|&i| i != smallest).collect(),
        },
    ]
}

fn precommits(
    keys: &[BlsSecretKey],
    set: &ValidatorSet,
    b: &BlockHeader,
    round: u32,
    signers: &[usize],
) -> Vec<(usize, BlsSignature)> {
    let msg = vote_sign_bytes(
        VoteKind::Precommit,
        &b.header.chain,
        b.header.height,
        round,
        Some(&b.id()),
    );
    signers
        .iter()
        .map(|&i| (i, key_at(keys, set, i).sign(&msg)))
        .collect()
}

fn certified(
    keys: &[BlsSecretKey],
    set: &ValidatorSet,
    b: &BlockHeader,
    round: u32,
    signers: &[usize],
) -> CertifiedHeader {
    let p = precommits(keys, set, b, round, signers);
    let certificate =
        Certificate::aggregate(set, &b.header.chain, b.header.height, round, &b.id(), &p)
            .expect("aggregate");
    CertifiedHeader {
        block: b.clone(),
        certificate,
    }
}

fn header_json(h: &ConsensusHeader) -> Value {
    json!({
        "chain": hx(&h.chain),
        "height": h.height,
        "parent": hx(&h.parent),
        "timestamp_ms": h.timestamp_ms,
        "proposer": h.proposer,
        "validators_hash": hx(&h.validators_hash),
        "next_validators_hash": hx(&h.next_validators_hash),
        "data_root": hx(&h.data_root),
        "tuple_root": hx(&h.tuple_root),
    })
}

fn header_of(v: &Value) -> ConsensusHeader {
    ConsensusHeader {
        chain: array(&v["chain"]),
        height: num(&v["height"]),
        parent: array(&v["parent"]),
        timestamp_ms: num(&v["timestamp_ms"]),
        proposer: u32::try_from(num(&v["proposer"])).expect("u32"),
        validators_hash: array(&v["validators_hash"]),
        next_validators_hash: array(&v["next_validators_hash"]),
        data_root: array(&v["data_root"]),
        tuple_root: array(&v["tuple_root"]),
    }
}

fn block_of(v: &Value) -> BlockHeader {
    BlockHeader {
        header: header_of(&v["header"]),
        k: u16::try_from(num(&v["k"])).expect("u16"),
        blob_count: u32::try_from(num(&v["blob_count"])).expect("u32"),
        commitments: list(&v["commitments"]).iter().map(array).collect(),
    }
}

/// The name of an error as the file spells it: the variant, and the inner variant of wrapped
/// header and signature errors (`Header.DataRootMismatch`).
fn kind(e: &CertificateError) -> String {
    let outer = format!("{e:?}");
    let name = |s: &str| {
        s.split(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_string()
    };
    match e {
        CertificateError::Header(inner) => format!("Header.{}", name(&format!("{inner:?}"))),
        CertificateError::Signature(inner) => {
            format!("Signature.{}", name(&format!("{inner:?}")))
        }
        _ => name(&outer),
    }
}

fn block_json(keys: &[BlsSecretKey], set: &ValidatorSet, case: &Case) -> Value {
    let b = &case.block;
    let h = &b.header;
    let id = b.id();
    let ch = certified(keys, set, b, case.round, &case.signers);
    let cert = &ch.certificate;
    let proposal = proposal_sign_bytes(&h.chain, h.height, case.round, case.pol_round, &id);
    let proposer_key = key_at(keys, set, h.proposer as usize);
    let proofs: Vec<Value> = (0..b.commitments.len())
        .map(|row| {
            let p = data_root_proof(b.k, b.blob_count, &b.commitments, row).expect("row");
            json!({
                "row": row,
                "index": p.index,
                "total": p.total,
                "siblings": p.siblings.iter().map(|s| hx(s)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let precommit = vote_sign_bytes(
        VoteKind::Precommit,
        &h.chain,
        h.height,
        case.round,
        Some(&id),
    );
    json!({
        "name": case.name,
        "why": case.why,
        "header": header_json(h),
        "k": b.k,
        "blob_count": b.blob_count,
        "commitments": b.commitments.iter().map(|c| hx(c)).collect::<Vec<_>>(),
        "params_leaf": hx(&params_leaf(b.k, b.blob_count)),
        "data_root": hx(&b.computed_data_root()),
        "data_root_proofs": proofs,
        "encoding": hx(&h.encode()),
        "id": hx(&id),
        "block_bytes": hx(&b.to_bytes()),
        "round": case.round,
        "pol_round": case.pol_round,
        "proposal_sign_bytes": hx(&proposal),
        "proposal_signature": hx(&proposer_key.sign(&proposal).to_bytes()),
        "prevote_sign_bytes": hx(&vote_sign_bytes(VoteKind::Prevote, &h.chain, h.height, case.round, Some(&id))),
        "nil_prevote_sign_bytes": hx(&vote_sign_bytes(VoteKind::Prevote, &h.chain, h.height, case.round, None)),
        "precommit_sign_bytes": hx(&precommit),
        "precommits": precommits(keys, set, b, case.round, &case.signers)
            .iter()
            .map(|(i, s)| json!({"signer": i, "signature": hx(&s.to_bytes())}))
            .collect::<Vec<_>>(),
        "certificate": {
            "height": cert.height,
            "round": cert.round,
            "header_id": hx(&cert.header_id),
            "signers": cert.signers.iter_set().collect::<Vec<_>>(),
            "bitmap": hx(&cert.signers.encode()),
            "signature": hx(&cert.signature.to_bytes()),
            "encoding": hx(&cert.encode()),
            "signed_power": ch.verify(set, &h.chain).expect("valid"),
        },
        "certified_header": hx(&ch.to_bytes()),
    })
}

/// Certified headers to reject, built from the height-2 case: `(name, why, bytes, stage,
/// error)`, stage `from_bytes` or `verify`.
fn generated_invalid(keys: &[BlsSecretKey], set: &ValidatorSet, case: &Case) -> Vec<Value> {
    let good = certified(keys, set, &case.block, case.round, &case.signers);
    let good_bytes = good.to_bytes();
    let block_len = 1 + good.block.encoded_len();
    let mut out: Vec<(&str, &str, Vec<u8>)> = vec![];

    let mut b = good_bytes.clone();
    b[0] = 1;
    out.push(("version_1", "first byte 1, not 2", b));
    let v1 = v1_storage_bytes(CHAIN_ID, 1, GENESIS_TIME_MS, &commitments("v1", 1), [9; 32]);
    out.push((
        "v1_storage_bytes",
        "a v1 signed header (starts with its u32 length prefix, so with 0)",
        v1,
    ));
    out.push((
        "truncated",
        "the last byte of the signature missing",
        good_bytes[..good_bytes.len() - 1].to_vec(),
    ));
    let mut b = good_bytes.clone();
    b.push(0);
    out.push(("trailing_byte", "one byte after the signature", b));
    let mut b = good_bytes.clone();
    b[1 + 213 + 6] ^= 1;
    out.push((
        "commitment_changed",
        "first commitment changed: it no longer hashes to data_root",
        b,
    ));
    let mut b = good_bytes.clone();
    b[1 + 1 + 32..1 + 1 + 32 + 8].copy_from_slice(&0u64.to_be_bytes());
    out.push(("height_zero", "consensus header height 0", b));
    let mut b = good_bytes.clone();
    // Bitmap of 4 bits: bit 4 of its single byte is past n.
    b[block_len + 44 + 2] |= 0x10;
    out.push(("bitmap_bit_beyond_n", "bit 4 set in a 4-bit bitmap", b));
    let mut b = good_bytes;
    let sig_at = b.len() - 96;
    b[sig_at..].fill(0);
    out.push((
        "signature_not_a_point",
        "96 zero bytes (no compression flag)",
        b,
    ));

    let as_verify = |ch: &CertifiedHeader| ch.to_bytes();
    let lightest_two: Vec<usize> = {
        let mut idx: Vec<usize> = (0..set.len()).collect();
        idx.sort_by_key(|&i| set.get(i).expect("index").power);
        let mut two = idx[..2].to_vec();
        two.sort_unstable();
        two
    };
    let weak = certified(keys, set, &case.block, case.round, &lightest_two);
    out.push((
        "insufficient_power",
        "the two lightest validators (30 of 100) sign correctly",
        as_verify(&weak),
    ));
    let mut forged = good.clone();
    let mut signers = SignerBitmap::for_set(set);
    for i in 0..set.len() {
        signers.set(i).expect("bit");
    }
    forged.certificate.signers = signers;
    out.push((
        "bitmap_claims_a_non_signer",
        "all four bits set, three signatures aggregated",
        as_verify(&forged),
    ));
    let mut relabelled = good.clone();
    relabelled.certificate.header_id[0] ^= 1;
    out.push((
        "certificate_for_another_header",
        "certificate header_id differs from the header's id",
        as_verify(&relabelled),
    ));
    let mut other_height = good.clone();
    other_height.certificate.height += 1;
    out.push((
        "certificate_for_another_height",
        "certificate height 3 for a height-2 header",
        as_verify(&other_height),
    ));
    let mut other_round = good;
    other_round.certificate.round += 1;
    out.push((
        "certificate_for_another_round",
        "certificate round changed: the precommits were for round 1",
        as_verify(&other_round),
    ));
    let mut foreign = case.block.clone();
    foreign.header.chain = chain_hash("another-chain");
    let foreign = certified(keys, set, &foreign, case.round, &case.signers);
    out.push((
        "another_chain",
        "header and certificate valid for chain \"another-chain\"",
        as_verify(&foreign),
    ));
    let mut other_set = case.block.clone();
    other_set.header.validators_hash = [0; 32];
    let other_set = certified(keys, set, &other_set, case.round, &case.signers);
    out.push((
        "another_validator_set",
        "validators_hash zero, certificate otherwise valid",
        as_verify(&other_set),
    ));

    out.into_iter()
        .map(|(name, why, b)| {
            let (stage, err) = match CertifiedHeader::from_bytes(&b) {
                Err(e) => ("from_bytes", e),
                Ok(ch) => (
                    "verify",
                    ch.verify(set, &chain_hash(CHAIN_ID))
                        .expect_err("an invalid case"),
                ),
            };
            json!({"name": name, "why": why, "stage": stage, "error": kind(&err), "bytes": hx(&b)})
        })
        .collect()
}

#[test]
#[ignore = "generator: DA_WRITE_VECTORS=1 cargo test -p da-types --test golden -- --ignored"]
fn generate_header_v2_vectors() {
    let keys = keys();
    let g = genesis(&keys);
    let set = g.validator_set().expect("valid genesis");
    let genesis_value: Value = serde_json::from_str(&g.to_json()).expect("json");
    let validators: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            json!({
                "ikm": hx(&ikm(i)),
                "secret_key": hx(&k.to_bytes()),
                "public_key": hx(&k.public_key().to_bytes()),
                "set_index": set.index_of(&k.public_key()).expect("member"),
            })
        })
        .collect();
    let order: Vec<usize> = (0..set.len())
        .map(|i| {
            let pk = set.get(i).expect("index").public_key;
            keys.iter()
                .position(|k| k.public_key() == pk)
                .expect("genesis key")
        })
        .collect();
    let cases = cases(&set);
    let blocks: Vec<Value> = cases.iter().map(|c| block_json(&keys, &set, c)).collect();
    let file = json!({
        "spec": "specs/05-header.md §Header v2",
        "genesis": genesis_value,
        "validators": validators,
        "chain_hash": hx(&chain_hash(CHAIN_ID)),
        "validator_set": {
            "order": order,
            "total_power": set.total_power(),
            "hash": hx(&set.hash()),
        },
        "blocks": blocks,
        "invalid": generated_invalid(&keys, &set, &cases[1]),
    });
    write_or_compare(FILE, &file);
}

#[test]
fn keys_genesis_and_validator_set_match_the_file() {
    let file = load(FILE);
    let g = Genesis::from_json(&file["genesis"].to_string()).expect("valid genesis");
    assert_eq!(g.chain_id, CHAIN_ID);
    let set = g.validator_set().expect("set");
    for (i, v) in list(&file["validators"]).iter().enumerate() {
        let key = BlsSecretKey::from_ikm(&array(&v["ikm"]));
        assert_eq!(hx(&key.to_bytes()), text(&v["secret_key"]), "validator {i}");
        let pk = key.public_key();
        assert_eq!(hx(&pk.to_bytes()), text(&v["public_key"]), "validator {i}");
        assert_eq!(g.validators[i].public_key, pk, "validator {i}");
        // Signatures are deterministic: the recorded proof is the one the key makes.
        assert_eq!(
            g.validators[i].proof_of_possession,
            key.proof_of_possession(),
            "validator {i}"
        );
        assert_eq!(set.index_of(&pk), Some(num(&v["set_index"]) as usize));
    }
    assert_eq!(hx(&g.chain_hash()), text(&file["chain_hash"]));
    assert_eq!(
        set.total_power(),
        num(&file["validator_set"]["total_power"])
    );
    assert_eq!(hx(&set.hash()), text(&file["validator_set"]["hash"]));
    let order: Vec<usize> = list(&file["validator_set"]["order"])
        .iter()
        .map(|v| num(v) as usize)
        .collect();
    for (set_index, &file_index) in order.iter().enumerate() {
        assert_eq!(
            set.get(set_index).expect("index").public_key,
            g.validators[file_index].public_key
        );
    }
    // The genesis re-serializes to the recorded object.
    let again: Value = serde_json::from_str(&g.to_json()).expect("json");
    assert_eq!(again, file["genesis"]);
}

#[test]
fn blocks_encode_hash_sign_and_certify_as_recorded() {
    let file = load(FILE);
    let g = Genesis::from_json(&file["genesis"].to_string()).expect("valid genesis");
    let set = g.validator_set().expect("set");
    let keys: Vec<BlsSecretKey> = list(&file["validators"])
        .iter()
        .map(|v| BlsSecretKey::from_ikm(&array(&v["ikm"])))
        .collect();
    let chain = g.chain_hash();
    let cases = list(&file["blocks"]);
    assert_eq!(cases.len(), 2, "the file lost cases");
    let mut parent = [0u8; 32];
    for case in cases {
        let name = text(&case["name"]);
        let b = block_of(case);
        let h = &b.header;
        b.check().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(h.chain, chain, "{name}");
        assert_eq!(h.parent, parent, "{name}: parent is the previous id");
        assert_eq!(h.validators_hash, set.hash(), "{name}");
        let round = u32::try_from(num(&case["round"])).expect("u32");
        assert_eq!(h.proposer as usize, set.proposer(h.height, round), "{name}");
        let pol_round = case["pol_round"].as_u64().map(|r| r as u32);

        let check = |field: &str, got: &[u8]| {
            assert_eq!(hx(got), text(&case[field]), "{name}: {field}");
        };
        check("params_leaf", &params_leaf(b.k, b.blob_count));
        check("data_root", &data_root(b.k, b.blob_count, &b.commitments));
        check("encoding", &h.encode());
        check("id", &h.id());
        check("block_bytes", &b.to_bytes());
        let id = b.id();
        check(
            "proposal_sign_bytes",
            &proposal_sign_bytes(&chain, h.height, round, pol_round, &id),
        );
        let proposal_sig =
            BlsSignature::from_bytes(&bytes(&case["proposal_signature"])).expect("signature");
        set.get(h.proposer as usize)
            .expect("proposer")
            .public_key
            .verify(&bytes(&case["proposal_sign_bytes"]), &proposal_sig)
            .unwrap_or_else(|e| panic!("{name}: proposal signature: {e}"));
        check(
            "prevote_sign_bytes",
            &vote_sign_bytes(VoteKind::Prevote, &chain, h.height, round, Some(&id)),
        );
        check(
            "nil_prevote_sign_bytes",
            &vote_sign_bytes(VoteKind::Prevote, &chain, h.height, round, None),
        );
        let precommit = vote_sign_bytes(VoteKind::Precommit, &chain, h.height, round, Some(&id));
        check("precommit_sign_bytes", &precommit);

        for (row, p) in list(&case["data_root_proofs"]).iter().enumerate() {
            let proof = data_root_proof(b.k, b.blob_count, &b.commitments, row).expect("row");
            assert_eq!(num(&p["index"]), proof.index, "{name} row {row}");
            assert_eq!(num(&p["total"]), proof.total, "{name} row {row}");
            let siblings: Vec<[u8; 32]> = list(&p["siblings"]).iter().map(array).collect();
            assert_eq!(siblings, proof.siblings, "{name} row {row}");
            assert!(proof.verify(&h.data_root, &b.commitments[row]));
        }

        // Precommits recomputed from the keys, then aggregated.
        let mut precommits = vec![];
        for p in list(&case["precommits"]) {
            let i = num(&p["signer"]) as usize;
            let key = key_at(&keys, &set, i);
            let sig = key.sign(&precommit);
            assert_eq!(
                hx(&sig.to_bytes()),
                text(&p["signature"]),
                "{name} signer {i}"
            );
            precommits.push((i, sig));
        }
        let c = &case["certificate"];
        let cert = Certificate::aggregate(&set, &chain, h.height, round, &id, &precommits)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let signers: Vec<usize> = list(&c["signers"])
            .iter()
            .map(|v| num(v) as usize)
            .collect();
        assert_eq!(
            cert.signers.iter_set().collect::<Vec<_>>(),
            signers,
            "{name}"
        );
        assert_eq!(
            (cert.height, cert.round),
            (num(&c["height"]), round),
            "{name}"
        );
        assert_eq!(hx(&cert.header_id), text(&c["header_id"]), "{name}");
        assert_eq!(hx(&cert.signers.encode()), text(&c["bitmap"]), "{name}");
        assert_eq!(
            hx(&cert.signature.to_bytes()),
            text(&c["signature"]),
            "{name}"
        );
        assert_eq!(hx(&cert.encode()), text(&c["encoding"]), "{name}");
        assert_eq!(cert.verify(&set, &chain, h), Ok(num(&c["signed_power"])));
        assert_eq!(
            Certificate::decode(&bytes(&c["encoding"])).as_ref(),
            Ok(&cert),
            "{name}"
        );

        let ch = CertifiedHeader {
            block: b.clone(),
            certificate: cert,
        };
        check("certified_header", &ch.to_bytes());
        let decoded = CertifiedHeader::from_bytes(&bytes(&case["certified_header"]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, ch, "{name}");
        assert_eq!(decoded.verify(&set, &chain), Ok(num(&c["signed_power"])));
        parent = id;
    }
}

#[test]
fn invalid_certified_headers_are_rejected_with_the_recorded_error() {
    let file = load(FILE);
    let g = Genesis::from_json(&file["genesis"].to_string()).expect("valid genesis");
    let set = g.validator_set().expect("set");
    let chain = g.chain_hash();
    let cases = list(&file["invalid"]);
    assert!(cases.len() >= 15, "the file lost cases");
    for case in cases {
        let name = text(&case["name"]);
        let b = bytes(&case["bytes"]);
        let err = match text(&case["stage"]) {
            "from_bytes" => CertifiedHeader::from_bytes(&b).expect_err(name),
            "verify" => CertifiedHeader::from_bytes(&b)
                .unwrap_or_else(|e| panic!("{name}: must decode, got {e}"))
                .verify(&set, &chain)
                .expect_err(name),
            other => panic!("{name}: unknown stage {other}"),
        };
        assert_eq!(kind(&err), text(&case["error"]), "{name}: {err}");
    }
}

#[test]
fn error_kind_names() {
    // The spelling the file uses for nested errors.
    assert_eq!(
        kind(&CertificateError::Header(HeaderV2Error::ZeroHeight)),
        "Header.ZeroHeight"
    );
    assert_eq!(
        kind(&CertificateError::UnsupportedVersion(1)),
        "UnsupportedVersion"
    );
    assert_eq!(
        kind(&CertificateError::InsufficientPower {
            signed: 1,
            total: 2
        }),
        "InsufficientPower"
    );
}
