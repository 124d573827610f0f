//! Conversions between `da.v1` messages and domain types live in [`da_proto::convert`]; this
//! re-export keeps the node's call sites short.

pub use da_proto::convert::*;
