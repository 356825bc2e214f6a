//! The SecOC authenticator: AES-128-CMAC over the data to authenticate,
//! truncated to its most significant bits, compared in constant time.
//!
//! The data to authenticate is, per the AUTOSAR SWS:
//!
//! ```text
//! DataId (16 bits, big-endian) | authentic payload | full freshness value
//! ```
//!
//! The full freshness value is written big-endian in the fewest whole bytes
//! that hold its configured length (8 bytes for the usual 64 bits, none for
//! profile 2), right-aligned: a 36-bit value takes 5 bytes, the top 4 bits zero.
//! The pieces are streamed into the CMAC; nothing is allocated or copied.

use aes::Aes128Enc;
use cmac::{Cmac, Mac};
use subtle::ConstantTimeEq;

use super::bits::bytes_for_bits;
use super::key::MacKey;

/// The whole 128-bit AES-CMAC of `message` (RFC 4493).
pub fn aes_cmac(key: &MacKey, message: &[u8]) -> [u8; 16] {
    let mut mac = key.start();
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The whole 128-bit AES-CMAC of `data_id | payload | freshness` (the
/// freshness value in `freshness_value_bits.div_ceil(8)` big-endian bytes).
pub fn secoc_cmac(key: &MacKey, data_id: u16, payload: &[u8], freshness: u64, freshness_value_bits: u32) -> [u8; 16] {
    secoc_cmac_with(&mut key.start(), data_id, payload, freshness, freshness_value_bits)
}

/// [`secoc_cmac`] on a CMAC state that is reset afterwards (no copy of the key schedule).
pub(crate) fn secoc_cmac_with(
    mac: &mut Cmac<Aes128Enc>,
    data_id: u16,
    payload: &[u8],
    freshness: u64,
    freshness_value_bits: u32,
) -> [u8; 16] {
    mac.update(&data_id.to_be_bytes());
    mac.update(payload);
    let freshness_bytes = freshness.to_be_bytes();
    let used = bytes_for_bits(freshness_value_bits).min(freshness_bytes.len());
    mac.update(freshness_bytes.get(freshness_bytes.len() - used..).unwrap_or(&[]));
    mac.finalize_reset().into_bytes().into()
}

/// The `bits` (1..=128) most significant bits of a MAC, as an integer.
pub(crate) fn truncate(mac: &[u8; 16], bits: u32) -> u128 {
    let whole = u128::from_be_bytes(*mac);
    match bits {
        0 => 0,
        1..=127 => whole >> (128 - bits),
        _ => whole,
    }
}

/// Compares two truncated MACs without a data-dependent branch.
pub(crate) fn truncated_eq(received: u128, computed: u128) -> bool {
    received.ct_eq(&computed).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::SecOcKey;

    fn rfc_key() -> MacKey {
        MacKey::new(&SecOcKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c").unwrap())
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn rfc_4493_example_2_sixteen_bytes() {
        let mac = aes_cmac(&rfc_key(), &hex("6bc1bee22e409f96e93d7e117393172a"));
        assert_eq!(mac.to_vec(), hex("070a16b46b4d4144f79bdd9dd04a287c"));
    }

    #[test]
    fn secoc_data_is_data_id_payload_then_freshness() {
        let key = rfc_key();
        let mut message = vec![0x01, 0x40, 0xAA, 0xBB];
        message.extend_from_slice(&0x1234_u64.to_be_bytes());
        assert_eq!(secoc_cmac(&key, 0x0140, &[0xAA, 0xBB], 0x1234, 64), aes_cmac(&key, &message));
        // A 36-bit freshness value takes 5 bytes; no freshness value takes none.
        let mut message = vec![0x00, 0x10];
        message.extend_from_slice(&0x0A_1234_5678_u64.to_be_bytes()[3..]);
        assert_eq!(secoc_cmac(&key, 0x10, &[], 0x0A_1234_5678, 36), aes_cmac(&key, &message));
        assert_eq!(secoc_cmac(&key, 0x10, &[1], 99, 0), aes_cmac(&key, &[0x00, 0x10, 1]));
    }

    #[test]
    fn the_in_place_state_is_ready_again_after_each_mac() {
        let key = rfc_key();
        let mut engine = key.clone();
        for freshness in 0..5 {
            let in_place = secoc_cmac_with(engine.engine(), 0x140, &[1, 2, 3], freshness, 64);
            assert_eq!(in_place, secoc_cmac(&key, 0x140, &[1, 2, 3], freshness, 64));
        }
    }

    #[test]
    fn truncation_keeps_the_most_significant_bits() {
        let mac: [u8; 16] = hex("070a16b46b4d4144f79bdd9dd04a287c").try_into().unwrap();
        assert_eq!(truncate(&mac, 24), 0x07_0A16);
        assert_eq!(truncate(&mac, 28), 0x070_A16B);
        assert_eq!(truncate(&mac, 1), 0);
        assert_eq!(truncate(&mac, 8), 0x07);
        assert_eq!(truncate(&mac, 128), u128::from_be_bytes(mac));
        assert!(truncated_eq(0x07_0A16, 0x07_0A16));
        assert!(!truncated_eq(0x07_0A16, 0x07_0A17));
    }
}
