//! What an operation returns, and how source values become JSON.
//!
//! # Type mapping
//!
//! Every connector encodes values the same way, so an agent reads a `numeric` from PostgreSQL and a
//! `Decimal` from MySQL alike. The helpers in [`json`] implement the rules; connectors call them rather
//! than formatting values themselves.
//!
//! | [`DataType`]     | JSON                                                                        |
//! |------------------|-----------------------------------------------------------------------------|
//! | `boolean`        | `true` / `false`                                                            |
//! | `integer`        | number (every 64-bit integer is exact in JSON text; JavaScript readers beware above 2^53) |
//! | `float`          | number; `NaN`, `Infinity`, `-Infinity` as those strings                     |
//! | `decimal`        | string with the exact digits (`"12345678901234567890.000001"`), never a lossy float |
//! | `string`, `enum` | string                                                                      |
//! | `bytes`          | string, standard base64 with padding                                        |
//! | `date`           | string `YYYY-MM-DD`                                                         |
//! | `time`           | string `HH:MM:SS[.ffffff]`                                                  |
//! | `timestamp`      | string `YYYY-MM-DDTHH:MM:SS[.ffffff]` (no zone)                             |
//! | `timestamp_tz`   | string RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`                     |
//! | `interval`       | string, ISO 8601 duration (`P1Y2M3DT4H5M6.5S`)                              |
//! | `uuid`           | string, lowercase hyphenated                                                |
//! | `json`           | the JSON value itself                                                       |
//! | `array`          | array of values mapped by these rules                                       |
//! | `reference`      | string                                                                      |
//! | NULL             | `null`                                                                      |
//!
//! # Truncation
//!
//! A result cut short by a row or byte limit says so in [`Output::truncation`], with how many items were
//! returned and, when the source knows it, how many were left out. An agent must never mistake a partial
//! answer for the whole.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::{Catalog, DataType, ObjectInfo};

/// The result of one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// What the operation produced.
    pub data: Data,
    /// Present when the result was cut short.
    pub truncation: Option<Truncation>,
}

impl Output {
    /// A complete (not truncated) result.
    pub fn complete(data: Data) -> Self {
        Output {
            data,
            truncation: None,
        }
    }

    /// A result cut short.
    pub fn truncated(data: Data, truncation: Truncation) -> Self {
        Output {
            data,
            truncation: Some(truncation),
        }
    }

    /// A result cut short when `cut` is given and complete otherwise: the shape of every bounded read,
    /// which returns what fits and says what did not.
    pub fn bounded(data: Data, cut: Option<Truncation>) -> Self {
        Output {
            data,
            truncation: cut,
        }
    }

    /// Whether the result is partial.
    pub fn is_truncated(&self) -> bool {
        self.truncation.is_some()
    }
}

/// The shapes of data an operation can produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Data {
    /// A table of rows, from a query.
    Rows(RowSet),
    /// A list of JSON records (Salesforce records, object-store listings).
    Records {
        /// The records.
        records: Vec<Map<String, Value>>,
    },
    /// The outcome of a write.
    Write(WriteSummary),
    /// Discovery output.
    Catalog(Catalog),
    /// One object's description.
    Object(Box<ObjectInfo>),
    /// Any other JSON document (object metadata, a presigned URL).
    Document {
        /// The document.
        document: Value,
    },
}

/// Rows with their column metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RowSet {
    /// The columns, in result order.
    pub columns: Vec<Column>,
    /// One array per row, one value per column, mapped as the module docs say.
    pub rows: Vec<Vec<Value>>,
}

/// One result column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column's label in the result.
    pub name: String,
    /// The normalized type.
    pub data_type: DataType,
    /// The source's type name.
    pub native_type: String,
}

/// What a write changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WriteSummary {
    /// How many rows, records or objects were affected.
    pub affected: u64,
    /// Per-item outcomes (created ids, per-record errors), when the source reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Value>,
}

/// How a result was cut short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncation {
    /// Which limit cut it.
    pub reason: TruncationReason,
    /// The limit's value (rows, bytes or pages).
    pub limit: u64,
    /// How many items were returned.
    pub returned: u64,
    /// How many items were left out, when the source knows; `None` means "at least one more".
    pub omitted: Option<u64>,
}

impl Truncation {
    /// A cut by `reason` at `limit`, after `returned` items, with `omitted` left out when known.
    pub fn new(reason: TruncationReason, limit: u64, returned: u64, omitted: Option<u64>) -> Self {
        Truncation {
            reason,
            limit,
            returned,
            omitted,
        }
    }
}

/// Which limit cut a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruncationReason {
    /// The row or record limit.
    RowLimit,
    /// The byte limit.
    ByteLimit,
    /// The page limit of a paginated source.
    PageLimit,
}

/// Encoders for the type mapping in the module docs.
pub mod json {
    use base64::Engine as _;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone};
    use serde_json::Value;

    /// A float; non-finite values become the strings `NaN`, `Infinity` and `-Infinity`.
    pub fn float(value: f64) -> Value {
        if value.is_nan() {
            Value::String("NaN".into())
        } else if value.is_infinite() {
            Value::String(if value > 0.0 { "Infinity" } else { "-Infinity" }.into())
        } else {
            serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
        }
    }

    /// An exact decimal, kept as its digits.
    pub fn decimal(digits: impl Into<String>) -> Value {
        Value::String(digits.into())
    }

    /// Binary data as standard base64.
    pub fn bytes(value: &[u8]) -> Value {
        Value::String(base64::engine::general_purpose::STANDARD.encode(value))
    }

    /// A calendar date.
    pub fn date(value: NaiveDate) -> Value {
        Value::String(value.format("%Y-%m-%d").to_string())
    }

    /// A time of day, with microseconds only when present.
    pub fn time(value: NaiveTime) -> Value {
        Value::String(value.format("%H:%M:%S%.f").to_string())
    }

    /// A zone-less timestamp.
    pub fn timestamp(value: NaiveDateTime) -> Value {
        Value::String(value.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
    }

    /// A point in time, normalized to UTC.
    pub fn timestamp_tz<Tz: TimeZone>(value: DateTime<Tz>) -> Value {
        Value::String(value.to_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    /// An interval as an ISO 8601 duration. Months and days stay separate from the time part because their
    /// length depends on the calendar.
    pub fn interval(months: i32, days: i32, microseconds: i64) -> Value {
        let mut text = String::from("P");
        let (years, months) = (months / 12, months % 12);
        for (amount, unit) in [
            (i64::from(years), 'Y'),
            (i64::from(months), 'M'),
            (i64::from(days), 'D'),
        ] {
            if amount != 0 {
                text.push_str(&format!("{amount}{unit}"));
            }
        }
        if microseconds != 0 {
            text.push('T');
            let negative = microseconds < 0;
            let micros = microseconds.unsigned_abs();
            let (hours, rest) = (micros / 3_600_000_000, micros % 3_600_000_000);
            let (minutes, rest) = (rest / 60_000_000, rest % 60_000_000);
            let sign = if negative { "-" } else { "" };
            if hours != 0 {
                text.push_str(&format!("{sign}{hours}H"));
            }
            if minutes != 0 {
                text.push_str(&format!("{sign}{minutes}M"));
            }
            if rest != 0 {
                let seconds = format!("{}.{:06}", rest / 1_000_000, rest % 1_000_000);
                let seconds = seconds.trim_end_matches('0').trim_end_matches('.');
                text.push_str(&format!("{sign}{seconds}S"));
            }
        }
        if text == "P" {
            text.push_str("T0S");
        }
        Value::String(text)
    }
}

#[cfg(test)]
mod tests {
    use super::json;
    use super::*;
    use chrono::{FixedOffset, NaiveDate, TimeZone};
    use serde_json::json as j;

    #[test]
    fn floats_keep_non_finite_values_readable() {
        assert_eq!(json::float(1.5), j!(1.5));
        assert_eq!(json::float(f64::NAN), j!("NaN"));
        assert_eq!(json::float(f64::INFINITY), j!("Infinity"));
        assert_eq!(json::float(f64::NEG_INFINITY), j!("-Infinity"));
        assert_eq!(json::float(-0.0), j!(-0.0));
    }

    #[test]
    fn decimals_and_bytes_are_lossless_strings() {
        assert_eq!(
            json::decimal("12345678901234567890.000001"),
            j!("12345678901234567890.000001")
        );
        assert_eq!(json::bytes(&[0, 255, 16]), j!("AP8Q"));
        assert_eq!(json::bytes(b""), j!(""));
    }

    #[test]
    fn dates_and_times() {
        let date = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        assert_eq!(json::date(date), j!("2026-02-28"));
        let time = date.and_hms_micro_opt(13, 4, 5, 120).unwrap();
        assert_eq!(json::time(time.time()), j!("13:04:05.000120"));
        assert_eq!(
            json::timestamp(date.and_hms_opt(0, 0, 0).unwrap()),
            j!("2026-02-28T00:00:00")
        );
        let zoned = FixedOffset::east_opt(2 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 3, 1, 1, 30, 0)
            .unwrap();
        assert_eq!(json::timestamp_tz(zoned), j!("2026-02-28T23:30:00Z"));
    }

    #[test]
    fn intervals_are_iso_8601() {
        assert_eq!(
            json::interval(14, 3, 4 * 3_600_000_000 + 5 * 60_000_000 + 6_500_000),
            j!("P1Y2M3DT4H5M6.5S")
        );
        assert_eq!(json::interval(0, 0, 0), j!("PT0S"));
        assert_eq!(json::interval(0, -1, 0), j!("P-1D"));
        assert_eq!(json::interval(0, 0, -90_000_000), j!("PT-1M-30S"));
        assert_eq!(json::interval(1, 0, 1), j!("P1MT0.000001S"));
    }

    #[test]
    fn output_serializes_with_its_truncation() {
        let rows = RowSet {
            columns: vec![Column {
                name: "id".into(),
                data_type: DataType::Integer,
                native_type: "int4".into(),
            }],
            rows: vec![vec![j!(1)], vec![j!(2)]],
        };
        let output = Output::truncated(
            Data::Rows(rows),
            Truncation {
                reason: TruncationReason::RowLimit,
                limit: 2,
                returned: 2,
                omitted: None,
            },
        );
        assert!(output.is_truncated());
        let value = serde_json::to_value(&output).unwrap();
        assert_eq!(value["data"]["type"], "rows");
        assert_eq!(value["data"]["columns"][0]["data_type"], "integer");
        assert_eq!(
            value["truncation"],
            j!({"reason": "row_limit", "limit": 2, "returned": 2, "omitted": null})
        );
        let back: Output = serde_json::from_value(value).unwrap();
        assert_eq!(back, output);
        let complete = serde_json::to_value(Output::complete(Data::Write(WriteSummary {
            affected: 3,
            items: vec![],
        })))
        .unwrap();
        assert_eq!(
            complete,
            j!({"data": {"type": "write", "affected": 3}, "truncation": null})
        );
    }
}
