//! The operations every SQL connector offers, with their parameter types. The JSON Schemas that agents see
//! are generated from these types, so all three connectors describe their operations identically.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use tributary_core::{
    Column, Data, Error, ObjectInfo, OperationRequest, OperationSpec, Output, Result, RowSet, Truncation,
    TruncationReason, parse_params,
};

use crate::dialect::Dialect;
use crate::write::{self, Target, WriteStatement};

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

/// A request to a SQL connector, parsed into its operation's typed parameters.
#[derive(Debug, Clone)]
pub enum SqlRequest {
    /// `query`.
    Query(QueryParams),
    /// `list_objects`.
    ListObjects(ListObjectsParams),
    /// `describe_object`.
    DescribeObject(DescribeObjectParams),
    /// `insert`, `update` or `delete`.
    Write(WriteRequest),
}

impl SqlRequest {
    /// Parses a request for one of the operations in [`specs`]. Unknown operations are
    /// [`ErrorKind::Unsupported`](tributary_core::ErrorKind::Unsupported); bad parameters name the parameter.
    pub fn parse(request: &OperationRequest) -> Result<SqlRequest> {
        let params = &request.params;
        Ok(match request.operation.as_str() {
            "query" => SqlRequest::Query(parse_params(params)?),
            "list_objects" => SqlRequest::ListObjects(parse_params(params)?),
            "describe_object" => SqlRequest::DescribeObject(parse_params(params)?),
            "insert" => SqlRequest::Write(WriteRequest::Insert(parse_params(params)?)),
            "update" => SqlRequest::Write(WriteRequest::Update(parse_params(params)?)),
            "delete" => SqlRequest::Write(WriteRequest::Delete(parse_params(params)?)),
            other => {
                return Err(Error::unsupported(format!(
                    "SQL connectors have no operation `{other}`; they offer: query, list_objects, describe_object, \
                     insert, update, delete"
                )));
            }
        })
    }
}

/// A structured write.
#[derive(Debug, Clone)]
pub enum WriteRequest {
    /// New rows.
    Insert(InsertParams),
    /// Changed rows.
    Update(UpdateParams),
    /// Removed rows.
    Delete(DeleteParams),
}

impl WriteRequest {
    /// The table the write names, as the caller wrote it.
    pub fn table(&self) -> &str {
        match self {
            WriteRequest::Insert(params) => &params.table,
            WriteRequest::Update(params) => &params.table,
            WriteRequest::Delete(params) => &params.table,
        }
    }

    /// The statement for `object` (the table's discovered description) at `target`.
    pub fn statement(
        &self,
        dialect: Dialect,
        object: &ObjectInfo,
        target: Target<'_>,
    ) -> Result<WriteStatement> {
        match self {
            WriteRequest::Insert(params) => write::insert(dialect, object, target, &params.rows),
            WriteRequest::Update(params) => {
                write::update(dialect, object, target, &params.set, &params.filter)
            }
            WriteRequest::Delete(params) => write::delete(dialect, object, target, &params.filter),
        }
    }
}

/// Rows kept as a query reads them, under a row limit and the host's byte budget. The reader offers each
/// row and stops when told: at the byte budget nothing more is read, so a source cannot make the host
/// hold more than the budget.
#[derive(Debug)]
pub struct RowCollector {
    rows: Vec<Vec<Value>>,
    limit: u64,
    meter: tributary_core::budget::Meter,
    /// The largest row kept, in bytes (a reader sizes its next fetch by it).
    largest: u64,
    more: bool,
    over_budget: bool,
}

impl RowCollector {
    /// A collector of at most `limit` rows within `budget`'s bytes.
    pub fn new(limit: u64, budget: &tributary_core::Budget) -> RowCollector {
        RowCollector {
            rows: Vec::new(),
            limit,
            meter: budget.meter(),
            largest: 0,
            more: false,
            over_budget: false,
        }
    }

    /// Whether the row limit is reached: one more row means "more exist", and reading stops.
    pub fn is_full(&self) -> bool {
        self.rows.len() as u64 >= self.limit
    }

    /// Notes that the source had more rows than the limit.
    pub fn mark_more(&mut self) {
        self.more = true;
    }

    /// Keeps `row` if it fits the byte budget; `false` when it does not (it is dropped, and the reader
    /// stops).
    pub fn push(&mut self, row: Vec<Value>) -> bool {
        if self.meter.max_bytes().is_none() {
            // No byte budget (a library caller's own read): nothing to size the row against.
            self.rows.push(row);
            return true;
        }
        let size = tributary_core::budget::Meter::row_size(&row);
        if self.meter.admit_bytes(size) {
            self.largest = self.largest.max(size);
            self.rows.push(row);
            true
        } else {
            self.over_budget = true;
            false
        }
    }

    /// The JSON bytes kept so far.
    pub fn used_bytes(&self) -> u64 {
        self.meter.used()
    }

    /// The largest row kept so far, in JSON bytes (0 before the first, and when there is no byte budget).
    pub fn largest_row_bytes(&self) -> u64 {
        self.largest
    }

    /// The result, saying which limit cut it, if one did.
    pub fn finish(self, columns: Vec<Column>) -> Output {
        let returned = self.rows.len() as u64;
        let cut = if self.over_budget {
            Some(Truncation::new(
                TruncationReason::ByteLimit,
                self.meter.max_bytes().unwrap_or_default(),
                returned,
                None,
            ))
        } else if self.more {
            Some(Truncation::new(
                TruncationReason::RowLimit,
                self.limit,
                returned,
                None,
            ))
        } else {
            None
        };
        Output::bounded(
            Data::Rows(RowSet {
                columns,
                rows: self.rows,
            }),
            cut,
        )
    }
}

/// The output of a write that affected `affected` rows.
pub fn write_output(affected: u64) -> Output {
    Output::complete(Data::Write(tributary_core::WriteSummary {
        affected,
        items: Vec::new(),
    }))
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
    fn requests_parse_into_typed_parameters() {
        let request = OperationRequest::new("delete", serde_json::json!({"table": "t", "filter": {"id": 1}}));
        match SqlRequest::parse(&request).unwrap() {
            SqlRequest::Write(write) => assert_eq!(write.table(), "t"),
            other => panic!("parsed as {other:?}"),
        }
        let unknown = SqlRequest::parse(&OperationRequest::new("drop", serde_json::json!({}))).unwrap_err();
        assert_eq!(unknown.kind(), tributary_core::ErrorKind::Unsupported);
        let bad =
            SqlRequest::parse(&OperationRequest::new("query", serde_json::json!({"sql": 1}))).unwrap_err();
        assert_eq!(bad.kind(), tributary_core::ErrorKind::InvalidInput);
        let budget = tributary_core::Budget::unbounded();
        let mut more = RowCollector::new(1, &budget);
        assert!(more.push(vec![Value::Null]));
        assert!(more.is_full());
        more.mark_more();
        let output = more.finish(vec![]);
        assert_eq!(output.truncation.unwrap().returned, 1);
        assert!(!RowCollector::new(1, &budget).finish(vec![]).is_truncated());
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
