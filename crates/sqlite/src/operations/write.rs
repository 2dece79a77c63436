//! `insert`, `update` and `delete`: built by `tributary_sql::write` against the table's discovered columns
//! and run in one transaction.

use rusqlite::Connection;
use tributary_core::{Data, Error, Output, Result, WriteSummary};
use tributary_sql::Dialect;
use tributary_sql::operations::{DeleteParams, InsertParams, UpdateParams};
use tributary_sql::write::{self, Target};

use crate::connection::{Connections, Mode};
use crate::error::Failure;
use crate::schema::{self, MAIN};
use crate::types::param;

/// A write against one table, named as the catalog spells it.
pub(crate) enum PreparedWrite {
    /// New rows.
    Insert(String, InsertParams),
    /// Changed rows.
    Update(String, UpdateParams),
    /// Removed rows.
    Delete(String, DeleteParams),
}

/// Runs a write in one transaction.
pub(crate) async fn run(connections: &Connections, write: PreparedWrite) -> Result<Output> {
    let path = connections.path().to_owned();
    connections
        .with(Mode::Write, move |connection| {
            apply(connection, &write).map_err(|failure| failure.into_error(&path))
        })
        .await
}

fn apply(connection: &Connection, write: &PreparedWrite) -> Result<Output, Failure> {
    let table = match write {
        PreparedWrite::Insert(table, _)
        | PreparedWrite::Update(table, _)
        | PreparedWrite::Delete(table, _) => table,
    };
    let catalog = schema::discover(connection, Some(table), true)?;
    let object = catalog
        .objects
        .first()
        .ok_or_else(|| Error::not_found(format!("`{MAIN}.{table}` no longer exists")))?;
    let target = Target { schema: MAIN, table };
    let statement = match write {
        PreparedWrite::Insert(_, p) => write::insert(Dialect::Sqlite, object, target, &p.rows),
        PreparedWrite::Update(_, p) => write::update(Dialect::Sqlite, object, target, &p.set, &p.filter),
        PreparedWrite::Delete(_, p) => write::delete(Dialect::Sqlite, object, target, &p.filter),
    }?;
    let transaction = connection.unchecked_transaction()?;
    let affected = {
        let mut prepared = transaction.prepare(&statement.sql)?;
        for (index, (value, column)) in statement.values.iter().zip(&statement.columns).enumerate() {
            let data_type = object
                .field(column)
                .map_or(tributary_core::DataType::Other, |field| field.data_type);
            prepared.raw_bind_parameter(index + 1, param(value, data_type, column)?)?;
        }
        prepared.raw_execute()?
    };
    transaction.commit()?;
    Ok(Output::complete(Data::Write(WriteSummary {
        affected: affected as u64,
        items: Vec::new(),
    })))
}
