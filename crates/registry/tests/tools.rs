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
    assert_eq!((truncation.returned, truncation.omitted), (2, Some(1)));
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
