//! Step 2: deny by default. A call is allowed only when its class is among the connector's allowed
//! operations *and* the agent's grant, and every object it touches matches the connector's allowed objects.

use tributary_core::{Access, AccessPolicy, Error, ObjectRules};

use crate::model::{ConnectorDefinition, Grant, Status};

/// Checks `access` for an agent holding `grant` (if any) on `definition`.
pub fn authorize(
    definition: &ConnectorDefinition,
    grant: Option<&Grant>,
    access: &Access,
) -> Result<(), Error> {
    if definition.status == Status::Disabled {
        return Err(
            Error::permission_denied(format!("connector `{}` is disabled", definition.name))
                .with_hint("an administrator can enable it again"),
        );
    }
    let Some(grant) = grant else {
        return Err(Error::permission_denied(format!(
            "this agent has no grant on connector `{}`",
            definition.name
        ))
        .with_hint("ask an administrator to grant the connector to this agent"));
    };
    let connector = AccessPolicy::new(
        definition.governance.allowed_operations.iter().copied(),
        definition.governance.allowed_objects.clone(),
    );
    connector.decide(access).into_result()?;
    let agent = AccessPolicy::new(grant.operations.iter().copied(), ObjectRules::Any);
    agent.decide(access).into_result().map_err(|error| {
        Error::permission_denied(format!(
            "this agent may not {} through connector `{}`: {}",
            access.class,
            definition.name,
            error.message()
        ))
        .with_hint("ask an administrator to widen the agent's grant")
    })
}
