//! Replacing a found value: redaction to a typed placeholder, a partial mask, or a keyed hash.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::entity::Entity;
use crate::policy::Strategy;

/// Appends the replacement of `value` to `out`: the common case, redaction to a built-in placeholder,
/// without allocating.
pub(crate) fn write_replacement(
    out: &mut String,
    strategy: Strategy,
    entity: Entity,
    label: &str,
    value: &str,
    key: Option<&[u8]>,
) {
    if strategy == Strategy::Redact && entity != Entity::Custom {
        out.push_str(entity.placeholder());
    } else {
        out.push_str(&replace(strategy, entity, label, value, key));
    }
}

/// The replacement of `value`, found as `entity` (`label` names custom patterns).
pub(crate) fn replace(
    strategy: Strategy,
    entity: Entity,
    label: &str,
    value: &str,
    key: Option<&[u8]>,
) -> String {
    match strategy {
        Strategy::Redact => placeholder(entity, label),
        Strategy::Partial => partial(entity, value).unwrap_or_else(|| placeholder(entity, label)),
        Strategy::Hash => match key {
            Some(key) => {
                let tag = placeholder(entity, label);
                let inner = tag.trim_start_matches('<').trim_end_matches('>');
                format!("<{inner}:{}>", keyed_hash(key, entity, value))
            }
            None => placeholder(entity, label),
        },
    }
}

fn placeholder(entity: Entity, label: &str) -> String {
    if entity == Entity::Custom {
        format!("<{}>", label.to_ascii_uppercase())
    } else {
        entity.placeholder().to_owned()
    }
}

fn last_digits(value: &str, count: usize) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(count)..].iter().collect()
}

fn partial(entity: Entity, value: &str) -> Option<String> {
    match entity {
        Entity::Email => value.rsplit_once('@').map(|(_, domain)| format!("***@{domain}")),
        Entity::CreditCard => Some(format!("****{}", last_digits(value, 4))),
        Entity::Phone => Some(format!("***{}", last_digits(value, 4))),
        Entity::Ssn => Some(format!("***-**-{}", last_digits(value, 4))),
        Entity::Iban => {
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            let country = compact.get(..2)?;
            let tail = compact.get(compact.len().saturating_sub(4)..)?;
            Some(format!("{country}**{tail}"))
        }
        Entity::Ipv4 => value.split_once('.').map(|(first, _)| format!("{first}.*.*.*")),
        _ => None,
    }
}

/// The value in a canonical form, so the same value written two ways hashes alike.
fn canonical(entity: Entity, value: &str) -> String {
    match entity {
        Entity::Email => value.to_lowercase(),
        Entity::CreditCard | Entity::Phone | Entity::Ssn => {
            value.chars().filter(char::is_ascii_digit).collect()
        }
        Entity::Iban | Entity::Mac | Entity::Ipv6 => value
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ':')
            .collect::<String>()
            .to_uppercase(),
        _ => value.trim().to_owned(),
    }
}

fn keyed_hash(key: &[u8], entity: Entity, value: &str) -> String {
    // An empty key never reaches here (the masker refuses it), but a MAC over any key is well defined.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(entity.name().as_bytes());
    mac.update(b":");
    mac.update(canonical(entity, value).as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies() {
        let key = Some(&b"0123456789abcdef0123456789abcdef"[..]);
        assert_eq!(
            replace(Strategy::Redact, Entity::Email, "", "a@b.co", key),
            "<EMAIL>"
        );
        assert_eq!(
            replace(Strategy::Partial, Entity::Email, "", "ada@example.com", key),
            "***@example.com"
        );
        assert_eq!(
            replace(
                Strategy::Partial,
                Entity::CreditCard,
                "",
                "4111 1111 1111 1234",
                key
            ),
            "****1234"
        );
        assert_eq!(
            replace(Strategy::Partial, Entity::Ssn, "", "536-22-8471", key),
            "***-**-8471"
        );
        assert_eq!(
            replace(Strategy::Partial, Entity::Mac, "", "00:1A:2B:3C:4D:5E", key),
            "<MAC>"
        );
        let a = replace(Strategy::Hash, Entity::Email, "", "Ada@Example.com", key);
        let b = replace(Strategy::Hash, Entity::Email, "", "ada@example.com", key);
        assert_eq!(a, b, "equal values stay joinable");
        assert!(
            a.starts_with("<EMAIL:") && a.len() == "<EMAIL:>".len() + 16,
            "{a}"
        );
        let other_key = replace(
            Strategy::Hash,
            Entity::Email,
            "",
            "ada@example.com",
            Some(b"another key of 32 bytes........."),
        );
        assert_ne!(a, other_key, "without the key the hash cannot be recomputed");
        assert_eq!(
            replace(Strategy::Redact, Entity::Custom, "employee_id", "E-1", key),
            "<EMPLOYEE_ID>"
        );
    }
}
