//! The operations: `query` (read-only SQL), `list_objects` and `describe_object` (the catalog), and
//! `insert`, `update`, `delete` (structured writes). Each is planned (its access resolved) before it runs.

pub(crate) mod query;
pub(crate) mod write;

/// What `plan` prepared for `execute`.
pub(crate) enum Prepared {
    /// A checked read-only statement and its parameters.
    Query(query::PreparedQuery),
    /// List objects, optionally of one schema.
    ListObjects(Option<String>),
    /// Describe one resolved object.
    Describe(crate::schema::Resolved),
    /// A structured write against one resolved table.
    Write(write::PreparedWrite),
}
