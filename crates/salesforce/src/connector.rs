//! [`SalesforceConnector`]: the typed API for Rust services that link this crate, and the [`Connector`]
//! implementation that registries and agents use. Both run the same code.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Map, Value};
use tributary_core::{
    Access, AccessClass, Catalog, CheckReport, ConfigValues, Connector, ConnectorFactory, ConnectorSpec,
    Data, Error, HostAccess, ObjectInfo, OperationRequest, OperationSpec, Output, Plan, Result, ServerInfo,
    parse_params,
};

use crate::config::{self, CONNECTOR_TYPE, SalesforceConfig};
use crate::connection::{ApiUsage, Session};
use crate::operations::records::{WriteRequest, check_count, check_fields, check_id};
use crate::operations::{
    self, CreateParams, DeleteParams, DescribeObjectParams, GetRecordParams, ListObjectsParams, Prepared,
    SoqlQueryParams, UpdateParams, UpsertParams,
};
use crate::schema::{self, Describer, SObjectSummary};
use crate::soql;

/// One Salesforce org, as one user or connected app.
pub struct SalesforceConnector {
    pub(crate) config: Arc<SalesforceConfig>,
    pub(crate) session: Session,
    describer: Describer,
    operations: Vec<OperationSpec>,
}

impl SalesforceConnector {
    /// Builds the connector, free to reach any host (a service's own configuration). Nothing is contacted
    /// until the first call; use [`Connector::check`] to test the credentials.
    pub fn new(config: SalesforceConfig) -> Result<SalesforceConnector> {
        SalesforceConnector::with_host(config, &HostAccess::unrestricted())
    }

    /// Builds the connector reaching Salesforce only through `host`: the login host is checked now, and
    /// every host it connects to (the instance the token endpoint names included) when it connects.
    pub fn with_host(config: SalesforceConfig, host: &HostAccess) -> Result<SalesforceConnector> {
        let config = Arc::new(config);
        Ok(SalesforceConnector {
            session: Session::new(config.clone(), host)?,
            describer: Describer::new(config.describe_ttl()),
            operations: operations::specs(),
            config,
        })
    }

    /// Runs a SOQL query, returning at most `max_rows` records (the configured default when `None`).
    pub async fn query(&self, soql: &str, max_rows: Option<u64>) -> Result<Output> {
        let (soql, limit, _) = self
            .plan_query(SoqlQueryParams {
                soql: soql.to_owned(),
                max_rows,
            })
            .await?;
        self.run_query(&soql, limit, &tributary_core::Budget::unbounded())
            .await
    }

    /// `SELECT fields FROM object WHERE field = value AND ...`, built safely from a caller's input: the
    /// object and every field name are checked against describe (and spelled as Salesforce spells them),
    /// every value is escaped, and nothing is concatenated raw.
    pub async fn find(
        &self,
        object: &str,
        fields: &[&str],
        equals: &[(&str, Value)],
        max_rows: Option<u64>,
    ) -> Result<Output> {
        let object = self.describer.resolve(&self.session, object).await?.name;
        let known = self.describer.field_names(&self.session, &object).await?;
        let canonical = |field: &str| {
            known
                .iter()
                .find(|name| name.eq_ignore_ascii_case(field))
                .cloned()
                .ok_or_else(|| {
                    Error::invalid_input(format!("`{object}` has no field `{field}`"))
                        .with_hint("describe_object lists the object's fields")
                })
        };
        let fields = fields
            .iter()
            .map(|field| canonical(field))
            .collect::<Result<Vec<_>>>()?;
        let mut query = soql::Soql::select(&fields, &object)?;
        for (field, value) in equals {
            query = query.where_eq(&canonical(field)?, value)?;
        }
        self.query(&query.build(), max_rows).await
    }

    /// One record by id.
    pub async fn get_record(&self, object: &str, id: &str, fields: Option<&[String]>) -> Result<Value> {
        let object = self.describer.resolve(&self.session, object).await?.name;
        check_id(id)?;
        self.fetch_record(&object, id, fields).await
    }

    /// The org's objects.
    pub async fn list_objects(&self) -> Result<Arc<Vec<SObjectSummary>>> {
        self.describer.objects(&self.session).await
    }

    /// One object's fields.
    pub async fn describe_object(&self, object: &str) -> Result<ObjectInfo> {
        let object = self.describer.resolve(&self.session, object).await?.name;
        Ok(schema::object_info(
            &*self.describer.describe(&self.session, &object).await?,
        ))
    }

    /// Creates records, 200 per request; each record's outcome is in the summary's items.
    pub async fn create(
        &self,
        object: &str,
        records: Vec<Map<String, Value>>,
    ) -> Result<tributary_core::WriteSummary> {
        let request = self
            .plan_write(WriteRequest::Create {
                object: object.to_owned(),
                records,
            })
            .await?;
        self.run_write(request).await
    }

    /// The API usage Salesforce reported on the last call (`Sforce-Limit-Info`).
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.session.usage()
    }

    /// How many access tokens this connector has obtained (the first, plus one per renewal).
    pub fn tokens_obtained(&self) -> u64 {
        self.session.tokens_obtained()
    }

    /// The HTTP client, for running the web-server flow with the same settings and host policy.
    pub fn http_client(&self) -> &tributary_http::HttpClient {
        self.session.http()
    }

    /// Checks a query and resolves the objects it reads (child relationships through describe).
    async fn plan_query(&self, params: SoqlQueryParams) -> Result<(String, u64, Vec<String>)> {
        let limit = params.max_rows.unwrap_or(self.config.default_rows);
        if limit == 0 || limit > self.config.max_rows {
            return Err(Error::invalid_input(format!(
                "max_rows must be 1 to {}",
                self.config.max_rows
            )));
        }
        let found = soql::referenced_objects(&params.soql)?;
        let mut objects = Vec::new();
        for name in &found.objects {
            objects.push(self.describer.resolve(&self.session, name).await?.name);
        }
        let main = objects.first().cloned().unwrap_or_default();
        for relationship in &found.relationships {
            objects.push(
                self.describer
                    .child_object(&self.session, &main, relationship)
                    .await?,
            );
        }
        for path in &found.parent_paths {
            objects.extend(self.describer.parent_objects(&self.session, &main, path).await?);
        }
        Ok((params.soql, limit, objects))
    }

    /// Checks a write: the object exists, every field name is one of its fields, ids look like ids.
    async fn plan_write(&self, request: WriteRequest) -> Result<WriteRequest> {
        if self.config.read_only {
            return Err(Error::permission_denied("this Salesforce connector is read-only")
                .with_hint("an administrator can turn off read_only in the connector's settings"));
        }
        let object = self
            .describer
            .resolve(&self.session, request.object())
            .await?
            .name;
        let known = || self.describer.field_names(&self.session, &object);
        Ok(match request {
            WriteRequest::Create { records, .. } => {
                check_count(records.len())?;
                check_fields(&records, &known().await?, &object)?;
                WriteRequest::Create { object, records }
            }
            WriteRequest::Update { records, .. } => {
                check_count(records.len())?;
                check_fields(&records, &known().await?, &object)?;
                for record in &records {
                    let id = record.get("Id").and_then(Value::as_str).unwrap_or_default();
                    check_id(id).map_err(|_| Error::invalid_input("every record to update needs its Id"))?;
                }
                WriteRequest::Update { object, records }
            }
            WriteRequest::Delete { ids, .. } => {
                check_count(ids.len())?;
                ids.iter().try_for_each(|id| check_id(id))?;
                WriteRequest::Delete { object, ids }
            }
            WriteRequest::Upsert {
                external_id_field,
                records,
                ..
            } => {
                check_count(records.len())?;
                let known = known().await?;
                check_fields(&records, &known, &object)?;
                let field = known
                    .iter()
                    .find(|name| name.eq_ignore_ascii_case(&external_id_field))
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid_input(format!("`{object}` has no field `{external_id_field}`"))
                    })?;
                WriteRequest::Upsert {
                    object,
                    external_id_field: field,
                    records,
                }
            }
        })
    }

    async fn probe(&self) -> Result<ServerInfo> {
        let token = self.session.token().await?;
        let limits = self
            .session
            .send(Method::GET, &self.session.data_path("limits/"), &[], None)
            .await?;
        let mut info = ServerInfo::new("Salesforce", Some(self.config.api_version.clone()))
            .with_detail("instance_url", token.instance_url.clone());
        if let Some(org) = token.org_id() {
            info = info.with_detail("org_id", org);
        }
        if let Some(usage) = self.session.usage() {
            info = info.with_detail("api_usage", format!("{}/{}", usage.used, usage.limit));
        }
        if let Some(daily) = limits.body.get("DailyApiRequests") {
            info = info.with_detail("daily_api_requests", daily.clone());
        }
        Ok(info)
    }
}

#[async_trait]
impl Connector for SalesforceConnector {
    fn connector_type(&self) -> &str {
        CONNECTOR_TYPE
    }

    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }

    async fn check(&self) -> CheckReport {
        let bound = self.config.connect_timeout()
            + std::time::Duration::from_secs(self.config.request_timeout_seconds.min(30));
        CheckReport::run(bound, self.probe()).await
    }

    async fn discover(&self) -> Result<Catalog> {
        Ok(schema::catalog(&self.describer.objects(&self.session).await?))
    }

    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        let spec = self.operation(&request.operation)?;
        let params = &request.params;
        let (access, prepared) = match spec.name.as_str() {
            "soql_query" => {
                let (soql, limit, objects) = self.plan_query(parse_params(params)?).await?;
                (Access::read(objects), Prepared::Query { soql, limit })
            }
            "get_record" => {
                let params: GetRecordParams = parse_params(params)?;
                let object = self.describer.resolve(&self.session, &params.object).await?.name;
                check_id(&params.id)?;
                if let Some(fields) = &params.fields {
                    let known = self.describer.field_names(&self.session, &object).await?;
                    for field in fields {
                        soql::check_identifier(field, "field")?;
                        if !known.iter().any(|name| name.eq_ignore_ascii_case(field)) {
                            return Err(Error::invalid_input(format!("`{object}` has no field `{field}`")));
                        }
                    }
                }
                (
                    Access::read([object.clone()]),
                    Prepared::GetRecord {
                        object,
                        id: params.id,
                        fields: params.fields,
                    },
                )
            }
            "describe_object" => {
                let params: DescribeObjectParams = parse_params(params)?;
                let object = self.describer.resolve(&self.session, &params.object).await?.name;
                (Access::read([object.clone()]), Prepared::Describe(object))
            }
            "list_objects" => {
                let _: ListObjectsParams = parse_params(params)?;
                (Access::read(Vec::<String>::new()), Prepared::ListObjects)
            }
            name => {
                let request = match name {
                    "create_record" => {
                        let p: CreateParams = parse_params(params)?;
                        WriteRequest::Create {
                            object: p.object,
                            records: p.records,
                        }
                    }
                    "update_record" => {
                        let p: UpdateParams = parse_params(params)?;
                        WriteRequest::Update {
                            object: p.object,
                            records: p.records,
                        }
                    }
                    "delete_record" => {
                        let p: DeleteParams = parse_params(params)?;
                        WriteRequest::Delete {
                            object: p.object,
                            ids: p.ids,
                        }
                    }
                    _ => {
                        let p: UpsertParams = parse_params(params)?;
                        WriteRequest::Upsert {
                            object: p.object,
                            external_id_field: p.external_id_field,
                            records: p.records,
                        }
                    }
                };
                let request = self.plan_write(request).await?;
                (
                    Access::new(AccessClass::Write, [request.object().to_owned()]),
                    Prepared::Write(request),
                )
            }
        };
        Ok(Plan::new(request, access).with_prepared(prepared))
    }

    async fn execute(&self, mut plan: Plan) -> Result<Output> {
        let budget = plan.request().budget;
        match plan.take_prepared::<Prepared>()? {
            Prepared::Query { soql, limit } => {
                let limit = budget.row_limit(limit);
                self.run_query(&soql, limit, &budget).await
            }
            Prepared::GetRecord { object, id, fields } => {
                let record = self.fetch_record(&object, &id, fields.as_deref()).await?;
                Ok(Output::complete(Data::Document { document: record }))
            }
            Prepared::Describe(object) => {
                let describe = self.describer.describe(&self.session, &object).await?;
                Ok(Output::complete(Data::Object(Box::new(schema::object_info(
                    &describe,
                )))))
            }
            Prepared::ListObjects => Ok(Output::complete(Data::Catalog(self.discover().await?))),
            Prepared::Write(request) => Ok(Output::complete(Data::Write(self.run_write(request).await?))),
        }
    }
}

impl std::fmt::Debug for SalesforceConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceConnector")
            .field("login_host", &self.config.login_host)
            .field("grant", &self.config.grant)
            .field("read_only", &self.config.read_only)
            .finish()
    }
}

/// Builds Salesforce connectors from validated configs.
#[derive(Debug, Default, Clone, Copy)]
pub struct SalesforceFactory;

#[async_trait]
impl ConnectorFactory for SalesforceFactory {
    fn spec(&self) -> ConnectorSpec {
        config::spec()
    }

    async fn build(&self, config: ConfigValues, host: &HostAccess) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(SalesforceConnector::with_host(
            SalesforceConfig::from_values(&config)?,
            host,
        )?))
    }
}
