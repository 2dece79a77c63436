//! Tributary over MCP streamable HTTP with many agents at once: `tributary serve` on a loopback port, one
//! agent (and token, and MCP session) per client, every client calling the same query as fast as its
//! answers come back. Reports calls per second across all clients, and the p50 and p99 of each call.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;

type Client = RunningService<rmcp::RoleClient, ()>;

/// The server, stopped when dropped.
pub(crate) struct Server {
    child: Child,
    url: String,
    config: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tributary serve` with the configuration at `config` on a free loopback port.
pub(crate) fn start(config: &str) -> Server {
    let folder = Path::new(config).parent().expect("the configuration's folder");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config", config])
        .current_dir(folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tributary serve");
    let mut url = String::new();
    for line in BufReader::new(child.stdout.take().expect("its output")).lines() {
        if let Some(address) = line.expect("a line").strip_prefix("tributary: listening on ") {
            url = address.to_owned();
            break;
        }
    }
    assert!(!url.is_empty(), "tributary serve did not say where it listens");
    Server {
        child,
        url,
        config: config.to_owned(),
    }
}

impl Server {
    /// An MCP session over HTTP as agent `agent` (its token issued by `tributary tokens issue`).
    async fn session(&self, agent: &str) -> Client {
        let issued = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["tokens", "issue", "--agent", agent, "--config", &self.config])
            .current_dir(
                Path::new(&self.config)
                    .parent()
                    .expect("the configuration's folder"),
            )
            .output()
            .expect("tributary tokens issue");
        assert!(
            issued.status.success(),
            "{}",
            String::from_utf8_lossy(&issued.stderr)
        );
        let token = String::from_utf8(issued.stdout)
            .expect("a token")
            .trim()
            .to_owned();
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", self.url)).auth_header(token),
        );
        ().serve(transport).await.expect("an MCP session over HTTP")
    }

    /// `agents` sessions calling `tool` with `sql`, `calls` times each, all at once: calls per second in
    /// all, and the p50 and p99 of one call, in milliseconds.
    pub(crate) async fn measure(
        &self,
        agents: usize,
        tool: &str,
        sql: &str,
        calls: usize,
    ) -> (f64, f64, f64) {
        let mut clients = Vec::with_capacity(agents);
        for n in 1..=agents {
            clients.push(self.session(&format!("agent{n}")).await);
        }
        let request = || {
            CallToolRequestParams::new(tool.to_owned())
                .with_arguments(json!({ "sql": sql }).as_object().cloned().expect("an object"))
        };
        for client in &clients {
            for _ in 0..5 {
                let result = client.call_tool(request()).await.expect("a warm-up call");
                assert_ne!(result.is_error, Some(true), "{result:?}");
            }
        }
        let started = Instant::now();
        let runs = clients.iter().map(|client| async move {
            let mut latencies = Vec::with_capacity(calls);
            for _ in 0..calls {
                let call = Instant::now();
                let result = client.call_tool(request()).await.expect("a call");
                assert_ne!(result.is_error, Some(true), "{result:?}");
                latencies.push(call.elapsed());
            }
            latencies
        });
        let latencies: Vec<Duration> = futures_util::future::join_all(runs).await.concat();
        let total = started.elapsed();
        for client in clients {
            let _ = client.cancel().await;
        }
        crate::summary(latencies, total)
    }
}
