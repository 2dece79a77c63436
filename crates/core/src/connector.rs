//! The [`Connector`] trait every data source implements, and the [`ConnectorFactory`] that builds one from a
//! validated configuration.
//!
//! The trait is object-safe so a registry can hold `Arc<dyn Connector>` of any type. It is the dynamic face
//! of a connector; each connector crate also offers typed methods for Rust services that link it directly.
//! Connectors never implement governance (rate limits, caching, masking, audit): the registry layers those
//! around every connector alike.

use std::sync::Arc;

use async_trait::async_trait;

use crate::catalog::Catalog;
use crate::check::CheckReport;
use crate::config::ConfigValues;
use crate::error::{Error, Result};
use crate::host::HostAccess;
use crate::operation::{OperationRequest, OperationSpec, Plan};
use crate::output::Output;
use crate::policy::AccessPolicy;
use crate::spec::ConnectorSpec;

/// A live connection to one data source.
///
/// Calls go `plan` → (policy check by the caller) → `execute`; [`Connector::call`] does all three for hosts
/// that hold a policy themselves.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The connector type's identifier (`postgresql`, `s3`), as in its [`ConnectorSpec`].
    fn connector_type(&self) -> &str;

    /// The operations this connector offers.
    fn operations(&self) -> &[OperationSpec];

    /// Tests the connection for real and reports the outcome. Never panics, never hangs: implementations
    /// use [`CheckReport::run`] with the configured timeout.
    async fn check(&self) -> CheckReport;

    /// Discovers the objects the connector can reach, with their fields. Bounded: a huge source is reported
    /// with [`Catalog::truncated`] set.
    async fn discover(&self) -> Result<Catalog>;

    /// Resolves a request into the access it needs, without touching any data. Unknown operations and
    /// malformed parameters fail here with [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) or
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput).
    async fn plan(&self, request: OperationRequest) -> Result<Plan>;

    /// Runs a plan this connector made. Callers check [`Plan::access`] against their policy first.
    async fn execute(&self, plan: Plan) -> Result<Output>;

    /// Plans, checks the plan against `policy`, and executes it only if allowed.
    async fn call(&self, request: OperationRequest, policy: &AccessPolicy) -> Result<Output> {
        let plan = self.plan(request).await?;
        policy.decide(plan.access()).into_result()?;
        self.execute(plan).await
    }

    /// Looks an operation up by name, or says which operations exist.
    fn operation(&self, name: &str) -> Result<&OperationSpec> {
        self.operations()
            .iter()
            .find(|spec| spec.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.operations().iter().map(|spec| spec.name.as_str()).collect();
                Error::unsupported(format!(
                    "{} connectors have no operation `{name}`; they offer: {}",
                    self.connector_type(),
                    known.join(", ")
                ))
            })
    }
}

/// Builds connectors of one type. Registries keep one factory per type, list their specs to offer the
/// available types, and build live connectors from stored definitions.
///
/// A factory gets the [`HostAccess`] of the connector's origin with every build, and the connector it
/// builds opens files and sockets only through it: that is how the operator's tenant policy reaches every
/// connector type, a host's own types included, from one place.
#[async_trait]
pub trait ConnectorFactory: Send + Sync {
    /// The type's configuration form.
    fn spec(&self) -> ConnectorSpec;

    /// Builds a connector from values that [`ConnectorSpec::validate`] accepted, reaching the host only
    /// through `host`. Building does not need the data source to be up (pools connect lazily, and
    /// [`Connector::check`] reports reachability), and it creates nothing: what `host` refuses as written
    /// (a folder outside the allowed roots, a loopback address) is refused here, at save time.
    async fn build(&self, config: ConfigValues, host: &HostAccess) -> Result<Arc<dyn Connector>>;
}
