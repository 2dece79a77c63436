//! A connector's configuration after validation: the values a [`ConnectorSpec`](crate::ConnectorSpec)
//! accepted, with defaults filled in.
//!
//! Configurations arrive as JSON (from a file, an API call or a console form) and hold secrets in plain text
//! until a connector turns them into typed fields with [`Secret`](crate::Secret). [`ConfigValues`] keeps that
//! window safe: its `Debug` shows field names only, and its strings are zeroed when it is dropped.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::error::{Error, FieldError, Result};

/// Validated configuration values, keyed by field name.
#[derive(Clone, Default, PartialEq)]
pub struct ConfigValues(Map<String, Value>);

impl ConfigValues {
    /// Wraps values that a spec has validated. Use [`ConnectorSpec::validate`](crate::ConnectorSpec::validate)
    /// rather than calling this on untrusted input.
    pub fn from_validated(values: Map<String, Value>) -> Self {
        ConfigValues(values)
    }

    /// The value of one field, if set.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    /// The string value of one field, if set and a string.
    pub fn get_str(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(Value::as_str)
    }

    /// The names of the fields that are set.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The raw values, for encryption at rest. Treat the result as secret.
    pub fn expose(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Converts the values into a connector's typed configuration.
    ///
    /// Errors name the field that failed, never its value, so a mistyped password cannot leak through a
    /// parse error.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        serde_path_to_error::deserialize(Value::Object(self.0.clone()))
            .map_err(|error| Error::invalid_config(vec![describe_parse_error(&error)]))
    }
}

/// Turns a serde failure into a field error that names the field and never quotes the value: serde_json's
/// own messages echo the offending input ("invalid type: string \"hunter2\"").
fn describe_parse_error(error: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let text = error.inner().to_string();
    let quoted = text.split('`').nth(1).map(str::to_owned);
    let path = error.path().to_string();
    if text.starts_with("missing field") {
        let name = quoted.unwrap_or_default();
        let field = if path == "." {
            name
        } else {
            format!("{path}.{name}")
        };
        FieldError::new(field, "is required")
    } else if text.starts_with("unknown field") {
        // The path already ends at the unknown field.
        let field = if path == "." {
            quoted.unwrap_or_default()
        } else {
            path
        };
        FieldError::new(field, "is not a field of this connector")
    } else {
        let field = if path == "." { "config".to_owned() } else { path };
        FieldError::new(field, "has a value of the wrong type or format")
    }
}

impl fmt::Debug for ConfigValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigValues")
            .field("fields", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Drop for ConfigValues {
    fn drop(&mut self) {
        fn wipe(value: &mut Value) {
            match value {
                Value::String(text) => text.zeroize(),
                Value::Array(items) => items.iter_mut().for_each(wipe),
                Value::Object(map) => map.values_mut().for_each(wipe),
                _ => {}
            }
        }
        self.0.values_mut().for_each(wipe);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(value: Value) -> ConfigValues {
        match value {
            Value::Object(map) => ConfigValues::from_validated(map),
            _ => unreachable!("test values are objects"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Typed {
        host: String,
        port: u16,
        password: crate::Secret,
    }

    #[test]
    fn debug_shows_names_not_values() {
        let config = values(json!({"host": "db", "password": "hunter2"}));
        let shown = format!("{config:?}");
        assert!(
            shown.contains("password") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn deserializes_into_typed_config() {
        let config = values(json!({"host": "db", "port": 5432, "password": "pw"}));
        let typed: Typed = config.deserialize().unwrap();
        assert_eq!(typed.port, 5432);
        assert_eq!(typed.password.expose(), "pw");
    }

    #[test]
    fn typed_errors_name_the_field_and_never_the_value() {
        let config = values(json!({"host": "db", "port": "hunter2", "password": "pw"}));
        let error = config.deserialize::<Typed>().unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let missing = values(json!({"host": "db", "port": 1}));
        let error = missing.deserialize::<Typed>().unwrap_err();
        assert_eq!(error.fields()[0].field, "password");
        assert_eq!(error.fields()[0].message, "is required");
        let unknown = values(json!({"host": "db", "port": 1, "password": "p", "pasword": "x"}));
        let error = unknown.deserialize::<Typed>().unwrap_err();
        assert_eq!(error.fields()[0].field, "pasword");
    }
}
