//! A row cap written into an accepted statement: the outermost query's `LIMIT` lowered to at most the rows
//! the caller will read, so the server stops producing rows where the reader would stop reading them.
//!
//! The rows that come back are the same first rows the reader would have taken: a top-level `LIMIT` applies
//! after the query's own `ORDER BY` and `OFFSET`, and `LIMIT min(k, n)` keeps the first `min(k, n)` of
//! them. Shapes where that is not plainly true (`FETCH ... WITH TIES` or `PERCENT`, a `LIMIT` that is an
//! expression, dialect extras such as `LIMIT BY`, pipe operators, `EXPLAIN`) are left alone, and the
//! caller keeps bounding the read itself.

use sqlparser::ast::{Expr, LimitClause, Query, Statement, Value};

/// The statement with its outermost `LIMIT` at most `rows`, rendered; `None` when its shape is left alone.
pub(crate) fn capped(statement: &Statement, rows: u64) -> Option<String> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let mut query: Query = query.as_ref().clone();
    if query.fetch.is_some()
        || !query.pipe_operators.is_empty()
        || query.settings.is_some()
        || query.format_clause.is_some()
        || query.for_clause.is_some()
    {
        return None;
    }
    match &mut query.limit_clause {
        None => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(number(rows)),
                offset: None,
                limit_by: Vec::new(),
            });
        }
        Some(LimitClause::LimitOffset { limit, limit_by, .. }) if limit_by.is_empty() => match limit {
            // `LIMIT ALL`, or `OFFSET` alone.
            None => *limit = Some(number(rows)),
            Some(written) => {
                let written = literal(written)?;
                if written > rows {
                    *limit = Some(number(rows));
                }
            }
        },
        Some(_) => return None,
    }
    Some(Statement::Query(Box::new(query)).to_string())
}

fn number(rows: u64) -> Expr {
    Expr::value(Value::Number(rows.to_string(), false))
}

/// A `LIMIT` written as a plain non-negative integer.
fn literal(expr: &Expr) -> Option<u64> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::Number(digits, false) => digits.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::{Dialect, ReadStatement};

    fn capped(sql: &str, rows: u64) -> Option<String> {
        ReadStatement::parse(sql, Dialect::Postgres)
            .unwrap()
            .row_capped(rows)
    }

    #[test]
    fn a_statement_without_limit_gets_one() {
        assert_eq!(
            capped("SELECT id FROM t ORDER BY id", 101).as_deref(),
            Some("SELECT id FROM t ORDER BY id LIMIT 101")
        );
    }

    #[test]
    fn a_larger_limit_is_lowered_and_a_smaller_one_kept() {
        assert_eq!(
            capped("SELECT id FROM t ORDER BY id LIMIT 5000 OFFSET 10", 101).as_deref(),
            Some("SELECT id FROM t ORDER BY id LIMIT 101 OFFSET 10")
        );
        assert_eq!(
            capped("SELECT id FROM t ORDER BY id LIMIT 100", 101).as_deref(),
            Some("SELECT id FROM t ORDER BY id LIMIT 100")
        );
        assert_eq!(
            capped("SELECT id FROM t LIMIT ALL", 3).as_deref(),
            Some("SELECT id FROM t LIMIT 3")
        );
        assert_eq!(
            capped("SELECT id FROM t OFFSET 4", 3).as_deref(),
            Some("SELECT id FROM t LIMIT 3 OFFSET 4")
        );
    }

    #[test]
    fn set_operations_are_capped_as_a_whole() {
        assert_eq!(
            capped("SELECT a FROM t UNION SELECT a FROM u LIMIT 9", 4).as_deref(),
            Some("SELECT a FROM t UNION SELECT a FROM u LIMIT 4")
        );
    }

    #[test]
    fn an_inner_limit_is_not_touched() {
        assert_eq!(
            capped("SELECT * FROM (SELECT id FROM t LIMIT 500) AS s", 10).as_deref(),
            Some("SELECT * FROM (SELECT id FROM t LIMIT 500) AS s LIMIT 10")
        );
    }

    #[test]
    fn shapes_it_cannot_cap_plainly_are_left_alone() {
        assert_eq!(capped("SELECT id FROM t LIMIT $1", 10), None);
        assert_eq!(capped("SELECT id FROM t LIMIT 2 + 3", 10), None);
        assert_eq!(
            capped("SELECT id FROM t ORDER BY id FETCH FIRST 5 ROWS WITH TIES", 10),
            None
        );
        assert_eq!(capped("EXPLAIN SELECT id FROM t", 10), None);
    }

    #[test]
    fn a_kept_cap_answers_only_for_its_own_row_count() {
        let statement = ReadStatement::parse("SELECT id FROM t", Dialect::Postgres).unwrap();
        assert_eq!(
            statement.row_capped(5).as_deref(),
            Some("SELECT id FROM t LIMIT 5")
        );
        assert_eq!(
            statement.row_capped(7).as_deref(),
            Some("SELECT id FROM t LIMIT 7")
        );
        assert_eq!(
            statement.row_capped(5).as_deref(),
            Some("SELECT id FROM t LIMIT 5")
        );
    }
}
