//! The application side of the engine: answers Malachite's requests (start height, build a
//! proposal, assemble and check received proposals, commit decisions, serve and accept synced
//! values) by calling the block layer through [`Application`].
//!
//! This module owns the header rules of `CONSENSUS.md` §4.1 (height, parent, chain, proposer,
//! validator-set hashes, `tuple_root`, timestamp, `k` limit, `data_root`); the data rules (§4.2–4.5: blobs
//! held, blob ids, layout, commitments) are the application's [`Application::check`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use da_types::{
    attestation::{is_window_end, tuple_root},
    certificate::Certificate,
    header_v2::{data_root, BlockHeader, ConsensusHeader},
    validators::ValidatorSet as DaValidatorSet,
};
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, ExtendedCommitCertificate, ExtendedCommitSignature, LinearTimeouts, Round,
    Validity, Value as _,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use tokio::sync::{mpsc, watch};
use tracing::{debug, error, info, warn};

use crate::context::{Address, DaContext, HeaderId, HeaderValue, Height, ValidatorSet};
use crate::metrics::ConsensusMetrics;
use crate::parts::{split, PartInit, ReceivedProposal, StreamLimits, Streams};

/// Largest clock drift accepted on a proposal's timestamp.
pub const MAX_DRIFT: Duration = Duration::from_secs(5);

/// The last committed block, as the application knows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tip {
    /// Height (0 before the first block).
    pub height: u64,
    /// Its header id (zero before the first block).
    pub id: [u8; 32],
    /// Its timestamp (the genesis time before the first block).
    pub timestamp_ms: u64,
}

/// What the proposer's block layer hands consensus.
#[derive(Clone, Debug)]
pub struct BlockData {
    /// Original rows of the square.
    pub k: u16,
    /// Entries in the square index.
    pub blob_count: u32,
    /// The `2k` row commitments.
    pub commitments: Vec<[u8; 48]>,
    /// The block body (the blobs, in the application's encoding).
    pub body: Bytes,
}

/// A decided block as stored for value sync.
#[derive(Clone, Debug)]
pub struct DecidedBlock {
    /// The full header.
    pub header: BlockHeader,
    /// The body.
    pub body: Bytes,
    /// The engine's commit signatures (`WireCodec`'s commit certificate encoding).
    pub commit: Bytes,
}

/// Why the application refuses a proposal (a nil vote; the reason is logged and counted).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct Rejection {
    /// A short, fixed label (the metric's `reason`).
    pub kind: &'static str,
    /// What exactly was wrong.
    pub detail: String,
}

impl Rejection {
    /// A rejection labelled `kind`.
    pub fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

/// A failure of the block layer (storage, ...), not of the proposal.
#[derive(Debug, thiserror::Error)]
#[error("application: {0}")]
pub struct AppError(pub String);

/// The block layer consensus drives (the node, or a test application).
#[async_trait]
pub trait Application: Send + Sync + 'static {
    /// The last committed block.
    async fn tip(&self) -> Result<Tip, AppError>;
    /// Lowest height whose decided block can still be served.
    async fn history_min(&self) -> u64;
    /// Builds the data of a block at `height` (called when this validator proposes).
    async fn build(&self, height: u64, max_k: u16) -> Result<BlockData, AppError>;
    /// The data rules of a received proposal whose header rules already hold.
    async fn check(&self, header: &BlockHeader, body: &Bytes) -> Result<(), Rejection>;
    /// Commits a decided block; durable when it returns.
    async fn commit(&self, block: DecidedBlock, certificate: Certificate) -> Result<(), AppError>;
    /// A decided block, for validators that sync.
    async fn decided(&self, height: u64) -> Result<Option<DecidedBlock>, AppError>;
    /// The `data_root`s of the committed heights `from..=to`, in order (empty when `from >
    /// to`); an error if one is missing. Feeds the `tuple_root` of a window's last header.
    async fn data_roots(&self, from: u64, to: u64) -> Result<Vec<[u8; 32]>, AppError>;
}

/// Consensus parameters every validator must share.
#[derive(Clone, Debug)]
pub struct Params {
    /// SHA-256 of the chain id.
    pub chain: [u8; 32],
    /// The genesis validator set.
    pub validators: DaValidatorSet,
    /// Largest `k` of a block.
    pub max_square_k: u16,
    /// Genesis time (the lower bound of the first block's timestamp).
    pub genesis_time_ms: u64,
    /// Target time between heights.
    pub block_time: Duration,
    /// Round timeouts.
    pub timeouts: LinearTimeouts,
    /// The genesis `attestation_window` (`0`: every `tuple_root` is zero).
    pub attestation_window: u64,
}

impl Params {
    /// The same parameters with a base propose timeout of `propose` (Malachite's default is 3 s,
    /// growing by 0.5 s per round).
    pub fn with_propose_timeout(mut self, propose: Duration) -> Self {
        self.timeouts.propose = propose;
        self
    }
}

/// A decision as the node sees it (for subscribers such as tests and metrics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Height.
    pub height: u64,
    /// Round it was decided in.
    pub round: u32,
    /// The decided header id.
    pub id: [u8; 32],
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Checks the header rules (§4.1) of a proposal for `height` on top of `tip`; `tuple_root` is
/// the one this validator computed for the proposal ([`expected_tuple_root`]).
pub fn check_header(
    params: &Params,
    set: &DaValidatorSet,
    tip: &Tip,
    init: &PartInit,
    header: &BlockHeader,
    tuple_root: &[u8; 32],
    now_ms: u64,
) -> Result<(), Rejection> {
    let h = &header.header;
    header
        .check()
        .map_err(|e| Rejection::new("malformed", e.to_string()))?;
    if h.chain != params.chain {
        return Err(Rejection::new("chain", "header for another chain"));
    }
    if h.height != init.height.0 || h.height != tip.height + 1 {
        return Err(Rejection::new(
            "height",
            format!("height {} on tip {}", h.height, tip.height),
        ));
    }
    if h.parent != tip.id {
        return Err(Rejection::new("parent", "parent is not the tip"));
    }
    let round = init.round.as_u32().unwrap_or(0);
    let expected = set.proposer(h.height, round);
    if h.proposer as usize != expected {
        return Err(Rejection::new(
            "proposer",
            format!("proposer {} where {expected} proposes", h.proposer),
        ));
    }
    if set
        .get(expected)
        .is_none_or(|v| Address::of(&v.public_key) != init.proposer)
    {
        return Err(Rejection::new(
            "proposer",
            "parts sent by another validator",
        ));
    }
    if h.validators_hash != set.hash() || h.next_validators_hash != set.hash() {
        return Err(Rejection::new("validators", "validator-set hash differs"));
    }
    if h.tuple_root != *tuple_root {
        return Err(Rejection::new(
            "tuple_root",
            if *tuple_root == [0u8; 32] {
                "a tuple_root outside a window's last height".to_string()
            } else {
                format!(
                    "tuple_root {} where the window's tuples give {}",
                    hex::encode(h.tuple_root),
                    hex::encode(tuple_root)
                )
            },
        ));
    }
    if h.timestamp_ms < tip.timestamp_ms {
        return Err(Rejection::new("timestamp", "timestamp before the parent's"));
    }
    if h.timestamp_ms > now_ms + MAX_DRIFT.as_millis() as u64 {
        return Err(Rejection::new("timestamp", "timestamp in the future"));
    }
    if header.k > params.max_square_k {
        return Err(Rejection::new(
            "k",
            format!("k {} over the limit {}", header.k, params.max_square_k),
        ));
    }
    Ok(())
}

/// The `tuple_root` of the header at `height` whose `data_root` is `data_root`: zero unless
/// `height` ends an attestation window, else the root over the window's tuples, the earlier
/// heights' roots read from `app` (`specs/12-attestation.md`).
pub async fn expected_tuple_root<A: Application + ?Sized>(
    app: &A,
    window: u64,
    height: u64,
    data_root: &[u8; 32],
) -> Result<[u8; 32], AppError> {
    if !is_window_end(height, window) {
        return Ok([0u8; 32]);
    }
    let first = height + 1 - window;
    let mut roots = app.data_roots(first, height - 1).await?;
    if roots.len() as u64 != window - 1 {
        return Err(AppError(format!(
            "{} data roots for heights {first}..{height} (need {})",
            roots.len(),
            window - 1
        )));
    }
    roots.push(*data_root);
    Ok(tuple_root(first, &roots))
}

struct Undecided {
    header: BlockHeader,
    body: Bytes,
}

/// State of the app loop.
pub struct AppState<A: Application> {
    app: Arc<A>,
    params: Params,
    set: ValidatorSet,
    address: Address,
    streams: Streams,
    /// Complete proposals by header id (bodies held until decided or pruned).
    undecided: HashMap<HeaderId, (u64, Undecided)>,
    /// Complete proposals for heights ahead of ours, replayed when their height starts.
    pending: BTreeMap<u64, Vec<ReceivedProposal>>,
    /// The value this node built per (height, round), to re-propose on a new round.
    built: HashMap<(u64, u32), HeaderValue>,
    /// The block this node's layer built per height: a later round of the same height proposes
    /// it again under a new header (no second build, no blobs taken twice).
    built_data: HashMap<u64, BlockData>,
    height: u64,
    round: Round,
    metrics: ConsensusMetrics,
    decisions: watch::Sender<Option<Decision>>,
}

impl<A: Application> AppState<A> {
    /// State for the validator (or full node) at `address`.
    pub fn new(
        app: Arc<A>,
        params: Params,
        address: Address,
        metrics: ConsensusMetrics,
        decisions: watch::Sender<Option<Decision>>,
    ) -> Self {
        let set = ValidatorSet::new(params.validators.clone());
        Self {
            app,
            params,
            set,
            address,
            streams: Streams::new(StreamLimits::default()),
            undecided: HashMap::new(),
            pending: BTreeMap::new(),
            built: HashMap::new(),
            built_data: HashMap::new(),
            height: 0,
            round: Round::Nil,
            metrics,
            decisions,
        }
    }

    fn height_params(&self) -> HeightParams<DaContext> {
        HeightParams::new(
            self.set.clone(),
            self.params.timeouts,
            Some(self.params.block_time),
        )
    }

    async fn build_value(&mut self, height: u64, round: Round) -> Result<HeaderValue, AppError> {
        let r = round.as_u32().unwrap_or(0);
        if let Some(v) = self.built.get(&(height, r)) {
            return Ok(v.clone());
        }
        let tip = self.app.tip().await?;
        if tip.height + 1 != height {
            return Err(AppError(format!(
                "asked to propose {height} on tip {}",
                tip.height
            )));
        }
        let data = match self.built_data.get(&height) {
            Some(d) => d.clone(),
            None => {
                let d = self.app.build(height, self.params.max_square_k).await?;
                self.built_data.insert(height, d.clone());
                d
            }
        };
        let set_hash = self.params.validators.hash();
        let root = data_root(data.k, data.blob_count, &data.commitments);
        let tuple_root = expected_tuple_root(
            self.app.as_ref(),
            self.params.attestation_window,
            height,
            &root,
        )
        .await?;
        let header = ConsensusHeader {
            chain: self.params.chain,
            height,
            parent: tip.id,
            timestamp_ms: now_ms().max(tip.timestamp_ms),
            proposer: self.params.validators.proposer(height, r) as u32,
            validators_hash: set_hash,
            next_validators_hash: set_hash,
            data_root: root,
            tuple_root,
        };
        let block = BlockHeader {
            header,
            k: data.k,
            blob_count: data.blob_count,
            commitments: data.commitments,
        };
        let value = HeaderValue(block.header);
        self.undecided.insert(
            value.id(),
            (
                height,
                Undecided {
                    header: block,
                    body: data.body,
                },
            ),
        );
        self.built.insert((height, r), value.clone());
        Ok(value)
    }

    fn stream_of(
        &self,
        height: u64,
        round: Round,
        pol_round: Round,
        proposer: Address,
        id: &HeaderId,
    ) -> Option<Vec<StreamMessage<crate::parts::ProposalPart>>> {
        let (_, u) = self.undecided.get(id)?;
        let init = PartInit {
            height: Height(height),
            round,
            pol_round,
            proposer,
        };
        Some(split(init, u.header.clone(), &u.body))
    }

    /// Checks a complete proposal and records it; returns the value to hand consensus.
    async fn accept(&mut self, p: ReceivedProposal) -> Option<ProposedValue<DaContext>> {
        let height = p.init.height.0;
        if height < self.height {
            return None;
        }
        if height > self.height {
            let heights = self.pending.len();
            let entry = self.pending.entry(height).or_default();
            if entry.len() < 16 && heights < 8 {
                entry.push(p);
            }
            return None;
        }
        let tip = match self.app.tip().await {
            Ok(t) => t,
            Err(e) => {
                error!(%e, "cannot read the tip to check a proposal");
                return None;
            }
        };
        // A validator that cannot read the window's earlier roots cannot check the field:
        // it votes nil rather than vouch for it.
        let tuple_root = expected_tuple_root(
            self.app.as_ref(),
            self.params.attestation_window,
            height,
            &p.header.header.data_root,
        )
        .await
        .map_err(|e| Rejection::new("tuple_root", format!("cannot compute it: {e}")));
        let verdict = match tuple_root.and_then(|t| {
            check_header(
                &self.params,
                &self.params.validators,
                &tip,
                &p.init,
                &p.header,
                &t,
                now_ms(),
            )
        }) {
            Ok(()) => self.app.check(&p.header, &p.body).await,
            Err(r) => Err(r),
        };
        let value = HeaderValue(p.header.header);
        let validity = match &verdict {
            Ok(()) => Validity::Valid,
            Err(r) => {
                warn!(
                    height,
                    round = %p.init.round,
                    proposer = %p.init.proposer,
                    reason = r.kind,
                    detail = %r.detail,
                    "proposal refused: voting nil"
                );
                self.metrics.rejected(r.kind);
                Validity::Invalid
            }
        };
        if validity.is_valid() {
            self.undecided.insert(
                value.id(),
                (
                    height,
                    Undecided {
                        header: p.header,
                        body: p.body,
                    },
                ),
            );
        }
        Some(ProposedValue {
            height: p.init.height,
            round: p.init.round,
            valid_round: p.init.pol_round,
            proposer: p.init.proposer,
            value,
            validity,
        })
    }

    async fn commit(&mut self, certificate: &CommitCertificate<DaContext>) -> Result<(), AppError> {
        let height = certificate.height.0;
        let tip = self.app.tip().await?;
        if tip.height >= height {
            // Committed before (a replayed decision after a restart).
            return Ok(());
        }
        let Some((_, u)) = self.undecided.remove(&certificate.value_id) else {
            return Err(AppError(format!(
                "decided {} at {height} but its body is not held",
                certificate.value_id
            )));
        };
        let round = certificate.round.as_u32().unwrap_or(0);
        let mut precommits = Vec::with_capacity(certificate.commit_signatures.len());
        for s in &certificate.commit_signatures {
            let Some(i) = self.set.index_of(&s.address) else {
                return Err(AppError(format!("signer {} not in the set", s.address)));
            };
            precommits.push((i, s.signature.0));
        }
        let cert = Certificate::aggregate(
            &self.params.validators,
            &self.params.chain,
            height,
            round,
            &certificate.value_id.0,
            &precommits,
        )
        .map_err(|e| AppError(format!("aggregating the certificate: {e}")))?;
        let extended = ExtendedCommitCertificate {
            height: certificate.height,
            round: certificate.round,
            value_id: certificate.value_id,
            commit_signatures: certificate
                .commit_signatures
                .iter()
                .map(|s| ExtendedCommitSignature::new(s.address, s.signature.clone(), None))
                .collect(),
        };
        let commit = crate::codec::encode_commit(&extended);
        self.app
            .commit(
                DecidedBlock {
                    header: u.header,
                    body: u.body,
                    commit,
                },
                cert,
            )
            .await?;
        self.undecided.retain(|_, (h, _)| *h > height);
        self.built.retain(|(h, _), _| *h > height);
        self.built_data.retain(|h, _| *h > height);
        self.streams.prune_below(height + 1);
        self.metrics.decided(height, round);
        let _ = self.decisions.send(Some(Decision {
            height,
            round,
            id: certificate.value_id.0,
        }));
        info!(height, round, id = %certificate.value_id, signers = certificate.commit_signatures.len(), "decided");
        Ok(())
    }
}

/// Runs the app loop until consensus stops.
pub async fn run<A: Application>(
    state: &mut AppState<A>,
    channels: &mut Channels<DaContext>,
) -> Result<(), AppError> {
    while let Some(msg) = channels.consensus.recv().await {
        handle(state, msg, &channels.network).await?;
    }
    Ok(())
}

/// Publishes a proposal's stream (nothing when this node does not hold the proposal).
async fn publish(
    network: &mpsc::Sender<NetworkMsg<DaContext>>,
    stream: Option<Vec<StreamMessage<crate::parts::ProposalPart>>>,
) {
    for m in stream.into_iter().flatten() {
        if network
            .send(NetworkMsg::PublishProposalPart(m))
            .await
            .is_err()
        {
            break;
        }
    }
}

async fn handle<A: Application>(
    state: &mut AppState<A>,
    msg: AppMsg<DaContext>,
    network: &mpsc::Sender<NetworkMsg<DaContext>>,
) -> Result<(), AppError> {
    match msg {
        AppMsg::ConsensusReady { reply } => {
            let tip = state.app.tip().await?;
            let start = Height(tip.height + 1);
            state.height = start.0;
            info!(height = start.0, "consensus ready");
            let _ = reply.send((start, state.height_params()));
        }
        AppMsg::StartedRound {
            height,
            round,
            proposer,
            role,
            reply_value,
        } => {
            debug!(%height, %round, %proposer, ?role, "round started");
            state.height = height.0;
            state.round = round;
            state.metrics.round(round.as_u32().unwrap_or(0));
            let mut values = Vec::new();
            let waiting: Vec<_> = state.pending.range(..=height.0).map(|(h, _)| *h).collect();
            for h in waiting {
                for p in state.pending.remove(&h).unwrap_or_default() {
                    if p.init.round == round {
                        if let Some(v) = state.accept(p).await {
                            values.push(v);
                        }
                    }
                }
            }
            let _ = reply_value.send(values);
        }
        AppMsg::GetValue {
            height,
            round,
            timeout: _,
            reply,
        } => {
            let value = match state.build_value(height.0, round).await {
                Ok(v) => v,
                Err(e) => {
                    // No reply: consensus times out the propose step and moves on.
                    error!(%height, %round, %e, "could not build a proposal");
                    return Ok(());
                }
            };
            let id = value.id();
            let _ = reply.send(LocallyProposedValue::new(height, round, value));
            let stream = state.stream_of(height.0, round, Round::Nil, state.address, &id);
            publish(network, stream).await;
        }
        AppMsg::RestreamProposal {
            height,
            round,
            valid_round,
            address,
            value_id,
        } => {
            let pol = if valid_round.is_defined() {
                valid_round
            } else {
                Round::Nil
            };
            let _ = address;
            let stream = state.stream_of(height.0, round, pol, state.address, &value_id);
            publish(network, stream).await;
        }
        AppMsg::ReceivedProposalPart {
            from,
            published_by,
            part,
            reply,
        } => {
            let publisher: PeerId = published_by.unwrap_or(from);
            let value = match state.streams.insert(publisher, part) {
                Ok(Some(p)) => state.accept(p).await,
                Ok(None) => None,
                Err(e) => {
                    warn!(%publisher, %e, "proposal stream dropped");
                    state.metrics.rejected("stream");
                    None
                }
            };
            let _ = reply.send(value);
        }
        AppMsg::ExtendVote { reply, .. } => {
            let _ = reply.send(None);
        }
        AppMsg::VerifyVoteExtensions {
            extensions, reply, ..
        } => {
            let verdicts = extensions
                .into_iter()
                .map(|(a, _)| (a, Err(malachitebft_app_channel::app::consensus::VoteExtensionError::InvalidVoteExtension)))
                .collect();
            let _ = reply.send(verdicts);
        }
        AppMsg::GetHistoryMinHeight { reply } => {
            let _ = reply.send(Height(state.app.history_min().await));
        }
        AppMsg::Decided {
            certificate,
            extensions: _,
            reply,
        } => {
            if let Err(e) = state.commit(&certificate).await {
                error!(%e, "decision not committed; the height restarts and syncs");
            }
            let _ = reply.send(());
        }
        AppMsg::Finalized {
            certificate,
            extensions: _,
            evidence,
            reply,
        } => {
            if !evidence.is_empty() {
                warn!(
                    height = certificate.height.0,
                    ?evidence,
                    "misbehaviour evidence: equivocating validators"
                );
                state.metrics.evidence();
            }
            let tip = state.app.tip().await?;
            let next = if tip.height >= certificate.height.0 {
                state.height = tip.height + 1;
                Next::Start(Height(tip.height + 1), state.height_params())
            } else {
                Next::Restart(certificate.height, state.height_params())
            };
            let _ = reply.send(next);
        }
        AppMsg::GetDecidedValues { range, reply } => {
            let mut values = Vec::new();
            let (start, end) = (range.start().0, range.end().0);
            for h in start..=end.min(start.saturating_add(16)) {
                match state.app.decided(h).await {
                    Ok(Some(b)) => match crate::codec::decode_commit(&b.commit) {
                        Ok(cert) => values.push(RawDecidedValue::new(
                            crate::codec::encode_synced(&b.header, &b.body),
                            cert,
                        )),
                        Err(e) => {
                            error!(height = h, %e, "stored commit does not decode");
                            break;
                        }
                    },
                    Ok(None) => break,
                    Err(e) => {
                        error!(height = h, %e, "reading a decided block");
                        break;
                    }
                }
            }
            let _ = reply.send(values);
        }
        AppMsg::ProcessSyncedValue {
            height,
            round,
            proposer,
            value_bytes,
            reply,
        } => {
            let outcome = match crate::codec::decode_synced(&value_bytes) {
                Ok((header, body)) => {
                    let tip = state.app.tip().await?;
                    let init = PartInit {
                        height,
                        round,
                        pol_round: Round::Nil,
                        proposer,
                    };
                    let rules = check_synced(&state.params, &tip, &init, &header);
                    match rules {
                        Ok(()) => match state.app.check(&header, &body).await {
                            Ok(()) => {
                                let value = HeaderValue(header.header);
                                state
                                    .undecided
                                    .insert(value.id(), (height.0, Undecided { header, body }));
                                SyncedValueOutcome::Verdict(ProposedValue {
                                    height,
                                    round,
                                    valid_round: Round::Nil,
                                    proposer,
                                    value,
                                    validity: Validity::Valid,
                                })
                            }
                            Err(r) => {
                                warn!(%height, reason = r.kind, detail = %r.detail, "synced block refused");
                                SyncedValueOutcome::PeerFault
                            }
                        },
                        Err(r) => {
                            warn!(%height, reason = r.kind, detail = %r.detail, "synced header refused");
                            SyncedValueOutcome::PeerFault
                        }
                    }
                }
                Err(e) => {
                    warn!(%height, %e, "synced value does not decode");
                    SyncedValueOutcome::PeerFault
                }
            };
            let _ = reply.send(outcome);
        }
    }
    Ok(())
}

/// Header rules for a synced block: those of a live proposal, except the clock bound (a synced
/// block may be old) and the proposer of the round (the certificate vouches for the decision).
fn check_synced(
    params: &Params,
    tip: &Tip,
    init: &PartInit,
    header: &BlockHeader,
) -> Result<(), Rejection> {
    let h = &header.header;
    header
        .check()
        .map_err(|e| Rejection::new("malformed", e.to_string()))?;
    if h.chain != params.chain || h.height != init.height.0 || h.height != tip.height + 1 {
        return Err(Rejection::new(
            "height",
            "synced block does not extend the tip",
        ));
    }
    if h.parent != tip.id {
        return Err(Rejection::new("parent", "parent is not the tip"));
    }
    if h.validators_hash != params.validators.hash() {
        return Err(Rejection::new("validators", "validator-set hash differs"));
    }
    if h.timestamp_ms < tip.timestamp_ms {
        return Err(Rejection::new("timestamp", "timestamp before the parent's"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use da_types::{
        bls::BlsSecretKey,
        header_v2::{chain_hash, ConsensusHeader},
        validators::Validator,
    };

    use super::*;

    fn setup() -> (Params, Vec<BlsSecretKey>) {
        let keys: Vec<_> = (1..=4u8)
            .map(|i| BlsSecretKey::from_ikm(&[i; 32]))
            .collect();
        let set = DaValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    public_key: k.public_key(),
                    power: 1,
                })
                .collect(),
        )
        .expect("set");
        let params = Params {
            chain: chain_hash("rules"),
            validators: set,
            max_square_k: 4,
            genesis_time_ms: 1_000,
            block_time: Duration::from_secs(1),
            timeouts: LinearTimeouts::default(),
            attestation_window: 0,
        };
        (params, keys)
    }

    #[tokio::test]
    async fn a_later_round_proposes_the_same_block_again_without_building_it_twice() {
        let (params, keys) = setup();
        let app = crate::local::MemoryApp::new("v0", params.genesis_time_ms, false);
        let address = Address::of(&keys[0].public_key());
        let (decisions, _) = watch::channel(None);
        let mut state = AppState::new(
            app.clone(),
            params,
            address,
            ConsensusMetrics::default(),
            decisions,
        );
        let first = state.build_value(1, Round::new(0)).await.expect("built");
        let again = state.build_value(1, Round::new(0)).await.expect("cached");
        assert_eq!(again, first);
        let later = state
            .build_value(1, Round::new(1))
            .await
            .expect("rebuilt header");
        assert_eq!(app.builds(), 1, "the block layer was asked twice");
        assert_eq!(later.0.data_root, first.0.data_root, "same block");
        assert_eq!(later.0.height, 1);
        assert_ne!(
            later.0.proposer, first.0.proposer,
            "round 1 has its own proposer"
        );
        // The next height builds a new block.
        state
            .build_value(2, Round::new(0))
            .await
            .expect_err("no tip at 1 yet");
        assert_eq!(app.builds(), 1);
    }

    /// A proposal for height 3 in round 1 on `tip` that every rule accepts.
    fn proposal(params: &Params, tip: &Tip) -> (PartInit, BlockHeader) {
        let set = &params.validators;
        let proposer = set.proposer(3, 1);
        let commitments = vec![[0xc0; 48]; 4];
        let header = BlockHeader {
            header: ConsensusHeader {
                chain: params.chain,
                height: 3,
                parent: tip.id,
                timestamp_ms: tip.timestamp_ms + 10,
                proposer: proposer as u32,
                validators_hash: set.hash(),
                next_validators_hash: set.hash(),
                data_root: data_root(2, 0, &commitments),
                tuple_root: [0; 32],
            },
            k: 2,
            blob_count: 0,
            commitments,
        };
        let init = PartInit {
            height: Height(3),
            round: Round::new(1),
            pol_round: Round::Nil,
            proposer: Address::of(&set.get(proposer).expect("proposer").public_key),
        };
        (init, header)
    }

    /// A change to a valid proposal that breaks one rule.
    type Lie = dyn Fn(&mut PartInit, &mut BlockHeader);

    fn reseal(h: &mut BlockHeader) {
        h.header.data_root = data_root(h.k, h.blob_count, &h.commitments);
    }

    #[test]
    fn each_header_rule_refuses_with_its_label() {
        let (params, _) = setup();
        let tip = Tip {
            height: 2,
            id: [7; 32],
            timestamp_ms: 5_000,
        };
        let now = 6_000;
        let set = &params.validators;
        let (init, good) = proposal(&params, &tip);
        assert_eq!(
            check_header(&params, set, &tip, &init, &good, &[0; 32], now),
            Ok(())
        );

        let cases: Vec<(&str, Box<Lie>)> = vec![
            ("malformed", Box::new(|_, h| h.header.data_root = [0; 32])),
            (
                "chain",
                Box::new(|_, h| h.header.chain = chain_hash("other")),
            ),
            ("height", Box::new(|_, h| h.header.height = 4)),
            ("parent", Box::new(|_, h| h.header.parent = [8; 32])),
            (
                "proposer",
                Box::new(|_, h| h.header.proposer = (h.header.proposer + 1) % 4),
            ),
            ("proposer", Box::new(|i, _| i.proposer = Address([0; 20]))),
            (
                "validators",
                Box::new(|_, h| h.header.validators_hash = [1; 32]),
            ),
            (
                "validators",
                Box::new(|_, h| h.header.next_validators_hash = [1; 32]),
            ),
            ("tuple_root", Box::new(|_, h| h.header.tuple_root = [1; 32])),
            ("timestamp", Box::new(|_, h| h.header.timestamp_ms = 4_999)),
            (
                "timestamp",
                Box::new(|_, h| h.header.timestamp_ms = 6_000 + 5_001),
            ),
            (
                "k",
                Box::new(|_, h| {
                    h.k = 8;
                    h.commitments = vec![[0xc0; 48]; 16];
                    reseal(h);
                }),
            ),
        ];
        for (label, lie) in cases {
            let (mut i, mut h) = (init.clone(), good.clone());
            lie(&mut i, &mut h);
            let e = check_header(&params, set, &tip, &i, &h, &[0; 32], now).expect_err(label);
            assert_eq!(e.kind, label, "{e}");
        }
    }

    #[test]
    fn a_window_end_must_carry_the_tuple_root_the_validator_computes() {
        let (params, _) = setup();
        let tip = Tip {
            height: 2,
            id: [7; 32],
            timestamp_ms: 5_000,
        };
        let set = &params.validators;
        let (init, mut h) = proposal(&params, &tip);
        let expected = [0x42; 32];
        // Zero where a root is due, another root, or a root where none is due: refused.
        let e = check_header(&params, set, &tip, &init, &h, &expected, 6_000).expect_err("zero");
        assert_eq!(e.kind, "tuple_root");
        h.header.tuple_root = [0x43; 32];
        let e = check_header(&params, set, &tip, &init, &h, &expected, 6_000).expect_err("other");
        assert_eq!(e.kind, "tuple_root");
        assert!(e.detail.contains(&hex::encode(expected)), "{e}");
        h.header.tuple_root = expected;
        assert_eq!(
            check_header(&params, set, &tip, &init, &h, &expected, 6_000),
            Ok(())
        );
    }

    #[tokio::test]
    async fn the_expected_tuple_root_covers_the_window_with_the_new_data_root() {
        let (params, keys) = setup();
        let params = Params {
            attestation_window: 3,
            ..params
        };
        let app = crate::local::MemoryApp::new("v0", params.genesis_time_ms, false);
        let address = Address::of(&keys[0].public_key());
        let (decisions, _) = watch::channel(None);
        let mut state = AppState::new(
            app.clone(),
            params.clone(),
            address,
            ConsensusMetrics::default(),
            decisions,
        );
        // Heights 1 and 2 committed; height 3 ends window 1.
        let mut roots = Vec::new();
        for height in 1..=2u64 {
            let value = state
                .build_value(height, Round::new(0))
                .await
                .expect("built");
            assert_eq!(
                value.0.tuple_root, [0; 32],
                "height {height} ends no window"
            );
            roots.push(value.0.data_root);
            let u = state.undecided.remove(&value.id()).expect("built").1;
            let certificate = Certificate {
                height,
                round: 0,
                header_id: value.id().0,
                signers: da_types::SignerBitmap::new(4),
                signature: keys[0].sign(b"not checked by this app"),
            };
            let block = DecidedBlock {
                header: u.header,
                body: u.body,
                commit: Bytes::new(),
            };
            app.commit(block, certificate).await.expect("commit");
        }
        let third = state.build_value(3, Round::new(0)).await.expect("built");
        roots.push(third.0.data_root);
        let expected = da_types::attestation::tuple_root(1, &roots);
        assert_eq!(third.0.tuple_root, expected);
        let computed = expected_tuple_root(app.as_ref(), 3, 3, &third.0.data_root)
            .await
            .expect("roots of heights 1 and 2");
        assert_eq!(computed, expected);
        // Without the earlier roots it cannot be computed.
        let empty = crate::local::MemoryApp::new("v1", params.genesis_time_ms, false);
        assert!(
            expected_tuple_root(empty.as_ref(), 3, 3, &third.0.data_root)
                .await
                .is_err()
        );
    }

    #[test]
    fn the_first_block_builds_on_the_genesis_time_and_a_zero_parent() {
        let (params, _) = setup();
        let tip = Tip {
            height: 0,
            id: [0; 32],
            timestamp_ms: params.genesis_time_ms,
        };
        let (_, mut h) = proposal(&params, &tip);
        h.header.height = 1;
        let proposer = params.validators.proposer(1, 0);
        h.header.proposer = proposer as u32;
        let init = PartInit {
            height: Height(1),
            round: Round::new(0),
            pol_round: Round::Nil,
            proposer: Address::of(&params.validators.get(proposer).expect("p").public_key),
        };
        let now = params.genesis_time_ms + 100;
        assert_eq!(
            check_header(&params, &params.validators, &tip, &init, &h, &[0; 32], now),
            Ok(())
        );
    }
}
