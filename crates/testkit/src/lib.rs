//! Real services for Tributary's tests.
//!
//! Tests talk to real servers over real connections, never to mocks. Each service comes from one of two
//! places, in this order:
//!
//! 1. the environment: a URL or endpoint variable names a running server (see each module's `*_VAR`
//!    constants). `scripts/test` starts one set of services with `tributary-testkit services` and exports
//!    these variables, so the whole suite shares them;
//! 2. a throwaway instance started by the test process itself from local binaries, on a free port of
//!    127.0.0.1, with password authentication, and stopped (its data deleted) when the process exits.
//!
//! When neither is possible the call fails with a message saying what to install; tests never skip.
//! Every helper hands out isolated space (a fresh database, a fresh bucket) so tests can share a server.
//!
//! - [`postgres`](mod@postgres): PostgreSQL, via `initdb`/`postgres` (Debian package `postgresql`).
//! - [`mysql`](mod@mysql): MariaDB or MySQL, via `mariadb-install-db`/`mariadbd` (Debian package `mariadb-server`).
//! - [`s3`](mod@s3): an S3-compatible server that checks signatures, run in process (nothing to install).
//! - [`salesforce`]: a Salesforce REST and OAuth test server, run in process (nothing to install).
//! - [`redis`](mod@redis): Redis, via `redis-server` (Debian package `redis-server`).
//! - [`network`]: loopback faults for failure tests: a silent server, a closed port, a cuttable proxy, a
//!   recording listener, and a resolver whose answers a test changes.
//! - [`tls`]: a throwaway CA and server certificate for TLS tests.
//! - [`services`]: starting all of them at once for a test run.
#![allow(
    clippy::disallowed_methods,
    reason = "the test kit starts and reaches its test services itself; connectors go through HostAccess"
)]

pub mod error;
pub mod mysql;
pub mod network;
pub mod postgres;
mod process;
pub mod redis;
pub mod s3;
pub mod salesforce;
pub mod services;
pub mod tls;

pub use error::{Result, TestkitError};
pub use mysql::{MysqlServer, mysql};
pub use postgres::{PostgresServer, postgres};
pub use process::random_hex;
pub use redis::{RedisServer, redis};
pub use s3::{S3Server, s3};
pub use salesforce::SalesforceServer;
