//! The permission matrix against real connectors (SQLite files and the PostgreSQL server): organizations,
//! agents, operation classes and objects. Every denied case is denied, with a reason, and every allowed
//! case works.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{governance, host, rows, sqlite_connector};
use serde_json::json;
use tributary_core::{AccessClass::*, ErrorKind};
use tributary_registry::{ConnectorUpdate, NewConnector, Origin, Status};

#[tokio::test]
async fn the_matrix_of_organizations_agents_operations_and_objects() {
    let host = host().await;
    let r = &host.registry;
    // acme/shop allows reads and writes of customers and orders only; acme/archive allows reads of anything.
    let shop = sqlite_connector(
        &host,
        "acme",
        "shop",
        governance(&[Read, Write], Some(&["main.customers", "main.orders"])),
        false,
    )
    .await;
    let archive = sqlite_connector(&host, "acme", "archive", governance(&[Read], None), true).await;
    let globex = sqlite_connector(&host, "globex", "shop", governance(&[Read], None), true).await;
    for (org, agent) in [
        ("acme", "reader"),
        ("acme", "writer"),
        ("acme", "nobody"),
        ("globex", "outsider"),
    ] {
        r.put_agent(org, agent, agent).await.unwrap();
    }
    r.grant("acme", "reader", &shop, [Read].into()).await.unwrap();
    r.grant("acme", "writer", &shop, [Read, Write].into())
        .await
        .unwrap();
    r.grant("acme", "reader", &archive, [Read].into()).await.unwrap();
    r.grant("globex", "outsider", &globex, [Read].into())
        .await
        .unwrap();

    // Grants cannot exceed the connector, nor cross organizations.
    assert_eq!(
        r.grant("acme", "reader", &archive, [Write].into())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        r.grant("globex", "outsider", &shop, [Read].into())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );

    let org = |agent: &str| if agent == "outsider" { "globex" } else { "acme" };
    let names = |tools: Vec<tributary_registry::Tool>| tools.into_iter().map(|t| t.name).collect::<Vec<_>>();
    let reader_tools = names(r.tools_for_agent("acme", "reader").await.unwrap());
    assert!(
        reader_tools.contains(&"shop_query".to_owned()) && reader_tools.contains(&"archive_query".to_owned())
    );
    assert!(
        !reader_tools.iter().any(|name| name == "shop_insert"),
        "no write tools for a read grant: {reader_tools:?}"
    );
    assert!(names(r.tools_for_agent("acme", "writer").await.unwrap()).contains(&"shop_insert".to_owned()));
    assert!(r.tools_for_agent("acme", "nobody").await.unwrap().is_empty());
    assert_eq!(
        names(r.tools_for_agent("globex", "outsider").await.unwrap()).len(),
        3,
        "globex's connector, its three reads"
    );

    let allowed = [
        (
            "reader",
            "shop_query",
            json!({"sql": "SELECT id, status FROM orders ORDER BY id"}),
        ),
        ("reader", "shop_describe_object", json!({"object": "customers"})),
        (
            "reader",
            "archive_query",
            json!({"sql": "SELECT value FROM secrets"}),
        ),
        (
            "writer",
            "shop_insert",
            json!({"table": "orders", "rows": [{"id": 99, "customer_id": 2, "total": 1.0, "status": "new"}]}),
        ),
        (
            "writer",
            "shop_query",
            json!({"sql": "SELECT count(*) AS n FROM orders"}),
        ),
        ("outsider", "shop_query", json!({"sql": "SELECT id FROM orders"})),
    ];
    for (agent, tool, args) in allowed {
        let result = r.call_tool(org(agent), agent, tool, args.clone()).await;
        assert!(result.is_ok(), "{agent} {tool} {args}: {result:?}");
    }
    let count = r
        .call_tool(
            "acme",
            "writer",
            "shop_query",
            json!({"sql": "SELECT count(*) AS n FROM orders"}),
        )
        .await
        .unwrap();
    assert_eq!(rows(&count)[0][0], json!(4), "the write happened");

    let denied = [
        (
            "reader",
            "shop_query",
            json!({"sql": "SELECT value FROM secrets"}),
            ErrorKind::PermissionDenied,
        ),
        (
            "reader",
            "shop_query",
            json!({"sql": "SELECT o.id FROM orders o JOIN secrets s ON s.id = o.id"}),
            ErrorKind::PermissionDenied,
        ),
        (
            "reader",
            "shop_insert",
            json!({"table": "orders", "rows": [{"id": 100}]}),
            ErrorKind::NotFound,
        ),
        (
            "writer",
            "shop_insert",
            json!({"table": "secrets", "rows": [{"id": 2, "value": "x"}]}),
            ErrorKind::PermissionDenied,
        ),
        (
            "writer",
            "archive_query",
            json!({"sql": "SELECT 1"}),
            ErrorKind::NotFound,
        ),
        (
            "nobody",
            "shop_query",
            json!({"sql": "SELECT 1"}),
            ErrorKind::NotFound,
        ),
        (
            "outsider",
            "archive_query",
            json!({"sql": "SELECT 1"}),
            ErrorKind::NotFound,
        ),
        (
            "ghost",
            "shop_query",
            json!({"sql": "SELECT 1"}),
            ErrorKind::PermissionDenied,
        ),
    ];
    for (agent, tool, args, kind) in denied {
        let error = r
            .call_tool(org(agent), agent, tool, args.clone())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "{agent} {tool} {args}: {error}");
        assert!(!error.message().is_empty() && !error.hint().is_empty());
    }

    // Disabling a connector removes its tools and refuses calls; revoking removes the agent's.
    r.update_connector(
        "acme",
        &archive,
        ConnectorUpdate {
            status: Some(Status::Disabled),
            ..Default::default()
        },
        Origin::Operator,
    )
    .await
    .unwrap();
    assert!(!names(r.tools_for_agent("acme", "reader").await.unwrap()).contains(&"archive_query".to_owned()));
    r.revoke("acme", "reader", &shop).await.unwrap();
    assert!(r.tools_for_agent("acme", "reader").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_postgresql_connector_governed_the_same_way() {
    let server = tributary_testkit::postgres()
        .await
        .expect("PostgreSQL (see tributary-testkit)");
    let database = server.create_database().await.unwrap();
    let admin = server.connect(&database).await.unwrap();
    admin
        .batch_execute("CREATE TABLE customers (id int PRIMARY KEY, email text); INSERT INTO customers VALUES (1, 'ada@example.com');
                        CREATE TABLE payroll (id int PRIMARY KEY, salary int); INSERT INTO payroll VALUES (1, 100);")
        .await
        .unwrap();
    let host = host().await;
    let r = &host.registry;
    let pg = r
        .create_connector(
            "acme",
            NewConnector {
                name: "crm".into(),
                connector_type: "postgresql".into(),
                config: json!({"host": server.host(), "port": server.port(), "database": database, "user": server.user(),
                               "password": server.password(), "tls_mode": "disable"}),
                governance: governance(&[Read], Some(&["public.customers"])),
            },
            Origin::Operator,
        )
        .await
        .unwrap();
    r.put_agent("acme", "analyst", "Analyst").await.unwrap();
    r.grant("acme", "analyst", &pg.id, [Read].into()).await.unwrap();
    let result = r
        .call_tool(
            "acme",
            "analyst",
            "crm_query",
            json!({"sql": "SELECT id, email FROM customers"}),
        )
        .await
        .unwrap();
    assert_eq!(
        rows(&result)[0],
        vec![json!(1), json!("<EMAIL>")],
        "masked by default"
    );
    assert_eq!(result.masked["email"], 1);
    let error = r
        .call_tool(
            "acme",
            "analyst",
            "crm_query",
            json!({"sql": "SELECT salary FROM payroll"}),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied);
    assert!(error.message().contains("public.payroll"), "{error}");
}
