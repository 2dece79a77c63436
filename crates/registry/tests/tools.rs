//! Tools as agents see them, reads retried and writes not, caps on rows and bytes, and the wizard's test
//! of an unsaved config.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use common::{governance, host, sqlite_connector};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tributary_core::HostAccess;
use tributary_core::spec::ConnectorSpec;
use tributary_core::{
    AccessClass::*, Catalog, CheckReport, ConfigValues, Connector, ConnectorFactory, Data, Error, ErrorKind,
    OperationRequest, OperationSpec, Output, Plan, Result, WriteSummary, parse_params,
};
use tributary_registry::{
    CallLimits, ConnectorTypes, KeyRing, MasterKey, NewConnector, Origin, Registry, SqliteStore,
};

#[tokio::test]
async fn tools_have_safe_unique_names_schemas_and_annotations() {
    let host = host().await;
    let r = &host.registry;
    let a = sqlite_connector(&host, "acme", "Shop DB", governance(&[Read, Write], None), false).await;
    let b = sqlite_connector(&host, "acme", "shop-db", governance(&[Read], None), true).await;
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    r.grant("acme", "bot", &a, [Read, Write].into()).await.unwrap();
    r.grant("acme", "bot", &b, [Read].into()).await.unwrap();
    let tools = r.tools_for_agent("acme", "bot").await.unwrap();
    assert_eq!(
        tools.len(),
        9,
        "six for the writable connector, three for the other"
    );
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert!(
        names
            .iter()
            .all(|name| tributary_registry::tools::valid_name(name)),
        "{names:?}"
    );
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        9,
        "names are unique even when connector names collide"
    );
    let delete = tools.iter().find(|t| t.operation == "delete").unwrap();
    assert!(delete.annotations.destructive_hint && !delete.annotations.read_only_hint);
    assert!(delete.description.contains("Shop DB"));
    let query = tools
        .iter()
        .find(|t| t.operation == "query" && t.connector == "shop-db")
        .unwrap();
    assert!(query.annotations.read_only_hint);
    assert_eq!(query.input_schema["required"], json!(["sql"]));
}

#[tokio::test]
async fn results_are_capped_in_rows_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("r.db")).await.unwrap());
    let r = Registry::new(
        store,
        KeyRing::new(MasterKey::generate().unwrap()),
        ConnectorTypes::with_defaults(),
    )
    .unwrap()
    .with_limits(CallLimits {
        max_rows: 2,
        max_bytes: 1024 * 1024,
    });
    let db = dir.path().join("shop.db");
    common::shop_database(&db);
    let shop = r
        .create_connector(
            "acme",
            NewConnector {
                name: "shop".into(),
                connector_type: "sqlite".into(),
                config: json!({"path": db.display().to_string()}),
                governance: governance(&[Read], None),
            },
            Origin::Operator,
        )
        .await
        .unwrap();
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    r.grant("acme", "bot", &shop.id, [Read].into()).await.unwrap();
    let result = r
        .call_tool(
            "acme",
            "bot",
            "shop_query",
            json!({"sql": "SELECT * FROM orders"}),
        )
        .await
        .unwrap();
    let truncation = result.truncation.expect("three orders over a cap of two");
    // The connector stopped reading at the cap (the budget came down with the call), so it knows more
    // rows exist but not how many.
    assert_eq!(truncation.reason, tributary_core::TruncationReason::RowLimit);
    assert_eq!((truncation.returned, truncation.omitted), (2, None));

    // A connector's own cap, below the server's.
    let mut narrow = governance(&[Read], None);
    narrow.max_rows_per_call = Some(1);
    let one = r
        .create_connector(
            "acme",
            NewConnector {
                name: "one".into(),
                connector_type: "sqlite".into(),
                config: json!({"path": db.display().to_string()}),
                governance: narrow,
            },
            Origin::Operator,
        )
        .await
        .unwrap();
    assert_eq!(one.governance.max_rows_per_call, Some(1), "shown as stored");
    r.grant("acme", "bot", &one.id, [Read].into()).await.unwrap();
    let result = r
        .call_tool("acme", "bot", "one_query", json!({"sql": "SELECT * FROM orders"}))
        .await
        .unwrap();
    let truncation = result.truncation.expect("three orders over a cap of one");
    assert_eq!((truncation.limit, truncation.returned), (1, 1));
}

/// A connector whose reads fail with a retryable error until the third attempt.
struct Flaky {
    attempts: Arc<AtomicU32>,
    operations: Vec<OperationSpec>,
}

#[derive(Deserialize, JsonSchema)]
struct NoParams {}

#[async_trait]
impl Connector for Flaky {
    fn connector_type(&self) -> &str {
        "flaky"
    }
    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }
    async fn check(&self) -> CheckReport {
        CheckReport::from_result(Ok(tributary_core::ServerInfo::new("flaky", None)), 0.1)
    }
    async fn discover(&self) -> Result<Catalog> {
        Ok(Catalog::default())
    }
    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        let spec = self.operation(&request.operation)?.clone();
        let _: NoParams = parse_params(&request.params)?;
        Ok(Plan::new(
            request,
            tributary_core::Access::new(spec.access, ["thing"]),
        ))
    }
    async fn execute(&self, plan: Plan) -> Result<Output> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if attempt < 3 {
            return Err(
                Error::new(ErrorKind::Unreachable, "the source dropped the connection").with_retryable(true),
            );
        }
        Ok(Output::complete(if plan.request().operation == "read" {
            Data::Document {
                document: json!({"attempt": attempt}),
            }
        } else {
            Data::Write(WriteSummary {
                affected: 1,
                items: vec![],
            })
        }))
    }
}

struct FlakyFactory(Arc<AtomicU32>);

#[async_trait]
impl ConnectorFactory for FlakyFactory {
    fn spec(&self) -> ConnectorSpec {
        ConnectorSpec::new("flaky", "Flaky", "Fails twice, then works.")
    }
    async fn build(&self, _config: ConfigValues, _host: &HostAccess) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(Flaky {
            attempts: self.0.clone(),
            operations: vec![
                OperationSpec::read::<NoParams>("read", "Read."),
                OperationSpec::write::<NoParams>("write", "Write."),
            ],
        }))
    }
}

#[tokio::test]
async fn reads_are_retried_and_writes_are_not() {
    let attempts = Arc::new(AtomicU32::new(0));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("r.db")).await.unwrap());
    let types = ConnectorTypes::empty().register(FlakyFactory(attempts.clone()));
    let r = Registry::new(store, KeyRing::new(MasterKey::generate().unwrap()), types).unwrap();
    let id = r
        .create_connector(
            "acme",
            NewConnector {
                name: "src".into(),
                connector_type: "flaky".into(),
                config: json!({}),
                governance: governance(&[Read, Write], None),
            },
            Origin::Operator,
        )
        .await
        .unwrap()
        .id;
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    r.grant("acme", "bot", &id, [Read, Write].into()).await.unwrap();
    let read = r.call_tool("acme", "bot", "src_read", json!({})).await.unwrap();
    assert_eq!(
        read.data,
        Data::Document {
            document: json!({"attempt": 3})
        },
        "two retries, then success"
    );
    attempts.store(0, Ordering::SeqCst);
    let error = r
        .call_tool("acme", "bot", "src_write", json!({}))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unreachable);
    assert_eq!(attempts.load(Ordering::SeqCst), 1, "a write is tried once");
}

#[tokio::test]
async fn an_unsaved_config_can_be_tested() {
    let host = host().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    common::shop_database(&db);
    let ok = host
        .registry
        .test_config(
            "sqlite",
            &json!({"path": db.display().to_string()}),
            Origin::Operator,
        )
        .await
        .unwrap();
    assert!(ok.is_connected(), "{ok:?}");
    let missing = host
        .registry
        .test_config(
            "sqlite",
            &json!({"path": dir.path().join("nope.db").display().to_string()}),
            Origin::Operator,
        )
        .await
        .unwrap();
    assert_eq!(missing.error.unwrap().kind, ErrorKind::NotFound);
    let invalid = host
        .registry
        .test_config("sqlite", &json!({}), Origin::Operator)
        .await
        .unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidConfig);
    assert_eq!(invalid.fields()[0].field, "path");
    assert!(
        host.registry
            .test_config("oracle", &json!({}), Origin::Operator)
            .await
            .is_err()
    );
    assert!(
        host.registry.connectors("acme").await.unwrap().is_empty(),
        "nothing was saved"
    );
}

/// A connector whose reads wait at a gate until the test opens it, and which records the budget each
/// call brought down.
struct Gated {
    gate: Arc<tokio::sync::Semaphore>,
    entered: Arc<tokio::sync::Notify>,
    budgets: Arc<std::sync::Mutex<Vec<tributary_core::Budget>>>,
    operations: Vec<OperationSpec>,
}

#[async_trait]
impl Connector for Gated {
    fn connector_type(&self) -> &str {
        "gated"
    }
    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }
    async fn check(&self) -> CheckReport {
        CheckReport::from_result(Ok(tributary_core::ServerInfo::new("gated", None)), 0.1)
    }
    async fn discover(&self) -> Result<Catalog> {
        Ok(Catalog::default())
    }
    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        let spec = self.operation(&request.operation)?.clone();
        let _: NoParams = parse_params(&request.params)?;
        Ok(Plan::new(
            request,
            tributary_core::Access::new(spec.access, ["thing"]),
        ))
    }
    async fn execute(&self, plan: Plan) -> Result<Output> {
        self.budgets.lock().unwrap().push(plan.request().budget);
        self.entered.notify_one();
        let _passed = self.gate.acquire().await.unwrap();
        Ok(Output::complete(Data::Document {
            document: json!({"ok": true}),
        }))
    }
}

#[derive(Clone)]
struct GatedFactory {
    gate: Arc<tokio::sync::Semaphore>,
    entered: Arc<tokio::sync::Notify>,
    budgets: Arc<std::sync::Mutex<Vec<tributary_core::Budget>>>,
}

#[async_trait]
impl ConnectorFactory for GatedFactory {
    fn spec(&self) -> ConnectorSpec {
        ConnectorSpec::new("gated", "Gated", "Waits for the test.")
    }
    async fn build(&self, _config: ConfigValues, _host: &HostAccess) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(Gated {
            gate: self.gate.clone(),
            entered: self.entered.clone(),
            budgets: self.budgets.clone(),
            operations: vec![OperationSpec::read::<NoParams>("read", "Read.")],
        }))
    }
}

/// A registry with one gated connector `src` in `acme`, readable by agents `bot` and `other`.
async fn gated_registry(
    limits: tributary_registry::ConcurrencyLimits,
) -> (Arc<Registry>, GatedFactory, tempfile::TempDir) {
    let factory = GatedFactory {
        gate: Arc::new(tokio::sync::Semaphore::new(0)),
        entered: Arc::new(tokio::sync::Notify::new()),
        budgets: Arc::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("r.db")).await.unwrap());
    let types = ConnectorTypes::empty().register(factory.clone());
    let r = Registry::new(store, KeyRing::new(MasterKey::generate().unwrap()), types)
        .unwrap()
        .with_limits(CallLimits {
            max_rows: 7,
            max_bytes: 5000,
        })
        .with_concurrency(limits);
    let id = r
        .create_connector(
            "acme",
            NewConnector {
                name: "src".into(),
                connector_type: "gated".into(),
                config: json!({}),
                governance: governance(&[Read], None),
            },
            Origin::Operator,
        )
        .await
        .unwrap()
        .id;
    for agent in ["bot", "other"] {
        r.put_agent("acme", agent, agent).await.unwrap();
        r.grant("acme", agent, &id, [Read].into()).await.unwrap();
    }
    (Arc::new(r), factory, dir)
}

fn read_by(
    r: &Arc<Registry>,
    agent: &'static str,
) -> tokio::task::JoinHandle<Result<tributary_registry::ToolResult>> {
    let r = r.clone();
    tokio::spawn(async move { r.call_tool("acme", agent, "src_read", json!({})).await })
}

#[tokio::test]
async fn calls_past_a_connectors_bound_wait_their_turn_and_past_the_queue_are_rate_limited() {
    let (r, gated, _dir) = gated_registry(tributary_registry::ConcurrencyLimits {
        per_connector: 1,
        per_agent: 8,
        queued: 1,
        wait: std::time::Duration::from_secs(30),
    })
    .await;
    let running = read_by(&r, "bot");
    gated.entered.notified().await;
    let queued = read_by(&r, "other");
    // Nothing signals that the second call has taken its place in the queue; it only has to get there.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!queued.is_finished(), "the second call waits its turn");
    let refused = r
        .call_tool("acme", "bot", "src_read", json!({}))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::RateLimited, "{refused}");
    assert!(refused.is_retryable(), "{refused}");
    assert!(refused.message().contains("connector `src`"), "{refused}");
    // Opening the gate lets the running call finish and the queued one take its turn.
    gated.gate.add_permits(2);
    running.await.unwrap().unwrap();
    queued.await.unwrap().unwrap();
    let denied = r
        .audit(&tributary_registry::AuditQuery {
            organization: "acme".into(),
            outcome: Some(tributary_registry::Outcome::Denied),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(denied.len(), 1, "the refused call is audited as denied");
}

#[tokio::test]
async fn an_agent_past_its_bound_is_refused_after_its_wait_while_another_agent_runs() {
    let (r, gated, _dir) = gated_registry(tributary_registry::ConcurrencyLimits {
        per_connector: 8,
        per_agent: 1,
        queued: 4,
        wait: std::time::Duration::from_millis(200),
    })
    .await;
    let running = read_by(&r, "bot");
    gated.entered.notified().await;
    let waited = r
        .call_tool("acme", "bot", "src_read", json!({}))
        .await
        .unwrap_err();
    assert_eq!(waited.kind(), ErrorKind::RateLimited, "{waited}");
    assert!(waited.message().contains("this agent"), "{waited}");
    let other = read_by(&r, "other");
    gated.entered.notified().await;
    gated.gate.add_permits(2);
    running.await.unwrap().unwrap();
    other.await.unwrap().unwrap();
    // Every call that ran brought the registry's caps down as its budget.
    let budgets = gated.budgets.lock().unwrap().clone();
    assert_eq!(budgets.len(), 2, "the refused call never reached the connector");
    for budget in budgets {
        assert_eq!((budget.max_rows, budget.max_bytes), (Some(7), Some(5000)));
    }
}

/// A host's layer: notes each call it sees, and refuses reads of the `secrets` table.
struct Watch {
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait]
impl tributary_registry::Layer for Watch {
    fn name(&self) -> &'static str {
        "watch"
    }
    async fn call(
        &self,
        context: &mut tributary_registry::CallContext,
        next: tributary_registry::Next<'_>,
    ) -> tributary_registry::CallResult {
        let sql = context.request.params["sql"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.seen
            .lock()
            .unwrap()
            .push(format!("{} {sql}", context.agent.id));
        if context.objects().any(|object| object.ends_with(".secrets")) {
            return Err(tributary_registry::CallError::denied(Error::permission_denied(
                "the host's own rule: no secrets",
            )));
        }
        let result = next.run(context).await;
        let answer = if context.cached { "cached" } else { "fresh" };
        self.seen.lock().unwrap().push(answer.to_owned());
        result
    }
}

#[tokio::test]
async fn a_host_layer_sees_every_allowed_call_in_order_and_may_refuse_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("r.db")).await.unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let r = Registry::new(
        store,
        KeyRing::new(MasterKey::generate().unwrap()),
        ConnectorTypes::with_defaults(),
    )
    .unwrap()
    .with_layer(Arc::new(Watch { seen: seen.clone() }));
    assert_eq!(
        r.layers(),
        [
            "audit",
            "scrub",
            "plan",
            "authorize",
            "rate_limit",
            "watch",
            "cache",
            "turns",
            "cap",
            "mask",
            "execute"
        ]
    );
    let db = dir.path().join("shop.db");
    common::shop_database(&db);
    let mut governance = governance(&[Read], None);
    governance.cache_ttl_seconds = 60;
    let shop = r
        .create_connector(
            "acme",
            NewConnector {
                name: "shop".into(),
                connector_type: "sqlite".into(),
                config: json!({"path": db.display().to_string()}),
                governance,
            },
            Origin::Operator,
        )
        .await
        .unwrap();
    r.put_agent("acme", "bot", "Bot").await.unwrap();
    r.grant("acme", "bot", &shop.id, [Read].into()).await.unwrap();
    let query = |sql: &str| r.call_tool("acme", "bot", "shop_query", json!({ "sql": sql }));
    query("SELECT count(*) AS n FROM orders").await.unwrap();
    let again = query("SELECT count(*) AS n FROM orders").await.unwrap();
    assert!(again.cached);
    let refused = query("SELECT value FROM secrets").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::PermissionDenied);
    assert!(refused.message().contains("host's own rule"), "{refused}");
    // A call authorization refuses never reaches the host's layer.
    let write = query("DELETE FROM orders").await.unwrap_err();
    assert_eq!(write.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "bot SELECT count(*) AS n FROM orders",
            "fresh",
            "bot SELECT count(*) AS n FROM orders",
            "cached",
            "bot SELECT value FROM secrets",
        ]
    );
    // The host's refusal is audited as denied, like the registry's own.
    let denied = r
        .audit(&tributary_registry::AuditQuery {
            organization: "acme".into(),
            outcome: Some(tributary_registry::Outcome::Denied),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(denied.len(), 2, "{denied:?}");
}

#[tokio::test]
async fn tool_tables_are_kept_in_memory_and_follow_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let key = MasterKey::generate().unwrap().to_base64();
    let here = Registry::new(
        Arc::new(SqliteStore::open(&path).await.unwrap()),
        KeyRing::new(MasterKey::from_base64(&key).unwrap()),
        ConnectorTypes::with_defaults(),
    )
    .unwrap();
    // Another instance over the same store, as behind a load balancer.
    let there = Registry::new(
        Arc::new(SqliteStore::open(&path).await.unwrap()),
        KeyRing::new(MasterKey::from_base64(&key).unwrap()),
        ConnectorTypes::with_defaults(),
    )
    .unwrap();
    let db = dir.path().join("shop.db");
    common::shop_database(&db);
    let shop = here
        .create_connector(
            "acme",
            NewConnector {
                name: "shop".into(),
                connector_type: "sqlite".into(),
                config: json!({"path": db.display().to_string()}),
                governance: governance(&[Read], None),
            },
            Origin::Operator,
        )
        .await
        .unwrap();
    here.put_agent("acme", "bot", "Bot").await.unwrap();
    here.grant("acme", "bot", &shop.id, [Read].into()).await.unwrap();
    let sql = json!({"sql": "SELECT count(*) AS n FROM orders"});
    here.call_tool("acme", "bot", "shop_query", sql.clone())
        .await
        .unwrap();
    there
        .call_tool("acme", "bot", "shop_query", sql.clone())
        .await
        .unwrap();

    // A revocation through a registry takes effect there at once.
    here.revoke("acme", "bot", &shop.id).await.unwrap();
    let refused = here
        .call_tool("acme", "bot", "shop_query", sql.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotFound, "{refused}");
    // The other instance sees it once its table is older than the TTL (2 s), never later.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let refused = there
        .call_tool("acme", "bot", "shop_query", sql)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::NotFound, "{refused}");
}
