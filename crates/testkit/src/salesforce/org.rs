//! The test org's data: a fixed schema (Account, Contact, Opportunity, User) with describe output in
//! Salesforce's shape, and records kept in memory.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// One field of the fixed schema.
pub(crate) struct FieldDef {
    pub(crate) name: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) required: bool,
    pub(crate) external_id: bool,
    pub(crate) reference_to: &'static [&'static str],
    pub(crate) picklist: &'static [&'static str],
}

const fn field(name: &'static str, kind: &'static str) -> FieldDef {
    FieldDef {
        name,
        kind,
        required: false,
        external_id: false,
        reference_to: &[],
        picklist: &[],
    }
}

const fn required(name: &'static str, kind: &'static str) -> FieldDef {
    FieldDef {
        required: true,
        ..field(name, kind)
    }
}

const fn picklist(name: &'static str, values: &'static [&'static str]) -> FieldDef {
    FieldDef {
        picklist: values,
        ..field(name, "picklist")
    }
}

const fn reference(name: &'static str, to: &'static [&'static str]) -> FieldDef {
    FieldDef {
        reference_to: to,
        ..field(name, "reference")
    }
}

/// One object of the fixed schema.
pub(crate) struct ObjectDef {
    pub(crate) name: &'static str,
    pub(crate) key_prefix: &'static str,
    pub(crate) fields: Vec<FieldDef>,
    /// (relationship name, child object, field on the child that points here)
    pub(crate) children: &'static [(&'static str, &'static str, &'static str)],
}

impl ObjectDef {
    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|field| field.name.eq_ignore_ascii_case(name))
    }
}

pub(crate) fn schema() -> Vec<ObjectDef> {
    vec![
        ObjectDef {
            name: "Account",
            key_prefix: "001",
            fields: vec![
                field("Id", "id"),
                required("Name", "string"),
                picklist("Industry", &["Energy", "Technology", "Banking"]),
                field("AnnualRevenue", "currency"),
                FieldDef {
                    external_id: true,
                    ..field("AccountNumber__c", "string")
                },
                reference("OwnerId", &["User"]),
                field("CreatedDate", "datetime"),
            ],
            children: &[
                ("Contacts", "Contact", "AccountId"),
                ("Opportunities", "Opportunity", "AccountId"),
            ],
        },
        ObjectDef {
            name: "Contact",
            key_prefix: "003",
            fields: vec![
                field("Id", "id"),
                field("FirstName", "string"),
                required("LastName", "string"),
                field("Email", "email"),
                field("Phone", "phone"),
                reference("AccountId", &["Account"]),
            ],
            children: &[],
        },
        ObjectDef {
            name: "Opportunity",
            key_prefix: "006",
            fields: vec![
                field("Id", "id"),
                required("Name", "string"),
                picklist("StageName", &["Prospecting", "Closed Won", "Closed Lost"]),
                field("Amount", "currency"),
                reference("AccountId", &["Account"]),
            ],
            children: &[],
        },
        ObjectDef {
            name: "User",
            key_prefix: "005",
            fields: vec![
                field("Id", "id"),
                field("Name", "string"),
                field("Email", "email"),
            ],
            children: &[],
        },
    ]
}

/// describeGlobal's answer.
pub(crate) fn describe_global(schema: &[ObjectDef], version: &str) -> Value {
    let sobjects: Vec<Value> = schema
        .iter()
        .map(|object| {
            let name = object.name;
            let writable = name != "User";
            json!({
                "name": name, "label": name, "labelPlural": format!("{name}s"), "keyPrefix": object.key_prefix,
                "custom": false, "createable": writable, "updateable": writable, "deletable": writable,
                "queryable": true, "retrieveable": true, "searchable": true,
                "urls": {
                    "sobject": format!("/services/data/v{version}/sobjects/{name}"),
                    "describe": format!("/services/data/v{version}/sobjects/{name}/describe"),
                    "rowTemplate": format!("/services/data/v{version}/sobjects/{name}/{{ID}}"),
                },
            })
        })
        .collect();
    json!({ "encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects })
}

/// One object's describe.
pub(crate) fn describe(object: &ObjectDef) -> Value {
    let fields: Vec<Value> = object
        .fields
        .iter()
        .map(|field| {
            let length = if matches!(field.kind, "string" | "email" | "phone" | "picklist") { 255 } else if field.kind == "id" || field.kind == "reference" { 18 } else { 0 };
            let relationship = (field.kind == "reference").then(|| field.name.trim_end_matches("Id").to_owned());
            json!({
                "name": field.name, "type": field.kind, "label": field.name, "length": length,
                "nillable": !field.required && field.name != "Id", "createable": field.name != "Id",
                "updateable": field.name != "Id", "unique": field.external_id, "externalId": field.external_id,
                "idLookup": field.name == "Id" || field.external_id, "custom": field.name.ends_with("__c"),
                "calculated": false, "defaultedOnCreate": field.name == "Id", "filterable": true, "sortable": true,
                "picklistValues": field.picklist.iter().map(|value| json!({"value": value, "label": value, "active": true, "defaultValue": false})).collect::<Vec<_>>(),
                "referenceTo": field.reference_to, "relationshipName": relationship,
            })
        })
        .collect();
    let children: Vec<Value> = object
        .children
        .iter()
        .map(|(relationship, child, field)| json!({"relationshipName": relationship, "childSObject": child, "field": field}))
        .collect();
    json!({
        "name": object.name, "label": object.name, "labelPlural": format!("{}s", object.name),
        "keyPrefix": object.key_prefix, "custom": false, "createable": true, "updateable": true,
        "deletable": true, "queryable": true, "fields": fields, "childRelationships": children,
        "recordTypeInfos": [], "urls": {},
    })
}

/// The records of every object, in insertion order.
#[derive(Default)]
pub(crate) struct Records {
    by_object: BTreeMap<String, Vec<Map<String, Value>>>,
    next_id: u64,
}

impl Records {
    pub(crate) fn new_id(&mut self, object: &ObjectDef) -> String {
        self.next_id += 1;
        format!("{}{:012}AAA", object.key_prefix, self.next_id)
    }

    pub(crate) fn all(&self, object: &str) -> &[Map<String, Value>] {
        self.by_object.get(object).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn all_mut(&mut self, object: &str) -> &mut Vec<Map<String, Value>> {
        self.by_object.entry(object.to_owned()).or_default()
    }

    pub(crate) fn find(&self, id: &str) -> Option<(&str, &Map<String, Value>)> {
        self.by_object.iter().find_map(|(object, records)| {
            records
                .iter()
                .find(|record| record.get("Id").and_then(Value::as_str) == Some(id))
                .map(|record| (object.as_str(), record))
        })
    }

    pub(crate) fn find_mut(&mut self, object: &str, id: &str) -> Option<&mut Map<String, Value>> {
        self.by_object
            .get_mut(object)?
            .iter_mut()
            .find(|record| record.get("Id").and_then(Value::as_str) == Some(id))
    }

    pub(crate) fn remove(&mut self, object: &str, id: &str) -> bool {
        let Some(records) = self.by_object.get_mut(object) else {
            return false;
        };
        let before = records.len();
        records.retain(|record| record.get("Id").and_then(Value::as_str) != Some(id));
        records.len() < before
    }
}

/// A REST error body.
pub(crate) fn error(code: &str, message: &str, fields: &[&str]) -> Value {
    if fields.is_empty() {
        json!([{ "message": message, "errorCode": code }])
    } else {
        json!([{ "message": message, "errorCode": code, "fields": fields }])
    }
}

/// Checks a record's fields against the object: unknown fields and, on create, missing required ones.
pub(crate) fn validate(object: &ObjectDef, record: &Map<String, Value>, creating: bool) -> Result<(), Value> {
    for name in record.keys() {
        if name == "attributes" {
            continue;
        }
        if object.field(name).is_none() {
            return Err(error(
                "INVALID_FIELD",
                &format!("No such column '{name}' on sobject of type {}", object.name),
                &[],
            ));
        }
    }
    if creating {
        let missing: Vec<&str> = object
            .fields
            .iter()
            .filter(|field| field.required && record.get(field.name).is_none_or(Value::is_null))
            .map(|field| field.name)
            .collect();
        if !missing.is_empty() {
            return Err(error(
                "REQUIRED_FIELD_MISSING",
                &format!("Required fields are missing: [{}]", missing.join(", ")),
                &missing,
            ));
        }
    }
    Ok(())
}
