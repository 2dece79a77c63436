//! `query`: one read-only statement, checked by the guard, run as one prepared statement inside a
//! read-only transaction, reading at most the row limit (plus one row to know whether more exist) and no
//! further than the host's byte budget.

use futures_util::{StreamExt as _, pin_mut};
use serde_json::Value;
use tributary_core::{Column, Output, Result};
use tributary_sql::operations::{QueryParams, RowCollector};
use tributary_sql::{Dialect, ReadStatement};

use crate::connection::Connections;
use crate::schema;
use crate::types::{Cell, data_type, params};

/// A statement the guard accepted, with its tables resolved and its values.
pub(crate) struct PreparedQuery {
    pub(crate) statement: ReadStatement,
    pub(crate) params: Vec<Value>,
    pub(crate) limit: u64,
    /// The host's budget for the result.
    pub(crate) budget: tributary_core::Budget,
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
    budget: tributary_core::Budget,
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
            limit: budget.row_limit(limit),
            budget,
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
    // A row refused as too large closes the session; this slot tells the error mapping why.
    let oversized = client.oversized();
    let fail = |e: tokio_postgres::Error| connections.error_in(&oversized, &e);
    let transaction = client
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .map_err(fail)?;
    // Re-resolve bare names in this very transaction, pipelined with the prepare (one round trip for both),
    // and refuse to run if they no longer mean what was authorized.
    let statement = if query.bare.is_empty() {
        transaction.prepare(query.statement.sql()).await.map_err(fail)?
    } else {
        let quoted = schema::quoted(&query.bare);
        let qualify_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&quoted, &query.bare];
        let (now, statement) = tokio::try_join!(
            transaction.query(schema::QUALIFY_SQL, &qualify_params),
            transaction.prepare(query.statement.sql()),
        )
        .map_err(fail)?;
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
    // The portal is fetched up to 1,024 rows at a time and read as the rows stream in. The driver reads
    // from the socket only as fast as rows are taken (its channel to the client is bounded), each row is
    // at most MAX_VALUE_BYTES on the wire, and reading stops at limit + 1 rows (the extra one says "more
    // exist") or at the byte budget, so a large fetch does not make the host hold more. A first fetch of
    // the whole limit costs one round trip: fetching 16 rows first made a 100-row query twice as slow.
    let portal = transaction.bind(&statement, &refs).await.map_err(fail)?;
    let columns: Vec<Column> = statement
        .columns()
        .iter()
        .map(|column| Column {
            name: column.name().to_owned(),
            data_type: data_type(column.type_()),
            native_type: column.type_().name().to_owned(),
        })
        .collect();
    let mut out = RowCollector::new(query.limit, &query.budget);
    let mut fetch: u64 = MAX_FETCH;
    'fetching: loop {
        let wanted = fetch.min(query.limit.saturating_add(1));
        let rows = transaction
            .query_portal_raw(&portal, i32::try_from(wanted).unwrap_or(i32::MAX))
            .await
            .map_err(fail)?;
        pin_mut!(rows);
        let mut got: u64 = 0;
        while let Some(row) = rows.next().await {
            let row = row.map_err(fail)?;
            got += 1;
            if out.is_full() {
                out.mark_more();
                break 'fetching;
            }
            let mut cells = Vec::with_capacity(columns.len());
            for index in 0..columns.len() {
                let cell: Cell = row.try_get(index).map_err(fail)?;
                cells.push(cell.0);
            }
            if !out.push(cells) {
                break 'fetching;
            }
        }
        if got < wanted {
            break;
        }
        let left = query
            .budget
            .max_bytes
            .map_or(u64::MAX, |max| max.saturating_sub(out.used_bytes()));
        fetch = (left / out.largest_row_bytes().max(1)).clamp(1, MAX_FETCH);
    }
    // Nothing was written. Dropping the transaction queues its ROLLBACK; the reset is pipelined behind it.
    drop((portal, statement, transaction));
    connections.release(client).await;
    Ok(out.finish(columns))
}

/// The most rows asked for in one fetch, the first included (the memory test in `crates/cli/tests/cli.rs`
/// holds at this size); later fetches ask for what the byte budget left can hold of the largest row seen.
const MAX_FETCH: u64 = 1024;
