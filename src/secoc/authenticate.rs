//! Building secured frames (senders, re-authentication) and checking one
//! authenticator against one candidate freshness value (the receivers' core).
//!
//! Both are pure functions of a [`SecuredLayout`], a [`MacKey`], a full
//! freshness value and bytes; the state that decides *which* freshness value
//! to use lives in the sender and receiver modules.

use thiserror::Error;

use super::bits::{low_mask_u64, read_bits, write_bits};
use super::key::MacKey;
use super::layout::SecuredLayout;
use super::mac::{secoc_cmac_with, truncate, truncated_eq};
use crate::frame::{CanId, FD_MAX_LEN, FdFlags, Frame, FrameError};

/// Why a secured frame cannot be generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum GenerateError {
    /// The payload handed in is not as long as the layout's authentic payload.
    #[error("the authentic payload is {expected} bytes long, got {got}")]
    PayloadLength {
        /// The layout's authentic payload length.
        expected: usize,
        /// The length handed in.
        got: usize,
    },
    /// The freshness value does not fit in the layout's full freshness value length.
    #[error("freshness value {freshness} does not fit in {bits} bits")]
    FreshnessTooLarge {
        /// The value handed in.
        freshness: u64,
        /// The layout's full freshness value length.
        bits: u32,
    },
    /// No sender is configured for this id.
    #[error("no SecOC sender is configured for id {id}")]
    UnknownSender {
        /// The id asked for.
        id: CanId,
    },
    /// The sender has no key installed.
    #[error("no key is installed for sending id {id}")]
    NoKey {
        /// The sender's id.
        id: CanId,
    },
    /// Profile 3: no trip/reset synchronisation message has been accepted yet, or
    /// the last one is older than counters already used.
    #[error("id {id} waits for a trip/reset counter synchronisation message")]
    SyncMissing {
        /// The sender's id.
        id: CanId,
    },
    /// The next freshness value lies beyond the durably reserved mark; persist the
    /// pending reservation ([`SecOcManager::persist_request`](super::SecOcManager::persist_request)) first.
    #[error("the next freshness value of id {id} is not yet reserved in durable storage")]
    NotYetPersisted {
        /// The sender's id.
        id: CanId,
    },
    /// The freshness counter has reached the largest value its length allows; using
    /// it again would repeat a freshness value, so the sender stops.
    #[error("the freshness counter of id {id} is exhausted")]
    CounterExhausted {
        /// The sender's id.
        id: CanId,
    },
    /// The layout and the frame format do not go together (a long layout on classic CAN).
    #[error("cannot build the secured frame: {0}")]
    Frame(#[from] FrameError),
}

/// The bytes of one secured frame, as long as the layout's frame length.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecuredPdu {
    bytes: [u8; FD_MAX_LEN],
    len: u8,
}

impl SecuredPdu {
    /// The frame bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// A CAN FD frame when `fd` is given, otherwise a classic CAN frame (which
    /// fails for layouts longer than 8 bytes).
    pub fn to_frame(&self, id: CanId, fd: Option<FdFlags>) -> Result<Frame, FrameError> {
        match fd {
            Some(flags) => Frame::fd(id, self.as_bytes(), flags),
            None => Frame::classic(id, self.as_bytes()),
        }
    }
}

impl std::fmt::Debug for SecuredPdu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.as_bytes() {
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

/// Builds the secured frame bytes: `payload` at the layout's authentic payload,
/// the low bits of `freshness` in the freshness field, the high bits of
/// AES-CMAC(`DataId | payload | freshness`) in the MAC field, zeros elsewhere.
pub fn authenticate(
    layout: &SecuredLayout,
    key: &MacKey,
    freshness: u64,
    payload: &[u8],
) -> Result<SecuredPdu, GenerateError> {
    authenticate_with(layout, &mut key.clone(), freshness, payload)
}

/// [`authenticate`] reusing the key's CMAC state in place (the per-frame path).
pub(crate) fn authenticate_with(
    layout: &SecuredLayout,
    key: &mut MacKey,
    freshness: u64,
    payload: &[u8],
) -> Result<SecuredPdu, GenerateError> {
    let range = layout.payload();
    if payload.len() != range.len() {
        return Err(GenerateError::PayloadLength { expected: range.len(), got: payload.len() });
    }
    let value_bits = layout.freshness_value_bits();
    if freshness & !low_mask_u64(value_bits) != 0 {
        return Err(GenerateError::FreshnessTooLarge { freshness, bits: value_bits });
    }
    let mut bytes = [0u8; FD_MAX_LEN];
    if let Some(target) = bytes.get_mut(range.offset()..range.end()) {
        target.copy_from_slice(payload);
    }
    let field = layout.freshness();
    write_bits(&mut bytes, field.position(), field.bits() as usize, u128::from(freshness & low_mask_u64(field.bits())));
    let mac = secoc_cmac_with(key.engine(), layout.data_id(), payload, freshness, value_bits);
    let field = layout.mac();
    write_bits(&mut bytes, field.position(), field.bits() as usize, truncate(&mac, field.bits()));
    Ok(SecuredPdu { bytes, len: u8::try_from(layout.frame_len()).unwrap_or(u8::MAX) })
}

/// True when `data` is a frame authenticated under the full freshness value
/// `freshness`: its freshness field holds the low bits of `freshness` and its
/// MAC field the authenticator of its authentic payload under it. `data` must
/// be at least the layout's frame length (shorter data never matches).
pub fn check_authenticator(layout: &SecuredLayout, key: &MacKey, data: &[u8], freshness: u64) -> bool {
    authenticator_matches(layout, &mut key.clone(), data, freshness)
}

/// [`check_authenticator`] reusing the key's CMAC state in place (the per-frame path).
pub(crate) fn authenticator_matches(layout: &SecuredLayout, key: &mut MacKey, data: &[u8], freshness: u64) -> bool {
    let range = layout.payload();
    let Some(payload) = data.get(range.offset()..range.end()) else { return false };
    if data.len() < layout.frame_len() {
        return false;
    }
    if received_freshness(layout, data) != freshness & low_mask_u64(layout.freshness().bits()) {
        return false;
    }
    let field = layout.mac();
    let received = read_bits(data, field.position(), field.bits() as usize);
    let mac = secoc_cmac_with(key.engine(), layout.data_id(), payload, freshness, layout.freshness_value_bits());
    truncated_eq(received, truncate(&mac, field.bits()))
}

/// The truncated freshness value carried in `data`.
pub(crate) fn received_freshness(layout: &SecuredLayout, data: &[u8]) -> u64 {
    let field = layout.freshness();
    // At most 64 bits by the layout invariant.
    read_bits(data, field.position(), field.bits() as usize) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::{LayoutParams, Profile, SecOcKey};

    fn key() -> MacKey {
        MacKey::new(&SecOcKey::new(*b"0123456789abcdef"))
    }

    #[test]
    fn profile_one_frame_has_payload_freshness_and_mac_in_place() {
        let layout = SecuredLayout::for_profile(Profile::One, 0x140, 4).unwrap();
        let pdu = authenticate(&layout, &key(), 0x1_0203, &[1, 2, 3, 4]).unwrap();
        let bytes = pdu.as_bytes();
        assert_eq!(bytes.len(), 8);
        assert_eq!(&bytes[..4], &[1, 2, 3, 4]);
        assert_eq!(bytes[4], 0x03, "the freshness field carries the low 8 bits");
        let mac = crate::secoc::secoc_cmac(&key(), 0x140, &[1, 2, 3, 4], 0x1_0203, 64);
        assert_eq!(&bytes[5..8], &mac[..3]);
        assert!(check_authenticator(&layout, &key(), bytes, 0x1_0203));
        assert!(!check_authenticator(&layout, &key(), bytes, 0x0_0203));
        assert!(!check_authenticator(&layout, &key(), &bytes[..7], 0x1_0203));
        assert_eq!(received_freshness(&layout, bytes), 0x03);
        assert_eq!(format!("{pdu:?}").len(), 16);
    }

    #[test]
    fn unaligned_fields_round_trip() {
        let layout = SecuredLayout::for_profile(Profile::Three, 0x22, 3).unwrap();
        let pdu = authenticate(&layout, &key(), 0xABCD_EF01_2345_6789, &[9, 8, 7]).unwrap();
        assert_eq!(pdu.as_bytes().len(), 7, "24 + 4 + 28 bits");
        assert_eq!(received_freshness(&layout, pdu.as_bytes()), 0x9);
        assert!(check_authenticator(&layout, &key(), pdu.as_bytes(), 0xABCD_EF01_2345_6789));
    }

    #[test]
    fn wrong_inputs_are_errors() {
        let layout = SecuredLayout::for_profile(Profile::One, 1, 4).unwrap();
        assert_eq!(
            authenticate(&layout, &key(), 1, &[1, 2, 3]),
            Err(GenerateError::PayloadLength { expected: 4, got: 3 })
        );
        let short = SecuredLayout::new(LayoutParams::packed(1, 2, 4, 12, 16)).unwrap();
        assert_eq!(
            authenticate(&short, &key(), 0x1000, &[1, 2]),
            Err(GenerateError::FreshnessTooLarge { freshness: 0x1000, bits: 12 })
        );
    }

    #[test]
    fn frames_of_both_formats() {
        let id = CanId::standard(0x140).unwrap();
        let fd_layout = SecuredLayout::for_profile(Profile::Custom, 1, 20).unwrap();
        let pdu = authenticate(&fd_layout, &key(), 5, &[0; 20]).unwrap();
        assert!(pdu.to_frame(id, None).is_err());
        let frame = pdu.to_frame(id, Some(FdFlags { brs: true, esi: false })).unwrap();
        assert_eq!(frame.len(), 32);
        let classic = SecuredLayout::for_profile(Profile::Two, 1, 5).unwrap();
        let frame = authenticate(&classic, &key(), 0, &[1; 5]).unwrap().to_frame(id, None).unwrap();
        assert!(!frame.is_fd());
    }
}
