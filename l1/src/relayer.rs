//! The relayer: deploys a `DAOracle` for a chain on the in-process [`L1`] and commits every
//! window's last certified header to it (`specs/12-attestation.md` §Relayer). Whoever drives it
//! (the devnet, a test) feeds it the chain's certified headers; it never touches the network.

use da_attest::evm::{validator_keys, CommitHeader};
use da_types::{attestation::is_window_end, CertifiedHeader, Trust};

use crate::{L1Error, OracleAddress, L1};

/// One window the relayer committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attested {
    /// The window's nonce.
    pub nonce: u64,
    /// Its heights, first and last.
    pub heights: (u64, u64),
    /// The `tuple_root` the oracle stored.
    pub tuple_root: [u8; 32],
    /// Gas of the `commitHeader` transaction.
    pub gas: u64,
}

/// A chain's oracle on the in-process L1 and the windows committed to it.
#[derive(Debug)]
pub struct Relayer {
    l1: L1,
    oracle: OracleAddress,
    window: u64,
    next: u64,
    attested: Vec<Attested>,
}

impl Relayer {
    /// Deploys the oracle of the chain `trust` describes (its genesis set and window).
    pub fn deploy(trust: &Trust) -> Result<Self, L1Error> {
        let window = trust.attestation_window();
        if window == 0 {
            return Err(L1Error::Relay(format!(
                "chain {:?} attests nothing: its genesis attestation_window is 0",
                trust.chain_id()
            )));
        }
        let mut l1 = L1::new();
        let oracle = l1
            .deploy_oracle(trust.chain(), window, &validator_keys(trust.set()))?
            .value;
        Ok(Self {
            l1,
            oracle,
            window,
            next: window,
            attested: Vec::new(),
        })
    }

    /// The window length.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// The height of the next window end to relay.
    pub fn next_height(&self) -> u64 {
        self.next
    }

    /// The deployed oracle.
    pub fn oracle(&self) -> OracleAddress {
        self.oracle
    }

    /// The L1 the oracle lives on (to call `verifyAttestation` and the like).
    pub fn l1(&mut self) -> &mut L1 {
        &mut self.l1
    }

    /// The windows committed so far, in order.
    pub fn attested(&self) -> &[Attested] {
        &self.attested
    }

    /// Gives up the next window (one that cannot be committed) and moves to the one after.
    pub fn skip(&mut self) {
        self.next = self.next.saturating_add(self.window);
    }

    /// Commits `header`, which must end a window, and moves past it.
    pub fn relay(&mut self, header: &CertifiedHeader) -> Result<Attested, L1Error> {
        let h = &header.block.header;
        if !is_window_end(h.height, self.window) {
            return Err(L1Error::Relay(format!(
                "height {} ends no window of {}",
                h.height, self.window
            )));
        }
        let args = CommitHeader::new(h, &header.certificate);
        let receipt = self.l1.commit_header(self.oracle, &args)?;
        let attested = Attested {
            nonce: receipt.value,
            heights: (h.height + 1 - self.window, h.height),
            tuple_root: h.tuple_root,
            gas: receipt.gas,
        };
        self.next = self.next.max(h.height + self.window);
        self.attested.push(attested.clone());
        Ok(attested)
    }
}
