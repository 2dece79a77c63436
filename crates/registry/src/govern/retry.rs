//! Execution: reads that fail with a retryable error (a dropped connection, a 5xx) are tried again, with
//! exponential backoff and full jitter, at most [`ATTEMPTS`] times. Writes are never retried: a write that
//! timed out may have happened.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use tributary_core::{Error, Result};

use crate::govern::layer::{CallContext, CallError, CallResult, Layer, Next};

/// The innermost layer: the connector executes the plan; reads are retried (planned again for each new
/// attempt), writes are not.
pub struct Execute;

#[async_trait]
impl Layer for Execute {
    fn name(&self) -> &'static str {
        "execute"
    }

    async fn call(&self, context: &mut CallContext, _next: Next<'_>) -> CallResult {
        let Some(plan) = context.plan.take() else {
            return Err(CallError::failed(Error::internal(
                "the call reached execution without a plan",
            )));
        };
        let connector = context.connector.clone();
        if !context.is_read() {
            return Ok(connector.execute(plan).await?);
        }
        let mut first = Some(plan);
        let request = &context.request;
        let output = read_with_retry(|| {
            let plan = first.take();
            let connector = connector.clone();
            async move {
                let plan = match plan {
                    Some(plan) => plan,
                    None => connector.plan(request.clone()).await?,
                };
                connector.execute(plan).await
            }
        })
        .await?;
        Ok(output)
    }
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use tributary_core::ErrorKind;

    use super::*;
    use crate::govern::layer::Stack;
    use crate::govern::testing::{Source, context, open_governance, planned};
    use crate::model::Outcome;

    #[tokio::test]
    async fn reads_are_retried_until_they_succeed_and_writes_are_tried_once() {
        let stack = Stack::new(vec![Arc::new(Execute)]);
        let source = Source::new(1);
        let dropped = || Error::new(ErrorKind::Unreachable, "the connection dropped").with_retryable(true);
        source.fail(2, dropped());
        let mut read = planned(context(&source, "read", open_governance(), None)).await;
        stack.run(&mut read).await.unwrap();
        assert_eq!(source.executed(), 3, "two failures, then the answer");

        source.fail(1, dropped());
        let mut write = planned(context(&source, "write", open_governance(), None)).await;
        let failure = stack.run(&mut write).await.unwrap_err();
        assert_eq!(
            (failure.outcome, failure.error.kind()),
            (Outcome::Failed, ErrorKind::Unreachable)
        );
        assert_eq!(source.executed(), 4, "a write is tried once");

        source.fail(
            5,
            Error::new(ErrorKind::Timeout, "cancelled at the statement timeout").with_retryable(false),
        );
        let mut slow = planned(context(&source, "read", open_governance(), None)).await;
        stack.run(&mut slow).await.unwrap_err();
        assert_eq!(source.executed(), 5, "what is not retryable is not retried");
    }
}
