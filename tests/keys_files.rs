//! Key files: generation, round trips, every parse error, permission checks.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use bulkhead::keys::{
    Direction, KEY_FILE_HEADER, KeyError, KeyFile, KeyFileProblem, KeyId, KeyKind, KeygenOptions, LinkSuite, Overwrite,
    effective_uid, generate_link_key, generate_secoc_key, generate_signing_key, load_key_file, load_signing_key,
    load_verifying_key, parse_key_file, render_key_file,
};

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn new_link_key(dir: &Path, name: &str, suite: LinkSuite) -> (PathBuf, KeyId) {
    let path = dir.join(name);
    let id = generate_link_key("head-unit", suite, Direction::DeviceToGateway, &path, &KeygenOptions::default())
        .expect("keygen");
    (path, id)
}

#[test]
fn generated_link_keys_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, suite, direction) in [
        ("a.key", LinkSuite::Aes128Gcm, Direction::DeviceToGateway),
        ("c.key", LinkSuite::ChaCha20Poly1305, Direction::GatewayToDevice),
    ] {
        let path = dir.path().join(name);
        let id = generate_link_key("ecu-7.rear", suite, direction, &path, &KeygenOptions::default()).expect("keygen");
        assert_eq!(mode_of(&path), 0o600, "secret key files are created 0600");
        let KeyFile::Link(key) = load_key_file(&path).expect("loads") else { panic!("not a link key") };
        assert_eq!((key.id(), key.suite(), key.direction()), (id, suite, direction));
        assert_eq!(key.device().as_str(), "ecu-7.rear");
        assert_eq!(key.secret().expose().len(), suite.key_len());
        assert!(key.secret().expose().iter().any(|&b| b != 0));
        // Rendering what was parsed gives back the file byte for byte.
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(render_key_file(&KeyFile::Link(key)).as_str(), text);
    }
}

#[test]
fn generated_secoc_and_signing_keys_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secoc = dir.path().join("brakes.key");
    generate_secoc_key("brake-zone", &secoc, &KeygenOptions::default()).expect("keygen");
    assert_eq!(mode_of(&secoc), 0o600);
    let KeyFile::Secoc(key) = load_key_file(&secoc).expect("loads") else { panic!("not a SecOC key") };
    assert_eq!(key.name().as_str(), "brake-zone");

    let secret = dir.path().join("release.key");
    let public = dir.path().join("release.pub");
    let fingerprint = generate_signing_key(&secret, &public, Overwrite::Refuse).expect("keygen");
    assert_eq!(mode_of(&secret), 0o600);
    assert_eq!(mode_of(&public) & 0o022, 0, "public key file not writable by others");
    let signing = load_signing_key(&secret).expect("loads");
    let verifying = load_verifying_key(&public).expect("loads");
    assert_eq!(signing.verifying_key(), verifying);
    assert_eq!(signing.fingerprint(), fingerprint);
    assert!(verifying.verify_message(b"m", &signing.sign_message(b"m")));
    assert!(matches!(
        load_signing_key(&public),
        Err(KeyError::WrongKeyKind { expected: KeyKind::SigningSecret, found: KeyKind::VerifyingPublic, .. })
    ));
    assert!(matches!(generate_signing_key(&secret, &secret, Overwrite::Allow), Err(KeyError::SamePath { .. })));
}

#[test]
fn key_ids_are_random_and_unique_in_a_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ids: Vec<u32> =
        (0..24).map(|i| new_link_key(dir.path(), &format!("k{i}.key"), LinkSuite::Aes128Gcm).1.get()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    assert!(ids.iter().all(|&id| id != 0));
    let steps_of_one = ids.windows(2).filter(|w| w[1].wrapping_sub(w[0]) == 1).count();
    assert!(steps_of_one < 3, "ids look sequential: {ids:x?}");
}

#[test]
fn overwriting_is_refused_unless_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, first) = new_link_key(dir.path(), "a.key", LinkSuite::Aes128Gcm);
    let before = fs::read(&path).expect("read");
    let again = generate_link_key(
        "head-unit",
        LinkSuite::Aes128Gcm,
        Direction::DeviceToGateway,
        &path,
        &KeygenOptions::default(),
    );
    match again {
        Err(error @ KeyError::AlreadyExists { .. }) => assert!(error.to_string().contains("refusing to overwrite")),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(fs::read(&path).expect("read"), before, "the existing key is untouched");
    for (secret, public) in [("a.key", "new.pub"), ("new.key", "a.key")] {
        let refused = generate_signing_key(&dir.path().join(secret), &dir.path().join(public), Overwrite::Refuse);
        assert!(matches!(refused, Err(KeyError::AlreadyExists { .. })), "{secret} {public}");
    }
    assert!(!dir.path().join("new.key").exists() && !dir.path().join("new.pub").exists());

    let options = KeygenOptions { overwrite: Overwrite::Allow, revocation_list: None };
    let second = generate_link_key("head-unit", LinkSuite::Aes128Gcm, Direction::DeviceToGateway, &path, &options)
        .expect("overwrite asked for");
    assert_ne!(first, second);
    assert_ne!(fs::read(&path).expect("read"), before);
    assert_eq!(mode_of(&path), 0o600);
}

#[test]
fn keygen_refuses_bad_names_and_duplicate_secoc_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = generate_link_key(
        "head unit",
        LinkSuite::Aes128Gcm,
        Direction::DeviceToGateway,
        &dir.path().join("x.key"),
        &KeygenOptions::default(),
    );
    assert!(matches!(bad, Err(KeyError::InvalidArgument { what: "device name", .. })));
    assert!(!dir.path().join("x.key").exists());
    generate_secoc_key("zone-1", &dir.path().join("z1.key"), &KeygenOptions::default()).expect("keygen");
    let duplicate = generate_secoc_key("zone-1", &dir.path().join("z2.key"), &KeygenOptions::default());
    assert!(matches!(duplicate, Err(KeyError::DuplicateSecocName { .. })));
}

#[test]
fn keygen_avoids_ids_of_the_revocation_list_and_reads_it_strictly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("revoked");
    fs::write(&list, "bulkhead-revoked v1\n0x00000001\n").expect("write");
    chmod(&list, 0o600);
    let options = KeygenOptions { overwrite: Overwrite::Refuse, revocation_list: Some(list.clone()) };
    let id =
        generate_link_key("d", LinkSuite::Aes128Gcm, Direction::DeviceToGateway, &dir.path().join("a.key"), &options)
            .expect("keygen");
    assert_ne!(id.get(), 1);
    fs::write(&list, "bulkhead-revoked v1\nnonsense\n").expect("write");
    let refused =
        generate_link_key("d", LinkSuite::Aes128Gcm, Direction::DeviceToGateway, &dir.path().join("b.key"), &options);
    assert!(matches!(refused, Err(KeyError::Parse { problem: KeyFileProblem::BadKeyId, .. })));
}

#[test]
fn secret_files_readable_or_writable_by_others_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = new_link_key(dir.path(), "a.key", LinkSuite::ChaCha20Poly1305);
    for mode in [0o644, 0o640, 0o604, 0o660, 0o606, 0o700 | 0o004] {
        chmod(&path, mode);
        match load_key_file(&path) {
            Err(error @ KeyError::InsecurePermissions { .. }) => {
                let message = error.to_string();
                assert!(message.contains(&format!("chmod 600 {}", path.display())), "{message}");
                assert!(message.contains(&format!("{mode:04o}")), "{message}");
            }
            other => panic!("mode {mode:o}: expected a refusal, got {other:?}"),
        }
    }
    for mode in [0o600, 0o400] {
        chmod(&path, mode);
        assert!(load_key_file(&path).is_ok(), "mode {mode:o} must be accepted");
    }
}

#[test]
fn public_files_writable_by_others_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("s.key");
    let public = dir.path().join("s.pub");
    generate_signing_key(&secret, &public, Overwrite::Refuse).expect("keygen");
    for mode in [0o644, 0o444, 0o600] {
        chmod(&public, mode);
        assert!(load_verifying_key(&public).is_ok(), "mode {mode:o}");
    }
    for mode in [0o664, 0o646] {
        chmod(&public, mode);
        match load_verifying_key(&public) {
            Err(error @ KeyError::InsecurePermissions { .. }) => {
                assert!(error.to_string().contains(&format!("chmod go-w {}", public.display())));
            }
            other => panic!("mode {mode:o}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn symlinks_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = new_link_key(dir.path(), "a.key", LinkSuite::Aes128Gcm);
    let link = dir.path().join("link.key");
    symlink(&path, &link).expect("symlink");
    match load_key_file(&link) {
        Err(error @ KeyError::Symlink { .. }) => assert!(error.to_string().contains("symbolic link")),
        other => panic!("expected a symlink refusal, got {other:?}"),
    }
}

#[test]
fn files_owned_by_another_user_are_refused() {
    if effective_uid() != 0 {
        eprintln!("skipped: changing a file's owner needs root");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, _) = new_link_key(dir.path(), "a.key", LinkSuite::Aes128Gcm);
    std::os::unix::fs::chown(&path, Some(4242), None).expect("chown");
    match load_key_file(&path) {
        Err(error @ KeyError::WrongOwner { owner: 4242, expected: 0, .. }) => {
            assert!(error.to_string().contains(&format!("chown 0 {}", path.display())));
        }
        other => panic!("expected an owner refusal, got {other:?}"),
    }
}

#[test]
fn directories_and_missing_files_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(load_key_file(dir.path()), Err(KeyError::NotRegularFile { .. })));
    assert!(matches!(load_key_file(&dir.path().join("absent.key")), Err(KeyError::Io { action: "open", .. })));
}

const SECRET16: &str = "00112233445566778899aabbccddeeff";

fn link(fields: &str) -> String {
    format!("{KEY_FILE_HEADER}\n{fields}")
}

fn full_link(secret: &str) -> String {
    link(&format!(
        "type = link\nkey-id = 0x5f1c2a9e\nsuite = aes-128-gcm\ndevice = head-unit\ndirection = device-to-gateway\nsecret = {secret}\n"
    ))
}

/// (source, line, column, problem)
fn parse_error_cases() -> Vec<(String, u32, u32, KeyFileProblem)> {
    // RFC 8032 test 1's secret with test 2's public key: both valid, not a pair.
    let other_public = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    let secret32 = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    vec![
        ("".into(), 1, 1, KeyFileProblem::MissingHeader { expected: KEY_FILE_HEADER }),
        ("# only a comment\n\n".into(), 1, 1, KeyFileProblem::MissingHeader { expected: KEY_FILE_HEADER }),
        ("type = link\n".into(), 1, 1, KeyFileProblem::MissingHeader { expected: KEY_FILE_HEADER }),
        ("bulkhead-keys v1\n".into(), 1, 1, KeyFileProblem::MissingHeader { expected: KEY_FILE_HEADER }),
        (
            "# c\nbulkhead-key v2\n".into(),
            2,
            1,
            KeyFileProblem::UnsupportedVersion { found: "v2".into(), supported: "v1" },
        ),
        (link("type link\n"), 2, 1, KeyFileProblem::ExpectedField),
        (link("  colour = red\n"), 2, 3, KeyFileProblem::UnknownField { field: "colour".into() }),
        (
            link("type = secoc\nname = a\ntype = secoc\n"),
            4,
            1,
            KeyFileProblem::DuplicateField { field: "type", first_line: 2 },
        ),
        (link("type =   \n"), 2, 7, KeyFileProblem::EmptyValue { field: "type" }),
        (link("name = a\n"), 3, 1, KeyFileProblem::MissingType),
        (link("type = rsa\n"), 2, 8, KeyFileProblem::UnknownKind { found: "rsa".into() }),
        (link("type = secoc\nname = zone\n"), 4, 1, KeyFileProblem::MissingField { field: "secret", kind: "secoc" }),
        (
            link(&format!("type = secoc\nname = zone\nsecret = {SECRET16}\nsuite = aes-128-gcm\n")),
            5,
            1,
            KeyFileProblem::FieldNotAllowed { field: "suite", kind: "secoc" },
        ),
        (full_link(SECRET16).replace("0x5f1c2a9e", "5f1c2a9e"), 3, 10, KeyFileProblem::BadKeyId),
        (full_link(SECRET16).replace("0x5f1c2a9e", "0x00000000"), 3, 10, KeyFileProblem::ReservedKeyId),
        (
            full_link(SECRET16).replace("aes-128-gcm", "aes-256-gcm"),
            4,
            9,
            KeyFileProblem::UnknownSuite { found: "aes-256-gcm".into() },
        ),
        (
            full_link(SECRET16).replace("device-to-gateway", "both"),
            6,
            13,
            KeyFileProblem::UnknownDirection { found: "both".into() },
        ),
        (
            full_link(SECRET16).replace("head-unit", "head/unit"),
            5,
            10,
            KeyFileProblem::BadName { reason: "the name holds a character outside A-Z a-z 0-9 . _ -" },
        ),
        (full_link("00112233445566778899aabbccddeeZZ"), 7, 40, KeyFileProblem::NotHexDigit { field: "secret" }),
        (
            full_link(SECRET16).replace("aes-128-gcm", "chacha20-poly1305"),
            7,
            10,
            KeyFileProblem::WrongKeyLength { field: "secret", expected_bytes: 32, found_digits: 32 },
        ),
        (
            full_link("0011"),
            7,
            10,
            KeyFileProblem::WrongKeyLength { field: "secret", expected_bytes: 16, found_digits: 4 },
        ),
        (
            link(&format!("type = ed25519-public\npublic = 01{}\n", "0".repeat(62))),
            3,
            10,
            KeyFileProblem::InvalidPublicKey,
        ),
        (
            link(&format!("type = ed25519-secret\nsecret = {secret32}\npublic = {other_public}\n")),
            4,
            10,
            KeyFileProblem::PublicKeyMismatch,
        ),
    ]
}

#[test]
fn every_parse_error_is_located() {
    for (source, line, column, expected) in parse_error_cases() {
        match parse_key_file("k.key", source.as_bytes()) {
            Err(KeyError::Parse { location, problem }) => {
                assert_eq!((location.line, location.column, &problem), (line, column, &expected), "source:\n{source}");
                assert_eq!(&*location.file, "k.key");
            }
            other => panic!("expected {expected:?} for:\n{source}\ngot {other:?}"),
        }
    }
}

#[test]
fn size_and_encoding_errors() {
    let big = format!("{KEY_FILE_HEADER}\n{}", "#".repeat(70_000));
    assert!(matches!(
        parse_key_file("k", big.as_bytes()),
        Err(KeyError::Parse { problem: KeyFileProblem::TooLarge { limit: 65_536, .. }, .. })
    ));
    match parse_key_file("k", b"bulkhead-key v1\ntype = link\xff\n") {
        Err(KeyError::Parse { location, problem: KeyFileProblem::NotUtf8 }) => {
            assert_eq!((location.line, location.column), (2, 12));
        }
        other => panic!("expected NotUtf8, got {other:?}"),
    }
}

#[test]
fn errors_never_show_secret_values() {
    for secret in ["00112233445566778899aabbccddeeZZ", "00112233445566778899aabbccddeeff00"] {
        let source = full_link(secret);
        let error = parse_key_file("k.key", source.as_bytes()).expect_err("malformed secret");
        let shown = format!("{error} {error:?} {}", error.to_diagnostic().expect("located"));
        assert!(!shown.contains("00112233"), "secret digits leaked: {shown}");
        assert!(shown.contains("secret = ****"), "{shown}");
    }
    // A misspelled field name must not reveal its value either.
    let source = link(&format!("type = link\nsecrte = {SECRET16}\n"));
    let error = parse_key_file("k.key", source.as_bytes()).expect_err("unknown field");
    assert!(!format!("{error} {error:?}").contains("0011223344"), "{error}");
}

#[test]
fn crlf_comments_and_spacing_are_accepted() {
    let source = full_link(SECRET16).replace('\n', "\r\n").replace("type = link", "# a comment\r\n\r\n   type=link   ");
    let KeyFile::Link(key) = parse_key_file("k", source.as_bytes()).expect("valid") else { panic!("kind") };
    assert_eq!(key.id().get(), 0x5f1c_2a9e);
}

mod properties {
    use bulkhead::keys::{
        Direction, KeyFile, KeyId, KeyName, LinkKey, LinkSecret, SecocKey, SecretBytes, parse_key_file,
        parse_revocation_list, render_key_file,
    };
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
    }

    fn link_key() -> impl Strategy<Value = LinkKey> {
        (1u32.., name(), any::<bool>(), any::<bool>(), any::<[u8; 32]>()).prop_map(
            |(id, device, outbound, chacha, bytes)| {
                let secret = if chacha {
                    LinkSecret::ChaCha20Poly1305(SecretBytes::new(bytes))
                } else {
                    let mut short = [0u8; 16];
                    short.copy_from_slice(&bytes[..16]);
                    LinkSecret::Aes128Gcm(SecretBytes::new(short))
                };
                let direction = if outbound { Direction::GatewayToDevice } else { Direction::DeviceToGateway };
                LinkKey::new(KeyId::from_u32(id), KeyName::new(&device).expect("valid name"), direction, secret)
            },
        )
    }

    proptest! {
        #[test]
        fn link_keys_round_trip(key in link_key()) {
            let text = render_key_file(&KeyFile::Link(key.clone()));
            let Ok(KeyFile::Link(back)) = parse_key_file("k.key", text.as_bytes()) else {
                panic!("rendered link key does not parse:\n{}", text.as_str())
            };
            prop_assert_eq!((back.id(), back.device(), back.direction(), back.suite()),
                (key.id(), key.device(), key.direction(), key.suite()));
            prop_assert!(back.secret().ct_eq(key.secret()));
        }

        #[test]
        fn secoc_keys_round_trip(name in name(), bytes in any::<[u8; 16]>()) {
            let key = SecocKey::new(KeyName::new(&name).expect("valid"), SecretBytes::new(bytes));
            let text = render_key_file(&KeyFile::Secoc(key));
            let Ok(KeyFile::Secoc(back)) = parse_key_file("k.key", text.as_bytes()) else { panic!("kind") };
            prop_assert_eq!(back.name().as_str(), name.as_str());
            prop_assert_eq!(back.secret().expose(), &bytes);
        }

        #[test]
        fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_key_file("k", &bytes).map_err(|e| e.to_string());
            let _ = parse_revocation_list("r", &bytes).map_err(|e| e.to_string());
        }

        #[test]
        fn mutated_key_files_never_panic(key in link_key(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut text = render_key_file(&KeyFile::Link(key)).as_bytes().to_vec();
            let at = at.index(text.len());
            text[at] = byte;
            if let Err(error) = parse_key_file("k", &text) {
                let _ = error.to_diagnostic().map(|d| d.to_string());
            }
        }
    }
}
