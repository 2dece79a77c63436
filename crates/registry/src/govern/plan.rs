//! Planning: the connector resolves the call into the access it needs, under the budget the call may
//! return (the caps go down with the request, so connectors stop reading there).

use async_trait::async_trait;
use tributary_core::Budget;

use crate::govern::layer::{CallContext, CallResult, Layer, Next};
use crate::govern::limits::CallLimits;

/// The plan layer: sets the call's budget, plans it, and records the access it needs.
pub struct PlanCall {
    pub(crate) limits: CallLimits,
}

#[async_trait]
impl Layer for PlanCall {
    fn name(&self) -> &'static str {
        "plan"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        let limits = context.definition.governance.call_limits(self.limits);
        context.request.budget = Budget {
            max_rows: Some(limits.max_rows as u64),
            max_bytes: Some(limits.max_bytes as u64),
        };
        let plan = context.connector.plan(context.request.clone()).await?;
        context.access = Some(plan.access().clone());
        context.plan = Some(plan);
        next.run(context).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;
    use crate::govern::layer::Stack;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Source, context, open_governance};

    #[tokio::test]
    async fn the_plan_carries_the_caps_as_its_budget_and_names_the_objects() {
        let stack = Stack::new(vec![
            Arc::new(PlanCall {
                limits: CallLimits {
                    max_rows: 7,
                    max_bytes: 5000,
                },
            }),
            Arc::new(Execute),
        ]);
        let source = Source::new(1);
        let mut call = context(&source, "read", open_governance(), None);
        stack.run(&mut call).await.unwrap();
        assert_eq!(
            call.request.budget,
            Budget {
                max_rows: Some(7),
                max_bytes: Some(5000)
            }
        );
        assert_eq!(call.objects().collect::<Vec<_>>(), ["people"]);
        assert!(call.is_read());
        assert!(call.plan.is_none(), "execution took the plan");

        // A connector's own caps lower the server's, never raise them.
        let lower = crate::model::Governance {
            max_rows_per_call: Some(3),
            max_bytes_per_call: Some(10_000_000),
            ..open_governance()
        };
        let mut capped = context(&source, "read", lower, None);
        stack.run(&mut capped).await.unwrap();
        assert_eq!(
            capped.request.budget,
            Budget {
                max_rows: Some(3),
                max_bytes: Some(5000)
            }
        );

        let mut unknown = context(&source, "drop_everything", open_governance(), None);
        let failure = stack.run(&mut unknown).await.unwrap_err();
        assert_eq!(failure.error.kind(), tributary_core::ErrorKind::Unsupported);
        assert_eq!(source.executed(), 2, "the unknown operation never ran");
    }
}
