//! The connection pool: every session opened through the host's [`HostAccess`] (the address checked, then
//! connected to), TLS, session settings in the startup packet, connections cleaned before reuse, and every
//! wait bounded by the connect timeout.
//!
//! The pool's manager is Tributary's own rather than deadpool-postgres's, because tokio-postgres would
//! resolve and connect by itself: here every new session, the pool's reconnections included, resolves the
//! host through [`HostAccess::connect_tcp`] and hands the checked socket to `connect_raw`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, Object as PoolObject, Pool, RecycleError, RecycleResult, Timeouts};
use tokio_postgres::Statement;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::tls::MakeTlsConnect;
use tributary_core::{Error, FieldError, HostAccess, Result};

use crate::config::{PostgresConfig, TlsMode};
use crate::framing::{Limited, LimitedTls, Oversized};
use crate::{error, tls};

/// A pooled session.
pub(crate) type Object = PoolObject<Sessions>;

/// A session: the driver's client, and where its stream records a message it refused as too large (the
/// driver itself reports only that the connection closed).
pub(crate) struct Session {
    client: tokio_postgres::Client,
    oversized: Oversized,
    /// Statements this session prepared for reads, by their SQL, kept across calls until the session is
    /// fully reset (see [`Lent`]): a query asked again skips its prepare round trip.
    statements: std::sync::Mutex<HashMap<String, Statement>>,
}

/// The most statements a session keeps prepared; past it, the oldest are all forgotten at once.
const KEPT_STATEMENTS: usize = 64;

/// The longest SQL text whose statement is kept (longer ones are rare and would make the cache large).
const KEPT_STATEMENT_BYTES: usize = 4096;

impl Session {
    /// The slot a query keeps to explain a closed connection (see [`Connections::error_in`]).
    pub(crate) fn oversized(&self) -> Oversized {
        self.oversized.clone()
    }

    /// The statement this session already prepared for `sql`.
    pub(crate) fn prepared(&self, sql: &str) -> Option<Statement> {
        self.kept().get(sql).cloned()
    }

    /// Forgets the statement kept for `sql` (closing it on the server).
    pub(crate) fn forget(&self, sql: &str) {
        self.kept().remove(sql);
    }

    /// Keeps a statement prepared for `sql` for the next call on this session.
    pub(crate) fn keep(&self, sql: &str, statement: &Statement) {
        if sql.len() > KEPT_STATEMENT_BYTES {
            return;
        }
        let mut kept = self.kept();
        if kept.len() >= KEPT_STATEMENTS {
            kept.clear();
        }
        kept.insert(sql.to_owned(), statement.clone());
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<String, Statement>> {
        self.statements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::ops::Deref for Session {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        &self.client
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut tokio_postgres::Client {
        &mut self.client
    }
}

/// A session lent to one call. Whatever ends the call (its answer, an error, or the caller giving up
/// half-way), dropping the `Lent` rolls back any open transaction and resets the session, so nothing a
/// statement changed reaches the next borrower. The reset runs on its own task, off the call's path: the
/// session goes back to the pool only once the server has confirmed it, and one that cannot be reset is
/// closed instead of being reused.
///
/// The reset is `DISCARD ALL`: temporary tables, prepared statements, cursors, listeners and advisory locks
/// dropped, and every setting back to its value at session start (the startup packet's). A call that only
/// ran guarded reads inside a read-only transaction it opened first (see [`Lent::reads_only`]) is reset by
/// its `ROLLBACK` alone, which keeps the statements it prepared for the next call: inside a rolled-back
/// transaction, settings (`set_config` included), temporary objects, cursors and `LISTEN` are undone, and
/// what outlives a rollback (`PREPARE`, `DECLARE ... WITH HOLD`, advisory locks, `nextval`) is refused
/// by the guard and its function allowlist, or by the read-only transaction itself.
pub(crate) struct Lent {
    session: Option<Object>,
    reads_only: bool,
}

impl Lent {
    /// Everything this call sent ran, and finished, inside a read-only transaction it opened first: its
    /// rollback resets the session, and the session's prepared statements are kept.
    pub(crate) fn reads_only(&mut self) {
        self.reads_only = true;
    }
}

impl std::ops::Deref for Lent {
    type Target = Session;

    fn deref(&self) -> &Session {
        // Only `Drop` takes the session out.
        self.session
            .as_deref()
            .unwrap_or_else(|| unreachable!("a lent session is held until dropped"))
    }
}

impl std::ops::DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("a lent session is held until dropped"))
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to reset it on: close it rather than hand it on unreset.
            let _ = Object::take(session);
            return;
        };
        let reads_only = self.reads_only;
        runtime.spawn(async move {
            let reset = if reads_only {
                session.batch_execute("ROLLBACK").await
            } else {
                session.kept().clear();
                // Both messages are sent at once; ROLLBACK outside a transaction only warns.
                tokio::join!(
                    session.batch_execute("ROLLBACK"),
                    session.batch_execute("DISCARD ALL")
                )
                .1
            };
            if reset.is_err() {
                let _ = Object::take(session);
            }
        });
    }
}

/// One place the config says the server is, as libpq reads it: a host (and optionally the address to
/// use for it), or a Unix socket folder.
#[derive(Debug, Clone)]
enum Target {
    Tcp {
        host: String,
        address: Option<IpAddr>,
        port: u16,
    },
    Unix {
        folder: PathBuf,
        port: u16,
    },
}

/// How sessions are encrypted.
#[derive(Clone)]
enum Tls {
    Off,
    Rustls(tokio_postgres_rustls::MakeRustlsConnect),
}

/// Why a session could not be opened: the host policy refused it, or the server or network failed.
#[derive(Debug)]
pub(crate) enum SessionError {
    /// Refused before connecting, or a connection error already classified.
    Tributary(Error),
    /// The driver's own error.
    Driver(tokio_postgres::Error),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Tributary(error) => error.fmt(f),
            SessionError::Driver(error) => error.fmt(f),
        }
    }
}

/// Opens sessions for the pool.
pub(crate) struct Sessions {
    driver: tokio_postgres::Config,
    targets: Vec<Target>,
    /// The config field that named the server, for refusals (`host` or `url`).
    field: &'static str,
    tls: Tls,
    host: HostAccess,
    connect_timeout: Duration,
}

impl Sessions {
    async fn open(&self, target: &Target) -> std::result::Result<Session, SessionError> {
        let refused = SessionError::Tributary;
        let oversized = Oversized::default();
        let seen = oversized.clone();
        let client = match target {
            Target::Tcp { host, address, port } => {
                let connect_to = address.map_or_else(|| host.clone(), |address| address.to_string());
                let stream = self
                    .host
                    .connect_tcp(self.field, &connect_to, *port, self.connect_timeout)
                    .await
                    .map_err(refused)?;
                // Every message the server sends is limited in size as it arrives (see `framing`).
                let limit = tributary_core::budget::MAX_VALUE_BYTES;
                match &self.tls {
                    Tls::Off => spawn(
                        self.driver
                            .connect_raw(Limited::messages(stream, limit, seen), tokio_postgres::NoTls)
                            .await,
                    ),
                    Tls::Rustls(make) => {
                        let mut make = make.clone();
                        let Ok(tls) = MakeTlsConnect::<Limited<tokio::net::TcpStream>>::make_tls_connect(
                            &mut make, host,
                        );
                        spawn(
                            self.driver
                                .connect_raw(
                                    Limited::after_ssl_request(stream, limit, seen.clone()),
                                    LimitedTls::new(tls, limit, seen),
                                )
                                .await,
                        )
                    }
                }
            }
            Target::Unix { folder, port } => {
                let socket = folder.join(format!(".s.PGSQL.{port}"));
                let stream = self
                    .host
                    .connect_unix(self.field, &socket, self.connect_timeout)
                    .await
                    .map_err(refused)?;
                // TLS is not used over a Unix socket (as libpq does).
                let mut plain = self.driver.clone();
                plain.ssl_mode(SslMode::Disable);
                let limit = tributary_core::budget::MAX_VALUE_BYTES;
                spawn(
                    plain
                        .connect_raw(Limited::messages(stream, limit, seen), tokio_postgres::NoTls)
                        .await,
                )
            }
        }?;
        Ok(Session {
            client,
            oversized,
            statements: std::sync::Mutex::default(),
        })
    }
}

/// Runs a new session's connection on its own task; it ends when the client is dropped.
fn spawn<S, T>(
    connected: std::result::Result<
        (tokio_postgres::Client, tokio_postgres::Connection<S, T>),
        tokio_postgres::Error,
    >,
) -> std::result::Result<tokio_postgres::Client, SessionError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (client, connection) = connected.map_err(SessionError::Driver)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

impl managed::Manager for Sessions {
    type Type = Session;
    type Error = SessionError;

    async fn create(&self) -> std::result::Result<Session, SessionError> {
        // libpq's order: each listed server in turn; the last failure is reported.
        let mut last = None;
        for target in &self.targets {
            match self.open(target).await {
                Ok(client) => return Ok(client),
                // A refusal is final: trying the next server would hide it.
                Err(SessionError::Tributary(error))
                    if error.kind() == tributary_core::ErrorKind::InvalidConfig =>
                {
                    return Err(SessionError::Tributary(error));
                }
                Err(other) => last = Some(other),
            }
        }
        Err(last.unwrap_or_else(|| {
            SessionError::Tributary(Error::invalid_config(vec![FieldError::new(
                self.field,
                "names no server",
            )]))
        }))
    }

    async fn recycle(&self, session: &mut Session, _: &Metrics) -> RecycleResult<SessionError> {
        if session.is_closed() {
            Err(RecycleError::message("the session was closed"))
        } else {
            Ok(())
        }
    }
}

/// Where the config says the server is, checked as written (literal addresses, Unix sockets) so a refused
/// target fails at save time.
fn targets(
    config: &PostgresConfig,
    driver: &tokio_postgres::Config,
    host: &HostAccess,
) -> Result<(Vec<Target>, &'static str)> {
    let field = if config.url.is_some() { "url" } else { "host" };
    let ports = driver.get_ports();
    let addresses = driver.get_hostaddrs();
    let mut targets = Vec::new();
    for (index, listed) in driver.get_hosts().iter().enumerate() {
        // libpq: one port for all hosts, or one per host.
        let port = match ports {
            [] => 5432,
            [one] => *one,
            many => many.get(index).copied().unwrap_or(5432),
        };
        match listed {
            Host::Tcp(name) => {
                let address = addresses.get(index).copied();
                host.check_host(
                    field,
                    &address.map_or_else(|| name.clone(), |address| address.to_string()),
                )?;
                targets.push(Target::Tcp {
                    host: name.clone(),
                    address,
                    port,
                });
            }
            Host::Unix(folder) => {
                host.unix_socket(field, folder)?;
                targets.push(Target::Unix {
                    folder: folder.clone(),
                    port,
                });
            }
        }
    }
    if targets.is_empty() {
        // A URL with only `hostaddr=` names addresses without host names.
        for (index, address) in addresses.iter().enumerate() {
            host.check_host(field, &address.to_string())?;
            let port = ports.get(index).or(ports.first()).copied().unwrap_or(5432);
            targets.push(Target::Tcp {
                host: address.to_string(),
                address: Some(*address),
                port,
            });
        }
    }
    if targets.is_empty() {
        return Err(Error::invalid_config(vec![FieldError::new(
            field,
            "names no server",
        )]));
    }
    Ok((targets, field))
}

/// A pool of sessions to one database.
pub(crate) struct Connections {
    pool: Pool<Sessions>,
    address: String,
    connect_timeout_seconds: u64,
}

impl Connections {
    /// Builds the pool without connecting: the first call connects, and `check` reports reachability. What
    /// `host` refuses as written (a loopback address, a Unix socket for a tenant, TLS off) fails here.
    pub(crate) fn new(config: &PostgresConfig, host: &HostAccess) -> Result<Connections> {
        let mut driver = crate::config::driver_config(config)?;
        let (targets, field) = targets(config, &driver, host)?;
        let tls = match tls::client_config(config.tls_mode, config.ca_certificate.as_deref())? {
            None => {
                host.check_plaintext("tls_mode", "tls_mode = \"disable\"")?;
                driver.ssl_mode(SslMode::Disable);
                Tls::Off
            }
            Some(client) => {
                driver.ssl_mode(if config.tls_mode == TlsMode::Prefer {
                    SslMode::Prefer
                } else {
                    SslMode::Require
                });
                Tls::Rustls(tokio_postgres_rustls::MakeRustlsConnect::new(client))
            }
        };
        let sessions = Sessions {
            driver,
            targets,
            field,
            tls,
            host: host.clone(),
            connect_timeout: config.connect_timeout(),
        };
        let timeout = Some(config.connect_timeout());
        let pool = Pool::builder(sessions)
            .max_size(usize::try_from(config.pool_size).unwrap_or(5))
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: timeout,
                create: timeout,
                recycle: timeout,
            })
            .build()
            .map_err(|build| Error::internal(format!("could not build the PostgreSQL pool: {build}")))?;
        Ok(Connections {
            pool,
            address: crate::config::address(config),
            connect_timeout_seconds: config.connect_timeout_seconds,
        })
    }

    /// A session from the pool.
    pub(crate) async fn get(&self) -> Result<Object> {
        self.pool
            .get()
            .await
            .map_err(|pool| error::from_pool(pool, &self.address, self.connect_timeout_seconds))
    }

    /// A session for a call that runs the caller's statements: when the [`Lent`] is dropped, the session
    /// is reset before it goes back to the pool (see [`Lent`]).
    pub(crate) async fn lend(&self) -> Result<Lent> {
        Ok(Lent {
            session: Some(self.get().await?),
            reads_only: false,
        })
    }

    /// Maps a driver error with this server's address.
    pub(crate) fn error(&self, driver: &tokio_postgres::Error) -> Error {
        error::from_driver(driver, &self.address)
    }

    /// Maps a driver error on a session that may have refused a message as too large: the driver reports
    /// only that the connection closed, and the session's slot says why.
    pub(crate) fn error_in(&self, oversized: &Oversized, driver: &tokio_postgres::Error) -> Error {
        match oversized.get() {
            Some(refused) => error::too_large(refused, &self.address),
            None => self.error(driver),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn a_lent_session_comes_back_clean() {
        let server = tributary_testkit::postgres().await.unwrap();
        let database = server.create_database().await.unwrap();
        let values = crate::config::spec()
            .validate(&json!({
                "host": server.host(), "port": server.port(), "database": database, "user": server.user(),
                "password": server.password(), "tls_mode": "disable", "pool_size": 1, "statement_timeout_seconds": 7
            }))
            .unwrap();
        let connections = Connections::new(
            &PostgresConfig::from_values(&values).unwrap(),
            &HostAccess::unrestricted(),
        )
        .unwrap();
        let session = connections.lend().await.unwrap();
        let pid: i32 = session
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        // Separate messages: one simple-query batch would run as one (read-only) implicit transaction.
        for dirt in [
            "SET default_transaction_read_only = off",
            "CREATE TEMP TABLE leftover (x int)",
            "SELECT pg_advisory_lock(42)",
            "PREPARE leftover_plan AS SELECT 1",
            "SET statement_timeout = '3min'",
        ] {
            session.batch_execute(dirt).await.unwrap();
        }
        // Left in a failed transaction, as a call that errors half-way leaves it.
        session
            .batch_execute("START TRANSACTION READ ONLY")
            .await
            .unwrap();
        assert!(session.batch_execute("SELECT 1/0").await.is_err());
        drop(session);

        // A read that set something inside its read-only transaction is reset by the rollback alone, and
        // the statement it kept stays prepared.
        let mut session = connections.lend().await.unwrap();
        session
            .batch_execute("START TRANSACTION READ ONLY")
            .await
            .unwrap();
        session
            .batch_execute("SELECT set_config('statement_timeout', '4min', false)")
            .await
            .unwrap();
        let kept = session.prepare("SELECT 41 + 1").await.unwrap();
        session.keep("SELECT 41 + 1", &kept);
        session.reads_only();
        drop((kept, session));
        let session = connections.lend().await.unwrap();
        let kept = session
            .prepared("SELECT 41 + 1")
            .expect("kept across a read-only call");
        assert_eq!(session.query_one(&kept, &[]).await.unwrap().get::<_, i32>(0), 42);
        drop(kept);
        drop(session);

        let session = connections.get().await.unwrap();
        let row = session
            .query_one(
                "SELECT pg_backend_pid(), current_setting('statement_timeout'), current_setting('default_transaction_read_only'), \
                 to_regclass('pg_temp.leftover') IS NULL, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), \
                 (SELECT count(*) FROM pg_prepared_statements WHERE name = 'leftover_plan')",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            row.get::<_, i32>(0),
            pid,
            "the pool of one hands back the same session"
        );
        assert_eq!(
            row.get::<_, String>(1),
            "7s",
            "statement_timeout is back to the startup value"
        );
        assert_eq!(row.get::<_, String>(2), "on", "the session is read-only again");
        assert!(row.get::<_, bool>(3), "the temp table is gone");
        assert_eq!(row.get::<_, i64>(4), 0, "advisory locks are released");
        assert_eq!(row.get::<_, i64>(5), 0, "prepared statements are gone");
    }
}
