//! An agent framework registering the registry's tools: `tools_for_agent` becomes OpenAI-style function
//! definitions, and the model's tool calls are dispatched back to `call_tool`.
//!
//! `cargo run --example agent_tools --features registry` prints the function definitions a model would be
//! given, then plays the model's side: it picks a tool by name with JSON arguments, as a chat-completions
//! response would, and feeds the JSON result (or the error, which says what to do) back.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

use serde_json::{Value, json};
use tributary::core::{AccessClass, Error, Result};
use tributary::registry::{
    ConnectorTypes, Governance, KeyRing, MasterKey, NewConnector, Origin, Registry, SqliteStore, Tool,
};

/// The OpenAI `tools` entry of a registry tool.
fn function_definition(tool: &Tool) -> Value {
    json!({
        "type": "function",
        "function": { "name": tool.name, "description": tool.description, "parameters": tool.input_schema },
    })
}

/// What the framework does with a model's tool call: run it, and hand back JSON either way.
async fn dispatch(registry: &Registry, agent: &str, name: &str, arguments: &str) -> Value {
    let arguments: Value = match serde_json::from_str(arguments) {
        Ok(arguments) => arguments,
        Err(error) => return json!({ "error": format!("the arguments are not JSON: {error}") }),
    };
    match registry.call_tool("acme", agent, name, arguments).await {
        Ok(result) => serde_json::to_value(result).unwrap_or_default(),
        Err(error) => json!({ "error": error.report() }),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let folder = tempfile::tempdir().map_err(|e| Error::internal(e.to_string()))?;
    let database = folder.path().join("kb.db");
    rusqlite::Connection::open(&database)
        .and_then(|c| {
            c.execute_batch(
                "CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
                 INSERT INTO articles VALUES (1, 'Refunds', 'Refunds take 5 days. Questions: help@example.com'),
                                             (2, 'Shipping', 'We ship worldwide.');",
            )
        })
        .map_err(|e| Error::internal(e.to_string()))?;
    let store = SqliteStore::open(&folder.path().join("registry.db")).await?;
    let registry = Registry::new(
        Arc::new(store),
        KeyRing::new(MasterKey::generate()?),
        ConnectorTypes::with_defaults(),
    )?;
    let kb = registry
        .create_connector(
            "acme",
            NewConnector {
                name: "knowledge base".into(),
                connector_type: "sqlite".into(),
                config: json!({ "path": database.display().to_string() }),
                governance: Governance::default(),
            },
            Origin::Operator,
        )
        .await?;
    registry.put_agent("acme", "assistant", "Assistant").await?;
    registry
        .grant("acme", "assistant", &kb.id, [AccessClass::Read].into())
        .await?;

    let tools: Vec<Value> = registry
        .tools_for_agent("acme", "assistant")
        .await?
        .iter()
        .map(function_definition)
        .collect();
    println!("{}", serde_json::to_string_pretty(&tools).unwrap_or_default());

    // The model's turn, as a chat-completions response would carry it.
    let call = json!({ "name": "knowledge_base_query", "arguments": "{\"sql\": \"SELECT title, body FROM articles WHERE id = 1\"}" });
    let answer = dispatch(
        &registry,
        "assistant",
        call["name"].as_str().unwrap_or_default(),
        call["arguments"].as_str().unwrap_or_default(),
    )
    .await;
    println!("tool result: {answer}");
    let masked = answer
        .pointer("/data/rows/0/1")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !masked.contains("<EMAIL>") {
        return Err(Error::internal(
            "the example went wrong: the email in the article was not masked",
        ));
    }
    let wrong = dispatch(&registry, "assistant", "knowledge_base_delete", "{}").await;
    println!("a tool the agent does not have: {wrong}");
    if wrong.get("error").is_none() {
        return Err(Error::internal(
            "the example went wrong: a tool that does not exist ran",
        ));
    }
    println!(
        "ok: {} tools offered, a call answered with masked data, an unknown tool refused",
        tools.len()
    );
    Ok(())
}
