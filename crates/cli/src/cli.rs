//! The command line. The commands, flags and arguments named in the project's issue are fixed (users and
//! scripts depend on them); the others are additions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Tributary: governed connectors for AI agents. With no `--config`, every command uses the embedded
/// demo in `./tributary-data` (or `$TRIBUTARY_DATA_DIR`), created on first use.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The configuration file (TOML). Without it, the embedded demo.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST admin API (/api/v1), MCP over streamable HTTP (/mcp) and /healthz.
    Serve {
        /// Listen on this address (default 127.0.0.1:8080; port 0 picks a free one).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Shared options.
        #[command(flatten)]
        common: Common,
    },
    /// Serve MCP on stdin/stdout for one agent, as agent hosts launch local MCP servers. Logs go to stderr.
    Mcp {
        /// The agent whose tools to offer (AGENT, or ORGANIZATION/AGENT when several have it).
        #[arg(long, value_name = "AGENT_ID")]
        agent: String,
        /// Shared options.
        #[command(flatten)]
        common: Common,
    },
    /// Look at connectors.
    Connectors {
        /// What to do.
        #[command(subcommand)]
        action: ConnectorAction,
        /// Shared options.
        #[command(flatten)]
        common: Common,
    },
    /// An agent's tools.
    Tools {
        /// What to do.
        #[command(subcommand)]
        action: ToolAction,
        /// Shared options.
        #[command(flatten)]
        common: Common,
    },
    /// Master key operations.
    Keys {
        /// What to do.
        #[command(subcommand)]
        action: KeyAction,
        /// Shared options.
        #[command(flatten)]
        common: Common,
    },
    /// Bearer tokens for the REST API and /mcp.
    Tokens {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
        /// Shared options.
        #[command(flatten)]
        common: Common,
    },
}

/// `tributary connectors ...`
#[derive(Debug, Subcommand)]
pub enum ConnectorAction {
    /// Every connector, with status and last test.
    List,
    /// One connector (secrets shown as set or unset). NAME or ORGANIZATION/NAME.
    Show {
        /// The connector.
        name: String,
    },
    /// Test a connector now.
    Test {
        /// The connector.
        name: String,
    },
    /// Discover a connector's objects.
    Schema {
        /// The connector.
        name: String,
    },
}

/// `tributary tools ...`
#[derive(Debug, Subcommand)]
pub enum ToolAction {
    /// The tools an agent sees.
    List {
        /// The agent.
        #[arg(long)]
        agent: String,
    },
    /// Call a tool as an agent, through the governed path.
    Call {
        /// The agent.
        #[arg(long)]
        agent: String,
        /// The tool's name.
        tool: String,
        /// The arguments, as JSON.
        #[arg(default_value = "{}")]
        json_args: String,
    },
}

/// `tributary keys ...`
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Re-encrypt every stored config under a new key.
    Rotate,
}

/// `tributary tokens ...`
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Issue a token and print it once.
    Issue {
        /// An admin token for this organization.
        #[arg(long, conflicts_with = "agent", required_unless_present = "agent")]
        admin: Option<String>,
        /// An agent token for this agent (AGENT, or ORGANIZATION/AGENT when several have it).
        #[arg(long)]
        agent: Option<String>,
        /// A name to tell the token apart in `tokens list` (default `cli`).
        #[arg(long)]
        name: Option<String>,
        /// Days until the token expires (0: never). Default: `[security] token_lifetime_days`.
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
    /// Every token of every organization: id, kind, agent, name, created, last used, expires.
    List,
    /// Revoke a token by id (from `tokens list`); the console sessions opened with it end too.
    Revoke {
        /// The token's id (`tok_…`).
        id: String,
    },
}
