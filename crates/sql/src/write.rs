//! Structured writes: `insert`, `update` and `delete` built from JSON, never from raw SQL.
//!
//! The table and every column are checked against the discovered schema (an [`ObjectInfo`]) and quoted by
//! the dialect's rules; every value becomes a bound parameter. `update` and `delete` need a non-empty
//! equality filter, so one call cannot rewrite or empty a whole table by omission.

use serde_json::{Map, Value};
use tributary_core::{Error, ObjectInfo, Result};

use crate::dialect::Dialect;
use crate::operations::MAX_INSERT_ROWS;

/// A statement ready to run: SQL with placeholders, its values in order, and the column each value is
/// for (so a connector can convert values to the column's type).
#[derive(Debug, Clone, PartialEq)]
pub struct WriteStatement {
    /// The SQL text.
    pub sql: String,
    /// The bound values, in placeholder order.
    pub values: Vec<Value>,
    /// For each value, the column it is compared with or stored in.
    pub columns: Vec<String>,
}

/// Where a table lives, for quoting: its schema (or database) and name.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The schema, database, or SQLite database name (`main`).
    pub schema: &'a str,
    /// The table's name.
    pub table: &'a str,
}

fn check_column(object: &ObjectInfo, column: &str) -> Result<()> {
    if object.field(column).is_some() {
        Ok(())
    } else {
        let known: Vec<&str> = object.fields.iter().map(|field| field.name.as_str()).collect();
        Err(
            Error::invalid_input(format!("`{}` has no column `{column}`", object.name))
                .with_hint(format!("its columns are: {}", known.join(", "))),
        )
    }
}

fn table_sql(dialect: Dialect, target: Target<'_>) -> String {
    dialect.quote_qualified(Some(target.schema), target.table)
}

fn where_clause(
    dialect: Dialect,
    object: &ObjectInfo,
    filter: &Map<String, Value>,
    statement: &mut WriteStatement,
) -> Result<()> {
    if filter.is_empty() {
        return Err(
            Error::invalid_input("the filter is empty; it must name at least one column")
                .with_hint("give column = value pairs that select the rows to change"),
        );
    }
    let mut conditions = Vec::with_capacity(filter.len());
    for (column, value) in filter {
        check_column(object, column)?;
        let quoted = dialect.quote_ident(column);
        if value.is_null() {
            conditions.push(format!("{quoted} IS NULL"));
        } else {
            statement.values.push(value.clone());
            statement.columns.push(column.clone());
            conditions.push(format!(
                "{quoted} = {}",
                dialect.placeholder(statement.values.len())
            ));
        }
    }
    statement.sql.push_str(" WHERE ");
    statement.sql.push_str(&conditions.join(" AND "));
    Ok(())
}

/// One `INSERT` with a row of placeholders per row. Every row must have the same columns.
pub fn insert(
    dialect: Dialect,
    object: &ObjectInfo,
    target: Target<'_>,
    rows: &[Map<String, Value>],
) -> Result<WriteStatement> {
    let Some(first) = rows.first() else {
        return Err(Error::invalid_input("rows is empty; give at least one row"));
    };
    if rows.len() > MAX_INSERT_ROWS {
        return Err(Error::invalid_input(format!(
            "{} rows given; at most {MAX_INSERT_ROWS} per call",
            rows.len()
        )));
    }
    if first.is_empty() {
        return Err(Error::invalid_input("a row has no columns"));
    }
    let columns: Vec<&String> = first.keys().collect();
    for column in &columns {
        check_column(object, column)?;
    }
    let mut statement = WriteStatement {
        sql: String::new(),
        values: Vec::new(),
        columns: Vec::new(),
    };
    let mut tuples = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        if row.len() != columns.len() || !columns.iter().all(|column| row.contains_key(*column)) {
            return Err(
                Error::invalid_input(format!("row {index} has different columns from row 0"))
                    .with_hint("give every row the same columns; use null for missing values"),
            );
        }
        let mut placeholders = Vec::with_capacity(columns.len());
        for column in &columns {
            statement
                .values
                .push(row.get(*column).cloned().unwrap_or(Value::Null));
            statement.columns.push((*column).clone());
            placeholders.push(dialect.placeholder(statement.values.len()));
        }
        tuples.push(format!("({})", placeholders.join(", ")));
    }
    let column_list: Vec<String> = columns.iter().map(|column| dialect.quote_ident(column)).collect();
    statement.sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        table_sql(dialect, target),
        column_list.join(", "),
        tuples.join(", ")
    );
    Ok(statement)
}

/// One `UPDATE ... SET ... WHERE` with an equality filter.
pub fn update(
    dialect: Dialect,
    object: &ObjectInfo,
    target: Target<'_>,
    set: &Map<String, Value>,
    filter: &Map<String, Value>,
) -> Result<WriteStatement> {
    if set.is_empty() {
        return Err(Error::invalid_input(
            "set is empty; name at least one column to change",
        ));
    }
    let mut statement = WriteStatement {
        sql: String::new(),
        values: Vec::new(),
        columns: Vec::new(),
    };
    let mut assignments = Vec::with_capacity(set.len());
    for (column, value) in set {
        check_column(object, column)?;
        statement.values.push(value.clone());
        statement.columns.push(column.clone());
        assignments.push(format!(
            "{} = {}",
            dialect.quote_ident(column),
            dialect.placeholder(statement.values.len())
        ));
    }
    statement.sql = format!(
        "UPDATE {} SET {}",
        table_sql(dialect, target),
        assignments.join(", ")
    );
    where_clause(dialect, object, filter, &mut statement)?;
    Ok(statement)
}

/// One `DELETE ... WHERE` with an equality filter.
pub fn delete(
    dialect: Dialect,
    object: &ObjectInfo,
    target: Target<'_>,
    filter: &Map<String, Value>,
) -> Result<WriteStatement> {
    let mut statement = WriteStatement {
        sql: format!("DELETE FROM {}", table_sql(dialect, target)),
        values: Vec::new(),
        columns: Vec::new(),
    };
    where_clause(dialect, object, filter, &mut statement)?;
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tributary_core::{DataType, FieldInfo, ObjectKind};

    fn object() -> ObjectInfo {
        let mut object = ObjectInfo::new("public.people", ObjectKind::Table);
        for name in ["id", "name", "we\"ird"] {
            object.fields.push(FieldInfo::new(name, DataType::String, "text"));
        }
        object
    }

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    const TARGET: Target<'static> = Target {
        schema: "public",
        table: "people",
    };

    #[test]
    fn insert_binds_every_value_and_quotes_every_name() {
        let rows = [
            map(json!({"id": 1, "we\"ird": "x"})),
            map(json!({"id": 2, "we\"ird": null})),
        ];
        let statement = insert(Dialect::Postgres, &object(), TARGET, &rows).unwrap();
        assert_eq!(
            statement.sql,
            r#"INSERT INTO "public"."people" ("id", "we""ird") VALUES ($1, $2), ($3, $4)"#
        );
        assert_eq!(statement.values, [json!(1), json!("x"), json!(2), Value::Null]);
        assert_eq!(statement.columns, ["id", "we\"ird", "id", "we\"ird"]);
        let statement = insert(Dialect::MySql, &object(), TARGET, &rows[..1]).unwrap();
        assert_eq!(
            statement.sql,
            "INSERT INTO `public`.`people` (`id`, `we\"ird`) VALUES (?, ?)"
        );
    }

    #[test]
    fn insert_refuses_unknown_columns_and_ragged_rows() {
        let error = insert(
            Dialect::Postgres,
            &object(),
            TARGET,
            &[map(json!({"id; DROP TABLE x": 1}))],
        )
        .unwrap_err();
        assert!(error.message().contains("has no column"), "{error}");
        assert!(error.hint().contains("id, name"), "{}", error.hint());
        let ragged = [map(json!({"id": 1})), map(json!({"name": "x"}))];
        assert!(insert(Dialect::Postgres, &object(), TARGET, &ragged).is_err());
        assert!(insert(Dialect::Postgres, &object(), TARGET, &[]).is_err());
        assert!(insert(Dialect::Postgres, &object(), TARGET, &[Map::new()]).is_err());
        let many = vec![map(json!({"id": 1})); MAX_INSERT_ROWS + 1];
        assert!(insert(Dialect::Postgres, &object(), TARGET, &many).is_err());
    }

    #[test]
    fn update_and_delete_need_a_filter() {
        let statement = update(
            Dialect::Postgres,
            &object(),
            TARGET,
            &map(json!({"name": "b"})),
            &map(json!({"id": 1, "we\"ird": null})),
        )
        .unwrap();
        assert_eq!(
            statement.sql,
            r#"UPDATE "public"."people" SET "name" = $1 WHERE "id" = $2 AND "we""ird" IS NULL"#
        );
        assert_eq!(statement.values, [json!("b"), json!(1)]);
        let error = update(
            Dialect::Postgres,
            &object(),
            TARGET,
            &map(json!({"name": "b"})),
            &Map::new(),
        )
        .unwrap_err();
        assert!(error.message().contains("filter is empty"));
        assert!(
            update(
                Dialect::Postgres,
                &object(),
                TARGET,
                &Map::new(),
                &map(json!({"id": 1}))
            )
            .is_err()
        );
        let statement = delete(Dialect::Sqlite, &object(), TARGET, &map(json!({"id": 3}))).unwrap();
        assert_eq!(statement.sql, r#"DELETE FROM "public"."people" WHERE "id" = ?"#);
        assert!(delete(Dialect::Sqlite, &object(), TARGET, &Map::new()).is_err());
        assert!(delete(Dialect::Sqlite, &object(), TARGET, &map(json!({"nope": 3}))).is_err());
    }
}
