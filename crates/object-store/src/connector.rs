//! [`ObjectStoreConnector`]: the typed API for Rust services that link this crate (its methods live in
//! `operations`), and the [`Connector`] implementation that registries and agents use. Both run the same
//! code.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::Method;
use object_store::list::PaginatedListOptions;
use serde_json::json;
use tributary_core::{
    Catalog, CheckReport, ConfigValues, Connector, ConnectorFactory, ConnectorSpec, Data, Error, HostAccess,
    OperationRequest, OperationSpec, Output, Plan, Result, ServerInfo, Truncation, TruncationReason,
    WriteSummary,
};

use crate::config::{self, CONNECTOR_TYPE, ObjectStoreConfig, Provider};
use crate::connection::Store;
use crate::error::{Context, from_store};
use crate::operations::{self, Limits, Prepared};
use crate::schema;

/// One bucket (or container, or local folder).
pub struct ObjectStoreConnector {
    pub(crate) config: ObjectStoreConfig,
    pub(crate) store: Store,
    pub(crate) bucket: String,
    operations: Vec<OperationSpec>,
    secrets: Vec<String>,
}

impl ObjectStoreConnector {
    /// Builds the connector, free to reach any host and folder (a service's own configuration). Nothing is
    /// contacted until the first call; use [`Connector::check`] to test the settings.
    pub fn new(config: ObjectStoreConfig) -> Result<ObjectStoreConnector> {
        ObjectStoreConnector::with_host(config, &HostAccess::unrestricted())
    }

    /// Builds the connector reaching the store only through `host`: the folder, endpoints, credentials
    /// and plain HTTP are checked now, and every host it connects to when it connects.
    pub fn with_host(config: ObjectStoreConfig, host: &HostAccess) -> Result<ObjectStoreConnector> {
        let store = Store::build(&config, host)?;
        let bucket = config.bucket_name();
        Ok(ObjectStoreConnector {
            operations: operations::specs(&bucket),
            secrets: config.secrets(),
            bucket,
            store,
            config,
        })
    }

    /// The name of the bucket as policies and results use it.
    pub fn bucket_name(&self) -> &str {
        &self.bucket
    }

    /// The underlying object_store client, for what this API does not cover. Calls made through it bypass
    /// the key normalization and the byte caps.
    pub fn object_store(&self) -> Arc<dyn object_store::ObjectStore> {
        self.store.objects.clone()
    }

    pub(crate) fn provider_name(&self) -> &'static str {
        match self.config.provider {
            Provider::S3 => "S3",
            Provider::Gcs => "Google Cloud Storage",
            Provider::Azure => "Azure Blob Storage",
            Provider::Local => "local folder",
        }
    }

    pub(crate) fn max_presign(&self) -> Duration {
        Duration::from_secs(self.config.max_presign_seconds)
    }

    /// Maps a store error with this connector's bucket, scrubbed of its secrets.
    pub(crate) fn fail(&self, error: object_store::Error, key: Option<&str>) -> Error {
        from_store(
            error,
            Context {
                bucket: &self.bucket,
                key,
            },
        )
        .redact(&self.secrets)
    }

    fn limits(&self) -> Limits {
        Limits {
            default_page_size: self.config.default_page_size,
            max_write_bytes: self.config.max_write_bytes,
            max_presign: self.max_presign(),
        }
    }

    /// Lists at most one key: proves the endpoint answers, the credentials sign, and the bucket exists.
    async fn probe(&self) -> Result<ServerInfo> {
        let sample = match &self.store.pages {
            Some(pages) => {
                let options = PaginatedListOptions {
                    max_keys: Some(1),
                    ..PaginatedListOptions::default()
                };
                let page = pages
                    .list_paginated(None, options)
                    .await
                    .map_err(|error| self.fail(error, None))?;
                page.result.objects.first().map(|meta| meta.location.to_string())
            }
            None => {
                let listing = self
                    .store
                    .objects
                    .list_with_delimiter(None)
                    .await
                    .map_err(|error| self.fail(error, None))?;
                listing.objects.first().map(|meta| meta.location.to_string())
            }
        };
        let mut info = ServerInfo::new(self.provider_name(), None)
            .with_detail("bucket", self.bucket.clone())
            .with_detail("empty", sample.is_none())
            .with_detail("read_only", self.config.read_only);
        if let Some(endpoint) = &self.config.endpoint {
            info = info.with_detail("endpoint", endpoint.clone());
        }
        if self.config.provider == Provider::S3 {
            info = info.with_detail("region", self.config.region.clone());
        }
        if let Some(folder) = &self.store.local {
            info = info.with_detail("folder", folder.root().display().to_string());
        }
        Ok(info)
    }
}

#[async_trait]
impl Connector for ObjectStoreConnector {
    fn connector_type(&self) -> &str {
        CONNECTOR_TYPE
    }

    fn operations(&self) -> &[OperationSpec] {
        &self.operations
    }

    async fn check(&self) -> CheckReport {
        // A check must answer within the connect timeout even when object_store would retry.
        let bound = self.config.connect_timeout() + Duration::from_secs(2);
        CheckReport::run(bound, self.probe()).await
    }

    async fn discover(&self) -> Result<Catalog> {
        schema::discover(self).await
    }

    async fn plan(&self, request: OperationRequest) -> Result<Plan> {
        let spec = self.operation(&request.operation)?;
        if spec.access == tributary_core::AccessClass::Write {
            self.writable()?;
        }
        let prepared = operations::prepare(&request, self.limits())?;
        let access = operations::access(&self.bucket, &prepared);
        Ok(Plan::new(request, access).with_prepared(prepared))
    }

    async fn execute(&self, mut plan: Plan) -> Result<Output> {
        let budget = plan.request().budget;
        let output = match plan.take_prepared::<Prepared>()? {
            Prepared::List(request) => {
                let page = self.list(&request).await?;
                let returned = page.len() as u64;
                let more = page.next_continuation_token.is_some();
                let document = document(&page)?;
                let cut = Truncation::new(
                    TruncationReason::PageLimit,
                    request.page_size as u64,
                    returned,
                    None,
                );
                Output::bounded(document, more.then_some(cut))
            }
            Prepared::Head(key) => Output::complete(document(&self.head_key(&key).await?)?),
            Prepared::Get { key, range, encoding } => {
                // Within the host's byte budget too: base64 makes 3 bytes 4, so 3/4 of it.
                let cap = budget.max_bytes.map_or(self.config.max_read_bytes, |max| {
                    (max / 4 * 3).min(self.config.max_read_bytes)
                });
                let content = self.get_key(&key, range, cap).await?;
                let data = Data::Document {
                    document: content.to_json(encoding),
                };
                let cut = Truncation::new(
                    TruncationReason::ByteLimit,
                    cap,
                    content.bytes.len() as u64,
                    Some(content.omitted),
                );
                Output::bounded(data, (content.omitted > 0).then_some(cut))
            }
            Prepared::PresignGet { key, expires_in } => {
                Output::complete(document(&self.presign(Method::GET, &key, expires_in).await?)?)
            }
            Prepared::PresignPut { key, expires_in } => {
                Output::complete(document(&self.presign(Method::PUT, &key, expires_in).await?)?)
            }
            Prepared::Put {
                key,
                body,
                content_type,
            } => {
                let outcome = self.put_key(&key, body, content_type.as_deref()).await?;
                written(serde_json::to_value(outcome).unwrap_or_default())
            }
            Prepared::Delete(key) => {
                self.delete_key(&key).await?;
                written(json!({ "key": key.as_str(), "deleted": true }))
            }
            Prepared::Copy { from, to } => {
                self.copy_key(&from, &to).await?;
                written(json!({ "from": from.as_str(), "to": to.as_str() }))
            }
        };
        Ok(output)
    }
}

fn document<T: serde::Serialize>(value: &T) -> Result<Data> {
    serde_json::to_value(value)
        .map(|document| Data::Document { document })
        .map_err(|error| Error::internal(format!("could not encode the result: {error}")))
}

fn written(item: serde_json::Value) -> Output {
    Output::complete(Data::Write(WriteSummary {
        affected: 1,
        items: vec![item],
    }))
}

impl std::fmt::Debug for ObjectStoreConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreConnector")
            .field("provider", &self.config.provider)
            .field("bucket", &self.bucket)
            .field("read_only", &self.config.read_only)
            .finish()
    }
}

/// Builds object-store connectors from validated configs.
#[derive(Debug, Default, Clone, Copy)]
pub struct ObjectStoreFactory;

#[async_trait]
impl ConnectorFactory for ObjectStoreFactory {
    fn spec(&self) -> ConnectorSpec {
        config::spec()
    }

    async fn build(&self, config: ConfigValues, host: &HostAccess) -> Result<Arc<dyn Connector>> {
        Ok(Arc::new(ObjectStoreConnector::with_host(
            ObjectStoreConfig::from_values(&config)?,
            host,
        )?))
    }
}
