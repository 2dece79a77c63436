//! Caps on what one call returns, in rows and in bytes, applied after masking. A cut result says so in
//! its truncation, like the connectors' own limits.

use tributary_core::{Data, Output, Truncation, TruncationReason};

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

fn size<T: serde::Serialize>(items: &[T]) -> usize {
    serde_json::to_vec(items).map_or(0, |bytes| bytes.len())
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

fn cut<T: serde::Serialize>(items: &mut Vec<T>, limits: CallLimits) -> (usize, usize, TruncationReason) {
    let total = items.len();
    let mut reason = TruncationReason::RowLimit;
    items.truncate(limits.max_rows);
    while !items.is_empty() && size(items) > limits.max_bytes {
        reason = TruncationReason::ByteLimit;
        let half = items.len() / 2;
        items.truncate(half);
    }
    (total, items.len(), reason)
}
