//! The `tributary` binary's library: the command line, the configuration file, the embedded demo, the
//! REST admin API and the MCP server, all hosting one [`tributary_registry::Registry`].
//!
//! - [`cli`]: the commands (`serve`, `mcp`, `connectors`, `tools`, `keys`, `tokens`).
//! - [`settings`]: the TOML configuration file, `${VAR}` expansion, errors with line and field.
//! - [`host`]: opening the registry from a file (syncing its connectors and agents) or the demo.
//! - [`demo`]: the embedded default.
//! - [`api`]: `/api/v1` (admin tokens), `/mcp` (agent tokens), `/healthz`.
//! - [`console`]: the web console at `/` for administrators.
//! - [`mcp`]: the MCP server over stdio and HTTP.
//! - [`commands`]: what each command does and prints.

pub mod api;
pub mod cli;
pub mod commands;
pub mod console;
pub mod demo;
pub mod host;
pub mod mcp;
pub mod settings;
pub mod stdio;
