//! The L1 side of attestation (`specs/12-attestation.md` §Contract): the `DAOracle` contract's
//! committed artifact (compiled from `l1/contracts/DAOracle.sol` by the pinned npm `solc`,
//! `l1/build.sh`) and an in-process EVM chain that deploys and calls it.
//!
//! This crate owns the EVM harness: [`L1`] is `revm` under Prague rules (EIP-2537 BLS12-381
//! precompiles on `blst`, EIP-4844 point evaluation on `c-kzg`) over an in-memory state; every
//! call is a real transaction whose gas is the receipt's. Tests, benchmarks and the devnet's
//! relayer ([`relayer`]) run the contract through it. Calldata is ABI-encoded with
//! `alloy-sol-types`.

pub mod relayer;

pub use relayer::{Attested, Relayer};

use alloy_sol_types::{sol, SolCall, SolInterface, SolValue};
use da_attest::{
    evm::{CommitHeader, ValidatorKey},
    publication::{BlobElementProof, ElementOpening, FieldElementProof, SquareParams},
};
use da_types::{DataRootTuple, MerkleProof};
use revm::{
    context::{Context, TxEnv},
    context_interface::result::{ExecutionResult, Output},
    database::InMemoryDB,
    handler::{MainBuilder, MainContext, MainnetContext, MainnetEvm},
    primitives::{hardfork::SpecId, Address, Bytes, FixedBytes, TxKind, U256},
    state::AccountInfo,
    ExecuteCommitEvm,
};

sol! {
    /// Blobstream's tuple.
    struct DataRootTuple_ {
        uint256 height;
        bytes32 dataRoot;
    }

    /// Blobstream's binary Merkle proof.
    struct BinaryMerkleProof_ {
        bytes32[] sideNodes;
        uint256 key;
        uint256 numLeaves;
    }

    /// A square's params leaf, proven at key 0 of its data_root.
    struct SquareParams_ {
        uint256 k;
        uint256 blobCount;
        BinaryMerkleProof_ proof;
    }

    /// An element of a square opened against its row.
    struct ElementOpening_ {
        bytes commitment;
        BinaryMerkleProof_ rowProof;
        uint256 position;
        bytes32 value;
        bytes kzgProof;
    }

    /// The contract's ABI, as `DAOracle.sol` declares it.
    interface DAOracle {
        struct Validator {
            bytes32[4] key;
            uint64 power;
        }

        error BadKey(uint256 index);
        error BadValidatorSet();
        error BadHeader();
        error WrongChain();
        error NotWindowEnd(uint64 height, uint64 window);
        error AlreadyCommitted(uint256 nonce);
        error WrongValidatorSet();
        error BadBitmap();
        error InsufficientPower(uint256 signed, uint256 total);
        error BadSignature();

        function commitHeader(
            bytes header,
            uint32 round,
            bytes signers,
            bytes signature
        ) external returns (uint256 nonce);
        function verifyAttestation(
            uint256 _tupleRootNonce,
            DataRootTuple_ _tuple,
            BinaryMerkleProof_ _proof
        ) external view returns (bool);
        function verifyFieldElement(
            uint256 nonce,
            DataRootTuple_ tuple,
            BinaryMerkleProof_ tupleProof,
            SquareParams_ params,
            ElementOpening_ opening
        ) external view returns (bool);
        function verifyBlobElement(
            uint256 nonce,
            DataRootTuple_ tuple,
            BinaryMerkleProof_ tupleProof,
            SquareParams_ params,
            bytes32 blobId,
            uint256 entry,
            uint256 element,
            ElementOpening_[] openings
        ) external view returns (bool);
        function hashToG2(bytes message) external view returns (bytes point);
        function tupleRoots(uint256 nonce) external view returns (bytes32);
        function validatorSetHash() external view returns (bytes32);
    }
}

/// The compiled contract as `l1/build.sh` wrote it.
pub const ARTIFACT: &str = include_str!("../artifacts/DAOracle.json");

/// Gas limit of every transaction (a Prague block's worth).
const GAS_LIMIT: u64 = 30_000_000;

/// What went wrong talking to the in-process chain.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The committed artifact does not parse.
    #[error("artifact: {0}")]
    Artifact(String),
    /// The transaction reverted; `error` names the contract's custom error when it is one.
    #[error("reverted with {error} (gas {gas})")]
    Reverted {
        /// The custom error's name, or the revert data in hex.
        error: String,
        /// Gas the transaction used.
        gas: u64,
    },
    /// The transaction halted (out of gas, invalid opcode, ...).
    #[error("halted: {0}")]
    Halted(String),
    /// The EVM refused the transaction itself.
    #[error("evm: {0}")]
    Evm(String),
    /// The return data does not decode.
    #[error("return data: {0}")]
    Decode(String),
    /// The relayer was given what it cannot relay.
    #[error("relayer: {0}")]
    Relay(String),
}

/// A successful transaction: what it returned and the gas of its receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt<T> {
    /// The decoded return value.
    pub value: T,
    /// The receipt's gas: intrinsic (21 000 and calldata) plus execution, after refunds.
    pub gas: u64,
    /// Bytes of calldata sent.
    pub calldata_len: usize,
    /// The intrinsic part of `gas`: 21 000 plus 4 per zero and 16 per non-zero calldata byte
    /// (32 000 more and the EIP-3860 word cost for a creation).
    pub intrinsic: u64,
}

impl<T> Receipt<T> {
    /// Gas of the execution alone (`gas − intrinsic`): what the same logic costs inside
    /// another contract's transaction, calldata aside.
    pub fn execution_gas(&self) -> u64 {
        self.gas.saturating_sub(self.intrinsic)
    }
}

/// 21 000 plus the calldata cost (4 per zero byte, 16 per other byte), and for a creation the
/// 32 000 and 2 per initcode word.
pub fn intrinsic_gas(data: &[u8], create: bool) -> u64 {
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    let others = data.len() as u64 - zeros;
    let mut gas = 21_000 + 4 * zeros + 16 * others;
    if create {
        gas += 32_000 + 2 * (data.len() as u64).div_ceil(32);
    }
    gas
}

/// An in-process EVM chain with one funded account and the blocks it mines.
pub struct L1 {
    evm: MainnetEvm<MainnetContext<InMemoryDB>>,
    sender: Address,
    nonce: u64,
}

impl Default for L1 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for L1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1")
            .field("sender", &self.sender)
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// A deployed `DAOracle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleAddress(pub Address);

impl L1 {
    /// An empty chain under Prague rules with one account holding 10^24 wei.
    pub fn new() -> Self {
        let sender = Address::repeat_byte(0xda);
        let mut db = InMemoryDB::default();
        db.insert_account_info(
            sender,
            AccountInfo {
                balance: U256::from(10u64).pow(U256::from(24u64)),
                ..Default::default()
            },
        );
        let evm = Context::mainnet()
            .modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE))
            .with_db(db)
            .build_mainnet();
        Self {
            evm,
            sender,
            nonce: 0,
        }
    }

    fn send(&mut self, kind: TxKind, data: Vec<u8>) -> Result<(Bytes, u64), L1Error> {
        let tx = TxEnv::builder()
            .caller(self.sender)
            .kind(kind)
            .data(Bytes::from(data))
            .gas_limit(GAS_LIMIT)
            .nonce(self.nonce)
            .build()
            .map_err(|e| L1Error::Evm(format!("{e:?}")))?;
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| L1Error::Evm(e.to_string()))?;
        // A transaction that ran (even reverted) used the nonce.
        self.nonce += 1;
        match result {
            ExecutionResult::Success { output, gas, .. } => {
                let bytes = match output {
                    Output::Call(b) => b,
                    Output::Create(b, _) => b,
                };
                Ok((bytes, gas.tx_gas_used()))
            }
            ExecutionResult::Revert { output, gas, .. } => Err(L1Error::Reverted {
                error: error_name(&output),
                gas: gas.tx_gas_used(),
            }),
            ExecutionResult::Halt { reason, .. } => Err(L1Error::Halted(format!("{reason:?}"))),
        }
    }

    /// Deploys `DAOracle(chain, window, validators)` from the committed artifact.
    pub fn deploy_oracle(
        &mut self,
        chain: [u8; 32],
        window: u64,
        validators: &[ValidatorKey],
    ) -> Result<Receipt<OracleAddress>, L1Error> {
        let mut code = creation_code()?;
        let validators: Vec<DAOracle::Validator> = validators.iter().map(sol_validator).collect();
        code.extend_from_slice(
            &(FixedBytes::from(chain), U256::from(window), validators).abi_encode_params(),
        );
        let calldata_len = code.len();
        let intrinsic = intrinsic_gas(&code, true);
        let address = self.sender.create(self.nonce);
        let (_, gas) = self.send(TxKind::Create, code)?;
        Ok(Receipt {
            value: OracleAddress(address),
            gas,
            calldata_len,
            intrinsic,
        })
    }

    fn call<C: SolCall>(
        &mut self,
        to: OracleAddress,
        call: &C,
    ) -> Result<Receipt<C::Return>, L1Error> {
        let data = call.abi_encode();
        let calldata_len = data.len();
        let intrinsic = intrinsic_gas(&data, false);
        let (out, gas) = self.send(TxKind::Call(to.0), data)?;
        let value = C::abi_decode_returns(&out).map_err(|e| L1Error::Decode(e.to_string()))?;
        Ok(Receipt {
            value,
            gas,
            calldata_len,
            intrinsic,
        })
    }

    /// `commitHeader(...)`: returns the nonce the header's `tuple_root` was stored under.
    pub fn commit_header(
        &mut self,
        oracle: OracleAddress,
        args: &CommitHeader,
    ) -> Result<Receipt<u64>, L1Error> {
        let call = DAOracle::commitHeaderCall {
            header: Bytes::from(args.header.clone()),
            round: args.round,
            signers: Bytes::from(args.signers.clone()),
            signature: Bytes::from(args.signature.clone()),
        };
        let r = self.call(oracle, &call)?;
        Ok(Receipt {
            value: r
                .value
                .try_into()
                .map_err(|_| L1Error::Decode("nonce".into()))?,
            gas: r.gas,
            calldata_len: r.calldata_len,
            intrinsic: r.intrinsic,
        })
    }

    /// `verifyAttestation(nonce, tuple, proof)` as a transaction (its gas is a rollup's cost
    /// of the check inside its own transaction, plus the 21 000 and calldata of a call).
    pub fn verify_attestation(
        &mut self,
        oracle: OracleAddress,
        nonce: u64,
        tuple: &DataRootTuple,
        proof: &MerkleProof,
    ) -> Result<Receipt<bool>, L1Error> {
        let call = DAOracle::verifyAttestationCall {
            _tupleRootNonce: U256::from(nonce),
            _tuple: sol_tuple(tuple),
            _proof: sol_proof(proof),
        };
        self.call(oracle, &call)
    }

    /// `verifyFieldElement(...)`: a rollup's proof of publication of one field element.
    pub fn verify_field_element(
        &mut self,
        oracle: OracleAddress,
        p: &FieldElementProof,
    ) -> Result<Receipt<bool>, L1Error> {
        let call = DAOracle::verifyFieldElementCall {
            nonce: U256::from(p.nonce),
            tuple: sol_tuple(&p.tuple),
            tupleProof: sol_proof(&p.tuple_proof),
            params: sol_params(&p.params),
            opening: sol_opening(&p.opening),
        };
        self.call(oracle, &call)
    }

    /// `verifyBlobElement(...)`: a rollup's proof that an element of a blob, named by its id,
    /// is published.
    pub fn verify_blob_element(
        &mut self,
        oracle: OracleAddress,
        p: &BlobElementProof,
    ) -> Result<Receipt<bool>, L1Error> {
        let call = DAOracle::verifyBlobElementCall {
            nonce: U256::from(p.nonce),
            tuple: sol_tuple(&p.tuple),
            tupleProof: sol_proof(&p.tuple_proof),
            params: sol_params(&p.params),
            blobId: FixedBytes::from(p.blob_id),
            entry: U256::from(p.entry),
            element: U256::from(p.element),
            openings: p.openings.iter().map(sol_opening).collect(),
        };
        self.call(oracle, &call)
    }

    /// `hashToG2(message)`: the contract's hash to curve, as an EIP-2537 G2 point.
    pub fn hash_to_g2(
        &mut self,
        oracle: OracleAddress,
        message: &[u8],
    ) -> Result<Receipt<Vec<u8>>, L1Error> {
        let call = DAOracle::hashToG2Call {
            message: Bytes::from(message.to_vec()),
        };
        let r = self.call(oracle, &call)?;
        Ok(Receipt {
            value: r.value.to_vec(),
            gas: r.gas,
            calldata_len: r.calldata_len,
            intrinsic: r.intrinsic,
        })
    }

    /// The `tuple_root` stored under `nonce` (zero if none).
    pub fn tuple_root(&mut self, oracle: OracleAddress, nonce: u64) -> Result<[u8; 32], L1Error> {
        let call = DAOracle::tupleRootsCall {
            nonce: U256::from(nonce),
        };
        Ok(self.call(oracle, &call)?.value.0)
    }

    /// The chain's hash of the oracle's validator set.
    pub fn validators_hash(&mut self, oracle: OracleAddress) -> Result<[u8; 32], L1Error> {
        Ok(self
            .call(oracle, &DAOracle::validatorSetHashCall {})?
            .value
            .0)
    }
}

fn sol_tuple(t: &DataRootTuple) -> DataRootTuple_ {
    DataRootTuple_ {
        height: U256::from(t.height),
        dataRoot: FixedBytes::from(t.data_root),
    }
}

fn sol_proof(p: &MerkleProof) -> BinaryMerkleProof_ {
    BinaryMerkleProof_ {
        sideNodes: p.siblings.iter().map(|s| FixedBytes::from(*s)).collect(),
        key: U256::from(p.index),
        numLeaves: U256::from(p.total),
    }
}

fn sol_params(p: &SquareParams) -> SquareParams_ {
    SquareParams_ {
        k: U256::from(p.k),
        blobCount: U256::from(p.blob_count),
        proof: sol_proof(&p.proof),
    }
}

fn sol_opening(o: &ElementOpening) -> ElementOpening_ {
    ElementOpening_ {
        commitment: Bytes::from(o.commitment.to_vec()),
        rowProof: sol_proof(&o.row_proof),
        position: U256::from(o.position),
        value: FixedBytes::from(o.value),
        kzgProof: Bytes::from(o.kzg_proof.to_vec()),
    }
}

fn sol_validator(v: &ValidatorKey) -> DAOracle::Validator {
    DAOracle::Validator {
        key: std::array::from_fn(|i| FixedBytes::from_slice(&v.key[32 * i..32 * (i + 1)])),
        power: v.power,
    }
}

/// The creation bytecode of the committed artifact.
pub fn creation_code() -> Result<Vec<u8>, L1Error> {
    let artifact: serde_json::Value =
        serde_json::from_str(ARTIFACT).map_err(|e| L1Error::Artifact(e.to_string()))?;
    let hex_code = artifact["bytecode"]
        .as_str()
        .ok_or_else(|| L1Error::Artifact("no bytecode".into()))?;
    hex::decode(hex_code).map_err(|e| L1Error::Artifact(e.to_string()))
}

/// The contract's custom error in `data`, by name, or the data in hex.
fn error_name(data: &[u8]) -> String {
    use DAOracle::DAOracleErrors as E;
    let name = match E::abi_decode(data) {
        Ok(E::BadKey(_)) => "BadKey",
        Ok(E::BadValidatorSet(_)) => "BadValidatorSet",
        Ok(E::BadHeader(_)) => "BadHeader",
        Ok(E::WrongChain(_)) => "WrongChain",
        Ok(E::NotWindowEnd(_)) => "NotWindowEnd",
        Ok(E::AlreadyCommitted(_)) => "AlreadyCommitted",
        Ok(E::WrongValidatorSet(_)) => "WrongValidatorSet",
        Ok(E::BadBitmap(_)) => "BadBitmap",
        Ok(E::InsufficientPower(_)) => "InsufficientPower",
        Ok(E::BadSignature(_)) => "BadSignature",
        Err(_) => return format!("0x{}", hex::encode(data)),
    };
    name.to_string()
}
