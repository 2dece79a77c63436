//! The governed call path: a [`Stack`](layer::Stack) of [`Layer`](layer::Layer)s, one concern per
//! module. Before the stack, `Registry::call_tool` identifies the agent, finds the tool among its own
//! (a call to a tool it does not have is refused and audited as `unknown_tool`) and builds the
//! [`CallContext`](layer::CallContext). Then a call meets, outermost first:
//!
//! 1. [`audit`]: who, what, which objects, a fingerprint, rows, bytes, time and outcome, for every call
//!    that reaches the stack, allowed or not;
//! 2. [`mask::Scrub`]: every error on the way out loses the connector's secrets (and PII when it masks);
//! 3. [`plan`]: the connector resolves the call into the access it needs, under the call's budget;
//! 4. [`authorize`]: that access against the connector's allowed operations and objects and the agent's
//!    grant, deny by default, with a reason;
//! 5. [`rate_limit`]: queries per minute per connector (GCRA), in process or shared through Redis;
//! 6. the host's own layers ([`crate::Registry::with_layer`]), in the order they were added;
//! 7. [`cache`]: reads served from the cache when the connector caches; writes invalidate;
//! 8. [`concurrency`]: calls at once per connector and per agent, with a short queue;
//! 9. [`limits`]: the result cut to the caps;
//! 10. [`mask`]: PII masked when the connector has `mask_pii` on;
//! 11. [`retry`]: the connector executes; retryable failures of reads are retried with backoff.

pub mod audit;
pub mod audit_queue;
pub mod authorize;
pub mod cache;
pub mod concurrency;
pub mod layer;
pub mod limits;
pub mod mask;
pub mod plan;
pub mod rate_limit;
pub mod retry;
#[cfg(test)]
pub(crate) mod testing;
