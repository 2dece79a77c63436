//! What Tributary's SQL connectors share, so PostgreSQL, MySQL and SQLite behave alike.
//!
//! - [`config`]: the configuration fields and checks the connectors share.
//! - [`dialect`]: the differences between dialects: parser, quoting, placeholders, system schemas.
//! - [`guard`]: the read-only statement guard behind every connector's `query` operation.
//! - [`checked`]: the statements the guard accepted, kept by their text so a repeated query is checked once.
//! - [`functions`]: the built-in functions a read-only query may call.
//! - [`operations`]: the operations every SQL connector offers and their parameter types.
//! - [`write`](mod@write): `insert`, `update` and `delete` built from JSON against the discovered schema.

pub mod checked;
pub mod config;
pub mod dialect;
pub mod functions;
pub mod guard;
pub mod operations;
mod row_cap;
pub mod write;

pub use checked::CheckedStatements;
pub use dialect::Dialect;
pub use guard::{ReadStatement, TableRef};
