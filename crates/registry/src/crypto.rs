//! Connector configs at rest: XChaCha20-Poly1305 under a master key the host provides, with the
//! organization and connector id as associated data, so a ciphertext copied to another connector (or
//! another organization) does not decrypt. Each ciphertext records its key id; a [`KeyRing`] holds the
//! current key and older ones, so keys can be rotated and every definition re-encrypted.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tributary_core::{Error, ErrorKind, Result};
use zeroize::Zeroizing;

/// A 32-byte master key.
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

fn key_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidConfig, message)
        .with_hint("provide 32 random bytes, base64-encoded (for example: head -c 32 /dev/urandom | base64)")
}

impl MasterKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey {
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Result<MasterKey> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|error| Error::internal(format!("no randomness available: {error}")))?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// A key from base64 text (standard alphabet, 32 bytes once decoded).
    pub fn from_base64(text: &str) -> Result<MasterKey> {
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| key_error("the master key is not valid base64"))?,
        );
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            key_error(format!(
                "the master key is {} bytes; it must be 32",
                decoded.len()
            ))
        })?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// A key from an environment variable holding base64.
    pub fn from_env(variable: &str) -> Result<MasterKey> {
        let value = std::env::var(variable)
            .map(Zeroizing::new)
            .map_err(|_| key_error(format!("the environment variable {variable} is not set")))?;
        MasterKey::from_base64(&value).map_err(|error| key_error(format!("{variable}: {}", error.message())))
    }

    /// A key from a file holding base64. On Unix the file must be readable by its owner only.
    pub fn from_file(path: &Path) -> Result<MasterKey> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)
                .map_err(|error| key_error(format!("cannot read the key file {}: {error}", path.display())))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(key_error(format!(
                    "the key file {} is readable by others (mode {:o}); run chmod 600 on it",
                    path.display(),
                    mode & 0o777
                )));
            }
        }
        let text = std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|error| key_error(format!("cannot read the key file {}: {error}", path.display())))?;
        MasterKey::from_base64(&text)
    }

    /// The key as base64, to store in a key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(*self.bytes))
    }

    /// A short public identifier of the key (not secret: a hash prefix), stored with each ciphertext.
    pub fn id(&self) -> String {
        let digest = Sha256::digest([b"tributary-key-id:".as_slice(), self.bytes.as_slice()].concat());
        hex::encode(&digest[..6])
    }

    fn cipher(&self) -> Result<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.bytes.as_slice())
            .map_err(|_| Error::internal("bad key length"))
    }
}

/// An encrypted config as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The id of the key it was encrypted under.
    pub key_id: String,
    /// The 24-byte nonce, base64.
    pub nonce: String,
    /// Ciphertext and tag, base64.
    pub ciphertext: String,
}

/// The current key and older ones still accepted for decryption.
#[derive(Debug)]
pub struct KeyRing {
    current: MasterKey,
    older: BTreeMap<String, MasterKey>,
}

fn associated_data(organization: &str, connector: &str) -> Vec<u8> {
    format!("tributary-config-v1\0{organization}\0{connector}").into_bytes()
}

impl KeyRing {
    /// A ring with one key.
    pub fn new(current: MasterKey) -> KeyRing {
        KeyRing {
            current,
            older: BTreeMap::new(),
        }
    }

    /// Makes `key` current; the previous current key stays for decryption.
    pub fn rotate_to(&mut self, key: MasterKey) {
        let previous = std::mem::replace(&mut self.current, key);
        self.older.insert(previous.id(), previous);
    }

    /// Adds an older key, for decrypting what it sealed.
    pub fn with_older(mut self, key: MasterKey) -> KeyRing {
        self.older.insert(key.id(), key);
        self
    }

    /// The current key's id.
    pub fn current_id(&self) -> String {
        self.current.id()
    }

    /// The key audit fingerprints are keyed with, derived from the current master key (HMAC-SHA256 of a
    /// fixed label), so a fingerprint confirms nothing to someone who can only guess values. Rotating the
    /// master key changes it: fingerprints from before and after a rotation do not compare.
    pub fn audit_key(&self) -> Zeroizing<Vec<u8>> {
        use hmac::{Hmac, KeyInit, Mac};
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.current.bytes.as_slice()) else {
            return Zeroizing::new(self.current.bytes.to_vec());
        };
        mac.update(b"tributary-audit-fingerprint-v1");
        Zeroizing::new(mac.finalize().into_bytes().to_vec())
    }

    /// Encrypts `plaintext` for connector `connector` of `organization`.
    pub fn seal(&self, organization: &str, connector: &str, plaintext: &[u8]) -> Result<Sealed> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|error| Error::internal(format!("no randomness available: {error}")))?;
        let aad = associated_data(organization, connector);
        let ciphertext = self
            .current
            .cipher()?
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::internal("encryption failed"))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(Sealed {
            key_id: self.current.id(),
            nonce: b64.encode(nonce),
            ciphertext: b64.encode(ciphertext),
        })
    }

    /// Decrypts a config sealed for connector `connector` of `organization`. Fails if the key is unknown,
    /// the ciphertext was changed, or it belongs to another connector.
    pub fn open(&self, organization: &str, connector: &str, sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>> {
        let key = if sealed.key_id == self.current.id() {
            &self.current
        } else {
            self.older.get(&sealed.key_id).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    format!(
                        "the config was encrypted under key {}, which this host does not have",
                        sealed.key_id
                    ),
                )
                .with_hint("start the host with the key ring that includes that key, then rotate")
            })?
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let nonce: [u8; 24] = b64
            .decode(&sealed.nonce)
            .ok()
            .and_then(|nonce| nonce.try_into().ok())
            .ok_or_else(|| Error::internal("a stored nonce is malformed"))?;
        let ciphertext = b64
            .decode(&sealed.ciphertext)
            .map_err(|_| Error::internal("a stored ciphertext is malformed"))?;
        let aad = associated_data(organization, connector);
        key.cipher()?
            .decrypt(&XNonce::from(nonce), Payload { msg: &ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::new(ErrorKind::PermissionDenied, "a stored config failed its integrity check")
                    .with_hint("the ciphertext was altered or belongs to another connector; re-enter the connector's settings")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_tamper_move_and_rotation() {
        let mut ring = KeyRing::new(MasterKey::generate().unwrap());
        let plaintext = b"{\"password\":\"correct-horse-battery-staple\"}";
        let sealed = ring.seal("acme", "con_1", plaintext).unwrap();
        assert_eq!(ring.open("acme", "con_1", &sealed).unwrap().as_slice(), plaintext);
        // A secret long enough that base64 of random bytes cannot hold it by chance (a two-letter one did, in
        // about one run in forty).
        assert!(!sealed.ciphertext.contains("correct-horse-battery-staple"));
        assert!(!sealed.ciphertext.contains("password"));

        let mut tampered = sealed.clone();
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&tampered.ciphertext)
            .unwrap();
        bytes[0] ^= 1;
        tampered.ciphertext = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(
            ring.open("acme", "con_1", &tampered).unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        assert!(
            ring.open("acme", "con_2", &sealed).is_err(),
            "moved to another connector"
        );
        assert!(
            ring.open("globex", "con_1", &sealed).is_err(),
            "moved to another organization"
        );

        let old_id = ring.current_id();
        ring.rotate_to(MasterKey::generate().unwrap());
        assert_ne!(ring.current_id(), old_id);
        assert!(
            ring.open("acme", "con_1", &sealed).is_ok(),
            "older keys still open what they sealed"
        );
        let resealed = ring.seal("acme", "con_1", b"x").unwrap();
        assert_eq!(resealed.key_id, ring.current_id());
        let fresh = KeyRing::new(MasterKey::generate().unwrap());
        assert_eq!(
            fresh.open("acme", "con_1", &sealed).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
    }

    #[test]
    fn keys_from_text_and_files() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.id(), again.id());
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(!format!("{key:?}").contains(key.to_base64().as_str()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, key.to_base64().as_bytes()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(
                MasterKey::from_file(&path).is_err(),
                "a key file others can read is refused"
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(MasterKey::from_file(&path).unwrap().id(), key.id());
    }
}
