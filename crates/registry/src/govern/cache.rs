//! Step 4: read results cached per connector for its TTL, keyed by connector, operation and the
//! normalized parameters. A write through a connector bumps its generation, which orphans every cached
//! read of it at once (they age out of the cache on their own).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache;
use serde_json::Value;
use tributary_core::Output;

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
    entries: Cache<String, Entry>,
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
            entries: Cache::builder()
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
