//! A small SOQL evaluator, enough for the connector's tests.
//!
//! It understands `SELECT` of fields, parent fields (`Owner.Name`) and child subqueries
//! (`(SELECT LastName FROM Contacts)`), `FROM` one object, `WHERE` with `=`, `!=` and `IN (...)` joined by
//! `AND`, `ORDER BY` one field `ASC`/`DESC`, and `LIMIT`. String literals follow the SOQL escapes (`\'`,
//! `\\`, `\n`...). It does not do `OR`, `NOT`, `LIKE`, comparisons other than equality, semi-joins,
//! aggregates, date literals, `OFFSET`, `TYPEOF` or `FOR` clauses: those answer `MALFORMED_QUERY`, so a
//! test that needs them fails loudly instead of passing on a wrong answer.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::org::{ObjectDef, Records, error};

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(f64),
    Comma,
    Open,
    Close,
    Equal,
    NotEqual,
}

fn tokenize(soql: &str) -> Result<Vec<Token>, Value> {
    let mut tokens = Vec::new();
    let mut chars = soql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            ',' => tokens.push(Token::Comma),
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '=' => tokens.push(Token::Equal),
            '!' if chars.peek() == Some(&'=') => {
                chars.next();
                tokens.push(Token::NotEqual);
            }
            '\'' => {
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => match chars.next() {
                            Some('n') => text.push('\n'),
                            Some('r') => text.push('\r'),
                            Some('t') => text.push('\t'),
                            Some('b') => text.push('\u{8}'),
                            Some('f') => text.push('\u{c}'),
                            Some(c @ ('\'' | '"' | '\\')) => text.push(c),
                            _ => return Err(malformed("invalid escape sequence")),
                        },
                        Some('\'') => break,
                        Some(c) => text.push(c),
                        None => return Err(malformed("unterminated string")),
                    }
                }
                tokens.push(Token::Text(text));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut number = String::from(c);
                while let Some(&next) = chars.peek().filter(|c| c.is_ascii_digit() || **c == '.') {
                    number.push(next);
                    chars.next();
                }
                tokens.push(Token::Number(number.parse().map_err(|_| malformed(&number))?));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&next) = chars
                    .peek()
                    .filter(|c| c.is_alphanumeric() || **c == '_' || **c == '.')
                {
                    word.push(next);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
            other => return Err(malformed(&other.to_string())),
        }
    }
    Ok(tokens)
}

fn malformed(near: &str) -> Value {
    error("MALFORMED_QUERY", &format!("unexpected token: {near}"), &[])
}

#[derive(Debug, Clone)]
enum Item {
    Field(String),
    Subquery(Query),
}

#[derive(Debug, Clone)]
struct Condition {
    field: String,
    negated: bool,
    values: Vec<Value>,
}

#[derive(Debug, Clone)]
struct Query {
    items: Vec<Item>,
    from: String,
    conditions: Vec<Condition>,
    order: Option<(String, bool)>,
    limit: Option<usize>,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), Value> {
        if self.keyword(word) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn unexpected(&self) -> Value {
        match self.peek() {
            Some(Token::Word(word)) => malformed(word),
            Some(other) => malformed(&format!("{other:?}")),
            None => malformed("<end of query>"),
        }
    }

    fn name(&mut self) -> Result<String, Value> {
        match self.next() {
            Some(Token::Word(word)) => Ok(word),
            _ => {
                self.at -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn literal(&mut self) -> Result<Value, Value> {
        match self.next() {
            Some(Token::Text(text)) => Ok(Value::String(text)),
            Some(Token::Number(number)) => Ok(json!(number)),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("true") => Ok(json!(true)),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("false") => Ok(json!(false)),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("null") => Ok(Value::Null),
            _ => {
                self.at -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn query(&mut self) -> Result<Query, Value> {
        self.expect_keyword("SELECT")?;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(&Token::Open) {
                self.next();
                items.push(Item::Subquery(self.query()?));
                if self.next() != Some(Token::Close) {
                    return Err(malformed("missing )"));
                }
            } else {
                items.push(Item::Field(self.name()?));
            }
            if self.peek() == Some(&Token::Comma) {
                self.next();
            } else {
                break;
            }
        }
        self.expect_keyword("FROM")?;
        let from = self.name()?;
        let mut conditions = Vec::new();
        if self.keyword("WHERE") {
            loop {
                let field = self.name()?;
                let condition = match self.next() {
                    Some(Token::Equal) => Condition {
                        field,
                        negated: false,
                        values: vec![self.literal()?],
                    },
                    Some(Token::NotEqual) => Condition {
                        field,
                        negated: true,
                        values: vec![self.literal()?],
                    },
                    Some(Token::Word(word)) if word.eq_ignore_ascii_case("IN") => {
                        if self.next() != Some(Token::Open) {
                            return Err(malformed("IN needs a list"));
                        }
                        let mut values = vec![self.literal()?];
                        while self.peek() == Some(&Token::Comma) {
                            self.next();
                            values.push(self.literal()?);
                        }
                        if self.next() != Some(Token::Close) {
                            return Err(malformed("missing )"));
                        }
                        Condition {
                            field,
                            negated: false,
                            values,
                        }
                    }
                    _ => {
                        self.at -= 1;
                        return Err(self.unexpected());
                    }
                };
                conditions.push(condition);
                if !self.keyword("AND") {
                    break;
                }
            }
        }
        let mut order = None;
        if self.keyword("ORDER") {
            self.expect_keyword("BY")?;
            let field = self.name()?;
            let ascending = !self.keyword("DESC");
            if ascending {
                self.keyword("ASC");
            }
            order = Some((field, ascending));
        }
        let mut limit = None;
        if self.keyword("LIMIT") {
            match self.next() {
                Some(Token::Number(n)) if n >= 0.0 => limit = Some(n as usize),
                _ => return Err(malformed("LIMIT needs a number")),
            }
        }
        Ok(Query {
            items,
            from,
            conditions,
            order,
            limit,
        })
    }
}

/// Evaluates `soql` over `records`, returning the matching records in Salesforce's JSON shape.
pub(crate) fn evaluate(
    soql: &str,
    schema: &[ObjectDef],
    records: &Records,
    version: &str,
) -> Result<Vec<Value>, Value> {
    let mut parser = Parser {
        tokens: tokenize(soql)?,
        at: 0,
    };
    let query = parser.query()?;
    if parser.peek().is_some() {
        return Err(parser.unexpected());
    }
    let object = find_object(schema, &query.from)?;
    check(&query, object, schema)?;
    run(&query, object, schema, records.all(object.name), records, version)
}

/// Checks every name in the query before any record is read, as Salesforce does: a wrong field fails
/// even when no record matches.
fn check(query: &Query, object: &ObjectDef, schema: &[ObjectDef]) -> Result<(), Value> {
    for item in &query.items {
        match item {
            Item::Field(name) => match name.split_once('.') {
                None => {
                    field_name(object, name)?;
                }
                Some((relationship, parent_field)) => {
                    let target =
                        parent_of(object, schema, relationship).ok_or_else(|| no_column(name, object))?;
                    field_name(target, parent_field)?;
                }
            },
            Item::Subquery(sub) => {
                let (_, child, _) = child_of(object, &sub.from)?;
                check(sub, find_object(schema, child)?, schema)?;
            }
        }
    }
    for condition in &query.conditions {
        field_name(object, &condition.field)?;
    }
    if let Some((field, _)) = &query.order {
        field_name(object, field)?;
    }
    Ok(())
}

/// The object a parent relationship (`Owner`, `Account`) of `object` points to.
fn parent_of<'a>(object: &ObjectDef, schema: &'a [ObjectDef], relationship: &str) -> Option<&'a ObjectDef> {
    let reference = object.fields.iter().find(|field| {
        field.kind == "reference"
            && field
                .name
                .trim_end_matches("Id")
                .eq_ignore_ascii_case(relationship)
    })?;
    schema
        .iter()
        .find(|candidate| Some(&candidate.name) == reference.reference_to.first())
}

/// A child relationship of `object`: (relationship name, child object, field on the child).
fn child_of<'a>(
    object: &'a ObjectDef,
    relationship: &str,
) -> Result<&'a (&'static str, &'static str, &'static str), Value> {
    object
        .children
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(relationship))
        .ok_or_else(|| {
            error(
                "INVALID_TYPE",
                &format!("Didn't understand relationship '{relationship}' in FROM part of query call."),
                &[],
            )
        })
}

fn find_object<'a>(schema: &'a [ObjectDef], name: &str) -> Result<&'a ObjectDef, Value> {
    schema.iter().find(|object| object.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
        error(
            "INVALID_TYPE",
            &format!("sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name."),
            &[],
        )
    })
}

fn no_column(name: &str, object: &ObjectDef) -> Value {
    error(
        "INVALID_FIELD",
        &format!(
            "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.",
            object.name
        ),
        &[],
    )
}

fn field_name<'a>(object: &'a ObjectDef, name: &str) -> Result<&'a str, Value> {
    object
        .field(name)
        .map(|field| field.name)
        .ok_or_else(|| no_column(name, object))
}

fn run(
    query: &Query,
    object: &ObjectDef,
    schema: &[ObjectDef],
    candidates: &[Map<String, Value>],
    records: &Records,
    version: &str,
) -> Result<Vec<Value>, Value> {
    let mut conditions = Vec::new();
    for condition in &query.conditions {
        conditions.push((field_name(object, &condition.field)?, condition));
    }
    let mut rows: Vec<&Map<String, Value>> = candidates
        .iter()
        .filter(|record| {
            conditions.iter().all(|(field, condition)| {
                let value = record.get(*field).unwrap_or(&Value::Null);
                condition.values.iter().any(|wanted| same(value, wanted)) != condition.negated
            })
        })
        .collect();
    if let Some((field, ascending)) = &query.order {
        let field = field_name(object, field)?;
        rows.sort_by(|a, b| {
            let ordering = compare(
                a.get(field).unwrap_or(&Value::Null),
                b.get(field).unwrap_or(&Value::Null),
            );
            if *ascending { ordering } else { ordering.reverse() }
        });
    }
    if let Some(limit) = query.limit {
        rows.truncate(limit);
    }
    rows.into_iter()
        .map(|record| project(query, object, schema, record, records, version))
        .collect()
}

fn project(
    query: &Query,
    object: &ObjectDef,
    schema: &[ObjectDef],
    record: &Map<String, Value>,
    records: &Records,
    version: &str,
) -> Result<Value, Value> {
    let id = record.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert("attributes".into(), attributes(object.name, id, version));
    for item in &query.items {
        match item {
            Item::Field(name) => match name.split_once('.') {
                None => {
                    let field = field_name(object, name)?;
                    out.insert(
                        field.to_owned(),
                        record.get(field).cloned().unwrap_or(Value::Null),
                    );
                }
                Some((relationship, parent_field)) => {
                    let target =
                        parent_of(object, schema, relationship).ok_or_else(|| no_column(name, object))?;
                    let parent_field = field_name(target, parent_field)?;
                    let reference = object
                        .fields
                        .iter()
                        .find(|field| {
                            field.kind == "reference"
                                && field
                                    .name
                                    .trim_end_matches("Id")
                                    .eq_ignore_ascii_case(relationship)
                        })
                        .ok_or_else(|| no_column(name, object))?;
                    let relationship_name = reference.name.trim_end_matches("Id").to_owned();
                    let parent = record
                        .get(reference.name)
                        .and_then(Value::as_str)
                        .and_then(|parent_id| records.find(parent_id))
                        .map(|(_, parent)| parent);
                    let entry = out.entry(relationship_name).or_insert(Value::Null);
                    if let Some(parent) = parent {
                        if entry.is_null() {
                            let parent_id = parent.get("Id").and_then(Value::as_str).unwrap_or_default();
                            *entry = json!({ "attributes": attributes(target.name, parent_id, version) });
                        }
                        if let Some(entry) = entry.as_object_mut() {
                            entry.insert(
                                parent_field.to_owned(),
                                parent.get(parent_field).cloned().unwrap_or(Value::Null),
                            );
                        }
                    }
                }
            },
            Item::Subquery(sub) => {
                let (relationship, child, link) = child_of(object, &sub.from)?;
                let child_object = find_object(schema, child)?;
                let children: Vec<Map<String, Value>> = records
                    .all(child_object.name)
                    .iter()
                    .filter(|candidate| candidate.get(*link).and_then(Value::as_str) == Some(id))
                    .cloned()
                    .collect();
                let rows = run(sub, child_object, schema, &children, records, version)?;
                let value = if rows.is_empty() {
                    Value::Null
                } else {
                    json!({ "totalSize": rows.len(), "done": true, "records": rows })
                };
                out.insert((*relationship).to_owned(), value);
            }
        }
    }
    Ok(Value::Object(out))
}

/// A record's `attributes` entry.
pub(crate) fn attributes(object: &str, id: &str, version: &str) -> Value {
    json!({ "type": object, "url": format!("/services/data/v{version}/sobjects/{object}/{id}") })
}

fn same(value: &Value, wanted: &Value) -> bool {
    match (value, wanted) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => value == wanted,
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(a), Value::Number(b)) => {
            a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(Ordering::Equal)
        }
        (Value::String(a), Value::String(b)) => a.cmp(b),
        _ => a.to_string().cmp(&b.to_string()),
    }
}
