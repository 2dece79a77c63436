//! The cache: read results cached per connector for its TTL, keyed by connector, operation and the
//! normalized parameters. A write through a connector bumps its generation, which orphans every cached
//! read of it at once (they age out of the cache on their own).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;
use serde_json::Value;
use tributary_core::Output;

use crate::govern::layer::{CallContext, CallResult, Layer, Next};

/// The cache layer: a read the connector caches is answered from the cache while fresh; a write orphans
/// every cached read of its connector.
pub struct Cache {
    pub(crate) cache: Arc<ResultCache>,
}

#[async_trait]
impl Layer for Cache {
    fn name(&self) -> &'static str {
        "cache"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        if !context.is_read() {
            let result = next.run(context).await;
            self.cache.invalidate(&context.definition.id);
            return result;
        }
        let ttl = Duration::from_secs(context.definition.governance.cache_ttl_seconds);
        if ttl.is_zero() {
            return next.run(context).await;
        }
        let key = self.cache.key(
            &context.definition.id,
            &context.request.operation,
            &context.request.params,
        );
        if let Some(output) = self.cache.get(&key).await {
            context.cached = true;
            return Ok(output);
        }
        let output = next.run(context).await?;
        self.cache.put(key, output.clone(), ttl).await;
        Ok(output)
    }
}

#[derive(Clone)]
struct Entry {
    output: Output,
    ttl: Duration,
}

struct PerEntry;

impl Expiry<String, Entry> for PerEntry {
    fn expire_after_create(&self, _key: &String, value: &Entry, _created_at: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The registry's result cache.
pub struct ResultCache {
    entries: Moka<String, Entry>,
    generations: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for ResultCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResultCache({} entries)", self.entries.entry_count())
    }
}

impl Default for ResultCache {
    fn default() -> Self {
        ResultCache::new(10_000)
    }
}

impl ResultCache {
    /// A cache of at most `capacity` results.
    pub fn new(capacity: u64) -> ResultCache {
        ResultCache {
            entries: Moka::builder()
                .max_capacity(capacity)
                .expire_after(PerEntry)
                .build(),
            generations: Mutex::new(HashMap::new()),
        }
    }

    fn generation(&self, connector: &str) -> u64 {
        self.generations
            .lock()
            .map(|g| g.get(connector).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The cache key of a call: connector, its generation, operation, and parameters in canonical form
    /// (serde_json sorts object keys).
    pub fn key(&self, connector: &str, operation: &str, params: &Value) -> String {
        format!(
            "{connector}\0{}\0{operation}\0{params}",
            self.generation(connector)
        )
    }

    /// A cached result.
    pub async fn get(&self, key: &str) -> Option<Output> {
        self.entries.get(key).await.map(|entry| entry.output)
    }

    /// Keeps `output` for `ttl`.
    pub async fn put(&self, key: String, output: Output, ttl: Duration) {
        self.entries.insert(key, Entry { output, ttl }).await;
    }

    /// Forgets every cached read of `connector`.
    pub fn invalidate(&self, connector: &str) {
        if let Ok(mut generations) = self.generations.lock() {
            *generations.entry(connector.to_owned()).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::govern::layer::Stack;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Source, context, open_governance, planned};
    use crate::model::Governance;

    #[tokio::test]
    async fn a_cached_read_is_answered_once_and_a_write_orphans_it() {
        let stack = Stack::new(vec![
            Arc::new(Cache {
                cache: Arc::new(ResultCache::default()),
            }),
            Arc::new(Execute),
        ]);
        let source = Source::new(2);
        let caching = Governance {
            cache_ttl_seconds: 60,
            ..open_governance()
        };
        let mut first = planned(context(&source, "read", caching.clone(), None)).await;
        let answer = stack.run(&mut first).await.unwrap();
        assert!(!first.cached);
        let mut second = planned(context(&source, "read", caching.clone(), None)).await;
        assert_eq!(stack.run(&mut second).await.unwrap(), answer);
        assert!(second.cached, "the second read came from the cache");
        assert_eq!(source.executed(), 1);

        let mut write = planned(context(&source, "write", caching.clone(), None)).await;
        stack.run(&mut write).await.unwrap();
        let mut after = planned(context(&source, "read", caching, None)).await;
        stack.run(&mut after).await.unwrap();
        assert!(!after.cached, "the write orphaned the cached read");
        assert_eq!(source.executed(), 3);

        // Without a TTL nothing is cached.
        let mut uncached = planned(context(&source, "read", open_governance(), None)).await;
        stack.run(&mut uncached).await.unwrap();
        let mut again = planned(context(&source, "read", open_governance(), None)).await;
        stack.run(&mut again).await.unwrap();
        assert!(!again.cached);
        assert_eq!(source.executed(), 5);
    }
}
