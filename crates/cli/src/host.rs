//! Opening the registry a command works on: from a configuration file (store, master key, and the
//! connectors and agents it declares, synced into the store), or the embedded demo when there is none.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tributary_core::{Error, ErrorKind, ProtectedPaths, Result};
use tributary_registry::{
    ConnectorTypes, ConnectorUpdate, KeyRing, MasterKey, NewConnector, Origin, PostgresStore, Registry,
    SqliteStore, Store,
};

use crate::settings::{self, ConfigError, Settings};

/// Where the master key comes from, so rotation can write the new one back.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// An environment variable.
    Env(String),
    /// A file.
    File(PathBuf),
}

/// A registry and where its pieces came from.
pub struct Host {
    /// The registry.
    pub registry: Arc<Registry>,
    /// The settings it was opened with.
    pub settings: Settings,
    /// The master key's source.
    pub key_source: KeySource,
}

/// Configuration errors as one error whose message lists them all.
pub fn config_errors(errors: Vec<ConfigError>) -> Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    Error::new(
        ErrorKind::InvalidConfig,
        format!(
            "the configuration has {} problem(s):\n  {}",
            errors.len(),
            lines.join("\n  ")
        ),
    )
    .with_hint("correct the file and start again")
}

/// Opens a store from its URL.
pub async fn open_store(url: &str, base: &Path) -> Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = base.join(path);
        Ok(Arc::new(SqliteStore::open(&path).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(Error::new(
            ErrorKind::InvalidConfig,
            "store.url must start with sqlite:// or postgres://",
        ))
    }
}

fn load_key(security: &settings::SecuritySection, base: &Path) -> Result<(MasterKey, KeySource)> {
    match (&security.master_key_file, &security.master_key_env) {
        (Some(_), Some(_)) => Err(Error::new(
            ErrorKind::InvalidConfig,
            "set only one of security.master_key_env and security.master_key_file",
        )),
        (Some(file), None) => {
            let path = base.join(file);
            Ok((MasterKey::from_file(&path)?, KeySource::File(path)))
        }
        (None, env) => {
            let variable = env.clone().unwrap_or_else(|| "TRIBUTARY_MASTER_KEY".to_owned());
            Ok((MasterKey::from_env(&variable)?, KeySource::Env(variable)))
        }
    }
}

/// The key file, and the copies rotation writes beside it (staged as `.new`, kept as `.old`).
pub fn key_files(path: &Path) -> [PathBuf; 3] {
    [
        path.to_path_buf(),
        path.with_extension("new"),
        path.with_extension("old"),
    ]
}

/// The server's own files that no connector may open, beside the store's (which the registry protects
/// itself): the key files and, when there is one, the configuration file.
pub fn protected_paths(key_source: &KeySource, config_file: Option<&Path>) -> ProtectedPaths {
    let mut protected = ProtectedPaths::new();
    if let KeySource::File(path) = key_source {
        for file in key_files(path) {
            protected.add(file);
        }
    }
    if let Some(file) = config_file {
        protected.add(file);
    }
    protected
}

/// A registry over `store` and `key`, with the operator's tenant policy, token lifetime and limits, and
/// the server's files protected.
pub fn registry(
    store: Arc<dyn Store>,
    key: MasterKey,
    settings: &Settings,
    protected: &ProtectedPaths,
) -> Result<Registry> {
    let security = &settings.security;
    Registry::new(store, KeyRing::new(key), ConnectorTypes::with_defaults())?
        .with_limits(settings.limits.call_limits())
        .with_concurrency(settings.limits.concurrency())
        .with_token_lifetime(security.token_lifetime())
        .with_tenant_policy(security.tenants.clone())
        .map_err(|error| {
            let problems = error
                .fields()
                .iter()
                .map(|field| ConfigError {
                    line: None,
                    field: format!("security.tenants.{}", field.field),
                    message: field.message.clone(),
                })
                .collect::<Vec<_>>();
            if problems.is_empty() {
                error
            } else {
                config_errors(problems)
            }
        })?
        .with_protected_paths(protected)
}

/// Opens the host described by the file at `path`, syncing its connectors and agents into the store.
pub async fn open(path: &Path) -> Result<Host> {
    let settings = settings::load(path).map_err(config_errors)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (key, key_source) = load_key(&settings.security, &base)?;
    let store = open_store(&settings.store.url, &base).await?;
    let protected = protected_paths(&key_source, Some(path));
    let registry = Arc::new(registry(store, key, &settings, &protected)?);
    sync(&registry, &settings).await?;
    Ok(Host {
        registry,
        settings,
        key_source,
    })
}

/// Creates or updates the file's connectors and agents, as the operator's: they may use what the operator
/// allows itself, never the protected paths. Those created through the API are left alone. When an entry's
/// target changed and the file no longer gives a secret it held, the stored secret is dropped and a line on
/// stderr says so.
pub async fn sync(registry: &Registry, settings: &Settings) -> Result<()> {
    let mut problems = Vec::new();
    for (index, entry) in settings.connectors.iter().enumerate() {
        let governance = entry.governance.clone();
        let name = entry.name.get_ref().clone();
        let config = settings::config_json(entry);
        let result = match registry.connector_id(&entry.organization, &name).await {
            Ok(id) => registry
                .update_connector(
                    &entry.organization,
                    &id,
                    ConnectorUpdate {
                        config: Some(config),
                        governance: Some(governance),
                        ..ConnectorUpdate::default()
                    },
                    Origin::Operator,
                )
                .await
                .map(|view| {
                    if !view.dropped_secrets.is_empty() {
                        eprintln!(
                            "tributary: connector `{name}` ({}) now connects elsewhere, so its stored {} {} dropped; give {} in the configuration file",
                            entry.organization,
                            view.dropped_secrets.join(", "),
                            if view.dropped_secrets.len() == 1 { "was" } else { "were" },
                            if view.dropped_secrets.len() == 1 { "it" } else { "them" },
                        );
                    }
                }),
            Err(_) => registry
                .create_connector(
                    &entry.organization,
                    NewConnector {
                        name: name.clone(),
                        connector_type: entry.connector_type.clone(),
                        config,
                        governance,
                    },
                    Origin::Operator,
                )
                .await
                .map(|_| ()),
        };
        if let Err(error) = result {
            let fields: Vec<String> = error
                .fields()
                .iter()
                .map(|f| format!("config.{}: {}", f.field, f.message))
                .collect();
            let message = if fields.is_empty() {
                error.message().to_owned()
            } else {
                fields.join("; ")
            };
            problems.push(ConfigError {
                line: None,
                field: format!("connectors[{index}] ({name})"),
                message,
            });
        }
    }
    for entry in &settings.agents {
        let id = entry.id.get_ref();
        registry
            .put_agent(&entry.organization, id, entry.name.as_deref().unwrap_or(id))
            .await?;
        for grant in &entry.grants {
            let connector = registry
                .connector_id(&entry.organization, &grant.connector)
                .await?;
            registry
                .grant(&entry.organization, id, &connector, grant.operations.clone())
                .await?;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(config_errors(problems))
    }
}

/// Writes a new master key to `path`, readable by its owner only.
pub fn write_key_file(path: &Path, key: &MasterKey) -> Result<()> {
    use std::io::Write as _;
    let io = |error: std::io::Error| {
        Error::internal(format!("cannot write the key file {}: {error}", path.display()))
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    file.write_all(key.to_base64().as_bytes()).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}
