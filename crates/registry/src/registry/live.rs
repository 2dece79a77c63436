//! Live connectors: built once from their definition, rebuilt when it changes. Each connector has its own
//! slot, so building one (which may take a connect timeout) never holds up calls to the others; callers
//! of the same connector wait for the one build.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::OnceCell;
use tributary_core::{Connector, Result};

use super::Registry;
use crate::model::ConnectorDefinition;

/// A built connector and the secrets its errors are scrubbed of.
pub(super) struct Live {
    pub(super) connector: Arc<dyn Connector>,
    pub(super) secrets: Arc<[String]>,
}

/// One connector's slot: the definition version it is for, and the connector once built.
struct Slot {
    version: DateTime<Utc>,
    built: OnceCell<Arc<Live>>,
}

/// Every connector's slot, by connector id.
#[derive(Default)]
pub(super) struct LiveConnectors {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl LiveConnectors {
    /// The slot for `definition`'s current version (a new one when the definition changed).
    fn slot(&self, definition: &ConnectorDefinition) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        match slots.get(&definition.id) {
            Some(slot) if slot.version == definition.updated_at => slot.clone(),
            _ => {
                let slot = Arc::new(Slot {
                    version: definition.updated_at,
                    built: OnceCell::new(),
                });
                slots.insert(definition.id.clone(), slot.clone());
                slot
            }
        }
    }

    /// Forgets connector `id` (deleted).
    pub(super) fn remove(&self, id: &str) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }
}

impl Registry {
    /// The live connector of a definition, built once and rebuilt when the definition changes. A build
    /// that fails is tried again by the next call.
    pub(super) async fn live(&self, definition: &ConnectorDefinition) -> Result<Arc<Live>> {
        let slot = self.live.slot(definition);
        slot.built
            .get_or_try_init(|| async { self.build(definition).await.map(Arc::new) })
            .await
            .cloned()
    }

    pub(super) async fn build(&self, definition: &ConnectorDefinition) -> Result<Live> {
        let config = Value::Object(self.open(definition)?);
        let (factory, values, secrets) = self.validated(&definition.connector_type, &config)?;
        let connector = factory
            .build(values, self.boundary.access(definition.origin))
            .await
            .map_err(|error| error.redact(&secrets))?;
        Ok(Live {
            connector,
            secrets: secrets.into(),
        })
    }
}
