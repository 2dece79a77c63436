//! `list`, `head`, `get` and `presign_get`: the typed API, which the `Connector` implementation also runs.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use http::Method;
use object_store::list::PaginatedListOptions;
use object_store::{Attribute, GetOptions, GetRange, GetResult, ObjectMeta};
use tributary_core::{Error, Result};

use crate::connector::ObjectStoreConnector;
use crate::key::{KeyPrefix, ObjectKey};
use crate::operations::{DEFAULT_PRESIGN, ListParams};
use crate::types::{ByteRange, Listing, ObjectContent, ObjectMetadata, PresignedUrl};

/// The most keys a local folder listing sorts in memory; a larger folder tree needs a narrower prefix.
const MAX_LOCAL_SCAN: usize = 100_000;

/// A normalized `list` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// Keys that start with this.
    pub prefix: KeyPrefix,
    /// Group keys below the next `/`.
    pub delimited: bool,
    /// Entries per page.
    pub page_size: usize,
    /// Where the previous page ended.
    pub continuation_token: Option<String>,
}

impl ListRequest {
    /// The first page of `prefix`, grouped by `/`, with the default page size.
    pub fn new(prefix: &str, page_size: usize) -> Result<ListRequest> {
        ListRequest::from_params(
            ListParams {
                prefix: Some(prefix.to_owned()),
                page_size: u32::try_from(page_size).ok(),
                ..ListParams::default()
            },
            100,
        )
    }

    pub(crate) fn from_params(params: ListParams, default_page_size: u64) -> Result<ListRequest> {
        let delimited = match params.delimiter.as_deref() {
            None | Some("/") => true,
            Some("") => false,
            Some(other) => {
                return Err(Error::invalid_input(format!(
                    "delimiter `{other}` is not supported; use `/` (folders) or `\"\"` (every key)"
                )));
            }
        };
        let page_size = params.page_size.map_or(default_page_size, u64::from);
        if !(1..=1000).contains(&page_size) {
            return Err(Error::invalid_input(format!(
                "page_size must be 1 to 1000, not {page_size}"
            )));
        }
        Ok(ListRequest {
            prefix: KeyPrefix::parse(params.prefix.as_deref().unwrap_or(""))?,
            delimited,
            page_size: usize::try_from(page_size).unwrap_or(1000),
            continuation_token: params.continuation_token.filter(|token| !token.is_empty()),
        })
    }
}

/// The validity of a presigned URL: the caller's, bounded by the connector's limit.
pub(crate) fn presign_validity(seconds: Option<u64>, max: Duration) -> Result<Duration> {
    let wanted = seconds.map_or(DEFAULT_PRESIGN.min(max), Duration::from_secs);
    if wanted.is_zero() || wanted > max {
        return Err(
            Error::invalid_input(format!("expires_in_seconds must be 1 to {}", max.as_secs()))
                .with_hint("an administrator sets the longest validity in max_presign_seconds"),
        );
    }
    Ok(wanted)
}

impl ObjectStoreConnector {
    /// Lists one page of keys.
    pub async fn list(&self, request: &ListRequest) -> Result<Listing> {
        let prefix = request.prefix.as_str();
        let page = match &self.store.pages {
            Some(pages) => {
                let options = PaginatedListOptions {
                    delimiter: request.delimited.then_some("/".into()),
                    max_keys: Some(request.page_size),
                    page_token: request.continuation_token.clone(),
                    ..PaginatedListOptions::default()
                };
                let page = pages
                    .list_paginated((!prefix.is_empty()).then_some(prefix), options)
                    .await
                    .map_err(|error| self.fail(error, Some(prefix)))?;
                let mut objects: Vec<ObjectMetadata> = page
                    .result
                    .objects
                    .iter()
                    .map(|meta| ObjectMetadata::from_meta(meta, None))
                    .collect();
                objects.sort_by(|a, b| a.key.cmp(&b.key));
                let mut common_prefixes: Vec<String> = page
                    .result
                    .common_prefixes
                    .iter()
                    .map(|path| format!("{path}/"))
                    .collect();
                common_prefixes.sort();
                (objects, common_prefixes, page.page_token)
            }
            None => self.list_local(request).await?,
        };
        let (objects, common_prefixes, next_continuation_token) = page;
        Ok(Listing {
            bucket: self.bucket.clone(),
            prefix: prefix.to_owned(),
            objects,
            common_prefixes,
            next_continuation_token,
        })
    }

    /// Local folders have no server-side paging: the entries under the prefix's folder are sorted here and
    /// the token is the last entry returned.
    async fn list_local(
        &self,
        request: &ListRequest,
    ) -> Result<(Vec<ObjectMetadata>, Vec<String>, Option<String>)> {
        let prefix = request.prefix.as_str();
        let folder = request.prefix.folder();
        let folder = (!folder.as_ref().is_empty()).then_some(folder);
        let mut entries: Vec<(String, Option<ObjectMeta>)> = Vec::new();
        if request.delimited {
            let listing = self
                .store
                .objects
                .list_with_delimiter(folder.as_ref())
                .await
                .map_err(|error| self.fail(error, Some(prefix)))?;
            entries.extend(
                listing
                    .common_prefixes
                    .into_iter()
                    .map(|path| (format!("{path}/"), None)),
            );
            entries.extend(
                listing
                    .objects
                    .into_iter()
                    .map(|meta| (meta.location.to_string(), Some(meta))),
            );
        } else {
            let mut stream = self.store.objects.list(folder.as_ref());
            while let Some(meta) = stream
                .try_next()
                .await
                .map_err(|error| self.fail(error, Some(prefix)))?
            {
                if entries.len() >= MAX_LOCAL_SCAN {
                    return Err(Error::invalid_input(format!(
                        "more than {MAX_LOCAL_SCAN} keys under `{prefix}`; list a narrower prefix or use delimiter `/`"
                    )));
                }
                entries.push((meta.location.to_string(), Some(meta)));
            }
        }
        entries.retain(|(name, _)| name.starts_with(prefix) && !self.passes_link(name));
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let start = match &request.continuation_token {
            Some(token) => entries.partition_point(|(name, _)| name.as_str() <= token.as_str()),
            None => 0,
        };
        let remaining = entries.len().saturating_sub(start);
        let page: Vec<_> = entries.into_iter().skip(start).take(request.page_size).collect();
        let next = (remaining > request.page_size)
            .then(|| page.last().map(|(name, _)| name.clone()))
            .flatten();
        let mut objects = Vec::new();
        let mut common_prefixes = Vec::new();
        for (name, meta) in page {
            match meta {
                Some(meta) => objects.push(ObjectMetadata::from_meta(&meta, None)),
                None => common_prefixes.push(name),
            }
        }
        Ok((objects, common_prefixes, next))
    }

    fn passes_link(&self, name: &str) -> bool {
        ObjectKey::parse(name.trim_end_matches('/'), "key")
            .is_ok_and(|key| self.store.check_entry(&key).is_err())
    }

    /// An object's metadata, with its content type where the store keeps one.
    pub async fn head(&self, key: &str) -> Result<ObjectMetadata> {
        self.head_key(&ObjectKey::parse(key, "key")?).await
    }

    pub(crate) async fn head_key(&self, key: &ObjectKey) -> Result<ObjectMetadata> {
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let result = self.fetch(key, options).await?;
        Ok(ObjectMetadata::from_meta(
            &result.meta,
            content_type(&result.attributes),
        ))
    }

    /// One GET (or HEAD) of a key that passed the local-folder link check.
    async fn fetch(&self, key: &ObjectKey, options: GetOptions) -> Result<GetResult> {
        self.store.check_entry(key)?;
        self.store
            .objects
            .get_opts(key.path(), options)
            .await
            .map_err(|error| self.fail(error, Some(key.as_str())))
    }

    /// Reads an object, whole or a range, returning at most `max_read_bytes`; [`ObjectContent::omitted`]
    /// says how much of the range the cap left out.
    pub async fn get(&self, key: &str, range: ByteRange) -> Result<ObjectContent> {
        self.get_key(&ObjectKey::parse(key, "key")?, range, self.config.max_read_bytes)
            .await
    }

    /// Reads at most `cap` bytes of an object (the host's budget may ask for less than `max_read_bytes`).
    pub(crate) async fn get_key(&self, key: &ObjectKey, range: ByteRange, cap: u64) -> Result<ObjectContent> {
        let cap = cap.min(self.config.max_read_bytes).max(1);
        // A whole-object read asks for no range at all: a range on an empty object is an error on S3.
        let options = GetOptions {
            range: match range.length {
                _ if range.is_whole() => None,
                Some(length) => Some(GetRange::Bounded(range.offset..range.offset + length.min(cap))),
                None => Some(GetRange::Offset(range.offset)),
            },
            ..GetOptions::default()
        };
        let result = self.fetch(key, options).await?;
        let metadata = ObjectMetadata::from_meta(&result.meta, content_type(&result.attributes));
        let served = result.range.clone();
        let wanted_end = range
            .length
            .map_or(metadata.size, |length| range.offset + length)
            .min(metadata.size);
        let bytes = if served.end - served.start <= cap {
            result
                .bytes()
                .await
                .map_err(|error| self.fail(error, Some(key.as_str())))?
        } else {
            self.read_at_most(result.into_stream(), cap, key).await?
        };
        let returned_end = served.start + bytes.len() as u64;
        Ok(ObjectContent {
            metadata,
            offset: served.start,
            bytes,
            omitted: wanted_end.saturating_sub(returned_end),
        })
    }

    /// Reads the first `cap` bytes of a body and drops the rest of the stream, which closes the transfer.
    async fn read_at_most(
        &self,
        mut stream: futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
        cap: u64,
        key: &ObjectKey,
    ) -> Result<Bytes> {
        let cap = usize::try_from(cap).unwrap_or(usize::MAX);
        let mut buffer = BytesMut::with_capacity(cap);
        while buffer.len() < cap {
            let Some(chunk) = stream.next().await else { break };
            let chunk = chunk.map_err(|error| self.fail(error, Some(key.as_str())))?;
            let room = cap - buffer.len();
            buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        Ok(buffer.freeze())
    }

    /// A URL that downloads `key` without credentials until it expires.
    pub async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<PresignedUrl> {
        let expires_in = presign_validity(Some(expires_in.as_secs()), self.max_presign())?;
        self.presign(Method::GET, &ObjectKey::parse(key, "key")?, expires_in)
            .await
    }

    pub(crate) async fn presign(
        &self,
        method: Method,
        key: &ObjectKey,
        expires_in: Duration,
    ) -> Result<PresignedUrl> {
        let signer = self.store.signer.as_ref().ok_or_else(|| {
            Error::unsupported(format!(
                "{} stores configured this way cannot make presigned URLs",
                self.config.provider.as_str()
            ))
            .with_hint("presigned URLs need a cloud provider with credentials that can sign (not anonymous, not a local folder)")
        })?;
        let url = signer
            .signed_url(method.clone(), key.path(), expires_in)
            .await
            .map_err(|error| self.fail(error, Some(key.as_str())))?;
        let expires_at = chrono::Utc::now() + chrono::Duration::from_std(expires_in).unwrap_or_default();
        Ok(PresignedUrl {
            key: key.to_string(),
            method: method.to_string(),
            url: url.to_string(),
            expires_at,
        })
    }

    /// The top-level entries of the bucket, for discovery: at most `limit`, and whether there were more.
    pub(crate) async fn top_level(&self, limit: usize) -> Result<(Vec<String>, bool)> {
        let mut prefixes = Vec::new();
        let mut request = ListRequest::new("", 1000.min(limit.max(1)))?;
        loop {
            let page = self.list(&request).await?;
            prefixes.extend(page.common_prefixes);
            if prefixes.len() > limit {
                prefixes.truncate(limit);
                return Ok((prefixes, true));
            }
            match page.next_continuation_token {
                Some(token) => request.continuation_token = Some(token),
                None => return Ok((prefixes, false)),
            }
        }
    }
}

fn content_type(attributes: &object_store::Attributes) -> Option<String> {
    attributes
        .get(&Attribute::ContentType)
        .map(|value| value.to_string())
}
