//! `query`: one read-only statement, checked by the guard, then run under SQLite's own read-only authorizer
//! with `query_only` on, reading at most the row limit plus one row (to know whether more exist), and no
//! further than the host's byte budget.

use std::sync::Arc;

use rusqlite::Connection;
use serde_json::Value;
use tributary_core::{Column, Output, Result};
use tributary_sql::operations::{QueryParams, RowCollector};
use tributary_sql::{CheckedStatements, ReadStatement};

use crate::connection::{Connections, Mode};
use crate::error::Failure;
use crate::schema;
use crate::types::{cell, data_type, param};

/// A statement the guard accepted, with its values and row limit.
pub(crate) struct PreparedQuery {
    /// Shared with the connector's [`CheckedStatements`].
    pub(crate) statement: Arc<ReadStatement>,
    pub(crate) params: Vec<Value>,
    pub(crate) limit: u64,
    /// The host's budget for the result.
    pub(crate) budget: tributary_core::Budget,
}

/// Checks the SQL and reports every table it reads as `main.table`.
pub(crate) async fn plan(
    connections: &Connections,
    statements: &CheckedStatements,
    params: QueryParams,
    limit: u64,
    budget: tributary_core::Budget,
) -> Result<(PreparedQuery, Vec<String>)> {
    let statement = statements.check(&params.sql)?;
    let tables: Vec<_> = statement.tables().iter().cloned().collect();
    let path = connections.path().to_owned();
    let objects = connections
        .with(Mode::Catalog, move |connection| {
            schema::qualify(connection, &tables).map_err(|e| crate::error::from_driver(e, &path))
        })
        .await?;
    Ok((
        PreparedQuery {
            statement,
            params: params.params,
            limit: budget.row_limit(limit),
            budget,
        },
        objects,
    ))
}

/// Runs a checked statement.
pub(crate) async fn run(connections: &Connections, query: PreparedQuery) -> Result<Output> {
    let path = connections.path().to_owned();
    connections
        .with(Mode::Query, move |connection| {
            read(connection, &query).map_err(|e| e.into_error(&path))
        })
        .await
}

fn read(connection: &Connection, query: &PreparedQuery) -> Result<Output, Failure> {
    let mut statement = connection.prepare(query.statement.sql())?;
    let columns: Vec<Column> = statement
        .columns()
        .map(|column| Column {
            name: column.name().to_owned(),
            data_type: data_type(column.decl_type()),
            native_type: column.decl_type().unwrap_or("").to_owned(),
        })
        .collect();
    let expected = statement.parameter_count();
    if expected != query.params.len() {
        return Err(Failure::Driver(rusqlite::Error::InvalidParameterCount(
            query.params.len(),
            expected,
        )));
    }
    for (index, value) in query.params.iter().enumerate() {
        let value = param(value, tributary_core::DataType::Other, &format!("{}", index + 1))?;
        statement.raw_bind_parameter(index + 1, value)?;
    }
    let mut rows = statement.raw_query();
    let mut out = RowCollector::new(query.limit, &query.budget);
    while let Some(row) = rows.next()? {
        if out.is_full() {
            out.mark_more();
            break;
        }
        let mut cells = Vec::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            cells.push(cell(row.get_ref(index)?, column.data_type));
        }
        if !out.push(cells) {
            break;
        }
    }
    Ok(out.finish(columns))
}
