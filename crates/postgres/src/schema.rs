//! Schema discovery from `pg_catalog`: one query per kind of metadata (objects, columns, keys), whatever
//! the number of tables, so a database with thousands of tables is described in three round trips.

use std::collections::HashMap;

use tokio_postgres::types::Oid;
use tributary_core::{Catalog, DataType, FieldInfo, ForeignKey, ObjectInfo, ObjectKind, Result};

use crate::connection::Connections;
use crate::types::data_type_by_name;

/// Which objects to describe.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// Every user object.
    All,
    /// The objects of one schema.
    Schema(&'a str),
    /// One object, by its `pg_class` oid.
    Object(Oid),
}

impl Scope<'_> {
    fn params(&self) -> (Option<&str>, Option<Oid>) {
        match self {
            Scope::All => (None, None),
            Scope::Schema(schema) => (Some(schema), None),
            Scope::Object(oid) => (None, Some(*oid)),
        }
    }
}

const USER_OBJECTS: &str = "c.relkind IN ('r', 'v', 'm', 'f', 'p') \
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
    AND ($1::text IS NULL OR n.nspname = $1) AND ($2::oid IS NULL OR c.oid = $2)";

fn objects_sql() -> String {
    format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, obj_description(c.oid, 'pg_class'), \
         c.reltuples::float8 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_OBJECTS} ORDER BY n.nspname, c.relname"
    )
}

fn columns_sql() -> String {
    format!(
        "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
         COALESCE(bt.typname, t.typname)::text, t.typtype::text, NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid), \
         col_description(a.attrelid, a.attnum), \
         (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd' \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND {USER_OBJECTS} ORDER BY a.attrelid, a.attnum"
    )
}

fn keys_sql() -> String {
    format!(
        "SELECT con.conrelid, con.contype::text, con.conname::text, \
         ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord) \
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord), \
         fn.nspname::text, fc.relname::text, \
         ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) \
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         WHERE con.contype IN ('p', 'f') AND {USER_OBJECTS} ORDER BY con.conrelid, con.conname"
    )
}

/// The full name policies and operations use: `schema.table`, unquoted.
pub(crate) fn object_name(schema: &str, table: &str) -> String {
    format!("{schema}.{table}")
}

/// Describes the objects in `scope`, with fields when `with_fields` is set.
pub(crate) async fn discover(
    connections: &Connections,
    scope: Scope<'_>,
    with_fields: bool,
) -> Result<Catalog> {
    let client = connections.get().await?;
    let (schema, oid) = scope.params();
    let rows = client
        .query(&objects_sql(), &[&schema, &oid])
        .await
        .map_err(|e| connections.error(&e))?;
    let mut objects = Vec::with_capacity(rows.len());
    let mut by_oid = HashMap::with_capacity(rows.len());
    for row in &rows {
        let namespace: String = row.get(1);
        let table: String = row.get(2);
        let kind = match row.get::<_, String>(3).as_str() {
            "r" | "p" => ObjectKind::Table,
            "v" => ObjectKind::View,
            "m" => ObjectKind::MaterializedView,
            "f" => ObjectKind::ForeignTable,
            _ => ObjectKind::Other,
        };
        let mut object = ObjectInfo::new(object_name(&namespace, &table), kind);
        object.namespace = Some(namespace);
        object.description = row.get(4);
        let estimate: f64 = row.get(5);
        object.row_estimate = (estimate >= 0.0 && kind != ObjectKind::View).then_some(estimate as u64);
        by_oid.insert(row.get::<_, Oid>(0), objects.len());
        objects.push(object);
    }
    if with_fields && !objects.is_empty() {
        add_columns(connections, &client, &by_oid, &mut objects, schema, oid).await?;
        add_keys(connections, &client, &by_oid, &mut objects, schema, oid).await?;
    }
    // ORDER BY follows the database's collation; the catalog is sorted by exact name.
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Catalog {
        objects,
        truncated: false,
    })
}

async fn add_columns(
    connections: &Connections,
    client: &tokio_postgres::Client,
    by_oid: &HashMap<Oid, usize>,
    objects: &mut [ObjectInfo],
    schema: Option<&str>,
    oid: Option<Oid>,
) -> Result<()> {
    for row in client
        .query(&columns_sql(), &[&schema, &oid])
        .await
        .map_err(|e| connections.error(&e))?
    {
        let Some(object) = by_oid
            .get(&row.get::<_, Oid>(0))
            .and_then(|index| objects.get_mut(*index))
        else {
            continue;
        };
        let type_name: String = row.get(3);
        let data_type = match row.get::<_, String>(4).as_str() {
            "e" => DataType::Enum,
            _ => data_type_by_name(&type_name),
        };
        let mut field = FieldInfo::new(row.get::<_, String>(1), data_type, row.get::<_, String>(2));
        field.nullable = row.get(5);
        field.default = row.get(6);
        field.description = row.get(7);
        field.allowed_values = row.get::<_, Option<Vec<String>>>(8).unwrap_or_default();
        object.fields.push(field);
    }
    Ok(())
}

async fn add_keys(
    connections: &Connections,
    client: &tokio_postgres::Client,
    by_oid: &HashMap<Oid, usize>,
    objects: &mut [ObjectInfo],
    schema: Option<&str>,
    oid: Option<Oid>,
) -> Result<()> {
    for row in client
        .query(&keys_sql(), &[&schema, &oid])
        .await
        .map_err(|e| connections.error(&e))?
    {
        let Some(object) = by_oid
            .get(&row.get::<_, Oid>(0))
            .and_then(|index| objects.get_mut(*index))
        else {
            continue;
        };
        let columns: Vec<String> = row.get(3);
        if row.get::<_, String>(1) == "p" {
            for field in object
                .fields
                .iter_mut()
                .filter(|field| columns.contains(&field.name))
            {
                field.primary_key = true;
            }
            object.primary_key = columns;
        } else if let (Some(schema), Some(table)) =
            (row.get::<_, Option<String>>(4), row.get::<_, Option<String>>(5))
        {
            object.foreign_keys.push(ForeignKey {
                name: Some(row.get(2)),
                fields: columns,
                references: object_name(&schema, &table),
                referenced_fields: row.get(6),
            });
        }
    }
    Ok(())
}

/// A table or view found by the name an agent gave (`schema.table`, or `table` in the current schema).
pub(crate) struct Resolved {
    /// Its oid.
    pub(crate) oid: Oid,
    /// Its schema.
    pub(crate) schema: String,
    /// Its name.
    pub(crate) table: String,
}

impl Resolved {
    /// The full name.
    pub(crate) fn name(&self) -> String {
        object_name(&self.schema, &self.table)
    }
}

/// Finds an object by the name `list_objects` shows, or by a bare name in the current schema.
pub(crate) async fn resolve(connections: &Connections, name: &str) -> Result<Resolved> {
    let client = connections.get().await?;
    let sql = "SELECT c.oid, n.nspname::text, c.relname::text FROM pg_class c \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') \
               AND (n.nspname || '.' || c.relname = $1 OR (n.nspname = current_schema() AND c.relname = $1)) \
               ORDER BY (n.nspname || '.' || c.relname = $1) DESC LIMIT 1";
    let row = client
        .query_opt(sql, &[&name])
        .await
        .map_err(|e| connections.error(&e))?;
    match row {
        Some(row) => Ok(Resolved {
            oid: row.get(0),
            schema: row.get(1),
            table: row.get(2),
        }),
        None => Err(
            tributary_core::Error::not_found(format!("no table or view named `{name}`"))
                .with_hint("call list_objects and use a name exactly as it shows it (schema.table)"),
        ),
    }
}

/// Resolves bare table names (`pg_authid`, `orders`) to `schema.table` the way the server does, which finds
/// system catalogs under `pg_catalog`; names the server does not know are put in the current schema, so a
/// policy still sees a concrete name. `$1` holds the quoted names, `$2` the names as written.
pub(crate) const QUALIFY_SQL: &str = "SELECT COALESCE(n.nspname::text, current_schema()::text) || '.' || y.name \
    FROM unnest($1::text[]) WITH ORDINALITY x(quoted, ord) JOIN unnest($2::text[]) WITH ORDINALITY y(name, ord) USING (ord) \
    LEFT JOIN pg_class c ON c.oid = to_regclass(x.quoted) LEFT JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY ord";

/// The quoted forms of bare names, the first parameter of [`QUALIFY_SQL`].
pub(crate) fn quoted(bare_names: &[String]) -> Vec<String> {
    bare_names
        .iter()
        .map(|name| tributary_sql::Dialect::Postgres.quote_ident(name))
        .collect()
}

/// Remembers how bare names resolved, so planning a query costs no round trip once its names are known.
/// Execution re-resolves them inside its own transaction and refuses to run if the answer changed, so a
/// stale entry can never let a statement read something other than what was authorized.
#[derive(Default)]
pub(crate) struct NameCache(std::sync::Mutex<HashMap<String, String>>);

impl NameCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets every resolution (after a mismatch).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

/// The full names of bare table names, from the cache or the server.
pub(crate) async fn qualify(
    connections: &Connections,
    cache: &NameCache,
    bare_names: &[String],
) -> Result<Vec<String>> {
    let cached: Option<Vec<String>> = {
        let names = cache.lock();
        bare_names.iter().map(|name| names.get(name).cloned()).collect()
    };
    if let Some(resolved) = cached {
        return Ok(resolved);
    }
    let client = connections.get().await?;
    let rows = client
        .query(QUALIFY_SQL, &[&quoted(bare_names), &bare_names])
        .await
        .map_err(|e| connections.error(&e))?;
    let resolved: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    cache
        .lock()
        .extend(bare_names.iter().cloned().zip(resolved.iter().cloned()));
    Ok(resolved)
}
