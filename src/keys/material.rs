//! The keys themselves: link keys (AEAD, per device and direction), SecOC keys
//! (AES-128, per secured id or zone), and the Ed25519 key pair that signs rule
//! bundles.
//!
//! Invariants: every type that holds secret bytes wipes them when dropped
//! (it implements [`ZeroizeOnDrop`]) and prints only non-secret facts in its
//! `Debug` output; a link key's suite is implied by the length of its secret,
//! so a suite/key-length mismatch cannot be represented; a
//! [`BundleVerifyingKey`] is a valid curve point of large order.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::ZeroizeOnDrop;

use super::error::KeyFileProblem;
use super::id::{KeyId, KeyName};
use super::secret::{SecretBytes, to_hex};

/// The AEAD suite of a link key: the link protocol's own type, with the
/// names key files use.
pub use crate::link::LinkSuite;

impl LinkSuite {
    /// The name used in key files and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            LinkSuite::Aes128Gcm => "aes-128-gcm",
            LinkSuite::ChaCha20Poly1305 => "chacha20-poly1305",
        }
    }
}

impl FromStr for LinkSuite {
    type Err = KeyFileProblem;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "aes-128-gcm" => Ok(LinkSuite::Aes128Gcm),
            "chacha20-poly1305" => Ok(LinkSuite::ChaCha20Poly1305),
            _ => Err(KeyFileProblem::UnknownSuite { found: text.chars().take(32).collect() }),
        }
    }
}

/// Which way a link key protects traffic (each direction has its own key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Datagrams sent by the device to the gateway.
    DeviceToGateway,
    /// Datagrams sent by the gateway to the device.
    GatewayToDevice,
}

impl Direction {
    /// The name used in key files and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::DeviceToGateway => "device-to-gateway",
            Direction::GatewayToDevice => "gateway-to-device",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = KeyFileProblem;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "device-to-gateway" => Ok(Direction::DeviceToGateway),
            "gateway-to-device" => Ok(Direction::GatewayToDevice),
            _ => Err(KeyFileProblem::UnknownDirection { found: text.chars().take(32).collect() }),
        }
    }
}

/// The secret of a link key; the variant is the suite.
#[derive(Clone, Debug)]
pub enum LinkSecret {
    /// An AES-128-GCM key.
    Aes128Gcm(SecretBytes<16>),
    /// A ChaCha20-Poly1305 key.
    ChaCha20Poly1305(SecretBytes<32>),
}

// Each variant's bytes wipe themselves on drop.
impl ZeroizeOnDrop for LinkSecret {}

impl LinkSecret {
    /// A fresh random key for `suite`.
    pub fn random(suite: LinkSuite) -> Result<Self, getrandom::Error> {
        Ok(match suite {
            LinkSuite::Aes128Gcm => LinkSecret::Aes128Gcm(SecretBytes::random()?),
            LinkSuite::ChaCha20Poly1305 => LinkSecret::ChaCha20Poly1305(SecretBytes::random()?),
        })
    }

    /// The suite this key is for.
    pub const fn suite(&self) -> LinkSuite {
        match self {
            LinkSecret::Aes128Gcm(_) => LinkSuite::Aes128Gcm,
            LinkSecret::ChaCha20Poly1305(_) => LinkSuite::ChaCha20Poly1305,
        }
    }

    /// The key bytes (16 or 32 of them), for handing to the AEAD.
    pub fn expose(&self) -> &[u8] {
        match self {
            LinkSecret::Aes128Gcm(key) => key.expose(),
            LinkSecret::ChaCha20Poly1305(key) => key.expose(),
        }
    }

    /// Constant-time equality.
    pub fn ct_eq(&self, other: &Self) -> bool {
        match (self, other) {
            (LinkSecret::Aes128Gcm(a), LinkSecret::Aes128Gcm(b)) => a.ct_eq(b),
            (LinkSecret::ChaCha20Poly1305(a), LinkSecret::ChaCha20Poly1305(b)) => a.ct_eq(b),
            _ => false,
        }
    }
}

/// A per-device, per-direction key of the Ethernet link.
#[derive(Clone)]
pub struct LinkKey {
    id: KeyId,
    device: KeyName,
    direction: Direction,
    secret: LinkSecret,
}

// The only secret field wipes itself on drop.
impl ZeroizeOnDrop for LinkKey {}

impl LinkKey {
    /// A link key from its parts.
    pub fn new(id: KeyId, device: KeyName, direction: Direction, secret: LinkSecret) -> Self {
        LinkKey { id, device, direction, secret }
    }

    /// The key id carried in link headers.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The device this key belongs to.
    pub fn device(&self) -> &KeyName {
        &self.device
    }

    /// Which traffic it protects.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The AEAD suite.
    pub fn suite(&self) -> LinkSuite {
        self.secret.suite()
    }

    /// The secret.
    pub fn secret(&self) -> &LinkSecret {
        &self.secret
    }
}

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkKey")
            .field("id", &self.id)
            .field("device", &self.device)
            .field("direction", &self.direction)
            .field("suite", &self.suite())
            .finish_non_exhaustive()
    }
}

/// An AES-128 key for SecOC authenticators, named after the secured id or zone.
#[derive(Clone)]
pub struct SecocKey {
    name: KeyName,
    secret: SecretBytes<16>,
}

// The only secret field wipes itself on drop.
impl ZeroizeOnDrop for SecocKey {}

impl SecocKey {
    /// A SecOC key from its parts.
    pub fn new(name: KeyName, secret: SecretBytes<16>) -> Self {
        SecocKey { name, secret }
    }

    /// The key's name (as SecOC profiles in the rules refer to it).
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The AES-128 key.
    pub fn secret(&self) -> &SecretBytes<16> {
        &self.secret
    }
}

impl fmt::Debug for SecocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecocKey").field("name", &self.name).finish_non_exhaustive()
    }
}

/// The first 8 bytes of SHA-256 over an Ed25519 public key, shown as 16 hex
/// digits: how people and error messages name a bundle signing key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyFingerprint([u8; 8]);

impl KeyFingerprint {
    /// The fingerprint of the public key `public`.
    pub fn of(public: &[u8; 32]) -> Self {
        let digest: [u8; 32] = Sha256::digest(public).into();
        let mut short = [0u8; 8];
        short.copy_from_slice(&digest[..8]);
        KeyFingerprint(short)
    }

    /// The raw 8 bytes.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl fmt::Debug for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFingerprint({self})")
    }
}

/// The Ed25519 secret key that signs rule bundles (kept on the signing machine,
/// never on a gateway).
#[derive(Clone)]
pub struct BundleSigningKey {
    key: SigningKey,
}

// ed25519-dalek's SigningKey wipes its secret on drop (its `zeroize` feature).
impl ZeroizeOnDrop for BundleSigningKey {}

impl BundleSigningKey {
    /// A fresh random key (seed from `getrandom`).
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Self::from_seed(&SecretBytes::random()?))
    }

    /// The key for a 32-byte RFC 8032 secret (seed).
    pub fn from_seed(seed: &SecretBytes<32>) -> Self {
        BundleSigningKey { key: SigningKey::from_bytes(seed.expose()) }
    }

    /// The 32-byte secret seed, for writing the key file.
    pub fn seed(&self) -> SecretBytes<32> {
        SecretBytes::new(self.key.to_bytes())
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> BundleVerifyingKey {
        BundleVerifyingKey { key: self.key.verifying_key() }
    }

    /// The fingerprint of the public key.
    pub fn fingerprint(&self) -> KeyFingerprint {
        self.verifying_key().fingerprint()
    }

    /// A plain Ed25519 (RFC 8032, pure) signature over `message`: the primitive
    /// that bundle signing uses.
    pub fn sign_message(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for BundleSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BundleSigningKey").field("fingerprint", &self.fingerprint()).finish_non_exhaustive()
    }
}

/// An Ed25519 public key trusted to sign rule bundles.
#[derive(Clone, PartialEq, Eq)]
pub struct BundleVerifyingKey {
    key: VerifyingKey,
}

impl BundleVerifyingKey {
    /// Checks that `bytes` is a valid, non-weak Ed25519 public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyFileProblem> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyFileProblem::InvalidPublicKey)?;
        if key.is_weak() {
            return Err(KeyFileProblem::InvalidPublicKey);
        }
        Ok(BundleVerifyingKey { key })
    }

    /// The 32 bytes of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key's fingerprint.
    pub fn fingerprint(&self) -> KeyFingerprint {
        KeyFingerprint::of(self.key.as_bytes())
    }

    /// True when `signature` is a valid Ed25519 signature of `message` by this
    /// key under the strict rules (`verify_strict`: canonical encodings, no
    /// small-order components).
    pub fn verify_message(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key.verify_strict(message, &Signature::from_bytes(signature)).is_ok()
    }
}

impl fmt::Debug for BundleVerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BundleVerifyingKey").field("fingerprint", &self.fingerprint()).finish()
    }
}

/// The kinds of key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A link key (`type = link`).
    Link,
    /// A SecOC key (`type = secoc`).
    Secoc,
    /// A bundle signing secret key (`type = ed25519-secret`).
    SigningSecret,
    /// A bundle verifying public key (`type = ed25519-public`).
    VerifyingPublic,
}

impl KeyKind {
    /// The `type` value in key files.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyKind::Link => "link",
            KeyKind::Secoc => "secoc",
            KeyKind::SigningSecret => "ed25519-secret",
            KeyKind::VerifyingPublic => "ed25519-public",
        }
    }

    /// True for kinds that hold secret material.
    pub const fn is_secret(self) -> bool {
        !matches!(self, KeyKind::VerifyingPublic)
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyKind {
    type Err = KeyFileProblem;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "link" => Ok(KeyKind::Link),
            "secoc" => Ok(KeyKind::Secoc),
            "ed25519-secret" => Ok(KeyKind::SigningSecret),
            "ed25519-public" => Ok(KeyKind::VerifyingPublic),
            _ => Err(KeyFileProblem::UnknownKind { found: text.chars().take(32).collect() }),
        }
    }
}

/// The content of one key file.
#[derive(Clone, Debug)]
pub enum KeyFile {
    /// A link key.
    Link(LinkKey),
    /// A SecOC key.
    Secoc(SecocKey),
    /// A bundle signing secret key.
    SigningSecret(BundleSigningKey),
    /// A bundle verifying public key.
    VerifyingPublic(BundleVerifyingKey),
}

impl KeyFile {
    /// Which kind of key this is.
    pub fn kind(&self) -> KeyKind {
        match self {
            KeyFile::Link(_) => KeyKind::Link,
            KeyFile::Secoc(_) => KeyKind::Secoc,
            KeyFile::SigningSecret(_) => KeyKind::SigningSecret,
            KeyFile::VerifyingPublic(_) => KeyKind::VerifyingPublic,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_and_directions_round_trip() {
        for suite in [LinkSuite::Aes128Gcm, LinkSuite::ChaCha20Poly1305] {
            assert_eq!(suite.as_str().parse::<LinkSuite>(), Ok(suite));
            let secret = LinkSecret::random(suite).expect("random");
            assert_eq!(secret.suite(), suite);
            assert_eq!(secret.expose().len(), suite.key_len());
        }
        for direction in [Direction::DeviceToGateway, Direction::GatewayToDevice] {
            assert_eq!(direction.as_str().parse::<Direction>(), Ok(direction));
        }
        assert!(matches!("aes-256-gcm".parse::<LinkSuite>(), Err(KeyFileProblem::UnknownSuite { .. })));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let secret = SecretBytes::new([0x5a; 16]);
        let key = LinkKey::new(
            KeyId::from_u32(0x1234_5678),
            KeyName::new("head-unit").expect("name"),
            Direction::DeviceToGateway,
            LinkSecret::Aes128Gcm(secret.clone()),
        );
        let shown = format!("{key:?} {:?}", SecocKey::new(KeyName::new("brakes").expect("name"), secret));
        assert!(shown.contains("0x12345678") && shown.contains("head-unit") && shown.contains("brakes"));
        assert!(!shown.contains("5a5a"), "{shown}");
        let signing = BundleSigningKey::from_seed(&SecretBytes::new([7; 32]));
        let shown = format!("{signing:?}");
        assert!(shown.contains(&signing.fingerprint().to_string()));
        assert!(!shown.contains("07070707"));
    }

    #[test]
    fn sign_and_verify_strict() {
        let signing = BundleSigningKey::generate().expect("random");
        let public = signing.verifying_key();
        let signature = signing.sign_message(b"rules");
        assert!(public.verify_message(b"rules", &signature));
        assert!(!public.verify_message(b"rulez", &signature));
        let other = BundleSigningKey::generate().expect("random").verifying_key();
        assert!(!other.verify_message(b"rules", &signature));
        assert_eq!(BundleVerifyingKey::from_bytes(&public.to_bytes()), Ok(public));
    }

    #[test]
    fn weak_public_keys_are_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(BundleVerifyingKey::from_bytes(&identity), Err(KeyFileProblem::InvalidPublicKey));
    }
}
