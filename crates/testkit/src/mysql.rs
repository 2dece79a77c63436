//! MariaDB (or MySQL) for tests: the server named by `TRIBUTARY_TEST_MYSQL_URL`, or a throwaway instance
//! started from the local MariaDB binaries with a root password, so that a test can prove a wrong password
//! fails.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use tokio::sync::OnceCell;

use crate::error::{Result, TestkitError};
use crate::process::{
    Watchdog, find_program, free_port, hand_over, random_hex, run, running_as_root, scratch_dir,
};

/// The variable that points tests at an existing server, e.g. `mysql://root:pw@127.0.0.1:3307/`. Its user
/// must be able to create databases and users, and the server must check passwords.
pub const URL_VAR: &str = "TRIBUTARY_TEST_MYSQL_URL";

const HOW_TO_GET: &str = "Install the MariaDB server (`apt-get install -y mariadb-server` on Debian and Ubuntu, or \
run `scripts/setup`), or set TRIBUTARY_TEST_MYSQL_URL to a server with password authentication whose user may \
create databases and users.";

/// A MariaDB or MySQL server tests may use.
pub struct MysqlServer {
    host: String,
    port: u16,
    user: String,
    password: String,
    _process: Option<Watchdog>,
}

static SHARED: OnceCell<MysqlServer> = OnceCell::const_new();

/// The server shared by every test in this process: the environment's, or one throwaway instance started on
/// first use and stopped when the process exits.
pub async fn mysql() -> Result<&'static MysqlServer> {
    SHARED
        .get_or_try_init(|| async {
            match std::env::var(URL_VAR) {
                Ok(url) if !url.trim().is_empty() => MysqlServer::from_url(&url),
                _ => MysqlServer::start().await,
            }
        })
        .await
}

impl MysqlServer {
    /// Connection details from a URL; nothing is started.
    pub fn from_url(url: &str) -> Result<MysqlServer> {
        let opts = mysql_async::Opts::from_url(url)
            .map_err(|error| TestkitError::new(format!("{URL_VAR} is not a valid MySQL URL: {error}")))?;
        Ok(MysqlServer {
            host: opts.ip_or_hostname().to_owned(),
            port: opts.tcp_port(),
            user: opts.user().unwrap_or("root").to_owned(),
            password: opts.pass().unwrap_or_default().to_owned(),
            _process: None,
        })
    }

    /// Starts a new throwaway instance on a free port of 127.0.0.1, owned by the returned value.
    pub async fn start() -> Result<MysqlServer> {
        MysqlServer::start_with(None).await
    }

    /// Starts a new throwaway instance that offers TLS with `certificates` (clients may still connect
    /// without TLS).
    pub async fn start_with_tls(certificates: &crate::tls::TestCertificates) -> Result<MysqlServer> {
        MysqlServer::start_with(Some(certificates)).await
    }

    async fn start_with(tls: Option<&crate::tls::TestCertificates>) -> Result<MysqlServer> {
        let (install_db, server) = binaries()?;
        let dir = scratch_dir("tributary-mariadb-")?;
        if let Some(certificates) = tls {
            certificates.write_to(&dir)?;
        }
        hand_over(&dir, "mysql")?;
        let data = dir.join("data");
        let mut install = Command::new(&install_db);
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .current_dir(&dir);
        if running_as_root() {
            install.arg("--user=mysql");
        }
        run("mariadb-install-db", &mut install)?;

        let port = free_port()?;
        let mut command: Vec<String> = vec![
            server.display().to_string(),
            "--no-defaults".into(),
            format!("--datadir={}", data.display()),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".into(),
            format!("--socket={}", dir.join("sock").display()),
            format!("--pid-file={}", dir.join("mariadbd.pid").display()),
            "--innodb-flush-log-at-trx-commit=0".into(),
            "--innodb-buffer-pool-size=64M".into(),
            "--max-connections=300".into(),
        ];
        if running_as_root() {
            command.push("--user=mysql".into());
        }
        if tls.is_some() {
            command.push(format!("--ssl-cert={}", dir.join("server.crt").display()));
            command.push(format!("--ssl-key={}", dir.join("server.key").display()));
            command.push(format!("--ssl-ca={}", dir.join("ca.crt").display()));
        }
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let process = Watchdog::spawn(&dir, "TERM", &args)?;

        // A fresh instance has root@localhost with an empty password; give it one so that authentication
        // failures can be tested. A TCP login from 127.0.0.1 matches the `localhost` account.
        let password = random_hex(12);
        let mut server = MysqlServer {
            host: "127.0.0.1".into(),
            port,
            user: "root".into(),
            password: String::new(),
            _process: Some(process),
        };
        let mut conn = server.wait_until_ready(Duration::from_secs(30)).await?;
        conn.query_drop(format!(
            "ALTER USER 'root'@'localhost' IDENTIFIED BY '{password}'"
        ))
        .await
        .map_err(|error| TestkitError::new(format!("could not set the MariaDB root password: {error}")))?;
        let _ = conn.disconnect().await;
        server.password = password;
        Ok(server)
    }

    async fn wait_until_ready(&self, limit: Duration) -> Result<mysql_async::Conn> {
        let started = Instant::now();
        loop {
            match self.connect(None).await {
                Ok(conn) => return Ok(conn),
                Err(error) if started.elapsed() > limit => {
                    let log = self._process.as_ref().map(Watchdog::log_tail).unwrap_or_default();
                    return Err(TestkitError::new(format!(
                        "the throwaway MariaDB on port {} did not accept connections within {limit:?}: {error}\n\
                         server log:\n{log}",
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

    /// A user that may create databases and users.
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
            "mysql://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, database
        )
    }

    /// Connects as the admin user, to `database` if given.
    pub async fn connect(&self, database: Option<&str>) -> Result<mysql_async::Conn> {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .db_name(database.map(str::to_owned))
            .prefer_socket(false);
        let connect = mysql_async::Conn::new(opts);
        match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(error)) => Err(TestkitError::new(format!(
                "could not connect to MariaDB at {}:{} as {}: {error}. {HOW_TO_GET}",
                self.host, self.port, self.user
            ))),
            Err(_) => Err(TestkitError::new(format!(
                "MariaDB at {}:{} did not answer within 5 s. {HOW_TO_GET}",
                self.host, self.port
            ))),
        }
    }

    /// Creates an empty database with a unique name, so tests sharing a server never see each other's data.
    pub async fn create_database(&self) -> Result<String> {
        let name = format!("t_{}", random_hex(6));
        let mut conn = self.connect(None).await?;
        conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .await
            .map_err(|error| TestkitError::new(format!("could not create database {name}: {error}")))?;
        let _ = conn.disconnect().await;
        Ok(name)
    }
}

fn binaries() -> Result<(PathBuf, PathBuf)> {
    let install_db =
        find_program("mariadb-install-db", &[]).or_else(|| find_program("mysql_install_db", &[]));
    let server = find_program("mariadbd", &[]).or_else(|| find_program("mysqld", &[]));
    match (install_db, server) {
        (Some(install_db), Some(server)) => Ok((install_db, server)),
        _ => Err(TestkitError::new(format!(
            "MariaDB server binaries (mariadb-install-db, mariadbd) were not found. {HOW_TO_GET}"
        ))),
    }
}
