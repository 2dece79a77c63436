//! PostgreSQL values to JSON, following the type mapping in `tributary_core::output`, and JSON parameters to
//! PostgreSQL.
//!
//! Results are decoded from PostgreSQL's binary format directly, so `numeric` keeps every digit, infinite
//! dates and timestamps survive as `"infinity"`, and arrays of any element type nest as JSON arrays.
//! Parameters are sent in PostgreSQL's text format and parsed by the server as the type it inferred for the
//! placeholder, so every type that has a text form can be bound from JSON.

use std::error::Error as StdError;

use base64::Engine as _;
use bytes::BytesMut;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use fallible_iterator::FallibleIterator;
use postgres_protocol::types as wire;
use serde_json::Value;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use tributary_core::output::json;
use tributary_core::{DataType, Error, Result};

type BoxError = Box<dyn StdError + Sync + Send>;

/// The normalized type of a PostgreSQL type.
pub fn data_type(ty: &Type) -> DataType {
    match ty.kind() {
        Kind::Array(_) => return DataType::Array,
        Kind::Enum(_) => return DataType::Enum,
        Kind::Domain(inner) => return data_type(inner),
        _ => {}
    }
    data_type_by_name(ty.name())
}

/// The normalized type of a PostgreSQL type name (as `pg_type.typname` spells it).
pub fn data_type_by_name(name: &str) -> DataType {
    match name {
        "bool" => DataType::Boolean,
        "int2" | "int4" | "int8" | "oid" => DataType::Integer,
        "float4" | "float8" => DataType::Float,
        "numeric" | "money" => DataType::Decimal,
        "text" | "varchar" | "bpchar" | "name" | "citext" | "char" | "xml" | "inet" | "cidr" | "macaddr" => {
            DataType::String
        }
        "bytea" => DataType::Bytes,
        "date" => DataType::Date,
        "time" | "timetz" => DataType::Time,
        "timestamp" => DataType::Timestamp,
        "timestamptz" => DataType::TimestampTz,
        "interval" => DataType::Interval,
        "uuid" => DataType::Uuid,
        "json" | "jsonb" => DataType::Json,
        name if name.starts_with('_') => DataType::Array,
        _ => DataType::Other,
    }
}

/// One result cell as JSON.
pub(crate) struct Cell(pub(crate) Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn decode(ty: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    Ok(match *ty {
        Type::BOOL => Value::Bool(wire::bool_from_sql(raw)?),
        Type::INT2 => Value::from(wire::int2_from_sql(raw)?),
        Type::INT4 => Value::from(wire::int4_from_sql(raw)?),
        Type::INT8 => Value::from(wire::int8_from_sql(raw)?),
        Type::OID => Value::from(wire::oid_from_sql(raw)?),
        Type::FLOAT4 => json::float(f64::from(wire::float4_from_sql(raw)?)),
        Type::FLOAT8 => json::float(wire::float8_from_sql(raw)?),
        Type::NUMERIC => json::decimal(numeric(raw)?),
        Type::MONEY => {
            let cents = wire::int8_from_sql(raw)?;
            let sign = if cents < 0 { "-" } else { "" };
            json::decimal(format!(
                "{sign}{}.{:02}",
                (cents / 100).unsigned_abs(),
                (cents % 100).unsigned_abs()
            ))
        }
        Type::BYTEA => json::bytes(raw),
        Type::DATE => match wire::date_from_sql(raw)? {
            i32::MAX => Value::String("infinity".into()),
            i32::MIN => Value::String("-infinity".into()),
            days => json::date(epoch().date() + Duration::days(i64::from(days))),
        },
        Type::TIME => json::time(time_of_day(wire::time_from_sql(raw)?)?),
        Type::TIMETZ => {
            let (micros, offset) = raw.split_at_checked(8).ok_or("timetz value is too short")?;
            let zone = -i32::from_be_bytes(offset.try_into()?);
            let time = json::time(time_of_day(i64::from_be_bytes(micros.try_into()?))?);
            let sign = if zone < 0 { '-' } else { '+' };
            let (hours, minutes) = (zone.unsigned_abs() / 3600, zone.unsigned_abs() % 3600 / 60);
            Value::String(format!(
                "{}{sign}{hours:02}:{minutes:02}",
                time.as_str().unwrap_or_default()
            ))
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => match wire::timestamp_from_sql(raw)? {
            i64::MAX => Value::String("infinity".into()),
            i64::MIN => Value::String("-infinity".into()),
            micros => {
                let at = epoch() + Duration::microseconds(micros);
                if *ty == Type::TIMESTAMP {
                    json::timestamp(at)
                } else {
                    json::timestamp_tz(DateTime::<chrono::Utc>::from_naive_utc_and_offset(
                        at,
                        chrono::Utc,
                    ))
                }
            }
        },
        Type::INTERVAL => {
            let micros = i64::from_be_bytes(raw.get(0..8).ok_or("interval too short")?.try_into()?);
            let days = i32::from_be_bytes(raw.get(8..12).ok_or("interval too short")?.try_into()?);
            let months = i32::from_be_bytes(raw.get(12..16).ok_or("interval too short")?.try_into()?);
            json::interval(months, days, micros)
        }
        Type::UUID => {
            let bytes = wire::uuid_from_sql(raw)?;
            let hex = hex::encode(bytes);
            Value::String(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ))
        }
        Type::JSON => serde_json::from_slice(raw)?,
        Type::JSONB => match raw.split_first() {
            Some((1, document)) => serde_json::from_slice(document)?,
            _ => return Err("unknown jsonb format version".into()),
        },
        Type::INET | Type::CIDR => {
            let inet = wire::inet_from_sql(raw)?;
            let full = if inet.addr().is_ipv4() { 32 } else { 128 };
            if inet.netmask() == full && *ty == Type::INET {
                Value::String(inet.addr().to_string())
            } else {
                Value::String(format!("{}/{}", inet.addr(), inet.netmask()))
            }
        }
        Type::MACADDR => Value::String(
            raw.iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        _ => match ty.kind() {
            Kind::Array(member) => array(member, raw)?,
            Kind::Domain(inner) => decode(inner, raw)?,
            // Enums, text-like extension types (citext) and xml travel as their text.
            _ => match std::str::from_utf8(raw) {
                Ok(text) => Value::String(text.to_owned()),
                Err(_) => json::bytes(raw),
            },
        },
    })
}

fn time_of_day(micros: i64) -> Result<NaiveTime, BoxError> {
    let seconds = u32::try_from(micros.div_euclid(1_000_000))?;
    let nanos = u32::try_from(micros.rem_euclid(1_000_000) * 1000)?;
    NaiveTime::from_num_seconds_from_midnight_opt(seconds % 86_400, nanos)
        .ok_or_else(|| "time out of range".into())
}

/// `numeric` in its binary form (base-10000 digits, a weight and a display scale) to exact decimal text.
fn numeric(raw: &[u8]) -> Result<String, BoxError> {
    let word = |index: usize| -> Result<i16, BoxError> {
        Ok(i16::from_be_bytes(
            raw.get(index * 2..index * 2 + 2)
                .ok_or("numeric value is too short")?
                .try_into()?,
        ))
    };
    let (count, weight, sign, scale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i16> = (0..usize::try_from(count)?)
        .map(|index| word(4 + index))
        .collect::<Result<_, _>>()?;
    let digit = |position: i32| -> i16 {
        usize::try_from(position)
            .ok()
            .and_then(|position| digits.get(position))
            .copied()
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight >= 0 {
        for position in 0..=i32::from(weight) {
            if position == 0 {
                text.push_str(&digit(position).to_string());
            } else {
                text.push_str(&format!("{:04}", digit(position)));
            }
        }
    } else {
        text.push('0');
    }
    let scale = usize::try_from(scale).unwrap_or(0);
    if scale > 0 {
        let mut fraction = String::with_capacity(scale + 4);
        let mut position = i32::from(weight) + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(position)));
            position += 1;
        }
        fraction.truncate(scale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

fn array(member: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    let array = wire::array_from_sql(raw)?;
    let dimensions: Vec<usize> = array
        .dimensions()
        .map(|dimension| Ok(usize::try_from(dimension.len)?))
        .collect::<Vec<_>>()?;
    let values: Vec<Value> = array
        .values()
        .map(|value| match value {
            Some(raw) => decode(member, raw),
            None => Ok(Value::Null),
        })
        .collect()?;
    Ok(nest(&dimensions, &mut values.into_iter()))
}

fn nest(dimensions: &[usize], values: &mut impl Iterator<Item = Value>) -> Value {
    match dimensions.split_first() {
        None => Value::Array(Vec::new()),
        Some((length, [])) => Value::Array(values.take(*length).collect()),
        Some((length, inner)) => Value::Array((0..*length).map(|_| nest(inner, values)).collect()),
    }
}

/// A parameter sent in PostgreSQL's text format, for the server to parse as the placeholder's type.
#[derive(Debug)]
pub(crate) struct TextParam(Option<String>);

impl ToSql for TextParam {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, _: &Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }

    to_sql_checked!();
}

/// Converts JSON values to parameters of the types the server inferred. `names` label each value in errors.
pub(crate) fn params(types: &[Type], values: &[Value], names: &[String]) -> Result<Vec<TextParam>> {
    if types.len() != values.len() {
        return Err(Error::invalid_input(format!(
            "the statement has {} placeholder(s) but {} parameter value(s) were given",
            types.len(),
            values.len()
        ))
        .with_hint("pass exactly one value in params for each placeholder ($1, $2, ...)"));
    }
    types
        .iter()
        .zip(values)
        .enumerate()
        .map(|(index, (ty, value))| {
            let label = names
                .get(index)
                .cloned()
                .unwrap_or_else(|| format!("${}", index + 1));
            text(ty, value).map(TextParam).map_err(|problem| {
                Error::invalid_input(format!("parameter {label} ({}): {problem}", ty.name()))
            })
        })
        .collect()
}

fn text(ty: &Type, value: &Value) -> Result<Option<String>, String> {
    Ok(match value {
        Value::Null => None,
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) if *ty == Type::BYTEA => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| "bytea values are given as base64".to_owned())?;
            Some(format!("\\x{}", hex::encode(bytes)))
        }
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => match ty.kind() {
            Kind::Array(member) => Some(array_literal(member, items)?),
            _ => Some(value.to_string()),
        },
        Value::Object(_) => Some(value.to_string()),
    })
}

/// A JSON array as a PostgreSQL array literal (`{"a","b",NULL}`), elements quoted and escaped.
fn array_literal(member: &Type, items: &[Value]) -> Result<String, String> {
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        parts.push(match item {
            Value::Null => "NULL".to_owned(),
            Value::Array(inner) if !matches!(*member, Type::JSON | Type::JSONB) => {
                array_literal(member, inner)?
            }
            other => match text(member, other)? {
                Some(text) => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
                None => "NULL".to_owned(),
            },
        });
    }
    Ok(format!("{{{}}}", parts.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(count: i16, weight: i16, sign: u16, scale: i16, digits: &[i16]) -> Vec<u8> {
        let mut raw = Vec::new();
        for word in [count, weight, sign as i16, scale].iter().chain(digits) {
            raw.extend_from_slice(&word.to_be_bytes());
        }
        raw
    }

    #[test]
    fn numeric_keeps_every_digit() {
        assert_eq!(numeric(&numeric_bytes(2, 0, 0, 2, &[12, 3400])).unwrap(), "12.34");
        assert_eq!(
            numeric(&numeric_bytes(1, -2, 0, 8, &[1234])).unwrap(),
            "0.00001234"
        );
        assert_eq!(
            numeric(&numeric_bytes(3, 1, 0x4000, 0, &[1, 2, 0])).unwrap(),
            "-10002"
        );
        assert_eq!(numeric(&numeric_bytes(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert!(numeric(&[0, 1]).is_err());
    }

    #[test]
    fn array_literals_escape_quotes_and_backslashes() {
        let items = [Value::from("a\"b"), Value::from("c\\d"), Value::Null];
        assert_eq!(
            array_literal(&Type::TEXT, &items).unwrap(),
            r#"{"a\"b","c\\d",NULL}"#
        );
        let nested = [Value::from(vec![1, 2]), Value::from(vec![3, 4])];
        assert_eq!(
            array_literal(&Type::INT4, &nested).unwrap(),
            r#"{{"1","2"},{"3","4"}}"#
        );
    }

    #[test]
    fn parameter_count_must_match() {
        let error = params(&[Type::INT4], &[], &[]).err().unwrap();
        assert!(error.message().contains("1 placeholder(s) but 0"));
        let error = params(&[Type::BYTEA], &[Value::from("not base64!")], &["data".into()])
            .err()
            .unwrap();
        assert!(error.message().contains("parameter data (bytea)"), "{error}");
    }
}
