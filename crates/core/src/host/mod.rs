//! The host boundary: the one place a connector reaches the host's files, its network and its identity.
//!
//! An organization's admin is a tenant, not the operator. Every field a tenant sets (a folder, a database
//! path, a host name, an endpoint, a credential mode) would otherwise let it read the server's master key,
//! reach services on loopback, ask the cloud metadata address for the host's identity, or scan the
//! operator's network. So connector factories get a [`HostAccess`] from whoever builds them, and open files
//! and sockets only through it:
//!
//! - **files** ([`HostAccess::file`], [`HostAccess::folder`]): resolved through every symbolic link,
//!   refused outside the tenant's allowed roots, refused always when they are (or hold) one of the server's
//!   own files ([`ProtectedPaths`], compared by path and by device and inode), and opened only when they are
//!   regular files, looked at with `O_NONBLOCK` so a FIFO never blocks;
//! - **network** ([`HostAccess::resolve`], [`HostAccess::connect_tcp`]): a host name is resolved once, every
//!   address is checked, and the connection goes to a checked address, so a name that resolves differently
//!   the second time (DNS rebinding) gains nothing. Loopback, link-local, unspecified, multicast, broadcast
//!   and reserved addresses are refused to tenants, private ones unless the policy allows them, and so are
//!   the operator's denied networks; the operator's allowed networks and hosts override;
//! - **plain text** ([`HostAccess::check_plaintext`]) and **the host's identity**
//!   ([`HostAccess::check_host_credentials`]): refused to tenants unless the operator allows plain text;
//!   the host identity never.
//!
//! A refusal is an [`ErrorKind::InvalidConfig`] error naming the field,
//! the rule, and what the operator can change. It comes before any socket is opened, and it reads the same
//! whether or not anything listens at the target, so a connection test is no port scanner.
//!
//! ```
//! use tributary_core::host::{HostAccess, ProtectedPaths, TenantPolicy};
//!
//! let tenant = HostAccess::tenant(&TenantPolicy::default(), ProtectedPaths::new()).unwrap();
//! let error = tenant.check_host("host", "169.254.169.254").unwrap_err();
//! assert_eq!(error.fields()[0].field, "host");
//! assert!(HostAccess::unrestricted().check_host("host", "127.0.0.1").is_ok());
//! ```

mod files;
mod network;
mod policy;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

pub use files::{FileIdentity, FileUse, HostFile, HostFolder, ProtectedPaths};
use files::{FileRules, refused};
pub use network::{AddressClass, Resolve, SystemResolver, class_of, embedded_v4, parse_literal};
pub use policy::{HostPattern, NetworkAccess, TenantPolicy};

use crate::error::{Error, ErrorKind, Result};

/// What a tenant's connections may reach, from its policy, resolved once.
#[derive(Debug, Clone)]
struct NetworkRules {
    private: NetworkAccess,
    denied: Vec<IpNet>,
    allowed: Vec<IpNet>,
    hosts: Vec<HostPattern>,
    plaintext: bool,
}

struct Rules {
    /// `None` for operator-declared connectors: any address.
    network: Option<NetworkRules>,
    files: FileRules,
    instance_domains: std::collections::BTreeMap<String, Vec<HostPattern>>,
    resolver: Arc<dyn Resolve>,
}

/// The handle through which a connector opens files and sockets. Cheap to clone; built by the registry (or
/// a host) for the origin of each connector.
#[derive(Clone)]
pub struct HostAccess {
    rules: Arc<Rules>,
}

impl std::fmt::Debug for HostAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostAccess")
            .field("tenant", &self.is_tenant())
            .field("network", &self.rules.network)
            .field("roots", &self.rules.files.roots)
            .field("protected", &self.rules.files.protected)
            .field("may_create", &self.rules.files.may_create)
            .finish_non_exhaustive()
    }
}

impl Default for HostAccess {
    fn default() -> Self {
        HostAccess::unrestricted()
    }
}

impl HostAccess {
    fn new(network: Option<NetworkRules>, files: FileRules) -> HostAccess {
        HostAccess {
            rules: Arc::new(Rules {
                network,
                files,
                instance_domains: Default::default(),
                resolver: Arc::new(SystemResolver),
            }),
        }
    }

    /// Everything, for a Rust service that builds a connector from its own configuration: no file is
    /// protected and any address may be reached. Special files (FIFOs, devices) are still refused.
    pub fn unrestricted() -> HostAccess {
        HostAccess::operator(ProtectedPaths::new())
    }

    /// For connectors the operator declares (a configuration file, a host's own code): any path but the
    /// protected ones, any address, the host's own cloud identity.
    pub fn operator(protected: ProtectedPaths) -> HostAccess {
        HostAccess::new(
            None,
            FileRules {
                roots: None,
                protected,
                may_create: true,
            },
        )
    }

    /// For connectors a tenant creates (the REST API, the console), under the operator's `policy`. The
    /// allowed roots are resolved now, so a root that does not exist is an error here, not a surprise later.
    pub fn tenant(policy: &TenantPolicy, protected: ProtectedPaths) -> Result<HostAccess> {
        policy.validate()?;
        let mut roots = Vec::new();
        for (index, root) in policy.allowed_roots.iter().enumerate() {
            let resolved = files::absolute(root).canonicalize().map_err(|error| {
                Error::invalid_config(vec![crate::FieldError::new(
                    format!("allowed_roots[{index}]"),
                    format!("{} cannot be used: {error}", root.display()),
                )])
            })?;
            roots.push(resolved);
        }
        let hosts = policy
            .allowed_hosts
            .iter()
            .map(|pattern| pattern.parse())
            .collect::<Result<Vec<HostPattern>>>()?;
        let network = NetworkRules {
            private: policy.private_networks,
            denied: policy.denied_networks.clone(),
            allowed: policy.allowed_networks.clone(),
            hosts,
            plaintext: policy.allow_plaintext,
        };
        let access = HostAccess::new(
            Some(network),
            FileRules {
                roots: Some(roots),
                protected,
                may_create: true,
            },
        );
        access.with_instance_domains(&policy.instance_domains)
    }

    fn rebuilt(&self, change: impl FnOnce(&mut Rules)) -> HostAccess {
        let mut rules = Rules {
            network: self.rules.network.clone(),
            files: self.rules.files.clone(),
            instance_domains: self.rules.instance_domains.clone(),
            resolver: self.rules.resolver.clone(),
        };
        change(&mut rules);
        HostAccess {
            rules: Arc::new(rules),
        }
    }

    /// The same access, resolving host names with `resolver` (tests; hosts that pin names).
    #[must_use]
    pub fn with_resolver(&self, resolver: Arc<dyn Resolve>) -> HostAccess {
        self.rebuilt(|rules| rules.resolver = resolver)
    }

    /// The same access, never creating a file: for testing a configuration that is not saved.
    #[must_use]
    pub fn without_side_effects(&self) -> HostAccess {
        self.rebuilt(|rules| rules.files.may_create = false)
    }

    /// The same access with `domains` as the hosts a provider's sign-in answer may name, by connector type.
    pub fn with_instance_domains(
        &self,
        domains: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<HostAccess> {
        let mut parsed = std::collections::BTreeMap::new();
        for (connector, patterns) in domains {
            let patterns = patterns
                .iter()
                .map(|pattern| pattern.parse())
                .collect::<Result<Vec<HostPattern>>>()?;
            parsed.insert(connector.clone(), patterns);
        }
        Ok(self.rebuilt(|rules| rules.instance_domains = parsed))
    }

    /// Whether this is a tenant's access (bound by a [`TenantPolicy`]).
    pub fn is_tenant(&self) -> bool {
        self.rules.network.is_some()
    }

    /// Whether files may be created (false while an unsaved configuration is tested).
    pub fn may_create_files(&self) -> bool {
        self.rules.files.may_create
    }

    /// The operator's list of hosts a provider's sign-in answer may name for `connector_type`, when the
    /// operator set one; the connector uses its own defaults otherwise.
    pub fn instance_domains(&self, connector_type: &str) -> Option<&[HostPattern]> {
        self.rules.instance_domains.get(connector_type).map(Vec::as_slice)
    }

    // ----- files -----

    /// A file a connector opens (a SQLite database): see the module docs. `intent` says whether it must
    /// exist; a file to create must have an existing parent inside the allowed roots.
    pub fn file(&self, field: &str, path: &Path, intent: FileUse) -> Result<HostFile> {
        self.rules.files.file(field, path, intent)
    }

    /// Checks a file path when a configuration is saved: the path as written, and what it names if it
    /// exists (a missing file passes here; it is checked again when it is opened).
    pub fn check_file(&self, field: &str, path: &Path) -> Result<()> {
        self.rules.files.check_file(field, path)
    }

    /// A folder a connector serves (a local-folder object store). It must exist, lie inside the allowed
    /// roots, and hold none of the protected files.
    pub fn folder(&self, field: &str, path: &Path) -> Result<HostFolder> {
        self.rules.files.folder(field, path)
    }

    /// A file whose path a connector hands to a library that reads it itself (a web-identity token file):
    /// checked like [`HostAccess::file`] for reading.
    pub fn readable_file(&self, field: &str, path: &Path) -> Result<PathBuf> {
        Ok(self.file(field, path, FileUse::Read)?.path().to_path_buf())
    }

    /// A Unix socket a driver connects to: refused to tenants (it reaches a service on this host); for
    /// operators, any socket but a protected path.
    pub fn unix_socket(&self, field: &str, path: &Path) -> Result<PathBuf> {
        self.rules.files.unix_socket(field, path)
    }

    // ----- network -----

    /// Checks a host as written, without asking DNS: an address (in any spelling) must be allowed, and
    /// `localhost` is loopback. Host names are checked again, by their addresses, when they are resolved.
    /// Use it when a configuration is saved, so a refused literal is a field error at once.
    pub fn check_host(&self, field: &str, host: &str) -> Result<()> {
        let Some(rules) = &self.rules.network else {
            return Ok(());
        };
        if host.trim().is_empty() {
            return Err(Error::invalid_config(vec![crate::FieldError::new(
                field, "is empty",
            )]));
        }
        if rules.hosts.iter().any(|pattern| pattern.matches(host)) {
            return Ok(());
        }
        if let Some(ip) = parse_literal(host) {
            return rules.decide(field, host, ip);
        }
        if network::is_localhost_name(host) {
            return Err(rules.refusal(field, host, AddressClass::Loopback));
        }
        Ok(())
    }

    /// Resolves `host` and checks every address it has: when one is refused, none is returned. Connect
    /// only to the addresses this returns.
    pub async fn resolve(&self, field: &str, host: &str, port: u16) -> Result<Vec<SocketAddr>> {
        self.check_host(field, host)?;
        let bare = policy::normalize(host);
        if let Some(ip) = parse_literal(&bare) {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let addresses = self.rules.resolver.resolve(&bare, port).await.map_err(|error| {
            Error::new(
                ErrorKind::Unreachable,
                format!("the host name `{host}` cannot be resolved: {error}"),
            )
            .with_hint("check the host name; this server's resolver does not know it")
        })?;
        if addresses.is_empty() {
            return Err(Error::new(
                ErrorKind::Unreachable,
                format!("the host name `{host}` has no address"),
            ));
        }
        if let Some(rules) = &self.rules.network
            && !rules.hosts.iter().any(|pattern| pattern.matches(host))
        {
            for address in &addresses {
                rules.decide(field, host, address.ip())?;
            }
        }
        Ok(addresses)
    }

    /// Resolves and checks `host` (see [`HostAccess::resolve`]), then connects to the first checked address
    /// that answers within `timeout` each.
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place a connector's TCP connection is opened"
    )]
    pub async fn connect_tcp(
        &self,
        field: &str,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<tokio::net::TcpStream> {
        let addresses = self.resolve(field, host, port).await?;
        let mut last = None;
        for address in addresses {
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(error)) => {
                    let kind = if error.kind() == std::io::ErrorKind::ConnectionRefused {
                        "refused the connection"
                    } else {
                        "could not be reached"
                    };
                    last = Some(
                        Error::new(ErrorKind::Unreachable, format!("{host}:{port} {kind}: {error}"))
                            .with_hint("check the host and port, and that the server is running"),
                    );
                }
                Err(_) => {
                    last = Some(
                        Error::new(
                            ErrorKind::Timeout,
                            format!(
                                "{host}:{port} did not accept a connection within {} s",
                                timeout.as_secs_f64()
                            ),
                        )
                        .with_hint(
                            "check that the host and port are right and that nothing drops the packets",
                        ),
                    );
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::internal("no address to connect to")))
    }

    /// Connects to a Unix socket that [`HostAccess::unix_socket`] allows, within `timeout`.
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place a connector's Unix socket is opened"
    )]
    pub async fn connect_unix(
        &self,
        field: &str,
        path: &Path,
        timeout: Duration,
    ) -> Result<tokio::net::UnixStream> {
        let path = self.unix_socket(field, path)?;
        match tokio::time::timeout(timeout, tokio::net::UnixStream::connect(&path)).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(error)) => Err(Error::new(
                ErrorKind::Unreachable,
                format!("the socket {} cannot be reached: {error}", path.display()),
            )),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the socket {} did not accept a connection in time",
                    path.display()
                ),
            )),
        }
    }

    /// Refuses plain-text connections (`allow_http`, TLS `disable`) to tenants unless the operator allows
    /// them. `what` names the setting in the message.
    pub fn check_plaintext(&self, field: &str, what: &str) -> Result<()> {
        match &self.rules.network {
            Some(rules) if !rules.plaintext => Err(refused(
                field,
                format!(
                    "{what} sends data and credentials unencrypted; this server does not let organizations turn it on"
                ),
                "use TLS, or ask the operator to set allow_plaintext in [security.tenants]",
            )),
            _ => Ok(()),
        }
    }

    /// Refuses the host's own credentials (ambient cloud identity, a web-identity token file) to tenants:
    /// they belong to the operator.
    pub fn check_host_credentials(&self, field: &str) -> Result<()> {
        if self.is_tenant() {
            Err(refused(
                field,
                "uses this server's own cloud identity, which connectors created through the API may not use",
                "use the connector's own keys (static credentials), or ask the operator to declare this connector in the configuration file",
            ))
        } else {
            Ok(())
        }
    }
}

impl NetworkRules {
    fn decide(&self, field: &str, host: &str, ip: IpAddr) -> Result<()> {
        if self
            .allowed
            .iter()
            .any(|network| network::in_network(network, ip))
        {
            return Ok(());
        }
        match class_of(ip) {
            Some(AddressClass::Private) if self.private == NetworkAccess::Allow => {}
            Some(class) => return Err(self.refusal(field, host, class)),
            None => {}
        }
        if self.denied.iter().any(|network| network::in_network(network, ip)) {
            return Err(self.refusal(field, host, AddressClass::Denied));
        }
        Ok(())
    }

    fn refusal(&self, field: &str, host: &str, class: AddressClass) -> Error {
        let literal = parse_literal(host).is_some();
        let what = if literal { "is" } else { "resolves to" };
        let hint = match class {
            AddressClass::Private => {
                "use a public host, or ask the operator to set private_networks = \"allow\" (or list the host in allowed_hosts) in [security.tenants]"
            }
            _ => {
                "use a host on the public network, or ask the operator to list it in allowed_hosts or allowed_networks in [security.tenants]"
            }
        };
        refused(
            field,
            format!(
                "`{host}` {what} {}, which connectors created through the API may not reach",
                class.describe()
            ),
            hint,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<IpAddr>);

    #[async_trait::async_trait]
    impl Resolve for Fixed {
        async fn resolve(&self, _host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
            Ok(self.0.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
        }
    }

    fn tenant(policy: TenantPolicy) -> HostAccess {
        HostAccess::tenant(&policy, ProtectedPaths::new()).unwrap()
    }

    #[test]
    fn tenants_are_refused_every_spelling_of_this_host_and_the_metadata_address() {
        let access = tenant(TenantPolicy::default());
        for host in [
            "localhost",
            "LocalHost.",
            "127.0.0.2",
            "[::1]",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            "2130706433",
            "017700000001",
            "0x7f.1",
            "169.254.169.254",
            "fe80::1",
            "10.0.0.5",
            "224.0.0.1",
        ] {
            let error = access.check_host("host", host).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{host}");
            assert_eq!(error.fields()[0].field, "host");
            assert!(
                error.hint().contains("[security.tenants]"),
                "{host}: {}",
                error.hint()
            );
        }
        assert!(
            access.check_host("host", "db.example.com").is_ok(),
            "names wait for resolution"
        );
        assert!(access.check_host("host", "8.8.8.8").is_ok());
        assert!(HostAccess::unrestricted().check_host("host", "127.0.0.1").is_ok());
    }

    #[test]
    fn private_ranges_follow_the_setting_and_the_operator_overrides() {
        let deny = tenant(TenantPolicy::default());
        assert!(deny.check_host("host", "192.168.1.20").is_err());
        let allow = tenant(TenantPolicy {
            private_networks: NetworkAccess::Allow,
            denied_networks: vec!["192.168.9.0/24".parse().unwrap()],
            ..TenantPolicy::default()
        });
        assert!(allow.check_host("host", "192.168.1.20").is_ok());
        let denied = allow.check_host("host", "192.168.9.9").unwrap_err();
        assert!(denied.fields()[0].message.contains("denies"), "{denied}");
        assert!(
            allow.check_host("host", "127.0.0.1").is_err(),
            "allowing private never allows loopback"
        );
        let exception = tenant(TenantPolicy {
            allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
            allowed_hosts: vec!["*.corp.example".into()],
            ..TenantPolicy::default()
        });
        assert!(exception.check_host("host", "127.0.0.1").is_ok());
        assert!(exception.check_host("host", "::ffff:127.0.0.1").is_ok());
        assert!(exception.check_host("host", "127.0.0.2").is_err());
        assert!(exception.check_host("host", "db.corp.example").is_ok());
    }

    #[tokio::test]
    async fn a_name_is_judged_by_every_address_it_resolves_to() {
        let access = tenant(TenantPolicy::default()).with_resolver(Arc::new(Fixed(vec![
            "93.184.216.34".parse().unwrap(),
            "127.0.0.1".parse().unwrap(),
        ])));
        let error = access
            .resolve("endpoint", "rebind.example", 443)
            .await
            .unwrap_err();
        assert!(
            error.fields()[0].message.contains("resolves to a loopback"),
            "{error}"
        );
        assert!(
            !error.message().contains("127.0.0.1"),
            "the resolved address is not revealed"
        );
        let public = tenant(TenantPolicy::default())
            .with_resolver(Arc::new(Fixed(vec!["93.184.216.34".parse().unwrap()])));
        let addresses = public.resolve("endpoint", "ok.example", 443).await.unwrap();
        assert_eq!(addresses, vec!["93.184.216.34:443".parse().unwrap()]);
    }

    #[test]
    fn plaintext_and_host_credentials_are_operator_switches() {
        let strict = tenant(TenantPolicy::default());
        assert!(strict.check_plaintext("allow_http", "allow_http").is_err());
        assert!(strict.check_host_credentials("credentials").is_err());
        let relaxed = tenant(TenantPolicy {
            allow_plaintext: true,
            ..TenantPolicy::default()
        });
        assert!(relaxed.check_plaintext("allow_http", "allow_http").is_ok());
        assert!(
            relaxed.check_host_credentials("credentials").is_err(),
            "never for tenants"
        );
        assert!(
            HostAccess::unrestricted()
                .check_host_credentials("credentials")
                .is_ok()
        );
    }

    #[test]
    fn a_missing_root_is_an_error_at_start() {
        let error = HostAccess::tenant(
            &TenantPolicy {
                allowed_roots: vec!["/no/such/folder/anywhere".into()],
                ..TenantPolicy::default()
            },
            ProtectedPaths::new(),
        )
        .unwrap_err();
        assert_eq!(error.fields()[0].field, "allowed_roots[0]");
    }
}
