//! Caps on what one call returns, in rows and in bytes, applied after masking. A cut result says so in
//! its truncation, like the connectors' own limits.

use async_trait::async_trait;
use tributary_core::{Data, Output, Truncation, TruncationReason};

use crate::govern::layer::{CallContext, CallResult, Layer, Next};

/// The cap layer: what comes back is cut to the caps (the connector was asked to stop there already; this
/// holds for connectors that do not).
pub struct Cap {
    pub(crate) limits: CallLimits,
}

#[async_trait]
impl Layer for Cap {
    fn name(&self) -> &'static str {
        "cap"
    }

    async fn call(&self, context: &mut CallContext, next: Next<'_>) -> CallResult {
        let mut output = next.run(context).await?;
        apply(
            &mut output,
            context.definition.governance.call_limits(self.limits),
        );
        Ok(output)
    }
}

/// Per-call caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Rows or records per call.
    pub max_rows: usize,
    /// Bytes of JSON per call.
    pub max_bytes: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        CallLimits {
            max_rows: 1000,
            max_bytes: 1024 * 1024,
        }
    }
}

/// Cuts `output` to the caps; keeps the connector's own truncation when it already cut.
pub fn apply(output: &mut Output, limits: CallLimits) {
    let (total, kept, reason) = match &mut output.data {
        Data::Rows(rows) => cut(&mut rows.rows, limits),
        Data::Records { records } => cut(records, limits),
        _ => return,
    };
    if kept < total {
        let limit = if reason == TruncationReason::RowLimit {
            limits.max_rows
        } else {
            limits.max_bytes
        };
        output.truncation = Some(Truncation::new(
            reason,
            limit as u64,
            kept as u64,
            Some((total - kept) as u64),
        ));
    }
}

/// Keeps the longest prefix of `items` within the caps. The byte size is counted item by item as the
/// JSON array would encode (`[`, items, commas, `]`), once, without building it.
fn cut<T: serde::Serialize>(items: &mut Vec<T>, limits: CallLimits) -> (usize, usize, TruncationReason) {
    let total = items.len();
    let mut reason = TruncationReason::RowLimit;
    items.truncate(limits.max_rows);
    let mut size: u64 = 2;
    let mut keep = items.len();
    for (index, item) in items.iter().enumerate() {
        size = size
            .saturating_add(tributary_core::budget::json_size(item))
            .saturating_add(u64::from(index > 0));
        if size > limits.max_bytes as u64 {
            keep = index;
            reason = TruncationReason::ByteLimit;
            break;
        }
    }
    items.truncate(keep);
    (total, items.len(), reason)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;
    use crate::govern::layer::Stack;
    use crate::govern::retry::Execute;
    use crate::govern::testing::{Source, context, open_governance, planned};

    async fn capped(limits: CallLimits, rows: usize) -> Output {
        let stack = Stack::new(vec![Arc::new(Cap { limits }), Arc::new(Execute)]);
        let source = Source::new(rows);
        let mut call = planned(context(&source, "read", open_governance(), None)).await;
        stack.run(&mut call).await.unwrap()
    }

    fn count(output: &Output) -> usize {
        match &output.data {
            Data::Records { records } => records.len(),
            _ => 0,
        }
    }

    #[tokio::test]
    async fn results_are_cut_to_the_rows_and_bytes_and_say_so() {
        let output = capped(
            CallLimits {
                max_rows: 3,
                max_bytes: 1 << 20,
            },
            10,
        )
        .await;
        assert_eq!(count(&output), 3);
        let cut = output.truncation.clone().unwrap();
        assert_eq!(
            (cut.reason, cut.limit, cut.returned, cut.omitted),
            (TruncationReason::RowLimit, 3, 3, Some(7))
        );

        let output = capped(
            CallLimits {
                max_rows: 1000,
                max_bytes: 200,
            },
            10,
        )
        .await;
        let Data::Records { records } = &output.data else {
            panic!("records")
        };
        let kept = serde_json::to_vec(records).unwrap().len();
        assert!(kept <= 200, "{kept} bytes kept under a cap of 200");
        // The longest prefix that fits: one more record would not have.
        let mut one_more = records.clone();
        one_more.push(records[0].clone());
        assert!(serde_json::to_vec(&one_more).unwrap().len() > 200);
        let cut = output.truncation.clone().unwrap();
        assert_eq!(cut.reason, TruncationReason::ByteLimit);
        assert!(count(&output) < 10);

        let output = capped(CallLimits::default(), 10).await;
        assert!(output.truncation.is_none(), "within the caps nothing is cut");
    }
}
