//! Step 7: the audit record of a call. The parameters are reduced to a fingerprint (a hash of their
//! canonical JSON), so neither a secret nor an unmasked value reaches the log.

use serde_json::Value;
use sha2::{Digest, Sha256};
use tributary_core::{Data, Output};

/// The fingerprint of an operation and its parameters.
pub fn fingerprint(operation: &str, params: &Value) -> String {
    let digest = Sha256::digest(format!("{operation}\0{params}").as_bytes());
    hex::encode(&digest[..8])
}

/// Rows or records a result holds, or items a write affected.
pub fn rows(output: &Output) -> u64 {
    match &output.data {
        Data::Rows(rows) => rows.rows.len() as u64,
        Data::Records { records } => records.len() as u64,
        Data::Write(summary) => summary.affected,
        Data::Catalog(catalog) => catalog.objects.len() as u64,
        Data::Object(_) | Data::Document { .. } => 1,
    }
}
