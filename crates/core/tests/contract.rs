//! The contract as a host uses it: connectors of different types behind `Arc<dyn Connector>`, built by a
//! factory from a validated config, planned, checked against a policy, and executed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use tributary_core::HostAccess;
use tributary_core::spec::{ConnectorSpec, FieldSpec};
use tributary_core::{
    Access, AccessClass, AccessPolicy, Catalog, CheckReport, ConfigValues, Connector, ConnectorFactory, Data,
    DataType, ErrorKind, FieldInfo, ObjectInfo, ObjectKind, ObjectRules, OperationRequest, OperationSpec,
    Output, Plan, Result, RowSet, Secret, ServerInfo, WriteSummary, parse_params,
};

/// A connector over a fixed table that counts how often it really executes.
struct Fixed {
    operations: Vec<OperationSpec>,
    executed: AtomicUsize,
    check_delay: Duration,
    token: Secret,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReadParams {
    table: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct WriteParams {
    table: String,
    value: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixedConfig {
    token: Secret,
    check_delay_ms: u64,
}

#[async_trait]
impl Connector for Fixed {
    fn connector_type(&self) -> &str {
        "fixed"
    }

    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }

    async fn check(&self) -> CheckReport {
        let delay = self.check_delay;
        CheckReport::run(Duration::from_millis(200), async move {
            tokio::time::sleep(delay).await;
            Ok(ServerInfo::new("Fixed", Some("1.0".into())))
        })
        .await
    }

    async fn discover(&self) -> Result<Catalog> {
        let mut table = ObjectInfo::new("main.numbers", ObjectKind::Table);
        table.fields.push(FieldInfo::new("n", DataType::Integer, "int"));
        Ok(Catalog {
            objects: vec![table],
            truncated: false,
        })
    }

    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        let spec = self.operation(&request.operation)?;
        let access = match spec.access {
            AccessClass::Read => Access::read([parse_params::<ReadParams>(&request.params)?.table]),
            AccessClass::Write => Access::write([parse_params::<WriteParams>(&request.params)?.table]),
        };
        Ok(Plan::new(request, access).with_prepared(self.token.expose().len()))
    }

    async fn execute(&self, mut plan: Plan) -> Result<Output> {
        let _token_len: usize = plan.take_prepared()?;
        self.executed.fetch_add(1, Ordering::SeqCst);
        Ok(Output::complete(match plan.access().class {
            AccessClass::Read => Data::Rows(RowSet {
                columns: vec![],
                rows: vec![vec![json!(1)]],
            }),
            AccessClass::Write => {
                let params: WriteParams = parse_params(&plan.request().params)?;
                Data::Write(WriteSummary {
                    affected: 1,
                    items: vec![json!({ "value": params.value })],
                })
            }
        }))
    }
}

struct FixedFactory;

#[async_trait]
impl ConnectorFactory for FixedFactory {
    fn spec(&self) -> ConnectorSpec {
        ConnectorSpec::new("fixed", "Fixed table", "A table of numbers, for tests.")
            .field(FieldSpec::string("token", "Token").secret().required())
            .field(
                FieldSpec::integer("check_delay_ms", "Check delay")
                    .range(0, 10_000)
                    .default_value(0),
            )
    }

    async fn build(&self, config: ConfigValues, _host: &HostAccess) -> Result<Arc<dyn Connector>> {
        let config: FixedConfig = config.deserialize()?;
        Ok(Arc::new(Fixed {
            operations: vec![
                OperationSpec::read::<ReadParams>("read", "Read a table."),
                OperationSpec::write::<WriteParams>("write", "Write a value.").destructive(),
            ],
            executed: AtomicUsize::new(0),
            check_delay: Duration::from_millis(config.check_delay_ms),
            token: config.token,
        }))
    }
}

async fn build(config: serde_json::Value) -> Result<Arc<dyn Connector>> {
    let factory: Box<dyn ConnectorFactory> = Box::new(FixedFactory);
    let values = factory.spec().validate(&config)?;
    factory.build(values, &HostAccess::unrestricted()).await
}

#[tokio::test]
async fn factory_validates_before_building() {
    let error = build(json!({"check_delay_ms": 99_999}))
        .await
        .err()
        .expect("invalid config");
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    let fields: Vec<&str> = error.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["token", "check_delay_ms"]);
    let connector = build(json!({"token": "t0ken"})).await.unwrap();
    assert_eq!(connector.connector_type(), "fixed");
    assert_eq!(connector.operation("write").unwrap().access, AccessClass::Write);
    assert!(connector.operation("write").unwrap().destructive);
}

#[tokio::test]
async fn call_refuses_denied_access_before_executing() {
    let fixed = Arc::new(Fixed {
        operations: vec![
            OperationSpec::read::<ReadParams>("read", "Read a table."),
            OperationSpec::write::<WriteParams>("write", "Write a value."),
        ],
        executed: AtomicUsize::new(0),
        check_delay: Duration::ZERO,
        token: Secret::new("t"),
    });
    let connector: Arc<dyn Connector> = fixed.clone();
    let read_only = AccessPolicy::new([AccessClass::Read], ObjectRules::only(["main.*"]).unwrap());

    let output = connector
        .call(
            OperationRequest::new("read", json!({"table": "main.numbers"})),
            &read_only,
        )
        .await;
    assert!(matches!(output.unwrap().data, Data::Rows(_)));
    assert_eq!(fixed.executed.load(Ordering::SeqCst), 1);

    let write = OperationRequest::new("write", json!({"table": "main.numbers", "value": 2}));
    let error = connector.call(write, &read_only).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    let other = OperationRequest::new("read", json!({"table": "secret.keys"}));
    let error = connector.call(other, &read_only).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    assert!(error.message().contains("secret.keys"), "{error}");
    assert_eq!(
        fixed.executed.load(Ordering::SeqCst),
        1,
        "denied calls never reach execute"
    );

    let error = connector
        .call(OperationRequest::new("drop", json!({})), &read_only)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert!(error.message().contains("they offer: read, write"), "{error}");
    let error = connector
        .call(OperationRequest::new("read", json!({"tabel": "x"})), &read_only)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert_eq!(fixed.executed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connectors_of_any_type_share_one_collection() {
    let fast = build(json!({"token": "a"})).await.unwrap();
    let slow = build(json!({"token": "b", "check_delay_ms": 5_000}))
        .await
        .unwrap();
    let all: Vec<Arc<dyn Connector>> = vec![fast, slow];
    let started = Instant::now();
    let reports = check_one_by_one(&all).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a slow server must not hold the check past its timeout"
    );
    assert!(reports[0].is_connected());
    assert_eq!(reports[1].error.as_ref().unwrap().kind, ErrorKind::Timeout);
    let catalog = all[0].discover().await.unwrap();
    assert_eq!(
        catalog.object("main.numbers").unwrap().fields[0].data_type,
        DataType::Integer
    );
}

async fn check_one_by_one(connectors: &[Arc<dyn Connector>]) -> Vec<CheckReport> {
    let mut reports = Vec::new();
    for connector in connectors {
        reports.push(connector.check().await);
    }
    reports
}
