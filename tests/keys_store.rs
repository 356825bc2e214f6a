//! Key stores: lookups, revocation (also through reload), duplicates,
//! refusals, and the zeroize-on-drop guarantee of the key types.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use bulkhead::keys::{
    BundleSigningKey, Direction, FileKeyStore, FileKeyStoreConfig, KeyError, KeyId, KeyLookupError, KeyName, KeyStore,
    KeygenOptions, LinkKey, LinkSecret, LinkSuite, MemoryKeyStore, Overwrite, SecocKey, SecretBytes, generate_link_key,
    generate_secoc_key, generate_signing_key,
};
use zeroize::ZeroizeOnDrop;

struct Fixture {
    _dir: tempfile::TempDir,
    keys: PathBuf,
    revoked: PathBuf,
    head_unit_in: KeyId,
    head_unit_out: KeyId,
    telematics_in: KeyId,
}

fn link(dir: &Path, file: &str, device: &str, suite: LinkSuite, direction: Direction) -> KeyId {
    generate_link_key(device, suite, direction, &dir.join(file), &KeygenOptions::default()).expect("keygen")
}

/// A key directory with three link keys, a SecOC key and a bundle verifying
/// key, plus an empty revocation list beside it.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = dir.path().join("keys");
    fs::create_dir(&keys).expect("mkdir");
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o700)).expect("chmod");
    let head_unit_in = link(&keys, "head-unit-in.key", "head-unit", LinkSuite::Aes128Gcm, Direction::DeviceToGateway);
    let head_unit_out =
        link(&keys, "head-unit-out.key", "head-unit", LinkSuite::ChaCha20Poly1305, Direction::GatewayToDevice);
    let telematics_in =
        link(&keys, "telematics-in.key", "telematics", LinkSuite::ChaCha20Poly1305, Direction::DeviceToGateway);
    generate_secoc_key("powertrain", &keys.join("powertrain.key"), &KeygenOptions::default()).expect("keygen");
    let signing_dir = dir.path().join("signing");
    fs::create_dir(&signing_dir).expect("mkdir");
    generate_signing_key(&signing_dir.join("release.key"), &keys.join("release.pub"), Overwrite::Refuse)
        .expect("keygen");
    let revoked = dir.path().join("revoked.list");
    write_revocations(&revoked, &[]);
    Fixture { _dir: dir, keys, revoked, head_unit_in, head_unit_out, telematics_in }
}

fn config(fixture: &Fixture) -> FileKeyStoreConfig {
    FileKeyStoreConfig { revocation_list: Some(fixture.revoked.clone()), ..FileKeyStoreConfig::new(&fixture.keys) }
}

/// Replaces the revocation list atomically (as an operator's tool would).
fn write_revocations(path: &Path, ids: &[KeyId]) {
    let mut text = String::from("bulkhead-revoked v1\n# test list\n");
    for id in ids {
        text.push_str(&format!("{id}\n"));
    }
    let temporary = path.with_extension("tmp");
    fs::write(&temporary, text).expect("write");
    fs::set_permissions(&temporary, fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::rename(&temporary, path).expect("rename");
}

#[test]
fn file_store_lookups() {
    let fixture = fixture();
    let store = FileKeyStore::load(config(&fixture)).expect("loads");
    let store: &dyn KeyStore = &store;

    let key = store.link_key(fixture.head_unit_in).expect("known key");
    assert_eq!(key.device().as_str(), "head-unit");
    assert_eq!((key.suite(), key.direction()), (LinkSuite::Aes128Gcm, Direction::DeviceToGateway));
    let out = store.link_key(fixture.head_unit_out).expect("known key");
    assert_eq!((out.suite(), out.direction()), (LinkSuite::ChaCha20Poly1305, Direction::GatewayToDevice));
    assert_eq!(out.secret().expose().len(), 32);

    let info = store.link_key_info(fixture.telematics_in).expect("known id");
    assert_eq!(info.device.as_str(), "telematics");
    assert!(!info.revoked);
    let mut ids: Vec<KeyId> = store.link_keys().iter().map(|info| info.id).collect();
    let mut expected = vec![fixture.head_unit_in, fixture.head_unit_out, fixture.telematics_in];
    expected.sort();
    assert_eq!(ids, expected);
    ids.dedup();
    assert_eq!(ids.len(), 3);

    let unknown = KeyId::from_u32(fixture.head_unit_in.get() ^ 1);
    assert_eq!(store.link_key(unknown).map(|_| ()), Err(KeyLookupError::Unknown(unknown)));
    assert_eq!(store.link_key(KeyId::from_u32(0)).map(|_| ()), Err(KeyLookupError::Unknown(KeyId::from_u32(0))));
    assert!(store.link_key_info(unknown).is_none());

    assert_eq!(store.secoc_key("powertrain").expect("SecOC key").secret().expose().len(), 16);
    assert!(store.secoc_key("chassis").is_none());
    assert_eq!(store.bundle_verifying_keys().len(), 1);
}

#[test]
fn revoked_ids_are_refused_from_the_list_and_the_configuration() {
    let fixture = fixture();
    write_revocations(&fixture.revoked, &[fixture.head_unit_in, KeyId::from_u32(0x0bad_f00d)]);
    let config = FileKeyStoreConfig { revoked: vec![fixture.telematics_in], ..config(&fixture) };
    let store = FileKeyStore::load(config).expect("loads");
    for id in [fixture.head_unit_in, fixture.telematics_in, KeyId::from_u32(0x0bad_f00d)] {
        assert_eq!(store.link_key(id).map(|_| ()), Err(KeyLookupError::Revoked(id)));
        assert!(store.is_revoked(id));
    }
    let info = store.link_key_info(fixture.head_unit_in).expect("still described");
    assert!(info.revoked);
    assert_eq!(info.device.as_str(), "head-unit");
    assert!(store.link_key(fixture.head_unit_out).is_ok());
}

#[test]
fn a_key_revoked_by_a_reload_is_refused_afterwards() {
    let fixture = fixture();
    let mut store = FileKeyStore::load(config(&fixture)).expect("loads");
    assert!(store.link_key(fixture.head_unit_in).is_ok());

    write_revocations(&fixture.revoked, &[fixture.head_unit_in]);
    store.reload().expect("reloads");
    assert_eq!(store.link_key(fixture.head_unit_in).map(|_| ()), Err(KeyLookupError::Revoked(fixture.head_unit_in)));
    assert!(store.link_key(fixture.head_unit_out).is_ok());

    // A key added to the directory appears on reload; removing the revocation
    // entry and reloading un-revokes (only a full successful reload can).
    let added = link(&fixture.keys, "new.key", "dashcam", LinkSuite::Aes128Gcm, Direction::DeviceToGateway);
    write_revocations(&fixture.revoked, &[]);
    store.reload().expect("reloads");
    assert!(store.link_key(added).is_ok());
    assert!(store.link_key(fixture.head_unit_in).is_ok());
}

#[test]
fn a_failed_reload_keeps_the_store_but_still_applies_revocations() {
    let fixture = fixture();
    let mut store = FileKeyStore::load(config(&fixture)).expect("loads");
    fs::write(fixture.keys.join("broken.key"), "not a key file\n").expect("write");
    fs::set_permissions(fixture.keys.join("broken.key"), fs::Permissions::from_mode(0o600)).expect("chmod");
    write_revocations(&fixture.revoked, &[fixture.head_unit_out]);

    let error = store.reload().expect_err("broken key file");
    assert!(matches!(error, KeyError::Parse { .. }), "{error}");
    assert_eq!(
        store.link_key(fixture.head_unit_out).map(|_| ()),
        Err(KeyLookupError::Revoked(fixture.head_unit_out)),
        "revocation applies even though the reload failed"
    );
    assert!(store.link_key(fixture.head_unit_in).is_ok(), "the last good keys stay in force");

    // In-memory revocation works at once too.
    store.revoke(fixture.head_unit_in);
    assert_eq!(store.link_key(fixture.head_unit_in).map(|_| ()), Err(KeyLookupError::Revoked(fixture.head_unit_in)));
}

#[test]
fn duplicate_key_ids_are_an_error_naming_both_files() {
    let fixture = fixture();
    let original = fixture.keys.join("head-unit-in.key");
    let copy = fixture.keys.join("zz-copy.key");
    fs::copy(&original, &copy).expect("copy");
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o600)).expect("chmod");
    match FileKeyStore::load(config(&fixture)) {
        Err(KeyError::DuplicateKeyId { id, first, second }) => {
            assert_eq!(id, fixture.head_unit_in);
            assert_eq!((first, second), (original, copy));
        }
        other => panic!("expected DuplicateKeyId, got {other:?}"),
    }
}

#[test]
fn duplicate_secoc_names_and_verifying_keys_are_errors() {
    let fixture = fixture();
    let secoc = fixture.keys.join("powertrain-2.key");
    fs::copy(fixture.keys.join("powertrain.key"), &secoc).expect("copy");
    let public = fixture.keys.join("release-2.pub");
    fs::copy(fixture.keys.join("release.pub"), &public).expect("copy");
    fs::set_permissions(&secoc, fs::Permissions::from_mode(0o600)).expect("chmod");
    fs::set_permissions(&public, fs::Permissions::from_mode(0o644)).expect("chmod");
    match FileKeyStore::load(config(&fixture)) {
        Err(KeyError::Several(problems)) => {
            assert_eq!(problems.len(), 2, "{problems:?}");
            assert!(
                problems.iter().any(|p| matches!(p, KeyError::DuplicateSecocName { name, .. } if name == "powertrain"))
            );
            assert!(problems.iter().any(|p| matches!(p, KeyError::DuplicateVerifyingKey { .. })));
        }
        other => panic!("expected two problems, got {other:?}"),
    }
}

#[test]
fn every_file_is_checked_and_all_problems_reported() {
    let fixture = fixture();
    let readable = fixture.keys.join("head-unit-in.key");
    fs::set_permissions(&readable, fs::Permissions::from_mode(0o644)).expect("chmod");
    std::os::unix::fs::symlink(fixture.keys.join("powertrain.key"), fixture.keys.join("alias.key")).expect("symlink");
    // Ignored: hidden files, other extensions, subdirectories.
    fs::write(fixture.keys.join(".editor-swap.key"), "junk").expect("write");
    fs::write(fixture.keys.join("README"), "junk").expect("write");
    fs::create_dir(fixture.keys.join("old.key")).expect("mkdir");
    match FileKeyStore::load(config(&fixture)) {
        Err(KeyError::Several(problems)) => {
            assert_eq!(problems.len(), 2, "{problems:?}");
            assert!(matches!(&problems[0], KeyError::Symlink { path } if path.ends_with("alias.key")));
            assert!(matches!(&problems[1], KeyError::InsecurePermissions { path, .. } if path == &readable));
            let message = KeyError::Several(problems).to_string();
            assert!(message.contains(&format!("chmod 600 {}", readable.display())), "{message}");
        }
        other => panic!("expected two problems, got {other:?}"),
    }
}

#[test]
fn signing_keys_and_misnamed_files_do_not_belong_in_a_store() {
    let fixture = fixture();
    let secret = fixture.keys.join("release-secret.key");
    generate_signing_key(&secret, &fixture.keys.join("x.pub.tmp"), Overwrite::Refuse).expect("keygen");
    assert!(
        matches!(FileKeyStore::load(config(&fixture)), Err(KeyError::SigningKeyInStore { path }) if path == secret)
    );
    fs::remove_file(&secret).expect("rm");

    fs::rename(fixture.keys.join("telematics-in.key"), fixture.keys.join("telematics.pub")).expect("rename");
    assert!(matches!(FileKeyStore::load(config(&fixture)), Err(KeyError::MisnamedKeyFile { extension: "pub", .. })));
}

#[test]
fn insecure_directories_and_missing_lists_are_refused() {
    let fixture = fixture();
    fs::set_permissions(&fixture.keys, fs::Permissions::from_mode(0o777)).expect("chmod");
    match FileKeyStore::load(config(&fixture)) {
        Err(error @ KeyError::InsecureDirectory { .. }) => assert!(error.to_string().contains("chmod go-w")),
        other => panic!("expected InsecureDirectory, got {other:?}"),
    }
    fs::set_permissions(&fixture.keys, fs::Permissions::from_mode(0o755)).expect("chmod");
    assert!(FileKeyStore::load(config(&fixture)).is_ok());

    fs::remove_file(&fixture.revoked).expect("rm");
    assert!(
        matches!(FileKeyStore::load(config(&fixture)), Err(KeyError::Io { action: "open", .. })),
        "a configured revocation list that is missing fails closed"
    );
    fs::write(&fixture.revoked, "bulkhead-revoked v1\n").expect("write");
    fs::set_permissions(&fixture.revoked, fs::Permissions::from_mode(0o666)).expect("chmod");
    assert!(matches!(FileKeyStore::load(config(&fixture)), Err(KeyError::InsecurePermissions { .. })));
}

fn link_key(id: u32, device: &str) -> LinkKey {
    LinkKey::new(
        KeyId::from_u32(id),
        KeyName::new(device).expect("name"),
        Direction::DeviceToGateway,
        LinkSecret::Aes128Gcm(SecretBytes::new([id as u8; 16])),
    )
}

#[test]
fn memory_store() {
    let mut store = MemoryKeyStore::new();
    store.insert_link(link_key(10, "a")).expect("new id");
    store.insert_link(link_key(11, "b")).expect("new id");
    assert!(matches!(store.insert_link(link_key(10, "c")), Err(KeyError::DuplicateKeyId { .. })));
    assert!(matches!(store.insert_link(link_key(0, "c")), Err(KeyError::InvalidArgument { .. })));
    let secoc = SecocKey::new(KeyName::new("zone").expect("name"), SecretBytes::new([1; 16]));
    store.insert_secoc(secoc.clone()).expect("new name");
    assert!(matches!(store.insert_secoc(secoc), Err(KeyError::DuplicateSecocName { .. })));
    let public = BundleSigningKey::generate().expect("random").verifying_key();
    store.insert_verifying(public.clone()).expect("new key");
    assert!(matches!(store.insert_verifying(public), Err(KeyError::DuplicateVerifyingKey { .. })));

    assert_eq!(store.link_key(KeyId::from_u32(10)).expect("known").device().as_str(), "a");
    store.revoke(KeyId::from_u32(10));
    assert_eq!(store.link_key(KeyId::from_u32(10)).map(|_| ()), Err(KeyLookupError::Revoked(KeyId::from_u32(10))));
    // A key inserted after its id was revoked is refused too.
    store.revoke(KeyId::from_u32(12));
    store.insert_link(link_key(12, "d")).expect("new id");
    assert!(store.link_key(KeyId::from_u32(12)).is_err());
    assert!(store.link_key(KeyId::from_u32(11)).is_ok());
}

fn wipes_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secret_types_zeroize_on_drop() {
    wipes_on_drop::<SecretBytes<16>>();
    wipes_on_drop::<SecretBytes<32>>();
    wipes_on_drop::<LinkSecret>();
    wipes_on_drop::<LinkKey>();
    wipes_on_drop::<SecocKey>();
    wipes_on_drop::<BundleSigningKey>();
}
