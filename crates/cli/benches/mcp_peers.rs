//! Tributary against Google's MCP Toolbox, side by side in one run on the same PostgreSQL database: MCP
//! over stdio, the same statements, calls made one after another by the same rmcp client. Run it with
//! `benches/toolbox.sh`, which installs Toolbox, loads the data and passes where everything is:
//!
//! - `BENCH_TOOLBOX`: the Toolbox binary; `BENCH_TRIBUTARY_CONFIG`: a configuration whose agent `bench`
//!   has the PostgreSQL connector `crm` (masking and audit on);
//! - `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_DATABASE`, `POSTGRES_USER`, `POSTGRES_PASSWORD`;
//! - `BENCH_CALLS` (default 2000); `BENCH_QUERY=1` or `2` runs one query only, `BENCH_PEERS=tributary` one
//!   server only (to profile it; no ratios are printed then).
//!
//! Then Tributary alone over streamable HTTP (`over_http/mod.rs`): 1, 8 and 64 agents calling at once, each
//! with its own token and session (`BENCH_HTTP=0` skips it).
//!
//! Beside them runs the floor (`floor/mod.rs`): this same executable started as a bare rmcp server that
//! runs the statement through tokio-postgres with no governance at all.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    missing_docs
)]

mod floor;
mod over_http;

/// The allocator `tributary` itself runs on, so the floor differs from it by governance alone.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let mut floor = tokio::process::Command::new(std::env::current_exe().unwrap());
    floor.env("BENCH_FLOOR_SERVE", "1");
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
        Peer {
            name: "floor (bare rmcp + tokio-postgres)",
            tool: "execute_sql",
            command: floor,
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
    summary(latencies, started.elapsed())
}

/// Calls per second over `total`, and the p50 and p99 of `latencies` in milliseconds.
fn summary(mut latencies: Vec<Duration>, total: Duration) -> (f64, f64, f64) {
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    (
        latencies.len() as f64 / total.as_secs_f64(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
    )
}

fn main() {
    if floor::requested() {
        return floor::serve();
    }
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|calls| calls.parse().ok())
        .unwrap_or(2000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!("| query | server | calls/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    let only: Option<usize> = std::env::var("BENCH_QUERY").ok().and_then(|n| n.parse().ok());
    for (index, (label, sql)) in QUERIES.into_iter().enumerate() {
        if only.is_some_and(|only| only != index + 1) {
            continue;
        }
        let mut rates = Vec::new();
        let wanted = std::env::var("BENCH_PEERS").ok();
        let peers: Vec<Peer> = peers()
            .into_iter()
            .filter(|peer| {
                wanted
                    .as_deref()
                    .is_none_or(|wanted| wanted.split(',').any(|w| peer.name.starts_with(w)))
            })
            .collect();
        let all = peers.len() == 3;
        for peer in peers {
            let client = runtime.block_on(start(peer.command));
            let (rate, p50, p99) = runtime.block_on(measure(&client, peer.tool, sql, calls));
            println!(
                "| {label} | {} | {rate:.0} | {p50:.2} ms | {p99:.2} ms |",
                peer.name
            );
            rates.push(rate);
            runtime.block_on(client.cancel()).unwrap();
        }
        if !all {
            continue;
        }
        println!(
            "| {label} | ratio tributary/toolbox | {:.2}× | | |",
            rates[0] / rates[1]
        );
        println!(
            "| {label} | tributary's cost over the floor | {:+.0}% | | |",
            (rates[2] / rates[0] - 1.0) * 100.0
        );
    }
    if std::env::var("BENCH_HTTP").is_ok_and(|value| value == "0") {
        return;
    }
    let config =
        std::env::var("BENCH_TRIBUTARY_CONFIG").expect("BENCH_TRIBUTARY_CONFIG: run benches/toolbox.sh");
    let server = over_http::start(&config);
    println!();
    println!("| query | agents at once (HTTP) | calls/s | p50 | p99 |");
    println!("|---|---|---|---|---|");
    for (index, (label, sql)) in QUERIES.into_iter().enumerate() {
        if only.is_some_and(|only| only != index + 1) {
            continue;
        }
        for agents in [1, 8, 64] {
            // About the same number of calls in all at each concurrency.
            let each = (calls / agents).max(20);
            let (rate, p50, p99) = runtime.block_on(server.measure(agents, "crm_query", sql, each));
            println!("| {label} | {agents} | {rate:.0} | {p50:.2} ms | {p99:.2} ms |");
        }
    }
}
