//! Where the authentic payload, the truncated freshness value and the truncated
//! MAC sit in one secured frame, and the AUTOSAR profiles that fix their sizes.
//!
//! A [`SecuredLayout`] is built only by [`SecuredLayout::new`], which checks
//! everything that could make a later read or write go wrong. Invariants of
//! every layout:
//! - the frame length is a classic CAN or CAN FD length (0..=8, 12, ..., 64);
//! - the authentic payload, the freshness field and the MAC field lie inside
//!   the frame and do not overlap;
//! - the MAC has 1..=128 bits, the full freshness value 0..=64 bits and the
//!   truncated freshness value at most as many bits as the full one.
//!
//! So reading the fields of any frame at least `frame_len` bytes long cannot
//! fail, and a shorter frame is an ordinary verification outcome.
//!
//! Bit positions follow [`bits`](super::bits): position 0 is the most
//! significant bit of byte 0 and fields are stored most significant bit first.

use std::fmt;

use thiserror::Error;

use crate::frame::{CLASSIC_MAX_LEN, FD_MAX_LEN, is_fd_length};

/// The largest truncated MAC: a whole AES-CMAC.
pub const MAX_MAC_BITS: u32 = 128;
/// The largest full freshness value.
pub const MAX_FRESHNESS_VALUE_BITS: u32 = 64;

/// One of the three fields of a secured frame, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The authentic payload (the bytes the MAC covers).
    AuthenticPayload,
    /// The truncated freshness value.
    Freshness,
    /// The truncated MAC (the authenticator).
    Mac,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::AuthenticPayload => "authentic payload",
            Field::Freshness => "freshness value",
            Field::Mac => "MAC",
        })
    }
}

/// Why a layout (or the profile 3 counter structure on top of it) cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum LayoutError {
    /// The frame length must be one a CAN or CAN FD frame can have.
    #[error("{len} bytes is not a CAN or CAN FD frame length (0-8, 12, 16, 20, 24, 32, 48, 64)")]
    FrameLength {
        /// The length asked for.
        len: usize,
    },
    /// A MAC of zero bits authenticates nothing.
    #[error("the MAC must have at least 1 bit")]
    MacEmpty,
    /// AES-CMAC gives 128 bits; a longer MAC cannot be cut from it.
    #[error("a MAC of {bits} bits is longer than the 128 bits of AES-CMAC")]
    MacTooLong {
        /// The MAC length asked for.
        bits: u32,
    },
    /// The full freshness value is kept in 64 bits.
    #[error("a freshness value of {bits} bits is longer than 64 bits")]
    FreshnessValueTooLong {
        /// The full freshness value length asked for.
        bits: u32,
    },
    /// The frame carries the low bits of the full freshness value, so it cannot carry more bits than that.
    #[error("the truncated freshness value ({truncated} bits) is longer than the full freshness value ({full} bits)")]
    TruncatedFreshnessTooLong {
        /// Bits of freshness value in the frame.
        truncated: u32,
        /// Bits of the full freshness value.
        full: u32,
    },
    /// A field runs past the end of the frame.
    #[error("the {field} (bits {start}..{end}) runs past the end of the {frame_len}-byte frame")]
    OutsideFrame {
        /// The field.
        field: Field,
        /// Its first bit.
        start: usize,
        /// One past its last bit.
        end: usize,
        /// The frame length in bytes.
        frame_len: usize,
    },
    /// Two fields share bits.
    #[error("the {first} and the {second} overlap")]
    Overlap {
        /// The field that comes first in the frame.
        first: Field,
        /// The field that starts inside it.
        second: Field,
    },
    /// Profile 3: trip, reset, reset flag and message counters must fill the full freshness value exactly.
    #[error(
        "trip ({trip} bits) + reset ({reset} bits) + reset flag ({reset_flag} bits) counters leave no message counter \
         in a {full}-bit freshness value"
    )]
    CountersTooLong {
        /// Trip counter bits.
        trip: u32,
        /// Reset counter bits.
        reset: u32,
        /// Reset flag bits.
        reset_flag: u32,
        /// Full freshness value bits.
        full: u32,
    },
    /// Profile 3: the trip and the reset counter need at least one bit each.
    #[error("the trip and reset counters need at least 1 bit each (trip {trip}, reset {reset})")]
    CounterEmpty {
        /// Trip counter bits.
        trip: u32,
        /// Reset counter bits.
        reset: u32,
    },
    /// Profile 3: the reset flag is the low bits of the reset counter and sits in the truncated freshness value,
    /// which must also hold at least one bit of the message counter.
    #[error(
        "a {reset_flag}-bit reset flag needs a reset counter at least as long ({reset} bits) and a truncated \
         freshness value longer than it ({truncated} bits)"
    )]
    ResetFlagDoesNotFit {
        /// Reset flag bits.
        reset_flag: u32,
        /// Reset counter bits.
        reset: u32,
        /// Truncated freshness value bits.
        truncated: u32,
    },
    /// Profile 3: the frame carries the low bits of the message counter, so the
    /// message counter must be at least as long as that part.
    #[error(
        "the truncated freshness value carries {lower} message counter bits, but the counters leave only {message} \
         bits of message counter"
    )]
    MessageCounterTooShort {
        /// Message counter bits left by the trip, reset and flag lengths.
        message: u32,
        /// Message counter bits in the truncated freshness value.
        lower: u32,
    },
    /// A freshness counter needs a layout with a freshness value.
    #[error("a freshness counter needs a freshness value, and the layout has none")]
    SchemeNeedsFreshness,
    /// A profile without freshness value needs a layout without one.
    #[error("the layout has a {bits}-bit freshness value but the profile uses none")]
    SchemeHasNoFreshness {
        /// The layout's full freshness value length.
        bits: u32,
    },
    /// Profile 3 counters were built for another layout.
    #[error("the trip/reset counter structure was built for a layout with other freshness lengths")]
    CountersDoNotMatchLayout,
}

/// A run of bits in a frame: the first bit and the number of bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BitField {
    position: u16,
    bits: u8,
}

impl BitField {
    /// The first bit (0 = most significant bit of byte 0).
    pub const fn position(self) -> usize {
        self.position as usize
    }

    /// The number of bits (0 for an absent field).
    pub const fn bits(self) -> u32 {
        self.bits as u32
    }

    /// One past the last bit.
    pub const fn end(self) -> usize {
        self.position as usize + self.bits as usize
    }
}

/// A run of whole bytes in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ByteRange {
    offset: u8,
    len: u8,
}

impl ByteRange {
    /// The first byte.
    pub const fn offset(self) -> usize {
        self.offset as usize
    }

    /// The number of bytes.
    pub const fn len(self) -> usize {
        self.len as usize
    }

    /// True for an empty range.
    pub const fn is_empty(self) -> bool {
        self.len == 0
    }

    /// One past the last byte.
    pub const fn end(self) -> usize {
        self.offset as usize + self.len as usize
    }
}

/// The sizes and places asked for, before they are checked by [`SecuredLayout::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutParams {
    /// The SecOC DataId authenticated with every frame (16 bits, sent big-endian into the MAC).
    pub data_id: u16,
    /// The length of the secured frame in bytes.
    pub frame_len: usize,
    /// The first byte of the authentic payload.
    pub payload_offset: usize,
    /// The number of bytes of authentic payload.
    pub payload_len: usize,
    /// Bits of the freshness value carried in the frame (its least significant bits).
    pub freshness_bits: u32,
    /// Where those bits start.
    pub freshness_at: usize,
    /// Bits of the full freshness value that goes into the MAC.
    pub freshness_value_bits: u32,
    /// Bits of MAC carried in the frame (its most significant bits).
    pub mac_bits: u32,
    /// Where those bits start.
    pub mac_at: usize,
}

impl LayoutParams {
    /// The AUTOSAR packing: the authentic payload from byte 0, the truncated
    /// freshness value right after it, the truncated MAC right after that, in the
    /// smallest CAN (FD) frame that holds them.
    pub fn packed(
        data_id: u16,
        payload_len: usize,
        freshness_bits: u32,
        freshness_value_bits: u32,
        mac_bits: u32,
    ) -> LayoutParams {
        let freshness_at = payload_len.saturating_mul(8);
        let mac_at = freshness_at.saturating_add(freshness_bits as usize);
        let end_bits = mac_at.saturating_add(mac_bits as usize);
        LayoutParams {
            data_id,
            frame_len: smallest_frame_len(end_bits.div_ceil(8)),
            payload_offset: 0,
            payload_len,
            freshness_bits,
            freshness_at,
            freshness_value_bits,
            mac_bits,
            mac_at,
        }
    }
}

/// The smallest classic CAN or CAN FD length that holds `bytes` bytes
/// (`bytes` itself when it is more than 64, which [`SecuredLayout::new`] refuses).
pub fn smallest_frame_len(bytes: usize) -> usize {
    if bytes > FD_MAX_LEN {
        return bytes;
    }
    (bytes..=FD_MAX_LEN).find(|&len| is_fd_length(len)).unwrap_or(FD_MAX_LEN)
}

/// The checked layout of one secured id. See the module docs for the invariants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SecuredLayout {
    data_id: u16,
    frame_len: u8,
    payload: ByteRange,
    freshness: BitField,
    freshness_value_bits: u8,
    mac: BitField,
}

impl SecuredLayout {
    /// Checks `params` and builds the layout.
    pub fn new(params: LayoutParams) -> Result<SecuredLayout, LayoutError> {
        let LayoutParams {
            data_id,
            frame_len,
            payload_offset,
            payload_len,
            freshness_bits,
            freshness_at,
            freshness_value_bits,
            mac_bits,
            mac_at,
        } = params;
        if !is_fd_length(frame_len) {
            return Err(LayoutError::FrameLength { len: frame_len });
        }
        if mac_bits == 0 {
            return Err(LayoutError::MacEmpty);
        }
        if mac_bits > MAX_MAC_BITS {
            return Err(LayoutError::MacTooLong { bits: mac_bits });
        }
        if freshness_value_bits > MAX_FRESHNESS_VALUE_BITS {
            return Err(LayoutError::FreshnessValueTooLong { bits: freshness_value_bits });
        }
        if freshness_bits > freshness_value_bits {
            return Err(LayoutError::TruncatedFreshnessTooLong {
                truncated: freshness_bits,
                full: freshness_value_bits,
            });
        }
        let frame_bits = frame_len * 8;
        let spans = [
            (Field::AuthenticPayload, payload_offset.saturating_mul(8), payload_len.saturating_mul(8)),
            (Field::Freshness, freshness_at, freshness_bits as usize),
            (Field::Mac, mac_at, mac_bits as usize),
        ];
        for &(field, start, bits) in &spans {
            let end = start.saturating_add(bits);
            if bits > 0 && end > frame_bits {
                return Err(LayoutError::OutsideFrame { field, start, end, frame_len });
            }
        }
        let mut present: Vec<(Field, usize, usize)> = spans.iter().copied().filter(|&(_, _, bits)| bits > 0).collect();
        present.sort_by_key(|&(_, start, _)| start);
        for pair in present.windows(2) {
            if let [(first, start, bits), (second, next_start, _)] = *pair
                && start + bits > next_start
            {
                return Err(LayoutError::Overlap { first, second });
            }
        }
        // Every value below is bounded by the checks above (frame <= 64 bytes, MAC <= 128 bits).
        let narrow = |v: usize| u8::try_from(v).unwrap_or(u8::MAX);
        let position = |v: usize| u16::try_from(v).unwrap_or(u16::MAX);
        Ok(SecuredLayout {
            data_id,
            frame_len: narrow(frame_len),
            payload: ByteRange {
                offset: if payload_len == 0 { 0 } else { narrow(payload_offset) },
                len: narrow(payload_len),
            },
            freshness: BitField {
                position: if freshness_bits == 0 { 0 } else { position(freshness_at) },
                bits: narrow(freshness_bits as usize),
            },
            freshness_value_bits: narrow(freshness_value_bits as usize),
            mac: BitField { position: position(mac_at), bits: narrow(mac_bits as usize) },
        })
    }

    /// The packed layout of an AUTOSAR profile with `payload_len` bytes of authentic payload.
    pub fn for_profile(profile: Profile, data_id: u16, payload_len: usize) -> Result<SecuredLayout, LayoutError> {
        let sizes = profile.sizes();
        SecuredLayout::new(LayoutParams::packed(
            data_id,
            payload_len,
            sizes.freshness_bits,
            sizes.freshness_value_bits,
            sizes.mac_bits,
        ))
    }

    /// The SecOC DataId.
    pub const fn data_id(&self) -> u16 {
        self.data_id
    }

    /// The length of a secured frame in bytes.
    pub const fn frame_len(&self) -> usize {
        self.frame_len as usize
    }

    /// True when frames of this layout are longer than a classic CAN frame.
    pub const fn needs_fd(&self) -> bool {
        self.frame_len as usize > CLASSIC_MAX_LEN
    }

    /// The authentic payload bytes.
    pub const fn payload(&self) -> ByteRange {
        self.payload
    }

    /// The truncated freshness value in the frame.
    pub const fn freshness(&self) -> BitField {
        self.freshness
    }

    /// The length of the full freshness value in bits.
    pub const fn freshness_value_bits(&self) -> u32 {
        self.freshness_value_bits as u32
    }

    /// True when the frame carries the whole freshness value (no reconstruction needed).
    pub const fn carries_full_freshness(&self) -> bool {
        self.freshness.bits == self.freshness_value_bits
    }

    /// The truncated MAC in the frame.
    pub const fn mac(&self) -> BitField {
        self.mac
    }
}

/// The AUTOSAR SecOC profiles (SWS SecureOnboardCommunication, "Security Profiles").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Profile 1, "24Bit-CMAC-8Bit-FV": AES-128-CMAC truncated to 24 bits, 8 bits of a 64-bit freshness value.
    One,
    /// Profile 2, "24Bit-CMAC-No-FV": AES-128-CMAC truncated to 24 bits, no freshness value (no replay protection).
    Two,
    /// Profile 3, "JASPAR": AES-128-CMAC truncated to 28 bits, 4 bits of a 64-bit freshness value built from
    /// trip, reset and message counters (see [`TripResetLayout`](super::TripResetLayout)).
    Three,
    /// Sizes chosen per id (typically CAN FD: e.g. a 64-bit MAC and 16 bits of freshness value).
    Custom,
}

/// The field sizes a profile fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileSizes {
    /// Truncated MAC bits.
    pub mac_bits: u32,
    /// Truncated freshness value bits.
    pub freshness_bits: u32,
    /// Full freshness value bits.
    pub freshness_value_bits: u32,
}

impl Profile {
    /// The sizes of profiles 1 to 3; for [`Profile::Custom`], the CAN FD example of this
    /// project (64-bit MAC, 16-bit truncated freshness value of a 64-bit one).
    pub const fn sizes(self) -> ProfileSizes {
        match self {
            Profile::One => ProfileSizes { mac_bits: 24, freshness_bits: 8, freshness_value_bits: 64 },
            Profile::Two => ProfileSizes { mac_bits: 24, freshness_bits: 0, freshness_value_bits: 0 },
            Profile::Three => ProfileSizes { mac_bits: 28, freshness_bits: 4, freshness_value_bits: 64 },
            Profile::Custom => ProfileSizes { mac_bits: 64, freshness_bits: 16, freshness_value_bits: 64 },
        }
    }

    /// The name rule files use: `"1"`, `"2"`, `"3"` or `"custom"`.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::One => "1",
            Profile::Two => "2",
            Profile::Three => "3",
            Profile::Custom => "custom",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> LayoutParams {
        LayoutParams::packed(0x140, 4, 8, 64, 24)
    }

    #[test]
    fn profile_one_on_a_classic_frame() {
        let layout = SecuredLayout::for_profile(Profile::One, 0x140, 4).unwrap();
        assert_eq!(layout.frame_len(), 8);
        assert_eq!(layout.payload(), ByteRange { offset: 0, len: 4 });
        assert_eq!((layout.freshness().position(), layout.freshness().bits()), (32, 8));
        assert_eq!((layout.mac().position(), layout.mac().bits()), (40, 24));
        assert_eq!(layout.freshness_value_bits(), 64);
        assert!(!layout.needs_fd());
        assert!(!layout.carries_full_freshness());
    }

    #[test]
    fn profiles_pick_the_smallest_frame() {
        let two = SecuredLayout::for_profile(Profile::Two, 1, 5).unwrap();
        assert_eq!((two.frame_len(), two.freshness().bits(), two.freshness_value_bits()), (8, 0, 0));
        assert!(two.carries_full_freshness());
        let three = SecuredLayout::for_profile(Profile::Three, 1, 4).unwrap();
        assert_eq!((three.frame_len(), three.mac().position(), three.mac().bits()), (8, 36, 28));
        let fd = SecuredLayout::for_profile(Profile::Custom, 1, 20).unwrap();
        assert_eq!(fd.frame_len(), 32);
        assert!(fd.needs_fd());
        assert_eq!(smallest_frame_len(9), 12);
        assert_eq!(smallest_frame_len(65), 65);
    }

    #[test]
    fn every_wrong_size_is_a_precise_error() {
        let check = |change: &dyn Fn(&mut LayoutParams), expected: LayoutError| {
            let mut p = params();
            change(&mut p);
            assert_eq!(SecuredLayout::new(p), Err(expected));
        };
        check(&|p| p.frame_len = 10, LayoutError::FrameLength { len: 10 });
        check(&|p| p.frame_len = 65, LayoutError::FrameLength { len: 65 });
        check(&|p| p.mac_bits = 0, LayoutError::MacEmpty);
        check(&|p| p.mac_bits = 129, LayoutError::MacTooLong { bits: 129 });
        check(&|p| p.freshness_value_bits = 65, LayoutError::FreshnessValueTooLong { bits: 65 });
        check(&|p| p.freshness_value_bits = 4, LayoutError::TruncatedFreshnessTooLong { truncated: 8, full: 4 });
        check(&|p| p.mac_at = 41, LayoutError::OutsideFrame { field: Field::Mac, start: 41, end: 65, frame_len: 8 });
        check(
            &|p| p.payload_len = 9,
            LayoutError::OutsideFrame { field: Field::AuthenticPayload, start: 0, end: 72, frame_len: 8 },
        );
        check(
            &|p| p.freshness_at = 31,
            LayoutError::Overlap { first: Field::AuthenticPayload, second: Field::Freshness },
        );
        check(&|p| p.mac_at = 39, LayoutError::Overlap { first: Field::Freshness, second: Field::Mac });
        check(&|p| p.mac_at = 0, LayoutError::Overlap { first: Field::AuthenticPayload, second: Field::Mac });
        check(
            &|p| p.payload_offset = 5,
            LayoutError::OutsideFrame { field: Field::AuthenticPayload, start: 40, end: 72, frame_len: 8 },
        );
        check(
            &|p| p.payload_offset = usize::MAX,
            LayoutError::OutsideFrame {
                field: Field::AuthenticPayload,
                start: usize::MAX,
                end: usize::MAX,
                frame_len: 8,
            },
        );
    }

    #[test]
    fn empty_fields_may_sit_anywhere() {
        let mut p = params();
        p.payload_len = 0;
        p.payload_offset = 200;
        p.freshness_bits = 0;
        p.freshness_at = 999;
        p.freshness_value_bits = 0;
        let layout = SecuredLayout::new(p).unwrap();
        assert_eq!(layout.payload().offset(), 0);
        assert_eq!(layout.freshness().position(), 0);
    }

    #[test]
    fn fields_in_any_order_and_with_gaps() {
        let layout = SecuredLayout::new(LayoutParams {
            data_id: 7,
            frame_len: 32,
            payload_offset: 8,
            payload_len: 16,
            freshness_bits: 16,
            freshness_at: 0,
            freshness_value_bits: 64,
            mac_bits: 64,
            mac_at: 24 * 8,
        })
        .unwrap();
        assert_eq!(layout.payload().end(), 24);
        assert_eq!(layout.mac().end(), 256);
        let errors = [LayoutError::MacEmpty, LayoutError::FrameLength { len: 3 }];
        for e in errors {
            assert!(!e.to_string().is_empty());
        }
    }
}
