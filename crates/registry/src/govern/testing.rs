//! What the layers' unit tests share: a connector of this crate's own whose answers and failures the test
//! chooses, and a call context on it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tributary_core::{
    Access, AccessClass, Catalog, CheckReport, Connector, Data, Error, OperationRequest, OperationSpec,
    Output, Plan, Result, WriteSummary,
};
use tributary_mask::MaskReport;

use crate::crypto::Sealed;
use crate::govern::layer::{CallContext, CallResult, Layer, Next};
use crate::model::{Agent, ConnectorDefinition, Governance, Grant, Status};

#[derive(Deserialize, JsonSchema)]
struct Params {}

/// A source whose reads answer `rows` (one email each) and whose writes affect one row. The first
/// `failures` executions fail with `failure`.
pub(crate) struct Source {
    operations: Vec<OperationSpec>,
    pub(crate) executed: AtomicU32,
    pub(crate) failures: AtomicU32,
    pub(crate) failure: Mutex<Option<Error>>,
    pub(crate) rows: usize,
}

impl Source {
    pub(crate) fn new(rows: usize) -> Arc<Source> {
        Arc::new(Source {
            operations: vec![
                OperationSpec::read::<Params>("read", "Read."),
                OperationSpec::write::<Params>("write", "Write."),
            ],
            executed: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            failure: Mutex::new(None),
            rows,
        })
    }

    /// The next `times` executions fail with `error`.
    pub(crate) fn fail(&self, times: u32, error: Error) {
        self.failures.store(times, Ordering::SeqCst);
        *self.failure.lock().unwrap() = Some(error);
    }

    pub(crate) fn executed(&self) -> u32 {
        self.executed.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Connector for Source {
    fn connector_type(&self) -> &str {
        "source"
    }
    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }
    async fn check(&self) -> CheckReport {
        CheckReport::from_result(Ok(tributary_core::ServerInfo::new("source", None)), 0.1)
    }
    async fn discover(&self) -> Result<Catalog> {
        Ok(Catalog::default())
    }
    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        let spec = self.operation(&request.operation)?.clone();
        Ok(Plan::new(request, Access::new(spec.access, ["people"])))
    }
    async fn execute(&self, plan: Plan) -> Result<Output> {
        self.executed.fetch_add(1, Ordering::SeqCst);
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            let failure = self.failure.lock().unwrap();
            let error = failure.as_ref().unwrap();
            return Err(
                Error::new(error.kind(), error.message().to_owned()).with_retryable(error.is_retryable())
            );
        }
        if plan.request().operation == "write" {
            return Ok(Output::complete(Data::Write(WriteSummary {
                affected: 1,
                items: vec![],
            })));
        }
        let records = (0..self.rows)
            .map(|index| {
                json!({"id": index, "email": format!("person{index}@example.com")})
                    .as_object()
                    .cloned()
                    .unwrap()
            })
            .collect();
        Ok(Output::complete(Data::Records { records }))
    }
}

/// A context for `operation` on `source`, by an agent granted `grant` (none: no grant), under `governance`.
pub(crate) fn context(
    source: &Arc<Source>,
    operation: &str,
    governance: Governance,
    grant: Option<&[AccessClass]>,
) -> CallContext {
    CallContext {
        agent: Agent {
            uid: "agt_1".into(),
            id: "bot".into(),
            organization: "acme".into(),
            name: "Bot".into(),
        },
        definition: Arc::new(ConnectorDefinition {
            id: "con_1".into(),
            organization: "acme".into(),
            name: "people".into(),
            connector_type: "source".into(),
            status: Status::Connected,
            origin: crate::model::Origin::Operator,
            config: Sealed {
                key_id: String::new(),
                nonce: String::new(),
                ciphertext: String::new(),
            },
            governance,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            last_test: None,
        }),
        grant: grant.map(|operations| Grant {
            agent: "agt_1".into(),
            connector: "con_1".into(),
            operations: operations.iter().copied().collect(),
        }),
        connector: source.clone(),
        request: OperationRequest::new(operation, Value::Object(Default::default())),
        plan: None,
        access: None,
        started: Instant::now(),
        cached: false,
        masked: MaskReport::default(),
        secrets: Arc::from(["hunter2-secret".to_owned()]),
    }
}

/// Governance that allows reads and writes, masks, audits and caches nothing.
pub(crate) fn open_governance() -> Governance {
    Governance {
        allowed_operations: [AccessClass::Read, AccessClass::Write].into(),
        ..Governance::default()
    }
}

/// Plans `context` the way the plan layer does.
pub(crate) async fn planned(mut context: CallContext) -> CallContext {
    let plan = context.connector.plan(context.request.clone()).await.unwrap();
    context.access = Some(plan.access().clone());
    context.plan = Some(plan);
    context
}

/// A layer that notes its name in `log` on the way in and out.
pub(crate) struct Recorder {
    pub(crate) name: &'static str,
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Layer for Recorder {
    fn name(&self) -> &'static str {
        self.name
    }
    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        self.log.lock().unwrap().push(format!("{} in", self.name));
        let result = next.run(context).await;
        self.log.lock().unwrap().push(format!("{} out", self.name));
        result
    }
}
