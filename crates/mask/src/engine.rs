//! The [`Masker`]: finds sensitive values in text with one scan, and masks every value a connector
//! returns (cells, nested JSON, records, object text, error messages), reporting what it masked by
//! entity, never the values.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tributary_core::{Data, Error, FieldError, Output, Result};

use crate::detectors::{self, Check};
use crate::entity::Entity;
use crate::hints;
use crate::policy::MaskPolicy;
use crate::strategy;

/// A sensitive value found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it is.
    pub entity: Entity,
    /// The custom pattern's name, or the entity's name.
    pub label: String,
    /// Where it is, in bytes.
    pub range: Range<usize>,
}

/// What a masking pass masked: how many values of each entity. Never the values themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskReport {
    /// Masked values per entity name (custom patterns under their own names).
    pub counts: BTreeMap<String, u64>,
}

impl MaskReport {
    fn add(&mut self, label: &str) {
        *self.counts.entry(label.to_owned()).or_default() += 1;
    }

    /// Adds another report's counts.
    pub fn merge(&mut self, other: MaskReport) {
        for (label, count) in other.counts {
            *self.counts.entry(label).or_default() += count;
        }
    }

    /// All masked values.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Whether nothing was masked.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Source types of fields, by name, for outputs that do not carry them (records): a Salesforce
/// connector passes describe's `email` and `phone` types here.
pub type FieldTypes = HashMap<String, String>;

struct Compiled {
    entity: Entity,
    label: String,
    check: Check,
    glued: fn(char) -> bool,
    /// The pattern alone, for trying it where another pattern matched first.
    single: Regex,
}

/// A compiled masking policy. Build once and share: scanning is read-only.
pub struct Masker {
    policy: MaskPolicy,
    all: Regex,
    detectors: Vec<Compiled>,
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("detectors", &self.detectors.len())
            .field("hash_key", &self.key.is_some())
            .finish()
    }
}

fn invalid(field: &str, message: String) -> Error {
    Error::invalid_config(vec![FieldError::new(field, message)])
}

impl Masker {
    /// Compiles `policy`. Fails on an extra pattern that does not compile, and on the hash strategy
    /// without a key of at least 16 bytes.
    pub fn new(policy: MaskPolicy) -> Result<Masker> {
        let key = policy
            .hash_key
            .as_ref()
            .map(|key| key.expose().as_bytes().to_vec());
        if policy.uses_hash() && key.as_ref().is_none_or(|key| key.len() < 16) {
            return Err(invalid(
                "hash_key",
                "the hash strategy needs a key of at least 16 bytes".into(),
            ));
        }
        let mut detectors = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        for detector in detectors::builtin()
            .into_iter()
            .filter(|d| policy.detectors.contains(&d.entity))
        {
            patterns.push(detector.pattern.to_owned());
            detectors.push((
                detector.entity,
                detector.entity.name().to_owned(),
                detector.check,
                detector.glued,
                detector.pattern.to_owned(),
            ));
        }
        if policy.detectors.contains(&Entity::Custom) {
            for custom in &policy.extra_patterns {
                Regex::new(&custom.pattern).map_err(|error| {
                    invalid(
                        "extra_patterns",
                        format!("`{}` does not compile: {error}", custom.name),
                    )
                })?;
                patterns.push(custom.pattern.clone());
                detectors.push((
                    Entity::Custom,
                    custom.name.clone(),
                    Check::Whole(|_| true),
                    |_| false,
                    custom.pattern.clone(),
                ));
            }
        }
        // The lazy DFA's state cache: dense PII visits many states of the combined automaton, and with the
        // default 2 MiB the cache is rebuilt over and over (48 ms instead of 18 ms per 4 MiB here).
        let all = Regex::builder()
            .configure(Regex::config().hybrid_cache_capacity(16 << 20))
            .build_many(&patterns)
            .map_err(|error| Error::internal(format!("the detectors do not compile: {error}")))?;
        let detectors = detectors
            .into_iter()
            .map(|(entity, label, check, glued, pattern)| {
                let single = Regex::new(&pattern)
                    .map_err(|error| Error::internal(format!("detector {label}: {error}")))?;
                Ok(Compiled {
                    entity,
                    label,
                    check,
                    glued,
                    single,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Masker {
            policy,
            all,
            detectors,
            key,
        })
    }

    /// The policy this masker applies.
    pub fn policy(&self) -> &MaskPolicy {
        &self.policy
    }

    /// Every sensitive value in `text`, in order, not overlapping.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.scan(text, |index, range| {
            let detector = &self.detectors[index];
            findings.push(Finding {
                entity: detector.entity,
                label: detector.label.clone(),
                range,
            });
        });
        findings
    }

    /// Calls `found` with the detector index and range of every finding, in order. One pass of the
    /// combined automaton; a match its own detector refuses is offered to the others that match at the
    /// same place (a MAC is also an IPv6 candidate) before the scan moves past it.
    fn scan(&self, text: &str, mut found: impl FnMut(usize, Range<usize>)) {
        let mut at = 0;
        while at < text.len() {
            let Some(candidate) = self.all.search(&Input::new(text).range(at..)) else {
                break;
            };
            let start = candidate.start();
            let first = candidate.pattern().as_usize();
            let mut next = candidate.end().max(start + 1);
            if let Some(range) = accept(&self.detectors[first], text, candidate.range()) {
                next = range.end.max(start + 1);
                found(first, range);
            } else {
                for index in (0..self.detectors.len()).filter(|&index| index != first) {
                    let detector = &self.detectors[index];
                    let Some(span) = detector
                        .single
                        .search(&Input::new(text).range(start..).anchored(Anchored::Yes))
                    else {
                        continue;
                    };
                    if let Some(range) = accept(detector, text, span.range()) {
                        next = range.end.max(start + 1);
                        found(index, range);
                        break;
                    }
                }
            }
            at = next;
            while !text.is_char_boundary(at) {
                at += 1;
            }
        }
    }

    /// `text` with every finding replaced, and what was masked. Borrowed when nothing was found.
    pub fn mask_text<'t>(&self, text: &'t str) -> (Cow<'t, str>, MaskReport) {
        let mut report = MaskReport::default();
        let masked = self.mask_into(text, &mut report);
        (masked, report)
    }

    fn mask_into<'t>(&self, text: &'t str, report: &mut MaskReport) -> Cow<'t, str> {
        let mut out: Option<String> = None;
        let mut last = 0;
        let mut counts = vec![0u64; self.detectors.len()];
        self.scan(text, |index, range| {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[last..range.start]);
            let detector = &self.detectors[index];
            let strategy = self.policy.strategy(detector.entity);
            strategy::write_replacement(
                out,
                strategy,
                detector.entity,
                &detector.label,
                &text[range.clone()],
                self.key.as_deref(),
            );
            counts[index] += 1;
            last = range.end;
        });
        let Some(mut out) = out else {
            return Cow::Borrowed(text);
        };
        out.push_str(&text[last..]);
        for (index, count) in counts.into_iter().enumerate().filter(|(_, count)| *count > 0) {
            *report
                .counts
                .entry(self.detectors[index].label.clone())
                .or_default() += count;
        }
        Cow::Owned(out)
    }

    fn replacement(&self, entity: Entity, label: &str, value: &str) -> String {
        strategy::replace(
            self.policy.strategy(entity),
            entity,
            label,
            value,
            self.key.as_deref(),
        )
    }

    /// What a column or field name says about its values: never mask, mask whole as an entity, or scan.
    fn column(&self, name: &str, native_type: Option<&str>) -> Column {
        let named = |list: &[String]| list.iter().any(|entry| entry.eq_ignore_ascii_case(name));
        if named(&self.policy.never_mask) {
            return Column::Skip;
        }
        if named(&self.policy.always_mask) {
            return Column::Whole(hints::entity_for_name(name).unwrap_or(Entity::Custom));
        }
        if self.policy.column_hints {
            let hinted =
                hints::entity_for_name(name).or_else(|| native_type.and_then(hints::entity_for_type));
            if let Some(entity) = hinted.filter(|entity| self.policy.detectors.contains(entity)) {
                return Column::Whole(entity);
            }
        }
        Column::Scan
    }

    /// Masks a JSON value in place: strings are scanned, long integers checked as text, object fields
    /// judged by their names, arrays element by element.
    pub fn mask_json(&self, value: &mut Value) -> MaskReport {
        let mut report = MaskReport::default();
        self.walk(value, Column::Scan, &FieldTypes::new(), &mut report);
        report
    }

    fn walk(&self, value: &mut Value, column: Column, types: &FieldTypes, report: &mut MaskReport) {
        match (column, &mut *value) {
            (Column::Skip, _) | (_, Value::Null | Value::Bool(_)) => {}
            (Column::Whole(entity), Value::String(_) | Value::Number(_)) => {
                let text = match &*value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                if !text.is_empty() {
                    // A column masked by policy alone has no entity: it reads `<REDACTED>` and counts as
                    // `column`.
                    let (label, tag) = if entity == Entity::Custom {
                        ("column", "redacted")
                    } else {
                        (entity.name(), entity.name())
                    };
                    *value = Value::String(self.replacement(entity, tag, &text));
                    report.add(label);
                }
            }
            (Column::Scan, Value::String(text)) => {
                if let Cow::Owned(masked) = self.mask_into(text, report) {
                    *text = masked;
                }
            }
            (Column::Scan, Value::Number(number)) => {
                let text = number.to_string();
                if text.len() >= 9
                    && let Cow::Owned(masked) = self.mask_into(&text, report)
                {
                    *value = Value::String(masked);
                }
            }
            (_, Value::Array(items)) => {
                for item in items {
                    self.walk(item, column, types, report);
                }
            }
            (inherited, Value::Object(fields)) => {
                for (name, field) in fields.iter_mut() {
                    let own = self.column(name, types.get(name).map(String::as_str));
                    let column = match (own, inherited) {
                        (Column::Scan, Column::Whole(entity)) => Column::Whole(entity),
                        (own, _) => own,
                    };
                    self.walk(field, column, types, report);
                }
            }
        }
    }

    /// Masks what an operation returned, in place: every cell (judged by its column's name and type),
    /// every record field, documents (object text included) and write outcomes. Catalogs and object
    /// descriptions hold metadata, not data, and are left as they are.
    pub fn mask_output(&self, output: &mut Output, types: &FieldTypes) -> MaskReport {
        let mut report = MaskReport::default();
        match &mut output.data {
            Data::Rows(rows) => {
                let columns: Vec<Column> = rows
                    .columns
                    .iter()
                    .map(|column| self.column(&column.name, Some(&column.native_type)))
                    .collect();
                for row in &mut rows.rows {
                    for (cell, column) in row.iter_mut().zip(&columns) {
                        self.walk(cell, *column, types, &mut report);
                    }
                }
            }
            Data::Records { records } => {
                for record in records {
                    for (name, field) in record.iter_mut() {
                        let column = self.column(name, types.get(name).map(String::as_str));
                        self.walk(field, column, types, &mut report);
                    }
                }
            }
            Data::Document { document } => self.walk(document, Column::Scan, types, &mut report),
            Data::Write(summary) => {
                for item in &mut summary.items {
                    self.walk(item, Column::Scan, types, &mut report);
                }
            }
            Data::Catalog(_) | Data::Object(_) => {}
        }
        report
    }

    /// Masks data an error message echoes (a database quoting the duplicate value, say).
    pub fn mask_error(&self, error: Error) -> (Error, MaskReport) {
        let mut report = MaskReport::default();
        let error = error.map_text(|text| self.mask_into(text, &mut report).into_owned());
        (error, report)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Skip,
    Whole(Entity),
    Scan,
}

/// Applies a detector's check and its context rule to a match.
fn accept(detector: &Compiled, text: &str, span: Range<usize>) -> Option<Range<usize>> {
    let value = &text[span.clone()];
    let range = match detector.check {
        Check::Whole(valid) => valid(value).then_some(span.clone())?,
        Check::Part(part) => {
            let inner = part(value)?;
            span.start + inner.start..span.start + inner.end
        }
    };
    let glued = detector.glued;
    let before = text[..span.start].chars().next_back();
    if before.is_some_and(glued) {
        return None;
    }
    let mut after = text[span.end..].chars();
    if let Some(next) = after.next()
        && glued(next)
        && (next.is_alphanumeric() || after.next().is_some_and(|c| c.is_alphanumeric()))
    {
        return None;
    }
    (!range.is_empty()).then_some(range)
}
