//! The connector types a registry can build: each registers its factory, whose `ConnectorSpec` is the
//! type's config form. Hosts list the types to offer them, and add their own connectors the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use tributary_core::{ConnectorFactory, ConnectorSpec, Error, Result};

/// Factories by connector type.
#[derive(Clone, Default)]
pub struct ConnectorTypes {
    factories: BTreeMap<String, Arc<dyn ConnectorFactory>>,
}

impl std::fmt::Debug for ConnectorTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.factories.keys()).finish()
    }
}

impl ConnectorTypes {
    /// No types.
    pub fn empty() -> ConnectorTypes {
        ConnectorTypes::default()
    }

    /// Every connector type compiled in (one crate feature each).
    pub fn with_defaults() -> ConnectorTypes {
        let types = ConnectorTypes::empty();
        #[cfg(feature = "sqlite")]
        let types = types.register(tributary_sqlite::SqliteFactory);
        #[cfg(feature = "postgres")]
        let types = types.register(tributary_postgres::PostgresFactory);
        #[cfg(feature = "mysql")]
        let types = types.register(tributary_mysql::MysqlFactory);
        #[cfg(feature = "object-store")]
        let types = types.register(tributary_object_store::ObjectStoreFactory);
        #[cfg(feature = "salesforce")]
        let types = types.register(tributary_salesforce::SalesforceFactory);
        types
    }

    /// Adds a type (or replaces one with the same name).
    #[must_use]
    pub fn register(mut self, factory: impl ConnectorFactory + 'static) -> ConnectorTypes {
        let name = factory.spec().connector_type.clone();
        self.factories.insert(name, Arc::new(factory));
        self
    }

    /// The factory of `connector_type`.
    pub fn factory(&self, connector_type: &str) -> Result<&Arc<dyn ConnectorFactory>> {
        self.factories.get(connector_type).ok_or_else(|| {
            let known: Vec<&str> = self.factories.keys().map(String::as_str).collect();
            Error::invalid_input(format!(
                "unknown connector type `{connector_type}`; this host offers: {}",
                known.join(", ")
            ))
        })
    }

    /// The config forms of every type, by type name.
    pub fn specs(&self) -> Vec<ConnectorSpec> {
        self.factories.values().map(|factory| factory.spec()).collect()
    }
}
