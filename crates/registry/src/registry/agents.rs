//! Agents and their grants, always within one organization.

use std::collections::BTreeSet;

use tributary_core::{AccessClass, Error, Result};

use super::{MAX_NAME, Registry, check_text, new_id, not_found};
use crate::model::{Agent, Grant};
use crate::tools;

impl Registry {
    /// Creates an agent, or renames the organization's agent with this id. Ids are unique per
    /// organization only: another organization's agent of the same id is neither seen nor touched.
    pub async fn put_agent(&self, organization: &str, id: &str, name: &str) -> Result<Agent> {
        if !tools::valid_name(id) {
            return Err(
                Error::invalid_input("an agent id is 1 to 64 letters, digits, `_` or `-`").with_fields(vec![
                    tributary_core::FieldError::new("id", "is 1 to 64 letters, digits, `_` or `-`"),
                ]),
            );
        }
        check_text("name", name, MAX_NAME)?;
        let agent = match self.store.agent_named(organization, id).await? {
            Some(existing) => Agent {
                name: name.to_owned(),
                ..existing
            },
            None => Agent {
                uid: new_id("agt")?,
                id: id.to_owned(),
                organization: organization.to_owned(),
                name: name.to_owned(),
            },
        };
        self.store.put_agent(&agent).await?;
        self.tool_tables.changed();
        Ok(agent)
    }

    /// The organization's agents.
    pub async fn agents(&self, organization: &str) -> Result<Vec<Agent>> {
        self.store.agents(organization).await
    }

    /// Every organization's agent with this id, for the operator's commands (`tributary mcp --agent`).
    pub async fn agents_named(&self, id: &str) -> Result<Vec<Agent>> {
        self.store.agents_named(id).await
    }

    /// The grants of an agent of the organization.
    pub async fn grants_of_agent(&self, organization: &str, agent: &str) -> Result<Vec<Grant>> {
        let agent = self.agent(organization, agent).await?;
        self.store.grants_of_agent(&agent.uid).await
    }

    /// Deletes an agent with its grants and its tokens: none of them comes back with a new agent of the
    /// same id.
    pub async fn delete_agent(&self, organization: &str, agent: &str) -> Result<()> {
        let agent = self.agent(organization, agent).await?;
        self.store.delete_agent(&agent.uid).await?;
        self.tool_tables.changed();
        Ok(())
    }

    pub(super) async fn agent(&self, organization: &str, id: &str) -> Result<Agent> {
        self.store
            .agent_named(organization, id)
            .await?
            .ok_or_else(|| not_found("agent", id))
    }

    /// Grants `operations` on a connector to an agent; they must be among the connector's allowed ones.
    pub async fn grant(
        &self,
        organization: &str,
        agent: &str,
        connector: &str,
        operations: BTreeSet<AccessClass>,
    ) -> Result<Grant> {
        let agent = self.agent(organization, agent).await?;
        let definition = self.definition(organization, connector).await?;
        if operations.is_empty() {
            return Err(Error::invalid_input("grant at least one class of operation"));
        }
        if let Some(extra) = operations
            .iter()
            .find(|class| !definition.governance.allowed_operations.contains(class))
        {
            return Err(Error::invalid_input(format!(
                "connector `{}` does not allow {extra} operations, so they cannot be granted",
                definition.name
            )));
        }
        let grant = Grant {
            agent: agent.id,
            connector: definition.id,
            operations,
        };
        self.store.put_grant(&agent.uid, &grant).await?;
        self.tool_tables.changed();
        Ok(grant)
    }

    /// Removes an agent's grant on a connector.
    pub async fn revoke(&self, organization: &str, agent: &str, connector: &str) -> Result<bool> {
        let agent = self.agent(organization, agent).await?;
        let removed = self.store.delete_grant(&agent.uid, connector).await;
        self.tool_tables.changed();
        removed
    }
}
