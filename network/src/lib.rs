//! libp2p networking of the DA layer: header gossip, sampling, row and namespace request-response.
//!
//! Empty until the network issue lands; see `specs/05-p2p.md` once written.
