//! Fuzzes the bundle reader and verifier. Random bytes almost never carry a
//! valid signature, so besides verifying the input as it is, the target
//! re-signs whatever decodes as a container with the trusted key and verifies
//! that: the manifest parser, the path checks and the file comparisons are
//! then reached with arbitrary content. No input may panic, and anything that
//! verifies must be internally consistent.
#![no_main]

use std::sync::LazyLock;

use bulkhead::bundle::{Manifest, SignatureBlock, decode, encode, verify};
use bulkhead::keys::{BundleSigningKey, BundleVerifyingKey, SecretBytes};
use libfuzzer_sys::fuzz_target;

static KEY: LazyLock<BundleSigningKey> = LazyLock::new(|| BundleSigningKey::from_seed(&SecretBytes::new([0x42; 32])));
static TRUSTED: LazyLock<[BundleVerifyingKey; 1]> = LazyLock::new(|| [KEY.verifying_key()]);

fn check(bytes: &[u8]) {
    match verify(bytes, &*TRUSTED) {
        Ok(bundle) => {
            assert!(bundle.rule_files().next().is_some());
            let paths: Vec<&str> = bundle.files().iter().map(|f| f.path().as_str()).collect();
            assert!(paths.windows(2).all(|w| w[0] < w[1]), "paths sorted and unique");
            for file in bundle.files() {
                assert!(bundle.file(file.path().as_str()).is_some());
                assert!(!file.path().as_str().split('/').any(|c| c == ".." || c.is_empty()));
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let _ = Manifest::parse(data);
    if let Ok(container) = decode(data) {
        let public = KEY.verifying_key().to_bytes();
        let signer = |message: &[u8]| SignatureBlock { signer: public, signature: KEY.sign_message(message) };
        if let Ok(resigned) = encode(container.manifest, &container.files, Some(&signer)) {
            check(&resigned);
        }
    }
});
