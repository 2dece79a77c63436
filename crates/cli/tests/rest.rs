//! The REST admin API over real HTTP: every route, authentication, organization isolation, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{loopback_policy, served, served_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tributary_registry::Principal;

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}

#[tokio::test]
async fn every_route_for_an_admin_of_the_organization() {
    // Tenant connectors here use the demo's folder: the policy says so.
    let s = served_with(|data| loopback_policy(vec![data.join("demo")])).await;
    let api = Api {
        http: reqwest::Client::new(),
        base: s.url.clone(),
        token: s.admin.clone(),
    };
    let health = reqwest::get(format!("{}/healthz", s.url)).await.unwrap();
    assert_eq!(health.status(), 200);

    let (status, openapi) = api.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(openapi["paths"]["/connectors/{id}/test"]["post"].is_object());

    let (_, types) = api.get("/connector-types").await;
    let names: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["spec"]["connector_type"].as_str().unwrap())
        .collect();
    for expected in ["mysql", "postgresql", "s3", "salesforce", "sqlite"] {
        assert!(names.contains(&expected), "{names:?}");
    }

    let (_, connectors) = api.get("/connectors").await;
    let shop = connectors
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "shop")
        .unwrap()
        .clone();
    let id = shop["id"].as_str().unwrap().to_owned();
    let (status, one) = api.get(&format!("/connectors/{id}")).await;
    assert_eq!(
        (status, one["connector_type"].as_str()),
        (StatusCode::OK, Some("sqlite"))
    );
    let (status, report) = api
        .call(reqwest::Method::POST, &format!("/connectors/{id}/test"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(report["status"], "connected");
    let (_, schema) = api.get(&format!("/connectors/{id}/schema")).await;
    assert!(
        schema["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "main.customers")
    );

    let db = s.dir.path().join("data/demo/shop.db").display().to_string();
    let (status, tested) = api
        .call(
            reqwest::Method::POST,
            "/connectors/test",
            Some(json!({"connector_type": "sqlite", "config": {"path": db}})),
        )
        .await;
    assert_eq!(
        (status, tested["status"].as_str()),
        (StatusCode::OK, Some("connected"))
    );

    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/connectors",
            Some(
                json!({"name": "copy", "connector_type": "sqlite", "config": {"path": db, "max_rows": 500}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let copy = created["id"].as_str().unwrap().to_owned();
    let (status, patched) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/connectors/{copy}"),
            Some(json!({"config": {"max_rows": 600}, "status": "disabled"})),
        )
        .await;
    assert_eq!(
        (
            status,
            patched["config"]["max_rows"].as_i64(),
            patched["status"].as_str()
        ),
        (StatusCode::OK, Some(600), Some("disabled"))
    );

    let (status, agent) = api
        .call(
            reqwest::Method::POST,
            "/agents",
            Some(json!({"id": "analyst", "name": "Analyst"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agent}");
    let (status, _) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/connectors/{copy}"),
            Some(json!({"status": "connected"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, grant) = api
        .call(
            reqwest::Method::PUT,
            &format!("/agents/analyst/grants/{copy}"),
            Some(json!({"operations": ["read"]})),
        )
        .await;
    assert_eq!(status, 200, "{grant}");
    let (_, grants) = api.get("/agents/analyst/grants").await;
    assert_eq!(grants.as_array().unwrap().len(), 1);
    let (_, tools) = api.get("/agents/analyst/tools").await;
    assert!(
        tools
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "copy_query")
    );
    let (_, shown) = api.get("/agents/analyst").await;
    assert_eq!(shown["agent"]["name"], "Analyst");
    let (status, token) = api
        .call(reqwest::Method::POST, "/agents/analyst/tokens", None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(token["token"].as_str().unwrap().starts_with("trb_"));
    let (_, agents) = api.get("/agents").await;
    assert_eq!(agents.as_array().unwrap().len(), 2);

    s.registry
        .call_tool("analyst", "copy_query", json!({"sql": "SELECT 1"}))
        .await
        .unwrap();
    let (_, audit) = api.get(&format!("/audit?connector={copy}&limit=5")).await;
    assert_eq!(audit[0]["operation"], "query");
    let (_, page) = api.get("/audit?limit=1&offset=1").await;
    assert_eq!(page.as_array().unwrap().len(), 1);

    let (status, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/agents/analyst/grants/{copy}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.call(reqwest::Method::DELETE, "/agents/analyst", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api
        .call(reqwest::Method::DELETE, &format!("/connectors/{copy}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = api.get(&format!("/connectors/{copy}")).await;
    assert_eq!(
        (status, gone["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}

#[tokio::test]
async fn tokens_and_organizations_are_enforced() {
    let s = served().await;
    let http = reqwest::Client::new();
    let (_, connectors) = Api {
        http: http.clone(),
        base: s.url.clone(),
        token: s.admin.clone(),
    }
    .get("/connectors")
    .await;
    let shop = connectors[0]["id"].as_str().unwrap().to_owned();

    let anonymous = http
        .get(format!("{}/api/v1/connectors", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "authentication");
    for token in ["trb_forged", "not-a-token"] {
        let (status, _) = Api {
            http: http.clone(),
            base: s.url.clone(),
            token: token.into(),
        }
        .get("/connectors")
        .await;
        assert_eq!(status, 401);
    }
    let (status, body) = Api {
        http: http.clone(),
        base: s.url.clone(),
        token: s.agent.clone(),
    }
    .get("/connectors")
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("permission_denied"))
    );

    let other = s
        .registry
        .issue_token(
            Principal::Admin {
                organization: "globex".into(),
            },
            "t",
        )
        .await
        .unwrap();
    let globex = Api {
        http: http.clone(),
        base: s.url.clone(),
        token: other,
    };
    let (_, mine) = globex.get("/connectors").await;
    assert_eq!(mine, json!([]), "another organization sees nothing");
    for (method, path, body) in [
        (reqwest::Method::GET, format!("/connectors/{shop}"), None),
        (reqwest::Method::POST, format!("/connectors/{shop}/test"), None),
        (reqwest::Method::GET, format!("/connectors/{shop}/schema"), None),
        (
            reqwest::Method::PATCH,
            format!("/connectors/{shop}"),
            Some(json!({"status": "disabled"})),
        ),
        (reqwest::Method::DELETE, format!("/connectors/{shop}"), None),
        (reqwest::Method::GET, "/agents/demo-agent/tools".to_owned(), None),
        (
            reqwest::Method::POST,
            "/agents/demo-agent/tokens".to_owned(),
            None,
        ),
        (
            reqwest::Method::PUT,
            format!("/agents/demo-agent/grants/{shop}"),
            Some(json!({"operations": ["read"]})),
        ),
    ] {
        let (status, answer) = globex.call(method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
    }
    let (_, audit) = globex.get("/audit").await;
    assert_eq!(audit, json!([]));
    let (_, still) = Api {
        http,
        base: s.url.clone(),
        token: s.admin.clone(),
    }
    .get(&format!("/connectors/{shop}"))
    .await;
    assert_eq!(
        still["status"], "connected",
        "nothing was changed by the other organization"
    );
}

#[tokio::test]
async fn bad_input_gets_a_json_error_with_a_code() {
    let s = served().await;
    let api = Api {
        http: reqwest::Client::new(),
        base: s.url.clone(),
        token: s.admin.clone(),
    };
    let cases = [
        (
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"name": "x", "connector_type": "oracle", "config": {}})),
            "invalid_input",
        ),
        (
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"name": "x", "connector_type": "sqlite", "config": {}})),
            "invalid_config",
        ),
        (
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"nope": 1})),
            "invalid_input",
        ),
        (
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"name": "shop", "connector_type": "sqlite", "config": {"path": ":memory:"}})),
            "conflict",
        ),
        (
            reqwest::Method::POST,
            "/agents",
            Some(json!({"id": "has spaces"})),
            "invalid_input",
        ),
        (
            reqwest::Method::PUT,
            "/agents/demo-agent/grants/con_missing",
            Some(json!({"operations": ["read"]})),
            "not_found",
        ),
        (reqwest::Method::GET, "/nowhere", None, "not_found"),
    ];
    for (method, path, body, code) in cases {
        let (status, answer) = api.call(method.clone(), path, body).await;
        assert_eq!(
            answer["error"]["code"], code,
            "{method} {path}: {status} {answer}"
        );
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, invalid) = api
        .call(
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"name": "x", "connector_type": "sqlite", "config": {}})),
        )
        .await;
    assert_eq!(invalid["error"]["fields"][0]["field"], "path");
    let (status, _) = api.get("/audit?limit=many").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let huge =
        json!({"name": "x", "connector_type": "sqlite", "config": {"path": "x".repeat(2 * 1024 * 1024)}});
    let (status, answer) = api.call(reqwest::Method::POST, "/connectors", Some(huge)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["error"]["hint"].as_str().unwrap().contains("limited"));
}

#[tokio::test]
async fn a_config_the_connector_type_refuses_is_refused_at_save_time() {
    let s = served().await;
    let api = Api {
        http: reqwest::Client::new(),
        base: s.url.clone(),
        token: s.admin.clone(),
    };
    let (status, answer) = api
        .call(reqwest::Method::POST, "/connectors", Some(json!({"name": "x", "connector_type": "sqlite", "config": {"path": ":memory:", "max_rows": 10}})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["error"]["fields"][0]["field"], "default_rows");
}
