//! Access policies: which classes of operation and which objects a connector, or an agent's grant, allows.
//!
//! Deny by default: a policy allows nothing until it names the classes it allows, and every denial carries a
//! reason that says what was refused and why. Object rules are exact names or patterns with `*` (any run of
//! characters, including `.` and `/`) and `?` (exactly one character); every other character matches only
//! itself, so a table named `data[1]` needs no escaping. Matching is case-sensitive on the names the
//! connector reports (its catalog names).
//!
//! ```
//! use tributary_core::{Access, AccessPolicy, AccessClass, ObjectRules};
//!
//! let policy = AccessPolicy::new([AccessClass::Read], ObjectRules::only(["public.orders", "reports.*"]).unwrap());
//! assert!(policy.decide(&Access::read(["public.orders", "reports.q1"])).is_allowed());
//! assert!(!policy.decide(&Access::read(["public.customers"])).is_allowed());
//! assert!(!policy.decide(&Access::write(["public.orders"])).is_allowed());
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::operation::{Access, AccessClass};

/// A name or pattern of objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPattern(String);

impl ObjectPattern {
    /// Parses a pattern; an empty one is an error because it could only ever match nothing by accident.
    pub fn new(pattern: impl Into<String>) -> Result<Self> {
        let pattern = pattern.into();
        if pattern.trim().is_empty() {
            return Err(Error::invalid_input("an object pattern must not be empty")
                .with_hint("use a name like `public.orders` or a pattern like `reports/2026/*`"));
        }
        Ok(ObjectPattern(pattern))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern uses wildcards.
    pub fn is_wildcard(&self) -> bool {
        self.0.contains(['*', '?'])
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        wildcard_match(self.0.as_bytes(), name.as_bytes())
    }
}

/// Iterative wildcard matching with single-star backtracking: linear in practice and never exponential,
/// because an agent controls the names being matched.
fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(b'?') => {
                // `?` is one character, not one byte.
                p += 1;
                n += utf8_len(name[n]);
            }
            Some(&byte) if byte == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + utf8_len(name[star_n]);
                    star = Some((star_p, n));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&byte| byte == b'*') && n == name.len()
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

impl fmt::Display for ObjectPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ObjectPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ObjectPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ObjectPattern::new(text).map_err(|error| serde::de::Error::custom(error.message()))
    }
}

/// Which objects a policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRules {
    /// Every object the connector can reach.
    Any,
    /// Only objects matching one of these patterns; an empty list allows none.
    Only(Vec<ObjectPattern>),
}

impl ObjectRules {
    /// Rules from names and patterns.
    pub fn only<S: Into<String>>(patterns: impl IntoIterator<Item = S>) -> Result<Self> {
        patterns
            .into_iter()
            .map(ObjectPattern::new)
            .collect::<Result<Vec<_>>>()
            .map(ObjectRules::Only)
    }

    /// Whether `name` is allowed.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            ObjectRules::Any => true,
            ObjectRules::Only(patterns) => patterns.iter().any(|pattern| pattern.matches(name)),
        }
    }
}

/// `null` or absent means [`ObjectRules::Any`]; a list means [`ObjectRules::Only`], as in config files
/// where omitting `allowed_objects` allows every object.
impl Serialize for ObjectRules {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ObjectRules::Any => serializer.serialize_none(),
            ObjectRules::Only(patterns) => patterns.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ObjectRules {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(Option::<Vec<ObjectPattern>>::deserialize(deserializer)?
            .map_or(ObjectRules::Any, ObjectRules::Only))
    }
}

/// Allowed classes of operation and allowed objects.
///
/// The default policy allows no class, so it denies everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPolicy {
    /// The classes allowed; empty denies every operation.
    pub operations: BTreeSet<AccessClass>,
    /// The objects allowed.
    #[serde(default = "any_objects")]
    pub objects: ObjectRules,
}

fn any_objects() -> ObjectRules {
    ObjectRules::Any
}

impl Default for AccessPolicy {
    fn default() -> Self {
        AccessPolicy {
            operations: BTreeSet::new(),
            objects: ObjectRules::Only(Vec::new()),
        }
    }
}

impl AccessPolicy {
    /// A policy allowing `operations` on `objects`.
    pub fn new(operations: impl IntoIterator<Item = AccessClass>, objects: ObjectRules) -> Self {
        AccessPolicy {
            operations: operations.into_iter().collect(),
            objects,
        }
    }

    /// Decides a request: allowed only if its class is allowed and every object it touches matches.
    pub fn decide(&self, access: &Access) -> Decision {
        if !self.operations.contains(&access.class) {
            let allowed = if self.operations.is_empty() {
                "no operations".to_owned()
            } else {
                self.operations
                    .iter()
                    .map(|class| class.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Decision::Deny(Denial {
                reason: format!("{} access is not allowed (allowed: {allowed})", access.class),
                object: None,
            });
        }
        if let Some(object) = access.objects.iter().find(|object| !self.objects.allows(object)) {
            return Decision::Deny(Denial {
                reason: format!(
                    "{} access to `{object}` is not allowed: it matches no allowed object",
                    access.class
                ),
                object: Some(object.clone()),
            });
        }
        Decision::Allow
    }
}

/// The outcome of checking access against a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused, with a reason.
    Deny(Denial),
}

impl Decision {
    /// Whether access was allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// This decision, or if it allows, `next`'s: for layering a connector's policy and an agent's grant.
    pub fn and_then(self, next: impl FnOnce() -> Decision) -> Decision {
        match self {
            Decision::Allow => next(),
            deny => deny,
        }
    }

    /// `Ok(())` when allowed, a [`PermissionDenied`](crate::ErrorKind::PermissionDenied) error otherwise.
    pub fn into_result(self) -> Result<()> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(denial) => Err(Error::permission_denied(denial.reason)),
        }
    }
}

/// Why access was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// A sentence saying what was refused and why.
    pub reason: String,
    /// The first object that was not allowed, when an object caused the denial.
    pub object: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pattern(text: &str) -> ObjectPattern {
        ObjectPattern::new(text).unwrap()
    }

    #[test]
    fn exact_names_match_only_themselves() {
        let exact = pattern("public.orders");
        assert!(exact.matches("public.orders"));
        for other in [
            "public.orders2",
            "public.order",
            "Public.orders",
            "xpublic.orders",
            "",
        ] {
            assert!(!exact.matches(other), "{other}");
        }
        assert!(!exact.is_wildcard());
    }

    #[test]
    fn stars_and_question_marks() {
        let reports = pattern("reports/2026/*");
        assert!(reports.matches("reports/2026/q1.csv"));
        assert!(reports.matches("reports/2026/"));
        assert!(reports.matches("reports/2026/a/b.csv"));
        assert!(!reports.matches("reports/2025/q1.csv"));
        assert!(!reports.matches("reports/2026"));
        assert!(pattern("*").matches("anything at all"));
        assert!(pattern("*").matches(""));
        assert!(pattern("a*b*c").matches("aXXbYYc"));
        assert!(!pattern("a*b*c").matches("aXXbYY"));
        assert!(pattern("t?").matches("t1"));
        assert!(pattern("t?").matches("té"), "? is one character");
        assert!(!pattern("t?").matches("t"));
        assert!(!pattern("t?").matches("t12"));
        assert!(pattern("data[1]").matches("data[1]"), "brackets are literal");
        assert!(!pattern("data[1]").matches("data1"));
        assert!(pattern("*.orders").matches("sales.orders"));
        assert!(pattern("**").matches("a/b"));
    }

    #[test]
    fn matching_adversarial_names_stays_fast() {
        let name = "a".repeat(10_000);
        let pattern = pattern("*a*a*a*a*a*a*a*b");
        let started = std::time::Instant::now();
        assert!(!pattern.matches(&name));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn empty_patterns_are_refused() {
        assert!(ObjectPattern::new("").is_err());
        assert!(ObjectPattern::new("  ").is_err());
        assert!(
            serde_json::from_value::<AccessPolicy>(json!({"operations": ["read"], "objects": [""]})).is_err()
        );
    }

    #[test]
    fn default_policy_denies_everything() {
        let policy = AccessPolicy::default();
        let decision = policy.decide(&Access::read(Vec::<String>::new()));
        let Decision::Deny(denial) = decision else {
            panic!("default must deny")
        };
        assert_eq!(
            denial.reason,
            "read access is not allowed (allowed: no operations)"
        );
    }

    #[test]
    fn class_is_checked_before_objects() {
        let policy = AccessPolicy::new([AccessClass::Read], ObjectRules::Any);
        assert!(policy.decide(&Access::read(["x"])).is_allowed());
        let Decision::Deny(denial) = policy.decide(&Access::write(["x"])) else {
            panic!("write must be denied")
        };
        assert_eq!(denial.reason, "write access is not allowed (allowed: read)");
        assert_eq!(denial.object, None);
    }

    #[test]
    fn every_object_must_be_allowed() {
        let policy = AccessPolicy::new(
            [AccessClass::Read, AccessClass::Write],
            ObjectRules::only(["public.orders", "public.customers"]).unwrap(),
        );
        assert!(
            policy
                .decide(&Access::read(["public.orders", "public.customers"]))
                .is_allowed()
        );
        assert!(
            policy.decide(&Access::read(Vec::<String>::new())).is_allowed(),
            "SELECT 1 touches nothing"
        );
        let Decision::Deny(denial) = policy.decide(&Access::read(["public.orders", "pg_catalog.pg_authid"]))
        else {
            panic!("catalog access must be denied")
        };
        assert_eq!(denial.object.as_deref(), Some("pg_catalog.pg_authid"));
        assert!(
            denial.reason.contains("`pg_catalog.pg_authid`"),
            "{}",
            denial.reason
        );
        let none = AccessPolicy::new([AccessClass::Read], ObjectRules::Only(vec![]));
        assert!(!none.decide(&Access::read(["public.orders"])).is_allowed());
        assert!(none.decide(&Access::read(Vec::<String>::new())).is_allowed());
    }

    #[test]
    fn layered_decisions_stop_at_the_first_denial() {
        let connector = AccessPolicy::new([AccessClass::Read, AccessClass::Write], ObjectRules::Any);
        let grant = AccessPolicy::new([AccessClass::Read], ObjectRules::Any);
        let access = Access::write(["t"]);
        let decision = connector.decide(&access).and_then(|| grant.decide(&access));
        assert!(!decision.is_allowed());
        let error = decision.into_result().unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::PermissionDenied);
        assert!(Decision::Allow.into_result().is_ok());
    }

    #[test]
    fn omitted_objects_mean_any_and_lists_mean_only() {
        let any: AccessPolicy = serde_json::from_value(json!({"operations": ["read"]})).unwrap();
        assert_eq!(any.objects, ObjectRules::Any);
        let null: AccessPolicy =
            serde_json::from_value(json!({"operations": ["read"], "objects": null})).unwrap();
        assert_eq!(null.objects, ObjectRules::Any);
        let only: AccessPolicy =
            serde_json::from_value(json!({"operations": ["read", "write"], "objects": ["a.*"]})).unwrap();
        assert_eq!(only.objects, ObjectRules::only(["a.*"]).unwrap());
        assert_eq!(
            serde_json::to_value(&only).unwrap(),
            json!({"operations": ["read", "write"], "objects": ["a.*"]})
        );
        assert!(serde_json::from_value::<AccessPolicy>(json!({"operations": ["delete"]})).is_err());
    }
}
