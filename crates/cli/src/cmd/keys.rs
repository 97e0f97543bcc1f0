//! `trilink keys`: a nation's signing key and the trust store of allied public keys.
use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use trilink_wire::{Identity, Nation, TrustStore};

use crate::exit::{CliError, CliResult};

/// Manage signing keys and the trust store.
///
/// Each node signs every envelope with its nation's Ed25519 key. Allies accept an envelope only
/// if its key id is in their `trust.txt` (bound to the nation it may speak for) and not in
/// their `revoked.txt`. Rotate a key by making a new one (new key id), distributing its trust
/// line, and revoking the old id.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum KeysCommand {
    /// Make a key pair: writes DIR/<NATION>.key.pem (PKCS#8 PEM, mode 0600, never overwritten)
    /// and adds the public key's line to DIR/trust.txt.
    Init {
        /// ISO 3166-1 alpha-2 code of the nation, e.g. KR.
        #[arg(long)]
        nation: String,
        /// Key directory (created if missing).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Revoke a key id: adds it to DIR/revoked.txt, so envelopes signed with it are rejected.
    Revoke {
        #[arg(long)]
        dir: PathBuf,
        /// The key id to revoke, e.g. KR-1a2b3c4d5e6f7a8b.
        key_id: String,
    },
    /// List the keys DIR/trust.txt trusts.
    List {
        #[arg(long)]
        dir: PathBuf,
    },
}

fn append(path: &std::path::Path, line: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(f, "{line}").with_context(|| format!("writing {}", path.display()))
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        KeysCommand::Init { nation, dir } => {
            let nation: Nation = nation
                .parse()
                .map_err(|e| CliError::input(anyhow!("--nation: {e}")))?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let id = Identity::generate(nation, format!("{nation}-node"));
            let key_path = dir.join(format!("{nation}.key.pem"));
            id.write_private_key(&key_path).map_err(|e| match e {
                trilink_wire::KeyError::Exists { .. } => CliError::input(anyhow!(
                    "{e}; to rotate, move it aside first, then revoke the old key id"
                )),
                other => CliError::Other(other.into()),
            })?;
            append(&dir.join("trust.txt"), &id.trust_line())?;
            println!("key id {}", id.key_id);
            println!("private key {} (mode 0600)", key_path.display());
            println!(
                "trust line (give this to allies; added to {}):",
                dir.join("trust.txt").display()
            );
            println!("{}", id.trust_line());
            Ok(())
        }
        KeysCommand::Revoke { dir, key_id } => {
            if key_id.trim().is_empty() || key_id.contains(char::is_whitespace) {
                return Err(CliError::input(anyhow!(
                    "key id {key_id:?}: expected one word such as KR-1a2b3c4d5e6f7a8b"
                )));
            }
            append(&dir.join("revoked.txt"), &key_id)?;
            println!(
                "revoked {key_id} (in {})",
                dir.join("revoked.txt").display()
            );
            Ok(())
        }
        KeysCommand::List { dir } => {
            let p = dir.join("trust.txt");
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            let mut ts = TrustStore::new();
            ts.parse_trust(&p, &text).map_err(CliError::input)?;
            print!("{text}");
            println!("# {} trusted key(s)", ts.len());
            Ok(())
        }
    }
}
