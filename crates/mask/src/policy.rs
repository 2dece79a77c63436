//! What to mask and how: which detectors run, each entity's strategy, extra patterns, and columns that
//! are always or never masked.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tributary_core::Secret;

use crate::entity::Entity;

/// How a found value is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The typed placeholder (`<EMAIL>`).
    #[default]
    Redact,
    /// Keep what identifies little: the last four digits of a card, phone or SSN, an email's domain, an
    /// IBAN's country. Entities with nothing safe to keep are redacted.
    Partial,
    /// A keyed hash (HMAC-SHA-256 under the policy's key, 16 hex digits): equal values stay equal, so
    /// results remain joinable, and without the key low-entropy values cannot be brute-forced.
    Hash,
}

/// An extra pattern of the policy, reported under its own name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPattern {
    /// The name in reports and in the placeholder (`employee_id` → `<EMPLOYEE_ID>`).
    pub name: String,
    /// A regular expression (regex crate syntax).
    pub pattern: String,
}

/// A masking policy. The default masks every built-in entity by redaction, using column names as hints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskPolicy {
    /// The entities to look for; all by default.
    pub detectors: BTreeSet<Entity>,
    /// The strategy for entities not listed in `strategies`.
    pub default_strategy: Strategy,
    /// Per-entity strategies.
    pub strategies: BTreeMap<Entity, Strategy>,
    /// Extra patterns, found after the built-in ones.
    pub extra_patterns: Vec<CustomPattern>,
    /// Columns and fields masked whole, whatever they hold (matched without regard to case).
    pub always_mask: Vec<String>,
    /// Columns and fields never masked or scanned (matched without regard to case).
    pub never_mask: Vec<String>,
    /// Whether column names (`email`, `ssn`, `first_name`...) and source types (Salesforce `email`,
    /// `phone`) mask a value whole.
    pub column_hints: bool,
    /// The key of the `hash` strategy; required when any entity uses it.
    #[serde(skip_serializing)]
    pub hash_key: Option<Secret>,
}

impl Default for MaskPolicy {
    fn default() -> Self {
        MaskPolicy {
            detectors: Entity::ALL.into_iter().collect(),
            default_strategy: Strategy::Redact,
            strategies: BTreeMap::new(),
            extra_patterns: Vec::new(),
            always_mask: Vec::new(),
            never_mask: Vec::new(),
            column_hints: true,
            hash_key: None,
        }
    }
}

impl MaskPolicy {
    /// The strategy for `entity`.
    pub fn strategy(&self, entity: Entity) -> Strategy {
        self.strategies
            .get(&entity)
            .copied()
            .unwrap_or(self.default_strategy)
    }

    /// Whether any entity is hashed.
    pub(crate) fn uses_hash(&self) -> bool {
        self.default_strategy == Strategy::Hash
            || self
                .strategies
                .values()
                .any(|strategy| *strategy == Strategy::Hash)
    }
}
