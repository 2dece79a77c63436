//! The tenant boundary, drawn once: each connector is built with the [`HostAccess`] of its [`Origin`], and
//! a stored secret follows the target it was entered for.
//!
//! - Connectors the operator declares (the configuration file, the host's own code, the embedded demo) get
//!   the operator's access: any path but the protected ones, any address, the host's own identity.
//! - Connectors an organization's admin creates (the REST API, the console) get the tenant access, under
//!   the operator's [`TenantPolicy`].
//! - The protected paths (the store's files, plus whatever the host adds: its master key, its
//!   configuration file) bind both.

use std::sync::Arc;

use serde_json::{Map, Value};
use tributary_core::host::{Resolve, SystemResolver};
use tributary_core::{ConnectorSpec, HostAccess, ProtectedPaths, Result, TenantPolicy};

use crate::model::Origin;

/// The host access of each origin, and what they were built from.
#[derive(Clone)]
pub(crate) struct Boundary {
    policy: TenantPolicy,
    protected: ProtectedPaths,
    resolver: Arc<dyn Resolve>,
    operator: HostAccess,
    tenant: HostAccess,
}

impl std::fmt::Debug for Boundary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boundary")
            .field("policy", &self.policy)
            .field("protected", &self.protected)
            .finish_non_exhaustive()
    }
}

impl Boundary {
    /// The default policy (safe for a shared server), protecting `protected`.
    pub(crate) fn new(protected: ProtectedPaths) -> Result<Boundary> {
        Boundary::build(TenantPolicy::default(), protected, Arc::new(SystemResolver))
    }

    fn build(
        policy: TenantPolicy,
        protected: ProtectedPaths,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Boundary> {
        let operator = HostAccess::operator(protected.clone())
            .with_instance_domains(&policy.instance_domains)?
            .with_resolver(resolver.clone());
        let tenant = HostAccess::tenant(&policy, protected.clone())?.with_resolver(resolver.clone());
        Ok(Boundary {
            policy,
            protected,
            resolver,
            operator,
            tenant,
        })
    }

    /// The same boundary under `policy`.
    pub(crate) fn with_policy(&self, policy: TenantPolicy) -> Result<Boundary> {
        Boundary::build(policy, self.protected.clone(), self.resolver.clone())
    }

    /// The same boundary protecting `more` too.
    pub(crate) fn protecting(&self, more: &ProtectedPaths) -> Result<Boundary> {
        let mut protected = self.protected.clone();
        protected.extend(more);
        Boundary::build(self.policy.clone(), protected, self.resolver.clone())
    }

    /// The same boundary resolving host names with `resolver`.
    pub(crate) fn resolving_with(&self, resolver: Arc<dyn Resolve>) -> Result<Boundary> {
        Boundary::build(self.policy.clone(), self.protected.clone(), resolver)
    }

    /// The access connectors of `origin` get.
    pub(crate) fn access(&self, origin: Origin) -> &HostAccess {
        match origin {
            Origin::Operator => &self.operator,
            Origin::Tenant => &self.tenant,
        }
    }
}

/// Whether an update gave `field` a new value (not the `{"set": true}` marker reads show, not blank).
fn sends_value(changes: &Map<String, Value>, field: &str) -> bool {
    match changes.get(field) {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(Value::Object(object)) => !object.contains_key("set"),
        Some(_) => true,
    }
}

/// Secrets follow their target: when an update changes where the connector connects or how it verifies
/// the peer (a [`FieldSpec::target`](tributary_core::FieldSpec::target) field: host, port, URL, endpoint,
/// login host, path, TLS mode, CA), every stored secret the update does not send again is removed from
/// `merged`. `before` and `after` are the validated configs before and after the change. Returns the names
/// of the secrets removed.
pub(crate) fn drop_moved_secrets(
    spec: &ConnectorSpec,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    changes: &Map<String, Value>,
    merged: &mut Map<String, Value>,
) -> Vec<String> {
    let moved = spec
        .target_fields()
        .any(|field| before.get(field) != after.get(field));
    if !moved {
        return Vec::new();
    }
    let mut dropped = Vec::new();
    for field in spec.secret_fields() {
        let stored = before.get(field).is_some_and(|value| !value.is_null());
        if stored && !sends_value(changes, field) {
            merged.remove(field);
            dropped.push(field.to_owned());
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tributary_core::spec::FieldSpec;

    use super::*;

    fn spec() -> ConnectorSpec {
        ConnectorSpec::new("t", "T", "t")
            .field(FieldSpec::string("host", "Host").target())
            .field(FieldSpec::integer("port", "Port").target())
            .field(FieldSpec::string("user", "User"))
            .field(FieldSpec::string("password", "Password").secret())
            .field(FieldSpec::string("token", "Token").secret())
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_new_target_drops_every_secret_not_sent_again() {
        let before = object(json!({"host": "db", "port": 5432, "user": "a", "password": "p", "token": "t"}));
        let after = object(json!({"host": "db", "port": 6543, "user": "a", "password": "p", "token": "t"}));
        let changes = object(json!({"port": 6543, "password": {"set": true}, "token": "new"}));
        let mut merged = after.clone();
        let dropped = drop_moved_secrets(&spec(), &before, &after, &changes, &mut merged);
        assert_eq!(dropped, vec!["password"]);
        assert!(!merged.contains_key("password"));
        assert_eq!(
            merged["token"], "t",
            "a secret sent with the change stays (as merged)"
        );
    }

    #[test]
    fn other_changes_keep_the_secrets() {
        let before = object(json!({"host": "db", "port": 5432, "user": "a", "password": "p"}));
        let after = object(json!({"host": "db", "port": 5432, "user": "b", "password": "p"}));
        let mut merged = after.clone();
        let dropped = drop_moved_secrets(
            &spec(),
            &before,
            &after,
            &object(json!({"user": "b"})),
            &mut merged,
        );
        assert!(dropped.is_empty());
        assert_eq!(merged["password"], "p");
    }
}
