//! A string that must never be shown: passwords, tokens, keys.
//!
//! [`Secret`] prints as `[REDACTED]` through `Debug` and `Display`, zeroes its memory on drop, and has no
//! `Serialize` implementation, so a secret cannot reach a log line, an API response or an audit record by
//! accident. Code that really needs the value (to authenticate, or to encrypt it for storage) calls
//! [`Secret::expose`], which makes every such place easy to find.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// What a secret prints as.
pub const REDACTED: &str = "[REDACTED]";

/// A secret string, redacted when printed and zeroed when dropped.
///
/// ```
/// use tributary_core::Secret;
/// let password = Secret::new("hunter2");
/// assert_eq!(format!("{password:?} {password}"), "[REDACTED] [REDACTED]");
/// assert_eq!(password.expose(), "hunter2");
/// ```
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value; the original `String` is moved, not copied.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The plaintext. Call it only where the value is needed to authenticate or to encrypt.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether the secret is the empty string (an unset password, for instance).
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

impl schemars::JsonSchema for Secret {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "writeOnly": true, "x-secret": true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let secret = Secret::new("correct horse");
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(format!("{secret:?}"), REDACTED);
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Config {
            password: Secret,
        }
        let shown = format!(
            "{:?}",
            Config {
                password: secret.clone()
            }
        );
        assert!(!shown.contains("correct horse"), "{shown}");
        assert_eq!(secret.expose(), "correct horse");
    }

    #[test]
    fn deserializes_from_a_string() {
        let secret: Secret = serde_json::from_str("\"tok\"").unwrap();
        assert_eq!(secret.expose(), "tok");
        assert!(!secret.is_empty());
        assert!(Secret::new("").is_empty());
        assert!(serde_json::from_str::<Secret>("42").is_err());
    }
}
