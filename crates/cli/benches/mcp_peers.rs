//! Tributary against Google's MCP Toolbox, side by side in one run on the same PostgreSQL database: MCP
//! over stdio, the same statements, calls made one after another by the same rmcp client. Run it with
//! `benches/toolbox.sh`, which installs Toolbox, loads the data and passes where everything is:
//!
//! - `BENCH_TOOLBOX`: the Toolbox binary; `BENCH_TRIBUTARY_CONFIG`: a configuration whose agent `bench`
//!   has the PostgreSQL connector `crm` (masking and audit on);
//! - `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_DATABASE`, `POSTGRES_USER`, `POSTGRES_PASSWORD`;
//! - `BENCH_CALLS` (default 2000).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;

const QUERIES: [(&str, &str); 2] = [
    (
        "100 rows, 4 columns",
        "SELECT id, name, email, phone FROM customers ORDER BY id LIMIT 100",
    ),
    (
        "1000 rows, 9 columns",
        "SELECT * FROM customers ORDER BY id LIMIT 1000",
    ),
];

struct Peer {
    name: &'static str,
    tool: &'static str,
    command: tokio::process::Command,
}

fn peers() -> Vec<Peer> {
    let toolbox = std::env::var("BENCH_TOOLBOX").expect("BENCH_TOOLBOX: run benches/toolbox.sh");
    let config =
        std::env::var("BENCH_TRIBUTARY_CONFIG").expect("BENCH_TRIBUTARY_CONFIG: run benches/toolbox.sh");
    let mut tributary = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
    tributary.args(["mcp", "--agent", "bench", "--config", &config]);
    let mut toolbox = tokio::process::Command::new(toolbox);
    toolbox.args(["--prebuilt", "postgres", "--stdio", "--disable-version-check"]);
    vec![
        Peer {
            name: "tributary",
            tool: "crm_query",
            command: tributary,
        },
        Peer {
            name: "toolbox",
            tool: "execute_sql",
            command: toolbox,
        },
    ]
}

async fn start(command: tokio::process::Command) -> RunningService<RoleClient, ClientConfig> {
    let transport = TokioChildProcess::new(command.configure(|cmd| {
        cmd.stderr(std::process::Stdio::null());
    }))
    .unwrap();
    // Both servers speak the 2025-06-18 protocol (Toolbox 1.12 has no 2026 stateless mode).
    ClientConfig::default()
        .with_protocol_version(ProtocolVersion::V_2025_06_18)
        .serve(transport)
        .await
        .unwrap()
}

/// Calls per second, p50 and p99 of `calls` sequential calls.
async fn measure(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    sql: &str,
    calls: usize,
) -> (f64, f64, f64) {
    let request = || {
        CallToolRequestParams::new(tool.to_owned())
            .with_arguments(json!({ "sql": sql }).as_object().cloned().unwrap())
    };
    for _ in 0..50 {
        let result = client.call_tool(request()).await.unwrap();
        assert_ne!(result.is_error, Some(true), "{tool}: {result:?}");
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(calls);
    let started = Instant::now();
    for _ in 0..calls {
        let call = Instant::now();
        let result = client.call_tool(request()).await.unwrap();
        assert_ne!(result.is_error, Some(true));
        latencies.push(call.elapsed());
    }
    let total = started.elapsed();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    (
        calls as f64 / total.as_secs_f64(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
    )
}

fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|calls| calls.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!("| query | server | calls/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (label, sql) in QUERIES {
        let mut rates = Vec::new();
        for peer in peers() {
            let client = runtime.block_on(start(peer.command));
            let (rate, p50, p99) = runtime.block_on(measure(&client, peer.tool, sql, calls));
            println!(
                "| {label} | {} | {rate:.0} | {p50:.2} ms | {p99:.2} ms |",
                peer.name
            );
            rates.push(rate);
            runtime.block_on(client.cancel()).unwrap();
        }
        println!(
            "| {label} | ratio tributary/toolbox | {:.2}× | | |",
            rates[0] / rates[1]
        );
    }
}
