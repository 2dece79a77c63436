//! MCP tool calls over stdio against the built binary: a 100-row query from the demo's SQLite shop,
//! through the whole governed path (authorize, rate limit, audit, masking of 100 rows), as an agent host
//! would run it. Reports calls per second (criterion) and latency percentiles over 1000 calls, with the
//! connector's cache off and on.
//!
//! `cargo bench -p tributary-cli --bench mcp_stdio`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;
use tributary_registry::{ConnectorUpdate, Governance, Origin};

const QUERY: &str = "SELECT id, customer_id, total, status, note FROM orders ORDER BY id LIMIT 100";

fn request() -> CallToolRequestParams {
    CallToolRequestParams::new("shop_query")
        .with_arguments(json!({ "sql": QUERY }).as_object().cloned().unwrap())
}

async fn client(data: &std::path::Path) -> RunningService<RoleClient, ()> {
    let transport = TokioChildProcess::new(
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary")).configure(|cmd| {
            cmd.args(["mcp", "--agent", "demo-agent"])
                .env("TRIBUTARY_DATA_DIR", data);
        }),
    )
    .unwrap();
    ().serve(transport).await.unwrap()
}

async fn set_cache(data: &std::path::Path, ttl: u64) {
    let (host, _) = tributary_cli::demo::open(data).await.unwrap();
    let id = host.registry.connector_id("demo", "shop").await.unwrap();
    let current = host.registry.connector("demo", &id).await.unwrap().governance;
    let governance = Governance {
        cache_ttl_seconds: ttl,
        queries_per_minute: None,
        ..current
    };
    host.registry
        .update_connector(
            "demo",
            &id,
            ConnectorUpdate {
                governance: Some(governance),
                ..Default::default()
            },
            Origin::Operator,
        )
        .await
        .unwrap();
}

fn percentiles(runtime: &tokio::runtime::Runtime, client: &RunningService<RoleClient, ()>, label: &str) {
    let mut latencies: Vec<Duration> = Vec::with_capacity(1000);
    let started = Instant::now();
    runtime.block_on(async {
        for _ in 0..1000 {
            let call = Instant::now();
            let result = client.call_tool(request()).await.unwrap();
            assert_eq!(result.is_error, Some(false));
            latencies.push(call.elapsed());
        }
    });
    let total = started.elapsed();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{label}: {:.0} calls/s sequential; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        1000.0 / total.as_secs_f64(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        latencies[latencies.len() - 1].as_secs_f64() * 1000.0,
    );
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut criterion = Criterion::default().configure_from_args();
    for (label, ttl) in [("uncached", 0), ("cached", 60)] {
        runtime.block_on(set_cache(&data, ttl));
        let client = runtime.block_on(client(&data));
        let first = runtime.block_on(client.call_tool(request())).unwrap();
        let rows = first.structured_content.as_ref().unwrap()["data"]["rows"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(rows, 100);
        let mut group = criterion.benchmark_group("mcp_stdio");
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("query_100_rows_{label}"), |b| {
            b.to_async(&runtime)
                .iter(|| async { client.call_tool(request()).await.unwrap() })
        });
        group.finish();
        percentiles(&runtime, &client, &format!("mcp_stdio/query_100_rows_{label}"));
        runtime.block_on(client.cancel()).unwrap();
    }
    criterion.final_summary();
}
