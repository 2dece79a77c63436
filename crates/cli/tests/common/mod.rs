//! Shared setup: the embedded demo in a fresh folder, served in process on a free port.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use tributary_registry::{Principal, Registry};

pub struct Served {
    pub url: String,
    pub registry: Arc<Registry>,
    pub dir: tempfile::TempDir,
    pub admin: String,
    pub agent: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The demo, served on 127.0.0.1, with an admin token for `demo` and an agent token for `demo-agent`, under
/// the default (strict) tenant policy.
pub async fn served() -> Served {
    served_with(|_| tributary_core::TenantPolicy::default()).await
}

/// A tenant policy for tests whose tenant connectors reach the test services on 127.0.0.1 over plain text
/// (throwaway servers without TLS), and use files under `roots`. Said explicitly, never the default.
pub fn loopback_policy(roots: Vec<std::path::PathBuf>) -> tributary_core::TenantPolicy {
    tributary_core::TenantPolicy {
        allowed_roots: roots,
        allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        allow_plaintext: true,
        ..tributary_core::TenantPolicy::default()
    }
}

/// The demo served as [`served`] does, with the tenant policy `policy` makes from the data folder (whose
/// `demo` subfolder exists already, for policies that allow it as a root).
pub async fn served_with(policy: impl FnOnce(&std::path::Path) -> tributary_core::TenantPolicy) -> Served {
    served_on(policy, tributary_cli::api::ServerOptions::default()).await
}

/// The demo served with `options` (limits, host names) by the server loop `tributary serve` runs.
pub async fn served_on(
    policy: impl FnOnce(&std::path::Path) -> tributary_core::TenantPolicy,
    options: tributary_cli::api::ServerOptions,
) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("demo")).unwrap();
    let policy = policy(&data);
    let (host, fresh) = tributary_cli::demo::open_with(&data, &policy).await.unwrap();
    assert!(fresh);
    let registry = host.registry.clone();
    let admin = registry
        .issue_token(
            Principal::Admin {
                organization: "demo".into(),
            },
            "test",
        )
        .await
        .unwrap();
    let agent = registry
        .issue_token(
            Principal::Agent {
                organization: "demo".into(),
                agent: "demo-agent".into(),
            },
            "test",
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = tributary_cli::api::app_with(registry.clone(), &options);
    let task = tokio::spawn(tributary_cli::api::server::serve(
        listener,
        app,
        options.connections,
        std::future::pending(),
    ));
    Served {
        url,
        registry,
        dir,
        admin,
        agent,
        task,
    }
}

/// The tributary binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tributary")
}
