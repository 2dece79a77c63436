//! The shared store: PostgreSQL, for several host instances. Migrations run in a transaction under an
//! advisory lock, so instances starting together do not race.

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;
use tributary_core::{Error, ErrorKind, Result};

use super::{
    MIGRATIONS, Store, audit_limit, audit_offset, decode, duplicate_agent, duplicate_name, encode, timestamp,
};
use crate::model::{Agent, AuditQuery, AuditRecord, ConnectorDefinition, Grant, Outcome, TokenRecord};

/// A store in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

fn failed(error: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Unreachable,
        format!("the registry's PostgreSQL store failed: {error}"),
    )
    .with_retryable(true)
}

/// Arbitrary, fixed: the advisory lock that serializes migrations.
const MIGRATION_LOCK: i64 = 0x7472_6962_7574;

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host/db`) and migrates the schema.
    pub async fn open(url: &str) -> Result<PostgresStore> {
        let config: tokio_postgres::Config = url.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidConfig,
                "the store URL is not a valid postgres:// URL",
            )
            .with_hint("write it as postgres://user:password@host:5432/database")
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(8).build().map_err(failed)?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(failed)
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(failed)?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(failed)?;
        transaction
            .batch_execute("CREATE TABLE IF NOT EXISTS tributary_migrations (version INTEGER PRIMARY KEY)")
            .await
            .map_err(failed)?;
        let done: i32 = transaction
            .query_one("SELECT COALESCE(MAX(version), 0) FROM tributary_migrations", &[])
            .await
            .map_err(failed)?
            .get(0);
        for (index, (_, postgres)) in MIGRATIONS.iter().enumerate() {
            let version = index as i32 + 1;
            if version > done {
                transaction.batch_execute(postgres).await.map_err(failed)?;
                transaction
                    .execute(
                        "INSERT INTO tributary_migrations (version) VALUES ($1)",
                        &[&version],
                    )
                    .await
                    .map_err(failed)?;
            }
        }
        transaction.commit().await.map_err(failed)
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.client().await?.execute(sql, params).await.map_err(failed)
    }

    async fn bodies(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<String>> {
        let rows = self.client().await?.query(sql, params).await.map_err(failed)?;
        Ok(rows.iter().map(|row| row.get::<_, String>(0)).collect())
    }

    async fn decoded<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>> {
        self.bodies(sql, params)
            .await?
            .iter()
            .map(|body| decode(body))
            .collect()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn put_connector(&self, definition: &ConnectorDefinition) -> Result<()> {
        let body = encode(definition)?;
        let result = self
            .client()
            .await?
            .execute(
                "INSERT INTO connectors (id, organization, name, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET organization = excluded.organization, name = excluded.name, body = excluded.body",
                &[&definition.id, &definition.organization, &definition.name, &body],
            )
            .await;
        match result {
            Err(error) if error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                Err(duplicate_name(definition))
            }
            Err(error) => Err(failed(error)),
            Ok(_) => Ok(()),
        }
    }

    async fn connector(&self, id: &str) -> Result<Option<ConnectorDefinition>> {
        Ok(self
            .decoded("SELECT body FROM connectors WHERE id = $1", &[&id])
            .await?
            .pop())
    }

    async fn connectors(&self, organization: &str) -> Result<Vec<ConnectorDefinition>> {
        self.decoded(
            "SELECT body FROM connectors WHERE organization = $1 ORDER BY name",
            &[&organization],
        )
        .await
    }

    async fn all_connectors(&self) -> Result<Vec<ConnectorDefinition>> {
        self.decoded("SELECT body FROM connectors ORDER BY organization, name", &[])
            .await
    }

    async fn delete_connector(&self, id: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(failed)?;
        transaction
            .execute("DELETE FROM grants WHERE connector = $1", &[&id])
            .await
            .map_err(failed)?;
        let deleted = transaction
            .execute("DELETE FROM connectors WHERE id = $1", &[&id])
            .await
            .map_err(failed)?;
        transaction.commit().await.map_err(failed)?;
        Ok(deleted > 0)
    }

    async fn put_agent(&self, agent: &Agent) -> Result<()> {
        let body = encode(agent)?;
        let result = self
            .client()
            .await?
            .execute(
                "INSERT INTO agents (uid, organization, id, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (uid) DO UPDATE SET body = excluded.body",
                &[&agent.uid, &agent.organization, &agent.id, &body],
            )
            .await;
        match result {
            Err(error) if error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                Err(duplicate_agent(agent))
            }
            Err(error) => Err(failed(error)),
            Ok(_) => Ok(()),
        }
    }

    async fn agent(&self, uid: &str) -> Result<Option<Agent>> {
        Ok(self
            .decoded("SELECT body FROM agents WHERE uid = $1", &[&uid])
            .await?
            .pop())
    }

    async fn agent_named(&self, organization: &str, id: &str) -> Result<Option<Agent>> {
        Ok(self
            .decoded(
                "SELECT body FROM agents WHERE organization = $1 AND id = $2",
                &[&organization, &id],
            )
            .await?
            .pop())
    }

    async fn agents(&self, organization: &str) -> Result<Vec<Agent>> {
        self.decoded(
            "SELECT body FROM agents WHERE organization = $1 ORDER BY id",
            &[&organization],
        )
        .await
    }

    async fn agents_named(&self, id: &str) -> Result<Vec<Agent>> {
        self.decoded(
            "SELECT body FROM agents WHERE id = $1 ORDER BY organization",
            &[&id],
        )
        .await
    }

    async fn delete_agent(&self, uid: &str) -> Result<bool> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(failed)?;
        for sql in [
            "DELETE FROM grants WHERE agent = $1",
            "DELETE FROM tokens WHERE agent = $1",
        ] {
            transaction.execute(sql, &[&uid]).await.map_err(failed)?;
        }
        let deleted = transaction
            .execute("DELETE FROM agents WHERE uid = $1", &[&uid])
            .await
            .map_err(failed)?;
        transaction.commit().await.map_err(failed)?;
        Ok(deleted > 0)
    }

    async fn put_grant(&self, agent_uid: &str, grant: &Grant) -> Result<()> {
        let body = encode(grant)?;
        self.execute(
            "INSERT INTO grants (agent, connector, body) VALUES ($1, $2, $3)
             ON CONFLICT (agent, connector) DO UPDATE SET body = excluded.body",
            &[&agent_uid, &grant.connector, &body],
        )
        .await
        .map(|_| ())
    }

    async fn delete_grant(&self, agent_uid: &str, connector: &str) -> Result<bool> {
        Ok(self
            .execute(
                "DELETE FROM grants WHERE agent = $1 AND connector = $2",
                &[&agent_uid, &connector],
            )
            .await?
            > 0)
    }

    async fn grants_of_agent(&self, agent_uid: &str) -> Result<Vec<Grant>> {
        self.decoded(
            "SELECT body FROM grants WHERE agent = $1 ORDER BY connector",
            &[&agent_uid],
        )
        .await
    }

    async fn grants_on_connector(&self, connector: &str) -> Result<Vec<Grant>> {
        self.decoded(
            "SELECT body FROM grants WHERE connector = $1 ORDER BY agent",
            &[&connector],
        )
        .await
    }

    async fn put_token(&self, hash: &str, token: &TokenRecord) -> Result<()> {
        let body = encode(token)?;
        self.execute(
            "INSERT INTO tokens (hash, body, id, organization, agent) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (hash) DO UPDATE SET body = excluded.body, id = excluded.id, organization = excluded.organization, agent = excluded.agent",
            &[&hash, &body, &token.id, &token.principal.organization(), &token.agent_uid],
        )
        .await
        .map(|_| ())
    }

    async fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        Ok(self
            .decoded("SELECT body FROM tokens WHERE hash = $1", &[&hash])
            .await?
            .pop())
    }

    async fn token_by_id(&self, id: &str) -> Result<Option<TokenRecord>> {
        Ok(self
            .decoded("SELECT body FROM tokens WHERE id = $1", &[&id])
            .await?
            .pop())
    }

    async fn tokens(&self, organization: Option<&str>) -> Result<Vec<TokenRecord>> {
        self.decoded(
            "SELECT body FROM tokens WHERE ($1::text IS NULL OR organization = $1) ORDER BY body::jsonb ->> 'created_at', id",
            &[&organization],
        )
        .await
    }

    async fn touch_token(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> Result<()> {
        let at = timestamp(at)?;
        self.execute(
            "UPDATE tokens SET body = jsonb_set(body::jsonb, '{last_used_at}', to_jsonb($2::text))::text WHERE id = $1",
            &[&id, &at],
        )
        .await
        .map(|_| ())
    }

    async fn delete_token(&self, hash: &str) -> Result<bool> {
        Ok(self
            .execute("DELETE FROM tokens WHERE hash = $1", &[&hash])
            .await?
            > 0)
    }

    async fn delete_token_by_id(&self, id: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM tokens WHERE id = $1", &[&id]).await? > 0)
    }

    async fn append_audit(&self, record: &AuditRecord) -> Result<()> {
        self.append_audits(std::slice::from_ref(record)).await
    }

    async fn append_audits(&self, records: &[AuditRecord]) -> Result<()> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(failed)?;
        let insert = transaction
            .prepare(
                "INSERT INTO audit (at, organization, agent, connector, body) VALUES ($1, $2, $3, $4, $5)",
            )
            .await
            .map_err(failed)?;
        for record in records {
            let body = encode(record)?;
            transaction
                .execute(
                    &insert,
                    &[
                        &record.at.to_rfc3339(),
                        &record.organization,
                        &record.agent,
                        &record.connector,
                        &body,
                    ],
                )
                .await
                .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let since = query.since.map(|since| since.to_rfc3339());
        let until = query.until.map(|until| until.to_rfc3339());
        let outcome = query.outcome.map(Outcome::as_str);
        self.decoded(
            "SELECT body FROM audit WHERE organization = $1 AND ($2::text IS NULL OR connector = $2) AND ($3::text IS NULL OR agent = $3)
             AND ($4::text IS NULL OR at >= $4) AND ($7::text IS NULL OR at < $7) AND ($8::text IS NULL OR body::jsonb->>'outcome' = $8)
             ORDER BY seq DESC LIMIT $5 OFFSET $6",
            &[&query.organization, &query.connector, &query.agent, &since, &audit_limit(query), &audit_offset(query), &until, &outcome],
        )
        .await
    }
}
