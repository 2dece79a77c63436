//! `put`, `delete`, `copy` and `presign_put`: the typed API, which the `Connector` implementation also runs.
//!
//! A body larger than one part goes up as a multipart upload: the parts are slices of the one buffer (no
//! copies), up to four are in flight at once, and a failed upload is aborted so no orphaned parts stay
//! behind to be billed.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http::Method;
use object_store::{
    Attribute, AttributeValue, Attributes, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload,
};
use tributary_core::{Error, Result};

use crate::config::Provider;
use crate::connector::ObjectStoreConnector;
use crate::key::ObjectKey;
use crate::operations::read::presign_validity;
use crate::types::{PresignedUrl, PutOutcome};

/// Parts of one multipart upload sent at the same time.
const PARALLEL_PARTS: usize = 4;

/// Refuses a body over the connector's write limit.
pub(crate) fn check_size(size: usize, max: u64) -> Result<()> {
    if size as u64 > max {
        return Err(Error::invalid_input(format!(
            "the body is {size} bytes; this connector accepts at most {max} bytes per put"
        ))
        .with_hint("an administrator can raise max_write_bytes; or use presign_put and upload directly"));
    }
    Ok(())
}

impl ObjectStoreConnector {
    /// Writes `body` to `key`, replacing any object there; bodies larger than one part go up in parts.
    pub async fn put(&self, key: &str, body: Bytes, content_type: Option<&str>) -> Result<PutOutcome> {
        self.writable()?;
        check_size(body.len(), self.config.max_write_bytes)?;
        self.put_key(&ObjectKey::parse(key, "key")?, body, content_type)
            .await
    }

    pub(crate) async fn put_key(
        &self,
        key: &ObjectKey,
        body: Bytes,
        content_type: Option<&str>,
    ) -> Result<PutOutcome> {
        self.store.check_entry(key)?;
        let mut attributes = Attributes::new();
        // Local folders keep no metadata, and object_store refuses attributes for them.
        if let Some(content_type) = content_type.filter(|_| self.config.provider != Provider::Local) {
            attributes.insert(
                Attribute::ContentType,
                AttributeValue::from(content_type.to_owned()),
            );
        }
        let size = body.len() as u64;
        let part = usize::try_from(self.config.multipart_part_bytes).unwrap_or(usize::MAX);
        let fail = |error| self.fail(error, Some(key.as_str()));
        if body.len() <= part {
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            let result = self
                .store
                .objects
                .put_opts(key.path(), PutPayload::from(body), options)
                .await
                .map_err(fail)?;
            return Ok(PutOutcome {
                key: key.to_string(),
                size,
                e_tag: result.e_tag,
                parts: 1,
            });
        }
        let options = PutMultipartOptions {
            attributes,
            ..PutMultipartOptions::default()
        };
        let mut upload = self
            .store
            .objects
            .put_multipart_opts(key.path(), options)
            .await
            .map_err(fail)?;
        let parts: Vec<_> = (0..body.len())
            .step_by(part)
            .map(|start| {
                upload.put_part(PutPayload::from(
                    body.slice(start..(start + part).min(body.len())),
                ))
            })
            .collect();
        let count = parts.len() as u64;
        let sent = futures_util::stream::iter(parts)
            .buffer_unordered(PARALLEL_PARTS)
            .try_collect::<Vec<()>>()
            .await;
        let completed = match sent {
            Ok(_) => upload.complete().await,
            Err(error) => Err(error),
        };
        match completed {
            Ok(result) => Ok(PutOutcome {
                key: key.to_string(),
                size,
                e_tag: result.e_tag,
                parts: count,
            }),
            Err(error) => {
                // Best effort: the upload's own error is the one worth reporting.
                let _ = upload.abort().await;
                Err(fail(error))
            }
        }
    }

    /// Deletes `key`. S3 reports success for a key that does not exist; local folders report not found.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.writable()?;
        self.delete_key(&ObjectKey::parse(key, "key")?).await
    }

    pub(crate) async fn delete_key(&self, key: &ObjectKey) -> Result<()> {
        self.store.check_entry(key)?;
        self.store
            .objects
            .delete(key.path())
            .await
            .map_err(|error| self.fail(error, Some(key.as_str())))
    }

    /// Copies `from` to `to` inside the bucket, replacing any object at `to`.
    pub async fn copy(&self, from: &str, to: &str) -> Result<()> {
        self.writable()?;
        self.copy_key(&ObjectKey::parse(from, "from")?, &ObjectKey::parse(to, "to")?)
            .await
    }

    pub(crate) async fn copy_key(&self, from: &ObjectKey, to: &ObjectKey) -> Result<()> {
        self.store.check_entry(from)?;
        self.store.check_entry(to)?;
        self.store
            .objects
            .copy(from.path(), to.path())
            .await
            .map_err(|error| self.fail(error, Some(from.as_str())))
    }

    /// A URL that uploads one object to `key` without credentials until it expires.
    pub async fn presign_put(&self, key: &str, expires_in: Duration) -> Result<PresignedUrl> {
        self.writable()?;
        let expires_in = presign_validity(Some(expires_in.as_secs()), self.max_presign())?;
        self.presign(Method::PUT, &ObjectKey::parse(key, "key")?, expires_in)
            .await
    }

    /// Refuses writes on a read-only connector.
    pub(crate) fn writable(&self) -> Result<()> {
        if self.config.read_only {
            return Err(Error::permission_denied(format!(
                "this connector to bucket `{}` is read-only",
                self.bucket
            ))
            .with_hint("an administrator can turn off read_only in the connector's settings"));
        }
        Ok(())
    }
}
