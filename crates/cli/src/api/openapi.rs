//! The OpenAPI 3.1 document of the admin API, written out here rather than derived: the routes are few,
//! and a document in one place is easy to review against `api::app`.

use axum::Json;
use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn operation(summary: &str, body: Option<&str>, ok: &str) -> Value {
    let mut op = json!({
        "summary": summary,
        "security": [{ "bearer": [] }, { "console": [] }],
        "responses": {
            "200": { "description": ok, "content": { "application/json": {} } },
            "401": error_response("missing or invalid token"),
            "403": error_response("an agent token, or access refused"),
            "404": error_response("not found in this organization"),
            "422": error_response("invalid input; `fields` says which"),
        }
    });
    if let Some(body) = body {
        op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } } });
    }
    op
}

/// The document.
pub fn spec() -> Value {
    let id = json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } });
    let connector =
        json!({ "name": "connector", "in": "path", "required": true, "schema": { "type": "string" } });
    let with = |mut op: Value, parameters: Vec<Value>| {
        op["parameters"] = Value::Array(parameters);
        op
    };
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Tributary admin API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Connectors, agents, grants, connection tests and audit of one organization (the admin token's)." },
        "servers": [{ "url": "/api/v1" }],
        "paths": {
            "/connector-types": { "get": operation("Connector types with their config forms (ConnectorSpec and JSON Schema)", None, "the types") },
            "/connectors": {
                "get": operation("List the organization's connectors (secrets shown as set or unset)", None, "the connectors"),
                "post": operation("Create a connector", Some("NewConnector"), "the connector"),
            },
            "/connectors/test": { "post": operation("Test an unsaved config", Some("TestConfig"), "the check report") },
            "/connectors/{id}": {
                "get": with(operation("One connector", None, "the connector"), vec![id.clone()]),
                "patch": with(operation("Change a connector; secrets sent as {\"set\": true} keep their value", Some("ConnectorUpdate"), "the connector"), vec![id.clone()]),
                "delete": with(operation("Delete a connector and its grants", None, "deleted (204)"), vec![id.clone()]),
            },
            "/connectors/{id}/test": { "post": with(operation("Test a connector now and record the result", None, "the check report"), vec![id.clone()]) },
            "/connectors/{id}/schema": { "get": with(operation("Discover the connector's objects", None, "the catalog"), vec![id.clone()]) },
            "/agents": {
                "get": operation("List agents", None, "the agents"),
                "post": operation("Create an agent", Some("NewAgent"), "the agent"),
            },
            "/agents/{id}": {
                "get": with(operation("One agent with its grants", None, "the agent"), vec![id.clone()]),
                "delete": with(operation("Delete an agent and its grants", None, "deleted (204)"), vec![id.clone()]),
            },
            "/agents/{id}/tools": { "get": with(operation("The agent's tools, as MCP lists them", None, "the tools"), vec![id.clone()]) },
            "/agents/{id}/tokens": { "post": with(operation("Issue a token for the agent (for /mcp); shown once. Optional body: {\"name\", \"expires_at\" (RFC 3339)}", None, "the token"), vec![id.clone()]) },
            "/tokens": { "get": operation("The organization's tokens: id, kind, agent, name, created_at, last_used_at, expires_at (never the token)", None, "the tokens") },
            "/tokens/{id}": { "delete": with(operation("Revoke a token; console sessions opened with it end", None, "revoked"), vec![id.clone()]) },
            "/agents/{id}/grants": { "get": with(operation("The agent's grants", None, "the grants"), vec![id.clone()]) },
            "/agents/{id}/grants/{connector}": {
                "put": with(operation("Grant operations on a connector", Some("Grant"), "the grant"), vec![id.clone(), connector.clone()]),
                "delete": with(operation("Revoke a grant", None, "revoked (204)"), vec![id, connector]),
            },
            "/audit": { "get": with(operation("Audit records, newest first", None, "the records"), vec![
                json!({"name": "connector", "in": "query", "schema": {"type": "string"}}),
                json!({"name": "agent", "in": "query", "schema": {"type": "string"}}),
                json!({"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}}),
                json!({"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}}),
                json!({"name": "outcome", "in": "query", "schema": {"type": "string", "enum": ["ok", "denied", "failed"]}}),
                json!({"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}}),
                json!({"name": "offset", "in": "query", "schema": {"type": "integer"}}),
            ]) },
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An admin token (`trb_…`), scoped to one organization." },
                "console": { "type": "apiKey", "in": "cookie", "name": "tributary_session",
                    "description": "The web console's session cookie; accepted only with the page's CSRF token in the `x-csrf-token` header." }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object",
                    "required": ["code", "message", "hint"],
                    "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "hint": { "type": "string" },
                                    "retryable": { "type": "boolean" }, "fields": { "type": "array" } } } } },
                "NewConnector": { "type": "object", "required": ["name", "connector_type", "config"],
                    "properties": { "name": { "type": "string" }, "connector_type": { "type": "string" }, "config": { "type": "object" },
                                    "governance": { "$ref": "#/components/schemas/Governance" } } },
                "ConnectorUpdate": { "type": "object", "properties": { "name": { "type": "string" }, "config": { "type": "object" },
                    "governance": { "$ref": "#/components/schemas/Governance" }, "status": { "enum": ["connected", "error", "disabled"] } } },
                "Governance": tributary_registry::governance::schema(),
                "TestConfig": { "type": "object", "required": ["connector_type", "config"],
                    "properties": { "connector_type": { "type": "string" }, "config": { "type": "object" } } },
                "NewAgent": { "type": "object", "required": ["id"], "properties": { "id": { "type": "string" }, "name": { "type": "string" } } },
                "Grant": { "type": "object", "required": ["operations"], "properties": { "operations": { "type": "array", "items": { "enum": ["read", "write"] } } } },
            }
        }
    })
}

/// `GET /api/v1/openapi.json` (no token needed).
pub async fn document() -> Json<Value> {
    Json(spec())
}
