//! The kinds of personal and secret data the engine finds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A kind of sensitive value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// An email address.
    Email,
    /// A phone number (North American or international).
    Phone,
    /// A payment card number (Luhn-valid, known brand).
    CreditCard,
    /// A US Social Security number.
    Ssn,
    /// An international bank account number (mod-97 valid, right length for its country).
    Iban,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A MAC address.
    Mac,
    /// A date of birth (by column name, or after "DOB:" / "date of birth").
    DateOfBirth,
    /// A credential: API keys and tokens of known shapes, private key blocks, passwords in connection
    /// strings and `password=` settings.
    Secret,
    /// A postal address (by column name only).
    Address,
    /// A person's name (by column name only).
    PersonName,
    /// A match of one of the policy's extra patterns.
    Custom,
}

impl Entity {
    /// Every entity, in report order; the ones found in text come first, then those found only by column
    /// name or policy.
    pub const ALL: [Entity; 13] = [
        Entity::Email,
        Entity::Phone,
        Entity::CreditCard,
        Entity::Ssn,
        Entity::Iban,
        Entity::Ipv4,
        Entity::Ipv6,
        Entity::Mac,
        Entity::DateOfBirth,
        Entity::Secret,
        Entity::Address,
        Entity::PersonName,
        Entity::Custom,
    ];

    /// The snake_case name used in policies and reports.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Email => "email",
            Entity::Phone => "phone",
            Entity::CreditCard => "credit_card",
            Entity::Ssn => "ssn",
            Entity::Iban => "iban",
            Entity::Ipv4 => "ipv4",
            Entity::Ipv6 => "ipv6",
            Entity::Mac => "mac",
            Entity::DateOfBirth => "date_of_birth",
            Entity::Secret => "secret",
            Entity::Address => "address",
            Entity::PersonName => "person_name",
            Entity::Custom => "custom",
        }
    }

    /// The typed placeholder a redacted value becomes (`<EMAIL>`).
    pub fn placeholder(self) -> &'static str {
        match self {
            Entity::Email => "<EMAIL>",
            Entity::Phone => "<PHONE>",
            Entity::CreditCard => "<CREDIT_CARD>",
            Entity::Ssn => "<SSN>",
            Entity::Iban => "<IBAN>",
            Entity::Ipv4 => "<IPV4>",
            Entity::Ipv6 => "<IPV6>",
            Entity::Mac => "<MAC>",
            Entity::DateOfBirth => "<DATE_OF_BIRTH>",
            Entity::Secret => "<SECRET>",
            Entity::Address => "<ADDRESS>",
            Entity::PersonName => "<PERSON_NAME>",
            Entity::Custom => "<REDACTED>",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
