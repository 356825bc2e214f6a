//! The management protocol: JSON lines over the Unix management socket, and
//! the challenge-response that authenticates commands changing the mode.
//!
//! Requests are one JSON object per line with a `command`:
//! `status`, `metrics`, `reload`, `challenge`, `reset-mode`. Each gets one
//! JSON line back: `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.
//!
//! `reset-mode` (the only way out of isolated mode) must be signed: the client
//! asks for a `challenge` (a fresh 32-byte server nonce), signs
//! [`signed_message`] (a domain string, the command and the nonce) with a
//! bundle signing key (Ed25519) and sends `nonce`, `public_key` and
//! `signature`. The daemon accepts it only when the nonce is one it issued,
//! unused and less than [`CHALLENGE_LIFETIME`] old (each nonce works once:
//! a replayed request is refused), the public key is one of the trusted
//! `*.pub` keys of its key directory, and the signature verifies
//! (`verify_strict`). Peer credentials are checked by the server before any
//! of this (root or the daemon's own user only).

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::keys::{BundleSigningKey, BundleVerifyingKey};

/// How long a challenge may be answered.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(60);
/// Outstanding challenges kept at most (the oldest is forgotten beyond).
pub const MAX_CHALLENGES: usize = 16;
/// Domain separation for signed management commands.
pub const SIGNING_DOMAIN: &[u8] = b"bulkhead management command v1\0";

/// A request as received.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// `status`, `metrics`, `reload`, `challenge` or `reset-mode`.
    pub command: String,
    /// The challenge being answered (hex), for signed commands.
    #[serde(default)]
    pub nonce: Option<String>,
    /// The signer's Ed25519 public key (hex), for signed commands.
    #[serde(default)]
    pub public_key: Option<String>,
    /// The Ed25519 signature (hex) of [`signed_message`], for signed commands.
    #[serde(default)]
    pub signature: Option<String>,
}

/// Why a signed command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// A field is missing or is not hex of the right length.
    #[error("malformed signed command: {0}")]
    Malformed(&'static str),
    /// The nonce was never issued, was already used, or expired.
    #[error("unknown, used or expired challenge: ask for a new one")]
    UnknownChallenge,
    /// The public key is not among the trusted keys of the key directory.
    #[error("key {0} is not trusted by this gateway")]
    UntrustedKey(String),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// The gateway has no key directory, so it trusts no key.
    #[error("this gateway has no key directory: no key can authorize this command")]
    NoTrustedKeys,
}

/// The bytes a client signs for `command` under `nonce`.
pub fn signed_message(command: &str, nonce: &[u8; 32]) -> Vec<u8> {
    let mut message = SIGNING_DOMAIN.to_vec();
    message.extend_from_slice(command.as_bytes());
    message.push(0);
    message.extend_from_slice(nonce);
    message
}

/// Signs `command` for `nonce`: the request a client sends.
pub fn signed_request(key: &BundleSigningKey, command: &str, nonce: &[u8; 32]) -> serde_json::Value {
    let signature = key.sign_message(&signed_message(command, nonce));
    serde_json::json!({
        "command": command,
        "nonce": hex(nonce),
        "public_key": hex(&key.verifying_key().to_bytes()),
        "signature": hex(&signature),
    })
}

/// Outstanding challenges.
#[derive(Debug, Default)]
pub struct Challenges {
    issued: Vec<([u8; 32], Instant)>,
}

impl Challenges {
    /// A fresh nonce, remembered until used or expired.
    pub fn issue(&mut self, now: Instant) -> Result<[u8; 32], getrandom::Error> {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce)?;
        self.issued.retain(|(_, at)| now.duration_since(*at) < CHALLENGE_LIFETIME);
        if self.issued.len() >= MAX_CHALLENGES {
            self.issued.remove(0);
        }
        self.issued.push((nonce, now));
        Ok(nonce)
    }

    /// Checks a signed `command` request against the challenges and the
    /// trusted keys. The nonce is consumed whatever the outcome once it is
    /// found (a failed attempt cannot be retried with the same challenge).
    pub fn verify(
        &mut self,
        now: Instant,
        request: &Request,
        trusted: Option<&[BundleVerifyingKey]>,
    ) -> Result<String, AuthError> {
        let nonce: [u8; 32] = unhex(request.nonce.as_deref()).ok_or(AuthError::Malformed("nonce"))?;
        let public: [u8; 32] = unhex(request.public_key.as_deref()).ok_or(AuthError::Malformed("public_key"))?;
        let signature: [u8; 64] = unhex(request.signature.as_deref()).ok_or(AuthError::Malformed("signature"))?;
        let position = self
            .issued
            .iter()
            .position(|(n, at)| n == &nonce && now.duration_since(*at) < CHALLENGE_LIFETIME)
            .ok_or(AuthError::UnknownChallenge)?;
        self.issued.remove(position);
        let trusted = trusted.ok_or(AuthError::NoTrustedKeys)?;
        let key = trusted.iter().find(|k| k.to_bytes() == public).ok_or_else(|| {
            let fingerprint = crate::keys::KeyFingerprint::of(&public);
            AuthError::UntrustedKey(fingerprint.to_string())
        })?;
        if !key.verify_message(&signed_message(&request.command, &nonce), &signature) {
            return Err(AuthError::BadSignature);
        }
        Ok(key.fingerprint().to_string())
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly `N` bytes from hex, or `None`.
pub fn unhex<const N: usize>(text: Option<&str>) -> Option<[u8; N]> {
    let text = text?;
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(value: serde_json::Value) -> Request {
        serde_json::from_value(value).expect("request")
    }

    #[test]
    fn signed_reset_is_accepted_once() {
        let key = BundleSigningKey::generate().expect("key");
        let trusted = [key.verifying_key()];
        let mut challenges = Challenges::default();
        let now = Instant::now();
        let nonce = challenges.issue(now).expect("nonce");
        let signed = request(signed_request(&key, "reset-mode", &nonce));
        assert_eq!(challenges.verify(now, &signed, Some(&trusted)), Ok(key.fingerprint().to_string()));
        assert_eq!(challenges.verify(now, &signed, Some(&trusted)), Err(AuthError::UnknownChallenge));
    }

    #[test]
    fn forgeries_are_refused() {
        let key = BundleSigningKey::generate().expect("key");
        let stranger = BundleSigningKey::generate().expect("key");
        let trusted = [key.verifying_key()];
        let mut challenges = Challenges::default();
        let now = Instant::now();

        let nonce = challenges.issue(now).expect("nonce");
        let untrusted = request(signed_request(&stranger, "reset-mode", &nonce));
        assert!(matches!(challenges.verify(now, &untrusted, Some(&trusted)), Err(AuthError::UntrustedKey(_))));

        let nonce = challenges.issue(now).expect("nonce");
        let mut value = signed_request(&key, "reset-mode", &nonce);
        value["signature"] = serde_json::json!(hex(&stranger.sign_message(&signed_message("reset-mode", &nonce))));
        assert_eq!(challenges.verify(now, &request(value), Some(&trusted)), Err(AuthError::BadSignature));

        // Signed for another command: the signature covers the command.
        let nonce = challenges.issue(now).expect("nonce");
        let mut value = signed_request(&key, "status", &nonce);
        value["command"] = serde_json::json!("reset-mode");
        assert_eq!(challenges.verify(now, &request(value), Some(&trusted)), Err(AuthError::BadSignature));

        // A nonce the server never issued.
        let made_up = [7u8; 32];
        let value = signed_request(&key, "reset-mode", &made_up);
        assert_eq!(challenges.verify(now, &request(value), Some(&trusted)), Err(AuthError::UnknownChallenge));

        // Expired.
        let nonce = challenges.issue(now).expect("nonce");
        let value = request(signed_request(&key, "reset-mode", &nonce));
        let later = now + CHALLENGE_LIFETIME + Duration::from_secs(1);
        assert_eq!(challenges.verify(later, &value, Some(&trusted)), Err(AuthError::UnknownChallenge));

        let value = request(serde_json::json!({"command": "reset-mode", "nonce": "zz"}));
        assert_eq!(challenges.verify(now, &value, Some(&trusted)), Err(AuthError::Malformed("nonce")));
        let nonce = challenges.issue(now).expect("nonce");
        let value = request(signed_request(&key, "reset-mode", &nonce));
        assert_eq!(challenges.verify(now, &value, None), Err(AuthError::NoTrustedKeys));
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<Request>(r#"{"command":"status","x":1}"#).is_err());
        assert_eq!(unhex::<2>(Some("0aFF")), Some([0x0a, 0xff]));
        assert_eq!(unhex::<2>(Some("0a")), None);
    }
}
