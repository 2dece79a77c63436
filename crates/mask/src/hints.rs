//! Column and field names that say what they hold, in the usual spellings (`email`, `EmailAddress`,
//! `e_mail`, `MobilePhone`, `ssn`, `dob`, `BirthDate`, `MailingStreet`, `first_name`...), and source types
//! that do (Salesforce's `email` and `phone`).

use crate::entity::Entity;

/// The words of a name: `MailingStreet`, `mailing_street` and `mailing-street` all give
/// `["mailing", "street"]`.
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The entity a column or field name implies, if any.
pub fn entity_for_name(name: &str) -> Option<Entity> {
    let words = words(name);
    let has = |word: &str| words.iter().any(|w| w == word);
    let joined = words.join("_");
    let either = |candidates: &[&str]| {
        candidates
            .iter()
            .any(|candidate| has(candidate) || joined == *candidate)
    };
    if either(&["email", "e_mail", "mail"]) && !has("server") && !has("template") {
        return Some(Entity::Email);
    }
    if either(&[
        "ssn",
        "social_security_number",
        "social_security",
        "sin",
        "national_id",
        "tax_id",
        "tin",
    ]) {
        return Some(Entity::Ssn);
    }
    if either(&["dob", "birthdate", "birthday", "date_of_birth", "birth_date"])
        || (has("birth") && has("date"))
    {
        return Some(Entity::DateOfBirth);
    }
    if either(&["phone", "telephone", "mobile", "cell", "fax", "msisdn", "tel"]) {
        return Some(Entity::Phone);
    }
    if either(&["iban", "bank_account", "account_iban"]) {
        return Some(Entity::Iban);
    }
    if either(&[
        "card_number",
        "credit_card",
        "cc_number",
        "pan",
        "creditcard",
        "cardnumber",
    ]) {
        return Some(Entity::CreditCard);
    }
    if either(&["ip", "ip_address", "ipaddress", "client_ip", "remote_addr"]) {
        return Some(Entity::Ipv4);
    }
    if either(&["mac_address", "macaddress"]) {
        return Some(Entity::Mac);
    }
    if either(&[
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "token",
        "access_token",
        "refresh_token",
        "private_key",
    ]) {
        return Some(Entity::Secret);
    }
    if either(&[
        "address",
        "street",
        "address_line",
        "addr",
        "postal_code",
        "zip",
        "zipcode",
        "postcode",
    ]) {
        return Some(Entity::Address);
    }
    let name_words = [
        "first_name",
        "last_name",
        "full_name",
        "given_name",
        "family_name",
        "surname",
        "firstname",
        "lastname",
        "middle_name",
        "maiden_name",
        "contact_name",
        "customer_name",
    ];
    if name_words
        .iter()
        .any(|candidate| joined == *candidate || joined.ends_with(&format!("_{candidate}")))
        || has("surname")
        || has("firstname")
        || has("lastname")
    {
        return Some(Entity::PersonName);
    }
    None
}

/// The entity a source type implies (Salesforce field types `email` and `phone`).
pub fn entity_for_type(native_type: &str) -> Option<Entity> {
    match native_type.to_ascii_lowercase().as_str() {
        "email" => Some(Entity::Email),
        "phone" => Some(Entity::Phone),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_the_usual_spellings() {
        for (name, entity) in [
            ("email", Entity::Email),
            ("EmailAddress", Entity::Email),
            ("customer_email", Entity::Email),
            ("e_mail", Entity::Email),
            ("MobilePhone", Entity::Phone),
            ("phone_number", Entity::Phone),
            ("SSN", Entity::Ssn),
            ("dob", Entity::DateOfBirth),
            ("Birthdate", Entity::DateOfBirth),
            ("date_of_birth", Entity::DateOfBirth),
            ("MailingStreet", Entity::Address),
            ("billing_address", Entity::Address),
            ("first_name", Entity::PersonName),
            ("LastName", Entity::PersonName),
            ("iban", Entity::Iban),
            ("card_number", Entity::CreditCard),
            ("client_ip", Entity::Ipv4),
            ("api_key", Entity::Secret),
        ] {
            assert_eq!(entity_for_name(name), Some(entity), "{name}");
        }
        for name in [
            "id",
            "name",
            "total",
            "status",
            "created_at",
            "mail_server",
            "company_name",
            "order_number",
        ] {
            assert_eq!(entity_for_name(name), None, "{name}");
        }
        assert_eq!(words("MailingStreet"), ["mailing", "street"]);
        assert_eq!(entity_for_type("email"), Some(Entity::Email));
    }
}
