//! Discovery: describeGlobal for the object list and describe for fields, fetched lazily and reused for
//! `describe_cache_seconds`. Object names are matched without regard to case, as Salesforce does, and
//! always reported in Salesforce's spelling, which is what policies name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;
use tributary_core::{Catalog, Error, FieldInfo, ForeignKey, ObjectInfo, ObjectKind, Result};

use crate::connection::Session;
use crate::types;

/// One object of describeGlobal.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectSummary {
    /// API name (`Account`, `Invoice__c`).
    pub name: String,
    /// Display label.
    #[serde(default)]
    pub label: String,
    /// Whether it is a custom object.
    #[serde(default)]
    pub custom: bool,
    /// Whether SOQL may query it.
    #[serde(default)]
    pub queryable: bool,
    /// Whether records may be created.
    #[serde(default)]
    pub createable: bool,
    /// Whether records may be updated.
    #[serde(default)]
    pub updateable: bool,
    /// Whether records may be deleted.
    #[serde(default)]
    pub deletable: bool,
}

struct Cached<T> {
    at: Instant,
    value: Arc<T>,
}

/// The describe cache of one connector.
pub(crate) struct Describer {
    ttl: Duration,
    global: Mutex<Option<Cached<Vec<SObjectSummary>>>>,
    objects: Mutex<HashMap<String, Cached<Value>>>,
}

impl Describer {
    pub(crate) fn new(ttl: Duration) -> Describer {
        Describer {
            ttl,
            global: Mutex::new(None),
            objects: Mutex::new(HashMap::new()),
        }
    }

    /// The org's objects (describeGlobal).
    pub(crate) async fn objects(&self, session: &Session) -> Result<Arc<Vec<SObjectSummary>>> {
        let mut global = self.global.lock().await;
        if let Some(cached) = global.as_ref().filter(|cached| cached.at.elapsed() < self.ttl) {
            return Ok(cached.value.clone());
        }
        let answer = session
            .send(Method::GET, &session.data_path("sobjects/"), &[], None)
            .await?;
        let list: Vec<SObjectSummary> = answer
            .body
            .get("sobjects")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|error| Error::internal(format!("unexpected describeGlobal answer: {error}")))?
            .unwrap_or_default();
        let value = Arc::new(list);
        *global = Some(Cached {
            at: Instant::now(),
            value: value.clone(),
        });
        Ok(value)
    }

    /// Resolves `name` (any case) to the object as Salesforce spells it.
    pub(crate) async fn resolve(&self, session: &Session, name: &str) -> Result<SObjectSummary> {
        crate::soql::check_identifier(name, "object")?;
        self.objects(session)
            .await?
            .iter()
            .find(|object| object.name.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!("this org has no object named `{name}`"))
                    .with_hint("call list_objects to see the objects this user can reach")
            })
    }

    /// The full describe of one object (as Salesforce spells it).
    pub(crate) async fn describe(&self, session: &Session, name: &str) -> Result<Arc<Value>> {
        let mut objects = self.objects.lock().await;
        if let Some(cached) = objects.get(name).filter(|cached| cached.at.elapsed() < self.ttl) {
            return Ok(cached.value.clone());
        }
        let path = session.data_path(&format!("sobjects/{name}/describe/"));
        let answer = session.send(Method::GET, &path, &[], None).await?;
        let value = Arc::new(answer.body);
        objects.insert(
            name.to_owned(),
            Cached {
                at: Instant::now(),
                value: value.clone(),
            },
        );
        Ok(value)
    }

    /// The field names of an object, for checking caller-given names.
    pub(crate) async fn field_names(&self, session: &Session, object: &str) -> Result<Vec<String>> {
        let describe = self.describe(session, object).await?;
        Ok(fields(&describe)
            .filter_map(|field| field.get("name")?.as_str().map(str::to_owned))
            .collect())
    }

    /// The object a child relationship of `parent` points to (`Account` + `Contacts` → `Contact`).
    pub(crate) async fn child_object(
        &self,
        session: &Session,
        parent: &str,
        relationship: &str,
    ) -> Result<String> {
        let describe = self.describe(session, parent).await?;
        describe
            .get("childRelationships")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|child| {
                child
                    .get("relationshipName")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.eq_ignore_ascii_case(relationship))
            })
            .and_then(|child| child.get("childSObject")?.as_str().map(str::to_owned))
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "`{parent}` has no child relationship named `{relationship}`"
                ))
                .with_hint("describe_object lists an object's child relationships")
            })
    }
}

impl Describer {
    /// The objects a parent path (`Account.Owner.Name`) of `object` reads through, every target of a
    /// polymorphic lookup included.
    pub(crate) async fn parent_objects(
        &self,
        session: &Session,
        object: &str,
        path: &str,
    ) -> Result<Vec<String>> {
        let mut current = vec![object.to_owned()];
        let mut visited = Vec::new();
        let steps: Vec<&str> = path.split('.').collect();
        for relationship in &steps[..steps.len().saturating_sub(1)] {
            let mut next = Vec::new();
            for name in &current {
                let describe = self.describe(session, name).await?;
                let field = fields(&describe).find(|field| {
                    field
                        .get("relationshipName")
                        .and_then(Value::as_str)
                        .is_some_and(|candidate| candidate.eq_ignore_ascii_case(relationship))
                });
                next.extend(
                    field
                        .map(references)
                        .unwrap_or_default()
                        .into_iter()
                        .map(str::to_owned),
                );
            }
            if next.is_empty() {
                return Err(
                    Error::invalid_input(format!("no relationship `{relationship}` in `{path}`"))
                        .with_hint("describe_object lists each lookup field's relationship name and target"),
                );
            }
            next.sort();
            next.dedup();
            visited.extend(next.iter().cloned());
            current = next;
        }
        Ok(visited)
    }
}

fn fields(describe: &Value) -> impl Iterator<Item = &Value> {
    describe
        .get("fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The catalog of describeGlobal: every object, fields left for `describe_object`.
pub(crate) fn catalog(objects: &[SObjectSummary]) -> Catalog {
    let mut list: Vec<ObjectInfo> = objects
        .iter()
        .map(|object| {
            let mut info = ObjectInfo::new(object.name.clone(), ObjectKind::SObject);
            let mut abilities = Vec::new();
            for (flag, name) in [
                (object.queryable, "queryable"),
                (object.createable, "createable"),
                (object.updateable, "updateable"),
                (object.deletable, "deletable"),
            ] {
                if flag {
                    abilities.push(name);
                }
            }
            let custom = if object.custom { "custom" } else { "standard" };
            info.description = Some(format!("{} ({custom}; {})", object.label, abilities.join(", ")));
            info
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Catalog {
        objects: list,
        truncated: false,
    }
}

/// One object's description with its fields.
pub(crate) fn object_info(describe: &Value) -> ObjectInfo {
    let name = describe.get("name").and_then(Value::as_str).unwrap_or_default();
    let mut info = ObjectInfo::new(name, ObjectKind::SObject);
    info.description = describe.get("label").and_then(Value::as_str).map(str::to_owned);
    info.primary_key = vec!["Id".to_owned()];
    info.fields = fields(describe).map(field_info).collect();
    info.foreign_keys = fields(describe)
        .flat_map(|field| {
            let name = field
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            references(field).into_iter().map(move |target| ForeignKey {
                name: None,
                fields: vec![name.clone()],
                references: target.to_owned(),
                referenced_fields: vec!["Id".to_owned()],
            })
        })
        .collect();
    info
}

fn references(field: &Value) -> Vec<&str> {
    field
        .get("referenceTo")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn field_info(field: &Value) -> FieldInfo {
    let text = |key: &str| field.get(key).and_then(Value::as_str).unwrap_or_default();
    let native = text("type");
    let mut info = FieldInfo::new(text("name"), types::data_type(native), native);
    info.nullable = field.get("nillable").and_then(Value::as_bool).unwrap_or(true);
    let mut notes = vec![text("label").to_owned()];
    if let Some(length) = field
        .get("length")
        .and_then(Value::as_u64)
        .filter(|length| *length > 0)
    {
        notes.push(format!("length {length}"));
    }
    info.primary_key = native == "id";
    info.allowed_values = field
        .get("picklistValues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|value| value.get("value")?.as_str().map(str::to_owned))
        .collect();
    let targets = references(field);
    if !targets.is_empty() {
        notes.push(format!("references {}", targets.join(", ")));
    }
    info.description = Some(notes.join("; "));
    info
}
