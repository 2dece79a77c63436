//! PostgreSQL for tests: the server named by `TRIBUTARY_TEST_POSTGRES_URL`, or a throwaway cluster started
//! from the local PostgreSQL binaries with password (SCRAM) authentication, so that a test can prove a
//! wrong password fails.

use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::error::{Result, TestkitError};
use crate::process::{
    Watchdog, as_service_user, find_program, free_port, hand_over, random_hex, run, scratch_dir,
};

/// The variable that points tests at an existing server, e.g. `postgres://postgres:pw@127.0.0.1:5433/postgres`.
/// Its user must be able to create databases, and the server must check passwords.
pub const URL_VAR: &str = "TRIBUTARY_TEST_POSTGRES_URL";
/// Overrides where the PostgreSQL binaries (`initdb`, `postgres`) are looked for.
pub const BINDIR_VAR: &str = "TRIBUTARY_PG_BINDIR";

const HOW_TO_GET: &str = "Install the PostgreSQL server (`apt-get install -y postgresql` on Debian and Ubuntu, or run \
`scripts/setup`), set TRIBUTARY_PG_BINDIR to the folder holding `initdb`, or set TRIBUTARY_TEST_POSTGRES_URL to a \
server with password authentication whose user may create databases.";

/// A PostgreSQL server tests may use: connection details and, for a throwaway one, the process.
pub struct PostgresServer {
    host: String,
    port: u16,
    user: String,
    password: String,
    database: String,
    _process: Option<Watchdog>,
}

static SHARED: OnceCell<PostgresServer> = OnceCell::const_new();

/// The server shared by every test in this process: the environment's, or one throwaway cluster started on
/// first use and stopped when the process exits.
pub async fn postgres() -> Result<&'static PostgresServer> {
    SHARED
        .get_or_try_init(|| async {
            match std::env::var(URL_VAR) {
                Ok(url) if !url.trim().is_empty() => PostgresServer::from_url(&url),
                _ => PostgresServer::start().await,
            }
        })
        .await
}

impl PostgresServer {
    /// Connection details from a URL; nothing is started.
    pub fn from_url(url: &str) -> Result<PostgresServer> {
        let config = tokio_postgres::Config::from_str(url).map_err(|error| {
            TestkitError::new(format!("{URL_VAR} is not a valid PostgreSQL URL: {error}"))
        })?;
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => return Err(TestkitError::new(format!("{URL_VAR} must name a TCP host"))),
        };
        Ok(PostgresServer {
            host,
            port: config.get_ports().first().copied().unwrap_or(5432),
            user: config.get_user().unwrap_or("postgres").to_owned(),
            password: config
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default(),
            database: config.get_dbname().unwrap_or("postgres").to_owned(),
            _process: None,
        })
    }

    /// Starts a new throwaway cluster on a free port of 127.0.0.1, owned by the returned value.
    pub async fn start() -> Result<PostgresServer> {
        PostgresServer::start_with(None).await
    }

    /// Starts a new throwaway cluster that offers TLS with `certificates` (clients may still connect
    /// without TLS).
    pub async fn start_with_tls(certificates: &crate::tls::TestCertificates) -> Result<PostgresServer> {
        PostgresServer::start_with(Some(certificates)).await
    }

    async fn start_with(tls: Option<&crate::tls::TestCertificates>) -> Result<PostgresServer> {
        let bin = bin_dir()?;
        let dir = scratch_dir("tributary-pg-")?;
        let password = random_hex(12);
        let password_file = dir.join("pw");
        std::fs::write(&password_file, &password)
            .map_err(|error| TestkitError::io("could not write the password file", error))?;
        if let Some(certificates) = tls {
            certificates.write_to(&dir)?;
        }
        hand_over(&dir, "postgres")?;

        let data = dir.join("data");
        let initdb = as_service_user("postgres", &bin.join("initdb"));
        run(
            "initdb",
            Command::new(&initdb[0])
                .args(&initdb[1..])
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--no-sync",
                ])
                .args(["--encoding=UTF8", "--no-locale"])
                .arg(format!("--pwfile={}", password_file.display()))
                .current_dir(&dir),
        )?;

        let port = free_port()?;
        let mut command = as_service_user("postgres", &bin.join("postgres"));
        command.extend(
            [
                "-D",
                &data.display().to_string(),
                "-p",
                &port.to_string(),
                "-k",
                &dir.display().to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ]
            .map(str::to_owned),
        );
        if tls.is_some() {
            command.extend([
                "-c".to_owned(),
                "ssl=on".to_owned(),
                "-c".to_owned(),
                format!("ssl_cert_file={}", dir.join("server.crt").display()),
                "-c".to_owned(),
                format!("ssl_key_file={}", dir.join("server.key").display()),
            ]);
        }
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        // SIGINT is PostgreSQL's "fast shutdown": it does not wait for clients to disconnect.
        let process = Watchdog::spawn(&dir, "INT", &args)?;
        let server = PostgresServer {
            host: "127.0.0.1".into(),
            port,
            user: "postgres".into(),
            password,
            database: "postgres".into(),
            _process: Some(process),
        };
        server.wait_until_ready(Duration::from_secs(30)).await?;
        Ok(server)
    }

    async fn wait_until_ready(&self, limit: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            match self.connect(&self.database).await {
                Ok(_) => return Ok(()),
                Err(error) if started.elapsed() > limit => {
                    let log = self._process.as_ref().map(Watchdog::log_tail).unwrap_or_default();
                    return Err(TestkitError::new(format!(
                        "the throwaway PostgreSQL on port {} did not accept connections within {limit:?}: \
                         {error}\nserver log:\n{log}",
                        self.port
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The host (always a loopback address for throwaway servers).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A user that may create databases and roles.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// That user's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The URL of `database` on this server, as the admin user.
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, database
        )
    }

    /// The URL of the server's default database.
    pub fn url(&self) -> String {
        self.url_for(&self.database)
    }

    /// Connects to `database` as the admin user and drives the connection in the background.
    ///
    /// A busy shared server may briefly refuse sessions (too many connections, still starting up): any
    /// refusal but a wrong password is retried for a few seconds so a loaded test run does not fail on it.
    pub async fn connect(&self, database: &str) -> Result<tokio_postgres::Client> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(database)
            .connect_timeout(Duration::from_secs(5));
        let started = Instant::now();
        loop {
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    return Ok(client);
                }
                Err(error) if is_transient(&error) && started.elapsed() < Duration::from_secs(10) => {
                    eprintln!(
                        "testkit: PostgreSQL at {}:{} refused a session on {database} ({}); retrying",
                        self.host,
                        self.port,
                        describe(&error)
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => {
                    return Err(TestkitError::new(format!(
                        "could not connect to PostgreSQL at {}:{} as {} (database {database}): {}. {HOW_TO_GET}",
                        self.host,
                        self.port,
                        self.user,
                        describe(&error)
                    )));
                }
            }
        }
    }

    /// Creates an empty database with a unique name, so tests sharing a server never see each other's data.
    pub async fn create_database(&self) -> Result<String> {
        let name = format!("t_{}", random_hex(6));
        let client = self.connect(&self.database).await?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .map_err(|error| {
                TestkitError::new(format!("could not create database {name}: {}", describe(&error)))
            })?;
        Ok(name)
    }
}

/// Refusals that may succeed when tried again: every refusal by the server except a wrong password.
/// (A loaded shared server has refused a session with a bare "db error" in CI; each retry is printed, so a
/// recurrence names its cause.)
fn is_transient(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    match error.code() {
        Some(code) => ![
            SqlState::INVALID_PASSWORD,
            SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
        ]
        .contains(code),
        None => false,
    }
}

/// The server's own words: tokio-postgres shows only "db error" unless its source is printed.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

fn bin_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(BINDIR_VAR) {
        return Ok(PathBuf::from(dir));
    }
    // Debian and Ubuntu keep server binaries out of PATH, one folder per major version: take the newest.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Some(dir) = find_program("initdb", &[]).and_then(|initdb| initdb.parent().map(PathBuf::from)) {
        return Ok(dir);
    }
    Err(TestkitError::new(format!(
        "PostgreSQL server binaries (initdb, postgres) were not found. {HOW_TO_GET}"
    )))
}
