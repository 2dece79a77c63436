//! Operations: what a connector offers ([`OperationSpec`]), what a caller asks for ([`OperationRequest`]),
//! the access a request needs ([`Access`]), and a request resolved and ready to run ([`Plan`]).
//!
//! A call goes through two steps so that nothing reaches the data source unchecked:
//! [`Connector::plan`](crate::Connector::plan) resolves the request into the [`Access`] it needs (its class
//! and every object it would touch, found by parsing, not by trusting the caller), a host checks that access
//! against a policy, and only then [`Connector::execute`](crate::Connector::execute) runs the plan.

use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, FieldError, Result};

/// Whether an operation only reads or may change data. Policies and grants allow classes, not operation
/// names, so a new read operation is covered by an existing read grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessClass {
    /// Reads data or metadata and changes nothing.
    Read,
    /// Creates, changes or deletes data.
    Write,
}

impl AccessClass {
    /// The lowercase name used in configs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessClass::Read => "read",
            AccessClass::Write => "write",
        }
    }
}

impl fmt::Display for AccessClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One operation a connector offers. Agent tools and console forms are generated from it, so the
/// description must tell a model when to use it and the parameter schema must be exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationSpec {
    /// The operation's name, unique within its connector (`query`, `get`, `create_record`).
    pub name: String,
    /// What it does and when to use it, for people and models.
    pub description: String,
    /// Read or write.
    pub access: AccessClass,
    /// A JSON Schema (draft 2020-12) object for the parameters.
    pub parameters: Value,
    /// Whether it may delete or overwrite data (MCP `destructiveHint`).
    #[serde(default)]
    pub destructive: bool,
    /// Whether repeating it with the same parameters has no further effect (MCP `idempotentHint`).
    #[serde(default)]
    pub idempotent: bool,
}

impl OperationSpec {
    /// A read operation whose parameters are the type `P`; the schema is generated from `P`, so it cannot
    /// drift from what [`parse_params`] accepts.
    pub fn read<P: JsonSchema>(name: impl Into<String>, description: impl Into<String>) -> Self {
        OperationSpec {
            name: name.into(),
            description: description.into(),
            access: AccessClass::Read,
            parameters: parameters_schema::<P>(),
            destructive: false,
            idempotent: true,
        }
    }

    /// A write operation whose parameters are the type `P`; neither destructive nor idempotent unless
    /// marked.
    pub fn write<P: JsonSchema>(name: impl Into<String>, description: impl Into<String>) -> Self {
        OperationSpec {
            name: name.into(),
            description: description.into(),
            access: AccessClass::Write,
            parameters: parameters_schema::<P>(),
            destructive: false,
            idempotent: false,
        }
    }

    /// Marks the operation as one that may delete or overwrite data.
    #[must_use]
    pub fn destructive(mut self) -> Self {
        self.destructive = true;
        self
    }

    /// Marks the operation as safe to repeat.
    #[must_use]
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
}

/// The JSON Schema of a parameter type, with sub-schemas inlined: tool consumers (models, MCP clients)
/// handle self-contained schemas better than `$ref`s.
pub fn parameters_schema<P: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| settings.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<P>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("title");
        object
            .entry("type")
            .or_insert_with(|| Value::String("object".into()));
    }
    schema
}

/// Parses an operation's parameters into their typed form.
///
/// Errors are [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) and name the parameter that was
/// wrong, so an agent can correct its call.
pub fn parse_params<P: DeserializeOwned>(params: &Value) -> Result<P> {
    let params = if params.is_null() {
        Value::Object(Default::default())
    } else {
        params.clone()
    };
    serde_path_to_error::deserialize(params).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." {
            "parameters".to_owned()
        } else {
            path
        };
        let message = error.inner().to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        Error::invalid_input(format!("invalid parameter {field}: {message}"))
            .with_fields(vec![FieldError::new(field, message)])
    })
}

/// A call: an operation name and its parameters, as an agent or host sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRequest {
    /// The operation's name.
    pub operation: String,
    /// The parameters, a JSON object matching the operation's schema.
    #[serde(default)]
    pub params: Value,
    /// How much the call may return; connectors stop reading there (set by the host, not the caller).
    #[serde(default, skip_serializing_if = "crate::Budget::is_unbounded")]
    pub budget: crate::Budget,
}

impl OperationRequest {
    /// A request for `operation` with `params`, with no budget beyond the connector's own limits.
    pub fn new(operation: impl Into<String>, params: Value) -> Self {
        OperationRequest {
            operation: operation.into(),
            params,
            budget: crate::Budget::unbounded(),
        }
    }

    /// The request, limited to `budget`.
    #[must_use]
    pub fn with_budget(mut self, budget: crate::Budget) -> Self {
        self.budget = budget;
        self
    }
}

/// The access a request needs: its class and every object it would touch, by the names the catalog uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Read or write.
    pub class: AccessClass,
    /// Every object touched, deduplicated and sorted.
    pub objects: BTreeSet<String>,
}

impl Access {
    /// Access of `class` to `objects`.
    pub fn new<S: Into<String>>(class: AccessClass, objects: impl IntoIterator<Item = S>) -> Self {
        Access {
            class,
            objects: objects.into_iter().map(Into::into).collect(),
        }
    }

    /// Read access to `objects`.
    pub fn read<S: Into<String>>(objects: impl IntoIterator<Item = S>) -> Self {
        Access::new(AccessClass::Read, objects)
    }

    /// Write access to `objects`.
    pub fn write<S: Into<String>>(objects: impl IntoIterator<Item = S>) -> Self {
        Access::new(AccessClass::Write, objects)
    }
}

/// A request resolved by its connector: the access it needs, plus whatever the connector prepared while
/// resolving it (a parsed statement, a normalized key), so execution runs exactly what was authorized and
/// does not parse twice.
pub struct Plan {
    request: OperationRequest,
    access: Access,
    prepared: Option<Box<dyn Any + Send + Sync>>,
}

impl Plan {
    /// A plan with nothing prepared.
    pub fn new(request: OperationRequest, access: Access) -> Self {
        Plan {
            request,
            access,
            prepared: None,
        }
    }

    /// Attaches the connector's prepared form of the request.
    #[must_use]
    pub fn with_prepared<T: Any + Send + Sync>(mut self, prepared: T) -> Self {
        self.prepared = Some(Box::new(prepared));
        self
    }

    /// The original request.
    pub fn request(&self) -> &OperationRequest {
        &self.request
    }

    /// The access to check before execution.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Takes the prepared form, if it has type `T`.
    ///
    /// Returns an internal error when the plan holds something else: that means a plan from one connector
    /// was handed to another.
    pub fn take_prepared<T: Any>(&mut self) -> Result<T> {
        match self
            .prepared
            .take()
            .map(|prepared| prepared as Box<dyn Any>)
            .map(Box::<dyn Any>::downcast::<T>)
        {
            Some(Ok(prepared)) => Ok(*prepared),
            _ => Err(Error::internal(format!(
                "the plan for `{}` was not prepared by this connector",
                self.request.operation
            ))),
        }
    }
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parameters may carry row values (PII); a plan's debug form shows what it touches, not the data.
        f.debug_struct("Plan")
            .field("operation", &self.request.operation)
            .field("access", &self.access)
            .field("prepared", &self.prepared.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Parameters of a query, for the tests.
    #[derive(Debug, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct QueryParams {
        /// One SELECT statement.
        sql: String,
        /// At most this many rows.
        #[serde(default)]
        limit: Option<u32>,
        #[serde(default)]
        args: Vec<Arg>,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Arg {
        value: String,
    }

    #[test]
    fn spec_schema_comes_from_the_parameter_type() {
        let spec = OperationSpec::read::<QueryParams>("query", "Run one SELECT.");
        assert_eq!(spec.access, AccessClass::Read);
        assert!(spec.idempotent && !spec.destructive);
        let schema = &spec.parameters;
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["sql"]));
        assert_eq!(
            schema["properties"]["sql"]["description"],
            "One SELECT statement."
        );
        assert_eq!(schema["additionalProperties"], false);
        assert!(
            !schema.to_string().contains("$ref"),
            "sub-schemas are inlined: {schema}"
        );
        let delete = OperationSpec::write::<QueryParams>("delete", "Delete rows.").destructive();
        assert!(delete.destructive && !delete.idempotent && delete.access == AccessClass::Write);
    }

    #[test]
    fn parse_params_names_the_bad_parameter() {
        let params: QueryParams = parse_params(&json!({"sql": "select 1", "limit": 5})).unwrap();
        assert_eq!(params.limit, Some(5));
        let error = parse_params::<QueryParams>(&json!({"sql": "x", "limit": -1})).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidInput);
        assert_eq!(error.fields()[0].field, "limit");
        let error = parse_params::<QueryParams>(&json!({"sql": "x", "args": [{"value": 3}]})).unwrap_err();
        assert_eq!(error.fields()[0].field, "args[0].value");
        let error = parse_params::<QueryParams>(&Value::Null).unwrap_err();
        assert!(error.message().contains("missing field `sql`"), "{error}");
        let error = parse_params::<QueryParams>(&json!({"sql": "x", "sqll": 1})).unwrap_err();
        assert!(error.message().contains("unknown field `sqll`"), "{error}");
    }

    #[test]
    fn access_deduplicates_and_sorts_objects() {
        let access = Access::read(["b", "a", "b"]);
        assert_eq!(access.objects.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            serde_json::to_value(&access).unwrap(),
            json!({"class": "read", "objects": ["a", "b"]})
        );
    }

    #[test]
    fn plan_hands_back_only_its_own_prepared_type() {
        let request = OperationRequest::new("query", json!({"sql": "select 1", "secret_row": "x"}));
        let mut plan = Plan::new(request.clone(), Access::read(["t"])).with_prepared(42_u32);
        let shown = format!("{plan:?}");
        assert!(!shown.contains("secret_row"), "{shown}");
        assert_eq!(plan.take_prepared::<u32>().unwrap(), 42);
        assert!(plan.take_prepared::<u32>().is_err(), "taken once");
        let mut plan = Plan::new(request, Access::read(["t"])).with_prepared("text");
        assert_eq!(
            plan.take_prepared::<u32>().unwrap_err().kind(),
            crate::ErrorKind::Internal
        );
    }
}
