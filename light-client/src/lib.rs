//! The sampling light client: header sync, extension checks, random cell sampling, confidence.
//!
//! - [`sampler`]: the sans-IO state machine that decides what to sample, whom to ask, when to
//!   retry and when a height is available;
//! - [`client`]: the driver that runs it over libp2p, verifying headers and cells.
//!
//! Still to come (issue #4): header range sync for catch-up, the binary, its API and metrics.

pub mod client;
pub mod sampler;

pub use client::{LightClient, LightConfig, LightError};

pub use sampler::{Action, Event, HeightStatus, RequestId, Sampler, SamplerConfig, SamplerError};
