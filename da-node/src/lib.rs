//! The DA full node and producer: mempool, block production, RocksDB store, gRPC API, devnet.
//!
//! Empty until the full-node issue lands.
