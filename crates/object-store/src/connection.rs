//! The live store: an object_store client built from the configuration, one builder per provider, reaching
//! the host only through its [`HostAccess`].
//!
//! Every cloud provider's requests (and its credential requests: STS, token endpoints, instance metadata)
//! go through [`Guarded`], an object_store `HttpConnector` over [`tributary_http::HttpClient`]: each URL is
//! checked before it is sent, and each host name is resolved and its addresses checked before a connection
//! opens. A local folder is a [`HostFolder`]: its root was checked, and every entry is checked before it is
//! read, written or listed.
//!
//! Builders start from `new()`, never `from_env()`, so no environment variable, credentials file or
//! instance-metadata endpoint is consulted unless the configuration chooses `ambient` credentials. For
//! anonymous access the signature is skipped *and* a fixed empty credential is installed, so the builders'
//! fallback chains (which would look for ambient credentials) are never built either.

use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use object_store::client::{
    ClientConfigKey, HttpClient as StoreHttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest,
    HttpResponse, HttpService,
};
use tributary_core::HostAccess;
use tributary_core::host::HostFolder;
use tributary_http::{HttpClient, HttpOptions};

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
    /// The folder, for the local provider: every entry is checked through it.
    pub(crate) local: Option<HostFolder>,
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
    /// Builds the client. Nothing is contacted: [`crate::ObjectStoreConnector`]'s check does that. What
    /// `host` refuses as written (a folder, an endpoint address, plain HTTP, the host's identity) fails here.
    pub(crate) fn build(config: &ObjectStoreConfig, host: &HostAccess) -> Result<Store> {
        let result = match config.provider {
            Provider::S3 => s3(config, host),
            Provider::Gcs => gcs(config, host),
            Provider::Azure => azure(config, host),
            Provider::Local => local(config, host),
        };
        result.map_err(|error| error.redact(&config.secrets()))
    }

    /// For the local provider, checks the entry a key names before it is touched: no symbolic link on the
    /// way (a link inside the folder could point anywhere on the host), only folders and regular files (a
    /// FIFO would block, a socket or device reach the host), and none of the server's own files.
    pub(crate) fn check_entry(&self, key: &ObjectKey) -> Result<()> {
        match &self.local {
            Some(folder) => folder.check_entry(key.segments()),
            None => Ok(()),
        }
    }
}

/// object_store's HTTP connector, over a [`HttpClient`] of the connector's host access. object_store asks
/// it for a client per purpose (the store, its credential endpoints, instance metadata), each with its own
/// `allow_http`, which the host policy then judges.
#[derive(Debug)]
struct Guarded {
    host: HostAccess,
    options: HttpOptions,
}

impl HttpConnector for Guarded {
    fn connect(&self, options: &object_store::ClientOptions) -> object_store::Result<StoreHttpClient> {
        let allow_http = options.get_config_value(&ClientConfigKey::AllowHttp).as_deref() == Some("true");
        let http =
            HttpClient::new(&self.host, self.options.clone().allow_http(allow_http)).map_err(|error| {
                object_store::Error::Generic {
                    store: "tributary",
                    source: Box::new(error),
                }
            })?;
        Ok(StoreHttpClient::new(GuardedService(http)))
    }
}

/// Checks each request's URL, then sends it with reqwest; a refusal is never retried.
#[derive(Debug)]
struct GuardedService(HttpClient);

#[async_trait]
impl HttpService for GuardedService {
    async fn call(&self, request: HttpRequest) -> std::result::Result<HttpResponse, HttpError> {
        let refused = |error: Error| HttpError::new(HttpErrorKind::Unknown, error);
        let url = reqwest::Url::parse(&request.uri().to_string()).map_err(|_| {
            refused(Error::internal(
                "object_store built a request with an invalid URL",
            ))
        })?;
        self.0.check_url(&url).map_err(refused)?;
        HttpService::call(self.0.reqwest(), request)
            .await
            .map_err(|error| match Error::find_in(&error) {
                Some(refusal) => refused(refusal),
                None => error,
            })
    }
}

/// The connector for object_store, with the endpoints checked as written.
fn guarded(config: &ObjectStoreConfig, host: &HostAccess) -> Result<Guarded> {
    let options = HttpOptions::new("endpoint", config.connect_timeout()).timeout(config.request_timeout());
    let http = HttpClient::new(host, options.clone().allow_http(config.allow_http))?;
    for (field, url) in [
        ("endpoint", &config.endpoint),
        ("sts_endpoint", &config.sts_endpoint),
    ] {
        let Some(url) = url else { continue };
        let parsed = reqwest::Url::parse(url).map_err(|_| {
            Error::invalid_config(vec![FieldError::new(
                field,
                "must be a URL such as https://s3.example.com",
            )])
        })?;
        http.check_url(&parsed)
            .map_err(|error| rename_field(error, "endpoint", field))?;
    }
    Ok(Guarded {
        host: host.clone(),
        options,
    })
}

/// The same error with its field errors on `to` instead of `from`.
fn rename_field(error: Error, from: &str, to: &str) -> Error {
    if from == to {
        return error;
    }
    let fields = error
        .fields()
        .iter()
        .map(|field| {
            let name = if field.field == from {
                to
            } else {
                field.field.as_str()
            };
            FieldError::new(name, field.message.clone())
        })
        .collect();
    Error::invalid_config(fields).with_hint(error.hint().to_owned())
}

/// The host's own credentials (ambient identity, a web-identity token file) are the operator's.
fn check_credentials(config: &ObjectStoreConfig, host: &HostAccess) -> Result<()> {
    match config.credentials {
        CredentialSource::Ambient | CredentialSource::WebIdentity => {
            host.check_host_credentials("credentials")
        }
        CredentialSource::Static | CredentialSource::Anonymous => Ok(()),
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

fn s3(config: &ObjectStoreConfig, host: &HostAccess) -> Result<Store> {
    let bucket = required(&config.bucket, "bucket")?;
    check_credentials(config, host)?;
    let mut builder = match config.credentials {
        CredentialSource::Ambient => AmazonS3Builder::from_env(),
        _ => AmazonS3Builder::new(),
    }
    .with_bucket_name(bucket)
    .with_region(&config.region)
    .with_client_options(client_options(config))
    .with_http_connector(guarded(config, host)?)
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
            let token_file = required(&config.web_identity_token_file, "web_identity_token_file")?;
            let token_file = host.readable_file("web_identity_token_file", FsPath::new(token_file))?;
            let mut builder = builder
                .with_config(
                    AmazonS3ConfigKey::RoleArn,
                    required(&config.role_arn, "role_arn")?,
                )
                .with_config(
                    AmazonS3ConfigKey::WebIdentityTokenFile,
                    token_file.display().to_string(),
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
        local: None,
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

fn gcs(config: &ObjectStoreConfig, host: &HostAccess) -> Result<Store> {
    let bucket = required(&config.bucket, "bucket")?;
    check_credentials(config, host)?;
    let mut builder = match config.credentials {
        CredentialSource::Ambient => GoogleCloudStorageBuilder::from_env(),
        _ => GoogleCloudStorageBuilder::new(),
    }
    .with_bucket_name(bucket)
    .with_client_options(client_options(config))
    .with_http_connector(guarded(config, host)?)
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

fn azure(config: &ObjectStoreConfig, host: &HostAccess) -> Result<Store> {
    let container = required(&config.bucket, "bucket")?;
    check_credentials(config, host)?;
    let mut builder = match config.credentials {
        CredentialSource::Ambient => MicrosoftAzureBuilder::from_env(),
        _ => MicrosoftAzureBuilder::new(),
    }
    .with_account(required(&config.account, "account")?)
    .with_container_name(container)
    .with_allow_http(config.allow_http)
    .with_client_options(client_options(config))
    .with_http_connector(guarded(config, host)?)
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

#[allow(
    clippy::disallowed_methods,
    reason = "the folder is the one HostAccess::folder checked, and every entry is checked before use"
)]
fn local(config: &ObjectStoreConfig, host: &HostAccess) -> Result<Store> {
    let folder = host.folder("root", FsPath::new(required(&config.root, "root")?))?;
    let store =
        LocalFileSystem::new_with_prefix(folder.root()).map_err(|error| build_error("local", &error))?;
    Ok(Store {
        objects: Arc::new(store),
        pages: None,
        signer: None,
        local: Some(folder),
    })
}

fn build_error(provider: &str, error: &object_store::Error) -> Error {
    Error::new(
        ErrorKind::InvalidConfig,
        format!("the {provider} settings cannot be used: {error}"),
    )
    .with_hint("correct the connector's settings as the message says")
}
