//! Connector definitions: created, validated and sealed, read with their secrets redacted, updated,
//! deleted, described and tested.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use serde_json::Value;
use tributary_core::{CheckReport, CheckStatus, ConnectorSpec, Error, Result};
use tributary_mask::MaskReport;

use super::{
    ADMIN, ConnectorUpdate, ConnectorView, NewConnector, Registry, check_name, explain_dropped, new_id,
    not_found,
};
use crate::boundary;
use crate::govern::audit;
use crate::model::{ConnectorDefinition, Governance, LastTest, Origin, Outcome, Status};

impl Registry {
    pub(super) fn spec(&self, connector_type: &str) -> Result<ConnectorSpec> {
        Ok(self.types.factory(connector_type)?.spec())
    }

    /// Validates a config against its type's form, then builds a connector from it under `origin`'s host
    /// access (without contacting anything or creating anything), so the type's own cross-field checks and
    /// the host policy run at save time rather than at first use.
    pub(super) async fn validate(
        &self,
        connector_type: &str,
        config: &Value,
        origin: Origin,
    ) -> Result<tributary_core::ConfigValues> {
        let (factory, values, secrets) = self.validated(connector_type, config)?;
        let host = self.boundary.access(origin).without_side_effects();
        factory
            .build(values.clone(), &host)
            .await
            .map_err(|error| error.redact(&secrets))?;
        Ok(values)
    }

    /// A config checked against its type's form, with the type's factory and the config's secret values
    /// (taken from the raw config, so even a validation error is scrubbed of them).
    pub(super) fn validated(
        &self,
        connector_type: &str,
        config: &Value,
    ) -> Result<(
        &Arc<dyn tributary_core::ConnectorFactory>,
        tributary_core::ConfigValues,
        Vec<String>,
    )> {
        let factory = self.types.factory(connector_type)?;
        let spec = factory.spec();
        let secrets: Vec<String> = config
            .as_object()
            .map(|raw| spec.secret_values(raw).into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        let values = spec.validate(config).map_err(|error| error.redact(&secrets))?;
        Ok((factory, values, secrets))
    }

    pub(super) fn check_governance(governance: &Governance) -> Result<()> {
        if governance.allowed_operations.is_empty() {
            return Err(Error::invalid_input(
                "allow at least one class of operation (read or write)",
            ));
        }
        Ok(())
    }

    /// Creates a connector declared by `origin`: validates its config against its type's form and the
    /// origin's host access, seals it, stores it. The REST API and the console create as
    /// [`Origin::Tenant`]; a configuration file or the host's own code as [`Origin::Operator`].
    pub async fn create_connector(
        &self,
        organization: &str,
        new: NewConnector,
        origin: Origin,
    ) -> Result<ConnectorView> {
        check_name(&new.name)?;
        Registry::check_governance(&new.governance)?;
        let values = self.validate(&new.connector_type, &new.config, origin).await?;
        let id = new_id("con")?;
        let now = Utc::now();
        let definition = ConnectorDefinition {
            config: self.seal(organization, &id, values.expose())?,
            id,
            organization: organization.to_owned(),
            name: new.name,
            connector_type: new.connector_type,
            status: Status::Connected,
            origin,
            governance: new.governance,
            created_at: now,
            updated_at: now,
            last_test: None,
        };
        self.store.put_connector(&definition).await?;
        self.tool_tables.changed();
        self.view(definition).await
    }

    pub(super) async fn definition(&self, organization: &str, id: &str) -> Result<ConnectorDefinition> {
        self.store
            .connector(id)
            .await?
            .filter(|definition| definition.organization == organization)
            .ok_or_else(|| not_found("connector", id))
    }

    /// A connector by name, for hosts that address connectors by their names.
    pub async fn connector_id(&self, organization: &str, name: &str) -> Result<String> {
        self.store
            .connectors(organization)
            .await?
            .into_iter()
            .find(|definition| definition.name == name)
            .map(|definition| definition.id)
            .ok_or_else(|| not_found("connector named", name))
    }

    pub(super) async fn view(&self, definition: ConnectorDefinition) -> Result<ConnectorView> {
        let config = self
            .spec(&definition.connector_type)?
            .redact(&self.open(&definition)?);
        let grants = self.store.grants_on_connector(&definition.id).await?;
        Ok(ConnectorView {
            id: definition.id,
            organization: definition.organization,
            name: definition.name,
            connector_type: definition.connector_type,
            status: definition.status,
            origin: definition.origin,
            config,
            governance: definition.governance,
            created_at: definition.created_at,
            updated_at: definition.updated_at,
            last_test: definition.last_test,
            grants,
            dropped_secrets: Vec::new(),
        })
    }

    /// One connector, secrets shown as set or unset.
    pub async fn connector(&self, organization: &str, id: &str) -> Result<ConnectorView> {
        self.view(self.definition(organization, id).await?).await
    }

    /// The organization's connectors.
    pub async fn connectors(&self, organization: &str) -> Result<Vec<ConnectorView>> {
        let mut views = Vec::new();
        for definition in self.store.connectors(organization).await? {
            views.push(self.view(definition).await?);
        }
        Ok(views)
    }

    /// Every connector of every organization, for the host's own tools (the CLI holds the master key and
    /// so already sees everything).
    pub async fn all_connectors(&self) -> Result<Vec<ConnectorView>> {
        let mut views = Vec::new();
        for definition in self.store.all_connectors().await? {
            views.push(self.view(definition).await?);
        }
        Ok(views)
    }

    /// Changes a connector on behalf of `origin`. Its live connection is rebuilt on next use.
    ///
    /// - A tenant cannot rename or reconfigure a connector the operator declared: its settings live in the
    ///   configuration file. An operator's update makes the connector the operator's.
    /// - Secrets follow their target: a change of where the connector connects or how it verifies the peer
    ///   drops every stored secret the update does not send again; the view's `dropped_secrets` names them.
    pub async fn update_connector(
        &self,
        organization: &str,
        id: &str,
        update: ConnectorUpdate,
        origin: Origin,
    ) -> Result<ConnectorView> {
        let mut definition = self.definition(organization, id).await?;
        if origin == Origin::Tenant
            && definition.origin == Origin::Operator
            && (update.name.is_some() || update.config.is_some())
        {
            return Err(Error::permission_denied(format!(
                "connector `{}` is declared by the server's operator; its name and settings are changed in the configuration file",
                definition.name
            ))
            .with_hint("ask the operator to change it, or create a connector of your own"));
        }
        if origin == Origin::Operator {
            definition.origin = Origin::Operator;
        }
        if let Some(name) = update.name {
            check_name(&name)?;
            definition.name = name;
        }
        let mut dropped_secrets = Vec::new();
        if let Some(changes) = update.config {
            let Value::Object(changes) = changes else {
                return Err(Error::invalid_input("config must be an object of fields"));
            };
            let before = self.open(&definition)?;
            let mut merged = before.clone();
            for (field, value) in &changes {
                let keeps_secret = value.as_object().is_some_and(|object| object.contains_key("set"));
                if !keeps_secret {
                    merged.insert(field.clone(), value.clone());
                }
            }
            let spec = self.spec(&definition.connector_type)?;
            // Compare the targets as the form reads them (defaults, "5432" as 5432); a config that does not
            // validate fails below with its own field errors.
            if let Ok((_, after, _)) =
                self.validated(&definition.connector_type, &Value::Object(merged.clone()))
            {
                dropped_secrets =
                    boundary::drop_moved_secrets(&spec, &before, after.expose(), &changes, &mut merged);
            }
            let values = self
                .validate(
                    &definition.connector_type,
                    &Value::Object(merged),
                    definition.origin,
                )
                .await
                .map_err(|error| explain_dropped(error, &dropped_secrets))?;
            definition.config = self.seal(organization, id, values.expose())?;
        }
        if let Some(governance) = update.governance {
            Registry::check_governance(&governance)?;
            definition.governance = governance;
        }
        if let Some(status) = update.status {
            definition.status = status;
        }
        definition.updated_at = Utc::now();
        self.store.put_connector(&definition).await?;
        self.tool_tables.changed();
        self.cache.invalidate(id);
        let mut view = self.view(definition).await?;
        view.dropped_secrets = dropped_secrets;
        Ok(view)
    }

    /// Deletes a connector and its grants.
    pub async fn delete_connector(&self, organization: &str, id: &str) -> Result<()> {
        self.definition(organization, id).await?;
        self.store.delete_connector(id).await?;
        self.tool_tables.changed();
        self.live.remove(id);
        self.cache.invalidate(id);
        Ok(())
    }

    /// Discovers a connector's objects (the schema browser).
    pub async fn schema(&self, organization: &str, id: &str) -> Result<tributary_core::Catalog> {
        let definition = self.definition(organization, id).await?;
        let live = self.live(&definition).await?;
        live.connector
            .discover()
            .await
            .map_err(|error| error.redact(&live.secrets[..]))
    }

    /// One object's description (the schema browser's detail).
    pub async fn describe(
        &self,
        organization: &str,
        id: &str,
        object: &str,
    ) -> Result<tributary_core::ObjectInfo> {
        let catalog = self.schema(organization, id).await?;
        catalog
            .objects
            .into_iter()
            .find(|candidate| candidate.name == object)
            .ok_or_else(|| Error::not_found(format!("no object `{object}` in this connector")))
    }

    /// Tests a stored connector for real, records the outcome on the definition (and in the audit log),
    /// and returns the report.
    pub async fn test_connection(&self, organization: &str, id: &str) -> Result<CheckReport> {
        let mut definition = self.definition(organization, id).await?;
        let started = Instant::now();
        let report = match self.live(&definition).await {
            Ok(live) => live.connector.check().await,
            Err(error) => CheckReport::from_result(Err(error), 0.0),
        };
        definition.last_test = Some(LastTest {
            at: Utc::now(),
            report: report.clone(),
        });
        if definition.status != Status::Disabled {
            definition.status = if report.status == CheckStatus::Connected {
                Status::Connected
            } else {
                Status::Error
            };
        }
        // The test changes only status fields; keep the live connector by keeping its version.
        self.store.put_connector(&definition).await?;
        self.tool_tables.changed();
        let outcome = if report.is_connected() {
            Outcome::Ok
        } else {
            Outcome::Failed
        };
        let error_kind = report.error.as_ref().map(|error| error.kind.code().to_owned());
        if definition.governance.audit_queries {
            self.audit_writer()
                .write(audit::Entry {
                    organization: &definition.organization,
                    connector: &definition.id,
                    mask: definition.governance.mask_pii,
                    agent: ADMIN,
                    operation: "test_connection",
                    objects: Vec::new(),
                    arguments: &Value::Null,
                    started,
                    outcome,
                    error_kind,
                    output: None,
                    cached: false,
                    masked: &MaskReport::default(),
                })
                .await;
        }
        Ok(report)
    }

    /// Tests a config that is not saved yet (a wizard's "Test connection" step), as `origin` would save
    /// it. Nothing is created on the host (a SQLite file to be created is reported, not made), and a target
    /// the host policy refuses is refused before any socket opens.
    pub async fn test_config(
        &self,
        connector_type: &str,
        config: &Value,
        origin: Origin,
    ) -> Result<CheckReport> {
        let (factory, values, secrets) = self.validated(connector_type, config)?;
        let host = self.boundary.access(origin).without_side_effects();
        Ok(match factory.build(values, &host).await {
            Ok(connector) => {
                let mut report = connector.check().await;
                if let Some(error) = report.error.as_mut() {
                    let redacted = Error::new(error.kind, error.message.clone())
                        .with_hint(error.hint.clone())
                        .redact(&secrets);
                    error.message = redacted.message().to_owned();
                    error.hint = redacted.hint().to_owned();
                }
                report
            }
            Err(error) => CheckReport::from_result(Err(error.redact(&secrets)), 0.0),
        })
    }
}
