//! The operations: their parameters (from which the agent-facing schemas are generated), their specs, and
//! the plan each request resolves to.
//!
//! - `query`: `soql_query`, following `nextRecordsUrl` up to the row limit;
//! - `records`: `get_record`, `create_record`, `update_record`, `delete_record`, `upsert_record`;
//! - `describe_object` and `list_objects` are answered from the describe cache (`schema`).

pub(crate) mod query;
pub(crate) mod records;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use tributary_core::OperationSpec;

/// The most records one write call accepts; they go to Salesforce 200 at a time.
pub const MAX_WRITE_RECORDS: usize = 2000;

/// Parameters of `soql_query`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoqlQueryParams {
    /// One SOQL query (`SELECT Id, Name FROM Account WHERE Industry = 'Energy' LIMIT 50`). Put values in
    /// quotes with `\'` and `\\` escaped.
    pub soql: String,
    /// At most this many records (the connector's default and maximum apply).
    #[serde(default)]
    pub max_rows: Option<u64>,
}

/// Parameters of `get_record`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRecordParams {
    /// The object (`Account`).
    pub object: String,
    /// The record's 15- or 18-character id.
    pub id: String,
    /// Only these fields; all readable fields when omitted.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

/// Parameters of `describe_object`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeObjectParams {
    /// The object (`Account`, `Invoice__c`).
    pub object: String,
}

/// Parameters of `list_objects` (none).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListObjectsParams {}

/// Parameters of `create_record`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateParams {
    /// The object (`Contact`).
    pub object: String,
    /// The records, as field → value (`{"LastName": "Lovelace"}`); up to 2000, sent 200 at a time.
    pub records: Vec<Map<String, Value>>,
}

/// Parameters of `update_record`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateParams {
    /// The object.
    pub object: String,
    /// The changes, each with the record's `Id` and the fields to set.
    pub records: Vec<Map<String, Value>>,
}

/// Parameters of `delete_record`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// The object the records belong to.
    pub object: String,
    /// The ids to delete.
    pub ids: Vec<String>,
}

/// Parameters of `upsert_record`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertParams {
    /// The object.
    pub object: String,
    /// The external id field that identifies records (`Customer_Number__c`).
    pub external_id_field: String,
    /// The records, each with a value for the external id field.
    pub records: Vec<Map<String, Value>>,
}

/// The operations, described for agents.
pub(crate) fn specs() -> Vec<OperationSpec> {
    vec![
        OperationSpec::read::<SoqlQueryParams>(
            "soql_query",
            "Run one SOQL query and return its records (following Salesforce's pages up to the row limit; the result says when it stopped early). Relationship fields (Owner.Name) and subqueries ((SELECT LastName FROM Contacts)) work as in Salesforce.",
        ),
        OperationSpec::read::<GetRecordParams>(
            "get_record",
            "Get one record by its id, optionally only some fields.",
        ),
        OperationSpec::read::<DescribeObjectParams>(
            "describe_object",
            "Describe an object's fields: type, length, whether they may be null, picklist values, and references to other objects.",
        ),
        OperationSpec::read::<ListObjectsParams>(
            "list_objects",
            "List the org's objects this user can reach, with what each allows.",
        ),
        OperationSpec::write::<CreateParams>(
            "create_record",
            "Create records; returns each record's new id or its errors.",
        ),
        OperationSpec::write::<UpdateParams>(
            "update_record",
            "Update records by Id; returns each record's outcome.",
        )
        .idempotent(),
        OperationSpec::write::<DeleteParams>(
            "delete_record",
            "Delete records by id; returns each record's outcome.",
        )
        .destructive()
        .idempotent(),
        OperationSpec::write::<UpsertParams>(
            "upsert_record",
            "Create or update records matched by an external id field; says which were created.",
        )
        .idempotent(),
    ]
}

/// A request resolved: canonical object names, checked fields and ids.
#[derive(Debug)]
pub(crate) enum Prepared {
    Query {
        soql: String,
        limit: u64,
    },
    GetRecord {
        object: String,
        id: String,
        fields: Option<Vec<String>>,
    },
    Describe(String),
    ListObjects,
    Write(records::WriteRequest),
}
