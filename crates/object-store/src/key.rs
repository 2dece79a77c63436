//! Object keys and prefixes, normalized once from untrusted input and trusted after.
//!
//! Policies allow keys by prefix (`bucket/reports/2026/*`), so a key must mean exactly one place before it
//! is checked. [`ObjectKey::parse`] and [`KeyPrefix::parse`] resolve what a path would resolve and refuse
//! what could be read two ways:
//!
//! - empty and `.` segments are dropped (`a//b/./c` is `a/b/c`), and a leading `/` is ignored;
//! - `..` removes the segment before it (`reports/2026/../2025/x` is `reports/2025/x`, which the policy then
//!   judges), and a `..` that would climb above the bucket is refused;
//! - percent-escapes (`%2e%2e`, `%2f`, `%25`, any `%XX`) are refused: object_store's local folders decode
//!   them into file names, and some S3-compatible servers decode them twice, so `%2e%2e` could become `..`
//!   after the check;
//! - backslashes, control characters and Unicode look-alikes of `.` and `/` (fullwidth, one-dot leader,
//!   division slash...) are refused: servers and file systems that normalize Unicode would turn them into
//!   the real thing;
//! - keys longer than 1024 bytes are refused, as S3 does.
//!
//! What runs is the normalized key, never the raw input, so the check and the access cannot disagree.

use std::fmt;

use object_store::path::Path;
use tributary_core::{Error, Result};

/// The longest key S3 accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Characters that some layer between here and the bytes on disk could read as `.`, `/` or `\`.
const LOOKALIKES: &[char] = &[
    '\u{2024}', // one dot leader
    '\u{2025}', // two dot leader
    '\u{2026}', // horizontal ellipsis
    '\u{FE52}', // small full stop
    '\u{FF0E}', // fullwidth full stop
    '\u{3002}', // ideographic full stop
    '\u{2044}', // fraction slash
    '\u{2215}', // division slash
    '\u{29F8}', // big solidus
    '\u{FF0F}', // fullwidth solidus
    '\u{2216}', // set minus
    '\u{29F5}', // reverse solidus operator
    '\u{FE68}', // small reverse solidus
    '\u{FF3C}', // fullwidth reverse solidus
];

/// A normalized, non-empty key naming one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    path: Path,
}

impl ObjectKey {
    /// Normalizes `raw` as the module docs say; `what` names the parameter in errors (`key`, `from`).
    pub fn parse(raw: &str, what: &str) -> Result<ObjectKey> {
        let normalized = normalize(raw, what)?;
        if normalized.is_empty() {
            return Err(Error::invalid_input(format!(
                "{what} `{raw}` names no object (it is empty after normalization)"
            ))
            .with_hint("give the object's key, such as reports/2026/q1.csv"));
        }
        if raw.ends_with('/') {
            return Err(Error::invalid_input(format!(
                "{what} `{raw}` ends with `/`, which names a folder-like prefix, not an object"
            ))
            .with_hint("remove the trailing `/`, or call list with this prefix to see what it holds"));
        }
        Ok(ObjectKey {
            path: to_path(&normalized, what)?,
        })
    }

    /// The key as the store sees it.
    pub fn as_str(&self) -> &str {
        self.path.as_ref()
    }

    /// The object_store path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key's segments, for walking a local folder.
    pub(crate) fn segments(&self) -> impl Iterator<Item = &str> {
        self.as_str().split('/')
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A normalized key prefix for listing. Empty means the whole bucket; a trailing `/` is kept, because
/// `reports/` and `reports` select different keys (`reports-old.csv` matches only the second).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct KeyPrefix {
    text: String,
}

impl KeyPrefix {
    /// Normalizes `raw` as the module docs say.
    pub fn parse(raw: &str) -> Result<KeyPrefix> {
        let mut text = normalize(raw, "prefix")?;
        if !text.is_empty() {
            to_path(&text, "prefix")?;
            if raw.ends_with('/') || raw.ends_with("/.") || raw.ends_with("/..") {
                text.push('/');
            }
        }
        Ok(KeyPrefix { text })
    }

    /// The whole bucket.
    pub fn root() -> KeyPrefix {
        KeyPrefix::default()
    }

    /// The prefix as text (`""`, `reports/`, `reports/q`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the whole bucket.
    pub fn is_root(&self) -> bool {
        self.text.is_empty()
    }

    /// The folder part: everything up to the last `/` (`reports/q` → `reports`), as a path.
    pub(crate) fn folder(&self) -> Path {
        let folder = self.text.rsplit_once('/').map_or("", |(folder, _)| folder);
        Path::parse(folder).unwrap_or_default()
    }
}

fn normalize(raw: &str, what: &str) -> Result<String> {
    if raw.len() > MAX_KEY_BYTES {
        return Err(Error::invalid_input(format!(
            "{what} is {} bytes long; keys may be at most {MAX_KEY_BYTES} bytes",
            raw.len()
        )));
    }
    if let Some(bad) = raw
        .chars()
        .find(|c| c.is_control() || *c == '\\' || LOOKALIKES.contains(c))
    {
        return Err(Error::invalid_input(format!(
            "{what} `{}` contains {}, which keys may not hold",
            raw.escape_debug(),
            describe(bad)
        ))
        .with_hint("use plain `/` between folder names and no control characters"));
    }
    if has_percent_escape(raw) {
        return Err(Error::invalid_input(format!(
            "{what} `{raw}` contains a percent-escape (%XX); keys are given as they are, not URL-encoded"
        ))
        .with_hint("pass the key unencoded: `a b.txt`, not `a%20b.txt`"));
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(Error::permission_denied(format!(
                        "{what} `{raw}` climbs above the bucket with `..`"
                    ))
                    .with_hint("give a key inside the bucket, without `..`"));
                }
            }
            segment => segments.push(segment),
        }
    }
    Ok(segments.join("/"))
}

fn to_path(normalized: &str, what: &str) -> Result<Path> {
    Path::parse(normalized)
        .map_err(|error| Error::invalid_input(format!("{what} is not a valid key: {error}")))
}

fn has_percent_escape(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

fn describe(c: char) -> String {
    match c {
        '\\' => "a backslash".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("`{c}` (U+{:04X}), a look-alike of `.` or `/`", c as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::ErrorKind;

    fn key(raw: &str) -> String {
        ObjectKey::parse(raw, "key").unwrap().as_str().to_owned()
    }

    fn refused(raw: &str) -> ErrorKind {
        ObjectKey::parse(raw, "key").unwrap_err().kind()
    }

    #[test]
    fn keys_are_normalized() {
        assert_eq!(key("reports/2026/q1.csv"), "reports/2026/q1.csv");
        assert_eq!(key("/reports//2026/./q1.csv"), "reports/2026/q1.csv");
        assert_eq!(key("reports/2026/../2025/q1.csv"), "reports/2025/q1.csv");
        assert_eq!(key("a b/ünïcode €.txt"), "a b/ünïcode €.txt");
    }

    #[test]
    fn escapes_are_refused() {
        assert_eq!(refused("../secret"), ErrorKind::PermissionDenied);
        assert_eq!(refused("reports/../../secret"), ErrorKind::PermissionDenied);
        for raw in [
            "reports/%2e%2e/secret",
            "reports/%2E%2E/secret",
            "reports%2f..%2fsecret",
            "reports/%252e%252e/secret",
            "reports/..\\secret",
            "reports/\u{FF0E}\u{FF0E}/secret",
            "reports\u{2215}secret",
            "reports/\0secret",
            "reports/a\nb",
        ] {
            assert_eq!(refused(raw), ErrorKind::InvalidInput, "{raw:?}");
        }
        assert_eq!(refused(""), ErrorKind::InvalidInput);
        assert_eq!(refused("reports/"), ErrorKind::InvalidInput);
        assert_eq!(refused(&"k".repeat(MAX_KEY_BYTES + 1)), ErrorKind::InvalidInput);
    }

    #[test]
    fn prefixes_keep_their_trailing_slash() {
        assert_eq!(KeyPrefix::parse("").unwrap().as_str(), "");
        assert_eq!(KeyPrefix::parse("/").unwrap().as_str(), "");
        assert_eq!(KeyPrefix::parse("reports/").unwrap().as_str(), "reports/");
        assert_eq!(
            KeyPrefix::parse("reports//2026/").unwrap().as_str(),
            "reports/2026/"
        );
        assert_eq!(KeyPrefix::parse("reports/q").unwrap().as_str(), "reports/q");
        assert_eq!(KeyPrefix::parse("reports/2026/..").unwrap().as_str(), "reports/");
        assert_eq!(
            KeyPrefix::parse("reports/q").unwrap().folder().as_ref(),
            "reports"
        );
        assert!(KeyPrefix::parse("..").is_err());
        assert!(KeyPrefix::parse("a/%2e%2e/").is_err());
    }
}
