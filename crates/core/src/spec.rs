//! What a connector type needs to be configured, described once and used everywhere: to validate configs
//! with per-field errors, to render the console's forms, to publish JSON Schema over the API, and to know
//! which fields are secrets that must never be shown.
//!
//! ```
//! use serde_json::json;
//! use tributary_core::spec::{ConnectorSpec, FieldSpec};
//!
//! let spec = ConnectorSpec::new("demo", "Demo database", "A database for the docs.")
//!     .field(FieldSpec::string("host", "Host").required().group("Connection"))
//!     .field(FieldSpec::integer("port", "Port").range(1, 65535).default_value(5432))
//!     .field(FieldSpec::string("password", "Password").secret());
//!
//! let values = spec.validate(&json!({"host": "db.internal", "password": "hunter2"})).unwrap();
//! assert_eq!(values.get("port"), Some(&json!(5432)));
//! assert_eq!(spec.redact(values.expose())["password"], json!({"set": true}));
//!
//! let error = spec.validate(&json!({"port": 70000})).unwrap_err();
//! assert_eq!(error.fields().len(), 2); // host is missing, port is out of range
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::config::ConfigValues;
use crate::error::{Error, FieldError, Result};

/// The configuration form of one connector type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorSpec {
    /// The type's identifier, as used in config files (`postgresql`, `s3`).
    pub connector_type: String,
    /// A human name for lists and wizards.
    pub display_name: String,
    /// What this connector reaches, in one or two sentences.
    pub description: String,
    /// The fields, in the order a form shows them.
    pub fields: Vec<FieldSpec>,
    /// Constraints that involve more than one field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<ConfigRule>,
}

/// One configuration field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// The key in a config object.
    pub name: String,
    /// The label a form shows.
    pub label: String,
    /// The value's type and its constraints.
    pub kind: FieldKind,
    /// Whether a config without this field is invalid.
    #[serde(default)]
    pub required: bool,
    /// The value used when the field is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// One sentence for the form: what the field means and where to find its value.
    #[serde(default)]
    pub help: String,
    /// Secret fields are write-only: never echoed in errors, API responses, logs or forms.
    #[serde(default)]
    pub secret: bool,
    /// The field says where the connector connects or how it verifies the peer (host, port, URL, endpoint,
    /// path, TLS mode, CA). When an update changes one, the stored secrets are dropped unless the update
    /// sends them again, so a kept password never goes to a target it was not entered for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub target: bool,
    /// The form section this field belongs to ("Connection", "Authentication", "TLS", "Limits").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// An example value shown greyed out in an empty input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
}

/// A field's type, with the constraints a value must meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// A single-line string.
    String,
    /// A multi-line string (a PEM certificate, a private key).
    Text,
    /// A whole number, optionally bounded (inclusive).
    Integer {
        /// The smallest accepted value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        /// The largest accepted value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// A number that may have a fraction.
    Number,
    /// `true` or `false`.
    Boolean,
    /// One of a fixed set of strings.
    Choice {
        /// The accepted values, in the order a form lists them.
        values: Vec<String>,
    },
    /// A list of strings.
    StringList,
}

/// A constraint over several fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ConfigRule {
    /// At least one of these fields must be set (for example `url` or `host`).
    AtLeastOneOf {
        /// The alternatives.
        fields: Vec<String>,
    },
    /// At most one of these fields may be set.
    AtMostOneOf {
        /// The mutually exclusive fields.
        fields: Vec<String>,
    },
    /// When `field` has one of `values`, every field in `required` must be set (for example a CA
    /// certificate when the TLS mode is `verify-full`).
    RequiredWhen {
        /// The field whose value triggers the rule.
        field: String,
        /// The values that trigger it.
        values: Vec<Value>,
        /// The fields that then become required.
        required: Vec<String>,
    },
}

impl ConnectorSpec {
    /// A spec with no fields yet.
    pub fn new(
        connector_type: impl Into<String>,
        display_name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        ConnectorSpec {
            connector_type: connector_type.into(),
            display_name: display_name.into(),
            description: description.into(),
            fields: Vec::new(),
            rules: Vec::new(),
        }
    }

    /// Adds a field.
    #[must_use]
    pub fn field(mut self, field: FieldSpec) -> Self {
        self.fields.push(field);
        self
    }

    /// Adds several fields, in order: for field sets that several connector types share.
    #[must_use]
    pub fn fields(mut self, fields: impl IntoIterator<Item = FieldSpec>) -> Self {
        self.fields.extend(fields);
        self
    }

    /// Adds several cross-field rules.
    #[must_use]
    pub fn rules(mut self, rules: impl IntoIterator<Item = ConfigRule>) -> Self {
        self.rules.extend(rules);
        self
    }

    /// Adds a cross-field rule.
    #[must_use]
    pub fn rule(mut self, rule: ConfigRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Looks a field up by name.
    pub fn field_spec(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The names of the secret fields.
    pub fn secret_fields(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|field| field.secret)
            .map(|field| field.name.as_str())
    }

    /// The names of the target fields: where the connector connects and how it verifies the peer.
    pub fn target_fields(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|field| field.target)
            .map(|field| field.name.as_str())
    }

    /// The values of the secret fields that are set in `values`, for [`Error::redact`].
    pub fn secret_values<'a>(&self, values: &'a Map<String, Value>) -> Vec<&'a str> {
        self.secret_fields()
            .filter_map(|name| values.get(name).and_then(Value::as_str))
            .collect()
    }

    /// Checks a config object and returns it with defaults applied and form strings coerced to their
    /// field types (`"5432"` for an integer field becomes `5432`).
    ///
    /// Every problem is reported at once, one [`FieldError`] per field; unknown fields are errors, so a typo
    /// never silently falls back to a default. Messages never contain the value of a secret field.
    pub fn validate(&self, config: &Value) -> Result<ConfigValues> {
        let Some(input) = config.as_object() else {
            return Err(Error::invalid_config(vec![FieldError::new(
                "config",
                "must be a JSON object of field names to values",
            )]));
        };
        let mut errors = Vec::new();
        let mut output = Map::new();

        for name in input.keys() {
            if self.field_spec(name).is_none() {
                errors.push(FieldError::new(
                    name,
                    format!("is not a field of {}", self.display_name),
                ));
            }
        }
        for field in &self.fields {
            match input.get(&field.name).filter(|value| !is_blank(value)) {
                Some(value) => match field.coerce(value) {
                    Ok(value) => {
                        output.insert(field.name.clone(), value);
                    }
                    Err(message) => errors.push(FieldError::new(&field.name, message)),
                },
                None => {
                    if let Some(default) = &field.default {
                        output.insert(field.name.clone(), default.clone());
                    } else if field.required {
                        errors.push(FieldError::new(&field.name, "is required"));
                    }
                }
            }
        }
        for rule in &self.rules {
            errors.extend(rule.check(&output, self));
        }
        if errors.is_empty() {
            Ok(ConfigValues::from_validated(output))
        } else {
            Err(Error::invalid_config(errors))
        }
    }

    /// A copy of `values` that is safe to show: each secret field becomes `{"set": true}` or
    /// `{"set": false}`, so a reader knows whether it is configured but never what it is.
    pub fn redact(&self, values: &Map<String, Value>) -> Map<String, Value> {
        let mut shown = values.clone();
        for field in self.fields.iter().filter(|field| field.secret) {
            let set = values.get(&field.name).is_some_and(|value| !is_blank(value));
            shown.insert(field.name.clone(), json!({ "set": set }));
        }
        shown
    }

    /// The config form as a JSON Schema (draft 2020-12) object.
    ///
    /// Secret fields carry `"writeOnly": true` and `"x-secret": true`; groups and placeholders travel as
    /// `x-group` and `x-placeholder` for form renderers.
    pub fn json_schema(&self) -> Value {
        let mut properties = Map::new();
        for field in &self.fields {
            properties.insert(field.name.clone(), field.json_schema());
        }
        let required: Vec<&str> = self
            .fields
            .iter()
            .filter(|field| field.required)
            .map(|field| field.name.as_str())
            .collect();
        let mut schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.display_name,
            "description": self.description,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        });
        let rules: Vec<Value> = self.rules.iter().map(ConfigRule::json_schema).collect();
        if !rules.is_empty() {
            schema["allOf"] = Value::Array(rules);
        }
        schema
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

impl FieldSpec {
    fn new(name: impl Into<String>, label: impl Into<String>, kind: FieldKind) -> Self {
        FieldSpec {
            name: name.into(),
            label: label.into(),
            kind,
            required: false,
            default: None,
            help: String::new(),
            secret: false,
            target: false,
            group: None,
            placeholder: None,
        }
    }

    /// A single-line string field.
    pub fn string(name: impl Into<String>, label: impl Into<String>) -> Self {
        FieldSpec::new(name, label, FieldKind::String)
    }

    /// A multi-line string field.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Self {
        FieldSpec::new(name, label, FieldKind::Text)
    }

    /// A whole-number field without bounds; see [`FieldSpec::range`].
    pub fn integer(name: impl Into<String>, label: impl Into<String>) -> Self {
        FieldSpec::new(name, label, FieldKind::Integer { min: None, max: None })
    }

    /// A number field.
    pub fn number(name: impl Into<String>, label: impl Into<String>) -> Self {
        FieldSpec::new(name, label, FieldKind::Number)
    }

    /// A boolean field.
    pub fn boolean(name: impl Into<String>, label: impl Into<String>) -> Self {
        FieldSpec::new(name, label, FieldKind::Boolean)
    }

    /// A field whose value is one of `values`.
    pub fn choice<S: Into<String>>(
        name: impl Into<String>,
        label: impl Into<String>,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        FieldSpec::new(
            name,
            label,
            FieldKind::Choice {
                values: values.into_iter().map(Into::into).collect(),
            },
        )
    }

    /// A list-of-strings field.
    pub fn string_list(name: impl Into<String>, label: impl Into<String>) -> Self {
        FieldSpec::new(name, label, FieldKind::StringList)
    }

    /// Marks the field required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks the field secret (write-only, never shown).
    #[must_use]
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Marks the field as part of the connector's target (see [`FieldSpec::target`]).
    #[must_use]
    pub fn target(mut self) -> Self {
        self.target = true;
        self
    }

    /// Sets the default value.
    #[must_use]
    pub fn default_value(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    /// Puts the field in a form section.
    #[must_use]
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Sets the placeholder shown in an empty input.
    #[must_use]
    pub fn placeholder(mut self, placeholder: impl Into<String>) -> Self {
        self.placeholder = Some(placeholder.into());
        self
    }

    /// Bounds an integer field (inclusive). Has no effect on other kinds.
    #[must_use]
    pub fn range(mut self, min: i64, max: i64) -> Self {
        if let FieldKind::Integer { min: lo, max: hi } = &mut self.kind {
            *lo = Some(min);
            *hi = Some(max);
        }
        self
    }

    /// Checks one value and converts form strings to the field's type. The error message never includes a
    /// secret field's value.
    fn coerce(&self, value: &Value) -> std::result::Result<Value, String> {
        let shown = |value: &Value| {
            if self.secret {
                String::from("the value")
            } else {
                format!("`{value}`")
            }
        };
        match &self.kind {
            FieldKind::String | FieldKind::Text => match value {
                Value::String(_) => Ok(value.clone()),
                Value::Number(_) | Value::Bool(_) if !self.secret => Ok(Value::String(value.to_string())),
                _ => Err("must be a string".to_owned()),
            },
            FieldKind::Integer { min, max } => {
                let number = match value {
                    Value::Number(number) => number.as_i64(),
                    Value::String(text) => text.trim().parse::<i64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| format!("must be a whole number, not {}", shown(value)))?;
                if let Some(min) = min.filter(|min| number < *min) {
                    return Err(format!("must be at least {min}"));
                }
                if let Some(max) = max.filter(|max| number > *max) {
                    return Err(format!("must be at most {max}"));
                }
                Ok(Value::from(number))
            }
            FieldKind::Number => match value {
                Value::Number(_) => Ok(value.clone()),
                Value::String(text) => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("must be a number, not {}", shown(value))),
                _ => Err(format!("must be a number, not {}", shown(value))),
            },
            FieldKind::Boolean => match value {
                Value::Bool(_) => Ok(value.clone()),
                Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
                    "true" | "on" | "yes" | "1" => Ok(Value::Bool(true)),
                    "false" | "off" | "no" | "0" => Ok(Value::Bool(false)),
                    _ => Err(format!("must be true or false, not {}", shown(value))),
                },
                _ => Err(format!("must be true or false, not {}", shown(value))),
            },
            FieldKind::Choice { values } => match value.as_str() {
                Some(text) if values.iter().any(|allowed| allowed == text) => Ok(value.clone()),
                _ => Err(format!(
                    "must be one of {}, not {}",
                    values.join(", "),
                    shown(value)
                )),
            },
            FieldKind::StringList => match value {
                Value::Array(items) if items.iter().all(Value::is_string) => Ok(value.clone()),
                Value::String(text) => Ok(Value::Array(
                    text.split([',', '\n'])
                        .map(str::trim)
                        .filter(|item| !item.is_empty())
                        .map(|item| Value::String(item.to_owned()))
                        .collect(),
                )),
                _ => Err("must be a list of strings".to_owned()),
            },
        }
    }

    fn json_schema(&self) -> Value {
        let mut schema = match &self.kind {
            FieldKind::String => json!({ "type": "string" }),
            FieldKind::Text => json!({ "type": "string", "x-multiline": true }),
            FieldKind::Integer { min, max } => {
                let mut schema = json!({ "type": "integer" });
                if let Some(min) = min {
                    schema["minimum"] = json!(min);
                }
                if let Some(max) = max {
                    schema["maximum"] = json!(max);
                }
                schema
            }
            FieldKind::Number => json!({ "type": "number" }),
            FieldKind::Boolean => json!({ "type": "boolean" }),
            FieldKind::Choice { values } => json!({ "type": "string", "enum": values }),
            FieldKind::StringList => json!({ "type": "array", "items": { "type": "string" } }),
        };
        schema["title"] = json!(self.label);
        if !self.help.is_empty() {
            schema["description"] = json!(self.help);
        }
        if let Some(default) = &self.default {
            schema["default"] = default.clone();
        }
        if self.secret {
            schema["writeOnly"] = json!(true);
            schema["x-secret"] = json!(true);
        }
        if let Some(group) = &self.group {
            schema["x-group"] = json!(group);
        }
        if let Some(placeholder) = &self.placeholder {
            schema["x-placeholder"] = json!(placeholder);
        }
        schema
    }
}

impl ConfigRule {
    /// The problems this rule finds: one per field that needs attention.
    fn check(&self, values: &Map<String, Value>, spec: &ConnectorSpec) -> Vec<FieldError> {
        let is_set = |name: &String| values.get(name).is_some_and(|value| !is_blank(value));
        let labels = |names: &[String]| {
            names
                .iter()
                .map(|name| {
                    spec.field_spec(name)
                        .map_or(name.as_str(), |field| field.label.as_str())
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            ConfigRule::AtLeastOneOf { fields } if !fields.iter().any(is_set) => vec![FieldError::new(
                fields.first().cloned().unwrap_or_default(),
                format!("set at least one of: {}", labels(fields)),
            )],
            ConfigRule::AtMostOneOf { fields } if fields.iter().filter(|name| is_set(name)).count() > 1 => {
                vec![FieldError::new(
                    fields
                        .iter()
                        .find(|name| is_set(name))
                        .cloned()
                        .unwrap_or_default(),
                    format!("set only one of: {}", labels(fields)),
                )]
            }
            ConfigRule::RequiredWhen {
                field,
                values: triggers,
                required,
            } => {
                let triggered = values.get(field).is_some_and(|value| triggers.contains(value));
                if !triggered {
                    return Vec::new();
                }
                let trigger = values.get(field).map(Value::to_string).unwrap_or_default();
                required
                    .iter()
                    .filter(|name| !is_set(name))
                    .map(|name| {
                        FieldError::new(
                            name.clone(),
                            format!(
                                "is required when {} is {trigger}",
                                labels(std::slice::from_ref(field))
                            ),
                        )
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn json_schema(&self) -> Value {
        match self {
            ConfigRule::AtLeastOneOf { fields } => {
                json!({ "anyOf": fields.iter().map(|f| json!({ "required": [f] })).collect::<Vec<_>>() })
            }
            ConfigRule::AtMostOneOf { fields } => {
                let pairs: Vec<Value> = fields
                    .iter()
                    .enumerate()
                    .flat_map(|(i, a)| fields[i + 1..].iter().map(move |b| json!({ "required": [a, b] })))
                    .collect();
                json!({ "not": { "anyOf": pairs } })
            }
            ConfigRule::RequiredWhen {
                field,
                values,
                required,
            } => json!({
                "if": { "properties": { field.as_str(): { "enum": values } }, "required": [field] },
                "then": { "required": required },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ConnectorSpec {
        ConnectorSpec::new("demo", "Demo", "A demo database.")
            .field(FieldSpec::string("url", "URL"))
            .field(
                FieldSpec::string("host", "Host")
                    .group("Connection")
                    .placeholder("db.internal"),
            )
            .field(
                FieldSpec::integer("port", "Port")
                    .range(1, 65535)
                    .default_value(5432),
            )
            .field(FieldSpec::string("password", "Password").secret())
            .field(FieldSpec::boolean("read_only", "Read only").default_value(true))
            .field(
                FieldSpec::choice("tls", "TLS mode", ["disable", "require", "verify-full"])
                    .default_value("disable"),
            )
            .field(FieldSpec::text("ca_cert", "CA certificate"))
            .field(FieldSpec::number("ratio", "Ratio"))
            .field(FieldSpec::string_list("schemas", "Schemas"))
            .rule(ConfigRule::AtLeastOneOf {
                fields: vec!["url".into(), "host".into()],
            })
            .rule(ConfigRule::AtMostOneOf {
                fields: vec!["url".into(), "host".into()],
            })
            .rule(ConfigRule::RequiredWhen {
                field: "tls".into(),
                values: vec![json!("verify-full")],
                required: vec!["ca_cert".into()],
            })
    }

    fn messages(error: &Error) -> Vec<(String, String)> {
        error
            .fields()
            .iter()
            .map(|f| (f.field.clone(), f.message.clone()))
            .collect()
    }

    #[test]
    fn applies_defaults_and_coerces_form_strings() {
        let values = spec()
            .validate(
                &json!({"host": "db", "port": "6543", "read_only": "off", "ratio": "0.5", "schemas": "a, b"}),
            )
            .unwrap();
        assert_eq!(values.get("port"), Some(&json!(6543)));
        assert_eq!(values.get("read_only"), Some(&json!(false)));
        assert_eq!(values.get("tls"), Some(&json!("disable")));
        assert_eq!(values.get("ratio"), Some(&json!(0.5)));
        assert_eq!(values.get("schemas"), Some(&json!(["a", "b"])));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let error = spec()
            .validate(&json!({"port": 0, "tls": "maybe", "read_only": "perhaps", "colour": "red"}))
            .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidConfig);
        let found = messages(&error);
        assert!(
            found.contains(&("colour".into(), "is not a field of Demo".into())),
            "{found:?}"
        );
        assert!(
            found.contains(&("port".into(), "must be at least 1".into())),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(f, m)| f == "tls" && m.contains("disable, require, verify-full"))
        );
        assert!(
            found
                .iter()
                .any(|(f, m)| f == "read_only" && m.contains("true or false"))
        );
        assert!(
            found.contains(&("url".into(), "set at least one of: URL, Host".into())),
            "{found:?}"
        );
        assert_eq!(found.len(), 5);
    }

    #[test]
    fn bounds_are_inclusive() {
        assert!(spec().validate(&json!({"host": "h", "port": 65535})).is_ok());
        assert!(spec().validate(&json!({"host": "h", "port": 1})).is_ok());
        let error = spec().validate(&json!({"host": "h", "port": 65536})).unwrap_err();
        assert_eq!(
            messages(&error),
            vec![("port".into(), "must be at most 65535".into())]
        );
        let error = spec().validate(&json!({"host": "h", "port": 1.5})).unwrap_err();
        assert_eq!(error.fields()[0].field, "port");
    }

    #[test]
    fn blank_required_values_count_as_missing() {
        let spec = ConnectorSpec::new("t", "T", "").field(FieldSpec::string("user", "User").required());
        for blank in [
            json!({}),
            json!({"user": ""}),
            json!({"user": "  "}),
            json!({"user": null}),
        ] {
            let error = spec.validate(&blank).unwrap_err();
            assert_eq!(
                messages(&error),
                vec![("user".into(), "is required".into())],
                "{blank}"
            );
        }
    }

    #[test]
    fn cross_field_rules() {
        let error = spec()
            .validate(&json!({"url": "postgres://x", "host": "h"}))
            .unwrap_err();
        assert_eq!(
            messages(&error),
            vec![("url".into(), "set only one of: URL, Host".into())]
        );
        let error = spec()
            .validate(&json!({"host": "h", "tls": "verify-full"}))
            .unwrap_err();
        assert_eq!(
            messages(&error),
            vec![(
                "ca_cert".into(),
                "is required when TLS mode is \"verify-full\"".into()
            )]
        );
        assert!(
            spec()
                .validate(&json!({"host": "h", "tls": "verify-full", "ca_cert": "PEM"}))
                .is_ok()
        );
    }

    #[test]
    fn secret_values_never_appear_in_errors() {
        let spec = ConnectorSpec::new("t", "T", "")
            .field(FieldSpec::integer("pin", "PIN").secret())
            .field(FieldSpec::choice("key", "Key", ["a"]).secret())
            .field(FieldSpec::string("token", "Token").secret());
        let error = spec
            .validate(&json!({"pin": "hunter2", "key": "hunter2", "token": 12345}))
            .unwrap_err();
        let shown = format!("{error:?} {}", serde_json::to_string(&error).unwrap());
        assert!(!shown.contains("hunter2") && !shown.contains("12345"), "{shown}");
        assert_eq!(error.fields().len(), 3);
    }

    #[test]
    fn rejects_non_objects() {
        let error = spec().validate(&json!(["host"])).unwrap_err();
        assert_eq!(error.fields()[0].field, "config");
    }

    #[test]
    fn redact_marks_secrets_set_or_unset() {
        let spec = spec();
        let values = spec
            .validate(&json!({"host": "h", "password": "hunter2"}))
            .unwrap();
        let shown = spec.redact(values.expose());
        assert_eq!(shown["password"], json!({"set": true}));
        assert_eq!(shown["host"], json!("h"));
        assert!(!Value::Object(shown).to_string().contains("hunter2"));
        let values = spec.validate(&json!({"host": "h"})).unwrap();
        assert_eq!(spec.redact(values.expose())["password"], json!({"set": false}));
        assert_eq!(
            spec.secret_values(&Map::from_iter([("password".into(), json!("pw"))])),
            vec!["pw"]
        );
    }

    #[test]
    fn json_schema_describes_every_field() {
        let schema = spec().json_schema();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["port"],
            json!({"type": "integer", "minimum": 1, "maximum": 65535, "title": "Port", "default": 5432})
        );
        assert_eq!(schema["properties"]["password"]["writeOnly"], true);
        assert_eq!(schema["properties"]["password"]["x-secret"], true);
        assert_eq!(
            schema["properties"]["tls"]["enum"],
            json!(["disable", "require", "verify-full"])
        );
        assert_eq!(schema["properties"]["host"]["x-group"], "Connection");
        assert_eq!(schema["properties"]["schemas"]["items"]["type"], "string");
        assert_eq!(
            schema["allOf"][0],
            json!({"anyOf": [{"required": ["url"]}, {"required": ["host"]}]})
        );
        assert_eq!(
            schema["allOf"][1],
            json!({"not": {"anyOf": [{"required": ["url", "host"]}]}})
        );
        assert_eq!(schema["allOf"][2]["then"], json!({"required": ["ca_cert"]}));
        assert_eq!(
            spec().fields.len(),
            schema["properties"].as_object().unwrap().len()
        );
    }

    #[test]
    fn spec_serializes_for_forms() {
        let json = serde_json::to_value(spec()).unwrap();
        assert_eq!(
            json["fields"][2]["kind"],
            json!({"type": "integer", "min": 1, "max": 65535})
        );
        let back: ConnectorSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, spec());
    }
}
