//! The object-store connector's configuration: its [`ConnectorSpec`] and the typed [`ObjectStoreConfig`].
//!
//! One form serves every provider; fields that belong to another provider are refused rather than ignored,
//! so a mistyped form fails at save time instead of connecting with less than the administrator meant.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tributary_core::spec::{ConfigRule, ConnectorSpec, FieldSpec};
use tributary_core::{ConfigValues, FieldError, Result, Secret};

/// The connector type's identifier.
pub const CONNECTOR_TYPE: &str = "s3";

const MIB: i64 = 1024 * 1024;

/// Where the objects live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Amazon S3 or an S3-compatible server (MinIO, Ceph, R2, s3s).
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage.
    Azure,
    /// A folder on the Tributary host.
    Local,
}

impl Provider {
    /// The name used in the form.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::S3 => "s3",
            Provider::Gcs => "gcs",
            Provider::Azure => "azure",
            Provider::Local => "local",
        }
    }
}

/// Where credentials come from. Only `ambient` lets object_store look at the host's environment, files or
/// instance metadata; every other choice uses exactly what the form holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    /// The keys in this form.
    Static,
    /// No credentials: unsigned requests, for public buckets.
    Anonymous,
    /// S3 only: assume `role_arn` with the web identity token in `web_identity_token_file`.
    WebIdentity,
    /// The host's own cloud credentials (environment variables, instance or workload identity).
    Ambient,
}

/// How bucket names go into S3 URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Addressing {
    /// `https://endpoint/bucket/key`: works with every S3-compatible server.
    Path,
    /// `https://bucket.endpoint/key`: what AWS prefers.
    VirtualHosted,
}

/// A validated object-store configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// Where the objects live.
    pub provider: Provider,
    /// The bucket (S3, GCS) or container (Azure); for local folders, the name policies use for the folder.
    #[serde(default)]
    pub bucket: Option<String>,
    /// The folder served by the local provider.
    #[serde(default)]
    pub root: Option<String>,
    /// The S3 region to sign for.
    pub region: String,
    /// A custom endpoint URL (S3-compatible server, GCS base URL, Azure or Azurite endpoint).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Path-style or virtual-hosted-style S3 URLs.
    pub addressing: Addressing,
    /// Allow plain HTTP endpoints (local servers only).
    pub allow_http: bool,
    /// Where credentials come from.
    pub credentials: CredentialSource,
    /// S3 access key id.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    #[serde(default)]
    pub secret_access_key: Option<Secret>,
    /// S3 session token for temporary credentials.
    #[serde(default)]
    pub session_token: Option<Secret>,
    /// S3 web identity: the role to assume.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// S3 web identity: the file holding the OIDC token.
    #[serde(default)]
    pub web_identity_token_file: Option<String>,
    /// S3 web identity: the session name.
    #[serde(default)]
    pub role_session_name: Option<String>,
    /// S3 web identity: the STS endpoint.
    #[serde(default)]
    pub sts_endpoint: Option<String>,
    /// GCS service account key (JSON).
    #[serde(default)]
    pub service_account_key: Option<Secret>,
    /// Azure storage account name.
    #[serde(default)]
    pub account: Option<String>,
    /// Azure storage account key.
    #[serde(default)]
    pub account_key: Option<Secret>,
    /// Azure shared access signature (the query string).
    #[serde(default)]
    pub sas_token: Option<Secret>,
    /// Azure service principal: tenant id.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Azure service principal: client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Azure service principal: client secret.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Seconds to wait for a connection.
    pub connect_timeout_seconds: u64,
    /// Seconds one request may take, transfer included.
    pub request_timeout_seconds: u64,
    /// Retries of a failed request (connection errors, 5xx, throttling).
    pub max_retries: u64,
    /// Seconds after which a request is not retried any more.
    pub retry_timeout_seconds: u64,
    /// Bytes a `get` returns at most; larger objects are returned cut, and say so.
    pub max_read_bytes: u64,
    /// Bytes a `put` accepts at most.
    pub max_write_bytes: u64,
    /// Bodies larger than this go up in parts of this size (multipart upload).
    pub multipart_part_bytes: u64,
    /// Keys a `list` page holds when the caller does not say.
    pub default_page_size: u64,
    /// The longest validity a presigned URL may have, in seconds.
    pub max_presign_seconds: u64,
    /// When true (the default), `put`, `delete`, `copy` and `presign_put` are refused.
    pub read_only: bool,
}

impl std::fmt::Debug for ObjectStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secrets are `Secret`s and print as redacted anyway; the debug form stays short.
        f.debug_struct("ObjectStoreConfig")
            .field("provider", &self.provider)
            .field("bucket", &self.bucket)
            .field("root", &self.root)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// The configuration form.
pub fn spec() -> ConnectorSpec {
    ConnectorSpec::new(
        CONNECTOR_TYPE,
        "Object storage",
        "Files in Amazon S3 or an S3-compatible store (MinIO, Ceph, R2), Google Cloud Storage, Azure Blob Storage, or a folder on this host.",
    )
    .fields(store_fields())
    .fields(credential_fields())
    .fields(limit_fields())
    .field(
        FieldSpec::boolean("read_only", "Read only")
            .default_value(true)
            .group("Access")
            .help("put, delete, copy and presign_put are refused. Turn off to allow writes."),
    )
    .rules([
        ConfigRule::RequiredWhen {
            field: "provider".into(),
            values: vec![json!("s3"), json!("gcs"), json!("azure")],
            required: vec!["bucket".into()],
        },
        ConfigRule::RequiredWhen {
            field: "provider".into(),
            values: vec![json!("local")],
            required: vec!["root".into()],
        },
        ConfigRule::RequiredWhen {
            field: "provider".into(),
            values: vec![json!("azure")],
            required: vec!["account".into()],
        },
        ConfigRule::RequiredWhen {
            field: "credentials".into(),
            values: vec![json!("web_identity")],
            required: vec!["role_arn".into(), "web_identity_token_file".into()],
        },
    ])
}

fn store_fields() -> Vec<FieldSpec> {
    vec![
        FieldSpec::choice("provider", "Provider", ["s3", "gcs", "azure", "local"])
            .target()
            .default_value("s3")
            .required()
            .group("Store")
            .help("s3 for Amazon S3 and S3-compatible servers, gcs, azure, or local for a folder on this host."),
        FieldSpec::string("bucket", "Bucket")
            .group("Store")
            .placeholder("company-reports")
            .help("The bucket (Azure: container). For a local folder, the name permissions use for it (default: the folder's name)."),
        FieldSpec::string("root", "Folder")
            .target()
            .group("Store")
            .placeholder("/srv/documents")
            .help("Local provider: the folder to serve. Symbolic links inside it are not followed out of it."),
        FieldSpec::string("region", "Region").target().default_value("us-east-1").group("Store"),
        FieldSpec::string("endpoint", "Endpoint URL")
            .target()
            .group("Store")
            .placeholder("https://minio.internal:9000")
            .help("For S3-compatible servers, the GCS emulator or Azurite; empty for the provider's own endpoint."),
        FieldSpec::choice("addressing", "Addressing", ["path", "virtual-hosted"])
            .target()
            .default_value("path")
            .group("Store")
            .help("S3 URL style: path (endpoint/bucket/key) works everywhere; virtual-hosted (bucket.endpoint/key) is what AWS prefers."),
        FieldSpec::boolean("allow_http", "Allow plain HTTP")
            .target()
            .default_value(false)
            .group("Store")
            .help("Only for servers on a trusted local network: credentials and data travel unencrypted."),
    ]
}

fn credential_fields() -> Vec<FieldSpec> {
    let group = "Credentials";
    vec![
        FieldSpec::choice("credentials", "Credentials", ["static", "anonymous", "web_identity", "ambient"])
            .default_value("static")
            .group(group)
            .help("static: the keys below. anonymous: unsigned requests for public buckets. web_identity (S3): assume a role with a token file. ambient: the host's own cloud credentials (environment, instance metadata); never used unless chosen here."),
        FieldSpec::string("access_key_id", "Access key id").group(group).help("S3."),
        FieldSpec::string("secret_access_key", "Secret access key").secret().group(group).help("S3."),
        FieldSpec::string("session_token", "Session token").secret().group(group).help("S3 temporary credentials."),
        FieldSpec::string("role_arn", "Role ARN").group(group).help("S3 web identity."),
        FieldSpec::string("web_identity_token_file", "Web identity token file").group(group).help("S3 web identity."),
        FieldSpec::string("role_session_name", "Role session name").group(group).help("S3 web identity."),
        FieldSpec::string("sts_endpoint", "STS endpoint").target().group(group).help("S3 web identity."),
        FieldSpec::text("service_account_key", "Service account key (JSON)").secret().group(group).help("GCS."),
        FieldSpec::string("account", "Storage account").target().group(group).help("Azure."),
        FieldSpec::string("account_key", "Account key").secret().group(group).help("Azure: one of account key, SAS token or client secret."),
        FieldSpec::string("sas_token", "SAS token").secret().group(group).help("Azure: the query string of a shared access signature."),
        FieldSpec::string("tenant_id", "Tenant id").group(group).help("Azure service principal."),
        FieldSpec::string("client_id", "Client id").group(group).help("Azure service principal."),
        FieldSpec::string("client_secret", "Client secret").secret().group(group).help("Azure service principal."),
    ]
}

fn limit_fields() -> Vec<FieldSpec> {
    let group = "Limits";
    vec![
        FieldSpec::integer("connect_timeout_seconds", "Connect timeout (s)").range(1, 300).default_value(5).group(group),
        FieldSpec::integer("request_timeout_seconds", "Request timeout (s)")
            .range(1, 3600)
            .default_value(60)
            .group(group)
            .help("One request, transfer included. Raise it for large objects on slow links."),
        FieldSpec::integer("max_retries", "Retries").range(0, 10).default_value(3).group(group).help("Retries of connection errors, 5xx answers and throttling, with exponential backoff."),
        FieldSpec::integer("retry_timeout_seconds", "Retry window (s)").range(1, 600).default_value(30).group(group),
        FieldSpec::integer("max_read_bytes", "Largest read (bytes)")
            .range(1, 1024 * MIB)
            .default_value(10 * MIB)
            .group(group)
            .help("A get returns at most this many bytes; a larger object is returned cut, and the result says so."),
        FieldSpec::integer("max_write_bytes", "Largest write (bytes)").range(0, 5 * 1024 * MIB).default_value(100 * MIB).group(group),
        FieldSpec::integer("multipart_part_bytes", "Multipart part size (bytes)")
            .range(5 * MIB, 512 * MIB)
            .default_value(8 * MIB)
            .group(group)
            .help("Bodies larger than one part are uploaded in parts of this size (S3 needs at least 5 MiB)."),
        FieldSpec::integer("default_page_size", "Keys per list page").range(1, 1000).default_value(100).group(group),
        FieldSpec::integer("max_presign_seconds", "Longest presigned URL (s)").range(1, 604_800).default_value(3600).group(group),
    ]
}

/// Which providers each provider-specific field belongs to.
const PROVIDER_FIELDS: &[(&str, &[Provider])] = &[
    ("root", &[Provider::Local]),
    ("access_key_id", &[Provider::S3]),
    ("secret_access_key", &[Provider::S3]),
    ("session_token", &[Provider::S3]),
    ("role_arn", &[Provider::S3]),
    ("web_identity_token_file", &[Provider::S3]),
    ("role_session_name", &[Provider::S3]),
    ("sts_endpoint", &[Provider::S3]),
    ("service_account_key", &[Provider::Gcs]),
    ("account", &[Provider::Azure]),
    ("account_key", &[Provider::Azure]),
    ("sas_token", &[Provider::Azure]),
    ("tenant_id", &[Provider::Azure]),
    ("client_id", &[Provider::Azure]),
    ("client_secret", &[Provider::Azure]),
    ("endpoint", &[Provider::S3, Provider::Gcs, Provider::Azure]),
];

impl ObjectStoreConfig {
    /// The typed configuration from validated values, with the per-provider checks applied.
    pub fn from_values(values: &ConfigValues) -> Result<ObjectStoreConfig> {
        let config: ObjectStoreConfig = values.deserialize()?;
        let mut errors = Vec::new();
        for (field, providers) in PROVIDER_FIELDS {
            if values.get(field).is_some_and(|value| !value.is_null())
                && !providers.contains(&config.provider)
            {
                let owners: Vec<&str> = providers.iter().map(|p| p.as_str()).collect();
                errors.push(FieldError::new(
                    *field,
                    format!(
                        "only used by the {} provider; remove it for {}",
                        owners.join(" and "),
                        config.provider.as_str()
                    ),
                ));
            }
        }
        errors.extend(config.credential_errors());
        errors.extend(config.name_errors());
        if config.default_page_size > 1000 {
            errors.push(FieldError::new("default_page_size", "at most 1000"));
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(tributary_core::Error::invalid_config(errors))
        }
    }

    /// Bucket, region and account become part of the URLs requests go to (`bucket.endpoint`,
    /// `s3.{region}.amazonaws.com`, `{account}.blob.core.windows.net`): only the characters those names
    /// allow, so none can move a request to another host.
    fn name_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let fits = |value: &str, max: usize, allowed: &dyn Fn(char) -> bool| {
            !value.is_empty() && value.len() <= max && value.chars().all(allowed)
        };
        if let Some(bucket) = &self.bucket
            && !fits(bucket, 255, &|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
            })
        {
            errors.push(FieldError::new(
                "bucket",
                "may hold only letters, digits, `.`, `-` and `_`",
            ));
        }
        if !fits(&self.region, 64, &|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
        }) {
            errors.push(FieldError::new(
                "region",
                "may hold only letters, digits, `-` and `_` (us-east-1)",
            ));
        }
        if let Some(account) = &self.account
            && !fits(account, 24, &|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            errors.push(FieldError::new(
                "account",
                "is 1 to 24 lowercase letters and digits",
            ));
        }
        errors
    }

    fn credential_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut need = |field: &str, set: bool, why: &str| {
            if !set {
                errors.push(FieldError::new(field, why.to_owned()));
            }
        };
        match (self.provider, self.credentials) {
            (Provider::Local, CredentialSource::Static) => {}
            (Provider::Local, _) => need(
                "credentials",
                false,
                "a local folder takes no credentials; leave it at static",
            ),
            (Provider::S3, CredentialSource::Static) => {
                need(
                    "access_key_id",
                    self.access_key_id.is_some(),
                    "required with static credentials",
                );
                need(
                    "secret_access_key",
                    self.secret_access_key.is_some(),
                    "required with static credentials",
                );
            }
            (Provider::Gcs, CredentialSource::Static) => {
                need(
                    "service_account_key",
                    self.service_account_key.is_some(),
                    "required with static credentials",
                );
            }
            (Provider::Azure, CredentialSource::Static) => {
                let principal =
                    self.tenant_id.is_some() && self.client_id.is_some() && self.client_secret.is_some();
                let count = [self.account_key.is_some(), self.sas_token.is_some(), principal]
                    .into_iter()
                    .filter(|set| *set)
                    .count();
                need(
                    "account_key",
                    count == 1,
                    "give exactly one of: account key, SAS token, or tenant id + client id + client secret",
                );
            }
            (Provider::Gcs | Provider::Azure, CredentialSource::WebIdentity) => {
                need(
                    "credentials",
                    false,
                    "web_identity is for S3; use ambient for workload identity on GCS and Azure",
                );
            }
            (_, CredentialSource::Anonymous | CredentialSource::Ambient | CredentialSource::WebIdentity) => {}
        }
        errors
    }

    /// The name permissions and results use for the bucket.
    pub fn bucket_name(&self) -> String {
        match (&self.bucket, &self.root) {
            (Some(bucket), _) => bucket.clone(),
            (None, Some(root)) => std::path::Path::new(root)
                .file_name()
                .map_or_else(|| "local".to_owned(), |name| name.to_string_lossy().into_owned()),
            (None, None) => "local".to_owned(),
        }
    }

    /// The connect timeout, also the bound of a connection check.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_seconds)
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }

    /// The secrets of this configuration, for scrubbing errors.
    pub fn secrets(&self) -> Vec<String> {
        [
            &self.secret_access_key,
            &self.session_token,
            &self.service_account_key,
            &self.account_key,
            &self.sas_token,
            &self.client_secret,
        ]
        .into_iter()
        .flatten()
        .map(|secret| secret.expose().to_owned())
        .collect()
    }
}
