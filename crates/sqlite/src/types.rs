//! SQLite values to JSON and back.
//!
//! SQLite stores five kinds of value; the column's declared type says what they mean: an integer in a
//! `BOOLEAN` column is `true`/`false`, text in a `JSON` column is a JSON document, a value in a
//! `DECIMAL`/`NUMERIC` column is an exact decimal string, and a blob is base64.

use base64::Engine as _;
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;
use tributary_core::output::json;
use tributary_core::{DataType, Error, Result};

/// The normalized type of a declared column type, by SQLite's affinity rules plus common names.
pub fn data_type(declared: Option<&str>) -> DataType {
    let Some(declared) = declared else {
        return DataType::Other;
    };
    let upper = declared.to_ascii_uppercase();
    let has = |part: &str| upper.contains(part);
    if has("BOOL") {
        DataType::Boolean
    } else if has("INT") {
        DataType::Integer
    } else if has("JSON") {
        DataType::Json
    } else if has("UUID") {
        DataType::Uuid
    } else if has("TIMESTAMP") || has("DATETIME") {
        DataType::Timestamp
    } else if upper == "DATE" {
        DataType::Date
    } else if upper == "TIME" {
        DataType::Time
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        DataType::String
    } else if has("BLOB") {
        DataType::Bytes
    } else if has("REAL") || has("FLOA") || has("DOUB") {
        DataType::Float
    } else if has("DEC") || has("NUMERIC") {
        DataType::Decimal
    } else {
        DataType::Other
    }
}

/// One stored value as JSON, read by its column's type.
pub fn cell(value: ValueRef<'_>, column: DataType) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(number) => match column {
            DataType::Boolean => Value::Bool(number != 0),
            DataType::Decimal => json::decimal(number.to_string()),
            _ => Value::from(number),
        },
        ValueRef::Real(number) => match column {
            DataType::Decimal => json::decimal(number.to_string()),
            _ => json::float(number),
        },
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match column {
                DataType::Json => {
                    serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
                }
                _ => Value::String(text.into_owned()),
            }
        }
        ValueRef::Blob(bytes) => json::bytes(bytes),
    }
}

/// A JSON value to bind, stored as the column's type suggests: base64 text into a `BLOB` column becomes
/// bytes, booleans become 0/1, arrays and objects become JSON text.
pub fn param(value: &Value, column: DataType, label: &str) -> Result<SqlValue> {
    Ok(match value {
        Value::Null => SqlValue::Null,
        Value::Bool(flag) => SqlValue::Integer(i64::from(*flag)),
        Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => SqlValue::Integer(integer),
            (None, Some(real)) if column != DataType::Decimal => SqlValue::Real(real),
            _ => SqlValue::Text(number.to_string()),
        },
        Value::String(text) if column == DataType::Bytes => SqlValue::Blob(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| {
                    Error::invalid_input(format!("parameter {label}: BLOB values are given as base64"))
                })?,
        ),
        Value::String(text) => SqlValue::Text(text.clone()),
        Value::Array(_) | Value::Object(_) => SqlValue::Text(value.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_follow_affinity() {
        assert_eq!(data_type(Some("INTEGER")), DataType::Integer);
        assert_eq!(data_type(Some("bigint")), DataType::Integer);
        assert_eq!(data_type(Some("VARCHAR(20)")), DataType::String);
        assert_eq!(data_type(Some("DATETIME")), DataType::Timestamp);
        assert_eq!(data_type(Some("DECIMAL(10,2)")), DataType::Decimal);
        assert_eq!(data_type(Some("BOOLEAN")), DataType::Boolean);
        assert_eq!(data_type(Some("JSON")), DataType::Json);
        assert_eq!(data_type(Some("BLOB")), DataType::Bytes);
        assert_eq!(data_type(Some("DOUBLE")), DataType::Float);
        assert_eq!(data_type(None), DataType::Other);
    }

    #[test]
    fn cells_follow_the_column_type() {
        assert_eq!(cell(ValueRef::Integer(1), DataType::Boolean), Value::Bool(true));
        assert_eq!(cell(ValueRef::Integer(5), DataType::Decimal), Value::from("5"));
        assert_eq!(
            cell(ValueRef::Real(f64::INFINITY), DataType::Float),
            Value::from("Infinity")
        );
        assert_eq!(
            cell(ValueRef::Text(b"{\"a\":1}"), DataType::Json),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            cell(ValueRef::Text(b"not json"), DataType::Json),
            Value::from("not json")
        );
        assert_eq!(
            cell(ValueRef::Blob(&[0, 255]), DataType::Bytes),
            Value::from("AP8=")
        );
    }

    #[test]
    fn params_convert_by_column() {
        assert_eq!(
            param(&Value::from("AP8="), DataType::Bytes, "b").unwrap(),
            SqlValue::Blob(vec![0, 255])
        );
        assert!(param(&Value::from("!!"), DataType::Bytes, "b").is_err());
        assert_eq!(
            param(&Value::Bool(true), DataType::Other, "x").unwrap(),
            SqlValue::Integer(1)
        );
        assert_eq!(
            param(&serde_json::json!([1]), DataType::Json, "j").unwrap(),
            SqlValue::Text("[1]".into())
        );
    }
}
