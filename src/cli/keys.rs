//! `bulkhead keygen` and `bulkhead sign`: per-device keys and signed rule bundles.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bulkhead::bundle::{self, SignOptions};
use bulkhead::keys::{self, Direction, FileKeyStore, FileKeyStoreConfig, KeygenOptions, LinkSuite, Overwrite};

#[derive(clap::Args)]
pub struct KeygenArgs {
    #[command(subcommand)]
    kind: KeyKind,
    /// Replace an existing key file (it is replaced atomically; the old key stops working).
    #[arg(long, global = true)]
    overwrite: bool,
    /// The gateway's revocation list: a new link key never takes a revoked id.
    #[arg(long, global = true, value_name = "FILE")]
    revocation_list: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum KeyKind {
    /// A link key for one device and one direction (mode 0600; the key id is random).
    Link {
        /// The device's name, as the rules' `[devices.NAME]` calls it.
        #[arg(long)]
        device: String,
        /// `device-to-gateway` (its requests) or `gateway-to-device` (telemetry).
        #[arg(long, default_value = "device-to-gateway", value_parser = ["device-to-gateway", "gateway-to-device"])]
        direction: String,
        /// `aes-128-gcm` or `chacha20-poly1305`.
        #[arg(long, default_value = "aes-128-gcm", value_parser = ["aes-128-gcm", "chacha20-poly1305"])]
        suite: String,
        /// The key file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// A SecOC key (AES-128), named as the rules' `[[secured]] key = ...` names it.
    Secoc {
        /// The key's name.
        #[arg(long)]
        name: String,
        /// The key file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// An Ed25519 key pair for signing rule bundles (secret 0600, public 0644).
    Signing {
        /// The secret key file (keep it off the gateway).
        #[arg(long)]
        secret: PathBuf,
        /// The public key file (install it in the gateway's key directory).
        #[arg(long)]
        public: PathBuf,
    },
}

pub fn keygen(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let overwrite = if args.overwrite { Overwrite::Allow } else { Overwrite::Refuse };
    let options = KeygenOptions { overwrite, revocation_list: args.revocation_list.clone() };
    match args.kind {
        KeyKind::Link { device, direction, suite, output } => {
            let direction: Direction = direction.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let suite: LinkSuite = suite.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = keys::generate_link_key(&device, suite, direction, &output, &options)?;
            println!("link key {id} for device {device} ({}) written to {}", direction, output.display());
        }
        KeyKind::Secoc { name, output } => {
            keys::generate_secoc_key(&name, &output, &options)?;
            println!("SecOC key {name} written to {}", output.display());
        }
        KeyKind::Signing { secret, public } => {
            let fingerprint = keys::generate_signing_key(&secret, &public, overwrite)?;
            println!("signing key {fingerprint}: secret {}, public {}", secret.display(), public.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
#[command(after_help = "The bundle holds the rule files, every DBC file they name and a manifest with their\n\
SHA-256 hashes, signed with Ed25519. A gateway configured to require signatures accepts only\n\
bundles signed by a key it trusts, and keeps its last good rules when one is refused.")]
pub struct SignArgs {
    /// The secret signing key (`bulkhead keygen signing`).
    #[arg(long)]
    key: PathBuf,
    /// The bundle file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Paths inside the bundle are relative to this directory (default: the deepest common one).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Replace an existing bundle file.
    #[arg(long)]
    overwrite: bool,
    /// Rule files (their DBC files are collected automatically).
    #[arg(value_name = "RULES", required = true)]
    rules: Vec<PathBuf>,
}

pub fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    // Compile first: a bundle of rules that do not compile would only be refused later.
    if let Err(e) = bulkhead::rules::load(&args.rules, bulkhead::rules::CompileOptions::default()) {
        eprintln!("{e}");
        anyhow::bail!("the rules do not compile; nothing was signed");
    }
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let options = SignOptions {
        created_unix_seconds: created,
        root: args.root.clone(),
        overwrite: if args.overwrite { Overwrite::Allow } else { Overwrite::Refuse },
    };
    let signed = bundle::sign(&args.key, &args.rules, &args.output, &options)?;
    println!("{}: {} files signed by {}", args.output.display(), signed.manifest.files.len(), signed.signer);
    Ok(ExitCode::SUCCESS)
}

/// Loads a key directory (permissions checked as the gateway checks them).
pub fn load_store(dir: &Path) -> anyhow::Result<FileKeyStore> {
    FileKeyStore::load(FileKeyStoreConfig { directory: dir.to_owned(), revocation_list: None, revoked: Vec::new() })
        .with_context(|| format!("loading the keys of {}", dir.display()))
}
