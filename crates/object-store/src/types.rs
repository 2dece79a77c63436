//! What the operations return, and how object bytes become JSON.
//!
//! Content is text only when the caller asked for text *and* the bytes are valid UTF-8; otherwise it is
//! standard base64 (the core type mapping for `bytes`), and `encoding` says which. A body cut at the byte
//! cap in the middle of a UTF-8 character stays text: the incomplete character is left out and
//! `returned_bytes` counts what was returned.

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tributary_core::{Error, Result};

/// How content travels in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// UTF-8 text.
    #[default]
    Text,
    /// Standard base64 with padding.
    Base64,
}

impl Encoding {
    /// Decodes a request body.
    pub fn decode(self, content: String) -> Result<Bytes> {
        match self {
            Encoding::Text => Ok(Bytes::from(content)),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(content.as_bytes())
                .map(Bytes::from)
                .map_err(|error| {
                    Error::invalid_input(format!("content is not valid base64: {error}"))
                        .with_hint("send standard base64 with padding, or set encoding to text")
                }),
        }
    }
}

/// A byte range to read: from `offset`, `length` bytes or to the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte.
    pub offset: u64,
    /// How many bytes; `None` to the end.
    pub length: Option<u64>,
}

impl ByteRange {
    /// A range from the request's parameters.
    pub fn new(offset: Option<u64>, length: Option<u64>) -> Result<ByteRange> {
        let range = ByteRange {
            offset: offset.unwrap_or(0),
            length,
        };
        if range.length == Some(0) {
            return Err(Error::invalid_input(
                "length must be at least 1; omit it to read to the end",
            ));
        }
        if range
            .length
            .is_some_and(|length| range.offset.checked_add(length).is_none())
        {
            return Err(Error::invalid_input(
                "offset + length is beyond any object's size",
            ));
        }
        Ok(range)
    }

    /// The whole object.
    pub fn whole() -> ByteRange {
        ByteRange::default()
    }

    /// Whether this is the whole object.
    pub fn is_whole(&self) -> bool {
        self.offset == 0 && self.length.is_none()
    }
}

/// An object's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMetadata {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was last written.
    pub last_modified: DateTime<Utc>,
    /// The store's entity tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    /// The version, on versioned buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The stored MIME type, when the store keeps one and it was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl ObjectMetadata {
    pub(crate) fn from_meta(meta: &object_store::ObjectMeta, content_type: Option<String>) -> ObjectMetadata {
        ObjectMetadata {
            key: meta.location.to_string(),
            size: meta.size,
            last_modified: meta.last_modified,
            e_tag: meta.e_tag.clone(),
            version: meta.version.clone(),
            content_type,
        }
    }
}

/// Bytes read from an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectContent {
    /// The object's metadata (its full size, not the range's).
    pub metadata: ObjectMetadata,
    /// Where the returned bytes start in the object.
    pub offset: u64,
    /// The bytes.
    pub bytes: Bytes,
    /// Bytes of the requested range left out by the byte cap; 0 when nothing was cut.
    pub omitted: u64,
}

impl ObjectContent {
    /// The JSON document agents get: metadata, range, and the content as text or base64.
    pub fn to_json(&self, wanted: Encoding) -> Value {
        let (encoding, content, returned) = encode(&self.bytes, wanted, self.omitted > 0);
        json!({
            "key": self.metadata.key,
            "size": self.metadata.size,
            "last_modified": self.metadata.last_modified,
            "e_tag": self.metadata.e_tag,
            "content_type": self.metadata.content_type,
            "offset": self.offset,
            "returned_bytes": returned,
            "omitted_bytes": self.omitted + (self.bytes.len() - returned) as u64,
            "encoding": encoding,
            "content": content,
        })
    }
}

fn encode(bytes: &[u8], wanted: Encoding, cut: bool) -> (Encoding, String, usize) {
    if wanted == Encoding::Text {
        match std::str::from_utf8(bytes) {
            Ok(text) => return (Encoding::Text, text.to_owned(), bytes.len()),
            // Cut inside a character by the byte cap: the text before it is still text.
            Err(error) if cut && error.error_len().is_none() && error.valid_up_to() > 0 => {
                let valid = &bytes[..error.valid_up_to()];
                return (
                    Encoding::Text,
                    String::from_utf8_lossy(valid).into_owned(),
                    valid.len(),
                );
            }
            Err(_) => {}
        }
    }
    (
        Encoding::Base64,
        base64::engine::general_purpose::STANDARD.encode(bytes),
        bytes.len(),
    )
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The bucket.
    pub bucket: String,
    /// The normalized prefix listed.
    pub prefix: String,
    /// The objects on this page.
    pub objects: Vec<ObjectMetadata>,
    /// Folder-like prefixes on this page, each ending with `/` (with the `/` delimiter).
    pub common_prefixes: Vec<String>,
    /// Pass this back as `continuation_token` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_continuation_token: Option<String>,
}

impl Listing {
    /// Entries on this page.
    pub fn len(&self) -> usize {
        self.objects.len() + self.common_prefixes.len()
    }

    /// Whether the page is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A presigned URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignedUrl {
    /// The key it grants access to.
    pub key: String,
    /// `GET` or `PUT`.
    pub method: String,
    /// The URL. Anyone holding it has this access until it expires: hand it only to the intended client.
    pub url: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What a `put` stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutOutcome {
    /// The key written.
    pub key: String,
    /// Bytes written.
    pub size: u64,
    /// The new object's entity tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    /// Parts uploaded: 1 for a single request, more for a multipart upload.
    pub parts: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_text_and_binary_becomes_base64() {
        assert_eq!(
            encode(b"h\xc3\xa9llo", Encoding::Text, false),
            (Encoding::Text, "héllo".into(), 6)
        );
        assert_eq!(
            encode(b"\xff\x00", Encoding::Text, false),
            (Encoding::Base64, "/wA=".into(), 2)
        );
        assert_eq!(
            encode(b"abc", Encoding::Base64, false),
            (Encoding::Base64, "YWJj".into(), 3)
        );
        // Cut inside `é` by the byte cap: the whole characters before it stay text.
        assert_eq!(
            encode(b"ab\xc3", Encoding::Text, true),
            (Encoding::Text, "ab".into(), 2)
        );
        // The same bytes uncut are not UTF-8.
        assert_eq!(encode(b"ab\xc3", Encoding::Text, false).0, Encoding::Base64);
    }

    #[test]
    fn bodies_decode_or_say_why_not() {
        assert_eq!(
            Encoding::Base64.decode("YWJj".into()).unwrap(),
            Bytes::from_static(b"abc")
        );
        assert!(Encoding::Base64.decode("not base64!".into()).is_err());
        assert!(ByteRange::new(Some(5), Some(0)).is_err());
        assert!(ByteRange::new(Some(u64::MAX), Some(2)).is_err());
        assert!(ByteRange::new(None, None).unwrap().is_whole());
    }
}
