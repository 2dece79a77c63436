//! Certificates for TLS tests, made in the test process: a throwaway CA and a server certificate it signed,
//! so tests can prove that `verify-full` accepts the right CA and host name and refuses everything else.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::error::{Result, TestkitError};

/// A CA and a server certificate (with its key) for the given host names, all PEM.
pub struct TestCertificates {
    /// The CA certificate clients should trust.
    pub ca_pem: String,
    /// The server's certificate, signed by the CA.
    pub server_cert_pem: String,
    /// The server's private key.
    pub server_key_pem: String,
}

impl TestCertificates {
    /// A new CA and a server certificate valid for `names` (DNS names; IP addresses are not included, so a
    /// client that connects by IP fails host-name verification).
    pub fn generate(names: &[&str]) -> Result<TestCertificates> {
        let fail =
            |error: rcgen::Error| TestkitError::new(format!("could not make test certificates: {error}"));
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Tributary test CA");
        let ca_key = KeyPair::generate().map_err(fail)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(fail)?;
        let issuer = Issuer::new(ca, ca_key);
        let mut server =
            CertificateParams::new(names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>())
                .map_err(fail)?;
        server
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or("localhost"));
        let server_key = KeyPair::generate().map_err(fail)?;
        let server_cert = server.signed_by(&server_key, &issuer).map_err(fail)?;
        Ok(TestCertificates {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
        })
    }

    /// Writes `server.crt`, `server.key` (owner-only, as servers demand) and `ca.crt` into `dir`.
    pub(crate) fn write_to(&self, dir: &Path) -> Result<()> {
        let write = |name: &str, text: &str| {
            std::fs::write(dir.join(name), text)
                .map_err(|error| TestkitError::io(&format!("could not write {name}"), error))
        };
        write("server.crt", &self.server_cert_pem)?;
        write("server.key", &self.server_key_pem)?;
        write("ca.crt", &self.ca_pem)?;
        let mut permissions = std::fs::metadata(dir.join("server.key"))
            .map_err(|error| TestkitError::io("server.key", error))?
            .permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
        std::fs::set_permissions(dir.join("server.key"), permissions)
            .map_err(|error| TestkitError::io("server.key", error))
    }
}
