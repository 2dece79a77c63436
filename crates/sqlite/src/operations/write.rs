//! `insert`, `update` and `delete`: built by `tributary_sql` against the table's discovered columns and
//! run in one transaction.

use rusqlite::Connection;
use tributary_core::{DataType, Error, Result};
use tributary_sql::Dialect;
use tributary_sql::operations::WriteRequest;
use tributary_sql::write::Target;

use crate::connection::{Connections, Mode};
use crate::error::Failure;
use crate::schema::{self, MAIN};
use crate::types::param;

/// A write against one table, named as the catalog spells it.
pub(crate) struct PreparedWrite {
    pub(crate) table: String,
    pub(crate) request: WriteRequest,
}

/// Runs a write in one transaction and returns the number of rows it affected.
pub(crate) async fn run(connections: &Connections, write: PreparedWrite) -> Result<u64> {
    let path = connections.path().to_owned();
    connections
        .with(Mode::Write, move |connection| {
            apply(connection, &write).map_err(|failure| failure.into_error(&path))
        })
        .await
}

fn apply(connection: &Connection, write: &PreparedWrite) -> Result<u64, Failure> {
    let table = &write.table;
    let catalog = schema::discover(connection, Some(table), true)?;
    let object = catalog
        .objects
        .first()
        .ok_or_else(|| Error::not_found(format!("`{MAIN}.{table}` no longer exists")))?;
    let statement = write
        .request
        .statement(Dialect::Sqlite, object, Target { schema: MAIN, table })?;
    let transaction = connection.unchecked_transaction()?;
    let affected = {
        let mut prepared = transaction.prepare(&statement.sql)?;
        for (index, (value, column)) in statement.values.iter().zip(&statement.columns).enumerate() {
            let data_type = object
                .field(column)
                .map_or(DataType::Other, |field| field.data_type);
            prepared.raw_bind_parameter(index + 1, param(value, data_type, column)?)?;
        }
        prepared.raw_execute()?
    };
    transaction.commit()?;
    Ok(affected as u64)
}
