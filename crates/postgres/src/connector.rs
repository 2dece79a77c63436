//! [`PostgresConnector`]: the typed API for Rust services that link this crate, and the [`Connector`]
//! implementation that registries and agents use. Both run the same code.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use tributary_core::{
    Access, Catalog, CheckReport, ConfigValues, Connector, ConnectorFactory, ConnectorSpec, Data, Error,
    HostAccess, OperationRequest, OperationSpec, Output, Plan, Result, ServerInfo,
};
use tributary_sql::operations::{
    self as sql_ops, DeleteParams, InsertParams, QueryParams, SqlRequest, UpdateParams, WriteRequest,
    write_output,
};
use tributary_sql::{CheckedStatements, Dialect};

use crate::config::{self, CONNECTOR_TYPE, PostgresConfig};
use crate::connection::Connections;
use crate::operations::Prepared;
use crate::operations::query;
use crate::operations::write::{self, PreparedWrite};
use crate::schema::{self, Scope};

/// A live connection pool to one PostgreSQL database.
pub struct PostgresConnector {
    config: PostgresConfig,
    connections: Connections,
    names: schema::NameCache,
    operations: Vec<OperationSpec>,
    /// The read statements the guard accepted, so a repeated query is checked once.
    statements: CheckedStatements,
}

impl PostgresConnector {
    /// Builds the connector, free to reach any host (a service's own configuration). Nothing connects
    /// until the first call; use [`PostgresConnector::check`] to test the connection.
    pub fn new(config: PostgresConfig) -> Result<PostgresConnector> {
        PostgresConnector::with_host(config, &HostAccess::unrestricted())
    }

    /// Builds the connector reaching the server only through `host`: every session the pool opens is
    /// resolved, checked and connected by it.
    pub fn with_host(config: PostgresConfig, host: &HostAccess) -> Result<PostgresConnector> {
        let connections = Connections::new(&config, host)?;
        let source = format!("PostgreSQL database at {}", crate::config::address(&config));
        Ok(PostgresConnector {
            operations: sql_ops::specs(&source),
            connections,
            names: schema::NameCache::default(),
            statements: CheckedStatements::new(Dialect::Postgres),
            config,
        })
    }

    /// Runs one read-only statement (checked by the guard) with bound `params`, returning at most
    /// `max_rows` rows (default and cap from the config). No policy is applied: the caller has decided.
    pub async fn query(&self, sql: &str, params: Vec<Value>, max_rows: Option<u64>) -> Result<Output> {
        let params = QueryParams {
            sql: sql.to_owned(),
            params,
            max_rows,
        };
        let limit = sql_ops::row_limit(params.max_rows, self.config.default_rows, self.config.max_rows)?;
        let budget = tributary_core::Budget::unbounded();
        let (prepared, _) = self.scrub(
            query::plan(
                &self.connections,
                &self.statements,
                &self.names,
                params,
                limit,
                budget,
            )
            .await,
        )?;
        self.scrub(query::run(&self.connections, &self.names, &prepared).await)
    }

    /// Inserts rows into `table` (as `list_objects` names it) in one transaction.
    pub async fn insert(&self, table: &str, rows: Vec<Map<String, Value>>) -> Result<u64> {
        self.write(WriteRequest::Insert(InsertParams {
            table: table.into(),
            rows,
        }))
        .await
    }

    /// Updates the rows of `table` that match `filter`.
    pub async fn update(
        &self,
        table: &str,
        set: Map<String, Value>,
        filter: Map<String, Value>,
    ) -> Result<u64> {
        self.write(WriteRequest::Update(UpdateParams {
            table: table.into(),
            set,
            filter,
        }))
        .await
    }

    /// Deletes the rows of `table` that match `filter`.
    pub async fn delete(&self, table: &str, filter: Map<String, Value>) -> Result<u64> {
        self.write(WriteRequest::Delete(DeleteParams {
            table: table.into(),
            filter,
        }))
        .await
    }

    async fn write(&self, request: WriteRequest) -> Result<u64> {
        let table = self.writable(request.table()).await?;
        self.scrub(write::run(&self.connections, &PreparedWrite { table, request }).await)
    }

    /// Describes one table or view with its columns and keys.
    pub async fn describe(&self, object: &str) -> Result<tributary_core::ObjectInfo> {
        let resolved = schema::resolve(&self.connections, object).await?;
        self.describe_resolved(&resolved).await
    }

    async fn describe_resolved(&self, resolved: &schema::Resolved) -> Result<tributary_core::ObjectInfo> {
        let catalog = schema::discover(&self.connections, Scope::Object(resolved.oid), true).await?;
        catalog
            .objects
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found(format!("`{}` no longer exists", resolved.name())))
    }

    async fn writable(&self, table: &str) -> Result<schema::Resolved> {
        if self.config.read_only {
            return Err(Error::permission_denied("this PostgreSQL connector is read-only")
                .with_hint("an administrator can turn off read_only in the connector's settings"));
        }
        schema::resolve(&self.connections, table).await
    }

    async fn probe(&self) -> Result<ServerInfo> {
        let client = self.connections.get().await?;
        let row = client
            .query_one(
                "SELECT current_setting('server_version'), current_database()::text, current_user::text",
                &[],
            )
            .await
            .map_err(|e| self.connections.error(&e))?;
        Ok(ServerInfo::new("PostgreSQL", Some(row.get(0)))
            .with_detail("database", row.get::<_, String>(1))
            .with_detail("user", row.get::<_, String>(2)))
    }

    /// Removes any configured secret from an error before it leaves the connector.
    fn scrub<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|error| error.redact(&self.config.secrets()))
    }
}

#[async_trait]
impl Connector for PostgresConnector {
    fn connector_type(&self) -> &str {
        CONNECTOR_TYPE
    }

    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }

    async fn check(&self) -> CheckReport {
        // A little longer than the connect timeout, so the pool's own timeout (with its clearer message)
        // fires first.
        let limit = self.config.connect_timeout() + Duration::from_secs(2);
        CheckReport::run(limit, async { self.scrub(self.probe().await) }).await
    }

    async fn discover(&self) -> Result<Catalog> {
        self.scrub(schema::discover(&self.connections, Scope::All, true).await)
    }

    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        self.operation(&request.operation)?;
        let planned: Result<(Access, Prepared)> = async {
            Ok(match SqlRequest::parse(&request)? {
                SqlRequest::Query(params) => {
                    let limit =
                        sql_ops::row_limit(params.max_rows, self.config.default_rows, self.config.max_rows)?;
                    let (prepared, objects) = query::plan(
                        &self.connections,
                        &self.statements,
                        &self.names,
                        params,
                        limit,
                        request.budget,
                    )
                    .await?;
                    (Access::read(objects), Prepared::Query(prepared))
                }
                SqlRequest::ListObjects(params) => (
                    Access::read(Vec::<String>::new()),
                    Prepared::ListObjects(params.schema),
                ),
                SqlRequest::DescribeObject(params) => {
                    let resolved = schema::resolve(&self.connections, &params.object).await?;
                    (Access::read([resolved.name()]), Prepared::Describe(resolved))
                }
                SqlRequest::Write(request) => {
                    let table = self.writable(request.table()).await?;
                    (
                        Access::write([table.name()]),
                        Prepared::Write(PreparedWrite { table, request }),
                    )
                }
            })
        }
        .await;
        let (access, prepared) = self.scrub(planned)?;
        Ok(Plan::new(request, access).with_prepared(prepared))
    }

    async fn execute(&self, mut plan: Plan) -> Result<Output> {
        let result = match plan.take_prepared::<Prepared>()? {
            Prepared::Query(prepared) => query::run(&self.connections, &self.names, &prepared).await,
            Prepared::ListObjects(schema_name) => {
                let scope = schema_name.as_deref().map_or(Scope::All, Scope::Schema);
                schema::discover(&self.connections, scope, false)
                    .await
                    .map(|catalog| Output::complete(Data::Catalog(catalog)))
            }
            Prepared::Describe(resolved) => self
                .describe_resolved(&resolved)
                .await
                .map(|object| Output::complete(Data::Object(Box::new(object)))),
            Prepared::Write(prepared) => write::run(&self.connections, &prepared).await.map(write_output),
        };
        self.scrub(result)
    }
}

impl std::fmt::Debug for PostgresConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConnector")
            .field("address", &crate::config::address(&self.config))
            .finish_non_exhaustive()
    }
}

/// Builds PostgreSQL connectors from validated configs.
#[derive(Debug, Default, Clone, Copy)]
pub struct PostgresFactory;

#[async_trait]
impl ConnectorFactory for PostgresFactory {
    fn spec(&self) -> ConnectorSpec {
        config::spec()
    }

    async fn build(&self, config: ConfigValues, host: &HostAccess) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(PostgresConnector::with_host(
            PostgresConfig::from_values(&config)?,
            host,
        )?))
    }
}
