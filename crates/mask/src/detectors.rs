//! The built-in detectors: one pattern per shape, and the check that accepts or refuses each match.
//!
//! All patterns are compiled into one multi-pattern automaton (regex-automata's meta regex), so text is
//! scanned once whatever the number of detectors; a match then goes to its detector's check. Word
//! boundaries are ASCII (`(?-u:\b)`) so the lazy DFA never has to give up on non-ASCII text.

use std::ops::Range;

use crate::entity::Entity;
use crate::validate;

/// How a detector turns a pattern match into a finding.
#[derive(Clone, Copy)]
pub(crate) enum Check {
    /// The whole match, when the validator accepts it.
    Whole(fn(&str) -> bool),
    /// Part of the match (the password in a connection string, the date after "DOB:"), if any.
    Part(fn(&str) -> Option<Range<usize>>),
}

/// One built-in detector.
pub(crate) struct Detector {
    pub(crate) entity: Entity,
    pub(crate) pattern: &'static str,
    pub(crate) check: Check,
    /// Characters that may not touch the match on either side (the match would be part of a longer token).
    pub(crate) glued: fn(char) -> bool,
}

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn digit_or_dot(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.'
}

fn hex_or_colon(c: char) -> bool {
    c.is_ascii_hexdigit() || c == ':'
}

fn nothing(_: char) -> bool {
    false
}

fn always(_: &str) -> bool {
    true
}

/// The value after `=`/`:` in `password=...`, without quotes.
fn setting_value(text: &str) -> Option<Range<usize>> {
    let separator = text.find(['=', ':'])?;
    let rest = &text[separator + 1..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t', '"', '\'']).len();
    let start = separator + 1 + skipped;
    (start < text.len()).then_some(start..text.len())
}

/// The password between `user:` and `@` in `scheme://user:password@host`.
fn url_password(text: &str) -> Option<Range<usize>> {
    let authority = text.find("://")? + 3;
    let colon = authority + text[authority..].find(':')?;
    let at = text.rfind('@')?;
    (colon + 1 < at).then_some(colon + 1..at)
}

/// The date after a "DOB:"-style label.
fn labelled_date(text: &str) -> Option<Range<usize>> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    Some(start..text.len())
}

/// The longest run of whole digit groups at the start of a card-like match that is a card: the pattern
/// is greedy, so `4111 1111 1111 1111 536-22-8471` first matches one group too far.
fn card_prefix(text: &str) -> Option<Range<usize>> {
    if validate::credit_card(text) {
        return Some(0..text.len());
    }
    text.char_indices()
        .filter(|(_, c)| *c == ' ' || *c == '-')
        .map(|(at, _)| at)
        .rev()
        .find(|&end| validate::credit_card(&text[..end]))
        .map(|end| 0..end)
}

/// The built-in detectors, in priority order: when several match at the same place, the first accepted
/// one wins.
pub(crate) fn builtin() -> Vec<Detector> {
    vec![
        Detector {
            entity: Entity::Secret,
            pattern: r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[A-Za-z0-9+/=:, \t\r\n-]*?-----END (?:[A-Z]+ )*PRIVATE KEY-----",
            check: Check::Whole(always),
            glued: nothing,
        },
        Detector {
            entity: Entity::Secret,
            pattern: r"[A-Za-z][A-Za-z0-9+.-]*://[^ \t\r\n:/@]+:[^ \t\r\n@/]+@",
            check: Check::Part(url_password),
            glued: nothing,
        },
        Detector {
            entity: Entity::Secret,
            pattern: r"(?-u:\b)(?:(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})",
            check: Check::Whole(always),
            glued: word,
        },
        Detector {
            entity: Entity::Secret,
            pattern: r#"(?i-u:\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret))[ \t]*[=:][ \t]*["']?[^ \t\r\n"',;&<>]{3,}"#,
            check: Check::Part(setting_value),
            glued: nothing,
        },
        Detector {
            entity: Entity::Email,
            pattern: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
            check: Check::Whole(validate::email),
            glued: nothing,
        },
        Detector {
            entity: Entity::Iban,
            pattern: r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?-u:\b)",
            check: Check::Whole(validate::iban),
            glued: word,
        },
        Detector {
            entity: Entity::CreditCard,
            pattern: r"(?-u:\b)[0-9](?:[ -]?[0-9]){12,18}(?-u:\b)",
            check: Check::Part(card_prefix),
            glued: word,
        },
        Detector {
            entity: Entity::Ssn,
            pattern: r"(?-u:\b)[0-9]{3}(?:-[0-9]{2}-| [0-9]{2} )[0-9]{4}(?-u:\b)",
            check: Check::Whole(validate::ssn),
            glued: |c| word(c) || c == '-',
        },
        Detector {
            entity: Entity::Mac,
            pattern: r"(?-u:\b)(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?-u:\b)",
            check: Check::Whole(validate::mac),
            glued: |c| hex_or_colon(c) || c == '-',
        },
        Detector {
            entity: Entity::Ipv6,
            pattern: r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
            check: Check::Whole(validate::ipv6),
            glued: |c| hex_or_colon(c) || c == '.',
        },
        Detector {
            entity: Entity::Ipv4,
            pattern: r"(?-u:\b)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?-u:\b)",
            check: Check::Whole(validate::ipv4),
            glued: digit_or_dot,
        },
        Detector {
            entity: Entity::Phone,
            pattern: r"(?:\+1[ .-]?|1[ .-])?(?:\([0-9]{3}\) ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}(?-u:\b)|\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,6}(?-u:\b)",
            check: Check::Whole(validate::phone),
            glued: |c| word(c) || c == '+' || c == '-' || c == '.',
        },
        Detector {
            entity: Entity::DateOfBirth,
            pattern: r"(?i-u:\b(?:dob|date of birth|birth ?date|born(?: on)?))[ \t]*[:=]?[ \t]*(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4})(?-u:\b)",
            check: Check::Part(labelled_date),
            glued: nothing,
        },
    ]
}
