//! Bounded waits: poll a condition until it holds or a deadline passes, then fail loudly.

use std::time::Duration;

use da_node::NodeHandle;

/// Polls `check` every 50 ms until it returns `Some`, for at most `timeout`; panics naming `what`.
pub async fn until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The node's stored head (0 before the first block).
pub fn head(node: &NodeHandle) -> u64 {
    node.store().head().expect("read head").unwrap_or(0)
}

/// Waits (at most 30 s) until `node` stores `height`.
pub async fn height(node: &NodeHandle, height: u64) {
    until(
        &format!("height {height} (node at {})", head(node)),
        Duration::from_secs(30),
        || (head(node) >= height).then_some(()),
    )
    .await;
}

/// Waits (at most 60 s) until the light client's catch-up range is known and every height in it
/// is final; returns its progress then.
pub async fn caught_up(lc: &da_light::LightClient) -> da_light::Progress {
    until(
        "the light client's catch-up to finish",
        Duration::from_secs(60),
        || {
            let p = lc.progress();
            (p.total > 0 && p.done == p.total).then_some(p)
        },
    )
    .await
}
