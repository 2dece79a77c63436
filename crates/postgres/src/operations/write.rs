//! `insert`, `update` and `delete`: built by `tributary_sql` against the table's discovered columns, run in
//! one read-write transaction, with the number of affected rows reported.

use tributary_core::{Error, Result};
use tributary_sql::Dialect;
use tributary_sql::operations::WriteRequest;
use tributary_sql::write::Target;

use crate::connection::Connections;
use crate::schema::{self, Resolved, Scope};
use crate::types::params;

/// A write, resolved to its table.
pub(crate) struct PreparedWrite {
    pub(crate) table: Resolved,
    pub(crate) request: WriteRequest,
}

/// Runs a write in one transaction and returns the number of rows it affected.
pub(crate) async fn run(connections: &Connections, write: &PreparedWrite) -> Result<u64> {
    let resolved = &write.table;
    let catalog = schema::discover(connections, Scope::Object(resolved.oid), true).await?;
    let object = catalog
        .objects
        .first()
        .ok_or_else(|| Error::not_found(format!("`{}` no longer exists", resolved.name())))?;
    let statement = write.request.statement(
        Dialect::Postgres,
        object,
        Target {
            schema: &resolved.schema,
            table: &resolved.table,
        },
    )?;
    let mut client = connections.lend().await?;
    let transaction = client
        .build_transaction()
        .read_only(false)
        .start()
        .await
        .map_err(|e| connections.error(&e))?;
    let prepared = transaction
        .prepare(&statement.sql)
        .await
        .map_err(|e| connections.error(&e))?;
    let values = params(prepared.params(), &statement.values, &statement.columns)?;
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
        .iter()
        .map(|value| value as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let affected = transaction
        .execute(&prepared, &refs)
        .await
        .map_err(|e| connections.error(&e))?;
    transaction.commit().await.map_err(|e| connections.error(&e))?;
    Ok(affected)
}
