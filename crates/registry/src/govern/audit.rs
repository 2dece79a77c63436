//! The audit layer and record of a call. The parameters are reduced to a fingerprint (an HMAC of their
//! canonical JSON under the registry's audit key), so neither a secret nor an unmasked value reaches the
//! log, and someone reading the log cannot confirm a guessed value by hashing it.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tributary_core::{Data, Output};
use tributary_mask::{MaskReport, Masker};

use crate::crypto::KeyRing;
use crate::govern::audit_queue::AuditQueue;
use crate::govern::layer::{CallContext, CallResult, Layer, Next};
use crate::model::{AuditRecord, Outcome};

/// The fingerprint of an operation and its parameters under `key`.
pub fn fingerprint(key: &[u8], operation: &str, params: &Value) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(operation.as_bytes());
    mac.update(b"\0");
    mac.update(params.to_string().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..8])
}

/// The longest object name an audit record keeps, in characters (an agent chooses the names it asks for).
pub const MAX_OBJECT_CHARS: usize = 256;

/// Objects as the record keeps them: cut to [`MAX_OBJECT_CHARS`].
pub fn clip(object: &str) -> String {
    if object.chars().count() <= MAX_OBJECT_CHARS {
        object.to_owned()
    } else {
        let mut clipped: String = object.chars().take(MAX_OBJECT_CHARS - 1).collect();
        clipped.push('…');
        clipped
    }
}

/// Rows or records a result holds, or items a write affected.
pub fn rows(output: &Output) -> u64 {
    match &output.data {
        Data::Rows(rows) => rows.rows.len() as u64,
        Data::Records { records } => records.len() as u64,
        Data::Write(summary) => summary.affected,
        Data::Catalog(catalog) => catalog.objects.len() as u64,
        Data::Object(_) | Data::Document { .. } => 1,
    }
}

/// One audit record to write: who, through what, and how the call ended.
pub(crate) struct Entry<'a> {
    /// The organization whose log it goes to.
    pub(crate) organization: &'a str,
    /// The connector's id (`""` when the call named no connector of the agent's).
    pub(crate) connector: &'a str,
    /// Whether the connector masks: the objects are masked like results then.
    pub(crate) mask: bool,
    pub(crate) agent: &'a str,
    pub(crate) operation: &'a str,
    pub(crate) objects: Vec<&'a str>,
    pub(crate) arguments: &'a Value,
    pub(crate) started: std::time::Instant,
    pub(crate) outcome: Outcome,
    pub(crate) error_kind: Option<String>,
    pub(crate) output: Option<&'a Output>,
    pub(crate) cached: bool,
    pub(crate) masked: &'a MaskReport,
}

/// Writes audit records: objects clipped and masked, parameters fingerprinted under the current key.
pub(crate) struct AuditWriter {
    pub(crate) queue: Arc<AuditQueue>,
    pub(crate) keys: Arc<RwLock<KeyRing>>,
    pub(crate) masker: Arc<Masker>,
}

impl AuditWriter {
    /// Queues `entry`'s record (see [`AuditQueue`]: written in groups, never dropped).
    pub(crate) async fn write(&self, entry: Entry<'_>) {
        let objects = entry
            .objects
            .iter()
            .map(|object| {
                let clipped = clip(object);
                if entry.mask {
                    self.masker.mask_text(&clipped).0.into_owned()
                } else {
                    clipped
                }
            })
            .collect();
        let key = self.keys.read().map(|keys| keys.audit_key()).unwrap_or_default();
        let elapsed = entry.started.elapsed();
        let record = AuditRecord {
            at: Utc::now() - chrono::Duration::from_std(elapsed).unwrap_or_default(),
            organization: entry.organization.to_owned(),
            agent: entry.agent.to_owned(),
            connector: entry.connector.to_owned(),
            operation: entry.operation.to_owned(),
            objects,
            fingerprint: fingerprint(&key, entry.operation, entry.arguments),
            rows: entry.output.map_or(0, rows),
            bytes: entry
                .output
                .map_or(0, |output| tributary_core::budget::json_size(&output.data)),
            duration_ms: elapsed.as_millis() as u64,
            outcome: entry.outcome,
            error_kind: entry.error_kind,
            cached: entry.cached,
            masked: serde_json::to_value(&entry.masked.counts).unwrap_or_default(),
        };
        self.queue.push(record).await;
    }
}

/// The outermost layer: every call, allowed or not, leaves a record when its connector audits.
pub struct Audit {
    pub(crate) writer: Arc<AuditWriter>,
}

#[async_trait]
impl Layer for Audit {
    fn name(&self) -> &'static str {
        "audit"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        let result = next.run(context).await;
        if context.definition.governance.audit_queries {
            let (outcome, error_kind) = match &result {
                Ok(_) => (Outcome::Ok, None),
                Err(error) => (error.outcome, Some(error.error.kind().code().to_owned())),
            };
            self.writer
                .write(Entry {
                    organization: &context.definition.organization,
                    connector: &context.definition.id,
                    mask: context.definition.governance.mask_pii,
                    agent: &context.agent.id,
                    operation: &context.request.operation,
                    objects: context.objects().collect(),
                    arguments: &context.request.params,
                    started: context.started,
                    outcome,
                    error_kind,
                    output: result.as_ref().ok(),
                    cached: context.cached,
                    masked: &context.masked,
                })
                .await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tributary_core::{AccessClass, ErrorKind};

    use super::*;
    use crate::crypto::MasterKey;
    use crate::govern::authorize::Authorize;
    use crate::govern::layer::Stack;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Source, context, open_governance, planned};
    use crate::model::{AuditQuery, Governance};
    use crate::store::{SqliteStore, Store};

    async fn audited() -> (Stack, Arc<dyn Store>, Arc<AuditWriter>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("a.db")).await.unwrap());
        let writer = Arc::new(AuditWriter {
            queue: Arc::new(AuditQueue::new(store.clone(), 16)),
            keys: Arc::new(RwLock::new(KeyRing::new(MasterKey::generate().unwrap()))),
            masker: Arc::new(Masker::new(tributary_mask::MaskPolicy::default()).unwrap()),
        });
        let stack = Stack::new(vec![
            Arc::new(Audit {
                writer: writer.clone(),
            }),
            Arc::new(Authorize),
            Arc::new(Execute),
        ]);
        (stack, store, writer, dir)
    }

    async fn records(store: &Arc<dyn Store>, writer: &AuditWriter) -> Vec<AuditRecord> {
        writer.queue.flush().await;
        store
            .audit(&AuditQuery {
                organization: "acme".into(),
                ..Default::default()
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn every_call_leaves_one_record_with_its_outcome_and_none_where_audit_is_off() {
        let (stack, store, writer, _dir) = audited().await;
        let source = Source::new(3);
        let mut allowed = planned(context(
            &source,
            "read",
            open_governance(),
            Some(&[AccessClass::Read]),
        ))
        .await;
        stack.run(&mut allowed).await.unwrap();
        let mut denied = planned(context(
            &source,
            "write",
            open_governance(),
            Some(&[AccessClass::Read]),
        ))
        .await;
        stack.run(&mut denied).await.unwrap_err();
        let mut log = records(&store, &writer).await;
        log.sort_by_key(|record| record.operation.clone());
        assert_eq!(log.len(), 2);
        assert_eq!(
            (log[0].operation.as_str(), log[0].outcome, log[0].rows),
            ("read", Outcome::Ok, 3)
        );
        assert_eq!(log[0].objects, ["people"]);
        assert_eq!(log[0].agent, "bot");
        assert!(log[0].bytes > 0);
        assert_eq!(
            (log[1].operation.as_str(), log[1].outcome),
            ("write", Outcome::Denied)
        );
        assert_eq!(
            log[1].error_kind.as_deref(),
            Some(ErrorKind::PermissionDenied.code())
        );

        let quiet = Governance {
            audit_queries: false,
            ..open_governance()
        };
        let mut unaudited = planned(context(&source, "read", quiet, Some(&[AccessClass::Read]))).await;
        stack.run(&mut unaudited).await.unwrap();
        assert_eq!(records(&store, &writer).await.len(), 2);
    }

    #[test]
    fn fingerprints_depend_on_the_key_and_objects_are_clipped() {
        let params = serde_json::json!({"sql": "SELECT 1"});
        assert_eq!(
            fingerprint(b"k1", "query", &params),
            fingerprint(b"k1", "query", &params)
        );
        assert_ne!(
            fingerprint(b"k1", "query", &params),
            fingerprint(b"k2", "query", &params)
        );
        let long = "x".repeat(1000);
        assert_eq!(clip(&long).chars().count(), MAX_OBJECT_CHARS);
        assert_eq!(clip("short"), "short");
    }
}
