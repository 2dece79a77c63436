//! The configuration form: per-provider fields, credential rules that never fall back to ambient cloud
//! credentials, and secrets that stay out of every printed form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tributary_core::{Connector, ErrorKind};
use tributary_object_store::{ObjectStoreConfig, ObjectStoreConnector, config};

fn configure(config: Value) -> tributary_core::Result<ObjectStoreConfig> {
    ObjectStoreConfig::from_values(&config::spec().validate(&config)?)
}

fn problem_fields(config: Value) -> Vec<String> {
    let error = configure(config).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidConfig);
    error.fields().iter().map(|field| field.field.clone()).collect()
}

#[test]
fn s3_without_keys_is_refused_rather_than_using_ambient_credentials() {
    let fields = problem_fields(json!({"provider": "s3", "bucket": "b"}));
    assert_eq!(fields, ["access_key_id", "secret_access_key"]);
    // Ambient credentials are a choice the form has to make explicitly.
    let ambient = configure(json!({"provider": "s3", "bucket": "b", "credentials": "ambient"})).unwrap();
    assert_eq!(ambient.credentials, config::CredentialSource::Ambient);
    assert!(configure(json!({"provider": "s3", "bucket": "b", "credentials": "anonymous"})).is_ok());
}

#[test]
fn each_provider_has_its_required_fields() {
    assert_eq!(
        problem_fields(json!({"provider": "s3", "access_key_id": "a", "secret_access_key": "s"})),
        ["bucket"]
    );
    assert_eq!(problem_fields(json!({"provider": "local"})), ["root"]);
    assert!(
        problem_fields(json!({"provider": "azure", "bucket": "c", "account_key": "k"}))
            .contains(&"account".to_owned())
    );
    assert_eq!(
        problem_fields(json!({"provider": "gcs", "bucket": "b"})),
        ["service_account_key"]
    );
    assert_eq!(
        problem_fields(json!({"provider": "s3", "bucket": "b", "credentials": "web_identity"})),
        ["role_arn", "web_identity_token_file"]
    );
    assert_eq!(
        problem_fields(
            json!({"provider": "azure", "bucket": "c", "account": "a", "account_key": "k", "sas_token": "sv=1"})
        ),
        ["account_key"],
        "exactly one Azure credential"
    );
}

#[test]
fn fields_of_another_provider_are_refused_not_ignored() {
    let fields = problem_fields(json!({
        "provider": "gcs", "bucket": "b", "credentials": "anonymous",
        "access_key_id": "AKIA", "secret_access_key": "s",
    }));
    assert_eq!(fields, ["access_key_id", "secret_access_key"]);
    let fields = problem_fields(json!({"provider": "local", "root": "/tmp", "endpoint": "http://x"}));
    assert_eq!(fields, ["endpoint"]);
}

#[tokio::test]
async fn cloud_providers_build_without_contacting_anything() {
    let gcs = ObjectStoreConnector::new(
        configure(json!({"provider": "gcs", "bucket": "b", "credentials": "anonymous"})).unwrap(),
    );
    assert_eq!(gcs.unwrap().bucket_name(), "b");
    let azure = ObjectStoreConnector::new(
        configure(
            json!({"provider": "azure", "bucket": "c", "account": "acct", "account_key": "c2VjcmV0LWtleQ=="}),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(azure.connector_type(), "s3");
    assert_eq!(azure.operations().len(), 8);
    let s3 = ObjectStoreConnector::new(
        configure(json!({"provider": "s3", "bucket": "b", "addressing": "virtual-hosted", "endpoint": "https://s3.example.com",
                         "access_key_id": "a", "secret_access_key": "s"})).unwrap(),
    );
    assert!(s3.is_ok());
}

#[test]
fn secrets_stay_out_of_debug_and_are_marked_in_the_form() {
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
    let config = configure(json!({"provider": "s3", "bucket": "b", "access_key_id": "AKIA", "secret_access_key": secret, "session_token": "tok-123456"})).unwrap();
    let connector = ObjectStoreConnector::new(config.clone()).unwrap();
    let shown = format!("{config:?} {connector:?}");
    assert!(
        !shown.contains(secret) && !shown.contains("tok-123456"),
        "{shown}"
    );
    let spec = config::spec();
    let secrets: Vec<&str> = spec.secret_fields().collect();
    for field in [
        "secret_access_key",
        "session_token",
        "service_account_key",
        "account_key",
        "sas_token",
        "client_secret",
    ] {
        assert!(secrets.contains(&field), "{field} is a secret");
    }
    let values = spec
        .validate(
            &json!({"provider": "s3", "bucket": "b", "access_key_id": "AKIA", "secret_access_key": secret}),
        )
        .unwrap();
    let redacted = spec.redact(values.expose());
    assert_eq!(redacted["secret_access_key"], json!({"set": true}));
}

#[test]
fn names_that_become_part_of_a_url_cannot_carry_another_host() {
    let base = json!({"bucket": "b", "access_key_id": "k", "secret_access_key": "s"});
    let with = |field: &str, value: &str| {
        let mut config = base.clone();
        config[field] = json!(value);
        config
    };
    for (field, value) in [
        ("region", "evil.example/x"),
        ("region", "us-east-1@evil.example"),
        ("bucket", "b/../../other"),
        ("bucket", "evil.example:443#"),
    ] {
        assert_eq!(
            problem_fields(with(field, value)),
            vec![field.to_owned()],
            "{field} = {value}"
        );
    }
    let azure =
        json!({"provider": "azure", "bucket": "c", "account": "evil.example/", "account_key": "a2V5"});
    assert_eq!(problem_fields(azure), vec!["account".to_owned()]);
    assert!(configure(with("region", "eu-central-1")).is_ok());
}
