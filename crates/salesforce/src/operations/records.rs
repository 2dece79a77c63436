//! Record reads and writes. Writes of many records go through sObject Collections, 200 per request with
//! `allOrNone: false`, so one bad record fails alone and every record gets its own outcome; upserts go one
//! record at a time to the external-id endpoint, whose answer says whether the record was created.

use reqwest::Method;
use serde_json::{Map, Value, json};
use tributary_core::{Error, ErrorKind, Result, WriteSummary};

use crate::connector::SalesforceConnector;
use crate::operations::MAX_WRITE_RECORDS;
use crate::soql::check_identifier;

/// Records per sObject Collections request, Salesforce's maximum.
pub(crate) const COLLECTION_SIZE: usize = 200;

/// A checked write.
#[derive(Debug, Clone)]
pub(crate) enum WriteRequest {
    Create {
        object: String,
        records: Vec<Map<String, Value>>,
    },
    Update {
        object: String,
        records: Vec<Map<String, Value>>,
    },
    Delete {
        object: String,
        ids: Vec<String>,
    },
    Upsert {
        object: String,
        external_id_field: String,
        records: Vec<Map<String, Value>>,
    },
}

impl WriteRequest {
    pub(crate) fn object(&self) -> &str {
        match self {
            WriteRequest::Create { object, .. }
            | WriteRequest::Update { object, .. }
            | WriteRequest::Delete { object, .. }
            | WriteRequest::Upsert { object, .. } => object,
        }
    }
}

/// Accepts a 15- or 18-character record id.
pub(crate) fn check_id(id: &str) -> Result<()> {
    if (id.len() == 15 || id.len() == 18) && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "`{id}` is not a Salesforce record id (15 or 18 letters and digits)"
        )))
    }
}

pub(crate) fn check_count(count: usize) -> Result<()> {
    if count == 0 || count > MAX_WRITE_RECORDS {
        return Err(Error::invalid_input(format!(
            "give 1 to {MAX_WRITE_RECORDS} records, not {count}"
        )));
    }
    Ok(())
}

/// Checks every field name of `records` against the object's fields.
pub(crate) fn check_fields(records: &[Map<String, Value>], known: &[String], object: &str) -> Result<()> {
    for record in records {
        for field in record.keys() {
            check_identifier(field, "field")?;
            if !known.iter().any(|name| name.eq_ignore_ascii_case(field)) {
                return Err(Error::invalid_input(format!("`{object}` has no field `{field}`"))
                    .with_hint("describe_object lists the object's fields"));
            }
        }
    }
    Ok(())
}

impl SalesforceConnector {
    /// One record by id.
    pub(crate) async fn fetch_record(
        &self,
        object: &str,
        id: &str,
        fields: Option<&[String]>,
    ) -> Result<Value> {
        let path = self.session.data_path(&format!("sobjects/{object}/{id}"));
        let joined = fields.map(|fields| fields.join(","));
        let query: Vec<(&str, &str)> = joined
            .as_deref()
            .map(|fields| ("fields", fields))
            .into_iter()
            .collect();
        Ok(self.session.send(Method::GET, &path, &query, None).await?.body)
    }

    /// Runs a checked write and reports each record's outcome.
    pub(crate) async fn run_write(&self, request: WriteRequest) -> Result<WriteSummary> {
        let mut items = Vec::new();
        match request {
            WriteRequest::Create { object, records } => {
                self.send_collections(Method::POST, &object, &records, &mut items)
                    .await?;
            }
            WriteRequest::Update { object, records } => {
                self.send_collections(Method::PATCH, &object, &records, &mut items)
                    .await?;
            }
            WriteRequest::Delete { ids, .. } => {
                for chunk in ids.chunks(COLLECTION_SIZE) {
                    let ids = chunk.join(",");
                    let query = [("ids", ids.as_str()), ("allOrNone", "false")];
                    let answer = self
                        .session
                        .send(
                            Method::DELETE,
                            &self.session.data_path("composite/sobjects"),
                            &query,
                            None,
                        )
                        .await?;
                    items.extend(outcomes(&answer.body, items.len()));
                }
            }
            WriteRequest::Upsert {
                object,
                external_id_field,
                records,
            } => {
                for (index, mut record) in records.into_iter().enumerate() {
                    let key = record.remove(&external_id_field).unwrap_or(Value::Null);
                    let key = match &key {
                        Value::String(text) => text.clone(),
                        Value::Number(number) => number.to_string(),
                        _ => String::new(),
                    };
                    items.push(
                        self.upsert_one(&object, &external_id_field, &key, record, index)
                            .await?,
                    );
                }
            }
        }
        let affected = items.iter().filter(|item| item["success"] == json!(true)).count() as u64;
        Ok(WriteSummary { affected, items })
    }

    /// Creates (POST) or updates (PATCH) records through sObject Collections, 200 per request, adding
    /// each record's outcome to `items`.
    async fn send_collections(
        &self,
        method: Method,
        object: &str,
        records: &[Map<String, Value>],
        items: &mut Vec<Value>,
    ) -> Result<()> {
        let path = self.session.data_path("composite/sobjects");
        for chunk in records.chunks(COLLECTION_SIZE) {
            let body = collection(object, chunk);
            let answer = self.session.send(method.clone(), &path, &[], Some(&body)).await?;
            items.extend(outcomes(&answer.body, items.len()));
        }
        Ok(())
    }

    async fn upsert_one(
        &self,
        object: &str,
        field: &str,
        key: &str,
        record: Map<String, Value>,
        index: usize,
    ) -> Result<Value> {
        if key.is_empty() || key.contains('/') {
            return Ok(failure(
                index,
                "INVALID_FIELD",
                &format!("record {index} needs a value for {field} without `/`"),
            ));
        }
        let path = self
            .session
            .data_path(&format!("sobjects/{object}/{field}/{}", encode_segment(key)));
        match self
            .session
            .send(Method::PATCH, &path, &[], Some(&Value::Object(record)))
            .await
        {
            Ok(answer) => Ok(json!({
                "index": index,
                "id": answer.body.get("id").cloned().unwrap_or(Value::Null),
                "success": true,
                "created": answer.status == 201,
                "errors": [],
            })),
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::InvalidInput | ErrorKind::NotFound | ErrorKind::Conflict
                ) =>
            {
                Ok(failure(index, error.kind().code(), error.message()))
            }
            Err(error) => Err(error),
        }
    }
}

/// A collection request body.
fn collection(object: &str, records: &[Map<String, Value>]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|record| {
            let mut record = record.clone();
            record.insert("attributes".into(), json!({ "type": object }));
            Value::Object(record)
        })
        .collect();
    json!({ "allOrNone": false, "records": records })
}

/// Per-record outcomes of a collection answer, numbered from `start`.
fn outcomes(body: &Value, start: usize) -> Vec<Value> {
    body.as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(offset, result)| {
            json!({
                "index": start + offset,
                "id": result.get("id").cloned().unwrap_or(Value::Null),
                "success": result.get("success").and_then(Value::as_bool).unwrap_or(false),
                "errors": result.get("errors").cloned().unwrap_or_else(|| json!([])),
            })
        })
        .collect()
}

fn failure(index: usize, code: &str, message: &str) -> Value {
    json!({
        "index": index,
        "id": null,
        "success": false,
        "errors": [{ "statusCode": code, "message": message, "fields": [] }],
    })
}

/// Percent-encodes one URL path segment.
fn encode_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
