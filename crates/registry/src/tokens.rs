//! Bearer tokens for hosts: admin tokens scoped to one organization, and agent tokens. A token is 32
//! random bytes shown once; the store keeps only its SHA-256 hash, so a copy of the store lets no one in.

use base64::Engine as _;
use chrono::Utc;
use sha2::{Digest, Sha256};
use tributary_core::{Error, Result};

use crate::model::{Principal, TokenRecord};
use crate::registry::Registry;

/// The prefix of every token, so leaked tokens are easy to recognize and scan for.
pub const PREFIX: &str = "trb_";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Registry {
    /// Issues a token for `principal` and returns it; it cannot be shown again.
    pub async fn issue_token(&self, principal: Principal, label: &str) -> Result<String> {
        match &principal {
            Principal::Agent { agent } => {
                self.store()
                    .agent(agent)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("no agent `{agent}`")))?;
            }
            Principal::Admin { organization } if organization.is_empty() => {
                return Err(Error::invalid_input("an admin token needs an organization"));
            }
            Principal::Admin { .. } => {}
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|error| Error::internal(format!("no randomness available: {error}")))?;
        let token = format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let record = TokenRecord {
            principal,
            label: label.to_owned(),
            created_at: Utc::now(),
        };
        self.store().put_token(&hash(&token), &record).await?;
        Ok(token)
    }

    /// Who `token` speaks for, or a permission error (the same for unknown and malformed tokens).
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        let refused = || {
            Error::new(
                tributary_core::ErrorKind::Authentication,
                "the token is not valid",
            )
            .with_hint("send `Authorization: Bearer <token>` with a token issued by this host")
        };
        if !token.starts_with(PREFIX) || token.len() > 128 {
            return Err(refused());
        }
        self.store()
            .token(&hash(token))
            .await?
            .map(|record| record.principal)
            .ok_or_else(refused)
    }

    /// Revokes a token; whether it existed.
    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        self.store().delete_token(&hash(token)).await
    }
}
