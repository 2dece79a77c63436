//! Turns: at most so many calls at once per connector and per agent. A call past the bound waits its
//! turn in a short queue; when the queue is full, or the wait runs past its time, the call is refused as
//! `rate_limited`. Together with the byte budget each call carries, this bounds the memory a burst of
//! calls can take, whoever sends them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tributary_core::{Error, ErrorKind, Result};

use crate::govern::layer::{CallContext, CallError, CallResult, Layer, Next};

/// The turns layer: the call runs only in its turn, per connector and per agent.
pub struct Turns {
    pub(crate) concurrency: Arc<Concurrency>,
}

#[async_trait]
impl Layer for Turns {
    fn name(&self) -> &'static str {
        "turns"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        let _turn = self
            .concurrency
            .enter(
                &context.definition.id,
                &context.definition.name,
                &context.agent.uid,
            )
            .await
            .map_err(CallError::denied)?;
        next.run(context).await
    }
}

/// The bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcurrencyLimits {
    /// Calls running at once on one connector, across agents.
    pub per_connector: usize,
    /// Calls running at once for one agent, across connectors.
    pub per_agent: usize,
    /// Calls that may wait for a turn, per connector and per agent.
    pub queued: usize,
    /// The longest a call waits for its turn.
    pub wait: Duration,
}

impl Default for ConcurrencyLimits {
    fn default() -> Self {
        ConcurrencyLimits {
            per_connector: 8,
            per_agent: 4,
            queued: 32,
            wait: Duration::from_secs(10),
        }
    }
}

struct Lane {
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// The lanes of every connector and agent that has called.
#[derive(Default)]
pub(crate) struct Concurrency {
    limits: ConcurrencyLimits,
    lanes: Mutex<HashMap<String, Arc<Lane>>>,
}

/// Held while a call runs; its turn passes on when it is dropped.
pub(crate) struct Turn {
    _permits: [OwnedSemaphorePermit; 2],
}

impl Concurrency {
    pub(crate) fn new(limits: ConcurrencyLimits) -> Concurrency {
        Concurrency {
            limits,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    fn lane(&self, key: String, width: usize) -> Arc<Lane> {
        let mut lanes = self
            .lanes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        lanes
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Lane {
                    running: Arc::new(Semaphore::new(width.max(1))),
                    waiting: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    async fn take(&self, lane: &Lane, what: &str, width: usize) -> Result<OwnedSemaphorePermit> {
        if let Ok(permit) = lane.running.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let full = || {
            Error::new(
                ErrorKind::RateLimited,
                format!("{what} is running {width} calls at once, and more are waiting"),
            )
            .with_hint("try again in a few seconds, or make fewer calls at once")
            .with_retryable(true)
        };
        if lane.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.queued {
            lane.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(full());
        }
        let waited = tokio::time::timeout(self.limits.wait, lane.running.clone().acquire_owned()).await;
        lane.waiting.fetch_sub(1, Ordering::SeqCst);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(full()),
        }
    }

    /// Waits for a turn of `agent` (its internal identity) on connector `connector` (`name` for messages).
    pub(crate) async fn enter(&self, connector: &str, name: &str, agent: &str) -> Result<Turn> {
        let agent_lane = self.lane(format!("agent\0{agent}"), self.limits.per_agent);
        let connector_lane = self.lane(format!("connector\0{connector}"), self.limits.per_connector);
        let agent_permit = self
            .take(&agent_lane, "this agent", self.limits.per_agent)
            .await?;
        let connector_permit = self
            .take(
                &connector_lane,
                &format!("connector `{name}`"),
                self.limits.per_connector,
            )
            .await?;
        Ok(Turn {
            _permits: [agent_permit, connector_permit],
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_turn_is_refused_when_the_lane_and_its_queue_are_full_and_given_when_one_ends() {
        let turns = Concurrency::new(ConcurrencyLimits {
            per_connector: 1,
            per_agent: 8,
            queued: 0,
            wait: Duration::from_secs(5),
        });
        let held = turns.enter("con_1", "people", "agt_1").await.unwrap();
        let refused = turns.enter("con_1", "people", "agt_2").await.err().unwrap();
        assert_eq!(refused.kind(), ErrorKind::RateLimited);
        assert!(refused.message().contains("connector `people`"), "{refused}");
        // Another connector has its own lane.
        let other = turns.enter("con_2", "orders", "agt_2").await.unwrap();
        drop((held, other));
        turns.enter("con_1", "people", "agt_2").await.unwrap();
    }

    #[tokio::test]
    async fn a_queued_call_gets_its_turn_or_gives_up_after_its_wait() {
        let turns = Arc::new(Concurrency::new(ConcurrencyLimits {
            per_connector: 8,
            per_agent: 1,
            queued: 1,
            wait: Duration::from_millis(100),
        }));
        let held = turns.enter("con_1", "people", "agt_1").await.unwrap();
        let waited = turns.enter("con_1", "people", "agt_1").await.err().unwrap();
        assert_eq!(waited.kind(), ErrorKind::RateLimited);
        assert!(waited.message().contains("this agent"), "{waited}");
        let queued = {
            let turns = turns.clone();
            tokio::spawn(async move { turns.enter("con_1", "people", "agt_1").await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        assert!(queued.await.unwrap(), "the queued call got the turn that ended");
    }
}
