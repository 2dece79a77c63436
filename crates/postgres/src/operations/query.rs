//! `query`: one read-only statement, checked by the guard, run as one prepared statement inside a
//! read-only transaction, reading at most the row limit (plus one row to know whether more exist).

use serde_json::Value;
use tributary_core::{Column, Output, Result};
use tributary_sql::operations::{QueryParams, rows_output};
use tributary_sql::{Dialect, ReadStatement};

use crate::connection::Connections;
use crate::schema;
use crate::types::{Cell, data_type, params};

/// A statement the guard accepted, with its tables resolved and its values.
pub(crate) struct PreparedQuery {
    pub(crate) statement: ReadStatement,
    pub(crate) params: Vec<Value>,
    pub(crate) limit: u64,
    /// Table names written without a schema, and what the plan resolved them to.
    pub(crate) bare: Vec<String>,
    pub(crate) resolved: Vec<String>,
}

/// Checks the SQL and resolves every table it reads to `schema.table`.
pub(crate) async fn plan(
    connections: &Connections,
    names: &schema::NameCache,
    params: QueryParams,
    limit: u64,
) -> Result<(PreparedQuery, Vec<String>)> {
    let statement = ReadStatement::parse(&params.sql, Dialect::Postgres)?;
    let mut objects = Vec::new();
    let mut bare = Vec::new();
    for table in statement.tables() {
        match table.schema() {
            Some(schema_name) => objects.push(schema::object_name(schema_name, table.name())),
            None => bare.push(table.name().to_owned()),
        }
    }
    let resolved = schema::qualify(connections, names, &bare).await?;
    objects.extend(resolved.iter().cloned());
    Ok((
        PreparedQuery {
            statement,
            params: params.params,
            limit,
            bare,
            resolved,
        },
        objects,
    ))
}

/// Runs a checked statement.
pub(crate) async fn run(
    connections: &Connections,
    names: &schema::NameCache,
    query: &PreparedQuery,
) -> Result<Output> {
    let mut client = connections.get().await?;
    let transaction = client
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .map_err(|e| connections.error(&e))?;
    // Re-resolve bare names in this very transaction, pipelined with the prepare (one round trip for both),
    // and refuse to run if they no longer mean what was authorized.
    let statement = if query.bare.is_empty() {
        transaction
            .prepare(query.statement.sql())
            .await
            .map_err(|e| connections.error(&e))?
    } else {
        let quoted = schema::quoted(&query.bare);
        let qualify_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&quoted, &query.bare];
        let (now, statement) = tokio::try_join!(
            transaction.query(schema::QUALIFY_SQL, &qualify_params),
            transaction.prepare(query.statement.sql()),
        )
        .map_err(|e| connections.error(&e))?;
        let now: Vec<String> = now.iter().map(|row| row.get(0)).collect();
        if now != query.resolved {
            names.clear();
            return Err(tributary_core::Error::new(
                tributary_core::ErrorKind::Conflict,
                "the tables this query names resolved differently when it ran than when it was authorized",
            )
            .with_hint("the schema changed; plan and run the query again")
            .with_retryable(true));
        }
        statement
    };
    let values = params(statement.params(), &query.params, &[])?;
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
        .iter()
        .map(|value| value as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    // A portal fetches at most limit + 1 rows: the server stops there, and the extra row says "more exist".
    let portal = transaction
        .bind(&statement, &refs)
        .await
        .map_err(|e| connections.error(&e))?;
    let fetch = i32::try_from(query.limit.saturating_add(1)).unwrap_or(i32::MAX);
    let rows = transaction
        .query_portal(&portal, fetch)
        .await
        .map_err(|e| connections.error(&e))?;
    let columns: Vec<Column> = statement
        .columns()
        .iter()
        .map(|column| Column {
            name: column.name().to_owned(),
            data_type: data_type(column.type_()),
            native_type: column.type_().name().to_owned(),
        })
        .collect();
    let mut out = Vec::with_capacity(rows.len().min(usize::try_from(query.limit).unwrap_or(usize::MAX)));
    for row in rows
        .iter()
        .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
    {
        let mut cells = Vec::with_capacity(columns.len());
        for index in 0..columns.len() {
            let cell: Cell = row.try_get(index).map_err(|e| connections.error(&e))?;
            cells.push(cell.0);
        }
        out.push(cells);
    }
    // Nothing was written. Dropping the transaction queues its ROLLBACK; the reset is pipelined behind it.
    drop((portal, statement, transaction));
    connections.release(client).await;
    Ok(rows_output(
        columns,
        out,
        query.limit,
        rows.len() as u64 > query.limit,
    ))
}
