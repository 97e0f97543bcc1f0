//! Signing keys, key ids, the trust store of allied public keys and the revocation list.
//!
//! Files (all UTF-8 text, so an operator can read and diff them):
//! - `<NATION>-<id>.key.pem`: the private key, PKCS#8 PEM, created with mode 0600 and never
//!   overwritten;
//! - `trust.txt`: one allied public key per line, `NATION KEY_ID PUBLIC_KEY_HEX`; `#` starts a
//!   comment;
//! - `revoked.txt`: one revoked key id per line.
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;

use crate::nation::Nation;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: refusing to overwrite an existing private key")]
    Exists { path: PathBuf },
    #[error("{path}: not a PKCS#8 PEM Ed25519 private key: {detail}")]
    BadPrivateKey { path: PathBuf, detail: String },
    #[error("{path}:{line}: {detail}; expected `NATION KEY_ID PUBLIC_KEY_HEX` (64 hex digits)")]
    BadTrustLine {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error(
        "{path}:{line}: key id {key_id:?} does not match the public key (expected {expected:?})"
    )]
    KeyIdMismatch {
        path: PathBuf,
        line: usize,
        key_id: String,
        expected: String,
    },
}

/// Names a public key: `<NATION>-<first 8 bytes of the key, hex>`. Rotating a key gives a new
/// id, so receivers can hold old and new keys side by side and revoke one by its id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn for_key(nation: Nation, key: &VerifyingKey) -> Self {
        KeyId(format!("{nation}-{}", hex(&key.as_bytes()[..8])))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn from_string(s: String) -> Self {
        KeyId(s)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A node's signing identity.
pub struct Identity {
    pub nation: Nation,
    pub node_id: String,
    pub key_id: KeyId,
    pub(crate) key: SigningKey,
}

impl Identity {
    /// A fresh key from the operating system's randomness (through rand's thread RNG, a CSPRNG
    /// seeded from the OS).
    pub fn generate(nation: Nation, node_id: impl Into<String>) -> Self {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        Self::from_seed(nation, node_id, seed)
    }

    /// A key from a fixed seed: for tests and reproducible demonstrations only.
    pub fn from_seed(nation: Nation, node_id: impl Into<String>, seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let key_id = KeyId::for_key(nation, &key.verifying_key());
        Identity {
            nation,
            node_id: node_id.into(),
            key_id,
            key,
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The trust-store line allies add to accept this key.
    pub fn trust_line(&self) -> String {
        format!(
            "{} {} {}",
            self.nation,
            self.key_id,
            hex(self.verifying_key().as_bytes())
        )
    }

    /// Writes the private key as PKCS#8 PEM with mode 0600; refuses to overwrite.
    pub fn write_private_key(&self, path: &Path) -> Result<(), KeyError> {
        let pem = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| KeyError::BadPrivateKey {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                KeyError::Io {
                    path: path.to_path_buf(),
                    source: e,
                }
            }
        })?;
        f.write_all(pem.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| KeyError::Io {
                path: path.to_path_buf(),
                source: e,
            })
    }

    pub fn read_private_key(
        nation: Nation,
        node_id: impl Into<String>,
        path: &Path,
    ) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let key = SigningKey::from_pkcs8_pem(&text).map_err(|e| KeyError::BadPrivateKey {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let key_id = KeyId::for_key(nation, &key.verifying_key());
        Ok(Identity {
            nation,
            node_id: node_id.into(),
            key_id,
            key,
        })
    }
}

/// Allied public keys a receiver accepts, each bound to the nation it may speak for, and the
/// key ids it no longer accepts.
#[derive(Clone, Default)]
pub struct TrustStore {
    keys: HashMap<KeyId, (Nation, VerifyingKey)>,
    revoked: HashSet<KeyId>,
}

pub enum KeyLookup<'a> {
    Trusted(Nation, &'a VerifyingKey),
    Revoked,
    Unknown,
}

impl TrustStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn trust(&mut self, nation: Nation, key: VerifyingKey) -> KeyId {
        let id = KeyId::for_key(nation, &key);
        self.keys.insert(id.clone(), (nation, key));
        id
    }

    pub fn revoke(&mut self, id: KeyId) {
        self.revoked.insert(id);
    }

    pub fn lookup(&self, id: &str) -> KeyLookup<'_> {
        let id = KeyId(id.to_string());
        if self.revoked.contains(&id) {
            return KeyLookup::Revoked;
        }
        match self.keys.get(&id) {
            Some((n, k)) => KeyLookup::Trusted(*n, k),
            None => KeyLookup::Unknown,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Parses `trust.txt` text (see the module docs).
    pub fn parse_trust(&mut self, path: &Path, text: &str) -> Result<(), KeyError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let bad = |detail: String| KeyError::BadTrustLine {
                path: path.to_path_buf(),
                line: i + 1,
                detail,
            };
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [nation, key_id, key_hex] = parts.as_slice() else {
                return Err(bad(format!("found {} fields", parts.len())));
            };
            let nation: Nation = nation
                .parse()
                .map_err(|e: crate::NationError| bad(e.to_string()))?;
            let bytes: [u8; 32] = unhex(key_hex)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad(format!("public key {key_hex:?} is not 64 hex digits")))?;
            let key = VerifyingKey::from_bytes(&bytes)
                .map_err(|e| bad(format!("not an Ed25519 public key: {e}")))?;
            let expected = KeyId::for_key(nation, &key);
            if expected.as_str() != *key_id {
                return Err(KeyError::KeyIdMismatch {
                    path: path.to_path_buf(),
                    line: i + 1,
                    key_id: key_id.to_string(),
                    expected: expected.0,
                });
            }
            self.keys.insert(expected, (nation, key));
        }
        Ok(())
    }

    /// Parses `revoked.txt` text: one key id per line.
    pub fn parse_revoked(&mut self, text: &str) {
        for raw in text.lines() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                self.revoked.insert(KeyId(line.to_string()));
            }
        }
    }

    /// Loads `dir/trust.txt` and, if present, `dir/revoked.txt`.
    pub fn load_dir(dir: &Path) -> Result<Self, KeyError> {
        let mut ts = TrustStore::new();
        let tp = dir.join("trust.txt");
        let text = std::fs::read_to_string(&tp).map_err(|e| KeyError::Io {
            path: tp.clone(),
            source: e,
        })?;
        ts.parse_trust(&tp, &text)?;
        let rp = dir.join("revoked.txt");
        match std::fs::read_to_string(&rp) {
            Ok(t) => ts.parse_revoked(&t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(KeyError::Io {
                    path: rp,
                    source: e,
                })
            }
        }
        Ok(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kr() -> Nation {
        "KR".parse().unwrap()
    }

    #[test]
    fn private_key_file_is_0600_round_trips_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::generate(kr(), "KR-1");
        let p = dir.path().join("kr.key.pem");
        id.write_private_key(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let back = Identity::read_private_key(kr(), "KR-1", &p).unwrap();
        assert_eq!(back.key_id, id.key_id);
        assert!(matches!(
            id.write_private_key(&p),
            Err(KeyError::Exists { .. })
        ));
    }

    #[test]
    fn trust_lines_round_trip_and_bad_lines_name_the_line() {
        let id = Identity::from_seed(kr(), "KR-1", [7; 32]);
        let mut ts = TrustStore::new();
        let text = format!("# allies\n{}\n", id.trust_line());
        ts.parse_trust(Path::new("trust.txt"), &text).unwrap();
        assert!(matches!(ts.lookup(id.key_id.as_str()), KeyLookup::Trusted(n, _) if n == kr()));
        let err = ts
            .parse_trust(Path::new("trust.txt"), "\nKR abc\n")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref().map(|e| e.starts_with("trust.txt:2:")),
            Some(true)
        );
        let wrong_id = format!(
            "KR KR-0000000000000000 {}",
            hex(id.verifying_key().as_bytes())
        );
        assert!(matches!(
            ts.parse_trust(Path::new("t"), &wrong_id),
            Err(KeyError::KeyIdMismatch { line: 1, .. })
        ));
        ts.parse_revoked(&format!("{}\n", id.key_id));
        assert!(matches!(ts.lookup(id.key_id.as_str()), KeyLookup::Revoked));
    }
}
