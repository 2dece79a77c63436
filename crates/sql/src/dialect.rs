//! The three SQL dialects Tributary speaks, and what differs between them: the parser, identifier quoting,
//! placeholders, case folding, system schemas and which built-in functions a read-only query may call.

use sqlparser::dialect::{Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};

use crate::functions;

/// A SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

impl Dialect {
    /// The sqlparser dialect that parses statements the way the server does.
    pub fn parser(self) -> Box<dyn ParserDialect> {
        match self {
            Dialect::Postgres => Box::new(PostgreSqlDialect {}),
            Dialect::MySql => Box::new(MySqlDialect {}),
            Dialect::Sqlite => Box::new(SQLiteDialect {}),
        }
    }

    /// Quotes an identifier by the dialect's rules, doubling any embedded quote character, so that any
    /// name (spaces, quotes, unicode) can be used safely.
    pub fn quote_ident(self, name: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::MySql => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// Quotes a possibly schema-qualified name (`schema.table`) part by part.
    pub fn quote_qualified(self, schema: Option<&str>, name: &str) -> String {
        match schema {
            Some(schema) => format!("{}.{}", self.quote_ident(schema), self.quote_ident(name)),
            None => self.quote_ident(name),
        }
    }

    /// The placeholder for the `index`-th bound parameter (1-based).
    pub fn placeholder(self, index: usize) -> String {
        match self {
            Dialect::Postgres => format!("${index}"),
            Dialect::MySql | Dialect::Sqlite => "?".to_owned(),
        }
    }

    /// How an unquoted identifier is stored: PostgreSQL folds it to lower case; MySQL and SQLite keep it
    /// (their name matching rules are applied when names are resolved against the catalog).
    pub fn fold_unquoted(self, ident: &str) -> String {
        match self {
            Dialect::Postgres => ident.to_lowercase(),
            Dialect::MySql | Dialect::Sqlite => ident.to_owned(),
        }
    }

    /// Schemas that hold the server's own catalog; discovery leaves them out, but queries that read them
    /// still report them for the permission check.
    pub fn system_schemas(self) -> &'static [&'static str] {
        match self {
            Dialect::Postgres => &["pg_catalog", "information_schema", "pg_toast"],
            Dialect::MySql => &["information_schema", "mysql", "performance_schema", "sys"],
            Dialect::Sqlite => &[],
        }
    }

    /// Whether a read-only query may call the built-in function `name` (lower case, unqualified).
    pub fn allows_function(self, name: &str) -> bool {
        let allowed = match self {
            Dialect::Postgres => functions::POSTGRES,
            Dialect::MySql => functions::MYSQL,
            Dialect::Sqlite => functions::SQLITE,
        };
        functions::COMMON.binary_search(&name).is_ok() || allowed.binary_search(&name).is_ok()
    }

    /// Schemas whose qualified built-in functions may be called (`pg_catalog.lower(x)`).
    pub(crate) fn builtin_function_schemas(self) -> &'static [&'static str] {
        match self {
            Dialect::Postgres => &["pg_catalog"],
            Dialect::MySql | Dialect::Sqlite => &[],
        }
    }

    /// The dialect's name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL",
            Dialect::Sqlite => "SQLite",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(
            Dialect::Postgres.quote_ident(r#"we"ird name"#),
            r#""we""ird name""#
        );
        assert_eq!(Dialect::MySql.quote_ident("a`b"), "`a``b`");
        assert_eq!(
            Dialect::Sqlite.quote_qualified(Some("main"), "t"),
            r#""main"."t""#
        );
        assert_eq!(Dialect::Postgres.quote_ident("Ünïcode"), "\"Ünïcode\"");
    }

    #[test]
    fn placeholders() {
        assert_eq!(Dialect::Postgres.placeholder(3), "$3");
        assert_eq!(Dialect::MySql.placeholder(3), "?");
    }

    #[test]
    fn function_allowlists_are_sorted_for_binary_search() {
        for list in [
            functions::COMMON,
            functions::POSTGRES,
            functions::MYSQL,
            functions::SQLITE,
        ] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted, list, "keep function lists sorted and unique");
        }
    }

    #[test]
    fn side_effect_functions_are_not_allowed() {
        for name in [
            "set_config",
            "pg_read_file",
            "lo_export",
            "lo_import",
            "dblink",
            "nextval",
            "pg_sleep",
            "query_to_xml",
            "current_setting",
        ] {
            assert!(!Dialect::Postgres.allows_function(name), "{name}");
        }
        for name in ["sleep", "benchmark", "load_file", "get_lock", "sys_exec"] {
            assert!(!Dialect::MySql.allows_function(name), "{name}");
        }
        for name in ["load_extension", "readfile", "writefile", "fts3_tokenizer"] {
            assert!(!Dialect::Sqlite.allows_function(name), "{name}");
        }
        assert!(Dialect::Postgres.allows_function("count"));
        assert!(Dialect::MySql.allows_function("date_format"));
        assert!(Dialect::Sqlite.allows_function("strftime"));
    }
}
