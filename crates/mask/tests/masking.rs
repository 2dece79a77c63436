//! Masking applied to everything a connector returns: rows (by column name and type), records, nested
//! JSON, object text, write outcomes and error messages; strategies; the policy's switches; and reports
//! that count without ever holding a value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tributary_core::{Column, Data, DataType, Error, Output, RowSet, Secret, WriteSummary};
use tributary_mask::{CustomPattern, Entity, FieldTypes, MaskPolicy, Masker, Strategy};

fn masker(policy: MaskPolicy) -> Masker {
    Masker::new(policy).unwrap()
}

fn column(name: &str, native: &str) -> Column {
    Column {
        name: name.into(),
        data_type: DataType::String,
        native_type: native.into(),
    }
}

#[test]
fn rows_are_masked_by_column_name_type_and_content() {
    let masker = masker(MaskPolicy::default());
    let untouched = vec![
        json!(2),
        json!(null),
        json!(""),
        json!(null),
        json!("nothing to see, order 4111111111111112"),
        json!(null),
    ];
    let mut output = Output::complete(Data::Rows(RowSet {
        columns: vec![
            column("id", "int4"),
            column("first_name", "text"),
            column("Email", "text"),
            column("contact", "phone"),
            column("notes", "text"),
            column("dob", "date"),
        ],
        rows: vec![
            vec![
                json!(1),
                json!("Ada"),
                json!("not-an-email-but-masked"),
                json!("whatever"),
                json!("card 4111 1111 1111 1111 on file"),
                json!("1815-12-10"),
            ],
            untouched.clone(),
        ],
    }));
    let report = masker.mask_output(&mut output, &FieldTypes::new());
    let Data::Rows(rows) = &output.data else { panic!() };
    assert_eq!(
        rows.rows[0],
        vec![
            json!(1),
            json!("<PERSON_NAME>"),
            json!("<EMAIL>"),
            json!("<PHONE>"),
            json!("card <CREDIT_CARD> on file"),
            json!("<DATE_OF_BIRTH>")
        ]
    );
    assert_eq!(rows.rows[1], untouched, "nothing to mask in the second row");
    assert_eq!(report.total(), 5);
    assert_eq!(report.counts["credit_card"], 1);
    assert_eq!(
        report.counts["phone"], 1,
        "the column's source type `phone` is a hint"
    );
}

#[test]
fn records_nested_json_documents_and_writes_are_walked() {
    let masker = masker(MaskPolicy::default());
    let mut records = Output::complete(Data::Records {
        records: vec![
            json!({
                "attributes": {"type": "Contact"},
                "Id": "003000000000001AAA",
                "MobilePhone": "+1 415 555 2671",
                "Description": "prefers email ada@example.com",
                "MailingAddress": {"street": "1 Main St", "city": "Springfield"},
                "Account": {"Name": "Acme", "BillingStreet": "2 Side St", "Website": "acme.example"},
                "Custom__c": 4111111111111111u64,
            })
            .as_object()
            .cloned()
            .unwrap(),
        ],
    });
    let mut types = FieldTypes::new();
    types.insert("Description".into(), "textarea".into());
    masker.mask_output(&mut records, &types);
    let Data::Records { records } = &records.data else {
        panic!()
    };
    let record = Value::Object(records[0].clone());
    assert_eq!(record["MobilePhone"], "<PHONE>");
    assert_eq!(record["Description"], "prefers email <EMAIL>");
    assert_eq!(
        record["MailingAddress"]["street"], "<ADDRESS>",
        "a hinted object masks what it holds"
    );
    assert_eq!(record["MailingAddress"]["city"], "<ADDRESS>");
    assert_eq!(record["Account"]["BillingStreet"], "<ADDRESS>");
    assert_eq!(record["Account"]["Name"], "Acme");
    assert_eq!(
        record["Custom__c"], "<CREDIT_CARD>",
        "a card stored as a number is found too"
    );
    assert_eq!(record["Id"], "003000000000001AAA");

    let mut document = Output::complete(Data::Document {
        document: json!({"key": "notes.txt", "content": "call (415) 555-2671 or mail bob@example.org", "encoding": "text"}),
    });
    let report = masker.mask_output(&mut document, &FieldTypes::new());
    let Data::Document { document } = &document.data else {
        panic!()
    };
    assert_eq!(document["content"], "call <PHONE> or mail <EMAIL>");
    assert_eq!(report.total(), 2);

    let mut write = Output::complete(Data::Write(WriteSummary {
        affected: 1,
        items: vec![json!({"id": "x", "errors": [{"message": "duplicate value ada@example.com"}]})],
    }));
    masker.mask_output(&mut write, &FieldTypes::new());
    let Data::Write(summary) = &write.data else {
        panic!()
    };
    assert_eq!(
        summary.items[0]["errors"][0]["message"],
        "duplicate value <EMAIL>"
    );
}

#[test]
fn errors_that_echo_data_are_masked() {
    let masker = masker(MaskPolicy::default());
    let error = Error::new(
        tributary_core::ErrorKind::Conflict,
        "Key (email)=(ada@example.com) already exists",
    )
    .with_hint("SSN 536-22-8471 is taken");
    let (masked, report) = masker.mask_error(error);
    assert_eq!(masked.message(), "Key (email)=(<EMAIL>) already exists");
    assert_eq!(masked.hint(), "SSN <SSN> is taken");
    assert_eq!(masked.kind(), tributary_core::ErrorKind::Conflict);
    assert_eq!(report.total(), 2);
}

#[test]
fn strategies_per_entity() {
    let policy = MaskPolicy {
        strategies: [
            (Entity::Email, Strategy::Partial),
            (Entity::CreditCard, Strategy::Partial),
            (Entity::Ssn, Strategy::Hash),
        ]
        .into_iter()
        .collect(),
        hash_key: Some(Secret::new("a-key-of-at-least-sixteen-bytes")),
        ..MaskPolicy::default()
    };
    let masker = masker(policy);
    let (masked, _) =
        masker.mask_text("ada@example.com paid with 4111-1111-1111-1111, SSN 536-22-8471 and 536 22 8471");
    let parts: Vec<&str> = masked.split(' ').collect();
    assert_eq!(parts[0], "***@example.com");
    assert_eq!(parts[3], "****1111,");
    assert!(parts[5].starts_with("<SSN:"), "{masked}");
    assert_eq!(
        parts[5], parts[7],
        "the same SSN written two ways hashes alike: {masked}"
    );
    assert!(!masked.contains("8471"));

    let error = Masker::new(MaskPolicy {
        default_strategy: Strategy::Hash,
        ..MaskPolicy::default()
    })
    .unwrap_err();
    assert_eq!(
        error.kind(),
        tributary_core::ErrorKind::InvalidConfig,
        "hashing needs a key"
    );
    let short = MaskPolicy {
        default_strategy: Strategy::Hash,
        hash_key: Some(Secret::new("short")),
        ..MaskPolicy::default()
    };
    assert!(Masker::new(short).is_err());
}

#[test]
fn the_policy_switches_detectors_columns_and_extra_patterns() {
    let policy = MaskPolicy {
        detectors: [Entity::Email, Entity::Custom].into_iter().collect(),
        extra_patterns: vec![CustomPattern {
            name: "employee_id".into(),
            pattern: r"EMP-[0-9]{6}".into(),
        }],
        always_mask: vec!["internal_notes".into()],
        never_mask: vec!["public_email".into()],
        ..MaskPolicy::default()
    };
    let masker = masker(policy);
    let (masked, report) = masker.mask_text("EMP-123456 wrote to ada@example.com about 4111 1111 1111 1111");
    assert_eq!(
        masked, "<EMPLOYEE_ID> wrote to <EMAIL> about 4111 1111 1111 1111",
        "cards are off in this policy"
    );
    assert_eq!(report.counts["employee_id"], 1);

    let mut value = json!({"public_email": "press@example.com", "internal_notes": "fine", "email": "ada@example.com", "phone": "x"});
    masker.mask_json(&mut value);
    assert_eq!(value["public_email"], "press@example.com");
    assert_eq!(value["internal_notes"], "<REDACTED>");
    assert_eq!(value["email"], "<EMAIL>");
    assert_eq!(
        value["phone"], "x",
        "phone hints are off when the phone detector is"
    );

    let bad = MaskPolicy {
        extra_patterns: vec![CustomPattern {
            name: "broken".into(),
            pattern: "(".into(),
        }],
        ..MaskPolicy::default()
    };
    let error = Masker::new(bad).unwrap_err();
    assert!(error.fields()[0].message.contains("broken"));

    let no_hints = masker_without_hints();
    let mut value = json!({"email": "not an address", "notes": "ada@example.com"});
    no_hints.mask_json(&mut value);
    assert_eq!(value, json!({"email": "not an address", "notes": "<EMAIL>"}));
}

fn masker_without_hints() -> Masker {
    masker(MaskPolicy {
        column_hints: false,
        ..MaskPolicy::default()
    })
}

#[test]
fn reports_never_hold_values() {
    let masker = masker(MaskPolicy::default());
    let (_, report) =
        masker.mask_text("ada@example.com 4111 1111 1111 1111 536-22-8471 DE89 3704 0044 0532 0130 00");
    let shown = format!("{report:?} {}", serde_json::to_string(&report).unwrap());
    for value in ["ada@example.com", "4111", "536-22", "DE89"] {
        assert!(!shown.contains(value), "{shown}");
    }
    assert_eq!(report.total(), 4);
    assert_eq!(serde_json::to_value(&report).unwrap()["counts"]["iban"], 1);
}

#[test]
fn secrets_in_text_are_masked() {
    let masker = masker(MaskPolicy::default());
    let text = "url postgres://app:s3cr3t-pass@db.internal:5432/shop key AKIAIOSFODNN7EXAMPLE password = \"hunter2!\" \
                token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
    let (masked, report) = masker.mask_text(text);
    assert_eq!(
        masked,
        "url postgres://app:<SECRET>@db.internal:5432/shop key <SECRET> password = \"<SECRET>\" token <SECRET> <SECRET>"
    );
    assert_eq!(report.counts["secret"], 5);
}
