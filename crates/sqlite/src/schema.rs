//! Schema discovery from `sqlite_schema` and the `pragma_*` table functions: one query per kind of
//! metadata, whatever the number of tables.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use tributary_core::{Catalog, FieldInfo, ForeignKey, ObjectInfo, ObjectKind};
use tributary_sql::TableRef;

use crate::types::data_type;

/// The schema every object of the database file lives in.
pub(crate) const MAIN: &str = "main";

const USER_OBJECTS: &str = "m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
    AND (?1 IS NULL OR m.name = ?1)";

/// The full name policies and operations use: `main.table`.
pub(crate) fn object_name(table: &str) -> String {
    format!("{MAIN}.{table}")
}

/// Describes every user table and view, or only `table`.
pub(crate) fn discover(
    connection: &Connection,
    table: Option<&str>,
    with_fields: bool,
) -> rusqlite::Result<Catalog> {
    let mut objects = Vec::new();
    let mut index = HashMap::new();
    let mut statement = connection.prepare(&format!(
        "SELECT m.name, m.type FROM main.sqlite_schema m WHERE {USER_OBJECTS} ORDER BY m.name"
    ))?;
    let mut rows = statement.query([table])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let kind = if row.get::<_, String>(1)? == "view" {
            ObjectKind::View
        } else {
            ObjectKind::Table
        };
        let mut object = ObjectInfo::new(object_name(&name), kind);
        object.namespace = Some(MAIN.to_owned());
        index.insert(name, objects.len());
        objects.push(object);
    }
    if with_fields && !objects.is_empty() {
        add_columns(connection, table, &index, &mut objects)?;
        add_foreign_keys(connection, table, &index, &mut objects)?;
        add_row_estimates(connection, &index, &mut objects)?;
    }
    Ok(Catalog {
        objects,
        truncated: false,
    })
}

fn add_columns(
    connection: &Connection,
    table: Option<&str>,
    index: &HashMap<String, usize>,
    objects: &mut [ObjectInfo],
) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(&format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk FROM main.sqlite_schema m \
         JOIN pragma_table_xinfo(m.name, 'main') p WHERE {USER_OBJECTS} AND p.hidden IN (0, 2, 3) ORDER BY m.name, p.cid"
    ))?;
    let mut rows = statement.query([table])?;
    while let Some(row) = rows.next()? {
        let Some(object) = index
            .get(&row.get::<_, String>(0)?)
            .and_then(|at| objects.get_mut(*at))
        else {
            continue;
        };
        let declared: String = row.get(2)?;
        let mut field = FieldInfo::new(row.get::<_, String>(1)?, data_type(Some(&declared)), declared);
        let key_position: i64 = row.get(5)?;
        field.nullable = row.get::<_, i64>(3)? == 0 && key_position == 0;
        field.default = row.get(4)?;
        field.primary_key = key_position > 0;
        if field.primary_key {
            let position = usize::try_from(key_position - 1).unwrap_or(0);
            let slot = position.min(object.primary_key.len());
            object.primary_key.insert(slot, field.name.clone());
        }
        object.fields.push(field);
    }
    Ok(())
}

fn add_foreign_keys(
    connection: &Connection,
    table: Option<&str>,
    index: &HashMap<String, usize>,
    objects: &mut [ObjectInfo],
) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(&format!(
        "SELECT m.name, f.id, f.\"from\", f.\"table\", f.\"to\" FROM main.sqlite_schema m \
         JOIN pragma_foreign_key_list(m.name, 'main') f WHERE {USER_OBJECTS} ORDER BY m.name, f.id, f.seq"
    ))?;
    let mut rows = statement.query([table])?;
    let mut last: Option<(String, i64)> = None;
    while let Some(row) = rows.next()? {
        let (name, id): (String, i64) = (row.get(0)?, row.get(1)?);
        let Some(object) = index.get(&name).and_then(|at| objects.get_mut(*at)) else {
            continue;
        };
        let referenced: String = row.get(3)?;
        let to: Option<String> = row.get(4)?;
        let continuing = last.as_ref() == Some(&(name.clone(), id));
        match object.foreign_keys.last_mut().filter(|_| continuing) {
            Some(key) => {
                key.fields.push(row.get(2)?);
                key.referenced_fields.extend(to);
            }
            None => object.foreign_keys.push(ForeignKey {
                name: None,
                fields: vec![row.get(2)?],
                references: object_name(&referenced),
                referenced_fields: to.into_iter().collect(),
            }),
        }
        last = Some((name, id));
    }
    Ok(())
}

/// Row counts from `sqlite_stat1`, when `ANALYZE` has been run; SQLite keeps no other estimate.
fn add_row_estimates(
    connection: &Connection,
    index: &HashMap<String, usize>,
    objects: &mut [ObjectInfo],
) -> rusqlite::Result<()> {
    let analyzed = connection
        .query_row(
            "SELECT 1 FROM main.sqlite_schema WHERE name = 'sqlite_stat1'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !analyzed {
        return Ok(());
    }
    let mut statement =
        connection.prepare("SELECT tbl, max(CAST(stat AS INTEGER)) FROM main.sqlite_stat1 GROUP BY tbl")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        if let Some(object) = index
            .get(&row.get::<_, String>(0)?)
            .and_then(|at| objects.get_mut(*at))
        {
            object.row_estimate = row
                .get::<_, Option<i64>>(1)?
                .and_then(|count| u64::try_from(count).ok());
        }
    }
    Ok(())
}

/// The full names of the tables a statement reads. SQLite matches names case-insensitively, so each is
/// reported under the spelling the catalog uses; the schema table under its own name.
pub(crate) fn qualify(connection: &Connection, tables: &[TableRef]) -> rusqlite::Result<Vec<String>> {
    let mut statement =
        connection.prepare("SELECT name FROM main.sqlite_schema WHERE type IN ('table', 'view')")?;
    let known: HashMap<String, String> = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|name| (name.to_lowercase(), name))
        .collect();
    Ok(tables
        .iter()
        .map(|table| {
            let schema = table.schema().map_or(MAIN.to_owned(), str::to_lowercase);
            let lower = table.name().to_lowercase();
            let name = match lower.as_str() {
                "sqlite_master" | "sqlite_schema" => "sqlite_schema".to_owned(),
                "sqlite_temp_master" | "sqlite_temp_schema" => "sqlite_temp_schema".to_owned(),
                _ if schema == MAIN => known
                    .get(&lower)
                    .cloned()
                    .unwrap_or_else(|| table.name().to_owned()),
                _ => table.name().to_owned(),
            };
            format!("{schema}.{name}")
        })
        .collect())
}

/// Finds a table or view by the name `list_objects` shows (`main.t`) or its bare name.
pub(crate) fn resolve(connection: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    let bare = name.strip_prefix("main.").unwrap_or(name);
    connection
        .query_row(
            "SELECT name FROM main.sqlite_schema WHERE type IN ('table', 'view') AND name = ?1 COLLATE NOCASE \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name = ?1 DESC LIMIT 1",
            [bare],
            |row| row.get(0),
        )
        .optional()
}
