//! Salesforce field types mapped to Tributary's [`DataType`]s. Record values arrive as JSON already in the
//! core mapping's shapes (dates and times as ISO strings, numbers as numbers), so records pass through
//! unchanged, `attributes` included: it tells an agent each record's type and URL.

use tributary_core::DataType;

/// The normalized type of a Salesforce field type (`picklist`, `currency`, `reference`).
pub fn data_type(native: &str) -> DataType {
    match native {
        "id" | "string" | "textarea" | "email" | "phone" | "url" | "encryptedstring" | "combobox"
        | "multipicklist" => DataType::String,
        "picklist" => DataType::Enum,
        "reference" => DataType::Reference,
        "boolean" => DataType::Boolean,
        "int" | "long" => DataType::Integer,
        "double" | "currency" | "percent" => DataType::Float,
        "date" => DataType::Date,
        "datetime" => DataType::TimestampTz,
        "time" => DataType::Time,
        "base64" => DataType::Bytes,
        "address" | "location" | "complexvalue" | "anyType" => DataType::Json,
        _ => DataType::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_type_has_a_mapping() {
        for native in [
            "id",
            "reference",
            "boolean",
            "string",
            "textarea",
            "picklist",
            "multipicklist",
            "double",
            "currency",
            "percent",
            "int",
            "date",
            "datetime",
            "email",
            "phone",
            "url",
            "address",
            "location",
            "base64",
        ] {
            assert_ne!(data_type(native), DataType::Other, "{native}");
        }
        assert_eq!(data_type("reference"), DataType::Reference);
        assert_eq!(data_type("datetime"), DataType::TimestampTz);
    }
}
