//! Connections: for a database file, read connections are kept and reused (a fresh one pays for warming
//! SQLite's page cache on every call) and writes get a fresh one; an in-memory database has one shared
//! connection. Every call runs on a blocking thread, bounded by the statement timeout, in the mode its
//! operation needs.
//!
//! Reusing read connections carries no state from one call to the next: `query_only` stays on, the
//! authorizer refuses `PRAGMA`, `ATTACH` and temporary objects, and the authorizer and deadline are installed
//! afresh for every call. A kept connection is used only while the path still names the same file (device
//! and inode), so a database replaced on disk is opened anew.
//!
//! Files are opened only through the host's [`HostAccess`]: every open checks the path (allowed roots,
//! the server's own files, regular files only, looked at without blocking) and confirms afterwards that the
//! file SQLite opened is the one checked. SQLite never follows a symbolic link here (`SQLITE_OPEN_NOFOLLOW`),
//! and a database is created only when `create_if_missing` asks for it, on first use, never while an unsaved
//! configuration is tested.
//!
//! A query runs with two guards of SQLite's own behind the statement guard: `PRAGMA query_only`, and an
//! authorizer that allows only reading tables and calling allowlisted functions, so SQLite itself refuses
//! anything else the parser might have missed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Connection, OpenFlags};
use tributary_core::host::FileUse;
use tributary_core::{Error, ErrorKind, FieldError, HostAccess, Result};
use tributary_sql::Dialect;

use crate::config::SqliteConfig;
use crate::error;

/// What a call will do with its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// An agent's read-only query: query_only, authorizer, timeout.
    Query,
    /// Tributary's own catalog reads: query_only and timeout.
    Catalog,
    /// A structured write: timeout only.
    Write,
}

/// How many idle read connections are kept for a database file.
const KEPT_READERS: usize = 4;

/// An idle read connection and the file it was opened on.
struct Reader {
    connection: Connection,
    file: Option<(u64, u64)>,
}

/// Where connections come from.
pub(crate) struct Connections {
    config: SqliteConfig,
    host: HostAccess,
    shared: Option<Arc<Mutex<Connection>>>,
    readers: Arc<Mutex<Vec<Reader>>>,
}

impl Connections {
    /// Opens the shared in-memory connection, if the config asks for one; file connections open on first use.
    /// The path is checked against `host` as written now, so a refused path fails at save time.
    pub(crate) fn new(config: &SqliteConfig, host: &HostAccess) -> Result<Connections> {
        let shared = if config.in_memory() {
            let connection = Connection::open_in_memory().map_err(|e| error::from_driver(e, &config.path))?;
            Some(Arc::new(Mutex::new(connection)))
        } else {
            host.check_file("path", &config.file())?;
            None
        };
        Ok(Connections {
            config: config.clone(),
            host: host.clone(),
            shared,
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Runs `work` on a connection prepared for `mode`, on a blocking thread.
    pub(crate) async fn with<T, F>(&self, mode: Mode, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let config = self.config.clone();
        let host = self.host.clone();
        let shared = self.shared.clone();
        let readers = self.readers.clone();
        let task = tokio::task::spawn_blocking(move || match shared {
            Some(shared) => {
                let mut connection = shared.lock().unwrap_or_else(PoisonError::into_inner);
                prepare(&mut connection, &config, mode)?;
                let result = work(&connection);
                let reset = unprepare(&mut connection);
                result.and_then(|value| reset.map(|()| value))
            }
            None if mode == Mode::Write => {
                let mut connection = open(&config, &host, mode)?;
                prepare(&mut connection, &config, mode)?;
                work(&connection)
            }
            None => {
                create_if_missing(&config, &host)?;
                let file = file_identity(&config);
                let kept = {
                    let mut idle = readers.lock().unwrap_or_else(PoisonError::into_inner);
                    idle.retain(|reader| reader.file == file);
                    idle.pop()
                };
                let mut reader = match kept {
                    Some(reader) => reader,
                    None => Reader {
                        connection: open(&config, &host, mode)?,
                        file,
                    },
                };
                prepare(&mut reader.connection, &config, mode)?;
                let result = work(&reader.connection);
                // A connection that failed is not trusted again.
                if result.is_ok() && file.is_some() {
                    let mut idle = readers.lock().unwrap_or_else(PoisonError::into_inner);
                    if idle.len() < KEPT_READERS {
                        idle.push(reader);
                    }
                }
                result
            }
        });
        task.await
            .map_err(|_| Error::internal("a SQLite call failed unexpectedly (its thread panicked)"))?
    }

    /// The path, for messages.
    pub(crate) fn path(&self) -> &str {
        &self.config.path
    }

    /// Whether the database file does not exist yet and would be created on first use, but may not be now
    /// (an unsaved configuration under test creates nothing).
    pub(crate) fn creation_pending(&self) -> Result<bool> {
        if self.shared.is_some() || !self.config.create_if_missing || self.config.read_only {
            return Ok(false);
        }
        let file = self.host.file("path", &self.config.file(), FileUse::Create)?;
        Ok(!file.exists() && !file.may_create())
    }
}

/// Creates the database when the config asks for it and it does not exist, so reads and checks (which open
/// read-only) find it.
fn create_if_missing(config: &SqliteConfig, host: &HostAccess) -> Result<()> {
    if config.create_if_missing && !config.read_only && std::fs::symlink_metadata(config.file()).is_err() {
        open(config, host, Mode::Write)?;
    }
    Ok(())
}

/// The device and inode the path names now, to tell a replaced database file from the one a kept
/// connection has open.
fn file_identity(config: &SqliteConfig) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(config.file())
        .ok()
        .map(|metadata| (metadata.dev(), metadata.ino()))
}

/// Opens the database file after `host` checked it, and confirms SQLite opened the file that was checked.
#[allow(
    clippy::disallowed_methods,
    reason = "the path is the one HostAccess::file checked, and the file opened is confirmed after"
)]
fn open(config: &SqliteConfig, host: &HostAccess, mode: Mode) -> Result<Connection> {
    let writable = !config.read_only && mode == Mode::Write;
    let intent = match (writable, config.create_if_missing) {
        (true, true) => FileUse::Create,
        (true, false) => FileUse::Write,
        (false, _) => FileUse::Read,
    };
    let file = host.file("path", &config.file(), intent)?;
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    if writable {
        flags |= OpenFlags::SQLITE_OPEN_READ_WRITE;
    } else {
        flags |= OpenFlags::SQLITE_OPEN_READ_ONLY;
    }
    if !file.exists() {
        if !file.may_create() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("the database file {} does not exist yet", config.path),
            )
            .with_fields(vec![FieldError::new(
                "path",
                "does not exist yet; with create_if_missing it is created when the saved connector is first used",
            )])
            .with_hint("nothing is created while a configuration is only being tested"));
        }
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let connection =
        Connection::open_with_flags(file.path(), flags).map_err(|e| error::from_driver(e, &config.path))?;
    file.confirm()?;
    Ok(connection)
}

fn prepare(connection: &mut Connection, config: &SqliteConfig, mode: Mode) -> Result<()> {
    let path = &config.path;
    // A kept read connection may come from a query: lift its authorizer before Tributary's own set-up,
    // install it again last, and only for a query.
    connection
        .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)
        .map_err(|e| error::from_driver(e, path))?;
    connection
        .busy_timeout(Duration::from_secs(config.busy_timeout_seconds))
        .map_err(|e| error::from_driver(e, path))?;
    // No string or blob the statement builds may pass the largest value the host reads (`printf` and
    // `zeroblob` could otherwise build a gigabyte in memory), and no result row either.
    connection
        .set_limit(
            rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH,
            i32::try_from(tributary_core::budget::MAX_VALUE_BYTES).unwrap_or(i32::MAX),
        )
        .map_err(|e| error::from_driver(e, path))?;
    let query_only = if mode == Mode::Write { "OFF" } else { "ON" };
    connection
        .pragma_update(None, "query_only", query_only)
        .map_err(|e| error::from_driver(e, path))?;
    let deadline = Instant::now() + config.statement_timeout();
    connection
        .progress_handler(1000, Some(move || Instant::now() > deadline))
        .map_err(|e| error::from_driver(e, path))?;
    if mode == Mode::Query {
        connection
            .authorizer(Some(read_only_authorizer))
            .map_err(|e| error::from_driver(e, path))?;
    }
    Ok(())
}

fn unprepare(connection: &mut Connection) -> Result<()> {
    let reset = |e| error::from_driver(e, ":memory:");
    connection
        .authorizer(None::<fn(AuthContext<'_>) -> Authorization>)
        .map_err(reset)?;
    connection
        .progress_handler(0, None::<fn() -> bool>)
        .map_err(reset)?;
    connection.pragma_update(None, "query_only", "OFF").map_err(reset)
}

/// SQLite's own check of every action a query's compiled program takes.
fn read_only_authorizer(context: AuthContext<'_>) -> Authorization {
    match context.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => Authorization::Allow,
        AuthAction::Function { function_name }
            if Dialect::Sqlite.allows_function(&function_name.to_lowercase()) =>
        {
            Authorization::Allow
        }
        _ => Authorization::Deny,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn memory() -> SqliteConfig {
        SqliteConfig {
            path: ":memory:".into(),
            create_if_missing: false,
            busy_timeout_seconds: 1,
            statement_timeout_seconds: 1,
            default_rows: 10,
            max_rows: 10,
            read_only: false,
        }
    }

    #[tokio::test]
    async fn the_authorizer_refuses_what_the_parser_would_have() {
        let connections = Connections::new(&memory(), &HostAccess::unrestricted()).unwrap();
        connections
            .with(Mode::Write, |c| {
                c.execute_batch("CREATE TABLE t (a int); INSERT INTO t VALUES (1)")
                    .map_err(|e| error::from_driver(e, "m"))
            })
            .await
            .unwrap();
        for sql in [
            "DELETE FROM t",
            "INSERT INTO t VALUES (2)",
            "PRAGMA writable_schema = 1",
            "ATTACH ':memory:' AS x",
            "SELECT load_extension('x')",
            "CREATE TABLE u (a)",
        ] {
            let outcome = connections
                .with(Mode::Query, move |c| {
                    c.execute_batch(sql).map_err(|e| error::from_driver(e, "m"))
                })
                .await;
            assert!(outcome.is_err(), "{sql} ran under the query authorizer");
        }
        let count = connections
            .with(Mode::Query, |c| {
                c.query_row("SELECT count(*), upper('a') FROM t", [], |row| {
                    row.get::<_, i64>(0)
                })
                .map_err(|e| error::from_driver(e, "m"))
            })
            .await
            .unwrap();
        assert_eq!(count, 1);
        // The shared connection is handed back without the query's restrictions.
        connections
            .with(Mode::Write, |c| {
                c.execute_batch("INSERT INTO t VALUES (2)")
                    .map_err(|e| error::from_driver(e, "m"))
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn runaway_statements_are_interrupted() {
        let connections = Connections::new(&memory(), &HostAccess::unrestricted()).unwrap();
        let started = Instant::now();
        let error = connections
            .with(Mode::Query, |c| {
                c.query_row(
                    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r",
                    [],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(|e| error::from_driver(e, "m"))
            })
            .await
            .unwrap_err();
        assert_eq!(error.kind(), tributary_core::ErrorKind::Timeout, "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
