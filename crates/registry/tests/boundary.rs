//! The tenant boundary through the registry: every host-resource field of every connector type, every
//! credential mode and every network class, for connectors a tenant creates; the protected paths for every
//! connector; and an unsaved test that creates nothing. Only loopback addresses are ever connected to, and a
//! recording listener proves the refused ones never were.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use tributary_core::host::NetworkAccess;
use tributary_core::{CheckReport, ErrorKind, ProtectedPaths, TenantPolicy};
use tributary_registry::{NewConnector, Origin, Registry};
use tributary_testkit::network::{FixedResolver, Recorder};

/// A registry whose tenants live under `policy`, resolving names through `resolver`.
async fn tenant_registry(policy: TenantPolicy, resolver: &FixedResolver) -> (common::Host, Registry) {
    let host = common::host().await;
    let registry = fresh(&host)
        .with_tenant_policy(policy)
        .unwrap()
        .with_resolver(Arc::new(resolver.clone()))
        .unwrap();
    (host, registry)
}

fn fresh(host: &common::Host) -> Registry {
    Registry::new(
        host.store.clone(),
        tributary_registry::KeyRing::new(tributary_registry::MasterKey::generate().unwrap()),
        tributary_registry::ConnectorTypes::with_defaults(),
    )
    .unwrap()
}

fn new(connector_type: &str, config: Value) -> NewConnector {
    NewConnector {
        name: "attempt".into(),
        connector_type: connector_type.into(),
        config,
        governance: Default::default(),
    }
}

/// The refusal of `field`, from a failed report.
fn refused_in_report(report: &CheckReport, field: &str) -> String {
    let error = report
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("expected a refusal of {field}, got {report:?}"));
    assert_eq!(error.kind, ErrorKind::InvalidConfig, "{error:?}");
    let found = error.fields.iter().find(|f| f.field == field);
    found
        .unwrap_or_else(|| panic!("expected a refusal of {field}: {error:?}"))
        .message
        .clone()
}

/// Saving and testing `config` as a tenant are both refused on `field` with a message containing `why`.
async fn both_refused(registry: &Registry, connector_type: &str, config: Value, field: &str, why: &str) {
    let message = refused_in_report(
        &registry
            .test_config(connector_type, &config, Origin::Tenant)
            .await
            .unwrap(),
        field,
    );
    assert!(message.contains(why), "{connector_type} {config}: {message}");
    let error = registry
        .create_connector("acme", new(connector_type, config.clone()), Origin::Tenant)
        .await
        .expect_err("saving is refused too");
    assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{error}");
    assert!(
        error.fields().iter().any(|f| f.field == field),
        "{connector_type} {config}: {error:?}"
    );
}

#[tokio::test]
async fn every_spelling_of_this_host_is_refused_in_every_network_field_before_any_connection() {
    let resolver = FixedResolver::new();
    resolver.set("loopback.test", &["127.0.0.1".parse().unwrap()]);
    let strict = TenantPolicy {
        // Plain text allowed here, so the network check itself is what refuses.
        allow_plaintext: true,
        ..TenantPolicy::default()
    };
    let (_host, registry) = tenant_registry(strict, &resolver).await;
    let watch = Recorder::start().await.unwrap();
    let port = watch.port();
    let hosts = [
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "127.0.0.2".to_owned(),
        "[::1]".to_owned(),
        "0.0.0.0".to_owned(),
        "::ffff:127.0.0.1".to_owned(),
        "2130706433".to_owned(),
        "017700000001".to_owned(),
        "loopback.test".to_owned(),
    ];
    for host in &hosts {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let url_host = if bare.contains(':') {
            format!("[{bare}]")
        } else {
            bare.to_owned()
        };
        let sql = |scheme: &str| format!("{scheme}://agent:pw@{url_host}:{port}/shop");
        let cases = [
            (
                "postgresql",
                json!({"host": bare, "port": port, "database": "d", "user": "u", "password": "pw"}),
                "host",
            ),
            ("postgresql", json!({"url": sql("postgres")}), "url"),
            (
                "mysql",
                json!({"host": bare, "port": port, "database": "d", "user": "u", "password": "pw"}),
                "host",
            ),
            ("mysql", json!({"url": sql("mysql")}), "url"),
            (
                "s3",
                json!({"bucket": "b", "endpoint": format!("http://{url_host}:{port}"), "allow_http": true,
                "access_key_id": "k", "secret_access_key": "secret-access-key"}),
                "endpoint",
            ),
            (
                "s3",
                json!({"provider": "gcs", "bucket": "b", "endpoint": format!("http://{url_host}:{port}"),
                "allow_http": true, "credentials": "anonymous"}),
                "endpoint",
            ),
            (
                "s3",
                json!({"provider": "azure", "bucket": "b", "account": "devstoreaccount1",
                "endpoint": format!("http://{url_host}:{port}/devstoreaccount1"), "allow_http": true,
                "credentials": "anonymous"}),
                "endpoint",
            ),
            (
                "salesforce",
                json!({"login_host": format!("http://{url_host}:{port}"), "allow_http": true,
                "client_id": "c", "client_secret": "consumer-secret", "username": "u", "password": "user-password"}),
                "login_host",
            ),
        ];
        for (connector_type, config, field) in cases {
            let report = registry
                .test_config(connector_type, &config, Origin::Tenant)
                .await
                .unwrap();
            let message = refused_in_report(&report, field);
            assert!(
                message.contains("loopback") || message.contains("unspecified"),
                "{host} {connector_type}: {message}"
            );
            // An address (or `localhost`) is refused already when it is saved; a name when it is resolved.
            let saved = registry
                .create_connector("acme", new(connector_type, config), Origin::Tenant)
                .await;
            if parse_is_literal(host) {
                let error = saved.expect_err("a literal loopback address is refused at save");
                assert!(error.fields().iter().any(|f| f.field == field), "{error:?}");
            } else {
                registry
                    .delete_connector("acme", &saved.unwrap().id)
                    .await
                    .unwrap();
            }
        }
    }
    assert_eq!(watch.accepted(), 0, "not one refused target was connected to");
}

fn parse_is_literal(host: &str) -> bool {
    tributary_core::host::parse_literal(host).is_some() || host == "localhost"
}

#[tokio::test]
async fn link_local_denied_and_private_addresses_follow_the_policy() {
    let resolver = FixedResolver::new();
    resolver.set("metadata.test", &["169.254.169.254".parse().unwrap()]);
    resolver.set("v6-link.test", &["fe80::1".parse().unwrap()]);
    resolver.set("internal.test", &["10.1.2.3".parse().unwrap()]);
    resolver.set(
        "mixed.test",
        &["8.8.8.8".parse().unwrap(), "10.1.2.3".parse().unwrap()],
    );
    resolver.set("denied.test", &["93.184.216.34".parse().unwrap()]);
    let strict = TenantPolicy {
        denied_networks: vec!["93.184.216.0/24".parse().unwrap()],
        ..TenantPolicy::default()
    };
    let (_host, registry) = tenant_registry(strict.clone(), &resolver).await;
    for (host, why) in [
        ("169.254.169.254", "link-local"),
        ("metadata.test", "link-local"),
        ("fe80::1", "link-local"),
        ("v6-link.test", "link-local"),
        ("10.1.2.3", "private"),
        ("internal.test", "private"),
        ("mixed.test", "private"),
        ("denied.test", "denies"),
        ("224.0.0.1", "multicast"),
    ] {
        let config =
            json!({"host": host, "database": "d", "user": "u", "password": "pw", "tls_mode": "require"});
        let report = registry
            .test_config("postgresql", &config, Origin::Tenant)
            .await
            .unwrap();
        let message = refused_in_report(&report, "host");
        assert!(message.contains(why), "{host}: {message}");
    }
    // Under `private_networks = "allow"` a private name passes the check (it is not connected to here:
    // tests send traffic to loopback only), the denied network and loopback still do not.
    let (_host, relaxed) = tenant_registry(
        TenantPolicy {
            private_networks: NetworkAccess::Allow,
            ..strict
        },
        &resolver,
    )
    .await;
    let tenant = relaxed.host_access(Origin::Tenant);
    let addresses = tenant.resolve("host", "internal.test", 5432).await.unwrap();
    assert_eq!(addresses[0].ip(), "10.1.2.3".parse::<IpAddr>().unwrap());
    assert!(tenant.resolve("host", "denied.test", 5432).await.is_err());
    assert!(tenant.resolve("host", "127.0.0.1", 5432).await.is_err());
    assert!(tenant.resolve("host", "metadata.test", 80).await.is_err());
    // The operator's connectors are not bound by the tenant policy.
    let operator = relaxed.host_access(Origin::Operator);
    assert!(operator.resolve("host", "127.0.0.1", 5432).await.is_ok());
}

#[tokio::test]
async fn host_files_credentials_and_plain_text_are_refused_to_tenants() {
    let resolver = FixedResolver::new();
    let (host, registry) = tenant_registry(TenantPolicy::default(), &resolver).await;
    let folder = host.dir.path().join("files");
    std::fs::create_dir_all(&folder).unwrap();
    common::shop_database(&folder.join("shop.db"));
    let shop = folder.join("shop.db").display().to_string();
    both_refused(
        &registry,
        "sqlite",
        json!({"path": shop}),
        "path",
        "outside the folders",
    )
    .await;
    both_refused(
        &registry,
        "sqlite",
        json!({"path": "/etc/passwd"}),
        "path",
        "outside the folders",
    )
    .await;
    both_refused(
        &registry,
        "s3",
        json!({"provider": "local", "root": folder.display().to_string()}),
        "root",
        "outside the folders",
    )
    .await;
    for credentials in ["ambient", "web_identity"] {
        let mut config = json!({"bucket": "b", "credentials": credentials});
        if credentials == "web_identity" {
            config["role_arn"] = json!("arn:aws:iam::1:role/r");
            config["web_identity_token_file"] = json!(shop);
        }
        both_refused(&registry, "s3", config, "credentials", "own cloud identity").await;
    }
    for (connector_type, config, field) in [
        (
            "s3",
            json!({"bucket": "b", "endpoint": "http://s3.example.com", "allow_http": true,
            "access_key_id": "k", "secret_access_key": "secret-access-key"}),
            "allow_http",
        ),
        (
            "postgresql",
            json!({"host": "db.example.com", "database": "d", "user": "u", "tls_mode": "disable"}),
            "tls_mode",
        ),
        (
            "mysql",
            json!({"host": "db.example.com", "database": "d", "user": "u", "tls_mode": "disable"}),
            "tls_mode",
        ),
        (
            "salesforce",
            json!({"login_host": "http://login.example.com", "allow_http": true, "client_id": "c",
            "client_secret": "consumer-secret", "username": "u", "password": "user-password"}),
            "allow_http",
        ),
    ] {
        both_refused(&registry, connector_type, config, field, "unencrypted").await;
    }
    // Unix sockets reach services on this host.
    both_refused(
        &registry,
        "postgresql",
        json!({"url": "postgres://agent@%2Fvar%2Frun%2Fpostgresql/shop"}),
        "url",
        "Unix socket",
    )
    .await;
    both_refused(
        &registry,
        "mysql",
        json!({"url": "mysql://agent:pw@db.example.com/shop?socket=/run/mysqld/mysqld.sock"}),
        "url",
        "Unix socket",
    )
    .await;
    // What tenants may use: static keys, anonymous access, a public name (checked when resolved).
    for config in [
        json!({"bucket": "b", "endpoint": "https://s3.example.com", "access_key_id": "k", "secret_access_key": "secret-access-key"}),
        json!({"bucket": "b", "credentials": "anonymous"}),
    ] {
        registry
            .create_connector("acme", new("s3", config), Origin::Tenant)
            .await
            .map(|view| assert_eq!(view.origin, Origin::Tenant))
            .unwrap();
        let id = registry.connector_id("acme", "attempt").await.unwrap();
        registry.delete_connector("acme", &id).await.unwrap();
    }
}

#[tokio::test]
async fn allowed_roots_hold_through_links_and_an_unsaved_test_creates_nothing() {
    let resolver = FixedResolver::new();
    let host = common::host().await;
    let root = host.dir.path().join("tenant-files");
    std::fs::create_dir_all(&root).unwrap();
    common::shop_database(&root.join("shop.db"));
    std::os::unix::fs::symlink(host.dir.path().join("registry.db"), root.join("escape.db")).unwrap();
    let registry = fresh(&host)
        .with_tenant_policy(TenantPolicy {
            allowed_roots: vec![root.clone()],
            ..TenantPolicy::default()
        })
        .unwrap()
        .with_resolver(Arc::new(resolver))
        .unwrap();
    let report = registry
        .test_config(
            "sqlite",
            &json!({"path": root.join("shop.db").display().to_string()}),
            Origin::Tenant,
        )
        .await
        .unwrap();
    assert!(report.is_connected(), "{report:?}");
    let message = refused_in_report(
        &registry
            .test_config(
                "sqlite",
                &json!({"path": root.join("escape.db").display().to_string()}),
                Origin::Tenant,
            )
            .await
            .unwrap(),
        "path",
    );
    assert!(
        message.contains("outside the folders"),
        "a link out of the root: {message}"
    );

    let fresh_file = root.join("new.db");
    let config =
        json!({"path": fresh_file.display().to_string(), "read_only": false, "create_if_missing": true});
    let report = registry
        .test_config("sqlite", &config, Origin::Tenant)
        .await
        .unwrap();
    assert!(report.is_connected(), "{report:?}");
    assert_eq!(report.server.unwrap().details["exists"], false);
    assert!(!fresh_file.exists(), "testing an unsaved config creates nothing");
    let outside = host.dir.path().join("outside.db");
    let message = refused_in_report(
        &registry
            .test_config(
                "sqlite",
                &json!({"path": outside.display().to_string(), "read_only": false, "create_if_missing": true}),
                Origin::Tenant,
            )
            .await
            .unwrap(),
        "path",
    );
    assert!(message.contains("outside the folders"), "{message}");
    assert!(!outside.exists());
    let saved = registry
        .create_connector("acme", new("sqlite", config), Origin::Tenant)
        .await
        .unwrap();
    assert!(!fresh_file.exists(), "saving creates nothing either");
    assert!(
        registry
            .test_connection("acme", &saved.id)
            .await
            .unwrap()
            .is_connected()
    );
    assert!(
        fresh_file.exists(),
        "the saved connector creates its file on first use"
    );
}

#[tokio::test]
async fn the_stores_and_the_keys_files_are_refused_to_every_connector() {
    let host = common::host().await;
    let key = host.dir.path().join("master.key");
    std::fs::write(&key, "a key").unwrap();
    let elsewhere = host.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::hard_link(&key, elsewhere.join("innocent.db")).unwrap();
    let registry = fresh(&host)
        .with_protected_paths(&ProtectedPaths::new().with(&key))
        .unwrap();
    let store = host.dir.path().join("registry.db");
    for (connector_type, config, field) in [
        (
            "sqlite",
            json!({"path": store.display().to_string(), "read_only": false}),
            "path",
        ),
        (
            "sqlite",
            json!({"path": format!("{}-wal", store.display())}),
            "path",
        ),
        ("sqlite", json!({"path": key.display().to_string()}), "path"),
        (
            "sqlite",
            json!({"path": elsewhere.join("innocent.db").display().to_string()}),
            "path",
        ),
        (
            "s3",
            json!({"provider": "local", "root": host.dir.path().display().to_string()}),
            "root",
        ),
        ("s3", json!({"provider": "local", "root": "/"}), "root"),
    ] {
        for origin in [Origin::Operator, Origin::Tenant] {
            let registry = if origin == Origin::Tenant {
                fresh(&host)
                    .with_protected_paths(&ProtectedPaths::new().with(&key))
                    .unwrap()
                    .with_tenant_policy(TenantPolicy {
                        allowed_roots: vec!["/".into()],
                        ..TenantPolicy::default()
                    })
                    .unwrap()
            } else {
                fresh(&host)
                    .with_protected_paths(&ProtectedPaths::new().with(&key))
                    .unwrap()
            };
            let error = registry
                .create_connector("acme", new(connector_type, config.clone()), origin)
                .await
                .expect_err("the server's own files are refused");
            let found = error
                .fields()
                .iter()
                .find(|f| f.field == field)
                .unwrap_or_else(|| panic!("{error:?}"));
            assert!(
                found.message.contains("server's own files"),
                "{config} as {origin:?}: {found:?}"
            );
        }
    }
    // The host's identity is the operator's, but even the operator's token file may not be the key.
    let error = registry
        .create_connector(
            "acme",
            new(
                "s3",
                json!({"bucket": "b", "credentials": "web_identity", "role_arn": "arn:aws:iam::1:role/r",
                    "web_identity_token_file": key.display().to_string()}),
            ),
            Origin::Operator,
        )
        .await
        .expect_err("the key is no token file");
    assert_eq!(error.fields()[0].field, "web_identity_token_file", "{error:?}");
    assert!(error.fields()[0].message.contains("server's own files"));

    // A local folder that holds a hard link to the key serves everything but that entry.
    let docs = registry
        .create_connector(
            "acme",
            new(
                "s3",
                json!({"provider": "local", "root": elsewhere.display().to_string(), "bucket": "docs"}),
            ),
            Origin::Operator,
        )
        .await
        .unwrap();
    registry.put_agent("acme", "bot", "Bot").await.unwrap();
    registry
        .grant(
            "acme",
            "bot",
            &docs.id,
            [tributary_core::AccessClass::Read].into(),
        )
        .await
        .unwrap();
    let error = registry
        .call_tool("acme", "bot", "attempt_get", json!({"key": "innocent.db"}))
        .await
        .expect_err("the hard link is refused");
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert!(!format!("{error:?}").contains("a key"));
}
