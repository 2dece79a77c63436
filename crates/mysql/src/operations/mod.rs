//! The operations: `query`, `list_objects`, `describe_object`, `insert`, `update`, `delete`. Each is
//! planned (its access resolved) before it runs.

pub(crate) mod query;
pub(crate) mod write;

/// What `plan` prepared for `execute`.
pub(crate) enum Prepared {
    /// A checked read-only statement and its parameters.
    Query(query::PreparedQuery),
    /// List the database's objects.
    ListObjects,
    /// Describe one table (its name in the database).
    Describe(String),
    /// A structured write against one table (its name in the database).
    Write(write::PreparedWrite),
}
