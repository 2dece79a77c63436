//! The governed path as a stack of layers, after tower's `Layer`/`Service` and OpenDAL's `Layer`: each
//! concern (plan, authorize, rate limit, cache, turns, cap, mask, execute, audit) is one [`Layer`] in its
//! own file, and a call runs through them in order. A layer does its work before the call goes on
//! ([`Next::run`]), after it comes back, or instead of it (the cache answers, authorization refuses).
//!
//! The registry builds its default stack in one place ([`crate::Registry`]'s `stack`), and a host adds its
//! own layers with [`crate::Registry::with_layer`].

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use tributary_core::{Access, AccessClass, Connector, Error, ErrorKind, OperationRequest, Output, Plan};
use tributary_mask::MaskReport;

use crate::model::{Agent, ConnectorDefinition, Grant, Outcome};

/// One call as it goes through the stack: who calls, through which connector and grant, what it asks,
/// and what the layers have learned so far.
pub struct CallContext {
    /// The calling agent.
    pub agent: Agent,
    /// The connector's definition (shared with the agent's tool table, not copied per call).
    pub definition: Arc<ConnectorDefinition>,
    /// The agent's grant on the connector, if it has one.
    pub grant: Option<Grant>,
    /// The live connector.
    pub connector: Arc<dyn Connector>,
    /// The operation and its parameters, with the budget the call may return.
    pub request: OperationRequest,
    /// The connector's plan, once planned (the execute layer takes it).
    pub plan: Option<Plan>,
    /// What the plan says the call needs, once planned: its class and the objects it touches.
    pub access: Option<Access>,
    /// When the call started.
    pub started: Instant,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// What masking replaced.
    pub masked: MaskReport,
    /// The connector's configured secrets, scrubbed from every error (never shown to a layer outside the
    /// registry).
    pub(crate) secrets: Arc<[String]>,
}

impl CallContext {
    /// The objects the call touches, as the plan named them (none before it is planned).
    pub fn objects(&self) -> impl Iterator<Item = &str> {
        self.access
            .iter()
            .flat_map(|access| access.objects.iter().map(String::as_str))
    }

    /// Whether the call only reads (known once planned; a call not yet planned counts as a write).
    pub fn is_read(&self) -> bool {
        self.access
            .as_ref()
            .is_some_and(|access| access.class == AccessClass::Read)
    }
}

impl std::fmt::Debug for CallContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallContext")
            .field("agent", &self.agent.id)
            .field("organization", &self.agent.organization)
            .field("connector", &self.definition.name)
            .field("operation", &self.request.operation)
            .field("objects", &self.objects().collect::<Vec<_>>())
            .field("cached", &self.cached)
            .finish_non_exhaustive()
    }
}

/// Why a call did not succeed: the error, and whether governance refused it (`denied`) or it failed.
#[derive(Debug)]
pub struct CallError {
    /// How the audit records it.
    pub outcome: Outcome,
    /// What the caller gets.
    pub error: Error,
}

impl CallError {
    /// Governance refused the call.
    pub fn denied(error: Error) -> CallError {
        CallError {
            outcome: Outcome::Denied,
            error,
        }
    }

    /// The call failed.
    pub fn failed(error: Error) -> CallError {
        CallError {
            outcome: Outcome::Failed,
            error,
        }
    }
}

/// How the audit records `error` from a connector or a limit: a refusal (a read-only rule, the
/// database's permission check, a rate or concurrency limit) is a denial, the rest are failures.
pub fn outcome_of(error: &Error) -> Outcome {
    if matches!(error.kind(), ErrorKind::PermissionDenied | ErrorKind::RateLimited) {
        Outcome::Denied
    } else {
        Outcome::Failed
    }
}

/// An error from a connector or a limit, classified by [`outcome_of`].
impl From<Error> for CallError {
    fn from(error: Error) -> CallError {
        CallError {
            outcome: outcome_of(&error),
            error,
        }
    }
}

/// What a layer returns.
pub type CallResult = std::result::Result<Output, CallError>;

/// One step of the governed path.
#[async_trait]
pub trait Layer: Send + Sync {
    /// A short name, for errors and listings (`authorize`, `cache`).
    fn name(&self) -> &'static str;

    /// Handles `context`: work before and after `next.run(context)`, or an answer instead of it.
    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult;
}

/// The rest of the stack below a layer.
#[derive(Clone, Copy)]
pub struct Next<'a> {
    layers: &'a [Arc<dyn Layer>],
}

impl Next<'_> {
    /// Runs the next layer (and, through it, the rest).
    pub async fn run(self, context: &mut CallContext) -> CallResult {
        match self.layers.split_first() {
            Some((layer, rest)) => layer.call(context, Next { layers: rest }).await,
            None => Err(CallError::failed(Error::internal(
                "the governed path ended without a layer that executes the call",
            ))),
        }
    }
}

/// Layers in order, outermost first.
#[derive(Clone, Default)]
pub struct Stack {
    layers: Vec<Arc<dyn Layer>>,
}

impl Stack {
    /// A stack of `layers`, outermost first.
    pub fn new(layers: Vec<Arc<dyn Layer>>) -> Stack {
        Stack { layers }
    }

    /// Runs `context` through every layer.
    pub async fn run(&self, context: &mut CallContext) -> CallResult {
        Next { layers: &self.layers }.run(context).await
    }

    /// The layers' names, outermost first.
    pub fn names(&self) -> Vec<&'static str> {
        self.layers.iter().map(|layer| layer.name()).collect()
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Recorder, Source, context, open_governance, planned};

    #[tokio::test]
    async fn layers_run_outermost_first_and_unwind_in_reverse() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let stack = Stack::new(vec![
            Arc::new(Recorder {
                name: "outer",
                log: log.clone(),
            }),
            Arc::new(Recorder {
                name: "inner",
                log: log.clone(),
            }),
            Arc::new(Execute),
        ]);
        assert_eq!(stack.names(), ["outer", "inner", "execute"]);
        let source = Source::new(1);
        let mut call = planned(context(&source, "read", open_governance(), None)).await;
        stack.run(&mut call).await.unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            ["outer in", "inner in", "inner out", "outer out"]
        );
        assert_eq!(source.executed(), 1);
    }

    #[tokio::test]
    async fn a_stack_without_an_executing_layer_fails_instead_of_answering_nothing() {
        let source = Source::new(1);
        let mut call = planned(context(&source, "read", open_governance(), None)).await;
        let failure = Stack::default().run(&mut call).await.unwrap_err();
        assert_eq!(failure.outcome, Outcome::Failed);
        assert_eq!(failure.error.kind(), ErrorKind::Internal);
    }

    #[test]
    fn refusals_are_denials_and_the_rest_failures() {
        assert_eq!(outcome_of(&Error::permission_denied("no")), Outcome::Denied);
        assert_eq!(
            outcome_of(&Error::new(ErrorKind::RateLimited, "slow down")),
            Outcome::Denied
        );
        assert_eq!(
            outcome_of(&Error::new(ErrorKind::Unreachable, "down")),
            Outcome::Failed
        );
    }
}
