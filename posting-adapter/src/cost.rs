//! What posting a batch costs on Ethereum L1: the commitment in calldata against the same bytes
//! as calldata or as EIP-4844 blobs.
//!
//! Calldata is priced by EIP-2028 (16 gas per non-zero byte, 4 per zero byte) with EIP-7623's
//! floor: `tokens = zero_bytes + 4·nonzero_bytes`, a transaction pays
//! `21000 + max(4·tokens + execution, 10·tokens)`; a batcher-inbox transaction executes nothing,
//! so data-heavy ones pay the floor. Blob space is counted in blobs (131072 bytes of gas each,
//! 130044 usable bytes with the OP Stack blob encoding).

/// Base cost of a transaction.
pub const TX_BASE_GAS: u64 = 21_000;
/// EIP-7623 standard cost per calldata token.
pub const STANDARD_TOKEN_GAS: u64 = 4;
/// EIP-7623 floor cost per calldata token.
pub const FLOOR_TOKEN_GAS: u64 = 10;
/// op-batcher's default `--max-l1-tx-size-bytes` for calldata frames.
pub const MAX_L1_TX_BYTES: usize = 120_000;
/// Payload bytes of one EIP-4844 blob under the OP Stack blob encoding.
pub const BLOB_USABLE_BYTES: usize = 130_044;
/// Blob gas per blob (EIP-4844 `GAS_PER_BLOB`).
pub const GAS_PER_BLOB: u64 = 131_072;

/// Gas of one calldata transaction carrying `data` (and executing nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CalldataGas {
    /// EIP-2028 pricing alone: `21000 + 16·nonzero + 4·zero`.
    pub eip2028: u64,
    /// EIP-7623 floor: `21000 + 10·tokens`.
    pub floor: u64,
    /// What the transaction pays after EIP-7623: the larger of the two.
    pub charged: u64,
}

/// Gas of one calldata transaction of `data`.
pub fn calldata_gas(data: &[u8]) -> CalldataGas {
    let zero = data.iter().filter(|&&b| b == 0).count() as u64;
    let nonzero = data.len() as u64 - zero;
    let tokens = zero + 4 * nonzero;
    let eip2028 = TX_BASE_GAS + STANDARD_TOKEN_GAS * tokens;
    let floor = TX_BASE_GAS + FLOOR_TOKEN_GAS * tokens;
    CalldataGas {
        eip2028,
        floor,
        charged: eip2028.max(floor),
    }
}

/// The cost comparison printed by `posting-adapter post`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CostReport {
    /// Batch bytes.
    pub batch_bytes: usize,
    /// L1 calldata bytes of the commitment transaction.
    pub commitment_bytes: usize,
    /// Gas of the commitment transaction.
    pub commitment_gas: CalldataGas,
    /// Transactions needed to post the batch as calldata.
    pub calldata_txs: usize,
    /// Gas of posting the batch as calldata (sum over transactions).
    pub calldata_gas: u64,
    /// EIP-4844 blobs needed for the batch.
    pub blobs: usize,
    /// Blob gas of those blobs.
    pub blob_gas: u64,
}

impl CostReport {
    /// Costs of posting `batch` through a commitment whose L1 calldata is `commitment_calldata`.
    pub fn new(batch: &[u8], commitment_calldata: &[u8]) -> Self {
        let chunks: Vec<&[u8]> = batch.chunks(MAX_L1_TX_BYTES).collect();
        let blobs = batch.len().div_ceil(BLOB_USABLE_BYTES).max(1);
        Self {
            batch_bytes: batch.len(),
            commitment_bytes: commitment_calldata.len(),
            commitment_gas: calldata_gas(commitment_calldata),
            calldata_txs: chunks.len().max(1),
            calldata_gas: chunks.iter().map(|c| calldata_gas(c).charged).sum(),
            blobs,
            blob_gas: blobs as u64 * GAS_PER_BLOB,
        }
    }

    /// One human line.
    pub fn line(&self) -> String {
        let ratio = self.calldata_gas as f64 / self.commitment_gas.charged.max(1) as f64;
        format!(
            "cost: L1 commitment {} bytes, {} gas (EIP-2028 {}, EIP-7623 floor {}) | same {} bytes \
             as calldata: {} tx, {} gas ({ratio:.1}x) | as EIP-4844: {} blob(s), {} blob gas",
            self.commitment_bytes,
            self.commitment_gas.charged,
            self.commitment_gas.eip2028,
            self.commitment_gas.floor,
            self.batch_bytes,
            self.calldata_txs,
            self.calldata_gas,
            self.blobs,
            self.blob_gas,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip2028_and_floor() {
        // 2 zero bytes, 3 non-zero: tokens = 2 + 12 = 14.
        let g = calldata_gas(&[0, 1, 0, 2, 3]);
        assert_eq!(g.eip2028, 21_000 + 2 * 4 + 3 * 16);
        assert_eq!(g.floor, 21_000 + 140);
        assert_eq!(g.charged, g.floor);
        assert_eq!(calldata_gas(&[]).charged, 21_000);
    }

    #[test]
    fn report_counts_txs_and_blobs() {
        let batch = vec![1u8; 300_000];
        let r = CostReport::new(&batch, &[1u8; 44]);
        assert_eq!(r.calldata_txs, 3);
        assert_eq!(r.blobs, 3);
        assert_eq!(r.blob_gas, 3 * GAS_PER_BLOB);
        assert_eq!(r.calldata_gas, 3 * 21_000 + 300_000 * 40);
        assert_eq!(r.commitment_gas.charged, 21_000 + 44 * 40);
        assert!(r.line().contains("3 blob(s)"));
    }
}
