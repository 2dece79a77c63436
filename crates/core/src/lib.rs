//! The Tributary connector contract.
//!
//! Every data source Tributary reaches (PostgreSQL, MySQL, SQLite, object stores, Salesforce) implements
//! the same [`Connector`] trait, so the registry, the agent tools and the console are written once against
//! this crate. It holds no I/O of its own but the host boundary: the contract, the types that cross it, and
//! the one handle through which connectors reach the host's files and network.
//!
//! - [`connector`]: the [`Connector`] trait (check, discover, plan, execute) and the [`ConnectorFactory`].
//! - [`spec`]: [`ConnectorSpec`], the configuration form of a connector type: validation, JSON Schema,
//!   redaction of secret fields.
//! - [`config`]: [`ConfigValues`], a validated configuration on its way into a connector's typed config.
//! - [`operation`]: [`OperationSpec`], [`OperationRequest`], the [`Access`] a request needs and the [`Plan`]
//!   that carries it to execution.
//! - [`policy`]: [`AccessPolicy`], allowed operation classes and objects, deny by default.
//! - [`output`]: [`Output`], the typed result of an operation, its truncation, and the JSON type mapping.
//! - [`catalog`]: [`Catalog`], what discovery finds: objects and their fields.
//! - [`check`]: [`CheckReport`], the outcome of a connection test, and the timeout wrapper around probes.
//! - [`error`]: [`Error`] and its [`ErrorKind`] taxonomy.
//! - [`host`]: [`HostAccess`], what a connector may reach on and from the host (files, addresses, plain
//!   text, the host's identity), under the operator's [`TenantPolicy`] for tenants' connectors.
//! - [`secret`]: [`Secret`], a string that never prints and is zeroed on drop.

pub mod budget;
pub mod catalog;
pub mod check;
pub mod config;
pub mod connector;
pub mod error;
pub mod host;
pub mod operation;
pub mod output;
pub mod policy;
pub mod secret;
pub mod spec;

pub use budget::Budget;
pub use catalog::{Catalog, DataType, FieldInfo, ForeignKey, ObjectInfo, ObjectKind};
pub use check::{CheckReport, CheckStatus, ServerInfo};
pub use config::ConfigValues;
pub use connector::{Connector, ConnectorFactory};
pub use error::{Error, ErrorKind, ErrorReport, FieldError, Result};
pub use host::{HostAccess, ProtectedPaths, TenantPolicy};
pub use operation::{Access, AccessClass, OperationRequest, OperationSpec, Plan, parse_params};
pub use output::{Column, Data, Output, RowSet, Truncation, TruncationReason, WriteSummary};
pub use policy::{AccessPolicy, Decision, Denial, ObjectPattern, ObjectRules};
pub use secret::Secret;
pub use spec::{ConfigRule, ConnectorSpec, FieldKind, FieldSpec};
