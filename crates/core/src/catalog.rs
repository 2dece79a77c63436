//! What a data source holds, as discovery reports it: objects (tables, views, buckets, prefixes, sObjects)
//! and their fields.
//!
//! The catalog is what agents read before they query and what the console's schema browser shows. Object
//! names here are the same names that access policies match and that operations report in their
//! [`Access`](crate::Access), so a name seen in the catalog can be pasted into a policy as is.

use serde::{Deserialize, Serialize};

/// A source-independent type, so agents and masking can reason about fields without knowing every
/// database's type names. The source's own name travels beside it as `native_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DataType {
    /// `true` or `false`.
    Boolean,
    /// A whole number of up to 64 bits.
    Integer,
    /// A binary floating-point number.
    Float,
    /// An exact decimal number.
    Decimal,
    /// Text.
    String,
    /// Binary data.
    Bytes,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// A date and time without a zone.
    Timestamp,
    /// A point in time (a date and time with a zone).
    TimestampTz,
    /// A length of time.
    Interval,
    /// A UUID.
    Uuid,
    /// A JSON document.
    Json,
    /// A list of values.
    Array,
    /// One of a fixed set of labels.
    Enum,
    /// A reference to another record (a Salesforce Id, an object key).
    Reference,
    /// Anything else; see the native type.
    Other,
}

/// What kind of thing an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObjectKind {
    /// A database table.
    Table,
    /// A database view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A foreign or external table.
    ForeignTable,
    /// An object-store bucket.
    Bucket,
    /// A folder-like key prefix in a bucket.
    Prefix,
    /// A Salesforce object type.
    SObject,
    /// Anything else.
    Other,
}

/// Everything discovery found, bounded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Catalog {
    /// The objects, sorted by name.
    pub objects: Vec<ObjectInfo>,
    /// Set when discovery stopped at a bound and more objects exist.
    #[serde(default)]
    pub truncated: bool,
}

impl Catalog {
    /// Looks an object up by its full name.
    pub fn object(&self, name: &str) -> Option<&ObjectInfo> {
        self.objects.iter().find(|object| object.name == name)
    }
}

/// One table, view, bucket, prefix or sObject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ObjectInfo {
    /// The full name that policies and operations use (`public.orders`, `bucket/reports/`, `Account`).
    pub name: String,
    /// The containing schema, database or bucket, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// What kind of object this is.
    pub kind: ObjectKind,
    /// The source's own description or comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The fields (columns), in the source's order. Empty when the source describes fields lazily.
    #[serde(default)]
    pub fields: Vec<FieldInfo>,
    /// The primary key's fields, in key order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// References to other objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// The source's estimate of how many rows or records the object holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_estimate: Option<u64>,
}

impl ObjectInfo {
    /// An object with no fields yet.
    pub fn new(name: impl Into<String>, kind: ObjectKind) -> Self {
        ObjectInfo {
            name: name.into(),
            namespace: None,
            kind,
            description: None,
            fields: Vec::new(),
            primary_key: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate: None,
        }
    }

    /// Looks a field up by name.
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|field| field.name == name)
    }
}

/// One column or record field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FieldInfo {
    /// The field's name, exactly as the source spells it.
    pub name: String,
    /// The normalized type.
    pub data_type: DataType,
    /// The source's own type name (`timestamptz`, `varchar(255)`, `picklist`).
    pub native_type: String,
    /// Whether the field may be null.
    pub nullable: bool,
    /// Whether the field is part of the primary key.
    #[serde(default)]
    pub primary_key: bool,
    /// The default expression, as the source reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The source's description or comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed values of an enum or picklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<String>,
}

impl FieldInfo {
    /// A nullable, non-key field.
    pub fn new(name: impl Into<String>, data_type: DataType, native_type: impl Into<String>) -> Self {
        FieldInfo {
            name: name.into(),
            data_type,
            native_type: native_type.into(),
            nullable: true,
            primary_key: false,
            default: None,
            description: None,
            allowed_values: Vec::new(),
        }
    }
}

/// A reference from some fields of one object to fields of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ForeignKey {
    /// The constraint's name, when the source names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The referencing fields.
    pub fields: Vec<String>,
    /// The full name of the referenced object.
    pub references: String,
    /// The referenced fields, in the same order.
    pub referenced_fields: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catalog_serializes_with_snake_case_kinds_and_skips_empty_parts() {
        let mut orders = ObjectInfo::new("public.orders", ObjectKind::Table);
        orders.namespace = Some("public".into());
        let mut id = FieldInfo::new("id", DataType::Integer, "int8");
        id.nullable = false;
        id.primary_key = true;
        orders.fields = vec![
            id,
            FieldInfo::new("placed_at", DataType::TimestampTz, "timestamptz"),
        ];
        orders.primary_key = vec!["id".into()];
        orders.foreign_keys = vec![ForeignKey {
            name: Some("orders_customer_fk".into()),
            fields: vec!["customer_id".into()],
            references: "public.customers".into(),
            referenced_fields: vec!["id".into()],
        }];
        let catalog = Catalog {
            objects: vec![orders],
            truncated: false,
        };
        let json = serde_json::to_value(&catalog).unwrap();
        assert_eq!(json["objects"][0]["kind"], "table");
        assert_eq!(json["objects"][0]["fields"][1]["data_type"], "timestamp_tz");
        assert_eq!(
            json["objects"][0]["fields"][0],
            json!({
                "name": "id", "data_type": "integer", "native_type": "int8", "nullable": false, "primary_key": true
            })
        );
        assert!(json["objects"][0].get("row_estimate").is_none());
        let back: Catalog = serde_json::from_value(json).unwrap();
        assert_eq!(back, catalog);
        assert!(back.object("public.orders").unwrap().field("placed_at").is_some());
        assert!(back.object("orders").is_none());
    }
}
