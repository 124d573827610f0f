//! Byte-level KZG types (EIP-7594 formats) and the [`VerifiedCell`] that only verification builds.

use crate::{
    curve::{Fr, G1Point, G1},
    error::{KzgError, Result},
};
use da_erasure::field::{frs_from_bytes, frs_to_bytes};
use da_types::{
    consts::{BYTES_PER_CELL, BYTES_PER_G1},
    CellIndex,
};

fn array48(what: &'static str, b: &[u8]) -> Result<[u8; 48]> {
    b.try_into().map_err(|_| KzgError::InvalidLength {
        what,
        got: b.len(),
        expected: BYTES_PER_G1,
    })
}

pub(crate) fn g1_from_bytes(what: &'static str, b: &[u8; 48]) -> Result<G1Point> {
    Option::from(G1Point::from_compressed(b)).ok_or(KzgError::InvalidPoint { what })
}

macro_rules! g1_bytes_type {
    ($name:ident, $what:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; 48]);

        impl $name {
            /// Takes exactly 48 bytes (the point itself is checked when used).
            pub fn from_slice(b: &[u8]) -> Result<Self> {
                array48($what, b).map(Self)
            }

            /// Compresses a point.
            pub(crate) fn from_point(p: &G1Point) -> Self {
                Self(p.to_compressed())
            }

            /// Compresses projective points (one batch normalisation).
            pub(crate) fn from_projective(ps: &[G1]) -> Vec<Self> {
                ekzg_bls12_381::g1_batch_normalize(ps)
                    .iter()
                    .map(Self::from_point)
                    .collect()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "(0x"))?;
                for b in &self.0[..8] {
                    write!(f, "{b:02x}")?;
                }
                write!(f, "…)")
            }
        }
    };
}

g1_bytes_type!(
    Commitment,
    "commitment",
    "A 48-byte KZG commitment to one row."
);
g1_bytes_type!(
    Proof,
    "proof",
    "A 48-byte KZG proof (of a cell or of a point opening)."
);

/// One 2048-byte cell: 64 big-endian field elements.
#[derive(Clone, PartialEq, Eq)]
pub struct Cell(pub Box<[u8; BYTES_PER_CELL]>);

impl Cell {
    /// Takes exactly 2048 bytes (field elements are checked when used).
    pub fn from_slice(b: &[u8]) -> Result<Self> {
        let arr: [u8; BYTES_PER_CELL] = b.try_into().map_err(|_| KzgError::InvalidLength {
            what: "cell",
            got: b.len(),
            expected: BYTES_PER_CELL,
        })?;
        Ok(Self(Box::new(arr)))
    }

    /// Serializes 64 field elements.
    pub(crate) fn from_frs(frs: &[Fr]) -> Self {
        let mut v = Vec::with_capacity(BYTES_PER_CELL);
        frs_to_bytes(frs, &mut v);
        let mut arr = Box::new([0u8; BYTES_PER_CELL]);
        arr.copy_from_slice(&v);
        Self(arr)
    }

    /// Parses the 64 field elements, rejecting non-canonical ones.
    pub(crate) fn to_frs(&self) -> Result<Vec<Fr>> {
        Ok(frs_from_bytes(&self.0[..])?)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }
}

impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cell({} bytes)", self.0.len())
    }
}

/// A cell whose KZG proof has been checked against its row commitment. Only
/// [`KzgVerifier::verify_cells`](crate::KzgVerifier::verify_cells) constructs one, so repair and
/// storage can take it without checking again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCell {
    pub(crate) index: CellIndex,
    pub(crate) cell: Cell,
    pub(crate) proof: Proof,
}

impl VerifiedCell {
    /// Where the cell sits in the extended square.
    pub fn index(&self) -> CellIndex {
        self.index
    }

    /// The cell's bytes.
    pub fn cell(&self) -> &Cell {
        &self.cell
    }

    /// The cell's proof.
    pub fn proof(&self) -> &Proof {
        &self.proof
    }
}

impl Commitment {
    /// Decompresses and subgroup-checks the point.
    pub(crate) fn decompress(&self) -> Result<G1Point> {
        g1_from_bytes("commitment", &self.0)
    }

    /// The `2k` row commitments a block header carries (checked when used).
    pub fn of_header(header: &da_types::BlockHeader) -> Vec<Self> {
        header.commitments.iter().map(|c| Self(*c)).collect()
    }
}
