//! The operations: `query`, `list_objects`, `describe_object`, `insert`, `update`, `delete`. Each is
//! planned (its access resolved) before it runs.

pub(crate) mod query;
pub(crate) mod write;

/// What `plan` prepared for `execute`.
pub(crate) enum Prepared {
    /// A checked read-only statement, its parameters and row limit.
    Query(query::PreparedQuery),
    /// List every object.
    ListObjects,
    /// Describe one table (its name in the catalog).
    Describe(String),
    /// A structured write against one table (its name in the catalog).
    Write(write::PreparedWrite),
}
