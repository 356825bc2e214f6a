//! Signing and verifying rule bundles, and every refusal the verifier makes.

mod bundle_support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use bulkhead::bundle::{
    BundleError, FileRole, LastGoodBundle, PathProblem, SignOptions, build_signed_bundle, check_bundle, decode, encode,
    sign, verify,
};
use bulkhead::keys::{KeyError, Overwrite, generate_signing_key};
use bundle_support::*;

#[test]
fn sign_then_verify_gives_every_file_by_path() {
    let project = project();
    let key = signing_key(1);
    let signed = build_signed_bundle(&key, project.rule_files(), None, CREATED).expect("signs");
    let paths: Vec<&str> = signed.manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["dbc/vehicle.dbc", "rules/body.dbc", "rules/gateway.toml"]);

    let verified = verify(&signed.bytes, &[key.verifying_key()]).expect("verifies");
    assert_eq!(verified.created_unix_seconds(), CREATED);
    assert_eq!(verified.signer(), key.fingerprint());
    assert_eq!(verified.files().len(), 3);
    let rules: Vec<_> = verified.rule_files().collect();
    assert_eq!(rules.len(), 1);
    let rule = rules[0];
    assert_eq!(rule.bytes(), RULES.as_bytes());
    assert_eq!(rule.role(), FileRole::Rules);
    // The rule compiler resolves the rule file's references inside the bundle.
    assert_eq!(verified.resolve(rule.path(), "../dbc/vehicle.dbc").expect("present").bytes(), VEHICLE_DBC.as_bytes());
    assert_eq!(verified.resolve(rule.path(), "./body.dbc").expect("present").bytes(), BODY_DBC.as_bytes());
    assert!(matches!(verified.resolve(rule.path(), "../../etc/passwd"), Err(BundleError::PathEscape { .. })));
    assert!(matches!(verified.resolve(rule.path(), "other.dbc"), Err(BundleError::FileMissing { .. })));
    assert_eq!(verified.file("rules/body.dbc").expect("present").role(), FileRole::Dbc);
    assert!(verified.file("rules").is_none());

    // Signing is deterministic (Ed25519 and a sorted manifest).
    let again = build_signed_bundle(&key, project.rule_files(), None, CREATED).expect("signs");
    assert_eq!(again.bytes, signed.bytes);
}

#[test]
fn sign_command_writes_a_bundle_that_check_accepts() {
    let project = project();
    let keys = project.dir.path().join("keys");
    fs::create_dir(&keys).expect("mkdir");
    let (secret, public) = (keys.join("release.key"), keys.join("release.pub"));
    generate_signing_key(&secret, &public, Overwrite::Refuse).expect("keygen");
    let out = project.dir.path().join("gateway.bundle");
    let options =
        SignOptions { created_unix_seconds: CREATED, root: Some(project.root.clone()), overwrite: Overwrite::Refuse };

    let signed = sign(&secret, project.rule_files(), &out, &options).expect("signs");
    assert_eq!(fs::read(&out).expect("read"), signed.bytes);
    assert_eq!(fs::metadata(&out).expect("metadata").permissions().mode() & 0o022, 0);
    let verified = check_bundle(&out, std::slice::from_ref(&public)).expect("checks");
    assert_eq!(verified.files().len(), 3);

    assert!(matches!(sign(&secret, project.rule_files(), &out, &options), Err(BundleError::AlreadyExists { .. })));
    let newer = SignOptions { created_unix_seconds: CREATED + 60, overwrite: Overwrite::Allow, ..options.clone() };
    sign(&secret, project.rule_files(), &out, &newer).expect("overwrite asked for");
    assert_eq!(check_bundle(&out, std::slice::from_ref(&public)).expect("checks").created_unix_seconds(), CREATED + 60);

    // The signing key is loaded with the key layer's checks.
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o640)).expect("chmod");
    let other_out = project.dir.path().join("other.bundle");
    assert!(matches!(
        sign(&secret, project.rule_files(), &other_out, &options),
        Err(BundleError::Key(KeyError::InsecurePermissions { .. }))
    ));
    assert!(matches!(
        sign(&public, project.rule_files(), &other_out, &options),
        Err(BundleError::Key(KeyError::WrongKeyKind { .. }))
    ));
    assert!(!other_out.exists());
}

#[test]
fn bundle_paths_follow_the_root() {
    let project = project();
    let key = signing_key(1);
    let rules_dir = project.root.join("rules");
    let signed = build_signed_bundle(&key, project.rule_files(), Some(project.dir.path()), CREATED).expect("signs");
    assert!(signed.manifest.files.iter().all(|f| f.path.as_str().starts_with("project/")));
    match build_signed_bundle(&key, project.rule_files(), Some(&rules_dir), CREATED) {
        Err(BundleError::OutsideRoot { path, .. }) => assert!(path.ends_with("dbc/vehicle.dbc")),
        other => panic!("expected OutsideRoot, got {other:?}"),
    }
}

#[test]
fn rule_file_problems_are_located() {
    let project = project();
    let key = signing_key(1);
    write(&project.rules, b"[ports.drive]\ndbc = [\"../dbc/vehicle.dbc\", \"../dbc/missing.dbc\"]\n");
    match build_signed_bundle(&key, project.rule_files(), None, CREATED) {
        Err(error @ BundleError::DbcNotFound { .. }) => {
            let diagnostic = error.to_diagnostic().expect("located");
            assert_eq!((diagnostic.location.line, diagnostic.location.column), (2, 30));
            assert!(error.to_string().contains("missing.dbc"));
        }
        other => panic!("expected DbcNotFound, got {other:?}"),
    }
    write(&project.rules, b"[ports.drive]\ndbc = [\"a.dbc\"\n");
    assert!(matches!(
        build_signed_bundle(&key, project.rule_files(), None, CREATED),
        Err(BundleError::RuleFile { .. })
    ));
    let missing = project.root.join("rules/none.toml");
    assert!(matches!(build_signed_bundle(&key, &[missing], None, CREATED), Err(BundleError::Io { .. })));
    // A DBC file given as a rule file too.
    write(&project.rules, b"[ports.drive]\ndbc = [\"body.dbc\"]\n");
    let both = [project.rules.clone(), project.root.join("rules/body.dbc")];
    write(&both[1], b"[ports.x]\n");
    assert!(matches!(build_signed_bundle(&key, &both, None, CREATED), Err(BundleError::RoleConflict { .. })));
}

#[test]
fn wrong_and_missing_keys_are_refused() {
    let (bytes, trusted) = small_bundle();
    let stranger = signing_key(2).verifying_key();
    match verify(&bytes, std::slice::from_ref(&stranger)) {
        Err(BundleError::UntrustedSigner { fingerprint }) => assert_eq!(fingerprint, trusted.fingerprint()),
        other => panic!("expected UntrustedSigner, got {other:?}"),
    }
    assert!(matches!(verify(&bytes, &[]), Err(BundleError::NoTrustedKeys)));
    assert!(verify(&bytes, &[stranger, trusted]).is_ok(), "any trusted key may sign");
}

#[test]
fn unsigned_bundles_are_refused() {
    let (bytes, trusted) = small_bundle();
    let (manifest, files) = parts(&bytes);
    let unsigned = encode(&manifest, &stored(&files), None).expect("encodes");
    assert!(matches!(verify(&unsigned, &[trusted]), Err(BundleError::SignatureMissing)));
}

#[test]
fn truncation_at_every_length_is_refused() {
    let (bytes, trusted) = small_bundle();
    for len in 0..bytes.len() {
        match verify(&bytes[..len], std::slice::from_ref(&trusted)) {
            Err(BundleError::Truncated { available, .. }) => assert_eq!(available, len as u64),
            other => panic!("length {len}: expected Truncated, got {other:?}"),
        }
    }
    assert!(verify(&bytes, &[trusted]).is_ok());
}

#[test]
fn structural_refusals() {
    let (bytes, trusted) = small_bundle();
    let trusted = [trusted];
    assert!(matches!(verify(b"PK\x03\x04 not a bundle at all, a zip file", &trusted), Err(BundleError::NotABundle)));
    let mut newer = bytes.clone();
    newer[17] = 2;
    assert!(matches!(verify(&newer, &trusted), Err(BundleError::UnsupportedVersion { found: 2, supported: 1 })));
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"extra");
    assert!(matches!(verify(&longer, &trusted), Err(BundleError::TrailingData { extra: 5 })));
}

#[test]
fn a_swapped_file_is_named() {
    let (bytes, trusted) = small_bundle();
    let (manifest, mut files) = parts(&bytes);
    let body = files.iter_mut().find(|(path, _)| path == b"rules/body.dbc").expect("present");
    body.1 = BODY_DBC.replace("Unlock", "Unlokc").into_bytes(); // same length, other content
    let container = decode(&bytes).expect("decodes");
    let original = container.signature.expect("signed");
    let swapped = encode(&manifest, &stored(&files), Some(&|_: &[u8]| original)).expect("encodes");
    assert_eq!(swapped.len(), bytes.len());
    match verify(&swapped, &[trusted]) {
        Err(error @ BundleError::HashMismatch { .. }) => assert!(error.to_string().contains("rules/body.dbc")),
        other => panic!("expected HashMismatch, got {other:?}"),
    }
}

#[test]
fn validly_signed_but_inconsistent_bundles_are_refused() {
    let (bytes, _) = small_bundle();
    let key = signing_key(1);
    let trusted = [key.verifying_key()];
    let (manifest, files) = parts(&bytes);
    let manifest_text = String::from_utf8(manifest.clone()).expect("text");

    // Listed but missing.
    let missing: Vec<_> = files.iter().filter(|(path, _)| path != b"dbc/vehicle.dbc").cloned().collect();
    match verify(&signed(&manifest, &stored(&missing), &key), &trusted) {
        Err(BundleError::FileMissing { path }) => assert_eq!(path, "dbc/vehicle.dbc"),
        other => panic!("expected FileMissing, got {other:?}"),
    }
    // Present but not listed.
    let mut extra = files.clone();
    extra.push((b"rules/zz-extra.toml".to_vec(), b"[ports.x]\n".to_vec()));
    match verify(&signed(&manifest, &stored(&extra), &key), &trusted) {
        Err(BundleError::ExtraFile { path }) => assert_eq!(path, "rules/zz-extra.toml"),
        other => panic!("expected ExtraFile, got {other:?}"),
    }
    // Stored twice.
    let mut twice = files.clone();
    twice.push(files[0].clone());
    assert!(matches!(
        verify(&signed(&manifest, &stored(&twice), &key), &trusted),
        Err(BundleError::DuplicatePath { .. })
    ));
    // Size differs from the manifest.
    let mut resized = files.clone();
    resized[0].1.push(b'\n');
    assert!(matches!(
        verify(&signed(&manifest, &stored(&resized), &key), &trusted),
        Err(BundleError::SizeMismatch { listed, actual, .. }) if actual == listed + 1
    ));
    // Paths escaping the bundle, in the manifest and in the payload.
    let escaping = manifest_text.replace("dbc/vehicle.dbc", "../vehicle.dbc");
    assert!(matches!(
        verify(&signed(escaping.as_bytes(), &stored(&files), &key), &trusted),
        Err(BundleError::PathEscape { problem: PathProblem::ParentComponent, .. })
    ));
    let mut absolute = files.clone();
    absolute[0].0 = b"/etc/vehicle.dbc".to_vec();
    assert!(matches!(
        verify(&signed(&manifest, &stored(&absolute), &key), &trusted),
        Err(BundleError::PathEscape { problem: PathProblem::Absolute, .. })
    ));
    // A manifest with a problem of its own.
    let bad = manifest_text.replace("created ", "created at ");
    assert!(matches!(
        verify(&signed(bad.as_bytes(), &stored(&files), &key), &trusted),
        Err(BundleError::Manifest { line: 2, .. })
    ));
}

#[test]
fn the_last_good_bundle_stays_in_force() {
    let project = project();
    let key = signing_key(1);
    let trusted = [key.verifying_key()];
    let build = |created| build_signed_bundle(&key, project.rule_files(), None, created).expect("signs").bytes;
    let mut slot = LastGoodBundle::new();
    assert!(slot.current().is_none());
    slot.offer(&build(CREATED), &trusted).expect("first bundle");

    let mut tampered = build(CREATED + 10);
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    assert!(matches!(slot.offer(&tampered, &trusted), Err(BundleError::BadSignature { .. })));
    assert!(matches!(
        slot.offer(&build(CREATED + 10), &[signing_key(9).verifying_key()]),
        Err(BundleError::UntrustedSigner { .. })
    ));
    assert_eq!(slot.current().expect("in force").created_unix_seconds(), CREATED);

    slot.offer(&build(CREATED + 10), &trusted).expect("newer bundle");
    match slot.offer(&build(CREATED + 5), &trusted) {
        Err(BundleError::Rollback { offered, in_force }) => {
            assert_eq!((offered, in_force), (CREATED + 5, CREATED + 10))
        }
        other => panic!("expected Rollback, got {other:?}"),
    }
    assert_eq!(slot.current().expect("in force").created_unix_seconds(), CREATED + 10);
    slot.offer(&build(CREATED + 10), &trusted).expect("same age is accepted (re-deploy)");
}

#[test]
fn bundles_real_dbc_files() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dbc/opendbc/current");
    if !data.is_dir() {
        eprintln!("skipped: {} is absent (the shared real-world data set)", data.display());
        return;
    }
    let project = project();
    // Two Tesla files and the Toyota SecOC include fragment (bundled byte for byte).
    let names = ["tesla_can.dbc", "tesla_powertrain.dbc", "generator/toyota/toyota_secoc_pt.dbc"];
    for name in names {
        let bytes = fs::read(data.join(name)).unwrap_or_else(|e| panic!("{}: {e}", data.join(name).display()));
        write(&project.root.join("dbc").join(name), &bytes);
    }
    let list = names.iter().map(|n| format!("\"../dbc/{n}\"")).collect::<Vec<_>>().join(", ");
    write(&project.rules, format!("[ports.drive]\nkind = \"can\"\ndbc = [{list}]\n").as_bytes());
    let key = signing_key(3);
    let signed = build_signed_bundle(&key, project.rule_files(), None, CREATED).expect("signs");
    let verified = verify(&signed.bytes, &[key.verifying_key()]).expect("verifies");
    for name in names {
        let original = fs::read(data.join(name)).expect("read");
        assert_eq!(verified.file(&format!("dbc/{name}")).expect("bundled").bytes(), original.as_slice(), "{name}");
    }
}
