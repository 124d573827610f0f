//! The sampling light client: header sync, extension checks, random cell sampling, confidence.
//!
//! - [`sampler`]: the sans-IO state machine that decides what to sample, whom to ask, when to
//!   retry and when a height is available;
//! - [`client`]: the driver that runs it over libp2p, verifying headers and cells, catching up
//!   older heights and fetching namespaces;
//! - [`metrics`]: its Prometheus metrics;
//! - [`api`]: the HTTP JSON API and metrics endpoint of the `light-client` binary.

pub mod api;
pub mod client;
pub mod metrics;
pub mod sampler;

pub use client::{
    FetchError, HeaderInfo, HeightCells, HeightStats, LightClient, LightConfig, LightError,
    Progress,
};

pub use sampler::{
    Action, CellVerdict, Event, HeightStatus, RequestId, Sampler, SamplerConfig, SamplerError,
};
