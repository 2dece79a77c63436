//! The operations every SQL connector offers, with their parameter types. The JSON Schemas that agents see
//! are generated from these types, so all three connectors describe their operations identically.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use tributary_core::{Error, OperationSpec, Result};

/// `query`: one read-only statement.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryParams {
    /// One read-only SQL statement (SELECT, WITH ... SELECT, VALUES, or EXPLAIN of those). Write values as
    /// placeholders ($1, $2 for PostgreSQL; ? for MySQL and SQLite) and pass them in `params`.
    pub sql: String,
    /// Values for the placeholders, in order.
    #[serde(default)]
    pub params: Vec<Value>,
    /// Return at most this many rows (capped by the connector's maximum). The result says when rows were
    /// left out.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_rows: Option<u64>,
}

/// `list_objects`: the tables and views an agent can query.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListObjectsParams {
    /// Only objects in this schema (database for MySQL).
    #[serde(default)]
    pub schema: Option<String>,
}

/// `describe_object`: one table or view with its columns and keys.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeObjectParams {
    /// The object's full name as `list_objects` shows it (for example `public.orders`).
    pub object: String,
}

/// `insert`: new rows in one table.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsertParams {
    /// The table's full name as `list_objects` shows it.
    pub table: String,
    /// The rows, each an object of column name to value. All rows are inserted in one transaction.
    #[schemars(length(min = 1, max = 1000))]
    pub rows: Vec<Map<String, Value>>,
}

/// `update`: change the rows that match a filter.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParams {
    /// The table's full name as `list_objects` shows it.
    pub table: String,
    /// Column name to new value.
    pub set: Map<String, Value>,
    /// Column name to value; a row matches when every column equals its value (null matches NULL).
    /// Required and non-empty: updating every row is not allowed.
    pub filter: Map<String, Value>,
}

/// `delete`: remove the rows that match a filter.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// The table's full name as `list_objects` shows it.
    pub table: String,
    /// Column name to value; a row matches when every column equals its value (null matches NULL).
    /// Required and non-empty: deleting every row is not allowed.
    pub filter: Map<String, Value>,
}

/// The most rows one `insert` call may carry.
pub const MAX_INSERT_ROWS: usize = 1000;

/// The operations of a SQL connector whose source is named `source` ("PostgreSQL database `shop`").
pub fn specs(source: &str) -> Vec<OperationSpec> {
    vec![
        OperationSpec::read::<QueryParams>(
            "query",
            format!(
                "Run one read-only SQL query on the {source} and get rows back as JSON. Only a single SELECT \
                 (or WITH/VALUES/EXPLAIN) is accepted; pass values as parameters, never inside the SQL text. \
                 Call list_objects and describe_object first to learn the tables and columns."
            ),
        ),
        OperationSpec::read::<ListObjectsParams>(
            "list_objects",
            format!("List the tables and views of the {source}, with their kinds and estimated row counts."),
        ),
        OperationSpec::read::<DescribeObjectParams>(
            "describe_object",
            format!(
                "Describe one table or view of the {source}: columns with types and nullability, primary and \
                 foreign keys."
            ),
        ),
        OperationSpec::write::<InsertParams>(
            "insert",
            format!("Insert one or more rows into a table of the {source}, all in one transaction."),
        ),
        OperationSpec::write::<UpdateParams>(
            "update",
            format!(
                "Update the rows of a table of the {source} that match an equality filter; returns the count."
            ),
        )
        .idempotent(),
        OperationSpec::write::<DeleteParams>(
            "delete",
            format!(
                "Delete the rows of a table of the {source} that match an equality filter; returns the count."
            ),
        )
        .destructive()
        .idempotent(),
    ]
}

/// The number of rows a query returns: the caller's request, else the default, never above the maximum.
pub fn row_limit(requested: Option<u64>, default: u64, maximum: u64) -> Result<u64> {
    match requested {
        Some(0) => Err(Error::invalid_input("max_rows must be at least 1")),
        Some(requested) => Ok(requested.min(maximum)),
        None => Ok(default.min(maximum)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_cover_reads_and_writes() {
        let specs = specs("PostgreSQL database `shop`");
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "query",
                "list_objects",
                "describe_object",
                "insert",
                "update",
                "delete"
            ]
        );
        assert!(specs[0].description.contains("PostgreSQL database `shop`"));
        assert_eq!(specs[0].parameters["required"], serde_json::json!(["sql"]));
        assert_eq!(specs[3].parameters["properties"]["rows"]["maxItems"], 1000);
        assert!(specs[5].destructive);
    }

    #[test]
    fn row_limits() {
        assert_eq!(row_limit(None, 100, 1000).unwrap(), 100);
        assert_eq!(row_limit(Some(5), 100, 1000).unwrap(), 5);
        assert_eq!(row_limit(Some(50_000), 100, 1000).unwrap(), 1000);
        assert_eq!(row_limit(None, 5000, 1000).unwrap(), 1000);
        assert!(row_limit(Some(0), 100, 1000).is_err());
    }
}
