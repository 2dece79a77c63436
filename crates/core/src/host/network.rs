//! Addresses: which class an IP address is in (loopback, link-local, private, ...), the spellings of an
//! IPv4 address that resolvers accept (`2130706433`, `0x7f.1`, `017700000001`), and the system resolver.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use async_trait::async_trait;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Why an address is refused to tenant connectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// 127.0.0.0/8, ::1: services on the host itself.
    Loopback,
    /// 169.254.0.0/16 (the cloud metadata address 169.254.169.254), fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8, ::: "this host" on most systems.
    Unspecified,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// Ranges with no public host: 240.0.0.0/4, documentation, benchmarking, protocol assignments, Teredo.
    Reserved,
    /// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7, fec0::/10: usually the
    /// operator's own network. Allowed when the policy says so.
    Private,
    /// A range the operator lists in `denied_networks`.
    Denied,
}

impl AddressClass {
    /// How messages name the class ("a loopback address").
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Loopback => "a loopback address (a service on this host)",
            AddressClass::LinkLocal => "a link-local address (such as the cloud metadata service)",
            AddressClass::Unspecified => "the unspecified address (this host)",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Broadcast => "the broadcast address",
            AddressClass::Reserved => "a reserved address",
            AddressClass::Private => "a private address",
            AddressClass::Denied => "an address in a network the operator denies",
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    // Checked when the constants below are compiled: every prefix is at most 32.
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// IPv4 ranges and their classes, most specific first.
const V4_CLASSES: [(Ipv4Net, AddressClass); 15] = [
    (v4(0, 0, 0, 0, 8), AddressClass::Unspecified),
    (v4(127, 0, 0, 0, 8), AddressClass::Loopback),
    (v4(169, 254, 0, 0, 16), AddressClass::LinkLocal),
    (v4(255, 255, 255, 255, 32), AddressClass::Broadcast),
    (v4(224, 0, 0, 0, 4), AddressClass::Multicast),
    (v4(240, 0, 0, 0, 4), AddressClass::Reserved),
    (v4(192, 0, 0, 0, 24), AddressClass::Reserved),
    (v4(192, 0, 2, 0, 24), AddressClass::Reserved),
    (v4(198, 51, 100, 0, 24), AddressClass::Reserved),
    (v4(203, 0, 113, 0, 24), AddressClass::Reserved),
    (v4(198, 18, 0, 0, 15), AddressClass::Reserved),
    (v4(10, 0, 0, 0, 8), AddressClass::Private),
    (v4(172, 16, 0, 0, 12), AddressClass::Private),
    (v4(192, 168, 0, 0, 16), AddressClass::Private),
    (v4(100, 64, 0, 0, 10), AddressClass::Private),
];

/// IPv6 ranges and their classes (after the embedded IPv4 forms, which take their IPv4 class).
const V6_CLASSES: [(Ipv6Net, AddressClass); 9] = [
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), AddressClass::Unspecified),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), AddressClass::Loopback),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), AddressClass::LinkLocal),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), AddressClass::Multicast),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), AddressClass::Private),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), AddressClass::Private),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), AddressClass::Reserved),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32), AddressClass::Reserved),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), AddressClass::Reserved),
];

const NAT64: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
const LOCAL_NAT64: Ipv6Net = v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48);
const SIX_TO_FOUR: Ipv6Net = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);

/// The class of an IPv4 address, or `None` for a public one.
fn class_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    V4_CLASSES
        .iter()
        .find(|(range, _)| range.contains(&ip))
        .map(|(_, class)| *class)
}

/// The IPv4 address an IPv6 address carries, for the forms that reach it: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`) and 6to4 (`2002::/16`).
pub fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let octets = ip.octets();
    let last = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped);
    }
    let segments = ip.segments();
    let compatible = segments[..6].iter().all(|s| *s == 0) && !ip.is_loopback() && !ip.is_unspecified();
    if compatible || NAT64.contains(&ip) || LOCAL_NAT64.contains(&ip) {
        return Some(last);
    }
    if SIX_TO_FOUR.contains(&ip) {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

/// The class of an IPv6 address (or of the IPv4 address it carries), or `None` for a public one.
fn class_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    if let Some(inner) = embedded_v4(ip) {
        return class_v4(inner);
    }
    V6_CLASSES
        .iter()
        .find(|(range, _)| range.contains(&ip))
        .map(|(_, class)| *class)
}

/// The class of an address, or `None` for a public one.
pub fn class_of(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(ip) => class_v4(ip),
        IpAddr::V6(ip) => class_v6(ip),
    }
}

/// Whether `network` holds `ip`, or the IPv4 address `ip` carries.
pub(crate) fn in_network(network: &IpNet, ip: IpAddr) -> bool {
    network.contains(&ip)
        || match ip {
            IpAddr::V6(v6) => embedded_v4(v6).is_some_and(|inner| network.contains(&IpAddr::V4(inner))),
            IpAddr::V4(_) => false,
        }
}

/// An address written as text: IPv6 (with or without brackets) or IPv4 in any spelling `inet_aton`
/// accepts, which is what the system resolver and most drivers accept too: one to four parts, each decimal,
/// octal (leading `0`) or hexadecimal (`0x`), the last filling the remaining bytes (`127.1`, `2130706433`).
pub fn parse_literal(host: &str) -> Option<IpAddr> {
    let host = host.trim();
    let bare = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(ip);
    }
    // An IPv6 address with a zone (`fe80::1%eth0`) names the same address on one interface.
    if let Some((address, _zone)) = bare.split_once('%')
        && let Ok(ip) = address.parse::<Ipv6Addr>()
    {
        return Some(IpAddr::V6(ip));
    }
    parse_inet_aton(bare.strip_suffix('.').unwrap_or(bare)).map(IpAddr::V4)
}

fn parse_part(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        // `0x` alone is zero to inet_aton.
        return (radix == 16).then_some(0);
    }
    u64::from_str_radix(digits, radix).ok()
}

fn parse_inet_aton(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let values: Vec<u64> = parts.iter().map(|part| parse_part(part)).collect::<Option<_>>()?;
    let (last, leading) = values.split_last()?;
    if leading.iter().any(|value| *value > 255) {
        return None;
    }
    let remaining_bits = 8 * (4 - leading.len() as u32);
    if *last >= 1u64 << remaining_bits {
        return None;
    }
    let mut address: u64 = 0;
    for (index, value) in leading.iter().enumerate() {
        address |= value << (24 - 8 * index as u32);
    }
    address |= last;
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

/// Whether a host name means this host without asking DNS (`localhost` and names under `.localhost`,
/// RFC 6761).
pub(crate) fn is_localhost_name(host: &str) -> bool {
    let host = super::policy::normalize(host);
    host == "localhost" || host.ends_with(".localhost")
}

/// Turns host names into addresses. The registry uses the system's resolver; tests and hosts that pin names
/// supply their own. Every answer is checked against the policy before anything connects to it.
#[async_trait]
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `host` (a name, never an address), with `port`.
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolve for SystemResolver {
    #[allow(
        clippy::disallowed_methods,
        reason = "the system resolver behind HostAccess::resolve"
    )]
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        parse_literal(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn every_spelling_of_loopback_is_loopback() {
        for text in [
            "127.0.0.1",
            "127.0.0.2",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0x7f.0.0.1",
            "017700000001",
            "0177.0.0.1",
            "[::1]",
            "::1",
            "::ffff:127.0.0.1",
            "[::ffff:7f00:1]",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "127.0.0.1.",
        ] {
            assert_eq!(class_of(ip(text)), Some(AddressClass::Loopback), "{text}");
        }
    }

    #[test]
    fn classes_are_told_apart() {
        let cases = [
            ("169.254.169.254", Some(AddressClass::LinkLocal)),
            ("fe80::1", Some(AddressClass::LinkLocal)),
            ("fe80::1%eth0", Some(AddressClass::LinkLocal)),
            ("0.0.0.0", Some(AddressClass::Unspecified)),
            ("0", Some(AddressClass::Unspecified)),
            ("::", Some(AddressClass::Unspecified)),
            ("224.0.0.1", Some(AddressClass::Multicast)),
            ("ff02::1", Some(AddressClass::Multicast)),
            ("255.255.255.255", Some(AddressClass::Broadcast)),
            ("10.1.2.3", Some(AddressClass::Private)),
            ("172.31.0.1", Some(AddressClass::Private)),
            ("192.168.1.1", Some(AddressClass::Private)),
            ("100.64.0.1", Some(AddressClass::Private)),
            ("fd00::1", Some(AddressClass::Private)),
            ("::ffff:10.0.0.1", Some(AddressClass::Private)),
            ("198.51.100.7", Some(AddressClass::Reserved)),
            ("2001:db8::1", Some(AddressClass::Reserved)),
            ("240.0.0.1", Some(AddressClass::Reserved)),
            ("8.8.8.8", None),
            ("172.32.0.1", None),
            ("2606:4700::1111", None),
        ];
        for (text, class) in cases {
            assert_eq!(class_of(ip(text)), class, "{text}");
        }
    }

    #[test]
    fn names_are_not_addresses() {
        for name in [
            "db.example.com",
            "1e100.net",
            "08",
            "0x",
            "256.1.1.1.1",
            "1.2.3.256",
            "4294967296",
        ] {
            if name == "0x" {
                assert_eq!(parse_literal(name), Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
                continue;
            }
            assert_eq!(parse_literal(name), None, "{name}");
        }
        assert!(is_localhost_name("LOCALHOST."));
        assert!(is_localhost_name("app.localhost"));
        assert!(!is_localhost_name("localhost.example.com"));
    }
}
