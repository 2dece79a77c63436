//! [`SqliteConnector`]: the typed API for Rust services that link this crate, and the [`Connector`]
//! implementation that registries and agents use. Both run the same code.

use std::sync::Arc;

use async_trait::async_trait;
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

use crate::config::{self, CONNECTOR_TYPE, SqliteConfig};
use crate::connection::{Connections, Mode};
use crate::operations::Prepared;
use crate::operations::query;
use crate::operations::write::{self, PreparedWrite};
use crate::schema::{self, MAIN};

/// A SQLite database file (or in-memory database).
pub struct SqliteConnector {
    config: SqliteConfig,
    connections: Connections,
    operations: Vec<OperationSpec>,
    /// The read statements the guard accepted, so a repeated query is checked once.
    statements: CheckedStatements,
}

impl SqliteConnector {
    /// Builds the connector, free to open any file but special ones (a service's own configuration). The
    /// file is opened on first use; use [`Connector::check`] to test that it opens.
    pub fn new(config: SqliteConfig) -> Result<SqliteConnector> {
        SqliteConnector::with_host(config, &HostAccess::unrestricted())
    }

    /// Builds the connector opening its file only through `host`, which checks the path as written now
    /// and every time the file is opened.
    pub fn with_host(config: SqliteConfig, host: &HostAccess) -> Result<SqliteConnector> {
        let connections = Connections::new(&config, host)?;
        let operations = sql_ops::specs(&format!("SQLite database `{}`", config.path));
        Ok(SqliteConnector {
            config,
            connections,
            operations,
            statements: CheckedStatements::new(Dialect::Sqlite),
        })
    }

    /// Runs one read-only statement (checked by the guard and by SQLite's authorizer) with bound `params`.
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
        )
        .await?;
        query::run(&self.connections, prepared).await
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
        write::run(&self.connections, PreparedWrite { table, request }).await
    }

    /// Describes one table or view.
    pub async fn describe(&self, object: &str) -> Result<ObjectInfo> {
        let name = self.resolve(object).await?;
        self.describe_table(name).await
    }

    async fn describe_table(&self, name: String) -> Result<ObjectInfo> {
        let path = self.config.path.clone();
        let catalog = self
            .connections
            .with(Mode::Catalog, move |c| {
                schema::discover(c, Some(&name), true).map_err(|e| crate::error::from_driver(e, &path))
            })
            .await?;
        catalog
            .objects
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found("the object no longer exists"))
    }

    async fn resolve(&self, object: &str) -> Result<String> {
        let path = self.config.path.clone();
        let wanted = object.to_owned();
        let found = self
            .connections
            .with(Mode::Catalog, move |c| {
                schema::resolve(c, &wanted).map_err(|e| crate::error::from_driver(e, &path))
            })
            .await?;
        found.ok_or_else(|| {
            Error::not_found(format!("no table or view named `{object}`"))
                .with_hint("call list_objects and use a name as it shows it (main.table)")
        })
    }

    async fn writable(&self, table: &str) -> Result<String> {
        if self.config.read_only {
            return Err(Error::permission_denied("this SQLite connector is read-only")
                .with_hint("an administrator can turn off read_only in the connector's settings"));
        }
        self.resolve(table).await
    }
}

#[async_trait]
impl Connector for SqliteConnector {
    fn connector_type(&self) -> &str {
        CONNECTOR_TYPE
    }

    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }

    async fn check(&self) -> CheckReport {
        let read_only = self.config.read_only;
        let path = self.config.path.clone();
        match self.connections.creation_pending() {
            Ok(true) => {
                let info = ServerInfo::new("SQLite", None)
                    .with_detail("path", path)
                    .with_detail("exists", false)
                    .with_detail(
                        "note",
                        "the file does not exist yet: it is created when the saved connector is first used",
                    );
                return CheckReport::from_result(Ok(info), 0.0);
            }
            Ok(false) => {}
            Err(error) => return CheckReport::from_result(Err(error), 0.0),
        }
        let probe = self.connections.with(Mode::Catalog, move |connection| {
            let (version, tables): (String, i64) = connection
                .query_row(
                    "SELECT sqlite_version(), (SELECT count(*) FROM main.sqlite_schema WHERE type = 'table')",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(|e| crate::error::from_driver(e, &path))?;
            Ok(ServerInfo::new("SQLite", Some(version))
                .with_detail("path", path)
                .with_detail("tables", tables)
                .with_detail("read_only", read_only))
        });
        CheckReport::run(self.config.statement_timeout(), probe).await
    }

    async fn discover(&self) -> Result<Catalog> {
        let path = self.config.path.clone();
        self.connections
            .with(Mode::Catalog, move |c| {
                schema::discover(c, None, true).map_err(|e| crate::error::from_driver(e, &path))
            })
            .await
    }

    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        self.operation(&request.operation)?;
        let (access, prepared) = match SqlRequest::parse(&request)? {
            SqlRequest::Query(params) => {
                let limit =
                    sql_ops::row_limit(params.max_rows, self.config.default_rows, self.config.max_rows)?;
                let (prepared, objects) =
                    query::plan(&self.connections, &self.statements, params, limit, request.budget).await?;
                (Access::read(objects), Prepared::Query(prepared))
            }
            SqlRequest::ListObjects(params) => {
                if params.schema.as_deref().is_some_and(|schema| schema != MAIN) {
                    return Err(Error::not_found("SQLite databases have one schema, `main`"));
                }
                (Access::read(Vec::<String>::new()), Prepared::ListObjects)
            }
            SqlRequest::DescribeObject(params) => {
                let name = self.resolve(&params.object).await?;
                (
                    Access::read([schema::object_name(&name)]),
                    Prepared::Describe(name),
                )
            }
            SqlRequest::Write(request) => {
                let table = self.writable(request.table()).await?;
                (
                    Access::write([schema::object_name(&table)]),
                    Prepared::Write(PreparedWrite { table, request }),
                )
            }
        };
        Ok(Plan::new(request, access).with_prepared(prepared))
    }

    async fn execute(&self, mut plan: Plan) -> Result<Output> {
        match plan.take_prepared::<Prepared>()? {
            Prepared::Query(prepared) => query::run(&self.connections, prepared).await,
            Prepared::ListObjects => {
                let path = self.config.path.clone();
                let catalog = self
                    .connections
                    .with(Mode::Catalog, move |c| {
                        schema::discover(c, None, false).map_err(|e| crate::error::from_driver(e, &path))
                    })
                    .await?;
                Ok(Output::complete(Data::Catalog(catalog)))
            }
            Prepared::Describe(name) => Ok(Output::complete(Data::Object(Box::new(
                self.describe_table(name).await?,
            )))),
            Prepared::Write(prepared) => write::run(&self.connections, prepared).await.map(write_output),
        }
    }
}

impl std::fmt::Debug for SqliteConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnector")
            .field("path", &self.config.path)
            .field("read_only", &self.config.read_only)
            .finish()
    }
}

/// Builds SQLite connectors from validated configs.
#[derive(Debug, Default, Clone, Copy)]
pub struct SqliteFactory;

#[async_trait]
impl ConnectorFactory for SqliteFactory {
    fn spec(&self) -> ConnectorSpec {
        config::spec()
    }

    async fn build(&self, config: ConfigValues, host: &HostAccess) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(SqliteConnector::with_host(
            SqliteConfig::from_values(&config)?,
            host,
        )?))
    }
}
