//! The sampling light client: header sync, extension checks, random cell sampling, confidence.
//!
//! Landed so far: [`sampler`], the sans-IO state machine that decides what to sample, whom to
//! ask, when to retry and when a height is available (issue #4). The network driver, the binary
//! and its API come with the libp2p crate.

pub mod sampler;

pub use sampler::{Action, Event, HeightStatus, RequestId, Sampler, SamplerConfig, SamplerError};
