//! Bearer tokens for hosts: admin tokens scoped to one organization, and agent tokens bound to one
//! agent's internal identity. A token is 32 random bytes shown once; the store keeps only its SHA-256
//! hash, so a copy of the store lets no one in. Each token has a public id to list and revoke it by, a
//! name, the time it was last used, and an optional expiry (the registry's default lifetime unless the
//! issuer gives one).
//!
//! Console sign-ins are server-side sessions: a random session id in the cookie names a token by id, so
//! the token never travels in a cookie, signing out ends the session, and revoking the token ends every
//! session opened with it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tributary_core::{Error, ErrorKind, Result};

use crate::model::{Principal, TokenRecord, TokenView};
use crate::registry::Registry;

/// The prefix of every token, so leaked tokens are easy to recognize and scan for.
pub const PREFIX: &str = "trb_";
/// The prefix of console session ids.
const SESSION_PREFIX: &str = "trs_";
/// A token's last use is written at most this often, so authenticating stays a read.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// The longest name a token may have.
pub(crate) const MAX_TOKEN_NAME: usize = 100;
/// The most console sessions kept at once; the oldest is ended to make room.
const MAX_SESSIONS: usize = 10_000;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random(prefix: &str, bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|error| Error::internal(format!("no randomness available: {error}")))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
    ))
}

fn refused() -> Error {
    Error::new(ErrorKind::Authentication, "the token is not valid")
        .with_hint("send `Authorization: Bearer <token>` with a token issued by this host")
}

/// Console sessions, in memory: a host restart signs everyone out.
#[derive(Default)]
pub(crate) struct Sessions {
    by_hash: HashMap<String, ConsoleSession>,
}

struct ConsoleSession {
    token_id: String,
    started: Instant,
    lifetime: Duration,
}

impl Sessions {
    fn insert(&mut self, hash: String, session: ConsoleSession) {
        self.by_hash
            .retain(|_, kept| kept.started.elapsed() < kept.lifetime);
        if self.by_hash.len() >= MAX_SESSIONS
            && let Some(oldest) = self
                .by_hash
                .iter()
                .min_by_key(|(_, kept)| kept.started)
                .map(|(key, _)| key.clone())
        {
            self.by_hash.remove(&oldest);
        }
        self.by_hash.insert(hash, session);
    }
}

impl Registry {
    /// Issues a token for `principal`, named `name`, expiring after the registry's default lifetime
    /// (see [`Registry::with_token_lifetime`]); returns it once: it cannot be shown again.
    pub async fn issue_token(&self, principal: Principal, name: &str) -> Result<String> {
        let expires_at = self
            .token_lifetime()
            .and_then(|lifetime| chrono::Duration::from_std(lifetime).ok())
            .map(|lifetime| Utc::now() + lifetime);
        self.issue_token_until(principal, name, expires_at).await
    }

    /// Issues a token that expires at `expires_at` (`None`: never).
    pub async fn issue_token_until(
        &self,
        principal: Principal,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<String> {
        if name.chars().count() > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "a token name is at most {MAX_TOKEN_NAME} printable characters"
            )));
        }
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(Error::invalid_input("a token's expiry must be in the future"));
        }
        let agent_uid = match &principal {
            Principal::Agent { organization, agent } => Some(
                self.store()
                    .agent_named(organization, agent)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("no agent `{agent}` in this organization")))?
                    .uid,
            ),
            Principal::Admin { organization } if organization.is_empty() => {
                return Err(Error::invalid_input("an admin token needs an organization"));
            }
            Principal::Admin { .. } => None,
        };
        let token = random(PREFIX, 32)?;
        let record = TokenRecord {
            id: random("tok_", 9)?,
            principal,
            agent_uid,
            name: name.to_owned(),
            created_at: Utc::now(),
            last_used_at: None,
            expires_at,
        };
        self.store().put_token(&hash(&token), &record).await?;
        Ok(token)
    }

    /// Who `token` speaks for, or an authentication error (the same for unknown, malformed, expired and
    /// orphaned tokens).
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if !token.starts_with(PREFIX) || token.len() > 128 {
            return Err(refused());
        }
        let record = self.store().token(&hash(token)).await?.ok_or_else(refused)?;
        self.admit(record).await
    }

    /// The principal of a stored token if it still stands: not expired, and for an agent token, its agent
    /// still the one it was issued for. Records the use.
    async fn admit(&self, record: TokenRecord) -> Result<Principal> {
        let now = Utc::now();
        if record.expires_at.is_some_and(|at| at <= now) {
            return Err(refused());
        }
        if let Principal::Agent { organization, agent } = &record.principal {
            let bound = match &record.agent_uid {
                Some(uid) => self.store().agent(uid).await?,
                None => None,
            };
            let bound = bound.filter(|found| &found.organization == organization && &found.id == agent);
            if bound.is_none() {
                return Err(refused());
            }
        }
        if record.last_used_at.is_none_or(|last| now - last >= TOUCH_EVERY) {
            self.store().touch_token(&record.id, now).await?;
        }
        Ok(record.principal)
    }

    /// Revokes a token by its value; whether it existed.
    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        self.store().delete_token(&hash(token)).await
    }

    /// The tokens of `organization` (all of them for `None`, the operator's view), oldest first.
    pub async fn tokens(&self, organization: Option<&str>) -> Result<Vec<TokenView>> {
        Ok(self
            .store()
            .tokens(organization)
            .await?
            .iter()
            .map(TokenView::from)
            .collect())
    }

    /// Revokes the token with this id; it must belong to `organization` (any, for `None`). Sessions
    /// opened with it end at once.
    pub async fn revoke_token_id(&self, organization: Option<&str>, id: &str) -> Result<()> {
        let missing = || Error::not_found(format!("no token `{id}` in this organization"));
        let record = self.store().token_by_id(id).await?.ok_or_else(missing)?;
        if organization.is_some_and(|organization| record.principal.organization() != organization) {
            return Err(missing());
        }
        self.store().delete_token_by_id(id).await?;
        Ok(())
    }

    /// Opens a console session for an admin `token`: returns the session id for the cookie and the
    /// principal. The session lasts `lifetime`, or less if the token is revoked or expires first.
    pub async fn open_session(&self, token: &str, lifetime: Duration) -> Result<(String, Principal)> {
        if !token.starts_with(PREFIX) || token.len() > 128 {
            return Err(refused());
        }
        let record = self.store().token(&hash(token)).await?.ok_or_else(refused)?;
        let token_id = record.id.clone();
        let principal = self.admit(record).await?;
        let session = random(SESSION_PREFIX, 32)?;
        self.sessions().insert(
            hash(&session),
            ConsoleSession {
                token_id,
                started: Instant::now(),
                lifetime,
            },
        );
        Ok((session, principal))
    }

    /// Who the console session `session` is signed in as, while it and its token stand.
    pub async fn session(&self, session: &str) -> Result<Principal> {
        let not_signed_in = || Error::new(ErrorKind::Authentication, "not signed in");
        let key = hash(session);
        let token_id = {
            let mut sessions = self.sessions();
            let Some(found) = sessions.by_hash.get(&key) else {
                return Err(not_signed_in());
            };
            if found.started.elapsed() >= found.lifetime {
                sessions.by_hash.remove(&key);
                return Err(not_signed_in());
            }
            found.token_id.clone()
        };
        let Some(record) = self.store().token_by_id(&token_id).await? else {
            self.sessions().by_hash.remove(&key);
            return Err(not_signed_in());
        };
        self.admit(record).await.map_err(|_| not_signed_in())
    }

    /// Ends a console session (signing out); whether it was open.
    pub fn end_session(&self, session: &str) -> bool {
        self.sessions().by_hash.remove(&hash(session)).is_some()
    }
}
