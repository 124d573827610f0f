//! Following one upstream node over gRPC (`follow = URL`), the alternative to libp2p sync for
//! a full node: fetch headers and every row with proofs from the upstream, then import through
//! the [`Chain`] (the certificate against the genesis validator set and the other header
//! checks, every cell verified in one batch, the one import path). The upstream is not trusted:
//! only the `certified` bytes of its header messages are used.
//!
//! It owns its gRPC connection and the retry loop; it writes only through the chain.

use std::{sync::Arc, time::Duration};

use da_kzg::ProvenCell;
use da_proto::v1 as pb;
use da_types::CertifiedHeader;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::{
    chain::Chain,
    error::{NodeError, Result},
    grpc::MAX_MESSAGE_BYTES,
};

/// Pause before reconnecting to an upstream that failed.
pub const RECONNECT_PAUSE: Duration = Duration::from_secs(1);
/// Pause between head polls when the upstream has nothing new.
pub const POLL: Duration = Duration::from_millis(100);
/// Most headers asked for in one range.
const RANGE: u64 = 64;

/// Follows `url` until `cancel`, reconnecting after failures.
pub async fn run(chain: Arc<Chain>, url: String, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        if let Err(e) = follow_once(&chain, &url, &cancel).await {
            warn!(upstream = %url, "following failed, retrying in 1s: {e}");
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(RECONNECT_PAUSE) => {}
            }
        }
    }
}

/// The stored head, read on the blocking pool.
async fn next_height(chain: &Arc<Chain>) -> Result<u64> {
    let chain = chain.clone();
    let head = tokio::task::spawn_blocking(move || chain.head())
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))??;
    Ok(head.map_or(1, |h| h + 1))
}

async fn follow_once(chain: &Arc<Chain>, url: &str, cancel: &CancellationToken) -> Result<()> {
    use pb::{
        header_service_client::HeaderServiceClient, share_service_client::ShareServiceClient,
    };
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .map_err(|e| NodeError::Startup(format!("follow URL {url:?}: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| NodeError::Unavailable(format!("connect {url}: {e}")))?;
    let mut headers =
        HeaderServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut shares = ShareServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let unavailable = |e: tonic::Status| NodeError::Unavailable(format!("upstream: {e}"));
    loop {
        if cancel.is_cancelled() {
            return Ok(());
        }
        let next = next_height(chain).await?;
        let head = match headers.head(pb::HeadRequest {}).await {
            Ok(h) => h.into_inner().height,
            Err(s) if s.code() == tonic::Code::NotFound => 0,
            Err(s) => return Err(unavailable(s)),
        };
        if head < next {
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                () = tokio::time::sleep(POLL) => {}
            }
            continue;
        }
        let to = head.min(next + RANGE - 1);
        let range = headers
            .get_range(pb::GetRangeRequest { from: next, to })
            .await
            .map_err(unavailable)?
            .into_inner();
        for h in range.headers {
            let header = CertifiedHeader::try_from(&h)?;
            let height = header.height();
            let k = usize::from(header.block.k);
            let mut rows = Vec::with_capacity(2 * k);
            for r in 0..2 * k {
                let row = shares
                    .get_row(pb::GetRowRequest {
                        height,
                        row: r as u32,
                    })
                    .await
                    .map_err(unavailable)?
                    .into_inner();
                let cells = row
                    .cells
                    .iter()
                    .map(|s| ProvenCell::try_from(s).map(|p| (p.index, p.cell, p.proof)))
                    .collect::<Result<Vec<_>, _>>()?;
                rows.push(cells);
            }
            let chain = chain.clone();
            tokio::task::spawn_blocking(move || chain.import_rows(header, rows))
                .await
                .map_err(|e| NodeError::Internal(e.to_string()))??;
        }
    }
}
