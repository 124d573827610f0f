//! The L1 attestation path in Rust, with no I/O (`specs/12-attestation.md`).
//!
//! This crate owns:
//! - [`evm`]: the byte encodings the `DAOracle` contract reads (EIP-2537 G1 and G2 points, the
//!   signer bitmap, the commit-header arguments);
//! - [`oracle`]: the contract's state machine, rule for rule: `commit_header` checks a window's
//!   certified header against the stored validator set and stores its `tuple_root` under the
//!   window's nonce; `verify_attestation` is Blobstream's `IDAOracle.verifyAttestation`;
//! - [`publication`]: a rollup's proof that one field element of a row is published: the
//!   EIP-4844 opening against the row commitment, the commitment in `data_root`, the
//!   `data_root` in an attested window.
//!
//! The Solidity contract and the in-process EVM that runs it live in `da-l1`; both are tested on
//! the same golden vectors (`specs/vectors/attestation.json`).

pub mod evm;
pub mod oracle;
pub mod publication;

pub use evm::CommitHeader;
pub use oracle::{Oracle, OracleError};
