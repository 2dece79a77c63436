//! Step 5: reads that fail with a retryable error (a dropped connection, a 5xx) are tried again, with
//! exponential backoff and full jitter, at most [`ATTEMPTS`] times. Writes are never retried: a write that
//! timed out may have happened.

use std::future::Future;
use std::time::Duration;

use tributary_core::Result;

/// Attempts of one read, the first included.
pub const ATTEMPTS: u32 = 3;
const BASE: Duration = Duration::from_millis(100);

fn jitter(ceiling: Duration) -> Duration {
    let mut bytes = [0u8; 8];
    let random = getrandom::fill(&mut bytes)
        .map(|_| u64::from_le_bytes(bytes))
        .unwrap_or(0);
    let ceiling = ceiling.as_millis().max(1) as u64;
    Duration::from_millis(random % ceiling)
}

/// Runs `attempt` until it succeeds, fails for good, or has run [`ATTEMPTS`] times.
pub async fn read_with_retry<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if error.is_retryable() && tries < ATTEMPTS => {
                tokio::time::sleep(jitter(BASE * 2u32.pow(tries))).await;
                tries += 1;
            }
            other => return other,
        }
    }
}
