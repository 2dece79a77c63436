//! SOQL: building queries safely, and finding which objects a query reads.
//!
//! Building: [`escape_value`] escapes a string literal by the SOQL rules (backslash, quote, and the control
//! characters), [`check_identifier`] accepts only what can be an object or field name, and [`Soql`]
//! assembles a `SELECT` from checked names and escaped values, so nothing from a caller is concatenated raw.
//! The connector checks the names against describe as well.
//!
//! Reading: [`referenced_objects`] tokenizes a query (string literals are skipped as a whole, so a quoted
//! `FROM` cannot confuse it) and reports the `FROM` of the main query and of every `WHERE ... IN (SELECT
//! ... FROM X)` semi-join as objects, and the `FROM` of each subquery in the field list as a child
//! relationship of the main object, which the connector resolves through describe.

use serde_json::Value;
use tributary_core::{Error, Result};

/// Objects and child relationships a query reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryObjects {
    /// Object names in `FROM` clauses of the main query and of semi-joins.
    pub objects: Vec<String>,
    /// Child relationship names in `FROM` clauses of subqueries in the field list (`Contacts`).
    pub relationships: Vec<String>,
    /// Parent relationship paths used by the main query (`Owner.Name`, `Account.Owner.Email`), with any
    /// alias of the main object removed.
    pub parent_paths: Vec<String>,
}

/// Words that may follow `FROM Object` and are not an alias.
const CLAUSES: &[&str] = &[
    "WHERE", "WITH", "GROUP", "ORDER", "LIMIT", "OFFSET", "FOR", "UPDATE", "USING",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
    Other,
}

fn tokenize(soql: &str) -> Result<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = soql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '\'' => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                if !closed {
                    return Err(Error::invalid_input(
                        "the SOQL has an unterminated string literal",
                    ));
                }
                tokens.push(Token::Other);
            }
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_alphanumeric() || next == '_' || next == '.' {
                        word.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Word(word));
            }
            c if c.is_whitespace() => {}
            _ => tokens.push(Token::Other),
        }
    }
    Ok(tokens)
}

/// The objects and child relationships `soql` reads. Fails on text that is not a `SELECT ... FROM`.
pub fn referenced_objects(soql: &str) -> Result<QueryObjects> {
    let tokens = tokenize(soql)?;
    if !matches!(tokens.first(), Some(Token::Word(word)) if word.eq_ignore_ascii_case("SELECT")) {
        return Err(Error::invalid_input("a SOQL query starts with SELECT")
            .with_hint("write SELECT fields FROM Object [WHERE ...] [LIMIT n]"));
    }
    let mut found = QueryObjects::default();
    // One frame per open subquery: whether its FROM has been seen, and whether it sits in the field list
    // of its parent (a child relationship) rather than after its parent's FROM (a semi-join on an object).
    let mut frames: Vec<(bool, bool)> = vec![(false, false)];
    let mut depth_stack: Vec<bool> = Vec::new();
    let mut alias: Option<String> = None;
    let mut paths: Vec<String> = Vec::new();
    let mut iter = tokens.iter().peekable();
    while let Some(token) = iter.next() {
        match token {
            Token::Open => {
                let is_subquery =
                    matches!(iter.peek(), Some(Token::Word(word)) if word.eq_ignore_ascii_case("SELECT"));
                depth_stack.push(is_subquery);
                if is_subquery {
                    let parent_seen_from = frames.last().is_some_and(|frame| frame.0);
                    frames.push((false, !parent_seen_from));
                }
            }
            Token::Close => {
                let closes_subquery = depth_stack.pop() == Some(true);
                if closes_subquery {
                    frames.pop();
                }
            }
            Token::Word(word) if word.eq_ignore_ascii_case("FROM") => {
                let Some(Token::Word(name)) = iter.next() else {
                    return Err(Error::invalid_input("FROM must be followed by an object name"));
                };
                let Some(frame) = frames.last_mut() else {
                    return Err(Error::invalid_input("the SOQL's parentheses do not balance"));
                };
                if frame.0 {
                    continue;
                }
                frame.0 = true;
                check_identifier(name.split('.').next_back().unwrap_or(name), "object")?;
                if frame.1 {
                    found.relationships.push(name.clone());
                } else {
                    found.objects.push(name.clone());
                }
                if let (1, Some(Token::Word(next))) = (frames.len(), iter.peek())
                    && !CLAUSES.iter().any(|clause| next.eq_ignore_ascii_case(clause))
                {
                    alias = Some(next.clone());
                }
            }
            Token::Word(word)
                if frames.len() == 1
                    && word.contains('.')
                    && word.starts_with(|c: char| c.is_alphabetic()) =>
            {
                paths.push(word.clone());
            }
            _ => {}
        }
    }
    if !depth_stack.is_empty() {
        return Err(Error::invalid_input("the SOQL's parentheses do not balance"));
    }
    if found.objects.is_empty() {
        return Err(Error::invalid_input("the SOQL has no FROM clause"));
    }
    for path in paths {
        let path = match &alias {
            Some(alias) => match path.split_once('.') {
                Some((head, rest)) if head.eq_ignore_ascii_case(alias) => rest.to_owned(),
                _ => path,
            },
            None => path,
        };
        if path.contains('.') && !found.parent_paths.contains(&path) {
            found.parent_paths.push(path);
        }
    }
    Ok(found)
}

/// Accepts an object or field name: letters, digits and underscores, starting with a letter, optionally
/// with one namespace prefix and a `__c`-style suffix (`ns__Field__c`), at most 255 characters.
pub fn check_identifier(name: &str, what: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.contains("___");
    if valid {
        Ok(())
    } else {
        Err(
            Error::invalid_input(format!("`{name}` is not a valid {what} name"))
                .with_hint("names are letters, digits and underscores, as describe_object lists them"),
        )
    }
}

/// Escapes text for a SOQL string literal (without the surrounding quotes).
pub fn escape_value(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\'' => escaped.push_str("\\'"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            '\u{8}' => escaped.push_str("\\b"),
            '\u{c}' => escaped.push_str("\\f"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A JSON value as a SOQL literal: strings quoted and escaped, numbers and booleans as they are, null as
/// `null`. Arrays and objects are refused.
pub fn literal(value: &Value) -> Result<String> {
    match value {
        Value::String(text) => Ok(format!("'{}'", escape_value(text))),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Ok("null".to_owned()),
        _ => Err(Error::invalid_input(
            "SOQL values are strings, numbers, booleans or null",
        )),
    }
}

/// A `SELECT` built from checked names and escaped values.
#[derive(Debug, Clone)]
pub struct Soql {
    fields: Vec<String>,
    object: String,
    conditions: Vec<String>,
    order_by: Option<(String, bool)>,
    limit: Option<u64>,
}

impl Soql {
    /// `SELECT fields FROM object`.
    pub fn select<S: AsRef<str>>(fields: &[S], object: &str) -> Result<Soql> {
        check_identifier(object, "object")?;
        if fields.is_empty() {
            return Err(Error::invalid_input("select at least one field"));
        }
        let fields = fields
            .iter()
            .map(|field| {
                let field = field.as_ref();
                field
                    .split('.')
                    .try_for_each(|part| check_identifier(part, "field"))?;
                Ok(field.to_owned())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Soql {
            fields,
            object: object.to_owned(),
            conditions: Vec::new(),
            order_by: None,
            limit: None,
        })
    }

    /// Adds `AND field = value`.
    pub fn where_eq(mut self, field: &str, value: &Value) -> Result<Soql> {
        check_identifier(field, "field")?;
        self.conditions.push(format!("{field} = {}", literal(value)?));
        Ok(self)
    }

    /// Adds `ORDER BY field ASC|DESC`.
    pub fn order_by(mut self, field: &str, ascending: bool) -> Result<Soql> {
        check_identifier(field, "field")?;
        self.order_by = Some((field.to_owned(), ascending));
        Ok(self)
    }

    /// Adds `LIMIT n`.
    #[must_use]
    pub fn limit(mut self, limit: u64) -> Soql {
        self.limit = Some(limit);
        self
    }

    /// The query text.
    pub fn build(&self) -> String {
        let mut text = format!("SELECT {} FROM {}", self.fields.join(", "), self.object);
        if !self.conditions.is_empty() {
            text.push_str(" WHERE ");
            text.push_str(&self.conditions.join(" AND "));
        }
        if let Some((field, ascending)) = &self.order_by {
            text.push_str(&format!(
                " ORDER BY {field} {}",
                if *ascending { "ASC" } else { "DESC" }
            ));
        }
        if let Some(limit) = self.limit {
            text.push_str(&format!(" LIMIT {limit}"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn from_clauses_are_found_at_every_level() {
        let found = referenced_objects(
            "SELECT Id, Name, (SELECT LastName FROM Contacts), Owner.Name FROM Account \
             WHERE Id IN (SELECT AccountId FROM Opportunity WHERE StageName = 'Closed Won') AND Name != 'FROM Lead'",
        )
        .unwrap();
        assert_eq!(found.objects, ["Account", "Opportunity"]);
        assert_eq!(found.relationships, ["Contacts"]);
        assert_eq!(found.parent_paths, ["Owner.Name"]);
        let aliased =
            referenced_objects("SELECT a.Name, a.Owner.Email FROM Account a WHERE a.Industry = 'x'").unwrap();
        assert_eq!(aliased.parent_paths, ["Owner.Email"]);
        assert_eq!(
            referenced_objects("select id from contact").unwrap().objects,
            ["contact"]
        );
        let open = referenced_objects("select id from contact where name = 'unterminated").unwrap_err();
        assert_eq!(open.kind(), tributary_core::ErrorKind::InvalidInput);
    }

    #[test]
    fn non_queries_are_refused() {
        for soql in [
            "DELETE FROM Account",
            "SELECT Id",
            "SELECT Id FROM",
            "SELECT Id FROM Account WHERE (Name = 'x'",
            "SELECT Id FROM 'Account'",
        ] {
            assert!(referenced_objects(soql).is_err(), "{soql}");
        }
    }

    #[test]
    fn values_are_escaped_and_names_checked() {
        assert_eq!(escape_value(r"O'Brien \ co"), r"O\'Brien \\ co");
        let query = Soql::select(&["Id", "Name"], "Account")
            .unwrap()
            .where_eq("Name", &json!("x' OR Name != 'y"))
            .unwrap()
            .limit(5)
            .build();
        assert_eq!(
            query,
            r"SELECT Id, Name FROM Account WHERE Name = 'x\' OR Name != \'y' LIMIT 5"
        );
        assert!(Soql::select(&["Id"], "Account WHERE 1=1").is_err());
        assert!(Soql::select(&["Id, (SELECT Id FROM Users)"], "Account").is_err());
        assert!(
            Soql::select(&["Id"], "Account")
                .unwrap()
                .where_eq("Name = 'x' OR Id", &json!(1))
                .is_err()
        );
        assert!(check_identifier("ns__Field__c", "field").is_ok());
        assert!(check_identifier("1abc", "field").is_err());
    }
}
