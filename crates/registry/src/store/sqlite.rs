//! The embedded store: one SQLite file, created on first use, accessed on tokio's blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use tributary_core::{Error, ErrorKind, Result};

use super::{
    MIGRATIONS, Store, audit_limit, audit_offset, decode, duplicate_agent, duplicate_name, encode, timestamp,
};
use crate::model::{Agent, AuditQuery, AuditRecord, ConnectorDefinition, Grant, Outcome, TokenRecord};

/// A store in one SQLite file (or in memory).
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    /// The database file, `None` in memory.
    path: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

fn failed(error: rusqlite::Error) -> Error {
    Error::new(
        ErrorKind::Unreachable,
        format!("the registry's SQLite store failed: {error}"),
    )
    .with_retryable(true)
}

/// Creates `path` empty with mode 0600 if it does not exist; narrows an existing file to 0600.
fn owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let cannot = |error: std::io::Error| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("cannot create the registry store {}: {error}", path.display()),
        )
        .with_hint("check that the store's folder exists and is writable")
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let metadata = std::fs::metadata(path).map_err(cannot)?;
            if metadata.is_file() && metadata.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(cannot)?;
            }
            Ok(())
        }
        Err(error) => Err(cannot(error)),
    }
}

/// Runs `work` in one transaction whose `BEGIN` and `COMMIT` are statements the connection keeps
/// prepared (rusqlite's `transaction()` parses them on every call): the audit writer commits a group per
/// call when calls come one at a time. Rolled back when `work` or the commit fails.
fn in_kept_transaction<T>(
    c: &mut Connection,
    work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached("BEGIN")?.execute([])?;
    let done = work(c).and_then(|value| c.prepare_cached("COMMIT")?.execute([]).map(|_| value));
    if done.is_err() && !c.is_autocommit() {
        // The error that matters is the one above; a failed rollback leaves nothing more to undo here.
        let _ = c
            .prepare_cached("ROLLBACK")
            .and_then(|mut rollback| rollback.execute([]));
    }
    done
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, and migrates it. The file is made owner-only
    /// (0600), and so are the `-wal` and `-shm` files SQLite makes beside it (they take its mode): the
    /// store holds every organization's sealed configs, token hashes and audit.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        owner_only(path)?;
        let file = path.to_owned();
        let connection = tokio::task::spawn_blocking(move || Connection::open(&file))
            .await
            .map_err(|error| Error::internal(format!("the store task failed: {error}")))?
            .map_err(|error| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!("cannot open the registry store: {error}"),
                )
                .with_hint("check that the store's folder exists and is writable")
            })?;
        let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
        SqliteStore::migrate(connection, Some(path)).await
    }

    /// A store in memory, for tests and demos.
    pub async fn in_memory() -> Result<SqliteStore> {
        SqliteStore::migrate(Connection::open_in_memory().map_err(failed)?, None).await
    }

    async fn migrate(connection: Connection, path: Option<std::path::PathBuf>) -> Result<SqliteStore> {
        let store = SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            path,
        };
        store
            .with(|c| {
                c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; CREATE TABLE IF NOT EXISTS tributary_migrations (version INTEGER PRIMARY KEY);")?;
                let done: i64 = c.query_row("SELECT COALESCE(MAX(version), 0) FROM tributary_migrations", [], |row| row.get(0))?;
                for (index, (sqlite, _)) in MIGRATIONS.iter().enumerate() {
                    let version = index as i64 + 1;
                    if version > done {
                        let transaction = c.transaction()?;
                        transaction.execute_batch(sqlite)?;
                        transaction.execute("INSERT INTO tributary_migrations (version) VALUES (?1)", [version])?;
                        transaction.commit()?;
                    }
                }
                Ok(())
            })
            .await?;
        Ok(store)
    }

    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = connection
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&mut connection)
        })
        .await
        .map_err(|error| Error::internal(format!("the store task failed: {error}")))?
        .map_err(failed)
    }

    async fn bodies(&self, sql: &'static str, key: String) -> Result<Vec<String>> {
        self.with(move |c| {
            let mut statement = c.prepare(sql)?;
            let rows = statement.query_map([key], |row| row.get::<_, String>(0))?;
            rows.collect()
        })
        .await
    }

    async fn body(&self, sql: &'static str, key: String) -> Result<Option<String>> {
        self.with(move |c| c.query_row(sql, [key], |row| row.get::<_, String>(0)).optional())
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn files(&self) -> Vec<std::path::PathBuf> {
        let Some(path) = &self.path else {
            return Vec::new();
        };
        let mut files = vec![path.clone()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        files
    }

    async fn put_connector(&self, definition: &ConnectorDefinition) -> Result<()> {
        let body = encode(definition)?;
        let (id, organization, name) = (
            definition.id.clone(),
            definition.organization.clone(),
            definition.name.clone(),
        );
        let result = self
            .with(move |c| {
                c.execute(
                    "INSERT INTO connectors (id, organization, name, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET organization = excluded.organization, name = excluded.name, body = excluded.body",
                    params![id, organization, name, body],
                )
            })
            .await;
        match result {
            Err(error) if error.message().contains("UNIQUE") => Err(duplicate_name(definition)),
            other => other.map(|_| ()),
        }
    }

    async fn connector(&self, id: &str) -> Result<Option<ConnectorDefinition>> {
        self.body("SELECT body FROM connectors WHERE id = ?1", id.to_owned())
            .await?
            .as_deref()
            .map(decode)
            .transpose()
    }

    async fn connectors(&self, organization: &str) -> Result<Vec<ConnectorDefinition>> {
        let bodies = self
            .bodies(
                "SELECT body FROM connectors WHERE organization = ?1 ORDER BY name",
                organization.to_owned(),
            )
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn all_connectors(&self) -> Result<Vec<ConnectorDefinition>> {
        let bodies = self.with(|c| {
            let mut statement = c.prepare("SELECT body FROM connectors ORDER BY organization, name")?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        });
        bodies.await?.iter().map(|body| decode(body)).collect()
    }

    async fn delete_connector(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.with(move |c| {
            let transaction = c.transaction()?;
            transaction.execute("DELETE FROM grants WHERE connector = ?1", [&id])?;
            let deleted = transaction.execute("DELETE FROM connectors WHERE id = ?1", [&id])?;
            transaction.commit()?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn put_agent(&self, agent: &Agent) -> Result<()> {
        let body = encode(agent)?;
        let (uid, organization, id) = (agent.uid.clone(), agent.organization.clone(), agent.id.clone());
        let result = self
            .with(move |c| {
                c.execute(
                    "INSERT INTO agents (uid, organization, id, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (uid) DO UPDATE SET body = excluded.body",
                    params![uid, organization, id, body],
                )
            })
            .await;
        match result {
            Err(error) if error.message().contains("UNIQUE") => Err(duplicate_agent(agent)),
            other => other.map(|_| ()),
        }
    }

    async fn agent(&self, uid: &str) -> Result<Option<Agent>> {
        self.body("SELECT body FROM agents WHERE uid = ?1", uid.to_owned())
            .await?
            .as_deref()
            .map(decode)
            .transpose()
    }

    async fn agent_named(&self, organization: &str, id: &str) -> Result<Option<Agent>> {
        let (organization, id) = (organization.to_owned(), id.to_owned());
        self.with(move |c| {
            c.query_row(
                "SELECT body FROM agents WHERE organization = ?1 AND id = ?2",
                [organization, id],
                |row| row.get::<_, String>(0),
            )
            .optional()
        })
        .await?
        .as_deref()
        .map(decode)
        .transpose()
    }

    async fn agents(&self, organization: &str) -> Result<Vec<Agent>> {
        let bodies = self
            .bodies(
                "SELECT body FROM agents WHERE organization = ?1 ORDER BY id",
                organization.to_owned(),
            )
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn agents_named(&self, id: &str) -> Result<Vec<Agent>> {
        let bodies = self
            .bodies(
                "SELECT body FROM agents WHERE id = ?1 ORDER BY organization",
                id.to_owned(),
            )
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn delete_agent(&self, uid: &str) -> Result<bool> {
        let uid = uid.to_owned();
        self.with(move |c| {
            let transaction = c.transaction()?;
            transaction.execute("DELETE FROM grants WHERE agent = ?1", [&uid])?;
            transaction.execute("DELETE FROM tokens WHERE agent = ?1", [&uid])?;
            let deleted = transaction.execute("DELETE FROM agents WHERE uid = ?1", [&uid])?;
            transaction.commit()?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn put_grant(&self, agent_uid: &str, grant: &Grant) -> Result<()> {
        let body = encode(grant)?;
        let (agent, connector) = (agent_uid.to_owned(), grant.connector.clone());
        self.with(move |c| {
            c.execute(
                "INSERT INTO grants (agent, connector, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (agent, connector) DO UPDATE SET body = excluded.body",
                params![agent, connector, body],
            )
        })
        .await
        .map(|_| ())
    }

    async fn delete_grant(&self, agent_uid: &str, connector: &str) -> Result<bool> {
        let (agent, connector) = (agent_uid.to_owned(), connector.to_owned());
        self.with(move |c| {
            c.execute(
                "DELETE FROM grants WHERE agent = ?1 AND connector = ?2",
                params![agent, connector],
            )
        })
        .await
        .map(|deleted| deleted > 0)
    }

    async fn grants_of_agent(&self, agent_uid: &str) -> Result<Vec<Grant>> {
        let bodies = self
            .bodies(
                "SELECT body FROM grants WHERE agent = ?1 ORDER BY connector",
                agent_uid.to_owned(),
            )
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn grants_on_connector(&self, connector: &str) -> Result<Vec<Grant>> {
        let bodies = self
            .bodies(
                "SELECT body FROM grants WHERE connector = ?1 ORDER BY agent",
                connector.to_owned(),
            )
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn put_token(&self, hash: &str, token: &TokenRecord) -> Result<()> {
        let (hash, body) = (hash.to_owned(), encode(token)?);
        let (id, organization, agent) = (
            token.id.clone(),
            token.principal.organization().to_owned(),
            token.agent_uid.clone(),
        );
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO tokens (hash, body, id, organization, agent) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![hash, body, id, organization, agent],
            )
        })
        .await
        .map(|_| ())
    }

    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        self.body("SELECT body FROM tokens WHERE hash = ?1", hash.to_owned())
            .await?
            .as_deref()
            .map(decode)
            .transpose()
    }

    async fn token_by_id(&self, id: &str) -> Result<Option<TokenRecord>> {
        self.body("SELECT body FROM tokens WHERE id = ?1", id.to_owned())
            .await?
            .as_deref()
            .map(decode)
            .transpose()
    }

    async fn tokens(&self, organization: Option<&str>) -> Result<Vec<TokenRecord>> {
        let organization = organization.map(str::to_owned);
        let bodies = self
            .with(move |c| {
                let mut statement = c.prepare(
                    "SELECT body FROM tokens WHERE (?1 IS NULL OR organization = ?1) ORDER BY json_extract(body, '$.created_at'), id",
                )?;
                let rows = statement.query_map([organization], |row| row.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()
            })
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }

    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<()> {
        let (id, at) = (id.to_owned(), timestamp(at)?);
        self.with(move |c| {
            c.execute(
                "UPDATE tokens SET body = json_set(body, '$.last_used_at', ?2) WHERE id = ?1",
                params![id, at],
            )
        })
        .await
        .map(|_| ())
    }

    async fn delete_token(&self, hash: &str) -> Result<bool> {
        let hash = hash.to_owned();
        self.with(move |c| c.execute("DELETE FROM tokens WHERE hash = ?1", [hash]))
            .await
            .map(|deleted| deleted > 0)
    }

    async fn delete_token_by_id(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.with(move |c| c.execute("DELETE FROM tokens WHERE id = ?1", [id]))
            .await
            .map(|deleted| deleted > 0)
    }

    async fn append_audit(&self, record: &AuditRecord) -> Result<()> {
        self.append_audits(std::slice::from_ref(record)).await
    }

    async fn append_audits(&self, records: &[AuditRecord]) -> Result<()> {
        let rows = records
            .iter()
            .map(|record| {
                Ok((
                    record.at.to_rfc3339(),
                    record.organization.clone(),
                    record.agent.clone(),
                    record.connector.clone(),
                    encode(record)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        self.with(move |c| {
            in_kept_transaction(c, |c| {
                let mut insert = c.prepare_cached(
                    "INSERT INTO audit (at, organization, agent, connector, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for row in &rows {
                    insert.execute(params![row.0, row.1, row.2, row.3, row.4])?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let query = query.clone();
        let bodies = self
            .with(move |c| {
                let mut statement = c.prepare(
                    "SELECT body FROM audit WHERE organization = ?1 AND (?2 IS NULL OR connector = ?2) AND (?3 IS NULL OR agent = ?3)
                     AND (?4 IS NULL OR at >= ?4) AND (?7 IS NULL OR at < ?7) AND (?8 IS NULL OR json_extract(body, '$.outcome') = ?8)
                     ORDER BY seq DESC LIMIT ?5 OFFSET ?6",
                )?;
                let since = query.since.map(|since| since.to_rfc3339());
                let until = query.until.map(|until| until.to_rfc3339());
                let outcome = query.outcome.map(Outcome::as_str);
                let rows = statement.query_map(
                    params![query.organization, query.connector, query.agent, since, audit_limit(&query), audit_offset(&query), until, outcome],
                    |row| row.get::<_, String>(0),
                )?;
                rows.collect::<rusqlite::Result<Vec<String>>>()
            })
            .await?;
        bodies.iter().map(|body| decode(body)).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn count(c: &Connection) -> i64 {
        c.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_kept_transaction_commits_all_or_nothing_and_can_be_used_again() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").unwrap();
        in_kept_transaction(&mut c, |c| c.execute("INSERT INTO t VALUES (1)", [])).unwrap();
        assert_eq!(count(&c), 1);
        // The second insert breaks the primary key: the first of the group must not stay.
        let error = in_kept_transaction(&mut c, |c| {
            c.execute("INSERT INTO t VALUES (2)", [])?;
            c.execute("INSERT INTO t VALUES (1)", [])
        })
        .unwrap_err();
        assert_eq!(
            error.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation)
        );
        assert!(c.is_autocommit(), "the failed group must be rolled back");
        assert_eq!(count(&c), 1);
        in_kept_transaction(&mut c, |c| c.execute("INSERT INTO t VALUES (3)", [])).unwrap();
        assert_eq!(count(&c), 2);
    }
}
