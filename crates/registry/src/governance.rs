//! The governance settings of a connector, described once. Each [`Setting`] is one field of [`Governance`]:
//! its name (the same in the configuration file, the REST API and the store), its JSON Schema, an example,
//! and the label and help a form shows. The OpenAPI document and the console's form are built from this
//! table, and the defaults come from `Governance::default()`, so a new setting is added in one place (the
//! struct, its default and a row here); tests check that the configuration file and the REST API accept
//! every row and mean the same by it.

use serde_json::{Map, Value, json};

use crate::model::Governance;

/// One governance setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The field's name in [`Governance`], the configuration file and the REST API.
    pub name: &'static str,
    /// Its JSON Schema, without the default (which comes from `Governance::default()`).
    pub schema: fn() -> Value,
    /// A value other than the default, for documents and tests.
    pub example: fn() -> Value,
    /// A form's label.
    pub label: &'static str,
    /// A form's help line.
    pub help: &'static str,
}

impl Setting {
    /// The default value, as JSON.
    pub fn default_value(&self) -> Value {
        serde_json::to_value(Governance::default())
            .ok()
            .and_then(|mut defaults| defaults.get_mut(self.name).map(Value::take))
            .unwrap_or(Value::Null)
    }
}

/// Every governance setting, in the order forms show them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "allowed_operations",
        schema: || json!({ "type": "array", "items": { "enum": ["read", "write"] }, "uniqueItems": true }),
        example: || json!(["read", "write"]),
        label: "Allowed operations",
        help: "The classes of operation any agent may be granted on this connector.",
    },
    Setting {
        name: "allowed_objects",
        schema: || json!({ "type": ["array", "null"], "items": { "type": "string" } }),
        example: || json!(["public.orders", "reports/2026/*"]),
        label: "Allowed objects",
        help: "Tables, objects or key prefixes agents may touch; * and ? are wildcards. Leave empty to allow every object.",
    },
    Setting {
        name: "mask_pii",
        schema: || json!({ "type": "boolean" }),
        example: || json!(false),
        label: "Mask personal data",
        help: "Emails, phone numbers, card numbers and similar values are masked before an agent sees them.",
    },
    Setting {
        name: "audit_queries",
        schema: || json!({ "type": "boolean" }),
        example: || json!(false),
        label: "Audit every call",
        help: "Record each call (never its values) in the audit log.",
    },
    Setting {
        name: "cache_ttl_seconds",
        schema: || json!({ "type": "integer", "minimum": 0 }),
        example: || json!(60),
        label: "Cache reads for (seconds)",
        help: "0 turns the cache off.",
    },
    Setting {
        name: "queries_per_minute",
        schema: || json!({ "type": ["integer", "null"], "minimum": 1 }),
        example: || json!(600),
        label: "Rate limit (calls per minute)",
        help: "Across all agents. Leave empty for no limit.",
    },
    Setting {
        name: "max_rows_per_call",
        schema: || json!({ "type": ["integer", "null"], "minimum": 1 }),
        example: || json!(200),
        label: "Rows per call",
        help: "The most rows or records one call returns. Leave empty for the server's cap; a larger value still stops at it.",
    },
    Setting {
        name: "max_bytes_per_call",
        schema: || json!({ "type": ["integer", "null"], "minimum": 1 }),
        example: || json!(262_144),
        label: "Bytes per call",
        help: "The most bytes of JSON one call returns. Leave empty for the server's cap; a larger value still stops at it.",
    },
];

/// The setting named `name`.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|setting| setting.name == name)
}

/// The JSON Schema of [`Governance`] as the REST API takes it: every setting with its default and help.
pub fn schema() -> Value {
    let mut properties = Map::new();
    for setting in SETTINGS {
        let mut schema = (setting.schema)();
        if let Some(object) = schema.as_object_mut() {
            object.insert("default".into(), setting.default_value());
            object.insert("description".into(), Value::String(setting.help.to_owned()));
            object.insert("examples".into(), json!([(setting.example)()]));
        }
        properties.insert(setting.name.to_owned(), schema);
    }
    json!({ "type": "object", "properties": properties })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_field_of_governance_is_described_once_and_reads_its_example() {
        let defaults = serde_json::to_value(Governance::default()).unwrap();
        let fields: Vec<&str> = defaults.as_object().unwrap().keys().map(String::as_str).collect();
        let mut described: Vec<&str> = SETTINGS.iter().map(|setting| setting.name).collect();
        described.sort_unstable();
        let mut fields = fields;
        fields.sort_unstable();
        assert_eq!(described, fields, "one row per field of Governance");
        for setting in SETTINGS {
            let example = (setting.example)();
            assert_ne!(
                example,
                setting.default_value(),
                "{}: an example differs from the default",
                setting.name
            );
            let governance: Governance =
                serde_json::from_value(json!({ setting.name: example.clone() })).unwrap();
            assert_eq!(
                serde_json::to_value(&governance).unwrap()[setting.name],
                example,
                "{} reads its example",
                setting.name
            );
        }
    }

    #[test]
    fn the_schema_gives_each_setting_its_default() {
        let schema = schema();
        assert_eq!(schema["properties"]["mask_pii"]["default"], json!(true));
        assert_eq!(
            schema["properties"]["allowed_operations"]["default"],
            json!(["read"])
        );
        assert_eq!(schema["properties"]["queries_per_minute"]["default"], Value::Null);
        assert_eq!(schema["properties"].as_object().unwrap().len(), SETTINGS.len());
    }
}
