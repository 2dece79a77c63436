//! Tributary's PII masking engine, applied by the registry to everything a connector returns when a
//! connector has `mask_pii` on.
//!
//! Detection is pattern plus validation: a card number must pass Luhn and carry a real brand prefix, an
//! SSN must follow the assignment rules, an IBAN must pass mod-97 at its country's length, an address
//! must parse. All patterns run as one multi-pattern automaton, so text is scanned once. Column and field
//! names (`email`, `MobilePhone`, `ssn`, `dob`, `first_name`...) and Salesforce's `email`/`phone` types
//! mask a value whole, whatever it looks like.
//!
//! - [`entity`]: what is found.
//! - [`policy`]: which detectors run, each entity's strategy (redact, partial, keyed hash), extra
//!   patterns, columns always or never masked.
//! - `detectors`: the built-in patterns and their checks; [`validate`]: Luhn, SSN rules, IBAN, IP, phone.
//! - [`hints`]: names and types that say what a column holds.
//! - `strategy`: the replacements.
//! - [`Masker`]: detection and masking of text, JSON, connector outputs and errors, with a
//!   [`MaskReport`] of counts per entity.
//! - [`corpus`]: a seeded, labelled generator of text with PII and near-misses, for accuracy tests and
//!   benchmarks.
//!
//! ```
//! use tributary_mask::{MaskPolicy, Masker};
//!
//! let masker = Masker::new(MaskPolicy::default())?;
//! let (masked, report) = masker.mask_text("Card 4111 1111 1111 1111, order 1234567812345678, ada@example.com");
//! assert_eq!(masked, "Card <CREDIT_CARD>, order 1234567812345678, <EMAIL>");
//! assert_eq!(report.total(), 2);
//! # Ok::<(), tributary_core::Error>(())
//! ```

pub mod corpus;
mod detectors;
mod engine;
pub mod entity;
pub mod hints;
pub mod policy;
mod strategy;
pub mod validate;

pub use engine::{FieldTypes, Finding, MaskReport, Masker};
pub use entity::Entity;
pub use policy::{CustomPattern, MaskPolicy, Strategy};
