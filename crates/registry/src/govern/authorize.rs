//! Authorization: deny by default. A call is allowed only when its class is among the connector's allowed
//! operations *and* the agent's grant, and every object it touches matches the connector's allowed objects.

use async_trait::async_trait;
use tributary_core::{Access, AccessPolicy, Error, ObjectRules};

use crate::govern::layer::{CallContext, CallError, CallResult, Layer, Next};
use crate::model::{ConnectorDefinition, Grant, Status};

/// The authorization layer: the plan's access against the connector's rules and the agent's grant.
pub struct Authorize;

#[async_trait]
impl Layer for Authorize {
    fn name(&self) -> &'static str {
        "authorize"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        let Some(access) = &context.access else {
            return Err(CallError::failed(Error::internal(
                "authorization ran before the call was planned",
            )));
        };
        authorize(&context.definition, context.grant.as_ref(), access).map_err(CallError::denied)?;
        next.run(context).await
    }
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use tributary_core::{AccessClass, ErrorKind};

    use super::*;
    use crate::govern::layer::Stack;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Source, context, open_governance, planned};
    use crate::model::Outcome;

    fn stack() -> Stack {
        Stack::new(vec![Arc::new(Authorize), Arc::new(Execute)])
    }

    #[tokio::test]
    async fn a_granted_read_runs_and_the_rest_are_denied_before_the_source_sees_them() {
        let source = Source::new(1);
        let mut granted = planned(context(
            &source,
            "read",
            open_governance(),
            Some(&[AccessClass::Read]),
        ))
        .await;
        stack().run(&mut granted).await.unwrap();
        assert_eq!(source.executed(), 1);

        let mut no_grant = planned(context(&source, "read", open_governance(), None)).await;
        let refused = stack().run(&mut no_grant).await.unwrap_err();
        assert_eq!(
            (refused.outcome, refused.error.kind()),
            (Outcome::Denied, ErrorKind::PermissionDenied)
        );
        let mut beyond_grant = planned(context(
            &source,
            "write",
            open_governance(),
            Some(&[AccessClass::Read]),
        ))
        .await;
        let refused = stack().run(&mut beyond_grant).await.unwrap_err();
        assert_eq!(refused.outcome, Outcome::Denied);
        assert!(
            refused.error.message().contains("may not write"),
            "{}",
            refused.error
        );
        assert_eq!(source.executed(), 1, "no refused call reached the source");
    }

    #[tokio::test]
    async fn a_call_not_yet_planned_is_never_allowed() {
        let source = Source::new(1);
        let mut unplanned = context(&source, "read", open_governance(), Some(&[AccessClass::Read]));
        let failure = stack().run(&mut unplanned).await.unwrap_err();
        assert_eq!(failure.error.kind(), ErrorKind::Internal);
        assert_eq!(source.executed(), 0);
    }
}
