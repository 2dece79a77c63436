//! One set of services for a whole test run, so that a suite of hundreds of tests (one process each under
//! nextest) starts PostgreSQL and MariaDB once rather than once per test.

use std::io::Write as _;
use std::path::Path;

use crate::error::{Result, TestkitError};
use crate::{MysqlServer, PostgresServer, RedisServer, S3Server, mysql, postgres, redis, s3};

/// Running services; they stop when this value is dropped or the process exits.
pub struct Services {
    _postgres: PostgresServer,
    _mysql: MysqlServer,
    _s3: S3Server,
    _redis: RedisServer,
    vars: Vec<(&'static str, String)>,
}

impl Services {
    /// Starts throwaway PostgreSQL, MariaDB, S3 and Redis servers, in parallel where possible.
    pub async fn start() -> Result<Services> {
        let (pg, my) = tokio::join!(PostgresServer::start(), MysqlServer::start());
        let (pg, my) = (pg?, my?);
        let (s3, s3_vars) = s3::start_for_environment()?;
        let redis = RedisServer::start()?;
        let mut vars = vec![
            (postgres::URL_VAR, pg.url()),
            (mysql::URL_VAR, my.url_for("")),
            (redis::URL_VAR, redis.url().to_owned()),
        ];
        vars.extend(s3_vars);
        Ok(Services {
            _postgres: pg,
            _mysql: my,
            _s3: s3,
            _redis: redis,
            vars,
        })
    }

    /// The variables that point tests at these services.
    pub fn vars(&self) -> &[(&'static str, String)] {
        &self.vars
    }

    /// Writes the variables as a shell file of `export NAME='value'` lines, created owner-only because it
    /// holds the throwaway servers' passwords.
    pub fn write_env_file(&self, path: &Path) -> Result<()> {
        let mut text = String::new();
        for (name, value) in &self.vars {
            text.push_str(&format!("export {name}='{}'\n", value.replace('\'', r"'\''")));
        }
        let temp = path.with_extension("partial");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temp)
            .map_err(|error| TestkitError::io("could not write the env file", error))?;
        file.write_all(text.as_bytes())
            .map_err(|error| TestkitError::io("could not write the env file", error))?;
        // Renamed into place only when complete, so a script polling for the file never reads half of it.
        std::fs::rename(&temp, path).map_err(|error| TestkitError::io("could not write the env file", error))
    }
}
