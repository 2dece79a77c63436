//! The operator's word on what tenant connectors may reach: [`TenantPolicy`] (the `[security.tenants]`
//! table of the `tributary` configuration file), and [`HostPattern`], the host-name patterns it lists.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError, Result};

/// What connectors created by an organization's admin (through the REST API or the console) may use on and
/// from the host. The defaults are safe for a server shared by several organizations: no host files, no
/// plain-text connections, no loopback, link-local, private or reserved addresses, and no host identity.
///
/// Connectors the operator declares (the configuration file, the embedded demo, a host's own code) are not
/// bound by it; only the protected paths ([`super::ProtectedPaths`]) bind them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantPolicy {
    /// Host folders under which tenant connectors may use files: local-folder roots and SQLite databases.
    /// Empty (the default): none. A path is compared after every symbolic link in it is resolved.
    pub allowed_roots: Vec<PathBuf>,
    /// Whether private addresses (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7) may be
    /// reached. Default: `deny`, since they are usually the operator's own network.
    pub private_networks: NetworkAccess,
    /// More address ranges refused to tenant connectors (CIDR).
    pub denied_networks: Vec<IpNet>,
    /// Address ranges allowed whatever their class: the operator's explicit exception (`10.20.0.0/16` for a
    /// database subnet, `127.0.0.1/32` on a test machine). Checked before every refusal.
    pub allowed_networks: Vec<IpNet>,
    /// Host names allowed whatever they resolve to: exact (`db.example.com`) or every name under a domain
    /// (`*.corp.example.com`).
    pub allowed_hosts: Vec<String>,
    /// Allow unencrypted connections: `allow_http` (object storage, Salesforce) and `tls_mode = "disable"`
    /// (PostgreSQL, MySQL). Default: off.
    pub allow_plaintext: bool,
    /// The hosts a provider's sign-in answer may send a connector to, by connector type (`salesforce`), for
    /// every connector. A list here replaces the connector's own defaults; the login host is always allowed.
    pub instance_domains: BTreeMap<String, Vec<String>>,
}

/// Whether a class of addresses may be reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkAccess {
    /// Refused (the default).
    #[default]
    Deny,
    /// Allowed.
    Allow,
}

impl TenantPolicy {
    /// Checks the lists (host patterns) and returns every problem at once, each named by its field.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        for (index, pattern) in self.allowed_hosts.iter().enumerate() {
            if let Err(error) = pattern.parse::<HostPattern>() {
                problems.push(FieldError::new(
                    format!("allowed_hosts[{index}]"),
                    error.message(),
                ));
            }
        }
        for (connector, patterns) in &self.instance_domains {
            for (index, pattern) in patterns.iter().enumerate() {
                if let Err(error) = pattern.parse::<HostPattern>() {
                    problems.push(FieldError::new(
                        format!("instance_domains.{connector}[{index}]"),
                        error.message(),
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_config(problems))
        }
    }
}

/// A host name, or every name under a domain (`*.example.com`), compared without regard to case or a
/// trailing dot. `*.example.com` does not match `example.com` itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern {
    /// Lowercased; for a domain pattern, the suffix with its leading dot (`.example.com`).
    text: String,
    domain: bool,
}

impl HostPattern {
    /// Whether `host` (a name, or an address as text) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = normalize(host);
        if self.domain {
            host.len() > self.text.len() && host.ends_with(&self.text)
        } else {
            host == self.text
        }
    }
}

/// Lowercase, without brackets around an IPv6 address and without a trailing dot.
pub(crate) fn normalize(host: &str) -> String {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl FromStr for HostPattern {
    type Err = Error;

    fn from_str(text: &str) -> Result<HostPattern> {
        let (domain, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let rest = normalize(rest);
        let valid = !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
        if !valid {
            return Err(Error::invalid_input(format!(
                "`{text}` is not a host pattern: write a host name (db.example.com) or `*.` and a domain (*.example.com)"
            )));
        }
        Ok(HostPattern {
            text: if domain { format!(".{rest}") } else { rest },
            domain,
        })
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.domain {
            write!(f, "*{}", self.text)
        } else {
            f.write_str(&self.text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_names_and_domains() {
        let exact: HostPattern = "DB.example.com".parse().unwrap();
        assert!(exact.matches("db.example.com."));
        assert!(!exact.matches("x.db.example.com"));
        let domain: HostPattern = "*.salesforce.com".parse().unwrap();
        assert!(domain.matches("acme.my.salesforce.com"));
        assert!(domain.matches("LOGIN.SALESFORCE.COM"));
        assert!(!domain.matches("salesforce.com"));
        assert!(!domain.matches("evilsalesforce.com"));
        assert!(!domain.matches("salesforce.com.evil.net"));
        for bad in ["", "*", "*.", "a b", "http://x", "*.a/b", "a*b"] {
            assert!(bad.parse::<HostPattern>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_policy_reads_from_toml_like_json_and_reports_bad_patterns() {
        let policy: TenantPolicy = serde_json::from_value(serde_json::json!({
            "allowed_roots": ["/srv/tenants"],
            "private_networks": "allow",
            "denied_networks": ["10.9.0.0/16"],
            "allowed_hosts": ["ok.example.com", "not a host"],
        }))
        .unwrap();
        assert_eq!(policy.private_networks, NetworkAccess::Allow);
        let error = policy.validate().unwrap_err();
        assert_eq!(error.fields()[0].field, "allowed_hosts[1]");
        let unknown = serde_json::from_value::<TenantPolicy>(serde_json::json!({"allow_http": true}));
        assert!(unknown.is_err(), "unknown keys are refused");
    }
}
