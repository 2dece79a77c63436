//! Masking: results, and every error on the way out, lose the PII and secrets they carry.

use std::sync::Arc;

use async_trait::async_trait;
use tributary_mask::{FieldTypes, Masker};

use crate::govern::layer::{CallContext, CallError, CallResult, Layer, Next};

/// The mask layer: when the connector has `mask_pii` on, its results are masked (what was replaced goes
/// to the context, for the audit).
pub struct Mask {
    pub(crate) masker: Arc<Masker>,
}

#[async_trait]
impl Layer for Mask {
    fn name(&self) -> &'static str {
        "mask"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        let mut output = next.run(context).await?;
        if context.definition.governance.mask_pii {
            context.masked = self.masker.mask_output(&mut output, &FieldTypes::new());
        }
        Ok(output)
    }
}

/// The scrub layer: an error from anywhere below loses the connector's configured secrets and, when the
/// connector masks, its PII (a database's error may quote the value it refused).
pub struct Scrub {
    pub(crate) masker: Arc<Masker>,
}

#[async_trait]
impl Layer for Scrub {
    fn name(&self) -> &'static str {
        "scrub"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        next.run(context).await.map_err(|failure| {
            let error = failure.error.redact(&context.secrets[..]);
            let error = if context.definition.governance.mask_pii {
                self.masker.mask_error(error).0
            } else {
                error
            };
            CallError {
                outcome: failure.outcome,
                error,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tributary_core::{Data, Error, ErrorKind};
    use tributary_mask::MaskPolicy;

    use super::*;
    use crate::govern::layer::Stack;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Source, context, open_governance, planned};
    use crate::model::{Governance, Outcome};

    fn masker() -> Arc<Masker> {
        Arc::new(Masker::new(MaskPolicy::default()).unwrap())
    }

    fn text(output: &tributary_core::Output) -> String {
        match &output.data {
            Data::Records { records } => serde_json::to_string(records).unwrap(),
            other => format!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn results_are_masked_only_where_the_connector_masks() {
        let stack = Stack::new(vec![Arc::new(Mask { masker: masker() }), Arc::new(Execute)]);
        let source = Source::new(2);
        let masking = Governance {
            mask_pii: true,
            ..open_governance()
        };
        let mut call = planned(context(&source, "read", masking, None)).await;
        let output = stack.run(&mut call).await.unwrap();
        assert!(
            !text(&output).contains("person0@example.com"),
            "{}",
            text(&output)
        );
        assert_eq!(call.masked.counts.values().sum::<u64>(), 2, "{:?}", call.masked);

        let plain = Governance {
            mask_pii: false,
            ..open_governance()
        };
        let mut call = planned(context(&source, "read", plain, None)).await;
        let output = stack.run(&mut call).await.unwrap();
        assert!(text(&output).contains("person0@example.com"));
    }

    #[tokio::test]
    async fn errors_lose_the_connectors_secrets_and_pii_and_keep_their_outcome() {
        let stack = Stack::new(vec![Arc::new(Scrub { masker: masker() }), Arc::new(Execute)]);
        let source = Source::new(1);
        source.fail(
            1,
            Error::permission_denied("login hunter2-secret refused for ada@example.com"),
        );
        let masking = Governance {
            mask_pii: true,
            ..open_governance()
        };
        let mut call = planned(context(&source, "write", masking, None)).await;
        let failure = stack.run(&mut call).await.unwrap_err();
        let message = failure.error.to_string();
        assert!(!message.contains("hunter2-secret"), "{message}");
        assert!(!message.contains("ada@example.com"), "{message}");
        assert_eq!(
            (failure.outcome, failure.error.kind()),
            (Outcome::Denied, ErrorKind::PermissionDenied)
        );
    }
}
