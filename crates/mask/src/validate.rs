//! The checks that turn a pattern match into a finding. A bare regex finds things shaped like a card
//! number; these decide whether it is one (Luhn and a real brand prefix), so order numbers, ISBNs and
//! look-alikes stay untouched.

use std::net::Ipv6Addr;

/// The digits of `text`, ignoring everything else; at most 32 are kept, which is more than any entity has.
pub(crate) fn digits(text: &str) -> Digits {
    let mut digits = Digits {
        values: [0; 32],
        len: 0,
    };
    for b in text.bytes().filter(u8::is_ascii_digit) {
        if digits.len == digits.values.len() {
            break;
        }
        digits.values[digits.len] = b - b'0';
        digits.len += 1;
    }
    digits
}

/// Up to 32 digits, on the stack: validators run on every candidate, so they do not allocate.
pub(crate) struct Digits {
    values: [u8; 32],
    len: usize,
}

impl std::ops::Deref for Digits {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.values[..self.len]
    }
}

/// The Luhn checksum.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

fn prefix(digits: &[u8], len: usize) -> u32 {
    digits.iter().take(len).fold(0, |n, &d| n * 10 + u32::from(d))
}

/// A payment card: 13 to 19 digits, separators used consistently, a known brand's prefix and length,
/// and a valid Luhn checksum.
pub fn credit_card(text: &str) -> bool {
    let mut separators = text.bytes().filter(|b| !b.is_ascii_digit());
    if let Some(first) = separators.next() {
        if separators.any(|other| other != first) {
            return false;
        }
        // Grouped like a card: 4-4-4-4, 4-4-4-4-1..3, 4-6-4 or 4-6-5.
        let mut groups = [0usize; 6];
        let mut count = 0;
        for part in text.split(char::from(first)) {
            if count == groups.len() {
                return false;
            }
            groups[count] = part.len();
            count += 1;
        }
        let shaped = matches!(
            &groups[..count],
            [4, 4, 4, 4] | [4, 6, 4] | [4, 6, 5] | [4, 4, 4, 4, 1..=3]
        );
        if !shaped {
            return false;
        }
    }
    let d = digits(text);
    let brand = match d.len() {
        13 => d[0] == 4,
        14 => (300..=305).contains(&prefix(&d, 3)) || prefix(&d, 2) == 36 || prefix(&d, 2) == 38,
        15 => matches!(prefix(&d, 2), 34 | 37),
        16 => {
            d[0] == 4
                || (51..=55).contains(&prefix(&d, 2))
                || (2221..=2720).contains(&prefix(&d, 4))
                || prefix(&d, 4) == 6011
                || prefix(&d, 2) == 65
                || (644..=649).contains(&prefix(&d, 3))
                || (3528..=3589).contains(&prefix(&d, 4))
                || prefix(&d, 2) == 62
        }
        17..=19 => {
            d[0] == 4
                || prefix(&d, 2) == 62
                || (3528..=3589).contains(&prefix(&d, 4))
                || prefix(&d, 4) == 6011
        }
        _ => false,
    };
    brand && luhn(&d)
}

/// Numbers published as examples, never issued.
const SAMPLE_SSNS: &[u32] = &[78_051_120, 219_099_999, 457_555_462, 123_456_789];

/// A US SSN: area not 000, 666 or 9xx, group not 00, serial not 0000, not a published sample.
pub fn ssn(text: &str) -> bool {
    let d = digits(text);
    if d.len() != 9 {
        return false;
    }
    let number =
        |range: std::ops::Range<usize>| d[range].iter().fold(0u32, |n, &digit| n * 10 + u32::from(digit));
    let (area, group, serial) = (number(0..3), number(3..5), number(5..9));
    let whole = number(0..9);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !SAMPLE_SSNS.contains(&whole)
}

/// IBAN lengths per country (the SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// An IBAN: the country's length and the mod-97 check.
pub fn iban(text: &str) -> bool {
    let mut compact = [0u8; 34];
    let mut len = 0;
    for b in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        if len == compact.len() || !b.is_ascii_alphanumeric() {
            return false;
        }
        compact[len] = b;
        len += 1;
    }
    let compact = &compact[..len];
    let Some(&(_, length)) = IBAN_LENGTHS
        .iter()
        .find(|(country, _)| compact.starts_with(country.as_bytes()))
    else {
        return false;
    };
    if len != length {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder: u32 = 0;
    for c in tail.iter().chain(head).map(|&b| char::from(b)) {
        let value = match c.to_digit(36) {
            Some(value) => value,
            None => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// An IPv4 address: four octets of at most 255, without leading zeros.
pub fn ipv4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|part| {
            !part.is_empty()
                && part.len() <= 3
                && (part.len() == 1 || !part.starts_with('0'))
                && part.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// An IPv6 address, as the standard library parses it, with at least one `::` or eight groups.
pub fn ipv6(text: &str) -> bool {
    text.parse::<Ipv6Addr>().is_ok()
}

/// A MAC address with one kind of separator.
pub fn mac(text: &str) -> bool {
    let mut separators = text.chars().filter(|c| !c.is_ascii_hexdigit());
    let Some(first) = separators.next() else {
        return false;
    };
    let count = 1 + separators.clone().count();
    let uniform = separators.all(|c| c == first);
    // Six pairs with `:` or `-`, or Cisco's three dotted quads.
    uniform && ((count == 5 && first != '.') || (count == 2 && first == '.' && text.len() == 14))
}

/// A phone number: North American (area and exchange codes from 2–9, not N11) with separators or a
/// `+1`, or international (`+` country code, 8 to 15 digits in all).
pub fn phone(text: &str) -> bool {
    let d = digits(text);
    let international = text.starts_with('+');
    let nanp = match &*d {
        [1, rest @ ..] if rest.len() == 10 && (international || text.trim_start().starts_with('1')) => {
            Some(rest)
        }
        rest if rest.len() == 10 && !international => Some(rest),
        _ => None,
    };
    if let Some(number) = nanp {
        let area_ok = number[0] >= 2 && !(number[1] == 1 && number[2] == 1);
        let exchange_ok = number[3] >= 2 && !(number[4] == 1 && number[5] == 1);
        let formatted = international || text.contains(['-', ' ', '.', '(']);
        return area_ok && exchange_ok && formatted;
    }
    international && (8..=15).contains(&d.len()) && d[0] != 0
}

/// An email address: a sane local part and a domain with a letter-only top-level label.
pub fn email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 253
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_need_a_brand_and_luhn() {
        assert!(credit_card("4111 1111 1111 1111"));
        assert!(credit_card("5500-0000-0000-0004"));
        assert!(credit_card("378282246310005"));
        assert!(credit_card("6011111111111117"));
        assert!(!credit_card("4111 1111 1111 1112"), "Luhn fails");
        assert!(
            !credit_card("1234567812345670"),
            "Luhn passes but no brand starts with 1"
        );
        assert!(!credit_card("4111-1111 1111-1111"), "mixed separators");
        assert!(!credit_card("41 1111 1111 1111 11"), "not grouped like a card");
    }

    #[test]
    fn ssns_follow_the_assignment_rules() {
        assert!(ssn("536-22-8471"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "536-00-1234",
            "536-22-0000",
            "078-05-1120",
            "123-45-6789",
        ] {
            assert!(!ssn(bad), "{bad}");
        }
    }

    #[test]
    fn ibans_check_length_and_mod_97() {
        assert!(iban("DE89 3704 0044 0532 0130 00"));
        assert!(iban("GB82WEST12345698765432"));
        assert!(!iban("DE89 3704 0044 0532 0130 01"), "checksum");
        assert!(!iban("DE89 3704 0044 0532 0130"), "length");
        assert!(!iban("ZZ89370400440532013000"), "country");
    }

    #[test]
    fn addresses_and_phones() {
        assert!(ipv4("192.168.1.20") && !ipv4("192.168.1.256") && !ipv4("10.01.1.1"));
        assert!(ipv6("2001:db8::8a2e:370:7334") && ipv6("::1") && !ipv6("12:30:45"));
        assert!(mac("00:1A:2B:3C:4D:5E") && !mac("00:1A-2B:3C:4D:5E"));
        assert!(phone("(415) 555-2671") && phone("+1 415 555 2671") && phone("+44 20 7946 0958"));
        assert!(!phone("4155552671"), "bare ten digits are too ambiguous");
        assert!(!phone("(415) 155-2671"), "exchange codes start at 2");
        assert!(!phone("(911) 555-2671"), "N11 is not an area code");
        assert!(
            email("ada.lovelace+ml@example.co.uk") && !email("a..b@example.com") && !email("x@localhost")
        );
    }
}
