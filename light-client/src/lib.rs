//! The sampling light client: header sync, extension checks, random cell sampling, confidence.
//!
//! Empty until the network and light-client issue lands.
