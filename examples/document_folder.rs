//! An agent's view of a folder of documents: the object-store connector's local provider, called through
//! a policy the way a registry calls it.
//!
//! `cargo run --example document_folder --features object-store` writes a few documents into a temporary
//! folder, lists them a page at a time, reads one, and shows a key that tries to climb out of the allowed
//! prefix being refused before anything is read.

use serde_json::{Value, json};
use tributary::core::{AccessClass, AccessPolicy, Connector, Error, ObjectRules, OperationRequest, Result};
use tributary::object_store::{ObjectStoreConfig, ObjectStoreConnector, config};

fn expect(condition: bool, what: &str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::internal(format!("the example went wrong: {what}")))
    }
}

fn show(label: &str, value: &impl serde::Serialize) {
    println!("{label}: {}", serde_json::to_string(value).unwrap_or_default());
}

#[tokio::main]
async fn main() -> Result<()> {
    // Removed when it goes out of scope, whether the example succeeds or not.
    let folder = tempfile::tempdir().map_err(|e| Error::internal(e.to_string()))?;
    let root = folder.path().display().to_string();
    let values = config::spec().validate(&json!({
        "provider": "local", "root": root, "bucket": "docs", "read_only": false, "default_page_size": 2,
    }))?;
    let docs = ObjectStoreConnector::new(ObjectStoreConfig::from_values(&values)?)?;
    show("check", &docs.check().await);

    for (key, text) in [
        ("handbook/leave.md", "# Leave\nTwenty-five days a year."),
        ("handbook/travel.md", "# Travel\nBook through the portal."),
        ("handbook/expenses.md", "# Expenses\nReceipts within 30 days."),
        ("hr/salaries.csv", "name,salary\nada,100\n"),
    ] {
        docs.put(key, text.as_bytes().to_vec().into(), None).await?;
    }

    // The agent may read the handbook and nothing else.
    let policy = AccessPolicy::new([AccessClass::Read], ObjectRules::only(["docs/handbook/*"])?);
    let call = |operation: &str, params: Value| docs.call(OperationRequest::new(operation, params), &policy);

    let first = call("list", json!({"prefix": "handbook/"})).await?;
    show("list, first page", &first);
    expect(
        first.is_truncated(),
        "two of three documents on the first page, and it says so",
    )?;

    let leave = call("get", json!({"key": "handbook/leave.md"})).await?;
    show("get", &leave.data);

    let escape = call("get", json!({"key": "handbook/../hr/salaries.csv"})).await;
    let refused = escape.err().map(|error| error.report());
    show("get handbook/../hr/salaries.csv", &refused);
    expect(
        refused.is_some_and(|report| report.kind == tributary::ErrorKind::PermissionDenied),
        "the normalized key hr/salaries.csv is outside docs/handbook/*",
    )?;
    println!("ok: the handbook was read, the salaries were not");
    Ok(())
}
