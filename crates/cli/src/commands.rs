//! What each command does, and how its output looks: readable tables, or JSON with `--json`.

use std::net::SocketAddr;
use std::path::PathBuf;

use rmcp::ServiceExt;
use serde_json::{Value, json};
use tributary_core::{Error, ErrorKind, Result};
use tributary_registry::{ConnectorView, MasterKey, Principal, Registry};

use crate::cli::{Command, Common, ConnectorAction, KeyAction, TokenAction, ToolAction};
use crate::demo;
use crate::host::{self, Host, KeySource};
use crate::mcp::McpServer;

/// Runs a parsed command.
pub async fn run(command: Command) -> Result<()> {
    match command {
        Command::Serve { listen, common } => serve(listen, &common).await,
        Command::Mcp { agent, common } => mcp(agent, &common).await,
        Command::Connectors { action, common } => connectors(action, &common).await,
        Command::Tools { action, common } => tools(action, &common).await,
        Command::Keys {
            action: KeyAction::Rotate,
            common,
        } => rotate(&common).await,
        Command::Tokens { action, common } => tokens(action, &common).await,
    }
}

/// The host of a command: the configuration file's, or the embedded demo (and whether it was just made).
async fn open(common: &Common) -> Result<(Host, bool)> {
    match &common.config {
        Some(path) => Ok((host::open(path).await?, false)),
        None => demo::open(&demo::data_dir()).await,
    }
}

fn print(common: &Common, value: &Value, table: impl FnOnce() -> String) {
    if common.json {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        println!("{}", table());
    }
}

/// Columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| (*h).to_owned()).collect())];
    out.extend(rows.iter().map(|row| line(row.clone())));
    out.join("\n")
}

async fn find(registry: &Registry, name: &str) -> Result<ConnectorView> {
    let all = registry.all_connectors().await?;
    let (organization, name) = match name.split_once('/') {
        Some((organization, name)) => (Some(organization), name),
        None => (None, name),
    };
    let mut matches: Vec<ConnectorView> = all
        .into_iter()
        .filter(|view| view.name == name && organization.is_none_or(|org| view.organization == org))
        .collect();
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(Error::not_found(format!("no connector named `{name}`"))
            .with_hint("`tributary connectors list` shows them")),
        _ => Err(
            Error::invalid_input(format!("several organizations have a connector named `{name}`"))
                .with_hint("write it as ORGANIZATION/NAME"),
        ),
    }
}

/// The agent an operator's command names: `AGENT` when one organization has it, else `ORGANIZATION/AGENT`.
async fn find_agent(registry: &Registry, name: &str) -> Result<(String, String)> {
    if let Some((organization, agent)) = name.split_once('/') {
        return Ok((organization.to_owned(), agent.to_owned()));
    }
    let mut found = registry.agents_named(name).await?;
    match found.len() {
        1 => {
            let agent = found.remove(0);
            Ok((agent.organization, agent.id))
        }
        0 => Err(Error::not_found(format!("no agent `{name}`"))
            .with_hint("an administrator creates agents in the console, the API or the configuration file")),
        _ => Err(
            Error::invalid_input(format!("several organizations have an agent `{name}`"))
                .with_hint("write it as ORGANIZATION/AGENT"),
        ),
    }
}

fn value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

async fn connectors(action: ConnectorAction, common: &Common) -> Result<()> {
    let (host, _) = open(common).await?;
    let registry = &host.registry;
    match action {
        ConnectorAction::List => {
            let all = registry.all_connectors().await?;
            print(common, &value(&all), || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|c| {
                        vec![
                            c.organization.clone(),
                            c.name.clone(),
                            c.connector_type.clone(),
                            value(&c.status).as_str().unwrap_or_default().to_owned(),
                            c.last_test.as_ref().map_or("never".into(), |t| {
                                format!("{} ({:?})", t.at.format("%Y-%m-%d %H:%M:%S"), t.report.status)
                                    .to_lowercase()
                            }),
                            c.grants
                                .iter()
                                .map(|g| g.agent.clone())
                                .collect::<Vec<_>>()
                                .join(","),
                        ]
                    })
                    .collect();
                table(
                    &["ORGANIZATION", "NAME", "TYPE", "STATUS", "LAST TEST", "AGENTS"],
                    &rows,
                )
            });
        }
        ConnectorAction::Show { name } => {
            let view = find(registry, &name).await?;
            print(common, &value(&view), || {
                serde_json::to_string_pretty(&value(&view)).unwrap_or_default()
            });
        }
        ConnectorAction::Test { name } => {
            let view = find(registry, &name).await?;
            let report = registry.test_connection(&view.organization, &view.id).await;
            registry.flush_audit().await;
            let report = report?;
            print(common, &value(&report), || match &report.error {
                None => format!(
                    "{}: connected in {:.1} ms ({} {})",
                    view.name,
                    report.latency_ms,
                    report.server.as_ref().map_or("", |s| s.product.as_str()),
                    report
                        .server
                        .as_ref()
                        .and_then(|s| s.version.clone())
                        .unwrap_or_default()
                ),
                Some(error) => format!(
                    "{}: {} after {:.1} ms: {}\n  hint: {}",
                    view.name,
                    error.kind.code(),
                    report.latency_ms,
                    error.message,
                    error.hint
                ),
            });
            if !report.is_connected() {
                return Err(Error::new(
                    ErrorKind::Unreachable,
                    format!("connector `{}` failed its test", view.name),
                ));
            }
        }
        ConnectorAction::Schema { name } => {
            let view = find(registry, &name).await?;
            let catalog = registry.schema(&view.organization, &view.id).await?;
            print(common, &value(&catalog), || {
                let rows: Vec<Vec<String>> = catalog
                    .objects
                    .iter()
                    .map(|o| {
                        let fields: Vec<String> = o
                            .fields
                            .iter()
                            .map(|f| {
                                format!("{}:{}", f.name, value(&f.data_type).as_str().unwrap_or_default())
                            })
                            .collect();
                        vec![
                            o.name.clone(),
                            value(&o.kind).as_str().unwrap_or_default().to_owned(),
                            fields.join(", "),
                        ]
                    })
                    .collect();
                table(&["OBJECT", "KIND", "FIELDS"], &rows)
            });
        }
    }
    Ok(())
}

async fn tools(action: ToolAction, common: &Common) -> Result<()> {
    let (host, _) = open(common).await?;
    match action {
        ToolAction::List { agent } => {
            let (organization, agent) = find_agent(&host.registry, &agent).await?;
            let tools = host.registry.tools_for_agent(&organization, &agent).await?;
            print(common, &value(&tools), || {
                let rows: Vec<Vec<String>> = tools
                    .iter()
                    .map(|t| {
                        let kind = if t.annotations.read_only_hint {
                            "read"
                        } else {
                            "write"
                        };
                        let mut description = t.description.clone();
                        if description.chars().count() > 90 {
                            description = format!("{}…", description.chars().take(89).collect::<String>());
                        }
                        vec![t.name.clone(), kind.into(), description]
                    })
                    .collect();
                table(&["TOOL", "ACCESS", "DESCRIPTION"], &rows)
            });
        }
        ToolAction::Call {
            agent,
            tool,
            json_args,
        } => {
            let arguments: Value = serde_json::from_str(&json_args).map_err(|error| {
                Error::invalid_input(format!("the arguments are not JSON: {error}"))
                    .with_hint("quote them: '{\"sql\": \"SELECT 1\"}'")
            })?;
            let (organization, agent) = find_agent(&host.registry, &agent).await?;
            let result = host
                .registry
                .call_tool(&organization, &agent, &tool, arguments)
                .await;
            // The process ends next: the call's audit record is written first, whatever the outcome.
            host.registry.flush_audit().await;
            let result = result?;
            print(common, &value(&result), || render_result(&result));
        }
    }
    Ok(())
}

fn render_result(result: &tributary_registry::ToolResult) -> String {
    let mut out = match &result.data {
        tributary_core::Data::Rows(rows) => {
            let header: Vec<&str> = rows.columns.iter().map(|c| c.name.as_str()).collect();
            let cells: Vec<Vec<String>> = rows
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect()
                })
                .collect();
            table(&header, &cells)
        }
        other => serde_json::to_string_pretty(&value(other)).unwrap_or_default(),
    };
    if let Some(truncation) = &result.truncation {
        out.push_str(
            &format!(
                "\n(cut at {} {:?}: {} returned, {} left out)",
                truncation.limit,
                truncation.reason,
                truncation.returned,
                truncation.omitted.map_or("more".into(), |n| n.to_string())
            )
            .to_lowercase(),
        );
    }
    if !result.masked.is_empty() {
        let masked: Vec<String> = result
            .masked
            .iter()
            .map(|(entity, count)| format!("{count} {entity}"))
            .collect();
        out.push_str(&format!("\n(masked: {})", masked.join(", ")));
    }
    out
}

async fn rotate(common: &Common) -> Result<()> {
    let (host, _) = open(common).await?;
    let key = MasterKey::generate()?;
    let count = match &host.key_source {
        KeySource::File(path) => {
            // The new key is on disk before anything is sealed with it, and the old one is kept until the
            // rotation is complete: a crash in between loses nothing.
            let [_, staged, backup] = host::key_files(path);
            host::write_key_file(&staged, &key)?;
            let count = host
                .registry
                .rotate_keys(MasterKey::from_base64(&key.to_base64())?)
                .await?;
            std::fs::rename(path, &backup).map_err(|e| {
                Error::internal(format!("cannot keep the old key as {}: {e}", backup.display()))
            })?;
            std::fs::rename(&staged, path)
                .map_err(|e| Error::internal(format!("cannot install the new key: {e}")))?;
            eprintln!(
                "tributary: the new key is in {} (the old one in {}; delete it once backups are rotated)",
                path.display(),
                backup.display()
            );
            count
        }
        KeySource::Env(variable) => {
            println!("{}", key.to_base64().as_str());
            eprintln!(
                "tributary: set {variable} to the key printed above before the next start; configs are re-encrypted now"
            );
            host.registry.rotate_keys(key).await?
        }
    };
    eprintln!("tributary: re-encrypted {count} connector config(s)");
    Ok(())
}

async fn tokens(action: TokenAction, common: &Common) -> Result<()> {
    let (host, _) = open(common).await?;
    let registry = &host.registry;
    match action {
        TokenAction::Issue {
            admin,
            agent,
            name,
            expires_in_days,
        } => {
            let principal = match (admin, agent) {
                (Some(organization), _) => Principal::Admin { organization },
                (None, Some(agent)) => {
                    let (organization, agent) = find_agent(registry, &agent).await?;
                    Principal::Agent { organization, agent }
                }
                (None, None) => {
                    return Err(Error::invalid_input("give --admin ORGANIZATION or --agent AGENT"));
                }
            };
            let name = name.as_deref().unwrap_or("cli");
            let token = match expires_in_days {
                None => registry.issue_token(principal, name).await?,
                Some(0) => registry.issue_token_until(principal, name, None).await?,
                Some(days) => {
                    let at = chrono::Utc::now() + chrono::Duration::days(i64::from(days));
                    registry.issue_token_until(principal, name, Some(at)).await?
                }
            };
            println!("{token}");
        }
        TokenAction::List => {
            let tokens = registry.tokens(None).await?;
            print(common, &value(&tokens), || {
                let when = |at: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
                    at.map_or_else(|| none.to_owned(), |at| at.format("%Y-%m-%d %H:%M").to_string())
                };
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.kind.clone(),
                            t.organization.clone(),
                            t.agent.clone().unwrap_or_default(),
                            t.name.clone(),
                            when(Some(t.created_at), ""),
                            when(t.last_used_at, "never"),
                            when(t.expires_at, "never"),
                        ]
                    })
                    .collect();
                table(
                    &[
                        "ID",
                        "KIND",
                        "ORGANIZATION",
                        "AGENT",
                        "NAME",
                        "CREATED",
                        "LAST USED",
                        "EXPIRES",
                    ],
                    &rows,
                )
            });
        }
        TokenAction::Revoke { id } => {
            registry.revoke_token_id(None, &id).await?;
            eprintln!(
                "tributary: revoked token {id}; it and the console sessions opened with it no longer work"
            );
        }
    }
    Ok(())
}

async fn mcp(agent: String, common: &Common) -> Result<()> {
    let (host, _) = open(common).await?;
    let (organization, agent) = find_agent(&host.registry, &agent).await?;
    host.registry.tools_for_agent(&organization, &agent).await?;
    eprintln!("tributary: MCP on stdio for agent {agent} of {organization}");
    let server = McpServer::for_agent(host.registry.clone(), organization, agent)
        .serve(crate::stdio::transport())
        .await
        .map_err(|error| Error::internal(format!("the MCP session could not start: {error}")))?;
    // The session ends at the end of input or at SIGTERM/Ctrl-C; either way the audit is written first.
    let cancel = server.cancellation_token();
    let ended = tokio::select! {
        ended = server.waiting() => ended.map(|_| ()),
        () = stop_signal() => {
            cancel.cancel();
            Ok(())
        }
    };
    host.registry.flush_audit().await;
    ended.map_err(|error| Error::internal(format!("the MCP session failed: {error}")))
}

async fn serve(listen: Option<String>, common: &Common) -> Result<()> {
    let (host, fresh) = open(common).await?;
    let address = listen
        .or_else(|| host.settings.server.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let address: SocketAddr = address.parse().map_err(|_| {
        Error::invalid_input(format!(
            "--listen `{address}` is not an address such as 127.0.0.1:8080"
        ))
    })?;
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|error| {
        Error::new(
            ErrorKind::Unreachable,
            format!("cannot listen on {address}: {error}"),
        )
    })?;
    let bound = listener
        .local_addr()
        .map_err(|error| Error::internal(error.to_string()))?;
    announce(&host, fresh, bound, common).await?;
    let options = host.settings.server.options();
    let app = crate::api::app_with(host.registry.clone(), &options);
    crate::api::server::serve(listener, app, options.connections, stop_signal()).await;
    // Calls still running have finished; their audit records are written before the process ends.
    host.registry.flush_audit().await;
    Ok(())
}

/// SIGTERM (how service managers stop a process) or Ctrl-C.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What `serve` prints at start: where things are, and for the demo the tokens to use it at once.
async fn announce(host: &Host, fresh: bool, bound: SocketAddr, common: &Common) -> Result<()> {
    let url = format!("http://{bound}");
    if common.config.is_none() {
        let dir: PathBuf = demo::data_dir();
        if fresh {
            println!("tributary: created the demo in {}", dir.display());
        }
        if let KeySource::File(path) = &host.key_source {
            println!(
                "tributary: master key in {} (owner-only; keep it safe, it decrypts every stored credential)",
                path.display()
            );
        }
        let admin = host
            .registry
            .issue_token(
                Principal::Admin {
                    organization: demo::ORGANIZATION.into(),
                },
                "demo",
            )
            .await?;
        let agent = host
            .registry
            .issue_token(
                Principal::Agent {
                    organization: demo::ORGANIZATION.into(),
                    agent: demo::AGENT.into(),
                },
                "demo",
            )
            .await?;
        println!(
            "tributary: admin token (organization {}): {admin}",
            demo::ORGANIZATION
        );
        println!("tributary: agent token ({}): {agent}", demo::AGENT);
    } else {
        println!(
            "tributary: issue an admin token with `tributary tokens issue --admin ORGANIZATION --config FILE`"
        );
    }
    println!("tributary: console {url}/  admin API {url}/api/v1  MCP {url}/mcp");
    println!("tributary: listening on {url}");
    Ok(())
}

/// A JSON value of an error, as commands print it on failure.
pub fn error_json(error: &Error) -> Value {
    json!({ "error": error.report() })
}
