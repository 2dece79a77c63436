//! One error type for every connector, so that hosts, agents and the console can react to failures by kind
//! without knowing which data source produced them.
//!
//! An [`Error`] carries a [`ErrorKind`], a message written for the person or agent who made the call, an
//! optional hint saying what to do next, and whether retrying the same call may succeed. Messages must never
//! contain secrets: connectors build them from what they know is safe, and [`Error::redact`] is a last line of
//! defence that scrubs known secret values before an error leaves a host.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A `Result` whose error is Tributary's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
///
/// The kind decides how a host reacts: an agent can fix [`ErrorKind::InvalidInput`] itself, an administrator
/// must fix [`ErrorKind::InvalidConfig`] or [`ErrorKind::Authentication`], and only some kinds are worth a
/// retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connector's configuration is incomplete or malformed; per-field details are in [`Error::fields`].
    InvalidConfig,
    /// The data source rejected the credentials.
    Authentication,
    /// A policy, a grant or the data source itself refused the access.
    PermissionDenied,
    /// The data source could not be reached (refused connection, DNS failure, dropped connection).
    Unreachable,
    /// The data source did not answer within the configured time.
    Timeout,
    /// The object, record or key does not exist.
    NotFound,
    /// The operation's parameters are invalid (bad SQL, unknown column, malformed value).
    InvalidInput,
    /// A rate limit, either Tributary's or the data source's, was reached.
    RateLimited,
    /// The connector or the data source does not support what was asked.
    Unsupported,
    /// The call conflicts with the data source's current state (duplicate key, concurrent change).
    Conflict,
    /// A bug or an unexpected answer; report it.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order; useful for documentation and exhaustive tests.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::InvalidConfig,
        ErrorKind::Authentication,
        ErrorKind::PermissionDenied,
        ErrorKind::Unreachable,
        ErrorKind::Timeout,
        ErrorKind::NotFound,
        ErrorKind::InvalidInput,
        ErrorKind::RateLimited,
        ErrorKind::Unsupported,
        ErrorKind::Conflict,
        ErrorKind::Internal,
    ];

    /// The stable snake_case code used in JSON and logs.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::Authentication => "authentication",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::NotFound => "not_found",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether a failure of this kind is transient by default.
    ///
    /// Rate limits are deliberately not retryable by default: retrying blindly burns the quota that caused
    /// them. A connector that knows better (say, a 503 from a SaaS API) sets [`Error::with_retryable`].
    pub fn retryable_by_default(self) -> bool {
        matches!(self, ErrorKind::Unreachable | ErrorKind::Timeout)
    }

    /// What a caller should usually do about this kind of failure; used when a connector gives no hint.
    pub fn default_hint(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "fix the fields listed and save the connector again",
            ErrorKind::Authentication => "check the user name and secret configured for this connector",
            ErrorKind::PermissionDenied => "ask an administrator to grant this access, or ask for less",
            ErrorKind::Unreachable => "check the host, port and network path to the data source",
            ErrorKind::Timeout => "try again later, ask for less data, or raise the configured timeout",
            ErrorKind::NotFound => "list or describe the available objects and use an existing name",
            ErrorKind::InvalidInput => "correct the parameters as the message says and call again",
            ErrorKind::RateLimited => "wait before calling again",
            ErrorKind::Unsupported => "use one of the operations this connector lists",
            ErrorKind::Conflict => "read the current state and retry with values that do not conflict",
            ErrorKind::Internal => "report this error to the Tributary maintainers",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A problem with one field of a configuration or of an operation's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FieldError {
    /// The field's name, or a JSON-pointer-like path for nested values (`rows/2/email`).
    pub field: String,
    /// What is wrong with it. Never contains the value of a secret field.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The error of every Tributary operation.
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    retryable: bool,
    fields: Vec<FieldError>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` with a message for the caller; retryability follows the kind's default.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            retryable: kind.retryable_by_default(),
            fields: Vec::new(),
            source: None,
        }
    }

    /// A configuration that failed validation, with one entry per bad field.
    pub fn invalid_config(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [] => "the configuration is invalid".to_owned(),
            [one] => format!("invalid configuration: {}: {}", one.field, one.message),
            many => format!("invalid configuration: {} fields have problems", many.len()),
        };
        Error::new(ErrorKind::InvalidConfig, message).with_fields(fields)
    }

    /// Parameters an agent or user got wrong.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// Access refused by a policy or by the data source.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::PermissionDenied, message)
    }

    /// Something that does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    /// Something this connector or data source cannot do.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported, message)
    }

    /// A bug or an unexpected answer.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// Adds advice on what to do next.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Overrides whether retrying the same call may succeed.
    #[must_use]
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Attaches per-field problems.
    #[must_use]
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.fields = fields;
        self
    }

    /// Attaches the underlying error for logs and `source()` chains.
    ///
    /// Only attach a source whose text is known to carry no secret (driver errors do not echo passwords;
    /// connection strings do). [`Error::redact`] drops a source whose text contains a known secret.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message for the caller.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The connector's advice, or the kind's default advice.
    pub fn hint(&self) -> &str {
        self.hint.as_deref().unwrap_or_else(|| self.kind.default_hint())
    }

    /// Whether the same call may succeed if tried again.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Per-field problems of an invalid configuration or invalid parameters.
    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    /// Replaces every occurrence of the given secret values in the message, hint and field errors, and drops
    /// the source if its text contains one.
    ///
    /// Hosts call this with the secrets of the connector that produced the error, as defence in depth: a
    /// driver message that echoes a DSN, for instance, still never reaches a log or an agent.
    #[must_use]
    pub fn redact<S: AsRef<str>>(mut self, secrets: &[S]) -> Self {
        let secrets: Vec<&str> = secrets
            .iter()
            .map(AsRef::as_ref)
            .filter(|s| !s.is_empty())
            .collect();
        if secrets.is_empty() {
            return self;
        }
        let scrub = |text: &mut String| {
            for secret in &secrets {
                if text.contains(secret) {
                    *text = text.replace(secret, crate::secret::REDACTED);
                }
            }
        };
        scrub(&mut self.message);
        if let Some(hint) = self.hint.as_mut() {
            scrub(hint);
        }
        for field in &mut self.fields {
            scrub(&mut field.message);
        }
        if let Some(source) = &self.source {
            let text = source_chain_text(source.as_ref());
            if secrets.iter().any(|secret| text.contains(secret)) {
                self.source = None;
            }
        }
        self
    }

    /// Rewrites the message, hint and field messages with `rewrite`, and drops the source, whose text the
    /// rewrite cannot reach. Masking engines use it for errors that echo data (a duplicate key's value).
    #[must_use]
    pub fn map_text(mut self, mut rewrite: impl FnMut(&str) -> String) -> Self {
        self.message = rewrite(&self.message);
        if let Some(hint) = self.hint.as_mut() {
            *hint = rewrite(hint);
        }
        for field in &mut self.fields {
            field.message = rewrite(&field.message);
        }
        self.source = None;
        self
    }

    /// The first Tributary error in `error`'s chain of sources (`error` itself included), as a new error
    /// without a source. Drivers that call back into Tributary (a resolver, a connector that checks the
    /// host policy) wrap the error it returned; this finds it again, kind and fields intact.
    pub fn find_in(error: &(dyn std::error::Error + 'static)) -> Option<Error> {
        let mut next = Some(error);
        while let Some(current) = next {
            if let Some(found) = current.downcast_ref::<Error>() {
                return Some(Error::from(found.report()));
            }
            if let Some(io) = current.downcast_ref::<std::io::Error>()
                && let Some(inner) = io.get_ref()
                && let Some(found) = inner.downcast_ref::<Error>()
            {
                return Some(Error::from(found.report()));
            }
            next = current.source();
        }
        None
    }

    /// The serializable view of this error, as APIs and agents see it.
    pub fn report(&self) -> ErrorReport {
        ErrorReport {
            kind: self.kind,
            message: self.message.clone(),
            hint: self.hint().to_owned(),
            retryable: self.retryable,
            fields: self.fields.clone(),
        }
    }
}

fn source_chain_text(source: &(dyn std::error::Error + 'static)) -> String {
    let mut text = source.to_string();
    let mut next = source.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("hint", &self.hint())
            .field("retryable", &self.retryable);
        if !self.fields.is_empty() {
            debug.field("fields", &self.fields);
        }
        if let Some(source) = &self.source {
            debug.field("source", &source_chain_text(source.as_ref()));
        }
        debug.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.report().serialize(serializer)
    }
}

/// An error as it travels over an API: everything but the source chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorReport {
    /// The kind, as a stable snake_case code.
    #[schemars(with = "String")]
    pub kind: ErrorKind,
    /// What failed.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// Whether the same call may succeed if tried again.
    pub retryable: bool,
    /// Per-field problems, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl From<ErrorReport> for Error {
    fn from(report: ErrorReport) -> Self {
        Error {
            kind: report.kind,
            message: report.message,
            hint: Some(report.hint),
            retryable: report.retryable,
            fields: report.fields,
            source: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Driver(&'static str);
    impl fmt::Display for Driver {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Driver {}

    #[test]
    fn retryable_follows_kind_unless_overridden() {
        assert!(Error::new(ErrorKind::Timeout, "slow").is_retryable());
        assert!(Error::new(ErrorKind::Unreachable, "down").is_retryable());
        assert!(!Error::new(ErrorKind::RateLimited, "quota").is_retryable());
        assert!(!Error::invalid_input("bad").is_retryable());
        assert!(Error::internal("503").with_retryable(true).is_retryable());
    }

    #[test]
    fn every_kind_has_a_distinct_code_and_a_hint() {
        let codes: std::collections::BTreeSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            assert!(!kind.default_hint().is_empty());
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::Value::String(kind.code().to_owned()));
        }
    }

    #[test]
    fn display_names_kind_and_message() {
        let error = Error::not_found("table public.nope does not exist");
        assert_eq!(error.to_string(), "not_found: table public.nope does not exist");
        assert_eq!(error.hint(), ErrorKind::NotFound.default_hint());
    }

    #[test]
    fn invalid_config_summarises_fields() {
        let one = Error::invalid_config(vec![FieldError::new("port", "must be at most 65535")]);
        assert_eq!(
            one.message(),
            "invalid configuration: port: must be at most 65535"
        );
        let two = Error::invalid_config(vec![FieldError::new("a", "x"), FieldError::new("b", "y")]);
        assert_eq!(two.message(), "invalid configuration: 2 fields have problems");
        assert_eq!(two.fields().len(), 2);
    }

    #[test]
    fn redact_scrubs_message_hint_fields_and_drops_leaky_source() {
        let error = Error::new(ErrorKind::Authentication, "login as bob with hunter2 failed")
            .with_hint("hunter2 is wrong")
            .with_fields(vec![FieldError::new("password", "hunter2 too short")])
            .with_source(Driver("dsn postgres://bob:hunter2@db"))
            .redact(&["hunter2"]);
        let all = format!("{error} {error:?} {}", serde_json::to_string(&error).unwrap());
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("[REDACTED]"));
        assert!(std::error::Error::source(&error).is_none());
    }

    #[test]
    fn redact_keeps_clean_source_and_ignores_empty_secrets() {
        let error = Error::new(ErrorKind::Unreachable, "connection refused")
            .with_source(Driver("os error 111"))
            .redact(&["", "s3cr3t"]);
        assert_eq!(error.message(), "connection refused");
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn report_round_trips_through_json() {
        let error = Error::invalid_input("bad sql").with_hint("write one SELECT");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["kind"], "invalid_input");
        assert_eq!(json["hint"], "write one SELECT");
        assert!(json.get("fields").is_none());
        let back: ErrorReport = serde_json::from_value(json).unwrap();
        let error = Error::from(back);
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert_eq!(error.hint(), "write one SELECT");
    }
}
