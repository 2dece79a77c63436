//! Rate limits: queries per minute per connector, as GCRA (a burst of the whole minute's allowance, then an
//! even rate). In process with `governor`; across host instances through Redis, where one Lua script
//! applies the same algorithm atomically against Redis's own clock, so instances with skewed clocks still
//! share one limit. The limit is keyed on the connector, never on a session that a reconnect would reset.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter as Governor};
use tributary_core::{Error, ErrorKind, Result};

use crate::govern::layer::{CallContext, CallResult, Layer, Next};

/// The rate-limit layer: a connector's `queries_per_minute`, when it has one.
pub struct RateLimit {
    pub(crate) limiter: Arc<RateLimiter>,
}

#[async_trait]
impl Layer for RateLimit {
    fn name(&self) -> &'static str {
        "rate_limit"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        if let Some(per_minute) = context.definition.governance.queries_per_minute {
            self.limiter
                .check(&context.definition.id, &context.definition.name, per_minute)
                .await?;
        }
        next.run(context).await
    }
}

/// The GCRA step in Redis: allow when the theoretical arrival time, advanced by one interval, stays within
/// `burst` intervals of now.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > burst * interval then
  return next_tat - now - burst * interval
end
redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(next_tat - now) + 1000)
return 0
";

/// Where limits are kept.
pub enum RateLimiter {
    /// In this process.
    Local(Mutex<HashMap<String, (u32, Arc<DefaultDirectRateLimiter>)>>),
    /// In Redis, shared by every host instance that uses the same server.
    Redis(redis::aio::ConnectionManager, redis::Script),
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RateLimiter::Local(_) => "RateLimiter::Local",
            RateLimiter::Redis(..) => "RateLimiter::Redis",
        })
    }
}

fn limited(connector: &str, per_minute: u32, wait_ms: u64) -> Error {
    Error::new(
        ErrorKind::RateLimited,
        format!("connector `{connector}` allows {per_minute} calls per minute"),
    )
    .with_hint(format!("try again in {:.1} s", wait_ms as f64 / 1000.0))
    .with_retryable(true)
}

impl RateLimiter {
    /// Limits kept in this process.
    pub fn local() -> RateLimiter {
        RateLimiter::Local(Mutex::new(HashMap::new()))
    }

    /// Limits kept in Redis at `url` (`redis://host:6379/`).
    pub async fn redis(url: &str) -> Result<RateLimiter> {
        let client = redis::Client::open(url).map_err(|error| {
            Error::new(
                ErrorKind::InvalidConfig,
                format!("the Redis URL is not valid: {error}"),
            )
        })?;
        let manager = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(|error| {
                Error::new(
                    ErrorKind::Unreachable,
                    format!("cannot reach Redis for rate limits: {error}"),
                )
                .with_retryable(true)
            })?;
        Ok(RateLimiter::Redis(manager, redis::Script::new(GCRA)))
    }

    /// Takes one call from `connector`'s allowance of `per_minute`, or says how long to wait.
    pub async fn check(&self, connector: &str, name: &str, per_minute: u32) -> Result<()> {
        let Some(rate) = NonZeroU32::new(per_minute) else {
            return Err(limited(name, 0, 60_000));
        };
        match self {
            RateLimiter::Local(limiters) => {
                let limiter = {
                    let mut limiters = limiters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let entry = limiters
                        .entry(connector.to_owned())
                        .or_insert_with(|| (per_minute, Arc::new(Governor::direct(Quota::per_minute(rate)))));
                    if entry.0 != per_minute {
                        *entry = (per_minute, Arc::new(Governor::direct(Quota::per_minute(rate))));
                    }
                    entry.1.clone()
                };
                limiter.check().map_err(|not_until| {
                    let wait = not_until.wait_time_from(governor::clock::Clock::now(
                        &governor::clock::DefaultClock::default(),
                    ));
                    limited(name, per_minute, wait.as_millis() as u64)
                })
            }
            RateLimiter::Redis(manager, script) => {
                let interval = 60_000 / u64::from(per_minute).max(1);
                let mut connection = manager.clone();
                let wait: u64 = script
                    .key(format!("tributary:rate:{connector}"))
                    .arg(interval)
                    .arg(per_minute)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(|error| {
                        Error::new(
                            ErrorKind::Unreachable,
                            format!("the shared rate limit (Redis) failed: {error}"),
                        )
                        .with_retryable(true)
                    })?;
                if wait == 0 {
                    Ok(())
                } else {
                    Err(limited(name, per_minute, wait))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tributary_core::AccessClass;

    use super::*;
    use crate::govern::layer::Stack;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Source, context, open_governance, planned};
    use crate::model::{Governance, Outcome};

    #[tokio::test]
    async fn calls_past_the_connectors_limit_are_denied_as_rate_limited() {
        let stack = Stack::new(vec![
            Arc::new(RateLimit {
                limiter: Arc::new(RateLimiter::local()),
            }),
            Arc::new(Execute),
        ]);
        let source = Source::new(1);
        let limited = Governance {
            queries_per_minute: Some(2),
            ..open_governance()
        };
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            let mut call = planned(context(
                &source,
                "read",
                limited.clone(),
                Some(&[AccessClass::Read]),
            ))
            .await;
            outcomes.push(
                stack
                    .run(&mut call)
                    .await
                    .map_err(|e| (e.outcome, e.error.kind())),
            );
        }
        assert!(outcomes[0].is_ok() && outcomes[1].is_ok());
        assert_eq!(
            outcomes[2].as_ref().unwrap_err(),
            &(Outcome::Denied, ErrorKind::RateLimited)
        );
        assert_eq!(source.executed(), 2);
        // A connector without a limit is never limited.
        for _ in 0..5 {
            let mut call = planned(context(&source, "read", open_governance(), None)).await;
            stack.run(&mut call).await.unwrap();
        }
    }
}
