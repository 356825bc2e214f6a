//! Keys for a simulated vehicle: everything the rules name, generated fresh.
//!
//! A real vehicle's keys are provisioned per device and per ECU; the
//! simulation plays every ECU and every device at once, so it generates the
//! whole set into one directory with bulkhead's own key generation (random,
//! mode 0600), and the gateway and the simulator both read it. Never use a
//! simulation's keys in a car.

use std::path::{Path, PathBuf};

use bulkhead::keys::{self, Direction, FileKeyStore, FileKeyStoreConfig, KeygenOptions, LinkSuite, Overwrite};
use bulkhead::rules::CompiledRules;

/// Writes a fresh key set for `rules` into `dir` (created with mode 0700):
/// every SecOC key the rules name, and for every device a link key in each
/// direction. Returns the files written.
pub fn generate(rules: &CompiledRules, dir: &Path) -> Result<Vec<PathBuf>, keys::KeyError> {
    create_private_dir(dir).map_err(|source| keys::KeyError::Io { action: "create", path: dir.to_owned(), source })?;
    let options = KeygenOptions { overwrite: Overwrite::Refuse, revocation_list: None };
    let mut written = Vec::new();
    let mut names: Vec<&str> = rules.secured.iter().map(|s| s.key.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let path = dir.join(format!("secoc-{name}.key"));
        keys::generate_secoc_key(name, &path, &options)?;
        written.push(path);
    }
    for device in &rules.devices {
        for (direction, tag) in [(Direction::DeviceToGateway, "in"), (Direction::GatewayToDevice, "out")] {
            let path = dir.join(format!("link-{}-{tag}.key", device.name));
            keys::generate_link_key(&device.name, LinkSuite::Aes128Gcm, direction, &path, &options)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Loads the key directory `dir` (permissions checked as the gateway checks them).
pub fn load(dir: &Path) -> Result<FileKeyStore, keys::KeyError> {
    FileKeyStore::load(FileKeyStoreConfig { directory: dir.to_owned(), revocation_list: None, revoked: Vec::new() })
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
