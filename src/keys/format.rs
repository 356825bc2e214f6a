//! The key file format, version 1 (described in `docs/keys.md`).
//!
//! ```text
//! # comments and blank lines are ignored
//! bulkhead-key v1
//! type = link
//! key-id = 0x5f1c2a9e
//! suite = aes-128-gcm
//! device = head-unit
//! direction = device-to-gateway
//! secret = 00112233445566778899aabbccddeeff
//! ```
//!
//! Parsing is strict: the header comes first, every field of the declared type
//! is present exactly once, no other field is, and every value is checked
//! (lengths, hex digits, names, ids). Errors point at file, line and column; the
//! line text they carry has its values masked so that no secret reaches a log.
//! Rendering writes into a [`Zeroizing`] buffer reserved up front.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::error::{KeyError, KeyFileProblem};
use super::id::{KeyId, KeyName};
use super::material::{
    BundleSigningKey, BundleVerifyingKey, Direction, KeyFile, KeyKind, LinkKey, LinkSecret, LinkSuite, SecocKey,
};
use super::secret::{HexProblem, SecretBytes, public_from_hex, to_hex};
use super::text::{Locator, Masking, SignificantLine, check_header, checked_text, significant_lines};

/// The first significant line of every version 1 key file.
pub const KEY_FILE_HEADER: &str = "bulkhead-key v1";

/// The largest key file accepted, in bytes.
pub const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// The fields of key files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Type,
    KeyId,
    Suite,
    Device,
    Direction,
    Name,
    Secret,
    Public,
}

const FIELDS: [Field; 8] = [
    Field::Type,
    Field::KeyId,
    Field::Suite,
    Field::Device,
    Field::Direction,
    Field::Name,
    Field::Secret,
    Field::Public,
];

impl Field {
    const fn name(self) -> &'static str {
        match self {
            Field::Type => "type",
            Field::KeyId => "key-id",
            Field::Suite => "suite",
            Field::Device => "device",
            Field::Direction => "direction",
            Field::Name => "name",
            Field::Secret => "secret",
            Field::Public => "public",
        }
    }

    fn from_name(name: &str) -> Option<Field> {
        FIELDS.into_iter().find(|field| field.name() == name)
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// The fields (besides `type`) a kind of key file has, all required.
const fn fields_of(kind: KeyKind) -> &'static [Field] {
    match kind {
        KeyKind::Link => &[Field::KeyId, Field::Suite, Field::Device, Field::Direction, Field::Secret],
        KeyKind::Secoc => &[Field::Name, Field::Secret],
        KeyKind::SigningSecret => &[Field::Secret, Field::Public],
        KeyKind::VerifyingPublic => &[Field::Public],
    }
}

/// One `field = value` line.
#[derive(Clone, Copy, Debug)]
struct FieldValue<'a> {
    line: u32,
    name_offset: usize,
    value_offset: usize,
    value: &'a str,
}

/// Parses a key file. `file_name` is used in error locations only.
pub fn parse_key_file(file_name: &str, source: &[u8]) -> Result<KeyFile, KeyError> {
    let locator = Locator::new(file_name, source, Masking::Secret);
    let text = checked_text(&locator, source, MAX_KEY_FILE_LEN)?;
    let mut lines = significant_lines(text);
    check_header(&locator, lines.next(), "bulkhead-key", "v1", KEY_FILE_HEADER)?;

    let mut values: [Option<FieldValue<'_>>; FIELDS.len()] = [None; FIELDS.len()];
    for line in lines {
        let (field, value) = split_field(&locator, line)?;
        let slot =
            values.get_mut(field.index()).ok_or_else(|| locator.error(line.offset, KeyFileProblem::ExpectedField))?;
        if let Some(first) = slot {
            return Err(locator
                .error(line.offset, KeyFileProblem::DuplicateField { field: field.name(), first_line: first.line }));
        }
        *slot = Some(value);
    }

    let get = |field: Field| values.get(field.index()).copied().flatten();
    let kind_value = get(Field::Type).ok_or_else(|| locator.error_at_end(KeyFileProblem::MissingType))?;
    let kind: KeyKind = kind_value.value.parse().map_err(|problem| locator.error(kind_value.value_offset, problem))?;

    let mut present: Vec<(Field, FieldValue<'_>)> =
        FIELDS.into_iter().filter(|&f| f != Field::Type).filter_map(|f| get(f).map(|v| (f, v))).collect();
    present.sort_by_key(|(_, v)| v.line);
    for (field, value) in &present {
        if !fields_of(kind).contains(field) {
            return Err(locator.error(
                value.name_offset,
                KeyFileProblem::FieldNotAllowed { field: field.name(), kind: kind.as_str() },
            ));
        }
    }
    let required = |field: Field| {
        get(field).ok_or_else(|| {
            locator.error_at_end(KeyFileProblem::MissingField { field: field.name(), kind: kind.as_str() })
        })
    };
    let locator = &locator;
    let at = |value: FieldValue<'_>| move |problem| locator.error(value.value_offset, problem);

    match kind {
        KeyKind::Link => {
            let id_value = required(Field::KeyId)?;
            let id: KeyId = id_value.value.parse().map_err(at(id_value))?;
            let suite_value = required(Field::Suite)?;
            let suite: LinkSuite = suite_value.value.parse().map_err(at(suite_value))?;
            let device_value = required(Field::Device)?;
            let device = KeyName::new(device_value.value).map_err(at(device_value))?;
            let direction_value = required(Field::Direction)?;
            let direction: Direction = direction_value.value.parse().map_err(at(direction_value))?;
            let secret_value = required(Field::Secret)?;
            let secret = match suite {
                LinkSuite::Aes128Gcm => LinkSecret::Aes128Gcm(secret_hex(locator, Field::Secret, secret_value)?),
                LinkSuite::ChaCha20Poly1305 => {
                    LinkSecret::ChaCha20Poly1305(secret_hex(locator, Field::Secret, secret_value)?)
                }
            };
            Ok(KeyFile::Link(LinkKey::new(id, device, direction, secret)))
        }
        KeyKind::Secoc => {
            let name_value = required(Field::Name)?;
            let name = KeyName::new(name_value.value).map_err(at(name_value))?;
            let secret = secret_hex(locator, Field::Secret, required(Field::Secret)?)?;
            Ok(KeyFile::Secoc(SecocKey::new(name, secret)))
        }
        KeyKind::SigningSecret => {
            let seed: SecretBytes<32> = secret_hex(locator, Field::Secret, required(Field::Secret)?)?;
            let public_value = required(Field::Public)?;
            let public = public_key(locator, public_value)?;
            let key = BundleSigningKey::from_seed(&seed);
            if key.verifying_key() != public {
                return Err(locator.error(public_value.value_offset, KeyFileProblem::PublicKeyMismatch));
            }
            Ok(KeyFile::SigningSecret(key))
        }
        KeyKind::VerifyingPublic => Ok(KeyFile::VerifyingPublic(public_key(locator, required(Field::Public)?)?)),
    }
}

/// Splits `field = value`, checking the field name and that the value is not empty.
fn split_field<'a>(locator: &Locator<'_>, line: SignificantLine<'a>) -> Result<(Field, FieldValue<'a>), KeyError> {
    let Some((name_part, value_part)) = line.text.split_once('=') else {
        return Err(locator.error(line.offset, KeyFileProblem::ExpectedField));
    };
    let name = name_part.trim_end();
    let field = Field::from_name(name).ok_or_else(|| {
        locator.error(line.offset, KeyFileProblem::UnknownField { field: name.chars().take(32).collect() })
    })?;
    let value = value_part.trim();
    let after_eq = line.offset + name_part.len() + 1;
    let value_offset = after_eq + (value_part.len() - value_part.trim_start().len());
    if value.is_empty() {
        return Err(locator.error(after_eq, KeyFileProblem::EmptyValue { field: field.name() }));
    }
    Ok((field, FieldValue { line: line.number, name_offset: line.offset, value_offset, value }))
}

/// Decodes a secret hex value, pointing at the first bad digit on error.
fn secret_hex<const N: usize>(
    locator: &Locator<'_>,
    field: Field,
    value: FieldValue<'_>,
) -> Result<SecretBytes<N>, KeyError> {
    SecretBytes::from_hex(value.value).map_err(|problem| hex_error(locator, field, value, N, problem))
}

/// Decodes and checks an Ed25519 public key value.
fn public_key(locator: &Locator<'_>, value: FieldValue<'_>) -> Result<BundleVerifyingKey, KeyError> {
    let bytes: [u8; 32] =
        public_from_hex(value.value).map_err(|problem| hex_error(locator, Field::Public, value, 32, problem))?;
    BundleVerifyingKey::from_bytes(&bytes).map_err(|problem| locator.error(value.value_offset, problem))
}

fn hex_error(
    locator: &Locator<'_>,
    field: Field,
    value: FieldValue<'_>,
    expected_bytes: usize,
    problem: HexProblem,
) -> KeyError {
    match problem {
        HexProblem::WrongLength { found_digits } => locator.error(
            value.value_offset,
            KeyFileProblem::WrongKeyLength { field: field.name(), expected_bytes, found_digits },
        ),
        HexProblem::NotHexDigit { index } => {
            let byte_index = value.value.char_indices().nth(index).map_or(0, |(at, _)| at);
            locator.error(value.value_offset + byte_index, KeyFileProblem::NotHexDigit { field: field.name() })
        }
    }
}

/// Renders a key file (with a comment line saying what it is).
pub fn render_key_file(key: &KeyFile) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(1024));
    // Writing into a String cannot fail; the capacity covers the longest file.
    let _ = match key {
        KeyFile::Link(link) => write!(
            out,
            "# bulkhead link key {} of device {} ({}); secret: keep this file mode 0600\n{KEY_FILE_HEADER}\n\
             type = link\nkey-id = {}\nsuite = {}\ndevice = {}\ndirection = {}\nsecret = ",
            link.id(),
            link.device(),
            link.direction(),
            link.id(),
            link.suite().as_str(),
            link.device(),
            link.direction()
        ),
        KeyFile::Secoc(secoc) => write!(
            out,
            "# bulkhead SecOC key {}; secret: keep this file mode 0600\n{KEY_FILE_HEADER}\n\
             type = secoc\nname = {}\nsecret = ",
            secoc.name(),
            secoc.name()
        ),
        KeyFile::SigningSecret(signing) => write!(
            out,
            "# bulkhead bundle signing key {}; secret: keep it on the signing machine only, mode 0600\n\
             {KEY_FILE_HEADER}\ntype = ed25519-secret\nsecret = ",
            signing.fingerprint()
        ),
        KeyFile::VerifyingPublic(public) => write!(
            out,
            "# bulkhead bundle verifying key {}\n{KEY_FILE_HEADER}\ntype = ed25519-public\npublic = {}\n",
            public.fingerprint(),
            to_hex(&public.to_bytes())
        ),
    };
    match key {
        KeyFile::Link(link) => match link.secret() {
            LinkSecret::Aes128Gcm(secret) => secret.push_hex(&mut out),
            LinkSecret::ChaCha20Poly1305(secret) => secret.push_hex(&mut out),
        },
        KeyFile::Secoc(secoc) => secoc.secret().push_hex(&mut out),
        KeyFile::SigningSecret(signing) => {
            signing.seed().push_hex(&mut out);
            out.push_str("\npublic = ");
            out.push_str(&to_hex(&signing.verifying_key().to_bytes()));
        }
        KeyFile::VerifyingPublic(_) => return out,
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link_file(secret: &str) -> String {
        format!(
            "{KEY_FILE_HEADER}\ntype = link\nkey-id = 0x5f1c2a9e\nsuite = aes-128-gcm\ndevice = head-unit\n\
             direction = device-to-gateway\nsecret = {secret}\n"
        )
    }

    fn problem_at(source: &str) -> (u32, u32, KeyFileProblem, String) {
        match parse_key_file("k.key", source.as_bytes()) {
            Err(KeyError::Parse { location, problem }) => (location.line, location.column, problem, location.line_text),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_link_key() {
        let key = parse_key_file("k.key", link_file("00112233445566778899aabbccddeeff").as_bytes()).expect("valid");
        let KeyFile::Link(link) = key else { panic!("not a link key") };
        assert_eq!(link.id(), KeyId::from_u32(0x5f1c_2a9e));
        assert_eq!(link.suite(), LinkSuite::Aes128Gcm);
        assert_eq!(link.device().as_str(), "head-unit");
        assert_eq!(link.direction(), Direction::DeviceToGateway);
        assert_eq!(
            link.secret().expose(),
            &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
        );
    }

    #[test]
    fn errors_are_located_and_masked() {
        let (line, column, problem, text) = problem_at(&link_file("00112233445566778899aabbccddeefg"));
        assert_eq!((line, column), (7, 41));
        assert_eq!(problem, KeyFileProblem::NotHexDigit { field: "secret" });
        assert_eq!(text, format!("secret = {}", "*".repeat(32)));
        let (line, column, problem, _) = problem_at(&link_file("0011"));
        assert_eq!((line, column), (7, 10));
        assert_eq!(problem, KeyFileProblem::WrongKeyLength { field: "secret", expected_bytes: 16, found_digits: 4 });
    }

    #[test]
    fn renders_what_it_parses() {
        let key = parse_key_file("k.key", link_file("00112233445566778899aabbccddeeff").as_bytes()).expect("valid");
        let text = render_key_file(&key);
        assert!(text.contains("secret = 00112233445566778899aabbccddeeff\n"), "{}", text.as_str());
        let again = parse_key_file("k.key", text.as_bytes()).expect("rendered file parses");
        let (KeyFile::Link(a), KeyFile::Link(b)) = (key, again) else { panic!("kind changed") };
        assert!(a.secret().ct_eq(b.secret()));
    }
}
