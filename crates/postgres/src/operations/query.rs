//! `query`: one read-only statement, checked by the guard, run as one prepared statement inside a
//! read-only transaction, reading at most the row limit (plus one row to know whether more exist) and no
//! further than the host's byte budget.
//!
//! Round trips are what a small query costs, so a call asked before on the same session makes one:
//! `START TRANSACTION READ ONLY`, the re-check of bare table names and the bind-and-execute of the kept
//! prepared statement go out together, and the rows are capped in the statement itself (its outermost
//! `LIMIT`, see `ReadStatement::row_capped`) instead of by a portal. A statement seen for the first time
//! is prepared in that round trip and executed in a second. The session's rollback runs after the answer,
//! off the call's path (see `Lent`). A statement whose shape cannot carry the cap is read through a
//! portal instead, a bounded fetch at a time.

use std::sync::Arc;

use futures_util::{StreamExt as _, pin_mut};
use serde_json::Value;
use tokio_postgres::Statement;
use tributary_core::{Column, Output, Result};
use tributary_sql::operations::{QueryParams, RowCollector};
use tributary_sql::{CheckedStatements, ReadStatement};

use crate::connection::{Connections, Session};
use crate::schema;
use crate::types::{Cell, data_type, params};
use Failed::Stale;

/// A statement the guard accepted, with its tables resolved and its values.
pub(crate) struct PreparedQuery {
    /// Shared with the connector's [`CheckedStatements`].
    pub(crate) statement: Arc<ReadStatement>,
    /// The statement with the row cap written in, when its shape allows one.
    pub(crate) capped: Option<String>,
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
    statements: &CheckedStatements,
    names: &schema::NameCache,
    params: QueryParams,
    limit: u64,
    budget: tributary_core::Budget,
) -> Result<(PreparedQuery, Vec<String>)> {
    let statement = statements.check(&params.sql)?;
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
    let limit = budget.row_limit(limit);
    Ok((
        PreparedQuery {
            capped: statement.row_capped(limit.saturating_add(1)),
            statement,
            params: params.params,
            limit,
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
    let mut session = connections.lend().await?;
    match &query.capped {
        Some(sql) => {
            let mut read = run_capped(connections, names, &session, query, sql).await;
            if let Err(Stale) = read {
                // The table changed shape since this session prepared the statement: prepare it again.
                session.forget(sql);
                session
                    .batch_execute("ROLLBACK")
                    .await
                    .map_err(|e| connections.error(&e))?;
                read = run_capped(connections, names, &session, query, sql).await;
            }
            let output = read.map_err(Failed::into_error)?;
            // It ran inside the read-only transaction it opened: its rollback is reset enough (see `Lent`).
            // A failed or abandoned call gets the full reset.
            session.reads_only();
            Ok(output)
        }
        None => run_through_portal(connections, names, &mut session, query).await,
    }
}

/// The statement carries its own row cap. One round trip begins the transaction, re-checks bare names and
/// binds and executes a statement this session already prepared; a statement seen for the first time is
/// prepared in that round trip instead, and bound and executed in a second.
async fn run_capped(
    connections: &Connections,
    names: &schema::NameCache,
    session: &Session,
    query: &PreparedQuery,
    sql: &str,
) -> std::result::Result<Output, Failed> {
    // A row refused as too large closes the session; this slot tells the error mapping why.
    let oversized = session.oversized();
    let fail = |e: tokio_postgres::Error| Failed::Error(connections.error_in(&oversized, &e));
    // Sent in this order on the one connection, so everything after the first runs inside the transaction.
    let begin = session.batch_execute("START TRANSACTION READ ONLY");
    let quoted = schema::quoted(&query.bare);
    let qualify_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&quoted, &query.bare];
    let qualify = qualify_statement(session, query).await.map_err(fail)?;
    let names_now = async {
        match &qualify {
            None => Ok(Vec::new()),
            Some(statement) => session.query(statement, &qualify_params).await,
        }
    };
    let (statement, rows) = match session.prepared(sql) {
        Some(statement) => {
            let values = params(statement.params(), &query.params, &[])?;
            let ((), now, rows) =
                tokio::try_join!(begin, names_now, session.query_raw(&statement, as_sql(&values)))
                    .map_err(|e| if is_stale(&e) { Stale } else { fail(e) })?;
            same_names(names, query, &now)?;
            (statement, rows)
        }
        None => {
            let ((), now, statement) =
                tokio::try_join!(begin, names_now, session.prepare(sql)).map_err(fail)?;
            same_names(names, query, &now)?;
            session.keep(sql, &statement);
            let values = params(statement.params(), &query.params, &[])?;
            let rows = session
                .query_raw(&statement, as_sql(&values))
                .await
                .map_err(fail)?;
            (statement, rows)
        }
    };
    let columns = columns(&statement);
    pin_mut!(rows);
    let mut out = RowCollector::new(query.limit, &query.budget);
    // The server sends at most limit + 1 rows; the extra one says "more exist". Rows left unread when the
    // byte budget fills are drained by the connection, before the session's reset.
    while let Some(row) = rows.next().await {
        if !keep_reading(&mut out, &row.map_err(fail)?, columns.len()).map_err(fail)? {
            break;
        }
    }
    Ok(out.finish(columns))
}

/// Keeps `row` unless the limit or the byte budget is reached; whether to read on. A row past the limit
/// only says that more exist.
fn keep_reading(
    out: &mut RowCollector,
    row: &tokio_postgres::Row,
    width: usize,
) -> std::result::Result<bool, tokio_postgres::Error> {
    if out.is_full() {
        out.mark_more();
        return Ok(false);
    }
    Ok(out.push(cells(row, width)?))
}

/// The bare-name re-check's statement, kept prepared on the session (the first call that needs it prepares
/// it); `None` when the query names no table without its schema.
async fn qualify_statement(
    session: &Session,
    query: &PreparedQuery,
) -> std::result::Result<Option<Statement>, tokio_postgres::Error> {
    if query.bare.is_empty() {
        return Ok(None);
    }
    if let Some(statement) = session.prepared(schema::QUALIFY_SQL) {
        return Ok(Some(statement));
    }
    let statement = session.prepare(schema::QUALIFY_SQL).await?;
    session.keep(schema::QUALIFY_SQL, &statement);
    Ok(Some(statement))
}

/// Why a capped read did not answer.
enum Failed {
    /// The kept prepared statement no longer fits its tables (a column was added or changed type since it
    /// was prepared); the server refuses to run it with "cached plan must not change result type".
    Stale,
    /// Any other failure.
    Error(tributary_core::Error),
}

impl Failed {
    fn into_error(self) -> tributary_core::Error {
        match self {
            Stale => tributary_core::Error::new(
                tributary_core::ErrorKind::Conflict,
                "the tables this query reads changed while it was being prepared",
            )
            .with_hint("run the query again")
            .with_retryable(true),
            Failed::Error(error) => error,
        }
    }
}

impl From<tributary_core::Error> for Failed {
    fn from(error: tributary_core::Error) -> Failed {
        Failed::Error(error)
    }
}

/// The server refused a prepared statement whose result shape its tables no longer have.
fn is_stale(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
}

/// Values as the driver takes them.
fn as_sql(
    values: &[impl tokio_postgres::types::ToSql + Sync],
) -> impl ExactSizeIterator<Item = &(dyn tokio_postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|value| value as &(dyn tokio_postgres::types::ToSql + Sync))
}

/// The statement cannot carry a row cap (`FETCH ... WITH TIES`, a `LIMIT` given as a parameter, `EXPLAIN`):
/// it runs through a portal, fetched a bounded number of rows at a time.
async fn run_through_portal(
    connections: &Connections,
    names: &schema::NameCache,
    session: &mut Session,
    query: &PreparedQuery,
) -> Result<Output> {
    let oversized = session.oversized();
    let fail = |e: tokio_postgres::Error| connections.error_in(&oversized, &e);
    let qualify = qualify_statement(session, query).await.map_err(fail)?;
    let transaction = session
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .map_err(fail)?;
    // Re-resolve bare names in this very transaction, pipelined with the prepare (one round trip for both),
    // and refuse to run if they no longer mean what was authorized.
    let statement = match &qualify {
        None => transaction.prepare(query.statement.sql()).await.map_err(fail)?,
        Some(qualify) => {
            let quoted = schema::quoted(&query.bare);
            let qualify_params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&quoted, &query.bare];
            let (now, statement) = tokio::try_join!(
                transaction.query(qualify, &qualify_params),
                transaction.prepare(query.statement.sql()),
            )
            .map_err(fail)?;
            same_names(names, query, &now)?;
            statement
        }
    };
    let values = params(statement.params(), &query.params, &[])?;
    let refs: Vec<_> = as_sql(&values).collect();
    // The portal is fetched up to 1,024 rows at a time and read as the rows stream in. The driver reads
    // from the socket only as fast as rows are taken (its channel to the client is bounded), each row is
    // at most MAX_VALUE_BYTES on the wire, and reading stops at limit + 1 rows (the extra one says "more
    // exist") or at the byte budget, so a large fetch does not make the host hold more.
    let portal = transaction.bind(&statement, &refs).await.map_err(fail)?;
    let columns = columns(&statement);
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
            got += 1;
            if !keep_reading(&mut out, &row.map_err(fail)?, columns.len()).map_err(fail)? {
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
    // Nothing was written; the session's reset rolls the transaction back.
    Ok(out.finish(columns))
}

/// Refuses to run if the bare names resolved, in the running transaction, to other tables than the ones
/// authorized.
fn same_names(names: &schema::NameCache, query: &PreparedQuery, now: &[tokio_postgres::Row]) -> Result<()> {
    let now: Vec<String> = now.iter().map(|row| row.get(0)).collect();
    if now == query.resolved {
        return Ok(());
    }
    names.clear();
    Err(tributary_core::Error::new(
        tributary_core::ErrorKind::Conflict,
        "the tables this query names resolved differently when it ran than when it was authorized",
    )
    .with_hint("the schema changed; plan and run the query again")
    .with_retryable(true))
}

/// The result's columns, from the prepared statement.
fn columns(statement: &Statement) -> Vec<Column> {
    statement
        .columns()
        .iter()
        .map(|column| Column {
            name: column.name().to_owned(),
            data_type: data_type(column.type_()),
            native_type: column.type_().name().to_owned(),
        })
        .collect()
}

/// A row's values as JSON.
fn cells(row: &tokio_postgres::Row, width: usize) -> std::result::Result<Vec<Value>, tokio_postgres::Error> {
    let mut cells = Vec::with_capacity(width);
    for index in 0..width {
        let cell: Cell = row.try_get(index)?;
        cells.push(cell.0);
    }
    Ok(cells)
}

/// The most rows asked for in one portal fetch, the first included (the memory test in
/// `crates/cli/tests/cli.rs` holds at this size); later fetches ask for what the byte budget left can hold
/// of the largest row seen.
const MAX_FETCH: u64 = 1024;
