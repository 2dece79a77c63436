//! Statements the guard accepted, kept by their text. Agents send the same few queries again and again;
//! parsing, checking and rendering one costs more than the rest of a small read, and the answer depends
//! only on the text and the dialect, so it is worked out once. Refused statements are not kept: each
//! attempt is checked (and refused) again.

use std::sync::Arc;

use moka::sync::Cache;
use tributary_core::Result;

use crate::{Dialect, ReadStatement};

/// How many accepted statements are kept per connector.
pub const KEPT_STATEMENTS: u64 = 256;

/// Statements longer than this are checked on every call instead of kept: they are rarely sent twice,
/// and the cache's memory stays bounded (about a megabyte of text, and the parse trees behind it).
pub const MAX_KEPT_BYTES: usize = 4096;

/// The accepted statements of one connector, by their text, at most [`KEPT_STATEMENTS`] (moka's bounded
/// cache chooses which to drop).
#[derive(Clone)]
pub struct CheckedStatements {
    dialect: Dialect,
    accepted: Cache<String, Arc<ReadStatement>>,
}

impl CheckedStatements {
    /// An empty cache for statements in `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        CheckedStatements {
            dialect,
            accepted: Cache::new(KEPT_STATEMENTS),
        }
    }

    /// What [`ReadStatement::parse`] says about `sql`, from the cache when it accepted the same text before.
    pub fn check(&self, sql: &str) -> Result<Arc<ReadStatement>> {
        if let Some(statement) = self.accepted.get(sql) {
            return Ok(statement);
        }
        let statement = Arc::new(ReadStatement::parse(sql, self.dialect)?);
        if sql.len() <= MAX_KEPT_BYTES {
            self.accepted.insert(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }
}

impl std::fmt::Debug for CheckedStatements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedStatements")
            .field("dialect", &self.dialect)
            .field("kept", &self.accepted.entry_count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tributary_core::ErrorKind;

    use super::*;

    #[test]
    fn the_same_text_is_checked_once() {
        let statements = CheckedStatements::new(Dialect::Postgres);
        let first = statements.check("SELECT id FROM t").unwrap();
        let again = statements.check("SELECT id FROM t").unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second call must come from the cache"
        );
        let other = statements.check("SELECT id FROM u").unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(other.sql(), "SELECT id FROM u");
    }

    #[test]
    fn refused_statements_are_refused_every_time() {
        let statements = CheckedStatements::new(Dialect::Postgres);
        for _ in 0..2 {
            let error = statements.check("DELETE FROM t").unwrap_err();
            assert_eq!(error.kind(), ErrorKind::PermissionDenied);
        }
        statements.accepted.run_pending_tasks();
        assert_eq!(statements.accepted.entry_count(), 0);
    }

    #[test]
    fn the_dialect_is_the_caches_own() {
        // MySQL refuses executable comments that PostgreSQL reads as plain comments.
        let sql = "SELECT id FROM t /*! WHERE 1 */";
        CheckedStatements::new(Dialect::Postgres).check(sql).unwrap();
        let error = CheckedStatements::new(Dialect::MySql).check(sql).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    }

    #[test]
    fn long_statements_are_not_kept() {
        let statements = CheckedStatements::new(Dialect::Postgres);
        let long = format!("SELECT id FROM t WHERE name = '{}'", "x".repeat(MAX_KEPT_BYTES));
        let first = statements.check(&long).unwrap();
        let again = statements.check(&long).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
    }
}
