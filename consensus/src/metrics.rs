//! Consensus metrics the node exports: decided height and round, proposals refused by reason,
//! misbehaviour evidence seen.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// Label of a refused proposal.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// The rule it broke.
    pub reason: String,
}

/// Cloneable handles to the consensus metrics.
#[derive(Clone, Debug, Default)]
pub struct ConsensusMetrics {
    decided_height: Gauge,
    decided_round: Gauge,
    current_round: Gauge,
    decisions: Counter,
    rejected: Family<ReasonLabel, Counter>,
    evidence: Counter,
}

impl ConsensusMetrics {
    /// Registers the metrics under `registry` with the sub-prefix `consensus` (so
    /// `da_consensus_*` in the node's `da` registry).
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("consensus");
        r.register(
            "decided_height",
            "Last height decided",
            self.decided_height.clone(),
        );
        r.register(
            "decided_round",
            "Round in which the last height was decided (0 = first round)",
            self.decided_round.clone(),
        );
        r.register("round", "Round this node is in", self.current_round.clone());
        r.register("decisions", "Heights decided", self.decisions.clone());
        r.register(
            "proposals_refused",
            "Proposals this node voted nil on, by rule",
            self.rejected.clone(),
        );
        r.register(
            "evidence",
            "Heights with equivocation evidence",
            self.evidence.clone(),
        );
    }

    /// Counts a refused proposal.
    pub fn rejected(&self, reason: &str) {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Records a decision.
    pub fn decided(&self, height: u64, round: u32) {
        self.decided_height.set(height as i64);
        self.decided_round.set(i64::from(round));
        self.decisions.inc();
    }

    /// Records the round entered.
    pub fn round(&self, round: u32) {
        self.current_round.set(i64::from(round));
    }

    /// Counts a height with equivocation evidence.
    pub fn evidence(&self) {
        self.evidence.inc();
    }

    /// Proposals refused for `reason` so far.
    pub fn refused(&self, reason: &str) -> u64 {
        self.rejected
            .get_or_create(&ReasonLabel {
                reason: reason.to_string(),
            })
            .get()
    }

    /// Heights with evidence so far.
    pub fn evidence_count(&self) -> u64 {
        self.evidence.get()
    }
}
