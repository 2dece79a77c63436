//! [`MysqlConnector`]: the typed API for Rust services that link this crate, and the [`Connector`]
//! implementation that registries and agents use. Both run the same code.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use serde_json::{Map, Value};
use tributary_core::{
    Access, Catalog, CheckReport, ConfigValues, Connector, ConnectorFactory, ConnectorSpec, Data, Error,
    HostAccess, ObjectInfo, OperationRequest, OperationSpec, Output, Plan, Result, ServerInfo,
};
use tributary_sql::operations::{
    self as sql_ops, DeleteParams, InsertParams, QueryParams, SqlRequest, UpdateParams, WriteRequest,
    write_output,
};
use tributary_sql::{CheckedStatements, Dialect};

use crate::config::{self, CONNECTOR_TYPE, MysqlConfig};
use crate::connection::{Connections, Flavor};
use crate::operations::Prepared;
use crate::operations::query;
use crate::operations::write::{self, PreparedWrite};
use crate::schema;

/// A live connection pool to one MySQL or MariaDB database.
pub struct MysqlConnector {
    config: MysqlConfig,
    connections: Connections,
    operations: Vec<OperationSpec>,
    /// The read statements the guard accepted, so a repeated query is checked once.
    statements: CheckedStatements,
}

impl MysqlConnector {
    /// Builds the connector, free to reach any host (a service's own configuration). Nothing connects
    /// until the first call; use [`Connector::check`] to test the connection.
    pub fn new(config: MysqlConfig) -> Result<MysqlConnector> {
        MysqlConnector::with_host(config, &HostAccess::unrestricted())
    }

    /// Builds the connector reaching the server only through `host`: the server's name is resolved and
    /// checked by it when the pool is created, and every connection goes to a checked address.
    pub fn with_host(config: MysqlConfig, host: &HostAccess) -> Result<MysqlConnector> {
        let connections = Connections::new(&config, host)?;
        let operations = sql_ops::specs(&format!(
            "MySQL database `{}` at {}",
            connections.database(),
            crate::config::address(&config)
        ));
        Ok(MysqlConnector {
            config,
            connections,
            operations,
            statements: CheckedStatements::new(Dialect::MySql),
        })
    }

    /// Runs one read-only statement (checked by the guard) with bound `params`. No policy is applied: the
    /// caller has decided.
    pub async fn query(&self, sql: &str, params: Vec<Value>, max_rows: Option<u64>) -> Result<Output> {
        let limit = sql_ops::row_limit(max_rows, self.config.default_rows, self.config.max_rows)?;
        let (prepared, _) = query::plan(
            &self.connections,
            &self.statements,
            QueryParams {
                sql: sql.into(),
                params,
                max_rows,
            },
            limit,
            tributary_core::Budget::unbounded(),
        )?;
        self.scrub(query::run(&self.connections, &prepared).await)
    }

    /// Inserts rows into `table` in one transaction.
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

    /// Describes one table or view.
    pub async fn describe(&self, object: &str) -> Result<ObjectInfo> {
        let name = self.scrub(schema::resolve(&self.connections, object).await)?;
        self.describe_table(&name).await
    }

    async fn describe_table(&self, name: &str) -> Result<ObjectInfo> {
        let catalog = self.scrub(schema::discover(&self.connections, Some(name), true).await)?;
        catalog
            .objects
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found(format!("`{name}` no longer exists")))
    }

    async fn writable(&self, table: &str) -> Result<String> {
        if self.config.read_only {
            return Err(Error::permission_denied("this MySQL connector is read-only")
                .with_hint("an administrator can turn off read_only in the connector's settings"));
        }
        self.scrub(schema::resolve(&self.connections, table).await)
    }

    async fn probe(&self) -> Result<ServerInfo> {
        let flavor = self.connections.flavor().await?;
        let mut conn = self.connections.get().await?;
        let row: Option<(String, Option<String>, String)> = conn
            .query_first("SELECT VERSION(), DATABASE(), CURRENT_USER()")
            .await
            .map_err(|e| self.connections.error(&e))?;
        let (version, database, user) =
            row.ok_or_else(|| Error::internal("the server returned no version"))?;
        let product = if flavor == Flavor::MariaDb {
            "MariaDB"
        } else {
            "MySQL"
        };
        Ok(ServerInfo::new(product, Some(version))
            .with_detail("database", database.unwrap_or_default())
            .with_detail("user", user))
    }

    fn name(&self, table: &str) -> String {
        schema::object_name(self.connections.database(), table)
    }

    /// Removes any configured secret from an error before it leaves the connector.
    fn scrub<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|error| error.redact(&self.config.secrets()))
    }
}

#[async_trait]
impl Connector for MysqlConnector {
    fn connector_type(&self) -> &str {
        CONNECTOR_TYPE
    }

    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }

    async fn check(&self) -> CheckReport {
        // The probe connects at most twice (flavor probe, then the pool), each bounded by the connect timeout.
        let limit = self.config.connect_timeout() * 2 + Duration::from_secs(2);
        CheckReport::run(limit, async { self.scrub(self.probe().await) }).await
    }

    async fn discover(&self) -> Result<Catalog> {
        self.scrub(schema::discover(&self.connections, None, true).await)
    }

    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        self.operation(&request.operation)?;
        let (access, prepared) = match SqlRequest::parse(&request)? {
            SqlRequest::Query(params) => {
                let limit =
                    sql_ops::row_limit(params.max_rows, self.config.default_rows, self.config.max_rows)?;
                let (prepared, objects) =
                    query::plan(&self.connections, &self.statements, params, limit, request.budget)?;
                (Access::read(objects), Prepared::Query(prepared))
            }
            SqlRequest::ListObjects(params) => {
                if params
                    .schema
                    .as_deref()
                    .is_some_and(|schema| schema != self.connections.database())
                {
                    return Err(Error::not_found(format!(
                        "this connector works in the database `{}` only",
                        self.connections.database()
                    )));
                }
                (Access::read(Vec::<String>::new()), Prepared::ListObjects)
            }
            SqlRequest::DescribeObject(params) => {
                let name = self.scrub(schema::resolve(&self.connections, &params.object).await)?;
                (Access::read([self.name(&name)]), Prepared::Describe(name))
            }
            SqlRequest::Write(request) => {
                let table = self.writable(request.table()).await?;
                (
                    Access::write([self.name(&table)]),
                    Prepared::Write(PreparedWrite { table, request }),
                )
            }
        };
        Ok(Plan::new(request, access).with_prepared(prepared))
    }

    async fn execute(&self, mut plan: Plan) -> Result<Output> {
        let result = match plan.take_prepared::<Prepared>()? {
            Prepared::Query(prepared) => query::run(&self.connections, &prepared).await,
            Prepared::ListObjects => schema::discover(&self.connections, None, false)
                .await
                .map(|catalog| Output::complete(Data::Catalog(catalog))),
            Prepared::Describe(name) => self
                .describe_table(&name)
                .await
                .map(|object| Output::complete(Data::Object(Box::new(object)))),
            Prepared::Write(prepared) => write::run(&self.connections, &prepared).await.map(write_output),
        };
        self.scrub(result)
    }
}

impl std::fmt::Debug for MysqlConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlConnector")
            .field("address", &crate::config::address(&self.config))
            .finish_non_exhaustive()
    }
}

/// Builds MySQL connectors from validated configs.
#[derive(Debug, Default, Clone, Copy)]
pub struct MysqlFactory;

#[async_trait]
impl ConnectorFactory for MysqlFactory {
    fn spec(&self) -> ConnectorSpec {
        config::spec()
    }

    async fn build(&self, config: ConfigValues, host: &HostAccess) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(MysqlConnector::with_host(
            MysqlConfig::from_values(&config)?,
            host,
        )?))
    }
}
