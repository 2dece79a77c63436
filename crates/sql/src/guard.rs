//! The read-only statement guard: what `query` lets through.
//!
//! A statement is accepted only if a real SQL parser, in the server's dialect, reads it as exactly one plain
//! query (`SELECT`, `VALUES`, set operations, CTEs that only read) or an `EXPLAIN` of one without
//! `ANALYZE`. Inside it, every function call must be a known side-effect-free built-in, nothing may take
//! locks (`FOR UPDATE`) or write (`SELECT ... INTO`, data-modifying CTEs), and every table read is reported
//! so the caller can check it against a policy, system catalogs included.
//!
//! What runs is the parser's own rendering of the accepted statement, not the caller's text: whatever the
//! parser did not see (an executable comment, say) cannot run. The connectors add the second and third
//! lines of defence: a read-only transaction with a statement timeout, and a prepared statement that the
//! server refuses to split into several.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use sqlparser::ast::{
    BinaryOperator, Expr, Function, ObjectName, ObjectNamePart, Query, Select, SetExpr, Statement,
    TableFactor, Visit, Visitor,
};
use sqlparser::parser::Parser;
use tributary_core::{Error, Result};

use crate::dialect::Dialect;

/// The longest statement accepted, in bytes: bounds parser work on untrusted input.
pub const MAX_STATEMENT_BYTES: usize = 100_000;

/// How deep expressions and subqueries may nest before the parser gives up, bounding stack use.
const MAX_NESTING: usize = 64;

/// A table named in a statement, as written, with unquoted parts folded by the dialect's rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableRef {
    /// One to three parts: `[name]`, `[schema, name]` or `[database, schema, name]`.
    pub parts: Vec<String>,
}

impl TableRef {
    /// The last part: the table's own name.
    pub fn name(&self) -> &str {
        self.parts.last().map_or("", String::as_str)
    }

    /// The part before the name, when the statement qualified it.
    pub fn schema(&self) -> Option<&str> {
        self.parts
            .len()
            .checked_sub(2)
            .and_then(|index| self.parts.get(index))
            .map(String::as_str)
    }
}

impl fmt::Display for TableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts.join("."))
    }
}

/// A statement the guard accepted.
#[derive(Debug, Clone)]
pub struct ReadStatement {
    sql: String,
    /// The accepted statement, for [`ReadStatement::row_capped`].
    statement: Box<Statement>,
    tables: BTreeSet<TableRef>,
    explain: bool,
    /// The first row cap asked for and its rendering: a connector asks for the same cap every time, and a
    /// kept statement (see [`CheckedStatements`](crate::CheckedStatements)) renders it once.
    capped: OnceLock<(u64, Option<String>)>,
}

impl PartialEq for ReadStatement {
    fn eq(&self, other: &Self) -> bool {
        // What was accepted, not what was asked of it since.
        self.statement == other.statement && self.tables == other.tables && self.explain == other.explain
    }
}

impl Eq for ReadStatement {}

impl ReadStatement {
    /// Checks `sql` and returns the accepted statement, or an error that says what was refused and what to
    /// do instead: [`PermissionDenied`](tributary_core::ErrorKind::PermissionDenied) for a statement the
    /// read-only rules refuse, [`InvalidInput`](tributary_core::ErrorKind::InvalidInput) for one that
    /// does not parse, is empty, too long or holds a NUL byte.
    pub fn parse(sql: &str, dialect: Dialect) -> Result<ReadStatement> {
        if sql.trim().is_empty() {
            return Err(malformed("the statement is empty", "write one SELECT statement"));
        }
        if sql.len() > MAX_STATEMENT_BYTES {
            return Err(malformed(
                &format!("the statement is longer than {MAX_STATEMENT_BYTES} bytes"),
                "write a shorter query",
            ));
        }
        if sql.contains('\0') {
            return Err(malformed(
                "the statement contains a NUL byte",
                "remove the NUL byte; SQL text cannot carry one",
            ));
        }
        if dialect == Dialect::MySql && (sql.contains("/*!") || sql.contains("/*M!")) {
            return Err(refused(
                "MySQL executable comments (/*! ... */) are not allowed",
                "write the SQL without executable comments",
            ));
        }
        let parser_dialect = dialect.parser();
        let mut statements = Parser::new(parser_dialect.as_ref())
            .with_recursion_limit(MAX_NESTING)
            .try_with_sql(sql)
            .and_then(|mut parser| parser.parse_statements())
            .map_err(|error| {
                Error::invalid_input(format!(
                    "the {} parser could not read the statement: {error}",
                    dialect.name()
                ))
                .with_hint("check the syntax; only one read-only SELECT statement is accepted")
            })?;
        let statement = match statements.len() {
            1 => statements.remove(0),
            0 => return Err(malformed("the statement is empty", "write one SELECT statement")),
            n => {
                return Err(refused(
                    &format!("{n} statements were given; exactly one is allowed"),
                    "send one SELECT per call, without semicolon-separated statements",
                ));
            }
        };
        let explain = match &statement {
            Statement::Query(_) => false,
            Statement::Explain {
                analyze,
                options,
                statement: inner,
                ..
            } => {
                if *analyze || options.as_ref().is_some_and(|options| !options.is_empty()) {
                    return Err(refused(
                        "EXPLAIN with ANALYZE or options runs the statement",
                        "use plain EXPLAIN SELECT ...",
                    ));
                }
                if !matches!(inner.as_ref(), Statement::Query(_)) {
                    return Err(refused(
                        "only EXPLAIN of a SELECT is allowed",
                        "use EXPLAIN SELECT ...",
                    ));
                }
                true
            }
            other => {
                return Err(refused(
                    &format!(
                        "`{}` statements are not read-only queries",
                        leading_keywords(other)
                    ),
                    "use a SELECT to read; use the insert, update and delete operations to change data",
                ));
            }
        };

        let mut guard = Guard {
            dialect,
            statements: 0,
            allowed_statements: 1 + usize::from(explain),
            tables: BTreeSet::new(),
            scopes: Vec::new(),
            table_functions: Vec::new(),
        };
        if let ControlFlow::Break(error) = statement.visit(&mut guard) {
            return Err(error);
        }
        let tables = guard.tables;
        Ok(ReadStatement {
            sql: statement.to_string(),
            statement: Box::new(statement),
            tables,
            explain,
            capped: OnceLock::new(),
        })
    }

    /// The statement to run: the parser's rendering of what was checked.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The statement to run when at most `rows` rows will be read: its outermost `LIMIT` lowered to `rows`
    /// (or added), so the server sends no more than the reader takes and the read needs no cursor. `None`
    /// for shapes where that would not plainly keep the same first rows (see `row_cap`): the caller then
    /// bounds the read itself.
    pub fn row_capped(&self, rows: u64) -> Option<String> {
        if let Some((cap, rendered)) = self.capped.get()
            && *cap == rows
        {
            return rendered.clone();
        }
        let rendered = crate::row_cap::capped(&self.statement, rows);
        // Only the first cap is kept; another is rendered each time it is asked for.
        let _ = self.capped.set((rows, rendered.clone()));
        rendered
    }

    /// Every table or view the statement reads, as written (CTE names excluded).
    pub fn tables(&self) -> &BTreeSet<TableRef> {
        &self.tables
    }

    /// Whether the statement is an `EXPLAIN`.
    pub fn is_explain(&self) -> bool {
        self.explain
    }
}

/// A statement the read-only rules refuse: a denial, audited as `denied` like a missing grant.
fn refused(what: &str, hint: &str) -> Error {
    Error::permission_denied(format!("refused: {what}")).with_hint(hint)
}

/// A statement that is not one at all (empty, too long, a NUL byte): the caller's input to fix.
fn malformed(what: &str, hint: &str) -> Error {
    Error::invalid_input(what).with_hint(hint)
}

fn leading_keywords(statement: &Statement) -> String {
    statement
        .to_string()
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

struct Guard {
    dialect: Dialect,
    statements: usize,
    allowed_statements: usize,
    tables: BTreeSet<TableRef>,
    /// The queries being visited, innermost last, with the CTEs each defines: what a bare name refers to.
    scopes: Vec<Scope>,
    table_functions: Vec<ObjectName>,
}

/// The CTEs one query defines, and how many of them a name inside it can see so far. A name is a CTE only
/// where SQL makes it one: in the query's body, in a later CTE's definition, or anywhere in the `WITH`
/// when it is `RECURSIVE`. Anywhere else the same name is a table, and is reported (`WITH payroll AS
/// (SELECT * FROM payroll)` reads the table `payroll`).
struct Scope {
    names: Vec<String>,
    /// Each CTE's query, by address, to notice when the visitor leaves it.
    queries: Vec<*const Query>,
    visible: usize,
}

impl Scope {
    fn sees(&self, name: &str) -> bool {
        self.names[..self.visible].iter().any(|cte| cte == name)
    }
}

impl Guard {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn fold_ident(&self, ident: &sqlparser::ast::Ident) -> String {
        if ident.quote_style.is_some() {
            ident.value.clone()
        } else {
            self.dialect.fold_unquoted(&ident.value)
        }
    }

    fn fold(&self, name: &ObjectName) -> Option<Vec<String>> {
        name.0
            .iter()
            .map(|part| match part {
                ObjectNamePart::Identifier(ident) => Some(self.fold_ident(ident)),
                _ => None,
            })
            .collect()
    }

    fn check_function(&self, name: &ObjectName) -> ControlFlow<Error> {
        let shown = name.to_string();
        let parts = match self.fold(name) {
            Some(parts) => parts,
            None => return ControlFlow::Break(function_refused(&shown)),
        };
        let (schema, function) = match parts.as_slice() {
            [function] => (None, function.to_lowercase()),
            [schema, function] => (Some(schema.as_str()), function.to_lowercase()),
            _ => return ControlFlow::Break(function_refused(&shown)),
        };
        let builtin_schema =
            schema.is_none_or(|schema| self.dialect().builtin_function_schemas().contains(&schema));
        if builtin_schema && self.dialect().allows_function(&function) {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(function_refused(&shown))
        }
    }

    fn check_set_expr(&mut self, body: &SetExpr) -> ControlFlow<Error> {
        match body {
            SetExpr::SetOperation { left, right, .. } => {
                self.check_set_expr(left)?;
                self.check_set_expr(right)
            }
            SetExpr::Table(table) => {
                if let Some(name) = &table.table_name {
                    let mut parts: Vec<String> =
                        table.schema_name.iter().map(|s| self.fold_ident(s)).collect();
                    parts.push(self.fold_ident(name));
                    self.tables.insert(TableRef { parts });
                }
                ControlFlow::Continue(())
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                ControlFlow::Break(refused(
                    "the statement contains a data-modifying part (a writable CTE or nested INSERT, UPDATE, DELETE or MERGE)",
                    "use the insert, update and delete operations to change data",
                ))
            }
            SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::Values(_) => ControlFlow::Continue(()),
        }
    }
}

fn function_refused(name: &str) -> Error {
    refused(
        &format!("the function `{name}` is not on the list of side-effect-free built-in functions"),
        "use standard built-in functions only; user-defined and administrative functions cannot be called",
    )
}

impl Visitor for Guard {
    type Break = Error;

    fn pre_visit_statement(&mut self, _statement: &Statement) -> ControlFlow<Error> {
        self.statements += 1;
        if self.statements > self.allowed_statements {
            return ControlFlow::Break(refused(
                "the statement contains another statement",
                "write one plain SELECT; use the insert, update and delete operations to change data",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Error> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(refused(
                "FOR UPDATE / FOR SHARE takes row locks",
                "remove the locking clause; a read-only query does not need it",
            ));
        }
        let scope = match &query.with {
            Some(with) => Scope {
                names: with
                    .cte_tables
                    .iter()
                    .map(|cte| self.fold_ident(&cte.alias.name))
                    .collect(),
                queries: with
                    .cte_tables
                    .iter()
                    .map(|cte| std::ptr::from_ref::<Query>(&cte.query))
                    .collect(),
                visible: if with.recursive { with.cte_tables.len() } else { 0 },
            },
            None => Scope {
                names: Vec::new(),
                queries: Vec::new(),
                visible: 0,
            },
        };
        self.scopes.push(scope);
        self.check_set_expr(&query.body)
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<Error> {
        self.scopes.pop();
        // Leaving a CTE's definition makes it visible to the CTEs after it and to the body.
        if let Some(parent) = self.scopes.last_mut()
            && let Some(index) = parent.queries.iter().position(|cte| std::ptr::eq(*cte, query))
        {
            parent.visible = parent.visible.max(index + 1);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Error> {
        if select.into.is_some() {
            return ControlFlow::Break(refused(
                "SELECT ... INTO creates a table or writes a file",
                "remove the INTO clause; results are returned to you",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Error> {
        match factor {
            TableFactor::Table {
                name, args: Some(_), ..
            } => {
                self.check_function(name)?;
                self.table_functions.push(name.clone());
            }
            TableFactor::Function { name, .. } => self.check_function(name)?,
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<Error> {
        if let Some(position) = self
            .table_functions
            .iter()
            .position(|function| function == relation)
        {
            self.table_functions.remove(position);
            return ControlFlow::Continue(());
        }
        match self.fold(relation) {
            Some(parts)
                if parts.len() == 1 && self.scopes.iter().rev().any(|scope| scope.sees(&parts[0])) =>
            {
                // A CTE of an enclosing query, not a table.
                ControlFlow::Continue(())
            }
            Some(parts) if !parts.is_empty() && parts.len() <= 3 => {
                self.tables.insert(TableRef { parts });
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Break(refused(
                &format!("the table name `{relation}` is not understood"),
                "name tables as table or schema.table",
            )),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Error> {
        match expr {
            Expr::Function(Function { name, .. }) => self.check_function(name)?,
            // A user-defined operator is a user-defined function in disguise (`CREATE OPERATOR === (FUNCTION
            // = wipe)`), so it is refused like one; built-in operators parse as their own variants.
            Expr::BinaryOp {
                op: op @ (BinaryOperator::Custom(_) | BinaryOperator::PGCustomBinaryOperator(_)),
                ..
            } => {
                return ControlFlow::Break(refused(
                    &format!("the operator `{op}` is not a built-in operator"),
                    "use standard operators only; user-defined operators can run arbitrary functions",
                ));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
