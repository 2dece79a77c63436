//! The connection pool: TLS, session settings in the startup packet, connections cleaned before reuse, and
//! every wait bounded by the connect timeout.

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts};
use tributary_core::{Error, Result};

use crate::config::PostgresConfig;
use crate::{error, tls};

/// A pool of sessions to one database.
pub(crate) struct Connections {
    pool: Pool,
    address: String,
    connect_timeout_seconds: u64,
}

impl Connections {
    /// Builds the pool without connecting: the first call connects, and `check` reports reachability.
    pub(crate) fn new(config: &PostgresConfig) -> Result<Connections> {
        let mut driver = config.driver_config()?;
        // Recycling runs CLOSE ALL, RESET ALL, UNLISTEN, DISCARD TEMP/SEQUENCES and releases advisory locks, so
        // nothing a statement changed survives into the next borrower's session.
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Clean };
        let manager = match tls::client_config(config.tls_mode, config.ca_certificate.as_deref())? {
            None => {
                driver.ssl_mode(tokio_postgres::config::SslMode::Disable);
                Manager::from_config(driver, tokio_postgres::NoTls, manager_config)
            }
            Some(client) => {
                let mode = match config.tls_mode {
                    crate::config::TlsMode::Prefer => tokio_postgres::config::SslMode::Prefer,
                    _ => tokio_postgres::config::SslMode::Require,
                };
                driver.ssl_mode(mode);
                Manager::from_config(driver, tokio_postgres_rustls::MakeRustlsConnect::new(client), manager_config)
            }
        };
        let timeout = Some(config.connect_timeout());
        let pool = Pool::builder(manager)
            .max_size(usize::try_from(config.pool_size).unwrap_or(5))
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts { wait: timeout, create: timeout, recycle: timeout })
            .build()
            .map_err(|build| Error::internal(format!("could not build the PostgreSQL pool: {build}")))?;
        Ok(Connections { pool, address: config.address(), connect_timeout_seconds: config.connect_timeout_seconds })
    }

    /// A session from the pool.
    pub(crate) async fn get(&self) -> Result<Object> {
        self.pool.get().await.map_err(|pool| error::from_pool(pool, &self.address, self.connect_timeout_seconds))
    }

    /// Maps a driver error with this server's address.
    pub(crate) fn error(&self, driver: &tokio_postgres::Error) -> Error {
        error::from_driver(driver, &self.address)
    }
}
