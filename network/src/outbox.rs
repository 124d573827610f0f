//! The bounded queue of [`NetworkEvent`]s to the application and its overflow policy
//! (`specs/09-p2p.md`, "Events to the application").
//!
//! The event loop never waits for the application: a slow consumer must not stall the swarm
//! (pings, gossip, answers to other peers). So nothing here awaits:
//! - Gossiped headers, blob announcements and inbound requests are offered with `try_send`. When the queue is full
//!   they are dropped, counted, and handed back to the event loop, which reports a dropped
//!   header or announcement to gossipsub as *ignored* (not forwarded, nobody penalised; header
//!   sync fetches headers by range, publishers announce pooled blobs again) and closes a dropped request's stream (the requester sees a failed request and
//!   asks another peer).
//! - Peer notifications (connected, disconnected, serves) are state the application cannot
//!   recover by itself — a light client starts sampling on its first serving peer — and there
//!   are at most a few per connection, so they wait in order in a backlog of at most
//!   [`PEER_BACKLOG`] while the queue is full; only past that bound are they dropped (counted).
//!   The event loop flushes the backlog as soon as the queue has room.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use tokio::sync::mpsc::{self, error::TrySendError};

use crate::service::NetworkEvent;

/// Most peer notifications held back while the application's queue is full.
pub const PEER_BACKLOG: usize = 1024;

/// Events dropped because the application's queue was full (or closed), by kind; read with
/// [`crate::NetworkClient::dropped_events`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DroppedEvents {
    /// Gossiped headers (not forwarded; header sync recovers them).
    pub headers: u64,
    /// Gossiped blob announcements (not forwarded; their publishers announce again).
    pub blob_ids: u64,
    /// Inbound requests (their streams closed unanswered).
    pub requests: u64,
    /// Peer notifications dropped past the [`PEER_BACKLOG`].
    pub peer_notices: u64,
}

impl DroppedEvents {
    /// All kinds together.
    pub fn total(&self) -> u64 {
        self.headers + self.blob_ids + self.requests + self.peer_notices
    }
}

/// The shared counters behind [`DroppedEvents`].
#[derive(Debug, Default)]
pub(crate) struct DropCounters {
    headers: AtomicU64,
    blob_ids: AtomicU64,
    requests: AtomicU64,
    peer_notices: AtomicU64,
}

impl DropCounters {
    /// A snapshot of the counters.
    pub(crate) fn snapshot(&self) -> DroppedEvents {
        DroppedEvents {
            headers: self.headers.load(Ordering::Relaxed),
            blob_ids: self.blob_ids.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            peer_notices: self.peer_notices.load(Ordering::Relaxed),
        }
    }

    fn count(&self, ev: &NetworkEvent) {
        let counter = match ev {
            NetworkEvent::Header { .. } => &self.headers,
            NetworkEvent::BlobIds { .. } => &self.blob_ids,
            NetworkEvent::Inbound(_) => &self.requests,
            NetworkEvent::PeerConnected(_)
            | NetworkEvent::PeerDisconnected(_)
            | NetworkEvent::PeerServes(_) => &self.peer_notices,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The sending side of the application's event queue, owned by the event loop.
#[derive(Debug)]
pub(crate) struct Outbox {
    tx: mpsc::Sender<NetworkEvent>,
    backlog: VecDeque<NetworkEvent>,
    dropped: Arc<DropCounters>,
}

impl Outbox {
    /// An outbox over `tx`, counting drops in `dropped`.
    pub(crate) fn new(tx: mpsc::Sender<NetworkEvent>, dropped: Arc<DropCounters>) -> Self {
        Self {
            tx,
            backlog: VecDeque::new(),
            dropped,
        }
    }

    /// Offers a header or an inbound request; when the queue is full (or closed) the event is
    /// counted as dropped and given back.
    #[must_use = "a dropped event needs handling (ignore the header, close the stream)"]
    pub(crate) fn offer(&mut self, ev: NetworkEvent) -> Option<NetworkEvent> {
        let (TrySendError::Full(ev) | TrySendError::Closed(ev)) = self.tx.try_send(ev).err()?;
        self.dropped.count(&ev);
        Some(ev)
    }

    /// Queues a peer notification behind the ones already held back.
    pub(crate) fn notify(&mut self, ev: NetworkEvent) {
        self.flush();
        if self.backlog.is_empty() {
            match self.tx.try_send(ev) {
                Ok(()) => {}
                Err(TrySendError::Closed(ev)) => self.dropped.count(&ev),
                Err(TrySendError::Full(ev)) => self.backlog.push_back(ev),
            }
        } else if self.backlog.len() < PEER_BACKLOG {
            self.backlog.push_back(ev);
        } else {
            self.dropped.count(&ev);
        }
    }

    /// Whether peer notifications are held back.
    pub(crate) fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Resolves once the queue has room (or is closed); for the event loop's `select!`, which
    /// then calls [`Outbox::flush`].
    pub(crate) async fn room(&self) {
        // The permit is released at once: only the event loop sends, so the slot stays free
        // for `flush`.
        let _ = self.tx.reserve().await;
    }

    /// Moves held-back notifications into the queue while it has room; forgets them (counted)
    /// if the application is gone.
    pub(crate) fn flush(&mut self) {
        while let Some(ev) = self.backlog.pop_front() {
            match self.tx.try_send(ev) {
                Ok(()) => {}
                Err(TrySendError::Full(ev)) => {
                    self.backlog.push_front(ev);
                    return;
                }
                Err(TrySendError::Closed(ev)) => {
                    self.dropped.count(&ev);
                    for ev in self.backlog.drain(..) {
                        self.dropped.count(&ev);
                    }
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use libp2p::{gossipsub::MessageId, PeerId};

    use super::*;

    fn header() -> NetworkEvent {
        NetworkEvent::Header {
            from: PeerId::random(),
            id: MessageId::from(vec![1]),
            data: vec![2],
        }
    }

    fn outbox(bound: usize) -> (Outbox, mpsc::Receiver<NetworkEvent>, Arc<DropCounters>) {
        let (tx, rx) = mpsc::channel(bound);
        let counters = Arc::new(DropCounters::default());
        (Outbox::new(tx, counters.clone()), rx, counters)
    }

    #[test]
    fn a_full_queue_drops_headers_counts_them_and_gives_them_back() {
        let (mut out, mut rx, dropped) = outbox(1);
        assert!(out.offer(header()).is_none());
        let back = out.offer(header()).expect("full: given back");
        assert!(matches!(back, NetworkEvent::Header { .. }));
        assert_eq!(
            dropped.snapshot(),
            DroppedEvents {
                headers: 1,
                ..DroppedEvents::default()
            }
        );
        assert!(rx.try_recv().is_ok());
        assert!(out.offer(header()).is_none(), "room again once consumed");
        assert_eq!(dropped.snapshot().total(), 1);
    }

    #[test]
    fn peer_notices_wait_in_order_and_only_drop_past_the_backlog() {
        let (mut out, mut rx, dropped) = outbox(1);
        assert!(out.offer(header()).is_none());
        let peers: Vec<PeerId> = (0..PEER_BACKLOG + 3).map(|_| PeerId::random()).collect();
        for p in &peers {
            out.notify(NetworkEvent::PeerServes(*p));
        }
        assert!(out.has_backlog());
        assert_eq!(dropped.snapshot().peer_notices, 3);
        let mut seen = Vec::new();
        while out.has_backlog() {
            match rx.try_recv().expect("an event") {
                NetworkEvent::PeerServes(p) => seen.push(p),
                NetworkEvent::Header { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
            out.flush();
        }
        while let Ok(NetworkEvent::PeerServes(p)) = rx.try_recv() {
            seen.push(p);
        }
        assert_eq!(seen, peers[..PEER_BACKLOG]);
    }

    #[test]
    fn a_closed_queue_forgets_the_backlog() {
        let (mut out, rx, dropped) = outbox(1);
        out.notify(NetworkEvent::PeerConnected(PeerId::random()));
        out.notify(NetworkEvent::PeerConnected(PeerId::random()));
        assert!(out.has_backlog());
        drop(rx);
        out.flush();
        assert!(!out.has_backlog());
        assert_eq!(dropped.snapshot().peer_notices, 1);
        out.notify(NetworkEvent::PeerDisconnected(PeerId::random()));
        assert!(out.offer(header()).is_some());
        assert_eq!(dropped.snapshot().total(), 3);
    }
}
