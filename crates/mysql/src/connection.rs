//! The connection pool: TLS, session settings applied as `setup` statements (which the driver runs on
//! every new connection and again after every `COM_RESET_CONNECTION`), connections reset when they return
//! to the pool, and every wait bounded by the connect timeout.
//!
//! Connections reach the server only through the host's [`HostAccess`]: the host is resolved once, when the
//! pool is created, every address is checked, and the driver is given those addresses (`resolved_ips`), so
//! every connection the pool opens, reconnections included, goes to a checked address and never resolves
//! the name again.
//!
//! MariaDB and MySQL name the statement timeout differently (`max_statement_time` in seconds against
//! `max_execution_time` in milliseconds), so the first use probes the server once and then builds the pool
//! with the right settings.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts};
use tokio::sync::OnceCell;
use tributary_core::{Error, ErrorKind, HostAccess, Result};

use crate::config::{MysqlConfig, TlsMode};
use crate::error;

/// How mysql_async says the server has no TLS (its `DriverError::NoClientSslFlagFromServer`).
const NO_TLS_ON_SERVER: &str = "server does not have this capability";

/// Which server the connector talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// MariaDB.
    MariaDb,
    /// MySQL (and compatible servers that call themselves MySQL).
    MySql,
}

/// A pool of sessions to one database.
pub(crate) struct Connections {
    base: OptsBuilder,
    host: HostAccess,
    /// The config field that names the server (`host` or `url`), for refusals.
    field: &'static str,
    /// Where to connect: host name and port, or a Unix socket (operator-declared connectors only).
    server: (String, u16),
    socket: Option<String>,
    config: MysqlConfig,
    database: String,
    address: String,
    pool: OnceCell<(Pool, Flavor)>,
}

impl Connections {
    /// Prepares the connection options without connecting. What `host` refuses as written (a loopback
    /// address, a Unix socket for a tenant, TLS off) fails here.
    pub(crate) fn new(config: &MysqlConfig, host: &HostAccess) -> Result<Connections> {
        let builder = match &config.url {
            Some(url) => OptsBuilder::from_opts(Opts::from_url(url.expose()).map_err(|_| {
                Error::invalid_config(vec![tributary_core::FieldError::new(
                    "url",
                    "is not a valid mysql:// URL",
                )])
            })?),
            None => OptsBuilder::default()
                .ip_or_hostname(config.host.clone().unwrap_or_default())
                .tcp_port(config.port)
                .user(config.user.clone())
                .pass(config.password.as_ref().map(|secret| secret.expose().to_owned()))
                .db_name(config.database.clone()),
        };
        let opts = Opts::from(builder.clone());
        let field = if config.url.is_some() { "url" } else { "host" };
        let server = (opts.ip_or_hostname().to_owned(), opts.tcp_port());
        let socket = match opts.socket() {
            Some(path) => Some(
                host.unix_socket(field, std::path::Path::new(path))?
                    .display()
                    .to_string(),
            ),
            None => {
                host.check_host(field, &server.0)?;
                None
            }
        };
        if config.tls_mode == TlsMode::Disable {
            host.check_plaintext("tls_mode", "tls_mode = \"disable\"")?;
        }
        // The driver refuses a packet past the largest value the host reads, while it arrives: one huge
        // cell (`REPEAT('x', 100000000)`) is an error, not 100 MB buffered.
        let builder = builder
            .max_allowed_packet(Some(tributary_core::budget::MAX_VALUE_BYTES))
            .prefer_socket(false)
            .socket(socket.clone())
            .ssl_opts(ssl_opts(config)?);
        Ok(Connections {
            base: builder,
            host: host.clone(),
            field,
            server,
            socket,
            database: crate::config::database(config)?,
            address: crate::config::address(config),
            config: config.clone(),
            pool: OnceCell::new(),
        })
    }

    async fn pool(&self) -> Result<&(Pool, Flavor)> {
        self.pool
            .get_or_try_init(|| async {
                let (base, mut probe) = self.probe_connection().await?;
                let version: Option<String> = probe
                    .query_first("SELECT VERSION()")
                    .await
                    .map_err(|e| self.error(&e))?;
                let _ = probe.disconnect().await;
                let flavor = if version.unwrap_or_default().contains("MariaDB") {
                    Flavor::MariaDb
                } else {
                    Flavor::MySql
                };
                let pool_opts = PoolOpts::default()
                    .with_constraints(
                        PoolConstraints::new(0, usize::try_from(self.config.pool_size).unwrap_or(5))
                            .unwrap_or_default(),
                    )
                    // With a zero TTL mysql_async keeps no idle connection above the minimum (0), which
                    // would open a new connection for every call; idle ones live five minutes instead.
                    .with_inactive_connection_ttl(std::time::Duration::from_secs(300))
                    .with_reset_connection(true);
                let opts = base
                    .setup(session_setup(&self.config, flavor))
                    .pool_opts(pool_opts);
                Ok((Pool::new(opts), flavor))
            })
            .await
    }

    /// The connection options with the server's checked addresses: every connection goes to one of them.
    async fn resolved(&self) -> Result<OptsBuilder> {
        if self.socket.is_some() {
            return Ok(self.base.clone());
        }
        let (name, port) = &self.server;
        let addresses = self.host.resolve(self.field, name, *port).await?;
        let ips: Vec<std::net::IpAddr> = addresses.iter().map(std::net::SocketAddr::ip).collect();
        Ok(self.base.clone().resolved_ips(Some(ips)))
    }

    /// A first connection, and the options that made it: with `prefer`, TLS when the server offers it and
    /// plain TCP when it says it does not (any other failure is reported, not papered over).
    async fn probe_connection(&self) -> Result<(OptsBuilder, Conn)> {
        let base = self.resolved().await?;
        match self.bounded(Conn::new(base.clone())).await {
            Err(error)
                if self.config.tls_mode == TlsMode::Prefer && error.message().contains(NO_TLS_ON_SERVER) =>
            {
                let plain = base.ssl_opts(None::<SslOpts>);
                let conn = self.bounded(Conn::new(plain.clone())).await?;
                Ok((plain, conn))
            }
            other => other.map(|conn| (base, conn)),
        }
    }

    /// A live session from the pool, reset and set up, within the connect timeout.
    ///
    /// The pool cannot tell that the server closed an idle connection (a restart, `KILL`, `wait_timeout`),
    /// so each borrowed session is pinged first; dead ones are dropped (the pool discards them) and the next
    /// one is tried, so callers see a working session or a connection error, never a stale one.
    pub(crate) async fn get(&self) -> Result<Conn> {
        let (pool, _) = self.pool().await?;
        let attempts = self.config.pool_size.saturating_add(1);
        let mut last = None;
        for _ in 0..attempts {
            let mut conn = self.bounded(pool.get_conn()).await?;
            match self.bounded(conn.ping()).await {
                Ok(()) => return Ok(conn),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| Error::internal("no MySQL session could be had")))
    }

    /// The server's flavor (probing it if needed).
    pub(crate) async fn flavor(&self) -> Result<Flavor> {
        Ok(self.pool().await?.1)
    }

    async fn bounded<T>(
        &self,
        connect: impl std::future::Future<Output = mysql_async::Result<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.config.connect_timeout(), connect).await {
            Ok(result) => result.map_err(|e| self.error(&e)),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "MySQL at {} did not complete a connection within {} s",
                    self.address, self.config.connect_timeout_seconds
                ),
            )
            .with_hint(
                "check that the host and port point at a MySQL server and that nothing drops the packets",
            )),
        }
    }

    /// Maps a driver error with this server's address.
    pub(crate) fn error(&self, driver: &mysql_async::Error) -> Error {
        error::from_driver(driver, &self.address)
    }

    /// The database the connector works in.
    pub(crate) fn database(&self) -> &str {
        &self.database
    }
}

/// Session state for every connection, re-applied after every reset: never a runtime `SET` that a pooled
/// connection would carry to its next borrower.
fn session_setup(config: &MysqlConfig, flavor: Flavor) -> Vec<String> {
    let mut setup = vec!["SET SESSION time_zone = '+00:00'".to_owned()];
    setup.push(match flavor {
        Flavor::MariaDb => format!(
            "SET SESSION max_statement_time = {}",
            config.statement_timeout_seconds
        ),
        Flavor::MySql => format!(
            "SET SESSION max_execution_time = {}",
            config.statement_timeout_seconds.saturating_mul(1000)
        ),
    });
    if config.read_only {
        setup.push("SET SESSION TRANSACTION READ ONLY".to_owned());
    }
    setup
}

fn ssl_opts(config: &MysqlConfig) -> Result<Option<SslOpts>> {
    Ok(match config.tls_mode {
        TlsMode::Disable => None,
        TlsMode::Prefer | TlsMode::Require => Some(
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        TlsMode::VerifyFull => {
            let mut opts = SslOpts::default();
            if let Some(pem) = config
                .ca_certificate
                .as_ref()
                .filter(|pem| !pem.trim().is_empty())
            {
                opts = opts.with_root_certs(vec![pem.clone().into_bytes().into()]);
            }
            Some(opts)
        }
    })
}
