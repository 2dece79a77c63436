//! The live store: an object_store client built from the configuration, one builder per provider.
//!
//! Builders start from `new()`, never `from_env()`, so no environment variable, credentials file or
//! instance-metadata endpoint is consulted unless the configuration chooses `ambient` credentials. For
//! anonymous access the signature is skipped *and* a fixed empty credential is installed, so the builders'
//! fallback chains (which would look for ambient credentials) are never built either.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, AzureCredential, MicrosoftAzureBuilder};
use object_store::gcp::{GcpCredential, GoogleCloudStorageBuilder};
use object_store::list::PaginatedListStore;
use object_store::local::LocalFileSystem;
use object_store::signer::Signer;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig, StaticCredentialProvider};
use tributary_core::{Error, ErrorKind, FieldError, Result};

use crate::config::{Addressing, CredentialSource, ObjectStoreConfig, Provider};
use crate::key::ObjectKey;

/// One configured store and what it can do beyond the basic operations.
#[derive(Clone)]
pub(crate) struct Store {
    /// Reads and writes.
    pub(crate) objects: Arc<dyn ObjectStore>,
    /// Listing one page at a time with the server's continuation tokens (the cloud providers).
    pub(crate) pages: Option<Arc<dyn PaginatedListStore>>,
    /// Presigned URLs (the cloud providers, with credentials that can sign).
    pub(crate) signer: Option<Arc<dyn Signer>>,
    /// The folder, for the local provider.
    pub(crate) local_root: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("objects", &self.objects.to_string())
            .field("paginated", &self.pages.is_some())
            .field("signs", &self.signer.is_some())
            .finish()
    }
}

impl Store {
    /// Builds the client. Nothing is contacted: [`crate::ObjectStoreConnector`]'s check does that.
    pub(crate) fn build(config: &ObjectStoreConfig) -> Result<Store> {
        let result = match config.provider {
            Provider::S3 => s3(config),
            Provider::Gcs => gcs(config),
            Provider::Azure => azure(config),
            Provider::Local => local(config),
        };
        result.map_err(|error| error.redact(&config.secrets()))
    }

    /// For the local provider, refuses a key whose path passes through a symbolic link: a link inside the
    /// folder could point anywhere on the host, and the key check cannot see where.
    pub(crate) fn refuse_links(&self, key: &ObjectKey) -> Result<()> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let mut path = root.clone();
        for segment in key.segments() {
            path.push(segment);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(Error::permission_denied(format!(
                        "`{key}` passes through a symbolic link, which this connector does not follow"
                    ))
                    .with_hint("local folders serve regular files and folders only"));
                }
                Ok(_) => {}
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    }
}

fn client_options(config: &ObjectStoreConfig) -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(config.connect_timeout())
        .with_timeout(config.request_timeout())
        .with_allow_http(config.allow_http)
}

fn retry(config: &ObjectStoreConfig) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: usize::try_from(config.max_retries).unwrap_or(usize::MAX),
        retry_timeout: Duration::from_secs(config.retry_timeout_seconds),
    }
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str> {
    value
        .as_deref()
        .ok_or_else(|| Error::invalid_config(vec![FieldError::new(field, "required for this provider")]))
}

fn s3(config: &ObjectStoreConfig) -> Result<Store> {
    let bucket = required(&config.bucket, "bucket")?;
    let mut builder = match config.credentials {
        CredentialSource::Ambient => AmazonS3Builder::from_env(),
        _ => AmazonS3Builder::new(),
    }
    .with_bucket_name(bucket)
    .with_region(&config.region)
    .with_client_options(client_options(config))
    .with_retry(retry(config));
    let virtual_hosted = config.addressing == Addressing::VirtualHosted;
    builder = builder.with_virtual_hosted_style_request(virtual_hosted);
    if let Some(endpoint) = &config.endpoint {
        // object_store expects a virtual-hosted endpoint to name the bucket already.
        let endpoint = if virtual_hosted {
            with_bucket_host(endpoint, bucket)?
        } else {
            endpoint.clone()
        };
        builder = builder.with_endpoint(endpoint);
    }
    builder = match config.credentials {
        CredentialSource::Static => {
            let mut builder = builder
                .with_access_key_id(required(&config.access_key_id, "access_key_id")?)
                .with_secret_access_key(config.secret_access_key.as_ref().map_or("", |s| s.expose()));
            if let Some(token) = &config.session_token {
                builder = builder.with_token(token.expose());
            }
            builder
        }
        CredentialSource::Anonymous => {
            builder
                .with_skip_signature(true)
                .with_credentials(Arc::new(StaticCredentialProvider::new(
                    object_store::aws::AwsCredential {
                        key_id: String::new(),
                        secret_key: String::new(),
                        token: None,
                    },
                )))
        }
        CredentialSource::WebIdentity => {
            let mut builder = builder
                .with_config(
                    AmazonS3ConfigKey::RoleArn,
                    required(&config.role_arn, "role_arn")?,
                )
                .with_config(
                    AmazonS3ConfigKey::WebIdentityTokenFile,
                    required(&config.web_identity_token_file, "web_identity_token_file")?,
                );
            if let Some(name) = &config.role_session_name {
                builder = builder.with_config(AmazonS3ConfigKey::RoleSessionName, name);
            }
            if let Some(sts) = &config.sts_endpoint {
                builder = builder.with_config(AmazonS3ConfigKey::StsEndpoint, sts);
            }
            builder
        }
        CredentialSource::Ambient => builder,
    };
    let store = builder.build().map_err(|error| build_error("S3", &error))?;
    Ok(cloud(store, config))
}

/// A cloud store pages its listings on the server and can sign URLs, unless it has no credentials.
fn cloud<S: ObjectStore + PaginatedListStore + Signer>(store: S, config: &ObjectStoreConfig) -> Store {
    let store = Arc::new(store);
    Store {
        objects: store.clone(),
        pages: Some(store.clone()),
        signer: (config.credentials != CredentialSource::Anonymous).then_some(store as Arc<dyn Signer>),
        local_root: None,
    }
}

/// `https://host:port/path` → `https://bucket.host:port/path`.
fn with_bucket_host(endpoint: &str, bucket: &str) -> Result<String> {
    let (scheme, rest) = endpoint.split_once("://").ok_or_else(|| {
        Error::invalid_config(vec![FieldError::new(
            "endpoint",
            "must be a URL such as https://s3.example.com",
        )])
    })?;
    Ok(format!("{scheme}://{bucket}.{rest}"))
}

fn gcs(config: &ObjectStoreConfig) -> Result<Store> {
    let bucket = required(&config.bucket, "bucket")?;
    let mut builder = match config.credentials {
        CredentialSource::Ambient => GoogleCloudStorageBuilder::from_env(),
        _ => GoogleCloudStorageBuilder::new(),
    }
    .with_bucket_name(bucket)
    .with_client_options(client_options(config))
    .with_retry(retry(config));
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_base_url(endpoint);
    }
    builder = match config.credentials {
        CredentialSource::Static => builder
            .with_service_account_key(config.service_account_key.as_ref().map_or("", |key| key.expose())),
        CredentialSource::Anonymous => {
            builder
                .with_skip_signature(true)
                .with_credentials(Arc::new(StaticCredentialProvider::new(GcpCredential {
                    bearer: String::new(),
                })))
        }
        CredentialSource::WebIdentity | CredentialSource::Ambient => builder,
    };
    let store = builder.build().map_err(|error| build_error("GCS", &error))?;
    Ok(cloud(store, config))
}

fn azure(config: &ObjectStoreConfig) -> Result<Store> {
    let container = required(&config.bucket, "bucket")?;
    let mut builder = match config.credentials {
        CredentialSource::Ambient => MicrosoftAzureBuilder::from_env(),
        _ => MicrosoftAzureBuilder::new(),
    }
    .with_account(required(&config.account, "account")?)
    .with_container_name(container)
    .with_allow_http(config.allow_http)
    .with_client_options(client_options(config))
    .with_retry(retry(config));
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    builder = match config.credentials {
        CredentialSource::Static => {
            if let Some(key) = &config.account_key {
                builder.with_access_key(key.expose())
            } else if let Some(sas) = &config.sas_token {
                builder.with_config(AzureConfigKey::SasKey, sas.expose())
            } else {
                builder.with_client_secret_authorization(
                    required(&config.client_id, "client_id")?,
                    config.client_secret.as_ref().map_or("", |s| s.expose()),
                    required(&config.tenant_id, "tenant_id")?,
                )
            }
        }
        CredentialSource::Anonymous => {
            builder
                .with_skip_signature(true)
                .with_credentials(Arc::new(StaticCredentialProvider::new(
                    AzureCredential::BearerToken(String::new()),
                )))
        }
        CredentialSource::WebIdentity | CredentialSource::Ambient => builder,
    };
    let store = builder.build().map_err(|error| build_error("Azure", &error))?;
    Ok(cloud(store, config))
}

fn local(config: &ObjectStoreConfig) -> Result<Store> {
    let root = FsPath::new(required(&config.root, "root")?);
    let root = root.canonicalize().map_err(|error| {
        Error::new(
            ErrorKind::NotFound,
            format!("the folder {} cannot be opened: {error}", root.display()),
        )
        .with_hint("create the folder, or correct the path in the connector's settings")
    })?;
    if !root.is_dir() {
        return Err(Error::invalid_config(vec![FieldError::new(
            "root",
            "is not a folder",
        )]));
    }
    let store = LocalFileSystem::new_with_prefix(&root).map_err(|error| build_error("local", &error))?;
    Ok(Store {
        objects: Arc::new(store),
        pages: None,
        signer: None,
        local_root: Some(root),
    })
}

fn build_error(provider: &str, error: &object_store::Error) -> Error {
    Error::new(
        ErrorKind::InvalidConfig,
        format!("the {provider} settings cannot be used: {error}"),
    )
    .with_hint("correct the connector's settings as the message says")
}
