//! Orchestration above the libraries: what the `da-node` binary runs that no single library
//! owns.
//!
//! This crate owns:
//! - [`devnet`]: the one-command local network (a producer, a full node syncing from it over
//!   libp2p, sampling light clients, a posting adapter, a demo load, `devnet.json`).
//!
//! `main.rs` is the `da-node` CLI (`init`, `run`, `devnet`). The node library (`da-node`) links
//! neither the light client nor the adapter; only this crate puts them together.

pub mod devnet;
