//! Helpers shared by the bundle tests: a small rule project on disk, a signing
//! key, and a way to re-sign hand-made bundles (to reach the checks that come
//! after the signature).

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use bulkhead::bundle::{SignatureBlock, StoredFile, build_signed_bundle, decode, encode};
use bulkhead::keys::{BundleSigningKey, BundleVerifyingKey};

pub const CREATED: u64 = 1_767_225_600;

pub const VEHICLE_DBC: &str = "VERSION \"\"\n\nBU_: GW ECU\n\nBO_ 256 Speed: 8 ECU\n SG_ VehicleSpeed : 0|16@1+ (0.01,0) [0|655.35] \"km/h\" GW\n";
pub const BODY_DBC: &str =
    "VERSION \"\"\n\nBU_: GW BCM\n\nBO_ 512 Doors: 1 BCM\n SG_ Unlock : 0|1@1+ (1,0) [0|1] \"\" GW\n";
pub const RULES: &str = "# gateway rules\n[ports.drive]\nkind = \"canfd\"\ndbc = [\"../dbc/vehicle.dbc\"]\n\n[ports.body]\nkind = \"can\"\ndbc = [\"../dbc/vehicle.dbc\", \"./body.dbc\"]\n\n[ports.infotainment]\nkind = \"udp\"\n";

/// A rule project in a temporary directory.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub rules: PathBuf,
}

pub fn write(path: &Path, text: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}

impl Project {
    /// The rule files to sign (just `rules/gateway.toml`).
    pub fn rule_files(&self) -> &[PathBuf] {
        std::slice::from_ref(&self.rules)
    }
}

/// `rules/gateway.toml` naming `dbc/vehicle.dbc` (twice) and `rules/body.dbc`.
pub fn project() -> Project {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("project");
    write(&root.join("dbc/vehicle.dbc"), VEHICLE_DBC.as_bytes());
    write(&root.join("rules/body.dbc"), BODY_DBC.as_bytes());
    let rules = root.join("rules/gateway.toml");
    write(&rules, RULES.as_bytes());
    Project { dir, root, rules }
}

/// A fixed signing key (tests must be reproducible).
pub fn signing_key(seed: u8) -> BundleSigningKey {
    BundleSigningKey::from_seed(&bulkhead::keys::SecretBytes::new([seed; 32]))
}

/// A signed bundle of [`project`] and the key that verifies it (built once per
/// test binary).
pub fn small_bundle() -> (Vec<u8>, BundleVerifyingKey) {
    static BUNDLE: LazyLock<(Vec<u8>, BundleVerifyingKey)> = LazyLock::new(|| {
        let project = project();
        let key = signing_key(1);
        let bundle = build_signed_bundle(&key, project.rule_files(), None, CREATED).expect("signs");
        (bundle.bytes, key.verifying_key())
    });
    BUNDLE.clone()
}

/// A bundle made of `manifest` and `files`, signed by `key` (whatever they hold).
pub fn signed(manifest: &[u8], files: &[StoredFile<'_>], key: &BundleSigningKey) -> Vec<u8> {
    let public = key.verifying_key().to_bytes();
    let signer = |message: &[u8]| SignatureBlock { signer: public, signature: key.sign_message(message) };
    encode(manifest, files, Some(&signer)).expect("encodes")
}

/// A file's path and data, owned.
pub type OwnedFile = (Vec<u8>, Vec<u8>);

/// The manifest and files of a bundle, owned, for rebuilding variants.
pub fn parts(bytes: &[u8]) -> (Vec<u8>, Vec<OwnedFile>) {
    let container = decode(bytes).expect("decodes");
    let files = container.files.iter().map(|f| (f.path.to_vec(), f.data.to_vec())).collect();
    (container.manifest.to_vec(), files)
}

/// Borrowed views of owned files, for [`encode`].
pub fn stored(files: &[OwnedFile]) -> Vec<StoredFile<'_>> {
    files.iter().map(|(path, data)| StoredFile { path, data }).collect()
}
