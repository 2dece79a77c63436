//! Schema discovery from `information_schema`: one query per kind of metadata (objects, columns, keys),
//! whatever the number of tables, limited to the connector's database.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use tributary_core::{Catalog, FieldInfo, ForeignKey, ObjectInfo, ObjectKind, Result};

use crate::connection::Connections;
use crate::types::{catalog_type, enum_labels};

/// A row of `information_schema.COLUMNS`: table, column, data type, column type, nullable, default, comment.
type ColumnRow = (String, String, String, String, String, Option<String>, String);

/// A row of `information_schema.KEY_COLUMN_USAGE`: table, constraint, column, and the referenced schema,
/// table and column.
type KeyRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

const SCOPE: &str = "TABLE_SCHEMA = ? AND (? IS NULL OR TABLE_NAME = ?)";

/// The full name policies and operations use: `database.table`, unquoted.
pub(crate) fn object_name(database: &str, table: &str) -> String {
    format!("{database}.{table}")
}

/// Describes the connector database's tables and views, or only `table`.
pub(crate) async fn discover(
    connections: &Connections,
    table: Option<&str>,
    with_fields: bool,
) -> Result<Catalog> {
    let database = connections.database().to_owned();
    let mut conn = connections.get().await?;
    let params = (database.as_str(), table, table);
    let rows: Vec<(String, String, Option<String>, Option<u64>)> = conn
        .exec(
            format!("SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_ROWS FROM information_schema.TABLES WHERE {SCOPE} ORDER BY TABLE_NAME"),
            params,
        )
        .await
        .map_err(|e| connections.error(&e))?;
    let mut objects = Vec::with_capacity(rows.len());
    let mut index = HashMap::with_capacity(rows.len());
    for (name, kind, comment, estimate) in rows {
        let view = kind.contains("VIEW");
        let mut object = ObjectInfo::new(
            object_name(&database, &name),
            if view { ObjectKind::View } else { ObjectKind::Table },
        );
        object.namespace = Some(database.clone());
        object.description = comment.filter(|comment| !comment.is_empty() && !view);
        object.row_estimate = if view { None } else { estimate };
        index.insert(name, objects.len());
        objects.push(object);
    }
    if with_fields && !objects.is_empty() {
        let columns: Vec<ColumnRow> = conn
            .exec(
                format!(
                    "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT \
                     FROM information_schema.COLUMNS WHERE {SCOPE} ORDER BY TABLE_NAME, ORDINAL_POSITION"
                ),
                params,
            )
            .await
            .map_err(|e| connections.error(&e))?;
        for (table, name, data_type, column_type, nullable, default, comment) in columns {
            let Some(object) = index.get(&table).and_then(|at| objects.get_mut(*at)) else {
                continue;
            };
            let mut field = FieldInfo::new(name, catalog_type(&data_type, &column_type), column_type.clone());
            field.nullable = nullable == "YES";
            field.default = default;
            field.description = Some(comment).filter(|comment| !comment.is_empty());
            if matches!(data_type.as_str(), "enum" | "set") {
                field.allowed_values = enum_labels(&column_type);
            }
            object.fields.push(field);
        }
        let keys: Vec<KeyRow> = conn
            .exec(
                format!(
                    "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, \
                     REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE {SCOPE} \
                     AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL) \
                     ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION"
                ),
                params,
            )
            .await
            .map_err(|e| connections.error(&e))?;
        for (table, constraint, column, referenced_schema, referenced_table, referenced_column) in keys {
            let Some(object) = index.get(&table).and_then(|at| objects.get_mut(*at)) else {
                continue;
            };
            if constraint == "PRIMARY" {
                if let Some(field) = object.fields.iter_mut().find(|field| field.name == column) {
                    field.primary_key = true;
                }
                object.primary_key.push(column);
            } else if let (Some(schema), Some(referenced)) = (referenced_schema, referenced_table) {
                let references = object_name(&schema, &referenced);
                match object
                    .foreign_keys
                    .last_mut()
                    .filter(|key| key.name.as_deref() == Some(constraint.as_str()))
                {
                    Some(key) => {
                        key.fields.push(column);
                        key.referenced_fields.extend(referenced_column);
                    }
                    None => object.foreign_keys.push(ForeignKey {
                        name: Some(constraint),
                        fields: vec![column],
                        references,
                        referenced_fields: referenced_column.into_iter().collect(),
                    }),
                }
            }
        }
    }
    // information_schema sorts by its collation (case-insensitive); the catalog is sorted by exact name.
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Catalog {
        objects,
        truncated: false,
    })
}

/// Finds a table or view of the connector's database by the name `list_objects` shows (`shop.orders`) or
/// its bare name.
pub(crate) async fn resolve(connections: &Connections, name: &str) -> Result<String> {
    let database = connections.database().to_owned();
    let bare = name
        .strip_prefix(&format!("{database}."))
        .unwrap_or(name)
        .to_owned();
    let mut conn = connections.get().await?;
    let found: Option<String> = conn
        .exec_first(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? LIMIT 1",
            (database.as_str(), bare.as_str()),
        )
        .await
        .map_err(|e| connections.error(&e))?;
    found.ok_or_else(|| {
        tributary_core::Error::not_found(format!(
            "no table or view named `{name}` in database `{database}`"
        ))
        .with_hint("call list_objects and use a name as it shows it (database.table)")
    })
}
