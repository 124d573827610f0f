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
