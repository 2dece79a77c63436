//! [`Budget`]: how much one call may return, passed down with the request so a connector stops reading
//! at the limit while the result streams in, instead of reading everything and being cut afterwards. A
//! source can send more than a host can hold (a 100 MB cell, 600 rows of 1 MB each); only the connector
//! that reads it can stop in time.
//!
//! [`Meter`] counts the JSON bytes of what a connector keeps, without building the JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest single value, row or protocol message a connector reads from a source, whatever the
/// budget: a value past it is refused while it arrives, so one huge cell cannot be buffered whole.
pub const MAX_VALUE_BYTES: usize = 4 * 1024 * 1024;

/// The most one call may return. `None` leaves a dimension to the connector's own limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Rows or records.
    pub max_rows: Option<u64>,
    /// Bytes of the result's JSON.
    pub max_bytes: Option<u64>,
}

impl Budget {
    /// No limits beyond the connector's own.
    pub fn unbounded() -> Budget {
        Budget::default()
    }

    /// Whether neither dimension is limited.
    pub fn is_unbounded(&self) -> bool {
        self.max_rows.is_none() && self.max_bytes.is_none()
    }

    /// The row limit of a call under this budget: the smaller of `limit` and the budget's rows (at least
    /// one).
    pub fn row_limit(&self, limit: u64) -> u64 {
        self.max_rows.map_or(limit, |max| limit.min(max.max(1)))
    }

    /// A meter for one call.
    pub fn meter(&self) -> Meter {
        Meter {
            max_bytes: self.max_bytes,
            used: 0,
        }
    }
}

/// Counts the JSON bytes a connector has kept against a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meter {
    max_bytes: Option<u64>,
    used: u64,
}

impl Meter {
    /// The bytes a row of `values` counts for: its cells as JSON, with the array's brackets and commas.
    pub fn row_size(values: &[Value]) -> u64 {
        values.iter().map(json_size::<Value>).sum::<u64>() + values.len() as u64 + 2
    }

    /// Counts `size` bytes (a row's [`Meter::row_size`], a record's JSON); whether they still fit. What does
    /// not fit is not counted, and the caller stops reading there.
    pub fn admit_bytes(&mut self, size: u64) -> bool {
        match self.max_bytes {
            Some(max) if self.used.saturating_add(size) > max => false,
            _ => {
                self.used = self.used.saturating_add(size);
                true
            }
        }
    }

    /// The byte limit, if any.
    pub fn max_bytes(&self) -> Option<u64> {
        self.max_bytes
    }

    /// The bytes counted so far.
    pub fn used(&self) -> u64 {
        self.used
    }
}

/// The length of `value` as compact JSON, computed without building it.
pub fn json_size<T: Serialize + ?Sized>(value: &T) -> u64 {
    struct Counter(u64);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_limit_is_the_smaller_and_never_zero() {
        let budget = Budget {
            max_rows: Some(7),
            max_bytes: None,
        };
        assert_eq!(budget.row_limit(100), 7);
        assert_eq!(budget.row_limit(3), 3);
        assert_eq!(Budget::unbounded().row_limit(100), 100);
        let none = Budget {
            max_rows: Some(0),
            max_bytes: None,
        };
        assert_eq!(none.row_limit(100), 1);
    }

    #[test]
    fn a_meter_stops_at_the_byte_limit_and_counts_like_json() {
        let value = serde_json::json!({"a": [1, "two", null]});
        assert_eq!(
            json_size(&value),
            serde_json::to_vec(&value).unwrap().len() as u64
        );
        let mut meter = Budget {
            max_rows: None,
            max_bytes: Some(20),
        }
        .meter();
        let row = |value: Value| Meter::row_size(&[value]);
        assert!(meter.admit_bytes(row(Value::from("12345"))));
        assert!(
            !meter.admit_bytes(row(Value::from("x".repeat(20)))),
            "too big for what is left"
        );
        assert!(meter.admit_bytes(row(Value::from(1))), "a smaller row still fits");
        assert!(
            Budget::unbounded()
                .meter()
                .admit_bytes(row(Value::from("x".repeat(1000))))
        );
    }
}
