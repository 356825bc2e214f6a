//! Loading what the configuration names: the key store and the rules
//! (plain files, or a bundle verified against the key store's trusted keys).
//! Used at start and on every reload; a reload that fails here changes nothing.

use std::sync::Arc;

use super::config::{Config, RuleSourceConfig};
use crate::bundle::{BundleError, LastGoodBundle};
use crate::keys::{FileKeyStore, FileKeyStoreConfig, KeyError, KeyStore};
use crate::rules::{CompileOptions, CompiledRules, RulesError};

/// Why rules or keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The rule files do not compile (every diagnostic is included).
    #[error("rules: {0}")]
    Rules(#[from] RulesError),
    /// The bundle did not verify, or is older than the one in force.
    #[error("bundle {}: {source}", path.display())]
    Bundle {
        /// The bundle file.
        path: std::path::PathBuf,
        /// Why it was refused.
        #[source]
        source: BundleError,
    },
    /// The key store could not be loaded.
    #[error("keys: {0}")]
    Keys(#[from] KeyError),
    /// New rules change the ports (names, media or order), which needs a restart.
    #[error("the new rules change the ports ({0}); ports are bound at start: restart the daemon to change them")]
    PortsChanged(String),
}

/// Rules as loaded, and where from.
pub struct LoadedRules {
    /// The compiled rules.
    pub rules: Arc<CompiledRules>,
    /// Warnings of the compiler.
    pub warnings: usize,
    /// The bundle's signer and manifest digest, when the rules came from a bundle.
    pub bundle: Option<(String, String)>,
}

/// Loads the key store named by the configuration (`None` without `[keys]`).
pub fn load_keys(config: &Config) -> Result<Option<FileKeyStore>, KeyError> {
    let Some(keys) = &config.keys else { return Ok(None) };
    let store_config = FileKeyStoreConfig {
        directory: keys.directory.clone(),
        revocation_list: keys.revocation_list.clone(),
        revoked: Vec::new(),
    };
    FileKeyStore::load(store_config).map(Some)
}

/// Loads and compiles the rules named by the configuration. A bundle is
/// verified against `store`'s trusted keys and must not be older than the
/// one in `last_good` (which it replaces on success).
pub fn load_rules(
    config: &Config,
    store: Option<&FileKeyStore>,
    last_good: &mut LastGoodBundle,
) -> Result<LoadedRules, LoadError> {
    match &config.rules {
        RuleSourceConfig::Files(files) => {
            let (rules, warnings) = crate::rules::load(files, CompileOptions::default())?;
            Ok(LoadedRules { rules: Arc::new(rules), warnings: warnings.len(), bundle: None })
        }
        RuleSourceConfig::Bundle(path) => {
            let bundle_error = |source| LoadError::Bundle { path: path.clone(), source };
            let trusted = store.map(|s| s.bundle_verifying_keys()).unwrap_or(&[]);
            let verified = crate::bundle::verify_file(path, trusted).map_err(bundle_error)?;
            last_good.check_not_older(&verified).map_err(bundle_error)?;
            let (rules, warnings) = crate::rules::from_bundle(&verified, CompileOptions::default())?;
            let digest: String = verified.manifest_sha256().iter().map(|b| format!("{b:02x}")).collect();
            let identity = (verified.signer().to_string(), digest);
            last_good.install(verified).map_err(bundle_error)?;
            Ok(LoadedRules { rules: Arc::new(rules), warnings: warnings.len(), bundle: Some(identity) })
        }
    }
}

/// Refuses new rules whose ports differ from the running ones (sockets are
/// bound to ports at start).
pub fn check_same_ports(old: &CompiledRules, new: &CompiledRules) -> Result<(), LoadError> {
    let describe = |r: &CompiledRules| {
        r.ports.iter().map(|p| format!("{} ({})", p.name, p.medium.name())).collect::<Vec<_>>().join(", ")
    };
    let same = old.ports.len() == new.ports.len()
        && old.ports.iter().zip(&new.ports).all(|(a, b)| a.name == b.name && a.medium == b.medium);
    if same {
        Ok(())
    } else {
        Err(LoadError::PortsChanged(format!("running: {}; new: {}", describe(old), describe(new))))
    }
}
