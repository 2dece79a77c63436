//! Writing a connector against the Tributary contract, and using it the way a host does.
//!
//! `cargo run --example custom_connector` builds an in-memory "notes" connector from a validated config,
//! checks it, discovers its schema, and runs calls through an access policy: a read that is allowed, a
//! write that a read-only policy refuses before it reaches the data, and a read cut short by its limit.
//! Each step prints the JSON an agent or the console would see, and the example fails (non-zero exit) if
//! any step does not behave as the contract says.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use tributary::core::HostAccess;
use tributary::core::spec::{ConnectorSpec, FieldSpec};
use tributary::core::{
    Access, AccessClass, AccessPolicy, Catalog, CheckReport, Column, ConfigValues, Connector,
    ConnectorFactory, Data, DataType, Error, FieldInfo, ObjectInfo, ObjectKind, ObjectRules,
    OperationRequest, OperationSpec, Output, Plan, Result, RowSet, Secret, ServerInfo, Truncation,
    TruncationReason, WriteSummary, parse_params,
};

/// The typed configuration; `api_key` is a [`Secret`], so printing the config never shows it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotesConfig {
    namespace: String,
    api_key: Secret,
    max_rows: u64,
}

/// Parameters of `list_notes`; the operation's JSON Schema is generated from this type.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only notes whose key starts with this prefix.
    #[serde(default)]
    prefix: String,
    /// At most this many notes (capped by the connector's `max_rows`).
    limit: Option<u64>,
}

/// Parameters of `put_note`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PutParams {
    /// The note's key.
    key: String,
    /// The note's text.
    text: String,
}

/// The connector: a map of notes behind the contract.
struct NotesConnector {
    config: NotesConfig,
    notes: RwLock<BTreeMap<String, String>>,
    operations: Vec<OperationSpec>,
}

impl NotesConnector {
    /// The object name a note key is checked under: `<namespace>/<key>`.
    fn object(&self, key: &str) -> String {
        format!("{}/{key}", self.config.namespace)
    }
}

#[async_trait]
impl Connector for NotesConnector {
    fn connector_type(&self) -> &str {
        "notes"
    }

    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }

    async fn check(&self) -> CheckReport {
        let authenticated = !self.config.api_key.is_empty();
        CheckReport::run(Duration::from_secs(2), async move {
            if authenticated {
                Ok(ServerInfo::new("Notes", Some("1.0".into())).with_detail("storage", "memory"))
            } else {
                Err(Error::new(
                    tributary::ErrorKind::Authentication,
                    "the API key is empty",
                ))
            }
        })
        .await
    }

    async fn discover(&self) -> Result<Catalog> {
        let mut notes = ObjectInfo::new(self.object("*"), ObjectKind::Table);
        notes.namespace = Some(self.config.namespace.clone());
        notes.fields = vec![
            FieldInfo::new("key", DataType::String, "text"),
            FieldInfo::new("text", DataType::String, "text"),
        ];
        notes.primary_key = vec!["key".into()];
        Ok(Catalog {
            objects: vec![notes],
            truncated: false,
        })
    }

    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        let access = match self.operation(&request.operation)?.name.as_str() {
            "list_notes" => Access::read([self.object(&format!(
                "{}*",
                parse_params::<ListParams>(&request.params)?.prefix
            ))]),
            _ => Access::write([self.object(&parse_params::<PutParams>(&request.params)?.key)]),
        };
        Ok(Plan::new(request, access))
    }

    async fn execute(&self, plan: Plan) -> Result<Output> {
        match plan.request().operation.as_str() {
            "list_notes" => {
                let params: ListParams = parse_params(&plan.request().params)?;
                let limit = params
                    .limit
                    .unwrap_or(self.config.max_rows)
                    .min(self.config.max_rows);
                let store = self
                    .notes
                    .read()
                    .map_err(|_| Error::internal("the notes store is unusable"))?;
                let matching: Vec<(&String, &String)> = store
                    .iter()
                    .filter(|(key, _)| key.starts_with(&params.prefix))
                    .collect();
                let rows: Vec<Vec<Value>> = matching
                    .iter()
                    .take(limit as usize)
                    .map(|(k, t)| vec![json!(k), json!(t)])
                    .collect();
                let columns = ["key", "text"]
                    .map(|name| Column {
                        name: name.into(),
                        data_type: DataType::String,
                        native_type: "text".into(),
                    })
                    .to_vec();
                let returned = rows.len() as u64;
                let data = Data::Rows(RowSet { columns, rows });
                let omitted = matching.len() as u64 - returned;
                let cut = Truncation::new(TruncationReason::RowLimit, limit, returned, Some(omitted));
                Ok(Output::bounded(data, (omitted > 0).then_some(cut)))
            }
            _ => {
                let params: PutParams = parse_params(&plan.request().params)?;
                let mut store = self
                    .notes
                    .write()
                    .map_err(|_| Error::internal("the notes store is unusable"))?;
                store.insert(params.key, params.text);
                Ok(Output::complete(Data::Write(WriteSummary {
                    affected: 1,
                    items: vec![],
                })))
            }
        }
    }
}

/// Builds notes connectors; a registry keeps one factory per connector type.
struct NotesFactory;

#[async_trait]
impl ConnectorFactory for NotesFactory {
    fn spec(&self) -> ConnectorSpec {
        ConnectorSpec::new("notes", "Notes", "Short notes kept in memory.")
            .field(
                FieldSpec::string("namespace", "Namespace")
                    .required()
                    .help("Prefix of every note's object name."),
            )
            .field(
                FieldSpec::string("api_key", "API key")
                    .secret()
                    .required()
                    .help("The key the notes service issued."),
            )
            .field(
                FieldSpec::integer("max_rows", "Maximum rows")
                    .range(1, 10_000)
                    .default_value(2),
            )
    }

    // An in-memory connector reaches nothing on the host, so it has no use for `host`; a connector that
    // opens files or sockets does so only through it.
    async fn build(&self, config: ConfigValues, _host: &HostAccess) -> Result<Arc<dyn Connector>> {
        let config: NotesConfig = config.deserialize()?;
        let seed = [
            ("groceries", "milk, eggs"),
            ("ideas", "write a connector"),
            ("intro", "hello"),
        ];
        Ok(Arc::new(NotesConnector {
            config,
            notes: RwLock::new(seed.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            operations: vec![
                OperationSpec::read::<ListParams>("list_notes", "List notes whose key starts with a prefix."),
                OperationSpec::write::<PutParams>("put_note", "Create or replace one note.").idempotent(),
            ],
        }))
    }
}

fn show(title: &str, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::internal(e.to_string()))?;
    println!("== {title}\n{text}\n");
    Ok(())
}

fn expect(condition: bool, what: &str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::internal(format!("the example went wrong: {what}")))
    }
}

#[tokio::main]
async fn main() -> std::result::Result<(), Error> {
    let factory = NotesFactory;
    let spec = factory.spec();
    show("config form (JSON Schema)", &spec.json_schema())?;

    let invalid = spec
        .validate(&json!({"max_rows": 0, "api_key": "sk-live-123"}))
        .err();
    let invalid = invalid.ok_or_else(|| Error::internal("an invalid config was accepted"))?;
    show("invalid config", &invalid)?;
    expect(
        !serde_json::to_string(&invalid)
            .unwrap_or_default()
            .contains("sk-live-123"),
        "secret in error",
    )?;

    let raw = json!({"namespace": "team", "api_key": "sk-live-123"});
    let values = spec.validate(&raw)?;
    show(
        "stored view of the config (secrets redacted)",
        &spec.redact(values.expose()),
    )?;
    let connector = factory.build(values, &HostAccess::unrestricted()).await?;

    let report = connector.check().await;
    show("connection check", &report)?;
    expect(report.is_connected(), "check failed")?;
    show("catalog", &connector.discover().await?)?;

    let read_only = AccessPolicy::new([AccessClass::Read], ObjectRules::only(["team/*"])?);
    let listed = connector
        .call(
            OperationRequest::new("list_notes", json!({"prefix": "i"})),
            &read_only,
        )
        .await?;
    show("list_notes, prefix i", &listed)?;
    expect(!listed.is_truncated(), "two notes fit in the default limit")?;

    let everything = connector
        .call(OperationRequest::new("list_notes", json!({})), &read_only)
        .await?;
    show("list_notes, everything (limit 2)", &everything)?;
    expect(
        everything.truncation.as_ref().and_then(|t| t.omitted) == Some(1),
        "one note left out",
    )?;

    let write = OperationRequest::new("put_note", json!({"key": "x", "text": "overwrite"}));
    let denied = connector.call(write, &read_only).await.err();
    let denied = denied.ok_or_else(|| Error::internal("a write passed a read-only policy"))?;
    show("put_note under a read-only policy", &denied)?;
    expect(
        denied.kind() == tributary::ErrorKind::PermissionDenied,
        "wrong error kind",
    )?;
    println!(
        "The contract held: validated config, live check, discovery, allowed read, truncation, denied write."
    );
    Ok(())
}
