//! Why a test service could not be had, and what to do about it.

use std::fmt;

/// A test service that could not be started or reached. The message always says how to get the service,
/// because a test that needs one fails with it rather than skipping.
pub struct TestkitError {
    message: String,
}

impl TestkitError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        TestkitError {
            message: message.into(),
        }
    }

    pub(crate) fn io(what: &str, error: std::io::Error) -> Self {
        TestkitError::new(format!("{what}: {error}"))
    }
}

impl fmt::Display for TestkitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// Debug is what `unwrap()` prints in a failing test: keep it the readable message.
impl fmt::Debug for TestkitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TestkitError {}

/// A `Result` whose error is [`TestkitError`].
pub type Result<T, E = TestkitError> = std::result::Result<T, E>;
