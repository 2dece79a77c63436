//! What Tributary's SQL connectors share.
//!
//! - [`dialect`]: PostgreSQL, MySQL and SQLite differences: parser, quoting, placeholders, system schemas.
//! - [`guard`]: the read-only statement guard behind every connector's `query` operation.
//! - [`functions`]: the built-in functions a read-only query may call.

pub mod dialect;
pub mod functions;
pub mod guard;

pub use dialect::Dialect;
pub use guard::{ReadStatement, TableRef};
