//! `insert`, `update` and `delete`: built by `tributary_sql` against the table's discovered columns, run in
//! one transaction, with the number of affected rows reported.

use mysql_async::prelude::Queryable;
use mysql_async::{Params, TxOpts, Value as MysqlValue};
use tributary_core::{DataType, Error, Result};
use tributary_sql::Dialect;
use tributary_sql::operations::WriteRequest;
use tributary_sql::write::Target;

use crate::connection::Connections;
use crate::schema;
use crate::types::param;

/// A write against one table of the connector's database (named as the database spells it).
pub(crate) struct PreparedWrite {
    pub(crate) table: String,
    pub(crate) request: WriteRequest,
}

/// Runs a write in one transaction and returns the number of rows it affected.
pub(crate) async fn run(connections: &Connections, write: &PreparedWrite) -> Result<u64> {
    let table = &write.table;
    let catalog = schema::discover(connections, Some(table), true).await?;
    let object = catalog
        .objects
        .first()
        .ok_or_else(|| Error::not_found(format!("`{table}` no longer exists")))?;
    let statement = write.request.statement(
        Dialect::MySql,
        object,
        Target {
            schema: connections.database(),
            table,
        },
    )?;
    let values: Vec<MysqlValue> = statement
        .values
        .iter()
        .zip(&statement.columns)
        .map(|(value, column)| {
            param(
                value,
                object
                    .field(column)
                    .map_or(DataType::Other, |field| field.data_type),
                column,
            )
        })
        .collect::<Result<_>>()?;
    let mut conn = connections.get().await?;
    let mut transaction = conn
        .start_transaction(TxOpts::default())
        .await
        .map_err(|e| connections.error(&e))?;
    transaction
        .exec_drop(&statement.sql, Params::Positional(values))
        .await
        .map_err(|e| connections.error(&e))?;
    let affected = transaction.affected_rows();
    transaction.commit().await.map_err(|e| connections.error(&e))?;
    Ok(affected)
}
