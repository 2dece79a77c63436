//! Calls: an agent's tools, and a call through the governed path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tributary_core::{Error, OperationRequest, Result};
use tributary_mask::MaskReport;

use super::live::Live;
use super::{Registry, UNKNOWN_TOOL};
use crate::govern::audit;
use crate::govern::layer::CallContext;
use crate::model::{Agent, ConnectorDefinition, Grant, Outcome, Status};
use crate::tools::{self, Tool, ToolResult};

/// How long an agent's tool table is used before it is read from the store again. A change made through
/// this registry takes effect at once; one made by another instance sharing the store, within this time.
pub(super) const TOOL_TABLE_TTL: Duration = Duration::from_secs(2);

/// One of an agent's tools, with what a call to it needs.
pub(super) struct Granted {
    pub(super) tool: Tool,
    pub(super) definition: Arc<ConnectorDefinition>,
    pub(super) grant: Grant,
    pub(super) live: Arc<Live>,
}

/// An agent and its tools, as the store said at `generation`.
pub(super) struct ToolTable {
    pub(super) agent: Agent,
    pub(super) tools: Vec<Granted>,
    generation: u64,
    built: Instant,
}

/// Every agent's tool table, kept in memory so a call reads nothing from the store; any change to
/// connectors, agents, grants or keys through this registry forgets them all.
#[derive(Default)]
pub(super) struct ToolTables {
    /// By organization, then agent id (looked up without building a key).
    tables: Mutex<HashMap<String, HashMap<String, Arc<ToolTable>>>>,
    generation: AtomicU64,
}

impl ToolTables {
    /// Something tool tables depend on changed.
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.tables.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn fresh(&self, organization: &str, agent: &str) -> Option<Arc<ToolTable>> {
        let tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        tables
            .get(organization)
            .and_then(|agents| agents.get(agent))
            .filter(|table| table.generation == self.generation() && table.built.elapsed() < TOOL_TABLE_TTL)
            .cloned()
    }

    /// Keeps `table`, unless something changed while it was built.
    fn keep(&self, organization: &str, agent: &str, table: Arc<ToolTable>) {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        if table.generation == self.generation() {
            tables
                .entry(organization.to_owned())
                .or_default()
                .insert(agent.to_owned(), table);
        }
    }
}

impl Registry {
    /// The tools `agent` of `organization` may call: one per granted connector and operation class it
    /// holds.
    pub async fn tools_for_agent(&self, organization: &str, agent: &str) -> Result<Vec<Tool>> {
        Ok(self
            .tool_table(organization, agent)
            .await?
            .tools
            .iter()
            .map(|granted| granted.tool.clone())
            .collect())
    }

    /// The agent's tool table: from memory while fresh, otherwise built from the store (and kept, unless
    /// something changed while it was built).
    pub(super) async fn tool_table(&self, organization: &str, agent: &str) -> Result<Arc<ToolTable>> {
        if let Some(table) = self.tool_tables.fresh(organization, agent) {
            return Ok(table);
        }
        let generation = self.tool_tables.generation();
        let table = Arc::new(self.build_tool_table(organization, agent, generation).await?);
        self.tool_tables.keep(organization, agent, table.clone());
        Ok(table)
    }

    /// The agent, and each of its tools with the definition, grant and live connector it comes from.
    async fn build_tool_table(&self, organization: &str, agent: &str, generation: u64) -> Result<ToolTable> {
        let agent = self
            .store
            .agent_named(organization, agent)
            .await?
            .ok_or_else(|| {
                Error::permission_denied(format!("unknown agent `{agent}`"))
                    .with_hint("an administrator must create the agent first")
            })?;
        let mut tools = Vec::new();
        let mut sources = Vec::new();
        for grant in self.store.grants_of_agent(&agent.uid).await? {
            let Some(definition) = self.store.connector(&grant.connector).await? else {
                continue;
            };
            if definition.organization != agent.organization || definition.status == Status::Disabled {
                continue;
            }
            // A connector that cannot be built offers no tools (its test says why).
            let Ok(live) = self.live(&definition).await else {
                continue;
            };
            let definition = Arc::new(definition);
            for operation in live.connector.operations() {
                let allowed = grant.operations.contains(&operation.access)
                    && definition
                        .governance
                        .allowed_operations
                        .contains(&operation.access);
                if allowed {
                    tools.push(tools::tool(
                        &definition.id,
                        &definition.name,
                        &definition.connector_type,
                        operation,
                    ));
                    sources.push((definition.clone(), grant.clone(), live.clone()));
                }
            }
        }
        tools::deduplicate(&mut tools);
        let tools = tools
            .into_iter()
            .zip(sources)
            .map(|(tool, (definition, grant, live))| Granted {
                tool,
                definition,
                grant,
                live,
            })
            .collect();
        Ok(ToolTable {
            agent,
            tools,
            generation,
            built: Instant::now(),
        })
    }

    /// Calls a tool for an agent of an organization through the governed path, and audits it.
    pub async fn call_tool(
        &self,
        organization: &str,
        agent: &str,
        tool: &str,
        arguments: Value,
    ) -> Result<ToolResult> {
        // Identify: the agent, then the tool among its own, with its connector and grant.
        let table = self.tool_table(organization, agent).await?;
        let agent = &table.agent;
        let started = Instant::now();
        let Some(granted) = table.tools.iter().find(|granted| granted.tool.name == tool) else {
            let error = Error::not_found(format!("this agent has no tool named `{}`", audit::clip(tool)))
                .with_hint("list the tools; names are {connector}_{operation}");
            // A call to a tool the agent does not have is a denial worth seeing: probing, or a stale list.
            self.audit_writer()
                .write(audit::Entry {
                    organization: &agent.organization,
                    connector: "",
                    mask: true,
                    agent: &agent.id,
                    operation: UNKNOWN_TOOL,
                    objects: vec![tool],
                    arguments: &arguments,
                    started,
                    outcome: Outcome::Denied,
                    error_kind: Some(error.kind().code().to_owned()),
                    output: None,
                    cached: false,
                    masked: &MaskReport::default(),
                })
                .await;
            return Err(error);
        };
        let mut context = CallContext {
            request: OperationRequest::new(granted.tool.operation.clone(), arguments),
            connector: granted.live.connector.clone(),
            secrets: granted.live.secrets.clone(),
            agent: agent.clone(),
            definition: granted.definition.clone(),
            grant: Some(granted.grant.clone()),
            plan: None,
            access: None,
            started,
            cached: false,
            masked: MaskReport::default(),
        };
        let output = self
            .stack()
            .run(&mut context)
            .await
            .map_err(|failure| failure.error)?;
        Ok(ToolResult {
            connector: context.definition.name.clone(),
            operation: granted.tool.operation.clone(),
            data: output.data,
            truncation: output.truncation,
            masked: context.masked.counts,
            cached: context.cached,
        })
    }
}
