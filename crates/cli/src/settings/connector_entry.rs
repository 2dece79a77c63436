//! One `[[connectors]]` entry of the configuration file.
//!
//! Only the entry's head (`name`, `organization`, `type`, `config`) is declared here. Every other key is a
//! governance setting, taken from the registry's one description of them
//! ([`tributary_registry::governance::SETTINGS`]) and read by its [`Governance`] type, so the file accepts
//! exactly the settings the REST API does, with the same types and defaults, and a new setting needs no
//! change here. Each value is checked as it is read, while toml still knows where it stands, so a wrong
//! type is reported at its own line and an unknown key by its name.

use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value, json};
use toml::Spanned;
use tributary_registry::Governance;
use tributary_registry::governance::{self, Setting};

/// One `[[connectors]]` entry.
#[derive(Debug, Clone)]
pub struct ConnectorEntry {
    /// Unique per organization; its span places the entry's errors.
    pub name: Spanned<String>,
    /// The owning organization.
    pub organization: String,
    /// `postgresql`, `mysql`, `sqlite`, `s3`, `salesforce`, ... (the `type` key).
    pub connector_type: String,
    /// The governance settings, as the registry keeps them; a key left out has the registry's default.
    pub governance: Governance,
    /// The type's config fields (`[connectors.config]`).
    pub config: toml::Table,
}

/// The keys of an entry that are not governance settings.
const HEAD: [&str; 4] = ["name", "organization", "type", "config"];

/// Every key an entry accepts, for the message about one it does not.
static KEYS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    HEAD.into_iter()
        .chain(governance::SETTINGS.iter().map(|setting| setting.name))
        .collect()
});

impl<'de> Deserialize<'de> for ConnectorEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntryVisitor)
    }
}

/// A key of an entry, recognized.
enum Key {
    Name,
    Organization,
    Type,
    Config,
    Setting(&'static Setting),
}

/// Reads a key; an unknown one is refused here, so the error points at the key.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        let key = String::deserialize(deserializer)?;
        Ok(match key.as_str() {
            "name" => Key::Name,
            "organization" => Key::Organization,
            "type" => Key::Type,
            "config" => Key::Config,
            other => Key::Setting(
                governance::setting(other).ok_or_else(|| de::Error::unknown_field(other, KEYS.as_slice()))?,
            ),
        })
    }
}

/// Reads one setting's value and checks it against [`Governance`] at once, so a wrong value is reported
/// where it stands rather than at the entry.
struct SettingSeed(&'static Setting);

impl<'de> DeserializeSeed<'de> for SettingSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Governance::deserialize(&json!({ self.0.name: &value }))
            .map_err(|error| de::Error::custom(format_args!("{}: {error}", self.0.name)))?;
        Ok(value)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = ConnectorEntry;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a connector entry: name, organization, type, config and governance settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ConnectorEntry, A::Error> {
        let (mut name, mut organization, mut connector_type, mut config) = (None, None, None, None);
        let mut settings = Map::new();
        // toml itself refuses a key given twice, so each arm sees its key once.
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key {
                Key::Name => name = Some(map.next_value()?),
                Key::Organization => organization = Some(map.next_value()?),
                Key::Type => connector_type = Some(map.next_value()?),
                Key::Config => config = Some(map.next_value()?),
                Key::Setting(setting) => {
                    settings.insert(
                        setting.name.to_owned(),
                        map.next_value_seed(SettingSeed(setting))?,
                    );
                }
            }
        }
        Ok(ConnectorEntry {
            name: name.ok_or_else(|| de::Error::missing_field("name"))?,
            organization: organization.ok_or_else(|| de::Error::missing_field("organization"))?,
            connector_type: connector_type.ok_or_else(|| de::Error::missing_field("type"))?,
            governance: serde_json::from_value(Value::Object(settings)).map_err(de::Error::custom)?,
            config: config.unwrap_or_default(),
        })
    }
}
