//! The binary end to end: the embedded default from an empty folder, a configuration file with real
//! PostgreSQL, MariaDB and S3 connectors, every shell command, key rotation, and configuration errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::bin;
use serde_json::{Value, json};

fn run(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (bool, String, String) {
    let output = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env("TRIBUTARY_DATA_DIR", dir.join("data"))
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_embedded_default_serves_a_demo_from_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("TRIBUTARY_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut admin, mut url, mut printed) = (String::new(), String::new(), Vec::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push(line.clone());
        if let Some(token) = line.split("admin token (organization demo): ").nth(1) {
            admin = token.to_owned();
        }
        if let Some(address) = line.strip_prefix("tributary: listening on ") {
            url = address.to_owned();
            break;
        }
    }
    let text = printed.join("\n");
    assert!(text.contains("created the demo in tributary-data"), "{text}");
    assert!(
        text.contains("master key in tributary-data/master.key (owner-only"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("tributary-data/master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Every file the server made (the store and its -wal/-shm, the demo's databases and documents)
        // is owner-only too, and so is every folder.
        let mut pending = vec![dir.path().join("tributary-data")];
        let mut files = 0;
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let entry = entry.unwrap();
                let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                if entry.file_type().unwrap().is_dir() {
                    assert_eq!(mode & 0o077, 0, "{} is {mode:o}", entry.path().display());
                    pending.push(entry.path());
                } else {
                    assert_eq!(mode, 0o600, "{} is {mode:o}", entry.path().display());
                    files += 1;
                }
            }
        }
        assert!(files >= 3, "the key, the store and the demo's files: {files}");
    }
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{url}/healthz")).send().await.unwrap().status(),
        200
    );
    let connectors: Value = http
        .get(format!("{url}/api/v1/connectors"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = connectors
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["documents", "shop"]);
    let tools: Value = http
        .get(format!("{url}/api/v1/agents/demo-agent/tools"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tools.as_array().unwrap().len(), 7);
    child.kill().unwrap();
    let _ = child.wait();

    // A second start reuses everything.
    let (ok, out, _) = run(
        dir.path(),
        &["connectors", "list"],
        &[("TRIBUTARY_DATA_DIR", "tributary-data")],
    );
    assert!(ok && out.contains("shop") && out.contains("documents"), "{out}");
}

#[tokio::test]
async fn a_configuration_with_real_servers_and_every_command() {
    let pg = tributary_testkit::postgres()
        .await
        .expect("PostgreSQL (see tributary-testkit)");
    let database = pg.create_database().await.unwrap();
    let admin = pg.connect(&database).await.unwrap();
    admin
        .batch_execute("CREATE TABLE customers (id int PRIMARY KEY, email text, plan text); INSERT INTO customers VALUES (1, 'ada@example.com', 'gold'), (2, 'bob@example.com', 'free');")
        .await
        .unwrap();
    let my = tributary_testkit::mysql()
        .await
        .expect("MariaDB (see tributary-testkit)");
    let my_db = my.create_database().await.unwrap();
    let mut conn = my.connect(Some(&my_db)).await.unwrap();
    mysql_async::prelude::Queryable::query_drop(&mut conn, "CREATE TABLE invoices (id INT PRIMARY KEY, total DECIMAL(10,2)); INSERT INTO invoices VALUES (1, 9.50), (2, 12.00)").await.unwrap();
    let s3 = tributary_testkit::s3().expect("the S3 test server");
    let bucket = s3.create_bucket().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let key = tributary_registry::MasterKey::generate().unwrap();
    tributary_cli::host::write_key_file(&dir.path().join("master.key"), &key).unwrap();
    let config = format!(
        r#"
[store]
url = "sqlite://tributary.db"
[security]
master_key_file = "master.key"
[[connectors]]
name = "crm"
organization = "acme"
type = "postgresql"
allowed_objects = ["public.customers"]
[connectors.config]
host = "{pg_host}"
port = {pg_port}
database = "{database}"
user = "{pg_user}"
password = "${{CRM_PASSWORD}}"
tls_mode = "disable"
[[connectors]]
name = "billing"
organization = "acme"
type = "mysql"
mask_pii = false
[connectors.config]
host = "{my_host}"
port = {my_port}
database = "{my_db}"
user = "{my_user}"
password = "${{BILLING_PASSWORD}}"
tls_mode = "disable"
[[connectors]]
name = "files"
organization = "acme"
type = "s3"
[connectors.config]
bucket = "{bucket}"
endpoint = "{endpoint}"
region = "us-east-1"
allow_http = true
access_key_id = "{access}"
secret_access_key = "${{FILES_SECRET}}"
[[agents]]
id = "support-bot"
organization = "acme"
grants = [{{ connector = "crm", operations = ["read"] }}, {{ connector = "billing", operations = ["read"] }}, {{ connector = "files", operations = ["read"] }}]
"#,
        pg_host = pg.host(),
        pg_port = pg.port(),
        pg_user = pg.user(),
        my_host = my.host(),
        my_port = my.port(),
        my_user = my.user(),
        endpoint = s3.endpoint(),
        access = s3.access_key(),
    );
    std::fs::write(dir.path().join("tributary.toml"), config).unwrap();
    let envs = [
        ("CRM_PASSWORD", pg.password()),
        ("BILLING_PASSWORD", my.password()),
        ("FILES_SECRET", s3.secret_key()),
    ];
    let cfg = ["--config", "tributary.toml"];
    let with =
        |args: &[&str]| -> Vec<String> { args.iter().chain(cfg.iter()).map(|a| (*a).to_owned()).collect() };
    let call = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(dir.path(), &refs, &envs)
    };

    let (ok, out, err) = call(with(&["connectors", "list"]));
    assert!(ok, "{err}");
    for name in ["crm", "billing", "files"] {
        assert!(out.contains(name), "{out}");
    }
    for name in ["crm", "billing", "files"] {
        let (ok, out, err) = call(with(&["connectors", "test", name]));
        assert!(ok && out.contains("connected in"), "{name}: {out} {err}");
    }
    let (ok, out, _) = call(with(&["connectors", "schema", "crm", "--json"]));
    let catalog: Value = serde_json::from_str(&out).unwrap();
    assert!(
        ok && catalog["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "public.customers")
    );
    let (ok, out, _) = call(with(&["connectors", "show", "acme/files"]));
    assert!(
        ok && out.contains("\"secret_access_key\": {") && !out.contains(s3.secret_key()),
        "{out}"
    );

    let (ok, out, _) = call(with(&["tools", "list", "--agent", "support-bot"]));
    assert!(
        ok && out.contains("crm_query") && out.contains("billing_query") && out.contains("files_get"),
        "{out}"
    );
    let (ok, out, err) = call(with(&[
        "tools",
        "call",
        "--agent",
        "support-bot",
        "crm_query",
        r#"{"sql": "SELECT id, email, plan FROM customers ORDER BY id"}"#,
    ]));
    assert!(
        ok && out.contains("<EMAIL>") && out.contains("gold") && out.contains("(masked: 2 email)"),
        "{out} {err}"
    );
    let (ok, out, _) = call(with(&[
        "tools",
        "call",
        "--agent",
        "support-bot",
        "billing_query",
        r#"{"sql": "SELECT total FROM invoices ORDER BY id"}"#,
        "--json",
    ]));
    let result: Value = serde_json::from_str(&out).unwrap();
    assert!(ok);
    assert_eq!(result["data"]["rows"], json!([["9.50"], ["12.00"]]));
    let (ok, _, err) = call(with(&[
        "tools",
        "call",
        "--agent",
        "support-bot",
        "crm_query",
        r#"{"sql": "SELECT 1 FROM pg_roles"}"#,
    ]));
    assert!(!ok && err.contains("permission_denied"), "{err}");
    let (ok, _, err) = call(with(&[
        "tools",
        "call",
        "--agent",
        "support-bot",
        "crm_query",
        "not json",
    ]));
    assert!(!ok && err.contains("not JSON"), "{err}");

    let old = std::fs::read_to_string(dir.path().join("master.key")).unwrap();
    let (ok, _, err) = call(with(&["keys", "rotate"]));
    assert!(ok && err.contains("re-encrypted 3 connector config(s)"), "{err}");
    assert_ne!(
        std::fs::read_to_string(dir.path().join("master.key")).unwrap(),
        old
    );
    let (ok, out, err) = call(with(&["connectors", "test", "crm"]));
    assert!(
        ok && out.contains("connected"),
        "the rotated key opens the configs: {out} {err}"
    );

    let (ok, token, _) = call(with(&["tokens", "issue", "--admin", "acme"]));
    assert!(ok && token.trim().starts_with("trb_"));
}

#[test]
fn configuration_errors_name_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[connectors]]\nname = \"a\"\norganization = \"o\"\ntype = \"sqlite\"\n[connectors.config]\npath = \"${NOT_SET_ANYWHERE}\"\n",
            "line 6",
            "NOT_SET_ANYWHERE",
        ),
        (
            "[[connectors]]\nname = \"a\"\norganization = \"o\"\ntype = \"sqlite\"\nmask_pii = \"yes\"\n",
            "line 5",
            "bool",
        ),
        (
            "[[agents]]\nid = \"bot\"\norganization = \"o\"\ngrants = [{ connector = \"nope\", operations = [\"read\"] }]\n",
            "line 2",
            "agents[0].grants",
        ),
        (
            "[[connectors]]\nname = \"a\"\norganization = \"o\"\ntype = \"sqlite\"\n[connectors.config]\nmax_rows = \"many\"\n",
            "connectors[0] (a)",
            "config.",
        ),
        (
            "[[connectors]]\nname = \"a\"\norganization = \"o\"\ntype = \"oracle\"\n",
            "connectors[0] (a)",
            "unknown connector type",
        ),
    ];
    for (text, place, detail) in cases {
        std::fs::write(dir.path().join("bad.toml"), text).unwrap();
        std::fs::write(
            dir.path().join("key"),
            tributary_registry::MasterKey::generate()
                .unwrap()
                .to_base64()
                .as_bytes(),
        )
        .unwrap();
        let key = std::fs::read_to_string(dir.path().join("key")).unwrap();
        let (ok, _, err) = run(
            dir.path(),
            &["connectors", "list", "--config", "bad.toml"],
            &[("TRIBUTARY_MASTER_KEY", &key)],
        );
        assert!(!ok, "{text}");
        assert!(err.contains(place) && err.contains(detail), "{text}\n---\n{err}");
    }
    let (ok, _, err) = run(
        dir.path(),
        &["connectors", "list", "--config", "missing.toml"],
        &[],
    );
    assert!(!ok && err.contains("cannot read the file"), "{err}");
    std::fs::write(dir.path().join("nokey.toml"), "").unwrap();
    let (ok, _, err) = run(
        dir.path(),
        &["connectors", "list", "--config", "nokey.toml"],
        &[("TRIBUTARY_MASTER_KEY", "")],
    );
    assert!(!ok && err.contains("TRIBUTARY_MASTER_KEY"), "{err}");
}

/// Connectors the configuration file declares are the operator's, but even they may not open the server's
/// own files; a changed target drops the stored secret the file no longer gives; the tenant policy's own
/// mistakes are reported by name.
#[test]
fn a_configuration_file_cannot_point_connectors_at_the_servers_own_files() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    let key = tributary_registry::MasterKey::generate().unwrap().to_base64();
    let key_file = base.join("master.key");
    std::fs::write(&key_file, key.as_bytes()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let fifo = base.join("pipe.db");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let head = "[store]\nurl = \"sqlite://tributary.db\"\n[security]\nmaster_key_file = \"master.key\"\n";
    let config = base.join("tributary.toml");
    let cases = [
        (
            format!(
                "type = \"s3\"\n[connectors.config]\nprovider = \"local\"\nroot = \"{}\"\n",
                base.display()
            ),
            "config.root",
            "server's own files",
        ),
        (
            format!(
                "type = \"sqlite\"\n[connectors.config]\npath = \"{}\"\nread_only = false\n",
                base.join("tributary.db").display()
            ),
            "config.path",
            "server's own files",
        ),
        (
            format!(
                "type = \"sqlite\"\n[connectors.config]\npath = \"{}\"\n",
                key_file.display()
            ),
            "config.path",
            "server's own files",
        ),
        (
            format!(
                "type = \"sqlite\"\n[connectors.config]\npath = \"{}\"\n",
                config.display()
            ),
            "config.path",
            "server's own files",
        ),
        (
            format!(
                "type = \"sqlite\"\n[connectors.config]\npath = \"{}\"\n",
                fifo.display()
            ),
            "config.path",
            "FIFO",
        ),
    ];
    for (entry, field, why) in cases {
        let text = format!("{head}[[connectors]]\nname = \"grab\"\norganization = \"acme\"\n{entry}");
        std::fs::write(&config, &text).unwrap();
        let started = std::time::Instant::now();
        let (ok, _, err) = run(&base, &["connectors", "list", "--config", "tributary.toml"], &[]);
        assert!(!ok, "{text}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "nothing blocked"
        );
        assert!(
            err.contains("connectors[0] (grab)") && err.contains(field) && err.contains(why),
            "{text}\n---\n{err}"
        );
    }

    // The file moves a connector to another port and no longer gives its password: the stored one is
    // dropped, and the start says so.
    let pg = |port: u16, password: bool| {
        format!(
            "{head}[[connectors]]\nname = \"pg\"\norganization = \"acme\"\ntype = \"postgresql\"\n[connectors.config]\nhost = \"127.0.0.1\"\nport = {port}\ndatabase = \"shop\"\nuser = \"agent\"\ntls_mode = \"disable\"\n{}",
            if password {
                "password = \"kept-secret\"\n"
            } else {
                ""
            }
        )
    };
    let show = || {
        run(
            &base,
            &[
                "connectors",
                "show",
                "acme/pg",
                "--json",
                "--config",
                "tributary.toml",
            ],
            &[],
        )
    };
    std::fs::write(&config, pg(5432, true)).unwrap();
    let (ok, _, err) = show();
    assert!(ok, "{err}");
    std::fs::write(&config, pg(5432, false)).unwrap();
    let (ok, shown, err) = show();
    assert!(ok, "{err}");
    assert!(
        !err.contains("dropped"),
        "the same target keeps its password: {err}"
    );
    assert!(
        shown.contains("\"password\":{\"set\":true}") || shown.contains("\"set\": true"),
        "{shown}"
    );
    std::fs::write(&config, pg(6543, false)).unwrap();
    let (ok, shown, err) = show();
    assert!(ok, "{err}");
    assert!(
        err.contains("connector `pg` (acme) now connects elsewhere, so its stored password was dropped"),
        "{err}"
    );
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["config"]["password"], json!({"set": false}), "{shown}");

    // The policy's own mistakes name their key.
    for (policy, expected) in [
        (
            "[security.tenants]\nallowed_roots = [\"/no/such/folder\"]\n",
            "security.tenants.allowed_roots[0]",
        ),
        (
            "[security.tenants]\nallowed_hosts = [\"not a host\"]\n",
            "security.tenants.allowed_hosts[0]",
        ),
        ("[security.tenants]\nallow_http = true\n", "allow_http"),
        (
            "[security.tenants]\ndenied_networks = [\"10.0.0.0/33\"]\n",
            "line",
        ),
    ] {
        let text = format!(
            "[store]\nurl = \"sqlite://tributary.db\"\n[security]\nmaster_key_file = \"master.key\"\n{policy}"
        );
        std::fs::write(&config, &text).unwrap();
        let (ok, _, err) = run(&base, &["connectors", "list", "--config", "tributary.toml"], &[]);
        assert!(!ok && err.contains(expected), "{text}\n---\n{err}");
    }
}

/// Writes `config` to `dir/tributary.toml`, issues a token for its agent `bot`, starts `tributary serve`
/// on a free loopback port, and opens an MCP session over HTTP as `bot`.
async fn serve_for_bot(
    dir: &Path,
    config: &str,
) -> (
    std::process::Child,
    rmcp::service::RunningService<rmcp::RoleClient, ()>,
) {
    use rmcp::ServiceExt as _;
    std::fs::write(dir.join("tributary.toml"), config).unwrap();
    let (ok, token, err) = run(
        dir,
        &["tokens", "issue", "--agent", "bot", "--config", "tributary.toml"],
        &[],
    );
    assert!(ok, "{err}");
    let mut child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--config", "tributary.toml"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut url = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(address) = line.unwrap().strip_prefix("tributary: listening on ") {
            url = address.to_owned();
            break;
        }
    }
    let transport = rmcp::transport::StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(format!(
            "{url}/mcp"
        ))
        .auth_header(token.trim().to_owned()),
    );
    let client = ().serve(transport).await.expect("an MCP session");
    (child, client)
}

/// The server's peak resident memory (`VmHWM`), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The three attacks of the security test, and their MySQL forms, against the real server process: a
/// 100 MB cell, four parallel reads of 600 rows of 1 MB, and a SQLite `printf` of 1 GB. Each is cut or
/// refused while it streams in, so the server's peak memory stays within 64 MiB of its peak at idle.
#[tokio::test]
async fn memory_stays_bounded_whatever_a_source_sends() {
    use rmcp::model::CallToolRequestParams;
    let pg = tributary_testkit::postgres()
        .await
        .expect("PostgreSQL (see tributary-testkit)");
    let database = pg.create_database().await.unwrap();
    let my = tributary_testkit::mysql()
        .await
        .expect("MariaDB (see tributary-testkit)");
    let my_db = my.create_database().await.unwrap();
    // MariaDB itself answers NULL for a value past its own max_allowed_packet (16 MiB by default). A
    // server that does send more is what the connector must stop, so this one is allowed 256 MiB; sessions
    // opened from here on (the server's) take the new value.
    {
        use mysql_async::prelude::Queryable as _;
        let mut admin = my.connect(None).await.unwrap();
        admin
            .query_drop("SET GLOBAL max_allowed_packet = 268435456")
            .await
            .expect("the test MariaDB's user may set max_allowed_packet (see tributary-testkit)");
        admin.disconnect().await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    rusqlite::Connection::open(dir.path().join("notes.db"))
        .unwrap()
        .execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'hello');",
        )
        .unwrap();
    let key = tributary_registry::MasterKey::generate().unwrap();
    tributary_cli::host::write_key_file(&dir.path().join("master.key"), &key).unwrap();
    let config = format!(
        r#"
[store]
url = "sqlite://tributary.db"
[security]
master_key_file = "master.key"
[[connectors]]
name = "pg"
organization = "acme"
type = "postgresql"
[connectors.config]
host = "{pg_host}"
port = {pg_port}
database = "{database}"
user = "{pg_user}"
password = "{pg_password}"
tls_mode = "disable"
statement_timeout_seconds = 60
[[connectors]]
name = "my"
organization = "acme"
type = "mysql"
[connectors.config]
host = "{my_host}"
port = {my_port}
database = "{my_db}"
user = "{my_user}"
password = "{my_password}"
tls_mode = "disable"
statement_timeout_seconds = 60
[[connectors]]
name = "notes"
organization = "acme"
type = "sqlite"
[connectors.config]
path = "{notes}"
[[agents]]
id = "bot"
organization = "acme"
grants = [{{ connector = "pg", operations = ["read"] }}, {{ connector = "my", operations = ["read"] }}, {{ connector = "notes", operations = ["read"] }}]
"#,
        pg_host = pg.host(),
        pg_port = pg.port(),
        pg_user = pg.user(),
        pg_password = pg.password(),
        my_host = my.host(),
        my_port = my.port(),
        my_user = my.user(),
        my_password = my.password(),
        notes = dir.path().join("notes.db").display(),
    );
    let (mut child, client) = serve_for_bot(dir.path(), &config).await;
    let call = |tool: &'static str, sql: &'static str| {
        let client = &client;
        async move {
            let arguments = json!({ "sql": sql }).as_object().unwrap().clone();
            let result = client
                .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
                .await
                .unwrap();
            let text = result
                .content
                .first()
                .and_then(|content| content.as_text())
                .map(|text| text.text.clone())
                .unwrap_or_default();
            (result.is_error.unwrap_or(false), text)
        }
    };
    // Idle: every connector has been used once, so its pool and caches exist.
    for (tool, sql) in [
        ("pg_query", "SELECT 1 AS one"),
        ("my_query", "SELECT 1 AS one"),
        ("notes_query", "SELECT body FROM notes"),
    ] {
        let (failed, text) = call(tool, sql).await;
        assert!(!failed, "{tool}: {text}");
    }
    let idle = peak_kib(child.id());

    // One 100 MB cell: refused as it arrives, with a clear error.
    for tool in ["pg_query", "my_query"] {
        let (failed, text) = call(tool, "SELECT repeat('x', 100000000) AS big").await;
        assert!(failed, "{tool}: {}", &text[..text.len().min(300)]);
        assert!(text.contains("invalid_input"), "{tool}: {text}");
    }
    // Four parallel reads of 600 rows of 1 MB: each stops at the byte budget and says so.
    let pg_rows = "SELECT repeat('x', 1000000) AS r FROM generate_series(1, 600)";
    let my_rows = "SELECT REPEAT('x', 1000000) AS r FROM seq_1_to_600";
    for (tool, sql) in [("pg_query", pg_rows), ("my_query", my_rows)] {
        let answers = futures_util::future::join_all((0..4).map(|_| call(tool, sql))).await;
        for (failed, text) in answers {
            assert!(!failed, "{tool}: {}", &text[..text.len().min(300)]);
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value["truncation"]["reason"], "byte_limit", "{tool}");
        }
    }
    // A SQLite printf of 1 GB: refused by SQLite's own length limit.
    let (failed, text) = call("notes_query", "SELECT printf('%.*c', 1000000000, 'x') AS big").await;
    assert!(
        failed && text.contains("invalid_input"),
        "{}",
        &text[..text.len().min(300)]
    );

    let peak = peak_kib(child.id());
    let grown_mib = peak.saturating_sub(idle) / 1024;
    eprintln!(
        "server peak: {} MiB at idle, {} MiB after the attacks",
        idle / 1024,
        peak / 1024
    );
    assert!(
        grown_mib < 64,
        "the server's peak memory grew by {grown_mib} MiB during the attacks (idle peak {} MiB)",
        idle / 1024
    );
    client.cancel().await.unwrap();
    child.kill().unwrap();
    let _ = child.wait();
}

/// 5,000 calls in a burst, then more in flight when the server gets SIGTERM: every call answered has its
/// audit record in the store after the process has ended (records are written in groups, off the calls'
/// path, and flushed when it stops).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_audit_record_is_lost_to_a_burst_or_to_sigterm() {
    use rmcp::model::CallToolRequestParams;
    let dir = tempfile::tempdir().unwrap();
    rusqlite::Connection::open(dir.path().join("notes.db"))
        .unwrap()
        .execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'hello');",
        )
        .unwrap();
    let key = tributary_registry::MasterKey::generate().unwrap();
    tributary_cli::host::write_key_file(&dir.path().join("master.key"), &key).unwrap();
    let config = format!(
        r#"
[store]
url = "sqlite://tributary.db"
[security]
master_key_file = "master.key"
[limits]
calls_per_agent = 8
queued_calls = 64
[[connectors]]
name = "notes"
organization = "acme"
type = "sqlite"
mask_pii = false
[connectors.config]
path = "{notes}"
[[agents]]
id = "bot"
organization = "acme"
grants = [{{ connector = "notes", operations = ["read"] }}]
"#,
        notes = dir.path().join("notes.db").display(),
    );
    let (mut child, client) = serve_for_bot(dir.path(), &config).await;
    let client = std::sync::Arc::new(client);
    let call = |client: std::sync::Arc<rmcp::service::RunningService<rmcp::RoleClient, ()>>| async move {
        let arguments = json!({ "sql": "SELECT body FROM notes" })
            .as_object()
            .unwrap()
            .clone();
        client
            .call_tool(CallToolRequestParams::new("notes_query").with_arguments(arguments))
            .await
            .is_ok_and(|result| !result.is_error.unwrap_or(false))
    };
    // The burst: 5,000 calls, 16 at a time.
    let mut answered = 0;
    for _ in 0..(5000 / 16) {
        let round = futures_util::future::join_all((0..16).map(|_| call(client.clone()))).await;
        answered += round.into_iter().filter(|ok| *ok).count();
    }
    for _ in 0..(5000 % 16) {
        answered += usize::from(call(client.clone()).await);
    }
    assert_eq!(answered, 5000, "every call of the burst was answered");
    // More calls in flight, and SIGTERM while they run.
    let in_flight: Vec<_> = (0..32).map(|_| tokio::spawn(call(client.clone()))).collect();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    for call in in_flight {
        answered += usize::from(call.await.unwrap_or(false));
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "the server stops cleanly at SIGTERM: {status}");
    let rows: i64 = rusqlite::Connection::open(dir.path().join("tributary.db"))
        .unwrap()
        .query_row(
            "SELECT count(*) FROM audit WHERE json_extract(body, '$.operation') = 'query'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let rows = usize::try_from(rows).unwrap();
    eprintln!("{answered} calls answered, {rows} audit records");
    assert!(
        rows >= answered && rows <= 5032,
        "{answered} calls were answered but {rows} audit records were written"
    );
}
