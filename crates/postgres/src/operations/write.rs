//! `insert`, `update` and `delete`: built by `tributary_sql::write` against the table's discovered columns,
//! run in one read-write transaction, with the number of affected rows reported.

use tributary_core::{Data, Error, Output, Result, WriteSummary};
use tributary_sql::Dialect;
use tributary_sql::operations::{DeleteParams, InsertParams, UpdateParams};
use tributary_sql::write::{self, Target};

use crate::connection::Connections;
use crate::schema::{self, Resolved, Scope};
use crate::types::params;

/// A write, resolved to its table.
pub(crate) enum PreparedWrite {
    /// New rows.
    Insert(Resolved, InsertParams),
    /// Changed rows.
    Update(Resolved, UpdateParams),
    /// Removed rows.
    Delete(Resolved, DeleteParams),
}

/// Runs a write in one transaction.
pub(crate) async fn run(connections: &Connections, write: &PreparedWrite) -> Result<Output> {
    let resolved = match write {
        PreparedWrite::Insert(resolved, _)
        | PreparedWrite::Update(resolved, _)
        | PreparedWrite::Delete(resolved, _) => resolved,
    };
    let catalog = schema::discover(connections, Scope::Object(resolved.oid), true).await?;
    let object = catalog
        .objects
        .first()
        .ok_or_else(|| Error::not_found(format!("`{}` no longer exists", resolved.name())))?;
    let target = Target {
        schema: &resolved.schema,
        table: &resolved.table,
    };
    let statement = match write {
        PreparedWrite::Insert(_, p) => write::insert(Dialect::Postgres, object, target, &p.rows)?,
        PreparedWrite::Update(_, p) => write::update(Dialect::Postgres, object, target, &p.set, &p.filter)?,
        PreparedWrite::Delete(_, p) => write::delete(Dialect::Postgres, object, target, &p.filter)?,
    };
    let mut client = connections.get().await?;
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
    connections.release(client).await;
    Ok(Output::complete(Data::Write(WriteSummary {
        affected,
        items: Vec::new(),
    })))
}
