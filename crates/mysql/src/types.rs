//! MySQL and MariaDB values to JSON, following the type mapping in `tributary_core::output`, and JSON
//! parameters to MySQL values.
//!
//! Decimals keep every digit (the server sends them as text), `TINYINT(1)` reads as a boolean, binary
//! strings are base64, `TIMESTAMP` values are UTC (sessions run with `time_zone = '+00:00'`), `DATETIME`
//! values have no zone, and `TIME` values may exceed 24 hours or be negative, as MySQL allows. MySQL's
//! `JSON` type is parsed; MariaDB stores JSON as `LONGTEXT`, so it arrives as a string.

use base64::Engine as _;
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::{Column as MysqlColumn, Value as MysqlValue};
use serde_json::Value;
use tributary_core::output::json;
use tributary_core::{DataType, Error, Result};

/// The character set number of binary strings.
const BINARY_CHARSET: u16 = 63;

/// The normalized type of a result column.
pub fn column_type(column: &MysqlColumn) -> DataType {
    use ColumnType::*;
    match column.column_type() {
        MYSQL_TYPE_TINY if column.column_length() == 1 => DataType::Boolean,
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_INT24
        | MYSQL_TYPE_YEAR => DataType::Integer,
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => DataType::Decimal,
        MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => DataType::Float,
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => DataType::Date,
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => DataType::Time,
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => DataType::Timestamp,
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => DataType::TimestampTz,
        MYSQL_TYPE_JSON => DataType::Json,
        MYSQL_TYPE_ENUM | MYSQL_TYPE_SET => DataType::Enum,
        MYSQL_TYPE_BIT => DataType::Integer,
        _ if column.flags().contains(ColumnFlags::ENUM_FLAG)
            || column.flags().contains(ColumnFlags::SET_FLAG) =>
        {
            DataType::Enum
        }
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB => {
            if column.character_set() == BINARY_CHARSET {
                DataType::Bytes
            } else {
                DataType::String
            }
        }
        _ => DataType::Other,
    }
}

/// The normalized type of a catalog column, from `information_schema.COLUMNS` (`DATA_TYPE`, `COLUMN_TYPE`).
pub fn catalog_type(data_type: &str, column_type: &str) -> DataType {
    match data_type.to_ascii_lowercase().as_str() {
        "tinyint" if column_type.to_ascii_lowercase().starts_with("tinyint(1)") => DataType::Boolean,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" | "bit" => {
            DataType::Integer
        }
        "decimal" | "numeric" => DataType::Decimal,
        "float" | "double" | "real" => DataType::Float,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => DataType::String,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => DataType::Bytes,
        "date" => DataType::Date,
        "time" => DataType::Time,
        "datetime" => DataType::Timestamp,
        "timestamp" => DataType::TimestampTz,
        "json" => DataType::Json,
        "enum" | "set" => DataType::Enum,
        "uuid" => DataType::Uuid,
        _ => DataType::Other,
    }
}

/// The labels of an `enum('a','b')` or `set(...)` column type.
pub fn enum_labels(column_type: &str) -> Vec<String> {
    let Some(inner) = column_type
        .find('(')
        .and_then(|start| column_type.rfind(')').map(|end| &column_type[start + 1..end]))
    else {
        return Vec::new();
    };
    let mut labels = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('\'', false) => quoted = true,
            ('\'', true) if chars.peek() == Some(&'\'') => {
                current.push('\'');
                chars.next();
            }
            ('\'', true) => {
                quoted = false;
                labels.push(std::mem::take(&mut current));
            }
            (c, true) => current.push(c),
            _ => {}
        }
    }
    labels
}

/// One result cell as JSON.
pub fn cell(value: &MysqlValue, column: &MysqlColumn, data_type: DataType) -> Value {
    match value {
        MysqlValue::NULL => Value::Null,
        MysqlValue::Int(number) if data_type == DataType::Boolean => Value::Bool(*number != 0),
        MysqlValue::Int(number) => Value::from(*number),
        MysqlValue::UInt(number) => Value::from(*number),
        MysqlValue::Float(number) => json::float(f64::from(*number)),
        MysqlValue::Double(number) => json::float(*number),
        MysqlValue::Bytes(bytes) => match data_type {
            DataType::Decimal => json::decimal(String::from_utf8_lossy(bytes).into_owned()),
            DataType::Json => serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
            DataType::Bytes => json::bytes(bytes),
            DataType::Integer if column.column_type() == ColumnType::MYSQL_TYPE_BIT => Value::from(
                bytes
                    .iter()
                    .fold(0_u64, |acc, byte| (acc << 8) | u64::from(*byte)),
            ),
            _ => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        },
        MysqlValue::Date(year, month, day, hour, minute, second, micros) => {
            let date = format!("{year:04}-{month:02}-{day:02}");
            let fraction = if *micros > 0 {
                format!(".{micros:06}")
            } else {
                String::new()
            };
            match data_type {
                DataType::Date => Value::String(date),
                DataType::TimestampTz => {
                    Value::String(format!("{date}T{hour:02}:{minute:02}:{second:02}{fraction}Z"))
                }
                _ => Value::String(format!("{date}T{hour:02}:{minute:02}:{second:02}{fraction}")),
            }
        }
        MysqlValue::Time(negative, days, hours, minutes, seconds, micros) => {
            let sign = if *negative { "-" } else { "" };
            let hours = u64::from(*days) * 24 + u64::from(*hours);
            let fraction = if *micros > 0 {
                format!(".{micros:06}")
            } else {
                String::new()
            };
            Value::String(format!("{sign}{hours:02}:{minutes:02}:{seconds:02}{fraction}"))
        }
    }
}

/// A JSON value to bind; base64 text for a binary column becomes bytes.
pub fn param(value: &Value, data_type: DataType, label: &str) -> Result<MysqlValue> {
    Ok(match value {
        Value::Null => MysqlValue::NULL,
        Value::Bool(flag) => MysqlValue::Int(i64::from(*flag)),
        Value::Number(number) => match (number.as_i64(), number.as_u64(), number.as_f64()) {
            (Some(integer), _, _) => MysqlValue::Int(integer),
            (None, Some(unsigned), _) => MysqlValue::UInt(unsigned),
            (None, None, Some(real)) if data_type != DataType::Decimal => MysqlValue::Double(real),
            _ => MysqlValue::Bytes(number.to_string().into_bytes()),
        },
        Value::String(text) if data_type == DataType::Bytes => MysqlValue::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| {
                    Error::invalid_input(format!("parameter {label}: binary values are given as base64"))
                })?,
        ),
        Value::String(text) => MysqlValue::Bytes(text.clone().into_bytes()),
        Value::Array(_) | Value::Object(_) => MysqlValue::Bytes(value.to_string().into_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_labels_unquote() {
        assert_eq!(
            enum_labels("enum('sad','happy','it''s')"),
            ["sad", "happy", "it's"]
        );
        assert_eq!(enum_labels("set('a,b','c')"), ["a,b", "c"]);
        assert!(enum_labels("int(11)").is_empty());
    }

    #[test]
    fn catalog_types() {
        assert_eq!(catalog_type("tinyint", "tinyint(1)"), DataType::Boolean);
        assert_eq!(catalog_type("tinyint", "tinyint(4)"), DataType::Integer);
        assert_eq!(catalog_type("decimal", "decimal(10,2)"), DataType::Decimal);
        assert_eq!(catalog_type("timestamp", "timestamp"), DataType::TimestampTz);
        assert_eq!(catalog_type("varbinary", "varbinary(16)"), DataType::Bytes);
    }

    #[test]
    fn params() {
        assert_eq!(
            param(&Value::from(u64::MAX), DataType::Other, "x").unwrap(),
            MysqlValue::UInt(u64::MAX)
        );
        assert_eq!(
            param(&Value::from("AP8="), DataType::Bytes, "x").unwrap(),
            MysqlValue::Bytes(vec![0, 255])
        );
        assert!(param(&Value::from("%%"), DataType::Bytes, "x").is_err());
        assert_eq!(
            param(&Value::Bool(true), DataType::Boolean, "x").unwrap(),
            MysqlValue::Int(1)
        );
    }
}
