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
        let mut driver = crate::config::driver_config(config)?;
        // Sessions are reset by `Connections::release` right after use (queued behind the ROLLBACK, so it
        // costs no extra wait); recycling only checks that the connection is still open.
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
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
                Manager::from_config(
                    driver,
                    tokio_postgres_rustls::MakeRustlsConnect::new(client),
                    manager_config,
                )
            }
        };
        let timeout = Some(config.connect_timeout());
        let pool = Pool::builder(manager)
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

    /// Resets a session before it goes back to the pool: `DISCARD ALL` drops temporary tables, prepared
    /// statements, cursors, listeners and advisory locks and returns every setting to its value at session
    /// start (the startup packet's), so nothing a statement changed reaches the next borrower. A session that
    /// cannot be reset is closed instead of being reused.
    pub(crate) async fn release(&self, session: Object) {
        if session.batch_execute("DISCARD ALL").await.is_err() {
            let _ = Object::take(session);
        }
    }

    /// Maps a driver error with this server's address.
    pub(crate) fn error(&self, driver: &tokio_postgres::Error) -> Error {
        error::from_driver(driver, &self.address)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn a_released_session_comes_back_clean() {
        let server = tributary_testkit::postgres().await.unwrap();
        let database = server.create_database().await.unwrap();
        let values = crate::config::spec()
            .validate(&json!({
                "host": server.host(), "port": server.port(), "database": database, "user": server.user(),
                "password": server.password(), "tls_mode": "disable", "pool_size": 1, "statement_timeout_seconds": 7
            }))
            .unwrap();
        let connections = Connections::new(&PostgresConfig::from_values(&values).unwrap()).unwrap();
        let session = connections.get().await.unwrap();
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
            "SET statement_timeout = '1ms'",
        ] {
            session.batch_execute(dirt).await.unwrap();
        }
        connections.release(session).await;

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
