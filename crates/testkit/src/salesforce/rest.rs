//! The REST endpoints under `/services/data/vNN.N/`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::org::{self, error};
use super::soql::{attributes, evaluate};
use super::{Fault, Inner, Shared};
use crate::process::random_hex;

/// Records one collection request may hold.
const COLLECTION_LIMIT: usize = 200;

/// `GET /services/data/`: the versions list (no authentication, no limit header).
pub(super) async fn versions() -> Response {
    axum::Json(json!([
        {"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"},
        {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"},
    ]))
    .into_response()
}

/// A `200` whose body is `bytes` of whitespace, made a chunk at a time as the client reads.
fn endless(shared: Arc<Shared>, bytes: usize) -> Response {
    const CHUNK: usize = 64 * 1024;
    let chunks = (0..bytes.div_ceil(CHUNK)).map(move |_| {
        shared
            .endless_sent
            .fetch_add(CHUNK as u64, std::sync::atomic::Ordering::SeqCst);
        Ok::<_, std::convert::Infallible>(Bytes::from(vec![b' '; CHUNK]))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
    )
        .into_response()
}

fn reply(status: StatusCode, body: Option<Value>, used: u64) -> Response {
    let limit = [("Sforce-Limit-Info", format!("api-usage={used}/5000"))];
    match body {
        Some(body) => (
            status,
            limit,
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            body.to_string(),
        )
            .into_response(),
        None => (status, limit).into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("OAuth "))
}

/// Every request under a version: authentication, injected faults, the limit header, then the route.
pub(super) async fn data(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Path((version, rest)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let version = version.trim_start_matches('v').to_owned();
    let (fault, used) = {
        let mut inner = shared.lock();
        let lifetime = inner.token_lifetime;
        let valid = bearer(&headers)
            .and_then(|token| inner.tokens.get(token))
            .is_some_and(|issued| lifetime.is_none_or(|lifetime| issued.elapsed() < lifetime));
        if !valid {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(error("INVALID_SESSION_ID", "Session expired or invalid", &[])),
            )
                .into_response();
        }
        inner.api_used += 1;
        (inner.faults.pop_front(), inner.api_used)
    };
    match fault {
        Some(Fault::Unavailable) => {
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(error(
                    "SERVER_UNAVAILABLE",
                    "Service temporarily unavailable",
                    &[],
                )),
                used,
            );
        }
        Some(Fault::RequestLimit) => {
            return reply(
                StatusCode::FORBIDDEN,
                Some(error(
                    "REQUEST_LIMIT_EXCEEDED",
                    "TotalRequests Limit exceeded.",
                    &[],
                )),
                used,
            );
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Endless(bytes)) => return endless(shared.clone(), bytes),
        None => {}
    }
    let body: Option<Value> = if body.is_empty() {
        None
    } else {
        serde_json::from_slice(&body).ok()
    };
    let batch = headers
        .get("Sforce-Query-Options")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("batchSize="))
        .and_then(|size| size.parse::<usize>().ok())
        .unwrap_or(2000);
    let segments: Vec<&str> = rest.split('/').filter(|segment| !segment.is_empty()).collect();
    let mut inner = shared.lock();
    let (status, answer) = route(&mut inner, &method, &segments, &query, body, &version, batch);
    drop(inner);
    reply(status, answer, used)
}

type Answer = (StatusCode, Option<Value>);

fn not_found() -> Answer {
    (
        StatusCode::NOT_FOUND,
        Some(error("NOT_FOUND", "The requested resource does not exist", &[])),
    )
}

fn route(
    inner: &mut Inner,
    method: &Method,
    segments: &[&str],
    query: &HashMap<String, String>,
    body: Option<Value>,
    version: &str,
    batch: usize,
) -> Answer {
    match (method.as_str(), segments) {
        ("GET", ["limits"]) => (
            StatusCode::OK,
            Some(
                json!({"DailyApiRequests": {"Max": 5000, "Remaining": 5000u64.saturating_sub(inner.api_used)}}),
            ),
        ),
        ("GET", ["sobjects"]) => (StatusCode::OK, Some(org::describe_global(&inner.schema, version))),
        ("GET", ["sobjects", object, "describe"]) => match inner.schema.iter().find(|o| o.name == *object) {
            Some(definition) => (StatusCode::OK, Some(org::describe(definition))),
            None => not_found(),
        },
        ("GET", ["query"]) => run_query(
            inner,
            query.get("q").map(String::as_str).unwrap_or_default(),
            version,
            batch,
        ),
        ("GET", ["query", locator]) => next_page(inner, locator, version, batch),
        ("POST", ["sobjects", object]) => match create(inner, object, body.unwrap_or(Value::Null)) {
            Ok(id) => (
                StatusCode::CREATED,
                Some(json!({"id": id, "success": true, "errors": []})),
            ),
            Err(answer) => answer,
        },
        ("GET", ["sobjects", object, id]) => get_record(inner, object, id, query.get("fields"), version),
        ("PATCH", ["sobjects", object, id]) => match update(inner, object, id, body.unwrap_or(Value::Null)) {
            Ok(()) => (StatusCode::NO_CONTENT, None),
            Err(answer) => answer,
        },
        ("DELETE", ["sobjects", object, id]) => {
            if inner.records.remove(object, id) {
                (StatusCode::NO_CONTENT, None)
            } else {
                not_found()
            }
        }
        ("PATCH", ["sobjects", object, field, value]) => {
            upsert(inner, object, field, value, body.unwrap_or(Value::Null))
        }
        (_, ["composite", "sobjects"]) => collection(inner, method, query, body),
        _ => not_found(),
    }
}

fn definition<'a>(inner: &'a Inner, object: &str) -> Result<&'a org::ObjectDef, Answer> {
    inner
        .schema
        .iter()
        .find(|o| o.name == object)
        .ok_or_else(not_found)
}

fn create(inner: &mut Inner, object: &str, body: Value) -> Result<String, Answer> {
    let Value::Object(mut record) = body else {
        return Err((
            StatusCode::BAD_REQUEST,
            Some(error("JSON_PARSER_ERROR", "the body must be a JSON object", &[])),
        ));
    };
    record.remove("attributes");
    let Inner { schema, records, .. } = inner;
    let object = schema.iter().find(|o| o.name == object).ok_or_else(not_found)?;
    org::validate(object, &record, true).map_err(|body| (StatusCode::BAD_REQUEST, Some(body)))?;
    let id = records.new_id(object);
    record.insert("Id".into(), Value::String(id.clone()));
    records.all_mut(object.name).push(record);
    Ok(id)
}

fn update(inner: &mut Inner, object: &str, id: &str, body: Value) -> Result<(), Answer> {
    let Value::Object(mut changes) = body else {
        return Err((
            StatusCode::BAD_REQUEST,
            Some(error("JSON_PARSER_ERROR", "the body must be a JSON object", &[])),
        ));
    };
    changes.remove("attributes");
    changes.remove("Id");
    org::validate(definition(inner, object)?, &changes, false)
        .map_err(|body| (StatusCode::BAD_REQUEST, Some(body)))?;
    let record = inner.records.find_mut(object, id).ok_or_else(not_found)?;
    record.extend(changes);
    Ok(())
}

fn get_record(inner: &Inner, object: &str, id: &str, fields: Option<&String>, version: &str) -> Answer {
    let Ok(definition) = definition(inner, object) else {
        return not_found();
    };
    let Some((_, record)) = inner.records.find(id).filter(|(owner, _)| *owner == object) else {
        return not_found();
    };
    let mut out = Map::new();
    out.insert("attributes".into(), attributes(object, id, version));
    let wanted: Vec<&str> = match fields {
        Some(fields) => fields.split(',').collect(),
        None => definition.fields.iter().map(|field| field.name).collect(),
    };
    for name in wanted {
        let Some(field) = definition.field(name) else {
            return (
                StatusCode::BAD_REQUEST,
                Some(error(
                    "INVALID_FIELD",
                    &format!("No such column '{name}' on sobject of type {object}"),
                    &[],
                )),
            );
        };
        out.insert(
            field.name.to_owned(),
            record.get(field.name).cloned().unwrap_or(Value::Null),
        );
    }
    (StatusCode::OK, Some(Value::Object(out)))
}

fn upsert(inner: &mut Inner, object: &str, field: &str, value: &str, body: Value) -> Answer {
    let Ok(definition) = definition(inner, object) else {
        return not_found();
    };
    let Some(field) = definition
        .field(field)
        .filter(|field| field.external_id || field.name == "Id")
    else {
        return (
            StatusCode::NOT_FOUND,
            Some(error(
                "NOT_FOUND",
                &format!("Provided external ID field does not exist or is not accessible: {field}"),
                &[],
            )),
        );
    };
    let field = field.name;
    let matches: Vec<String> = inner
        .records
        .all(object)
        .iter()
        .filter(|record| record.get(field).and_then(Value::as_str) == Some(value))
        .filter_map(|record| record.get("Id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    match matches.as_slice() {
        [] => {
            let mut body = body;
            if let Some(record) = body.as_object_mut() {
                record.insert(field.to_owned(), Value::String(value.to_owned()));
            }
            match create(inner, object, body) {
                Ok(id) => (
                    StatusCode::CREATED,
                    Some(json!({"id": id, "success": true, "errors": [], "created": true})),
                ),
                Err(answer) => answer,
            }
        }
        [id] => {
            let id = id.clone();
            match update(inner, object, &id, body) {
                Ok(()) => (
                    StatusCode::OK,
                    Some(json!({"id": id, "success": true, "errors": [], "created": false})),
                ),
                Err(answer) => answer,
            }
        }
        many => (
            StatusCode::MULTIPLE_CHOICES,
            Some(json!(
                many.iter()
                    .map(|id| format!("/services/data/sobjects/{object}/{id}"))
                    .collect::<Vec<_>>()
            )),
        ),
    }
}

/// A per-record collection result from an error body.
fn record_error(answer: Answer) -> Value {
    let entry = answer
        .1
        .and_then(|body| body.as_array()?.first().cloned())
        .unwrap_or_default();
    json!({
        "id": null,
        "success": false,
        "errors": [{
            "statusCode": entry.get("errorCode").cloned().unwrap_or(json!("UNKNOWN_EXCEPTION")),
            "message": entry.get("message").cloned().unwrap_or(json!("")),
            "fields": entry.get("fields").cloned().unwrap_or(json!([])),
        }],
    })
}

fn collection(
    inner: &mut Inner,
    method: &Method,
    query: &HashMap<String, String>,
    body: Option<Value>,
) -> Answer {
    let limit_error = || {
        (
            StatusCode::BAD_REQUEST,
            Some(error(
                "EXCEEDED_ID_LIMIT",
                &format!(
                    "record limit reached. cannot submit more than {COLLECTION_LIMIT} records in this operation"
                ),
                &[],
            )),
        )
    };
    if method == Method::DELETE {
        let ids: Vec<String> = query
            .get("ids")
            .map(|ids| ids.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        if ids.len() > COLLECTION_LIMIT {
            return limit_error();
        }
        let results: Vec<Value> = ids
            .iter()
            .map(|id| {
                let owner = inner.records.find(id).map(|(owner, _)| owner.to_owned());
                match owner {
                    Some(owner) if inner.records.remove(&owner, id) => {
                        json!({"id": id, "success": true, "errors": []})
                    }
                    _ => record_error((
                        StatusCode::NOT_FOUND,
                        Some(error("ENTITY_IS_DELETED", "entity is deleted", &[])),
                    )),
                }
            })
            .collect();
        return (StatusCode::OK, Some(Value::Array(results)));
    }
    let records = body
        .as_ref()
        .and_then(|body| body.get("records"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if records.len() > COLLECTION_LIMIT {
        return limit_error();
    }
    let results: Vec<Value> = records
        .into_iter()
        .map(|record| {
            let object = record
                .pointer("/attributes/type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if method == Method::POST {
                match create(inner, &object, record) {
                    Ok(id) => json!({"id": id, "success": true, "errors": []}),
                    Err(answer) => record_error(answer),
                }
            } else {
                let id = record
                    .get("Id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                match update(inner, &object, &id, record) {
                    Ok(()) => json!({"id": id, "success": true, "errors": []}),
                    Err(answer) => record_error(answer),
                }
            }
        })
        .collect();
    (StatusCode::OK, Some(Value::Array(results)))
}

fn run_query(inner: &mut Inner, soql: &str, version: &str, batch: usize) -> Answer {
    match evaluate(soql, &inner.schema, &inner.records, version) {
        Ok(rows) => page(inner, rows, 0, version, batch),
        Err(body) => (StatusCode::BAD_REQUEST, Some(body)),
    }
}

fn next_page(inner: &mut Inner, locator: &str, version: &str, batch: usize) -> Answer {
    let parsed = locator
        .rsplit_once('-')
        .and_then(|(cursor, offset)| Some((cursor.to_owned(), offset.parse::<usize>().ok()?)));
    let Some((cursor, offset)) = parsed else {
        return (
            StatusCode::BAD_REQUEST,
            Some(error("INVALID_QUERY_LOCATOR", "invalid query locator", &[])),
        );
    };
    let Some(rows) = inner.cursors.get(&cursor).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            Some(error("INVALID_QUERY_LOCATOR", "invalid query locator", &[])),
        );
    };
    page_from(inner, cursor, rows, offset, version, batch)
}

fn page(inner: &mut Inner, rows: Vec<Value>, offset: usize, version: &str, batch: usize) -> Answer {
    let cursor = format!("01g{}", random_hex(8));
    page_from(inner, cursor, rows, offset, version, batch)
}

fn page_from(
    inner: &mut Inner,
    cursor: String,
    rows: Vec<Value>,
    offset: usize,
    version: &str,
    batch: usize,
) -> Answer {
    let size = batch.clamp(1, 2000).min(inner.batch_cap);
    let total = rows.len();
    let end = (offset + size).min(total);
    let records: Vec<Value> = rows.get(offset..end).map(<[Value]>::to_vec).unwrap_or_default();
    let mut answer = json!({ "totalSize": total, "done": end >= total, "records": records });
    if end < total {
        answer["nextRecordsUrl"] = Value::String(format!("/services/data/v{version}/query/{cursor}-{end}"));
        inner.cursors.insert(cursor, rows);
    } else {
        inner.cursors.remove(&cursor);
    }
    (StatusCode::OK, Some(answer))
}
