//! Connector forms generated from a type's `ConnectorSpec`, and posted forms turned back into a config
//! and policy settings.
//!
//! Inputs are named `config.<field>` and `policy.<setting>`, so one form can carry a connector's name,
//! its config and its governance; values stay strings, which `ConnectorSpec::validate` coerces by type.

use std::collections::{BTreeMap, BTreeSet};

use maud::{Markup, html};
use serde_json::{Map, Value};
use tributary_core::spec::{FieldKind, FieldSpec};
use tributary_core::{AccessClass, ConnectorSpec, ErrorReport, ObjectRules};
use tributary_registry::Governance;

use super::layout::plain;

/// A posted form, as name and value pairs in the order sent (checkboxes may repeat a name).
pub(crate) type Posted = Vec<(String, String)>;

/// The first value of `name` in a posted form.
pub(crate) fn value<'a>(form: &'a Posted, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Field errors by input name, for showing next to each input.
pub(crate) type FieldErrors = BTreeMap<String, String>;

/// The field errors of a failure, by input name (`config.port`, `policy.operations`, `name`).
pub(crate) fn field_errors(error: &ErrorReport) -> FieldErrors {
    error
        .fields
        .iter()
        .map(|field| {
            let name = if field.field == "name" || field.field.contains('.') {
                field.field.clone()
            } else {
                format!("config.{}", field.field)
            };
            (name, field.message.clone())
        })
        .collect()
}

/// How a form shows a connector's current config.
pub(crate) enum Current<'a> {
    /// A new connector: inputs start at their defaults.
    New {
        /// Values already typed (after a failed save); secrets are never sent back.
        typed: &'a Posted,
    },
    /// An existing connector: inputs start at its values; secrets show only whether they are set.
    Saved(&'a Map<String, Value>),
}

/// Every field of `spec`, grouped into fieldsets in the order the spec lists them.
pub(crate) fn config_fields(spec: &ConnectorSpec, current: &Current<'_>, errors: &FieldErrors) -> Markup {
    let mut groups: Vec<(&str, Vec<&FieldSpec>)> = Vec::new();
    for field in &spec.fields {
        let group = field.group.as_deref().unwrap_or("General");
        match groups.iter_mut().find(|(name, _)| *name == group) {
            Some((_, fields)) => fields.push(field),
            None => groups.push((group, vec![field])),
        }
    }
    html! {
        @for (group, fields) in &groups {
            fieldset {
                legend { (group) }
                @for field in fields {
                    (config_field(field, current, errors.get(&format!("config.{}", field.name))))
                }
            }
        }
    }
}

fn config_field(field: &FieldSpec, current: &Current<'_>, error: Option<&String>) -> Markup {
    let input_name = format!("config.{}", field.name);
    let id = format!("f-config.{}", field.name);
    let described = format!("help-{id} error-{id}");
    let (shown, secret_set): (Option<String>, Option<bool>) = match current {
        Current::New { .. } if field.secret => (None, None),
        Current::New { typed } => (
            value(typed, &input_name)
                .map(str::to_owned)
                .or_else(|| field.default.as_ref().map(form_text)),
            None,
        ),
        Current::Saved(values) if field.secret => (
            None,
            Some(
                values
                    .get(&field.name)
                    .and_then(|value| value.get("set"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            ),
        ),
        Current::Saved(values) => (values.get(&field.name).map(form_text), None),
    };
    let required = field.required && secret_set.is_none();
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(id) {
                (field.label)
                @if field.required { " " abbr class="required" title="required" { "*" } }
                @if let Some(set) = secret_set {
                    " " span class={ "badge " @if set { "ok" } @else { "off" } } { @if set { "set" } @else { "not set" } }
                }
            }
            @match &field.kind {
                FieldKind::Boolean => {
                    select id=(id) name=(input_name) aria-describedby=(described) {
                        @for (option, label) in [("true", "Yes"), ("false", "No")] {
                            option value=(option) selected[shown.as_deref() == Some(option)] { (label) }
                        }
                    }
                }
                FieldKind::Choice { values } => {
                    select id=(id) name=(input_name) aria-describedby=(described) required[required] {
                        @if !field.required || shown.is_none() { option value="" { "—" } }
                        @for option in values {
                            option value=(option) selected[shown.as_deref() == Some(option.as_str())] { (option) }
                        }
                    }
                }
                FieldKind::Text | FieldKind::StringList => {
                    textarea id=(id) name=(input_name) rows="4" aria-describedby=(described)
                        required[required] autocomplete="off" spellcheck="false"
                        placeholder=[placeholder(field, secret_set)] {
                        (shown.clone().unwrap_or_default())
                    }
                }
                FieldKind::Integer { min, max } => {
                    input id=(id) name=(input_name) type="number" step="1" min=[min] max=[max]
                        value=[shown.clone()] aria-describedby=(described) required[required]
                        placeholder=[placeholder(field, secret_set)];
                }
                FieldKind::Number => {
                    input id=(id) name=(input_name) type="number" step="any"
                        value=[shown.clone()] aria-describedby=(described) required[required]
                        placeholder=[placeholder(field, secret_set)];
                }
                FieldKind::String => {
                    @if field.secret {
                        input id=(id) name=(input_name) type="password" autocomplete="new-password"
                            aria-describedby=(described) required[required]
                            placeholder=[placeholder(field, secret_set)];
                    } @else {
                        input id=(id) name=(input_name) type="text" autocomplete="off" spellcheck="false"
                            value=[shown.clone()] aria-describedby=(described) required[required]
                            placeholder=[placeholder(field, secret_set)];
                    }
                }
            }
            p class="help" id={ "help-" (id) } {
                (field.help)
                @if matches!(field.kind, FieldKind::StringList) { " One per line." }
            }
            p class="field-error" id={ "error-" (id) } data-field=(input_name) {
                @if let Some(error) = error { (error) }
            }
        }
    }
}

fn placeholder(field: &FieldSpec, secret_set: Option<bool>) -> Option<String> {
    match secret_set {
        Some(true) => Some("set; leave blank to keep it".to_owned()),
        Some(false) => Some("not set".to_owned()),
        None => field.placeholder.clone(),
    }
}

/// A stored or default value as an input shows it.
fn form_text(value: &Value) -> String {
    match value {
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join("\n"),
        other => plain(other),
    }
}

/// The policy settings of a connector as inputs.
pub(crate) fn policy_fields(governance: &Governance, errors: &FieldErrors) -> Markup {
    let objects = match serde_json::to_value(&governance.allowed_objects) {
        Ok(Value::Array(patterns)) => patterns.iter().map(plain).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    };
    let yes_no = |name: &str, label: &str, help: &str, on: bool| {
        let id = format!("f-{name}");
        html! {
            div class="field" {
                label for=(id) { (label) }
                select id=(id) name=(name) aria-describedby={ "help-" (id) } {
                    option value="true" selected[on] { "Yes" }
                    option value="false" selected[!on] { "No" }
                }
                p class="help" id={ "help-" (id) } { (help) }
            }
        }
    };
    let error = |name: &str| {
        html! {
            p class="field-error" id={ "error-f-" (name) } data-field=(name) {
                @if let Some(message) = errors.get(name) { (message) }
            }
        }
    };
    // A whole number of at least 1, or empty for none.
    let optional_count = |name: &str, label: &str, help: &str, value: Option<u64>| {
        let id = format!("f-{name}");
        html! {
            div class="field" {
                label for=(id) { (label) }
                input id=(id) name=(name) type="number" min="1" step="1"
                    value=[value] aria-describedby={ "help-" (id) " error-" (id) };
                p class="help" id={ "help-" (id) } { (help) }
                (error(name))
            }
        }
    };
    html! {
        fieldset {
            legend { (label("allowed_operations")) }
            @for class in [AccessClass::Read, AccessClass::Write] {
                div class="check" {
                    input type="checkbox" id={ "f-policy.operations-" (class.as_str()) } name="policy.operations"
                        value=(class.as_str()) checked[governance.allowed_operations.contains(&class)];
                    label for={ "f-policy.operations-" (class.as_str()) } {
                        @match class {
                            AccessClass::Read => "Read: queries, listings, schema",
                            AccessClass::Write => "Write: inserts, updates, deletes, uploads",
                        }
                    }
                }
            }
            (error("policy.operations"))
        }
        fieldset {
            legend { "Data protection and limits" }
            div class="field" {
                label for="f-policy.objects" { (label("allowed_objects")) }
                textarea id="f-policy.objects" name="policy.objects" rows="3" spellcheck="false"
                    aria-describedby="help-f-policy.objects error-f-policy.objects"
                    placeholder="public.orders\nreports/2026/*" { (objects) }
                p class="help" id="help-f-policy.objects" { "One per line. " (help("allowed_objects")) }
                (error("policy.objects"))
            }
            (yes_no("policy.mask_pii", label("mask_pii"), help("mask_pii"), governance.mask_pii))
            (yes_no("policy.audit_queries", label("audit_queries"), help("audit_queries"), governance.audit_queries))
            div class="field" {
                label for="f-policy.cache_ttl_seconds" { (label("cache_ttl_seconds")) }
                input id="f-policy.cache_ttl_seconds" name="policy.cache_ttl_seconds" type="number" min="0" step="1"
                    value=(governance.cache_ttl_seconds) aria-describedby="help-f-policy.cache_ttl_seconds error-f-policy.cache_ttl_seconds";
                p class="help" id="help-f-policy.cache_ttl_seconds" { (help("cache_ttl_seconds")) }
                (error("policy.cache_ttl_seconds"))
            }
            (optional_count("policy.queries_per_minute", label("queries_per_minute"), help("queries_per_minute"), governance.queries_per_minute.map(u64::from)))
            (optional_count("policy.max_rows_per_call", label("max_rows_per_call"), help("max_rows_per_call"), governance.max_rows_per_call.map(|rows| rows as u64)))
            (optional_count("policy.max_bytes_per_call", label("max_bytes_per_call"), help("max_bytes_per_call"), governance.max_bytes_per_call.map(|bytes| bytes as u64)))
        }
    }
}

/// A governance setting's label, from the one description of each (`tributary_registry::governance`).
fn label(name: &str) -> &'static str {
    tributary_registry::governance::setting(name).map_or("", |setting| setting.label)
}

/// A governance setting's help line.
fn help(name: &str) -> &'static str {
    tributary_registry::governance::setting(name).map_or("", |setting| setting.help)
}

/// The config fields of a posted form, as the registry's API takes them.
///
/// For a new connector blank inputs are left out (so defaults apply). For an existing one, a blank secret
/// keeps the stored secret and a blank setting goes back to its default.
pub(crate) fn posted_config(spec: &ConnectorSpec, form: &Posted, existing: bool) -> Map<String, Value> {
    let mut config = Map::new();
    for field in &spec.fields {
        let Some(text) = value(form, &format!("config.{}", field.name)) else {
            continue;
        };
        let blank = text.trim().is_empty();
        if blank && (field.secret || !existing) {
            continue;
        }
        let text = if field.secret { text } else { text.trim() };
        config.insert(field.name.clone(), Value::String(text.to_owned()));
    }
    config
}

/// The classes of operation ticked in the checkboxes named `name` (unknown values are ignored).
pub(crate) fn posted_operations(form: &Posted, name: &str) -> BTreeSet<AccessClass> {
    form.iter()
        .filter(|(key, _)| key == name)
        .filter_map(|(_, value)| match value.as_str() {
            "read" => Some(AccessClass::Read),
            "write" => Some(AccessClass::Write),
            _ => None,
        })
        .collect()
}

/// The policy settings of a posted form, or every problem with them by input name.
pub(crate) fn posted_governance(form: &Posted) -> Result<Governance, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut governance = Governance::default();
    let operations = posted_operations(form, "policy.operations");
    if operations.is_empty() {
        errors.insert(
            "policy.operations".into(),
            "allow at least one class of operation".into(),
        );
    }
    governance.allowed_operations = operations;
    let patterns: Vec<&str> = value(form, "policy.objects")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if !patterns.is_empty() {
        match ObjectRules::only(patterns) {
            Ok(rules) => governance.allowed_objects = rules,
            Err(error) => {
                errors.insert("policy.objects".into(), error.message().to_owned());
            }
        }
    }
    governance.mask_pii = value(form, "policy.mask_pii") != Some("false");
    governance.audit_queries = value(form, "policy.audit_queries") != Some("false");
    match value(form, "policy.cache_ttl_seconds").map(str::trim) {
        None | Some("") => governance.cache_ttl_seconds = 0,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) => governance.cache_ttl_seconds = seconds,
            Err(_) => {
                errors.insert(
                    "policy.cache_ttl_seconds".into(),
                    "must be a whole number of seconds (0 or more)".into(),
                );
            }
        },
    }
    posted_count(
        form,
        "policy.queries_per_minute",
        "must be a whole number above 0, or empty for no limit",
        &mut governance.queries_per_minute,
        &mut errors,
    );
    for (field, slot) in [
        ("policy.max_rows_per_call", &mut governance.max_rows_per_call),
        ("policy.max_bytes_per_call", &mut governance.max_bytes_per_call),
    ] {
        posted_count(
            form,
            field,
            "must be a whole number above 0, or empty for the server's cap",
            slot,
            &mut errors,
        );
    }
    if errors.is_empty() {
        Ok(governance)
    } else {
        Err(errors)
    }
}

/// Reads the whole number above 0 posted as `field` into `slot` (`None` when blank). Anything else is
/// noted in `errors` as `message` and leaves `slot` as it was.
fn posted_count<T: std::str::FromStr + PartialOrd + From<u8>>(
    form: &Posted,
    field: &str,
    message: &str,
    slot: &mut Option<T>,
    errors: &mut FieldErrors,
) {
    match value(form, field).map(str::trim) {
        None | Some("") => *slot = None,
        Some(text) => match text.parse::<T>() {
            Ok(count) if count > T::from(0) => *slot = Some(count),
            _ => {
                errors.insert(field.into(), message.into());
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    /// The form looks its labels and help up by name: a name that is not a setting would render blank.
    #[test]
    fn the_policy_form_shows_every_setting_with_its_label_and_help() {
        let page = policy_fields(&Governance::default(), &FieldErrors::new()).into_string();
        for setting in tributary_registry::governance::SETTINGS {
            let shown = |text: &str| page.contains(&maud::html! { (text) }.into_string());
            assert!(shown(setting.label), "{}: {}", setting.name, setting.label);
            // The operations are checkboxes under their legend, each with its own line.
            if setting.name != "allowed_operations" {
                assert!(shown(setting.help), "{}: {}", setting.name, setting.help);
            }
        }
    }

    #[test]
    fn policy_settings_are_read_and_checked() {
        let governance = posted_governance(&posted(&[
            ("policy.operations", "read"),
            ("policy.operations", "write"),
            ("policy.objects", "public.orders\n\nreports/*\n"),
            ("policy.mask_pii", "false"),
            ("policy.cache_ttl_seconds", "30"),
            ("policy.queries_per_minute", ""),
        ]))
        .unwrap();
        assert_eq!(governance.allowed_operations.len(), 2);
        assert!(governance.allowed_objects.allows("reports/2026.csv"));
        assert!(!governance.allowed_objects.allows("public.payroll"));
        assert!(!governance.mask_pii);
        assert!(governance.audit_queries);
        assert_eq!(governance.cache_ttl_seconds, 30);
        assert_eq!(governance.queries_per_minute, None);

        let errors = posted_governance(&posted(&[
            ("policy.cache_ttl_seconds", "-1"),
            ("policy.queries_per_minute", "0"),
        ]))
        .unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            [
                "policy.cache_ttl_seconds",
                "policy.operations",
                "policy.queries_per_minute"
            ]
        );
    }
}
