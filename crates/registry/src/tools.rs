//! Connectors as agent tools: one tool per granted connector and allowed operation, named to fit both MCP
//! and OpenAI function rules (`^[a-zA-Z0-9_-]{1,64}$`, unique per agent), described with the connector's
//! name and data, with the operation's JSON Schema and MCP annotations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tributary_core::{AccessClass, Data, OperationSpec, Truncation};

/// MCP tool annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// A human title.
    pub title: String,
    /// The tool only reads.
    pub read_only_hint: bool,
    /// The tool may delete or overwrite data.
    pub destructive_hint: bool,
    /// Repeating a call has no further effect.
    pub idempotent_hint: bool,
    /// The tool reaches systems outside the agent's sandbox.
    pub open_world_hint: bool,
}

/// One tool as an agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// The tool's name (`shop_query`).
    pub name: String,
    /// What it does and on which data.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_schema: Value,
    /// MCP annotations.
    pub annotations: ToolAnnotations,
    /// The connector's id.
    pub connector_id: String,
    /// The connector's name.
    pub connector: String,
    /// The operation it runs.
    pub operation: String,
}

/// What a tool call returns to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The connector's name.
    pub connector: String,
    /// The operation.
    pub operation: String,
    /// The data, as the connector shaped it (masked when the connector masks).
    pub data: Data,
    /// Present when the result was cut short, with how much.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<Truncation>,
    /// Values masked, per entity.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub masked: BTreeMap<String, u64>,
    /// Whether the result came from the cache.
    pub cached: bool,
}

impl ToolResult {
    /// The result as a JSON document, the same as `serde_json::to_value(&result)` gives, with its rows
    /// or records moved into the document instead of copied value by value: on a large read that copy
    /// costs as much as the rest of the encoding.
    pub fn into_json(mut self) -> Value {
        let items = match &mut self.data {
            Data::Rows(set) => Some((
                "rows",
                std::mem::take(&mut set.rows)
                    .into_iter()
                    .map(Value::Array)
                    .collect(),
            )),
            Data::Records { records } => Some((
                "records",
                std::mem::take(records).into_iter().map(Value::Object).collect(),
            )),
            _ => None,
        };
        // Plain data (strings, numbers, maps with string keys) always encodes.
        let mut document = serde_json::to_value(&self).unwrap_or_default();
        if let Some((key, items)) = items
            && let Some(data) = document.get_mut("data").and_then(Value::as_object_mut)
        {
            data.insert(key.to_owned(), Value::Array(items));
        }
        document
    }
}

/// Letters, digits and `_` only, lowercase, no doubled `_`.
fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let slug = slug.trim_matches('_').to_owned();
    if slug.is_empty() {
        "connector".to_owned()
    } else {
        slug
    }
}

fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..3])
}

/// The tool name for an operation of a connector: `{connector}_{operation}`, shortened with a hash when
/// it would pass 64 characters.
pub fn tool_name(connector: &str, operation: &str) -> String {
    let name = format!("{}_{operation}", slug(connector));
    if name.len() <= 64 {
        return name;
    }
    let suffix = format!("_{}_{operation}", short_hash(connector));
    let keep = 64usize.saturating_sub(suffix.len());
    format!("{}{suffix}", &slug(connector)[..keep.min(slug(connector).len())])
}

/// A tool for `operation` of connector `connector_id` named `connector` of type `connector_type`.
pub(crate) fn tool(
    connector_id: &str,
    connector: &str,
    connector_type: &str,
    operation: &OperationSpec,
) -> Tool {
    Tool {
        name: tool_name(connector, &operation.name),
        description: format!(
            "[{connector}: {connector_type} connector] {}",
            operation.description
        ),
        input_schema: operation.parameters.clone(),
        annotations: ToolAnnotations {
            title: format!("{connector}: {}", operation.name.replace('_', " ")),
            read_only_hint: operation.access == AccessClass::Read,
            destructive_hint: operation.destructive,
            idempotent_hint: operation.idempotent,
            open_world_hint: true,
        },
        connector_id: connector_id.to_owned(),
        connector: connector.to_owned(),
        operation: operation.name.clone(),
    }
}

/// Makes names unique: tools whose names collide get their connector id's hash appended.
pub(crate) fn deduplicate(tools: &mut [Tool]) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for tool in tools.iter() {
        *counts.entry(tool.name.clone()).or_default() += 1;
    }
    for tool in tools.iter_mut().filter(|tool| counts[&tool.name] > 1) {
        let suffix = format!("_{}", short_hash(&tool.connector_id));
        let keep = 64 - suffix.len();
        tool.name = format!("{}{suffix}", &tool.name[..tool.name.len().min(keep)]);
    }
}

/// Whether a name fits `^[a-zA-Z0-9_-]{1,64}$`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_mcp_and_openai_rules() {
        assert_eq!(tool_name("Shop DB (prod)", "query"), "shop_db_prod_query");
        assert_eq!(
            tool_name("données clients", "list_objects"),
            "donn_es_clients_list_objects"
        );
        let long = tool_name(&"very long connector name ".repeat(5), "describe_object");
        assert!(valid_name(&long) && long.ends_with("_describe_object"), "{long}");
        assert!(valid_name(&tool_name("!!!", "get")));
    }

    fn result(data: Data) -> ToolResult {
        ToolResult {
            connector: "crm".into(),
            operation: "query".into(),
            data,
            truncation: Some(Truncation::new(
                tributary_core::TruncationReason::RowLimit,
                2,
                2,
                Some(1),
            )),
            masked: BTreeMap::from([("email".to_owned(), 2)]),
            cached: false,
        }
    }

    #[test]
    fn the_moved_document_is_the_serialized_one() {
        use serde_json::json;
        use tributary_core::{Column, DataType, RowSet};
        let rows = Data::Rows(RowSet {
            columns: vec![Column {
                name: "email".into(),
                data_type: DataType::String,
                native_type: "text".into(),
            }],
            rows: vec![vec![json!("a@example.com")], vec![json!(null)]],
        });
        let records = Data::Records {
            records: vec![
                json!({ "Id": "001", "Name": "Acme" })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ],
        };
        let document = Data::Document {
            document: json!({ "url": "https://example.com" }),
        };
        for data in [rows, records, document] {
            let result = result(data);
            let expected = serde_json::to_value(&result).unwrap_or_default();
            assert_eq!(result.into_json(), expected);
        }
    }
}
