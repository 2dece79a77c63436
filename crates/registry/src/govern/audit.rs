//! Step 7: the audit record of a call. The parameters are reduced to a fingerprint (an HMAC of their
//! canonical JSON under the registry's audit key), so neither a secret nor an unmasked value reaches the
//! log, and someone reading the log cannot confirm a guessed value by hashing it.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tributary_core::{Data, Output};

/// The fingerprint of an operation and its parameters under `key`.
pub fn fingerprint(key: &[u8], operation: &str, params: &Value) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(operation.as_bytes());
    mac.update(b"\0");
    mac.update(params.to_string().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..8])
}

/// The longest object name an audit record keeps, in characters (an agent chooses the names it asks for).
pub const MAX_OBJECT_CHARS: usize = 256;

/// Objects as the record keeps them: cut to [`MAX_OBJECT_CHARS`].
pub fn clip(object: &str) -> String {
    if object.chars().count() <= MAX_OBJECT_CHARS {
        object.to_owned()
    } else {
        let mut clipped: String = object.chars().take(MAX_OBJECT_CHARS - 1).collect();
        clipped.push('…');
        clipped
    }
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
