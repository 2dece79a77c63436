//! `query`: one read-only statement, checked by the guard, run as one prepared statement (the binary
//! protocol refuses several statements) inside a `READ ONLY` transaction, reading at most the row limit plus
//! one row. When the limit is reached the connection goes back to the pool unread: the pool drains the rest
//! and resets the session (which also ends the transaction) without the caller waiting.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Value as MysqlValue};
use serde_json::Value;
use tributary_core::{Column, Output, Result};
use tributary_sql::operations::{QueryParams, RowCollector};
use tributary_sql::{CheckedStatements, ReadStatement};

use crate::connection::Connections;
use crate::schema::object_name;
use crate::types::{cell, column_type, param};

/// A statement the guard accepted, with its values and row limit.
pub(crate) struct PreparedQuery {
    /// Shared with the connector's [`CheckedStatements`].
    pub(crate) statement: Arc<ReadStatement>,
    pub(crate) params: Vec<Value>,
    pub(crate) limit: u64,
    /// The host's budget for the result.
    pub(crate) budget: tributary_core::Budget,
}

/// Checks the SQL and reports every table it reads as `database.table`; bare names are in the connector's
/// database, which is the session's default database.
pub(crate) fn plan(
    connections: &Connections,
    statements: &CheckedStatements,
    params: QueryParams,
    limit: u64,
    budget: tributary_core::Budget,
) -> Result<(PreparedQuery, Vec<String>)> {
    let statement = statements.check(&params.sql)?;
    let objects = statement
        .tables()
        .iter()
        .map(|table| object_name(table.schema().unwrap_or(connections.database()), table.name()))
        .collect();
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
pub(crate) async fn run(connections: &Connections, query: &PreparedQuery) -> Result<Output> {
    let mut conn = connections.get().await?;
    conn.query_drop("START TRANSACTION READ ONLY")
        .await
        .map_err(|e| connections.error(&e))?;
    let statement = conn
        .prep(query.statement.sql())
        .await
        .map_err(|e| connections.error(&e))?;
    if usize::from(statement.num_params()) != query.params.len() {
        return Err(tributary_core::Error::invalid_input(format!(
            "the statement has {} placeholder(s) but {} parameter value(s) were given",
            statement.num_params(),
            query.params.len()
        ))
        .with_hint("pass exactly one value in params for each ? placeholder"));
    }
    let values: Vec<MysqlValue> = query
        .params
        .iter()
        .enumerate()
        .map(|(index, value)| param(value, tributary_core::DataType::Other, &(index + 1).to_string()))
        .collect::<Result<_>>()?;
    let params = if values.is_empty() {
        Params::Empty
    } else {
        Params::Positional(values)
    };
    let mut result = conn
        .exec_iter(&statement, params)
        .await
        .map_err(|e| connections.error(&e))?;
    let mysql_columns = result
        .columns()
        .map(|columns| columns.to_vec())
        .unwrap_or_default();
    let types: Vec<_> = mysql_columns.iter().map(column_type).collect();
    let columns: Vec<Column> = mysql_columns
        .iter()
        .zip(&types)
        .map(|(column, data_type)| Column {
            name: column.name_str().into_owned(),
            data_type: *data_type,
            native_type: format!("{:?}", column.column_type())
                .trim_start_matches("MYSQL_TYPE_")
                .to_lowercase(),
        })
        .collect();
    let mut rows = RowCollector::new(query.limit, &query.budget);
    // Whether reading stopped before the end (the rest is drained by the pool, a packet at a time).
    let mut stopped = false;
    while let Some(row) = result.next().await.map_err(|e| connections.error(&e))? {
        if rows.is_full() {
            rows.mark_more();
            stopped = true;
            break;
        }
        let cells = (0..mysql_columns.len())
            .map(
                |index| match (row.as_ref(index), mysql_columns.get(index), types.get(index)) {
                    (Some(value), Some(column), Some(data_type)) => cell(value, column, *data_type),
                    _ => Value::Null,
                },
            )
            .collect();
        if !rows.push(cells) {
            stopped = true;
            break;
        }
    }
    drop(result);
    if !stopped {
        conn.query_drop("ROLLBACK")
            .await
            .map_err(|e| connections.error(&e))?;
    }
    drop(conn);
    Ok(rows.finish(columns))
}
