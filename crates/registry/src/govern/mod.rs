//! The governed call path, one small step per module, in the order a call meets them:
//!
//! 1. identify: the agent and its organization (`Registry::call_tool`);
//! 2. [`authorize`]: the plan's access against the connector's allowed operations and objects and the
//!    agent's grant, deny by default, with a reason;
//! 3. [`rate_limit`]: queries per minute per connector (GCRA), in process or shared through Redis, and
//!    [`concurrency`]: calls at once per connector and per agent, with a short queue;
//! 4. [`cache`]: reads served from the cache when the connector caches; writes invalidate;
//! 5. [`retry`]: retryable failures of reads retried with exponential backoff and jitter, bounded;
//! 6. masking (`tributary-mask`) when the connector has `mask_pii` on;
//! 7. [`audit`]: who, what, which objects, a fingerprint, rows, bytes, time and outcome.

pub mod audit;
pub mod authorize;
pub mod cache;
pub mod concurrency;
pub mod limits;
pub mod rate_limit;
pub mod retry;
