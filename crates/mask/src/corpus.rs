//! A labelled corpus, generated from a seed: ordinary sentences with every entity in many formats, and
//! near-misses that must stay untouched (order numbers, ISBNs, timestamps, version strings, Luhn-failing
//! card-like numbers, invalid IBANs and SSNs, UUIDs, hashes). The same seed gives the same corpus, so
//! accuracy numbers are reproducible, and the corpus is code, not a data file.

use std::fmt::Write as _;
use std::ops::Range;

use crate::entity::Entity;

/// A small, fast, seedable generator (SplitMix64): enough for test data, and no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    pub fn range(&mut self, range: Range<u64>) -> u64 {
        range.start + self.next_u64() % (range.end - range.start).max(1)
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0..items.len() as u64) as usize]
    }

    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.range(0..10) as u8))
            .collect()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.range(0..100) < percent
    }
}

/// One labelled span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// What it is.
    pub entity: Entity,
    /// Where, in bytes.
    pub range: Range<usize>,
}

/// A document and its labels.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// The text.
    pub text: String,
    /// Every sensitive span in it.
    pub labels: Vec<Label>,
}

impl Sample {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn label(&mut self, entity: Entity, value: &str) {
        let start = self.text.len();
        self.text.push_str(value);
        self.labels.push(Label {
            entity,
            range: start..self.text.len(),
        });
    }
}

const WORDS: &[&str] = &[
    "the",
    "customer",
    "asked",
    "about",
    "their",
    "invoice",
    "and",
    "the",
    "shipment",
    "was",
    "delayed",
    "by",
    "two",
    "days",
    "please",
    "review",
    "account",
    "status",
    "before",
    "renewal",
    "our",
    "team",
    "will",
    "follow",
    "up",
    "with",
    "details",
    "regarding",
    "payment",
    "terms",
    "contract",
    "signed",
    "last",
    "quarter",
    "support",
    "ticket",
    "escalated",
    "to",
    "engineering",
    "for",
    "analysis",
    "of",
    "the",
    "outage",
    "report",
    "meeting",
    "notes",
    "attached",
    "budget",
    "approved",
    "pending",
    "legal",
    "review",
    "deadline",
    "next",
    "week",
];
const FIRST: &[&str] = &[
    "ada",
    "grace",
    "alan",
    "edsger",
    "barbara",
    "ken",
    "linus",
    "margaret",
    "dennis",
    "katherine",
    "José",
    "Zoë",
];
const LAST: &[&str] = &[
    "lovelace", "hopper", "turing", "dijkstra", "liskov", "thompson", "torvalds", "hamilton", "ritchie",
    "johnson",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "company.co.uk",
    "uni.edu",
    "startup.io",
    "post.example.de",
];

fn sentence(rng: &mut Rng, shortest: u64, longest: u64) -> String {
    let words = rng.range(shortest..longest + 1);
    let mut text = String::new();
    for i in 0..words {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(rng.pick(WORDS));
    }
    text
}

fn email(rng: &mut Rng) -> String {
    let (first, last) = (rng.pick(&FIRST[..10]), rng.pick(LAST));
    let local = match rng.range(0..5) {
        0 => format!("{first}.{last}"),
        1 => format!("{}{last}{}", &first[..1], rng.range(1..99)),
        2 => format!("{first}_{last}+news"),
        3 => format!("{}.{}", first.to_uppercase(), last),
        _ => format!("{first}{}", rng.range(1..9999)),
    };
    let domain = match rng.range(0..8) {
        0 => format!("mx{}.mail-{}.example.com", rng.range(1..9), rng.pick(LAST)),
        1 => rng.pick(DOMAINS).to_uppercase(),
        _ => rng.pick(DOMAINS).to_owned(),
    };
    format!("{local}@{domain}")
}

fn nanp(rng: &mut Rng) -> String {
    let area = format!("{}{}", rng.range(2..10), rng.digits(2));
    let area = if &area[1..] == "11" {
        format!("{}23", &area[..1])
    } else {
        area
    };
    let exchange = format!("{}{}", rng.range(2..10), rng.digits(2));
    let exchange = if &exchange[1..] == "11" {
        format!("{}45", &exchange[..1])
    } else {
        exchange
    };
    let line = rng.digits(4);
    match rng.range(0..8) {
        6 => format!("{area} {exchange} {line}"),
        7 => format!("+1 ({area}) {exchange}-{line}"),
        0 => format!("({area}) {exchange}-{line}"),
        1 => format!("{area}-{exchange}-{line}"),
        2 => format!("{area}.{exchange}.{line}"),
        3 => format!("+1 {area} {exchange} {line}"),
        4 => format!("+1-{area}-{exchange}-{line}"),
        _ => format!("1 ({area}) {exchange}-{line}"),
    }
}

fn international(rng: &mut Rng) -> String {
    match rng.range(0..8) {
        0 => format!("+44 20 {} {}", rng.digits(4), rng.digits(4)),
        1 => format!("+49 30 {}", rng.digits(7)),
        2 => format!(
            "+33 1 {} {} {} {}",
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
        4 => format!(
            "+34 6{} {} {} {}",
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
        5 => format!("+61 2 {} {}", rng.digits(4), rng.digits(4)),
        6 => format!("+91 9{} {}", rng.digits(4), rng.digits(5)),
        _ => format!("+81-3-{}-{}", rng.digits(4), rng.digits(4)),
    }
}

fn luhn_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn card_digits(rng: &mut Rng) -> String {
    let (prefix, length) = rng.pick(&[
        ("4", 16),
        ("51", 16),
        ("55", 16),
        ("2221", 16),
        ("34", 15),
        ("37", 15),
        ("6011", 16),
        ("65", 16),
        ("3530", 16),
        ("4", 13),
    ]);
    let body = format!("{prefix}{}", rng.digits(length - prefix.len() - 1));
    format!("{body}{}", luhn_digit(&body))
}

fn group(digits: &str, sizes: &[usize], separator: char) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (i, size) in sizes.iter().enumerate() {
        if i > 0 {
            out.push(separator);
        }
        out.push_str(&digits[at..at + size]);
        at += size;
    }
    out
}

fn card(rng: &mut Rng) -> String {
    let digits = card_digits(rng);
    let separator = rng.pick(&[' ', '-']);
    match (digits.len(), rng.range(0..2)) {
        (16, 0) => group(&digits, &[4, 4, 4, 4], separator),
        (15, 0) => group(&digits, &[4, 6, 5], separator),
        _ => digits,
    }
}

fn ssn(rng: &mut Rng) -> String {
    let area = loop {
        let area = rng.range(1..900);
        if area != 666 {
            break area;
        }
    };
    let (group_number, serial) = (rng.range(1..100), rng.range(1..10_000));
    let separator = if rng.chance(80) { "-" } else { " " };
    let text = format!("{area:03}{separator}{group_number:02}{separator}{serial:04}");
    if crate::validate::ssn(&text) {
        text
    } else {
        "536-22-8471".to_owned()
    }
}

fn iban_for(rng: &mut Rng, valid: bool) -> String {
    let (country, bban) = match rng.range(0..8) {
        4 => ("IT", format!("{}{}", rng.pick(&["X", "A", "K"]), rng.digits(22))),
        5 => ("ES", rng.digits(20)),
        6 => ("CH", rng.digits(17)),
        7 => ("BE", rng.digits(12)),
        0 => ("DE", rng.digits(18)),
        1 => (
            "GB",
            format!("{}{}", rng.pick(&["WEST", "NWBK", "BARC"]), rng.digits(14)),
        ),
        2 => ("FR", rng.digits(23)),
        _ => (
            "NL",
            format!("{}{}", rng.pick(&["ABNA", "INGB", "RABO"]), rng.digits(10)),
        ),
    };
    let numeric: String = format!("{bban}{country}00")
        .chars()
        .map(|c| c.to_digit(36).map(|v| v.to_string()).unwrap_or_default())
        .collect();
    let remainder = numeric
        .bytes()
        .fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    let check = if valid {
        98 - remainder
    } else {
        (98 - remainder + 1) % 97 + 2
    };
    let compact = format!("{country}{check:02}{bban}");
    if rng.chance(50) {
        compact
            .as_bytes()
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        compact
    }
}

fn ipv4(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.range(1..224),
        rng.range(0..256),
        rng.range(0..256),
        rng.range(1..255)
    )
}

fn ipv6(rng: &mut Rng) -> String {
    let groups: Vec<u16> = (0..8)
        .map(|i| {
            if (2..5).contains(&i) && rng.chance(50) {
                0
            } else {
                rng.range(0..65536) as u16
            }
        })
        .collect();
    let address = std::net::Ipv6Addr::new(
        groups[0], groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7],
    );
    if rng.chance(30) {
        address.to_string().to_uppercase()
    } else {
        address.to_string()
    }
}

fn mac(rng: &mut Rng) -> String {
    if rng.chance(15) {
        return format!(
            "{:04x}.{:04x}.{:04x}",
            rng.range(0..65536),
            rng.range(0..65536),
            rng.range(0..65536)
        );
    }
    let separator = if rng.chance(70) { ":" } else { "-" };
    let text = (0..6)
        .map(|_| format!("{:02x}", rng.range(0..256)))
        .collect::<Vec<_>>()
        .join(separator);
    if rng.chance(50) { text.to_uppercase() } else { text }
}

fn alnum(rng: &mut Rng, count: usize, alphabet: &[u8]) -> String {
    (0..count).map(|_| char::from(rng.pick(alphabet))).collect()
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Appends one sensitive value (with the words around it), labelling exactly what must be masked.
fn sensitive(rng: &mut Rng, sample: &mut Sample, entity: Entity) {
    match entity {
        Entity::Email => {
            sample.push(rng.pick(&["contact ", "email: ", "reply to <", "cc ", "mailto:", "(", "\""]));
            let value = email(rng);
            sample.label(Entity::Email, &value);
            sample.push(rng.pick(&[" today", ">", ".", ",", ")", "\"", ";"]));
        }
        Entity::Phone => {
            sample.push(rng.pick(&["call ", "phone: ", "mobile ", "tel. "]));
            let value = if rng.chance(60) {
                nanp(rng)
            } else {
                international(rng)
            };
            sample.label(Entity::Phone, &value);
            sample.push(rng.pick(&[" after 5pm", ".", ",", ";"]));
        }
        Entity::CreditCard => {
            sample.push(rng.pick(&["card ", "paid with ", "PAN: ", "card:", "(card "]));
            let value = card(rng);
            sample.label(Entity::CreditCard, &value);
            sample.push(rng.pick(&[" exp 04/27", ".", ",", ")"]));
        }
        Entity::Ssn => {
            sample.push(rng.pick(&["SSN ", "social security number: ", "ssn=", "(SSN "]));
            let value = ssn(rng);
            sample.label(Entity::Ssn, &value);
            sample.push(rng.pick(&[" on file", ".", ",", ")"]));
        }
        Entity::Iban => {
            sample.push(rng.pick(&["IBAN ", "transfer to ", "account: "]));
            let value = iban_for(rng, true);
            sample.label(Entity::Iban, &value);
            sample.push(rng.pick(&[" by Friday", ".", ","]));
        }
        Entity::Ipv4 => {
            sample.push(rng.pick(&["login from ", "host ", "ip=", "["]));
            let value = ipv4(rng);
            sample.label(Entity::Ipv4, &value);
            sample.push(rng.pick(&[" failed", ".", ",", ":8080", "/24", "]"]));
        }
        Entity::Ipv6 => {
            let bracketed = rng.chance(20);
            sample.push(if bracketed {
                "connect to ["
            } else {
                rng.pick(&["login from ", "addr ", "client "])
            });
            let value = if rng.chance(10) {
                "::1".to_owned()
            } else {
                ipv6(rng)
            };
            sample.label(Entity::Ipv6, &value);
            sample.push(if bracketed {
                "]:443"
            } else {
                rng.pick(&[" failed", ",", " blocked"])
            });
        }
        Entity::Mac => {
            sample.push(rng.pick(&["device ", "mac "]));
            let value = mac(rng);
            sample.label(Entity::Mac, &value);
            sample.push(rng.pick(&[" joined", ".", ","]));
        }
        Entity::DateOfBirth => {
            sample.push(rng.pick(&["DOB: ", "date of birth ", "born on "]));
            let value = if rng.chance(50) {
                format!(
                    "19{}-{:02}-{:02}",
                    rng.range(40..100),
                    rng.range(1..13),
                    rng.range(1..29)
                )
            } else {
                format!(
                    "{:02}/{:02}/19{}",
                    rng.range(1..13),
                    rng.range(1..29),
                    rng.range(40..100)
                )
            };
            sample.label(Entity::DateOfBirth, &value);
            sample.push(".");
        }
        _ => {
            match rng.range(0..6) {
                0 => {
                    sample.push("key ");
                    let value = format!("AKIA{}", alnum(rng, 16, UPPER_DIGITS));
                    sample.label(Entity::Secret, &value);
                }
                1 => {
                    sample.push("token ");
                    let value = format!("ghp_{}", alnum(rng, 36, ALNUM));
                    sample.label(Entity::Secret, &value);
                }
                2 => {
                    sample.push("stripe ");
                    let value = format!("sk_live_{}", alnum(rng, 24, ALNUM));
                    sample.label(Entity::Secret, &value);
                }
                3 => {
                    sample.push("DATABASE_URL=postgres://app:");
                    let value = alnum(rng, 14, ALNUM);
                    sample.label(Entity::Secret, &value);
                    sample.push("@db.internal:5432/shop");
                }
                4 => {
                    sample.push("password=");
                    let value = format!("{}!{}", alnum(rng, 8, ALNUM), rng.digits(3));
                    sample.label(Entity::Secret, &value);
                }
                _ => {
                    let value = format!(
                        "-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----",
                        alnum(rng, 64, ALNUM),
                        alnum(rng, 40, ALNUM)
                    );
                    sample.label(Entity::Secret, &value);
                }
            }
            sample.push(" ");
        }
    }
}

/// Appends a near-miss: something shaped like sensitive data that is not.
fn near_miss(rng: &mut Rng, sample: &mut Sample) {
    let text = match rng.range(0..20) {
        14 => format!(
            "phone ({}{}) {}-{}",
            rng.pick(&["0", "1"]),
            rng.digits(2),
            rng.digits(3),
            rng.digits(4)
        ),
        15 => format!(
            "subnet {}.{}.{}",
            rng.range(1..255),
            rng.range(0..255),
            rng.range(0..255)
        ),
        16 => format!(
            "due {:02}/{:02}/20{}",
            rng.range(1..13),
            rng.range(1..29),
            rng.range(10..30)
        ),
        17 => format!(
            "sample SSN {}",
            rng.pick(&["078-05-1120", "219-09-9999", "457-55-5462"])
        ),
        18 => format!(
            "EAN 978{} and epoch {}",
            rng.digits(10),
            1_700_000_000_000 + rng.range(0..100_000_000_000)
        ),
        19 => format!(
            "path 1.{}.{}.{}.{}",
            rng.range(0..9),
            rng.range(0..9),
            rng.range(0..9),
            rng.range(0..9)
        ),
        0 => format!("order ORD-{}-{}", rng.range(2019..2027), rng.digits(6)),
        1 => {
            let digits = card_digits(rng);
            let last = (digits.as_bytes()[digits.len() - 1] - b'0' + 1 + rng.range(0..8) as u8) % 10;
            format!("ref {}{}", &digits[..digits.len() - 1], last)
        }
        2 => format!(
            "ISBN 978-{}-{}-{}-{}",
            rng.range(0..10),
            rng.digits(2),
            rng.digits(6),
            rng.range(0..10)
        ),
        3 => format!(
            "at 20{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            rng.range(10..30),
            rng.range(1..13),
            rng.range(1..29),
            rng.range(0..24),
            rng.range(0..60),
            rng.range(0..60)
        ),
        4 => format!(
            "release v{}.{}.{}",
            rng.range(0..5),
            rng.range(0..30),
            rng.range(0..20)
        ),
        5 => format!(
            "build {}.{}.{}-beta.{}",
            rng.range(1..5),
            rng.range(0..10),
            rng.range(0..10),
            rng.range(1..9)
        ),
        6 => format!("iban? {}", iban_for(rng, false)),
        7 => format!(
            "id {}-{}-{}",
            rng.pick(&["000", "666", "987"]),
            rng.digits(2),
            rng.digits(4)
        ),
        8 => format!(
            "uuid {:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            rng.next_u64() as u32,
            rng.range(0..65536),
            rng.range(0..4096),
            rng.range(0..4096),
            rng.next_u64() & 0xFFFF_FFFF_FFFF
        ),
        9 => format!("sha {:016x}{:016x}", rng.next_u64(), rng.next_u64()),
        10 => format!(
            "total ${},{:03}.{:02}",
            rng.range(1..999),
            rng.range(0..1000),
            rng.range(0..100)
        ),
        11 => format!(
            "meeting at {:02}:{:02}:{:02}",
            rng.range(0..24),
            rng.range(0..60),
            rng.range(0..60)
        ),
        12 => format!("tracking 1Z{}{}", alnum(rng, 6, UPPER_DIGITS), rng.digits(10)),
        _ => format!(
            "invoice {} dated {}-{:02}-{:02}",
            rng.digits(10),
            rng.range(2000..2030),
            rng.range(1..13),
            rng.range(1..29)
        ),
    };
    sample.push(&text);
}

/// Entities the corpus labels: all but the ones found by column name only (and custom patterns).
pub const LABELLED: &[Entity] = Entity::ALL.split_at(10).0;

/// `documents` labelled documents, each a few sentences with sensitive values and near-misses mixed in.
pub fn generate(seed: u64, documents: usize) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    (0..documents)
        .map(|_| {
            let mut sample = Sample::default();
            for _ in 0..rng.range(3..8) {
                sample.push(&sentence(&mut rng, 4, 13));
                sample.push(" ");
                if rng.chance(70) {
                    let entity = rng.pick(LABELLED);
                    sensitive(&mut rng, &mut sample, entity);
                    sample.push(" ");
                }
                if rng.chance(60) {
                    near_miss(&mut rng, &mut sample);
                    sample.push(". ");
                }
            }
            sample
        })
        .collect()
}

/// About `bytes` of ordinary text with no sensitive values (but with numbers, dates and versions).
pub fn clean_text(seed: u64, bytes: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut text = String::with_capacity(bytes + 200);
    while text.len() < bytes {
        text.push_str(&sentence(&mut rng, 6, 19));
        if rng.chance(30) {
            let _ = write!(
                text,
                " on 20{}-{:02}-{:02} for {} units",
                rng.range(10..30),
                rng.range(1..13),
                rng.range(1..29),
                rng.range(1..500)
            );
        }
        text.push_str(". ");
    }
    text
}

/// About `bytes` of text dense with sensitive values: one in every short sentence.
pub fn dense_text(seed: u64, bytes: usize) -> String {
    let mut rng = Rng::new(seed);
    let mut sample = Sample::default();
    while sample.text.len() < bytes {
        sample.push(&sentence(&mut rng, 3, 3));
        sample.push(" ");
        let entity = rng.pick(LABELLED);
        sensitive(&mut rng, &mut sample, entity);
        sample.push(" ");
    }
    sample.text
}
