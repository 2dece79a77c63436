//! The REST admin API over real HTTP: every route, authentication, organization isolation, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use std::process::Command;

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
    // The governance schema is the registry's one description of each setting, defaults and help included.
    let governance = &openapi["components"]["schemas"]["Governance"]["properties"];
    for setting in tributary_registry::governance::SETTINGS {
        assert_eq!(
            governance[setting.name]["default"],
            setting.default_value(),
            "{}",
            setting.name
        );
        assert_eq!(
            governance[setting.name]["description"], setting.help,
            "{}",
            setting.name
        );
    }

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
        .call_tool("demo", "analyst", "copy_query", json!({"sql": "SELECT 1"}))
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

    // Names have length limits (the store, the console and the audit show them).
    for (path, body, field) in [
        (
            "/agents",
            json!({"id": "long-name", "name": "n".repeat(101)}),
            "name",
        ),
        ("/agents", json!({"id": "i".repeat(65)}), "id"),
        (
            "/connectors",
            json!({"name": "n".repeat(101), "connector_type": "sqlite", "config": {"path": ":memory:"}}),
            "name",
        ),
    ] {
        let (status, answer) = api.call(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert_eq!(answer["error"]["fields"][0]["field"], field, "{answer}");
    }
    let huge =
        json!({"name": "x", "connector_type": "sqlite", "config": {"path": "x".repeat(2 * 1024 * 1024)}});
    let (status, answer) = api.call(reqwest::Method::POST, "/connectors", Some(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
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

/// Every body the API sent back in a test, to look for what must never leave the server.
#[derive(Default)]
struct Transcript(std::sync::Mutex<Vec<String>>);

impl Transcript {
    async fn call(
        &self,
        api: &Api,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, value) = api.call(method, path, body).await;
        self.0.lock().unwrap().push(value.to_string());
        (status, value)
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

fn refused_field(status: StatusCode, body: &Value, field: &str, needle: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_config", "{body}");
    let fields = body["error"]["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == field && f["message"].as_str().unwrap().contains(needle)),
        "expected `{field}` refused with `{needle}`: {body}"
    );
}

/// The secrets and rows an attacker was after: the master key (as stored, and its bytes in hex), every
/// sealed config and token hash in the store.
fn server_secrets(data: &std::path::Path) -> Vec<String> {
    use base64::Engine as _;
    let key = std::fs::read_to_string(data.join("master.key")).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .unwrap();
    let mut secrets = vec![key.trim().to_owned(), hex(&raw)];
    let store = rusqlite::Connection::open_with_flags(
        data.join("tributary.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut rows = store.prepare("SELECT body FROM connectors").unwrap();
    for body in rows.query_map([], |row| row.get::<_, String>(0)).unwrap() {
        let body: Value = serde_json::from_str(&body.unwrap()).unwrap();
        secrets.push(body["config"]["ciphertext"].as_str().unwrap().to_owned());
    }
    let mut hashes = store.prepare("SELECT hash FROM tokens").unwrap();
    for hash in hashes.query_map([], |row| row.get::<_, String>(0)).unwrap() {
        secrets.push(hash.unwrap());
    }
    assert!(
        secrets.len() >= 5,
        "the key, two demo configs and two tokens: {}",
        secrets.len()
    );
    secrets
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test]
async fn an_organization_admin_cannot_reach_the_servers_files_through_a_connector() {
    let s = served().await;
    let api = Api {
        http: reqwest::Client::new(),
        base: s.url.clone(),
        token: s.admin.clone(),
    };
    let data = s.dir.path().join("data");
    let seen = Transcript::default();
    let post = reqwest::Method::POST;
    let local = |root: &std::path::Path| json!({"provider": "local", "root": root.display().to_string(), "bucket": "x"});
    // The reported attack: a local folder rooted at the data folder, granted to the agent, then
    // `fs_get master.key`; then /etc for /etc/shadow. Both are refused at save and at test.
    for (root, needle) in [
        (data.clone(), "outside the folders"),
        ("/etc".into(), "outside the folders"),
    ] {
        for path in ["/connectors", "/connectors/test"] {
            let body = if path == "/connectors" {
                json!({"name": "fs", "connector_type": "s3", "config": local(&root)})
            } else {
                json!({"connector_type": "s3", "config": local(&root)})
            };
            let (status, answer) = seen.call(&api, post.clone(), path, Some(body)).await;
            if path == "/connectors" {
                refused_field(status, &answer, "root", needle);
            } else {
                assert_eq!(status, StatusCode::OK, "{answer}");
                assert_eq!(answer["status"], "error", "{answer}");
                assert!(
                    answer["error"]["fields"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains(needle),
                    "{answer}"
                );
            }
        }
    }
    // SQLite on the store itself, to read every organization's rows and insert a token: refused, read-only or
    // not, whether named directly, through `..`, or through a link in a folder the tenant may use.
    for (path, read_only) in [
        (data.join("tributary.db"), false),
        (data.join("demo/../tributary.db"), true),
        (data.join("master.key"), true),
    ] {
        let (status, answer) = seen
            .call(
                &api,
                post.clone(),
                "/connectors",
                Some(json!({"name": "store", "connector_type": "sqlite",
                    "config": {"path": path.display().to_string(), "read_only": read_only}})),
            )
            .await;
        refused_field(status, &answer, "path", "outside the folders");
    }
    // The host's own cloud identity, and a token file on the host.
    let (status, answer) = seen
        .call(
            &api,
            post.clone(),
            "/connectors",
            Some(json!({"name": "cloud", "connector_type": "s3", "config": {"bucket": "b", "credentials": "ambient"}})),
        )
        .await;
    refused_field(status, &answer, "credentials", "own cloud identity");
    let (status, answer) = seen
        .call(
            &api,
            post.clone(),
            "/connectors",
            Some(json!({"name": "wi", "connector_type": "s3", "config": {"bucket": "b", "credentials": "web_identity",
                "role_arn": "arn:aws:iam::1:role/x", "web_identity_token_file": data.join("master.key").display().to_string()}})),
        )
        .await;
    refused_field(status, &answer, "credentials", "own cloud identity");
    // Nothing was created, the agent gained no tool, and nothing secret came back.
    let (_, connectors) = seen.call(&api, reqwest::Method::GET, "/connectors", None).await;
    let names: Vec<&str> = connectors
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["documents", "shop"], "{connectors}");
    let (_, tools) = seen
        .call(&api, reqwest::Method::GET, "/agents/demo-agent/tools", None)
        .await;
    assert!(
        tools
            .as_array()
            .unwrap()
            .iter()
            .all(|t| !t["name"].as_str().unwrap().starts_with("fs_"))
    );
    let transcript = seen.text();
    for secret in server_secrets(&data) {
        assert!(
            !transcript.contains(&secret),
            "a response carried the server's own data"
        );
    }
}

#[tokio::test]
async fn a_fifo_is_refused_at_once_even_where_files_are_allowed() {
    let s = served_with(|data| loopback_policy(vec![data.join("demo")])).await;
    let api = Api {
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap(),
        base: s.url.clone(),
        token: s.admin.clone(),
    };
    let fifo = s.dir.path().join("data/demo/pipe.db");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let config = json!({"path": fifo.display().to_string(), "read_only": false});
    let started = std::time::Instant::now();
    let mut tests = Vec::new();
    for _ in 0..20 {
        tests.push(api.call(
            reqwest::Method::POST,
            "/connectors/test",
            Some(json!({"connector_type": "sqlite", "config": config.clone()})),
        ));
    }
    for (status, report) in futures_util::future::join_all(tests).await {
        assert_eq!(status, StatusCode::OK);
        assert!(
            report["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("FIFO"),
            "{report}"
        );
    }
    let (status, answer) = api
        .call(
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"name": "pipe", "connector_type": "sqlite", "config": config})),
        )
        .await;
    refused_field(status, &answer, "path", "FIFO");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "nothing blocked on the FIFO"
    );
    // The store-backed routes still answer.
    assert_eq!(api.get("/connectors").await.0, StatusCode::OK);
}

/// AuthenticationCleartextPassword: what a hostile "PostgreSQL" answers a startup message with, to be sent
/// the password in clear.
const ASK_FOR_PASSWORD: [u8; 9] = [b'R', 0, 0, 0, 8, 0, 0, 0, 3];

#[tokio::test]
async fn a_stored_password_never_follows_a_changed_target() {
    let pg = tributary_testkit::postgres().await.unwrap();
    let database = pg.create_database().await.unwrap();
    let s = served_with(|_| loopback_policy(Vec::new())).await;
    let api = Api {
        http: reqwest::Client::new(),
        base: s.url.clone(),
        token: s.admin.clone(),
    };
    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"name": "pg", "connector_type": "postgresql", "config": {
                "host": pg.host(), "port": pg.port(), "database": database, "user": pg.user(),
                "password": pg.password(), "tls_mode": "disable"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, report) = api
        .call(reqwest::Method::POST, &format!("/connectors/{id}/test"), None)
        .await;
    assert_eq!(report["status"], "connected", "{report}");

    // Only the port changes, to a listener that asks for the password in clear.
    let trap =
        tributary_testkit::network::Recorder::on("127.0.0.1".parse().unwrap(), ASK_FOR_PASSWORD.to_vec())
            .await
            .unwrap();
    let (status, patched) = api
        .call(
            reqwest::Method::PATCH,
            &format!("/connectors/{id}"),
            Some(json!({"config": {"port": trap.port(), "password": {"set": true}}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["dropped_secrets"],
        json!(["password"]),
        "the response says so"
    );
    assert_eq!(patched["config"]["password"], json!({"set": false}));
    let (_, report) = api
        .call(reqwest::Method::POST, &format!("/connectors/{id}/test"), None)
        .await;
    assert_eq!(report["status"], "error", "{report}");
    assert!(trap.accepted() >= 1, "the test did reach the new target");
    let received = String::from_utf8_lossy(&trap.received()).into_owned();
    assert!(
        received.contains("user"),
        "the startup message arrived: {received:?}"
    );
    assert!(
        !received.contains(pg.password()),
        "the kept password went to the new target"
    );

    // Under the default policy the new target is not even contacted.
    let strict = served().await;
    let strict_api = Api {
        http: reqwest::Client::new(),
        base: strict.url.clone(),
        token: strict.admin.clone(),
    };
    let (status, created) = strict_api
        .call(
            reqwest::Method::POST,
            "/connectors",
            Some(json!({"name": "pg", "connector_type": "postgresql", "config": {
                "host": "db.example.com", "database": "shop", "user": "agent", "password": "s3cret-kept"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let watch = tributary_testkit::network::Recorder::start().await.unwrap();
    for host in [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "[::1]",
        "0.0.0.0",
        "::ffff:127.0.0.1",
    ] {
        let (status, answer) = strict_api
            .call(
                reqwest::Method::PATCH,
                &format!("/connectors/{id}"),
                Some(json!({"config": {"host": host, "port": watch.port()}})),
            )
            .await;
        refused_field(status, &answer, "host", "may not reach");
        let (status, report) = strict_api
            .call(
                reqwest::Method::POST,
                "/connectors/test",
                Some(
                    json!({"connector_type": "postgresql", "config": {"host": host, "port": watch.port(),
                    "database": "shop", "user": "agent", "password": "s3cret-kept", "tls_mode": "require"}}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report["error"]["kind"], "invalid_config", "{host}: {report}");
        assert!(!report.to_string().contains("s3cret-kept"));
    }
    assert_eq!(watch.accepted(), 0, "no refused target was ever connected to");
}

#[tokio::test]
async fn a_demo_made_before_origins_were_recorded_keeps_its_own_connectors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (host, fresh) = tributary_cli::demo::open(&data).await.unwrap();
    assert!(fresh);
    drop(host);
    // An older store: definitions without `origin`, which read as a tenant's.
    let store = rusqlite::Connection::open(data.join("tributary.db")).unwrap();
    store
        .execute("UPDATE connectors SET body = json_remove(body, '$.origin')", [])
        .unwrap();
    drop(store);
    let (host, fresh) = tributary_cli::demo::open(&data).await.unwrap();
    assert!(!fresh);
    for view in host.registry.connectors("demo").await.unwrap() {
        assert_eq!(view.origin, tributary_registry::Origin::Operator, "{}", view.name);
    }
    let result = host
        .registry
        .call_tool(
            "demo",
            "demo-agent",
            "shop_query",
            json!({"sql": "SELECT count(*) FROM orders"}),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&result.data).unwrap()["rows"],
        json!([[200]])
    );
}

/// The reported token attack over HTTP, and the token routes (`GET /api/v1/tokens`,
/// `DELETE /api/v1/tokens/{id}`, their fixed field names).
#[tokio::test]
async fn tokens_are_bound_to_their_agent_listed_and_revoked() {
    let s = served().await;
    let http = reqwest::Client::new();
    let api = |token: &str| Api {
        http: http.clone(),
        base: s.url.clone(),
        token: token.to_owned(),
    };
    let acme = api(&s.admin);
    let globex = api(&s
        .registry
        .issue_token(
            Principal::Admin {
                organization: "globex".into(),
            },
            "globex-admin",
        )
        .await
        .unwrap());
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let mcp_status = |token: String| {
        let (http, url, body) = (http.clone(), s.url.clone(), initialize.clone());
        async move {
            http.post(format!("{url}/mcp"))
                .header("accept", "application/json, text/event-stream")
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    // A's agent and its token, named and with an expiry.
    let (status, _) = acme
        .call(
            reqwest::Method::POST,
            "/agents",
            Some(json!({"id": "shared-bot"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, issued) = acme
        .call(
            reqwest::Method::POST,
            "/agents/shared-bot/tokens",
            Some(json!({"name": "laptop", "expires_at": "2099-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let old = issued["token"].as_str().unwrap().to_owned();
    assert_eq!(mcp_status(old.clone()).await, 200);

    let (status, listed) = acme.get("/tokens").await;
    assert_eq!(status, StatusCode::OK);
    let laptop = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "laptop")
        .unwrap()
        .clone();
    for field in [
        "id",
        "kind",
        "agent",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
    ] {
        assert!(laptop.get(field).is_some(), "`{field}` in {laptop}");
    }
    assert_eq!(
        (laptop["kind"].as_str(), laptop["agent"].as_str()),
        (Some("agent"), Some("shared-bot"))
    );
    assert!(
        laptop["last_used_at"].is_string(),
        "the MCP call used it: {laptop}"
    );
    assert_eq!(laptop["expires_at"], "2099-01-01T00:00:00Z");
    assert!(!listed.to_string().contains(&old), "lists never show a token");

    // B creates the same id: no conflict, nothing revealed.
    let (status, created) = globex
        .call(
            reqwest::Method::POST,
            "/agents",
            Some(json!({"id": "shared-bot"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["organization"], "globex");
    let (_, theirs) = globex.get("/tokens").await;
    assert!(
        theirs
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["agent"] != "shared-bot"),
        "B sees none of A's tokens: {theirs}"
    );

    // A deletes its agent: its token dies and does not come back with a namesake, in A or in B.
    let (status, _) = acme
        .call(reqwest::Method::DELETE, "/agents/shared-bot", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(mcp_status(old.clone()).await, 401);
    let (status, _) = acme
        .call(
            reqwest::Method::POST,
            "/agents",
            Some(json!({"id": "shared-bot"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        mcp_status(old.clone()).await,
        401,
        "re-creating the agent does not revive it"
    );

    // Revoking by id: another organization's id is not found; one's own stops at once.
    let (_, theirs) = globex.get("/tokens").await;
    let globex_id = theirs[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = acme
        .call(reqwest::Method::DELETE, &format!("/tokens/{globex_id}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, listed) = acme.get("/tokens").await;
    let own = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = acme
        .call(reqwest::Method::DELETE, &format!("/tokens/{own}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = acme.get("/tokens").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the revoked admin token no longer works"
    );
}

/// Slow headers, trickled bodies, too many connections and oversized bodies, as the security test found
/// them (slow clients stayed connected over 150 s).
#[tokio::test]
async fn slow_clients_oversized_bodies_and_connection_floods_are_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut options = tributary_cli::api::ServerOptions::default();
    options.connections.header_read_timeout = std::time::Duration::from_secs(1);
    options.connections.max_connections = 3;
    options.body_read_timeout = std::time::Duration::from_secs(1);
    let s = common::served_on(|_| tributary_core::TenantPolicy::default(), options).await;
    let address = s.url.trim_start_matches("http://").to_owned();
    let closed_within = |request: String, seconds: u64| {
        let address = address.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut seen = Vec::new();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(seconds),
                stream.read_to_end(&mut seen),
            )
            .await;
            (read.is_ok(), String::from_utf8_lossy(&seen).into_owned())
        }
    };
    // Headers never finished.
    let (closed, _) = closed_within("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".into(), 5).await;
    assert!(closed, "a slow-header connection is closed");
    // Bodies trickled to /mcp and to the API.
    for (path, token) in [("/mcp", &s.agent), ("/api/v1/agents", &s.admin)] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"jsonrpc\""
        );
        let (closed, reply) = closed_within(request, 5).await;
        assert!(closed, "a trickled body to {path} is cut off");
        assert!(!reply.starts_with("HTTP/1.1 2"), "{path}: {reply}");
    }

    // Oversized bodies are 413, on every route.
    let http = reqwest::Client::new();
    let big = "x".repeat(2 * 1024 * 1024);
    for path in ["/api/v1/agents", "/mcp"] {
        let response = http
            .post(format!("{}{path}", s.url))
            .bearer_auth(if path == "/mcp" { &s.agent } else { &s.admin })
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{path}");
    }

    // API and MCP answers are never cached.
    let response = http
        .get(format!("{}/api/v1/agents", s.url))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");

    // Connections beyond the limit wait; they are served when others close.
    let idle: Vec<tokio::net::TcpStream> =
        futures_util::future::join_all((0..3).map(|_| tokio::net::TcpStream::connect(address.clone())))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    let fresh = reqwest::Client::new();
    let waited = fresh
        .get(format!("{}/healthz", s.url))
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await;
    assert!(waited.is_err(), "a fourth connection waits while three are open");
    drop(idle);
    let served = reqwest::Client::new()
        .get(format!("{}/healthz", s.url))
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
}
