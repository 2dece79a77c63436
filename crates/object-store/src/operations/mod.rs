//! The operations: their parameters (from which the agent-facing schemas are generated), their specs, and
//! the plan each request resolves to.
//!
//! - `read`: `list`, `head`, `get`, `presign_get`;
//! - `write`: `put`, `delete`, `copy`, `presign_put`.
//!
//! Every key and prefix is normalized by [`crate::key`] while planning, and the plan carries the normalized
//! form, so the objects a policy checks are exactly the objects that execution touches.

pub(crate) mod read;
pub(crate) mod write;

use std::time::Duration;

use bytes::Bytes;
use schemars::JsonSchema;
use serde::Deserialize;
use tributary_core::{Access, AccessClass, OperationRequest, OperationSpec, Result, parse_params};

use crate::key::ObjectKey;
use crate::types::{ByteRange, Encoding};

/// Parameters of `list`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only keys that start with this text (`reports/2026/`). Omit for the whole bucket.
    #[serde(default)]
    pub prefix: Option<String>,
    /// `/` (the default) groups keys below the next `/` into `common_prefixes`, like folders; `""` lists
    /// every key under the prefix.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Keys per page (1 to 1000); the connector's default page size when omitted.
    #[serde(default)]
    pub page_size: Option<u32>,
    /// The `next_continuation_token` of the previous page, to get the next one.
    #[serde(default)]
    pub continuation_token: Option<String>,
}

/// Parameters of `head`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyParams {
    /// The object's key (`reports/2026/q1.csv`).
    pub key: String,
}

/// Parameters of `get`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetParams {
    /// The object's key.
    pub key: String,
    /// The first byte to return (0 when omitted).
    #[serde(default)]
    pub offset: Option<u64>,
    /// How many bytes to return from `offset` (to the end when omitted). The connector's byte cap applies
    /// either way, and the result says when it cut.
    #[serde(default)]
    pub length: Option<u64>,
    /// `text` (the default) returns the content as text when it is valid UTF-8, else as base64;
    /// `base64` always returns base64.
    #[serde(default)]
    pub encoding: Encoding,
}

/// Parameters of `presign_get` and `presign_put`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PresignParams {
    /// The object's key.
    pub key: String,
    /// How long the URL stays valid, in seconds (default 900, at most the connector's limit).
    #[serde(default)]
    pub expires_in_seconds: Option<u64>,
}

/// Parameters of `put`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PutParams {
    /// The key to write; an existing object is replaced.
    pub key: String,
    /// The body: text, or base64 when `encoding` is `base64`.
    pub content: String,
    /// How `content` is encoded: `text` (the default) or `base64`.
    #[serde(default)]
    pub encoding: Encoding,
    /// The MIME type to store with the object (`text/csv`). Local folders keep none.
    #[serde(default)]
    pub content_type: Option<String>,
}

/// Parameters of `copy`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyParams {
    /// The key to copy.
    pub from: String,
    /// The key to write; an existing object is replaced.
    pub to: String,
}

/// The default validity of a presigned URL.
pub const DEFAULT_PRESIGN: Duration = Duration::from_secs(900);

/// The operations, described for agents; `bucket` names the store in descriptions.
pub(crate) fn specs(bucket: &str) -> Vec<OperationSpec> {
    vec![
        OperationSpec::read::<ListParams>(
            "list",
            format!("List keys in bucket `{bucket}` one page at a time: objects with size and modification time, and folder-like common prefixes. Pass next_continuation_token back to get the next page."),
        ),
        OperationSpec::read::<KeyParams>(
            "head",
            format!("Get an object's metadata in bucket `{bucket}` (size, modification time, ETag, content type) without its content."),
        ),
        OperationSpec::read::<GetParams>(
            "get",
            format!("Read an object in bucket `{bucket}`, whole or a byte range, as text (when UTF-8) or base64. Large objects are cut at the connector's byte cap and the result says so; use offset and length to read the rest."),
        ),
        OperationSpec::read::<PresignParams>(
            "presign_get",
            format!("Make a time-limited URL that downloads an object from bucket `{bucket}` without credentials, for a client that fetches it itself."),
        ),
        OperationSpec::write::<PutParams>(
            "put",
            format!("Write an object to bucket `{bucket}`, replacing any object with that key. Large bodies go up as a multipart upload."),
        )
        .destructive()
        .idempotent(),
        OperationSpec::write::<KeyParams>("delete", format!("Delete an object from bucket `{bucket}`."))
            .destructive()
            .idempotent(),
        OperationSpec::write::<CopyParams>(
            "copy",
            format!("Copy an object to another key in bucket `{bucket}`, replacing any object there."),
        )
        .destructive()
        .idempotent(),
        OperationSpec::write::<PresignParams>(
            "presign_put",
            format!("Make a time-limited URL that uploads one object to bucket `{bucket}` without credentials, for a client that sends the bytes itself."),
        )
        .destructive(),
    ]
}

/// A request resolved: normalized keys, decoded body, bounded sizes.
#[derive(Debug)]
pub(crate) enum Prepared {
    List(read::ListRequest),
    Head(ObjectKey),
    Get {
        key: ObjectKey,
        range: ByteRange,
        encoding: Encoding,
    },
    PresignGet {
        key: ObjectKey,
        expires_in: Duration,
    },
    Put {
        key: ObjectKey,
        body: Bytes,
        content_type: Option<String>,
    },
    Delete(ObjectKey),
    Copy {
        from: ObjectKey,
        to: ObjectKey,
    },
    PresignPut {
        key: ObjectKey,
        expires_in: Duration,
    },
}

/// What a plan touches, named as policies name objects: `bucket` for the whole bucket, `bucket/prefix`
/// for a listing, `bucket/key` for an object.
pub(crate) fn access(bucket: &str, prepared: &Prepared) -> Access {
    let object = |key: &ObjectKey| format!("{bucket}/{key}");
    let (class, objects) = match prepared {
        Prepared::List(request) if request.prefix.is_root() => (AccessClass::Read, vec![bucket.to_owned()]),
        Prepared::List(request) => (
            AccessClass::Read,
            vec![format!("{bucket}/{}", request.prefix.as_str())],
        ),
        Prepared::Head(key) | Prepared::Get { key, .. } | Prepared::PresignGet { key, .. } => {
            (AccessClass::Read, vec![object(key)])
        }
        Prepared::Put { key, .. } | Prepared::Delete(key) | Prepared::PresignPut { key, .. } => {
            (AccessClass::Write, vec![object(key)])
        }
        Prepared::Copy { from, to } => (AccessClass::Write, vec![object(from), object(to)]),
    };
    Access::new(class, objects)
}

/// The limits planning applies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) default_page_size: u64,
    pub(crate) max_write_bytes: u64,
    pub(crate) max_presign: Duration,
}

/// Parses and normalizes a request into its prepared form.
pub(crate) fn prepare(request: &OperationRequest, limits: Limits) -> Result<Prepared> {
    let params = &request.params;
    Ok(match request.operation.as_str() {
        "list" => Prepared::List(read::ListRequest::from_params(
            parse_params(params)?,
            limits.default_page_size,
        )?),
        "head" => Prepared::Head(ObjectKey::parse(&parse_params::<KeyParams>(params)?.key, "key")?),
        "get" => {
            let params: GetParams = parse_params(params)?;
            Prepared::Get {
                key: ObjectKey::parse(&params.key, "key")?,
                range: ByteRange::new(params.offset, params.length)?,
                encoding: params.encoding,
            }
        }
        "presign_get" | "presign_put" => {
            let params: PresignParams = parse_params(params)?;
            let key = ObjectKey::parse(&params.key, "key")?;
            let expires_in = read::presign_validity(params.expires_in_seconds, limits.max_presign)?;
            if request.operation == "presign_get" {
                Prepared::PresignGet { key, expires_in }
            } else {
                Prepared::PresignPut { key, expires_in }
            }
        }
        "put" => {
            let params: PutParams = parse_params(params)?;
            let key = ObjectKey::parse(&params.key, "key")?;
            let body = params.encoding.decode(params.content)?;
            write::check_size(body.len(), limits.max_write_bytes)?;
            Prepared::Put {
                key,
                body,
                content_type: params.content_type,
            }
        }
        "delete" => Prepared::Delete(ObjectKey::parse(&parse_params::<KeyParams>(params)?.key, "key")?),
        "copy" => {
            let params: CopyParams = parse_params(params)?;
            Prepared::Copy {
                from: ObjectKey::parse(&params.from, "from")?,
                to: ObjectKey::parse(&params.to, "to")?,
            }
        }
        other => {
            return Err(tributary_core::Error::unsupported(format!(
                "no operation `{other}`"
            )));
        }
    })
}
