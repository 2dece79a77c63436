//! `insert`, `update` and `delete`: built by `tributary_sql::write` against the table's discovered columns,
//! run in one transaction, with the number of affected rows reported.

use mysql_async::prelude::Queryable;
use mysql_async::{Params, TxOpts, Value as MysqlValue};
use tributary_core::{Data, Error, Output, Result, WriteSummary};
use tributary_sql::Dialect;
use tributary_sql::operations::{DeleteParams, InsertParams, UpdateParams};
use tributary_sql::write::{self, Target};

use crate::connection::Connections;
use crate::schema;
use crate::types::param;

/// A write against one table of the connector's database.
pub(crate) enum PreparedWrite {
    /// New rows.
    Insert(String, InsertParams),
    /// Changed rows.
    Update(String, UpdateParams),
    /// Removed rows.
    Delete(String, DeleteParams),
}

/// Runs a write in one transaction.
pub(crate) async fn run(connections: &Connections, write: &PreparedWrite) -> Result<Output> {
    let table = match write {
        PreparedWrite::Insert(table, _)
        | PreparedWrite::Update(table, _)
        | PreparedWrite::Delete(table, _) => table,
    };
    let catalog = schema::discover(connections, Some(table), true).await?;
    let object = catalog
        .objects
        .first()
        .ok_or_else(|| Error::not_found(format!("`{table}` no longer exists")))?;
    let target = Target {
        schema: connections.database(),
        table,
    };
    let statement = match write {
        PreparedWrite::Insert(_, p) => write::insert(Dialect::MySql, object, target, &p.rows)?,
        PreparedWrite::Update(_, p) => write::update(Dialect::MySql, object, target, &p.set, &p.filter)?,
        PreparedWrite::Delete(_, p) => write::delete(Dialect::MySql, object, target, &p.filter)?,
    };
    let values: Vec<MysqlValue> = statement
        .values
        .iter()
        .zip(&statement.columns)
        .map(|(value, column)| {
            let data_type = object
                .field(column)
                .map_or(tributary_core::DataType::Other, |field| field.data_type);
            param(value, data_type, column)
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
    Ok(Output::complete(Data::Write(WriteSummary {
        affected,
        items: Vec::new(),
    })))
}
