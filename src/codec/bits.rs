//! Where a signal's bits sit in a payload, compiled once into a few shifts.
//!
//! Bit numbering follows the DBC file format:
//! - Intel (`@1`): the start bit is the least significant bit; bit `k` is bit
//!   `k % 8` of byte `k / 8`, and the signal grows towards higher bit numbers.
//! - Motorola (`@0`): the start bit is the most significant bit, in the same
//!   "sawtooth" numbering; the signal continues towards lower bit numbers within
//!   a byte, then to bit 7 of the next byte.
//!
//! A compiled [`BitLayout`] reads one 8-byte window (little- or big-endian) and
//! shifts it; a signal that spans 9 bytes (a 64-bit signal not aligned on a
//! byte, or 58..=63 bits unaligned enough) also reads the ninth byte.
//!
//! Invariants, established by [`BitLayout::new`] and relied on by every reader:
//! the message is at most 64 bytes, every bit of the signal lies inside it, the
//! window starts at most at byte 56, and every shift amount is below 64.
//! Reads never panic: bytes missing from a too-short payload read as zero (the
//! callers check the payload length first and report it).

use crate::dbc::ByteOrder;

use super::error::LayoutError;

/// The largest payload the codec handles (a CAN FD frame).
pub const MAX_MESSAGE_SIZE: u32 = 64;

/// How to pull the bits out of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extract {
    /// Little-endian window, shifted right by `shift`.
    LeNarrow { shift: u8 },
    /// Little-endian window shifted right by `shift` (1..=7), plus the ninth
    /// byte shifted left by `64 - shift`.
    LeWide { shift: u8 },
    /// Big-endian window, shifted right by `shift`.
    BeNarrow { shift: u8 },
    /// Big-endian window: drop the `lead` (1..=7) bits before the signal's most
    /// significant bit, keep `64 - lead` bits, then append the top `tail`
    /// (1..=lead) bits of the ninth byte.
    BeWide { lead: u8, tail: u8 },
}

/// The compiled position of one signal in a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitLayout {
    extract: Extract,
    /// First byte of the 8-byte window (0..=56).
    window: u8,
    /// Signal length in bits (1..=64).
    size: u8,
    /// `size` low bits set.
    mask: u64,
    /// Position of the least significant bit: the Intel bit number for Intel
    /// signals; for Motorola signals the position in "big-endian linear"
    /// numbering, where position `p` is bit `7 - p % 8` of byte `p / 8`.
    lsb: u16,
    big_endian: bool,
    first_byte: u8,
    last_byte: u8,
}

impl BitLayout {
    /// Compiles the position of a signal (`start_bit|size@order` as written in
    /// the DBC) in a message of `message_size` bytes. `signal` names the signal
    /// in errors.
    pub fn new(
        signal: &str,
        start_bit: u32,
        size: u32,
        byte_order: ByteOrder,
        message_size: u32,
    ) -> Result<Self, LayoutError> {
        if message_size > MAX_MESSAGE_SIZE {
            return Err(LayoutError::MessageTooLong { size: message_size });
        }
        if size == 0 {
            return Err(LayoutError::ZeroSize { signal: signal.to_owned() });
        }
        if size > 64 {
            return Err(LayoutError::TooManyBits { signal: signal.to_owned(), size });
        }
        let message_bits = message_size * 8;
        if start_bit >= message_bits {
            return Err(LayoutError::StartOutsideMessage { signal: signal.to_owned(), start_bit, message_size });
        }
        // From here: start_bit < 512, size <= 64, so no arithmetic below can overflow.
        let big_endian = byte_order == ByteOrder::BigEndian;
        let (first_bit, last_bit) = if big_endian {
            let msb = start_bit / 8 * 8 + (7 - start_bit % 8);
            (msb, msb + size - 1)
        } else {
            (start_bit, start_bit + size - 1)
        };
        if last_bit >= message_bits {
            return Err(LayoutError::EndsOutsideMessage {
                signal: signal.to_owned(),
                start_bit,
                size,
                byte_order,
                message_size,
            });
        }
        let first_byte = first_bit / 8;
        let last_byte = last_bit / 8;
        let wide = last_byte - first_byte == 8;
        let window = if wide {
            first_byte
        } else if message_size < 8 {
            0
        } else {
            first_byte.min(message_size - 8)
        };
        let window_bit = window * 8;
        let extract = match (big_endian, wide) {
            (false, false) => Extract::LeNarrow { shift: narrow(first_bit - window_bit) },
            (false, true) => Extract::LeWide { shift: narrow(first_bit % 8) },
            (true, false) => Extract::BeNarrow { shift: narrow(63 - (last_bit - window_bit)) },
            (true, true) => {
                let lead = first_bit % 8;
                Extract::BeWide { lead: narrow(lead), tail: narrow(size + lead - 64) }
            }
        };
        Ok(BitLayout {
            extract,
            window: narrow(window),
            size: narrow(size),
            mask: u64::MAX >> (64 - size),
            lsb: if big_endian { last_bit as u16 } else { first_bit as u16 },
            big_endian,
            first_byte: narrow(first_byte),
            last_byte: narrow(last_byte),
        })
    }

    /// The signal's length in bits (1..=64).
    pub fn size(&self) -> u32 {
        u32::from(self.size)
    }

    /// The first and last byte the signal touches (inclusive).
    pub fn byte_span(&self) -> (usize, usize) {
        (usize::from(self.first_byte), usize::from(self.last_byte))
    }

    /// The signal's bits as an unsigned integer (not sign-extended).
    /// Bytes beyond `data` read as zero.
    #[inline]
    pub fn extract(&self, data: &[u8]) -> u64 {
        let window = usize::from(self.window);
        match self.extract {
            Extract::LeNarrow { shift } => (load_le(data, window) >> shift) & self.mask,
            Extract::LeWide { shift } => {
                let ninth = u64::from(ninth_byte(data, window));
                ((load_le(data, window) >> shift) | (ninth << (64 - shift))) & self.mask
            }
            Extract::BeNarrow { shift } => (load_be(data, window) >> shift) & self.mask,
            Extract::BeWide { lead, tail } => {
                let ninth = ninth_byte(data, window);
                ((load_be(data, window) << lead) >> (64 - self.size)) | u64::from(ninth >> (8 - tail))
            }
        }
    }

    /// Writes the low `size` bits of `value` into the signal's bits of `buf`,
    /// leaving every other bit untouched. Bytes beyond `buf` are skipped.
    pub fn insert(&self, buf: &mut [u8], value: u64) {
        let value = value & self.mask;
        let lsb = u32::from(self.lsb);
        let size = u32::from(self.size);
        for byte_index in self.first_byte..=self.last_byte {
            let byte_first = u32::from(byte_index) * 8;
            let byte_last = byte_first + 7;
            // `value_shift`: which value bit lands lowest in this byte; `bit`: where.
            let (count, value_shift, bit) = if self.big_endian {
                let msb = lsb + 1 - size;
                let low = msb.max(byte_first);
                let high = lsb.min(byte_last);
                (high - low + 1, lsb - high, 7 - high % 8)
            } else {
                let low = lsb.max(byte_first);
                let high = (lsb + size - 1).min(byte_last);
                (high - low + 1, low - lsb, low % 8)
            };
            let chunk_mask = (1u64 << count) - 1;
            let chunk = (value >> value_shift) & chunk_mask;
            if let Some(byte) = buf.get_mut(usize::from(byte_index)) {
                let keep = !((chunk_mask << bit) as u8);
                *byte = (*byte & keep) | ((chunk << bit) as u8);
            }
        }
    }
}

/// Narrows a value the layout arithmetic has bounded below 256.
fn narrow(value: u32) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

/// The 8 bytes from `start` as a little-endian word (missing bytes read as zero).
#[inline]
fn load_le(data: &[u8], start: usize) -> u64 {
    u64::from_le_bytes(load_window(data, start))
}

/// The 8 bytes from `start` as a big-endian word (missing bytes read as zero).
#[inline]
fn load_be(data: &[u8], start: usize) -> u64 {
    u64::from_be_bytes(load_window(data, start))
}

#[inline]
fn load_window(data: &[u8], start: usize) -> [u8; 8] {
    match data.get(start..).and_then(|rest| rest.first_chunk::<8>()) {
        Some(chunk) => *chunk,
        None => {
            let mut padded = [0u8; 8];
            for (slot, byte) in padded.iter_mut().zip(data.get(start..).unwrap_or(&[])) {
                *slot = *byte;
            }
            padded
        }
    }
}

#[inline]
fn ninth_byte(data: &[u8], window: usize) -> u8 {
    data.get(window + 8).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteOrder::{BigEndian as Motorola, LittleEndian as Intel};

    fn layout(start: u32, size: u32, order: ByteOrder, message_size: u32) -> BitLayout {
        BitLayout::new("s", start, size, order, message_size).expect("valid layout")
    }

    /// The DBC definition, one bit at a time: bit `k` of the sawtooth numbering is
    /// bit `k % 8` of byte `k / 8`.
    fn reference(data: &[u8], start: u32, size: u32, order: ByteOrder) -> u64 {
        let bit = |k: u32| u64::from(data[(k / 8) as usize] >> (k % 8) & 1);
        let mut value = 0u64;
        match order {
            Intel => {
                for i in 0..size {
                    value |= bit(start + i) << i;
                }
            }
            Motorola => {
                let mut k = start;
                for _ in 0..size {
                    value = value << 1 | bit(k);
                    k = if k.is_multiple_of(8) { k + 15 } else { k - 1 };
                }
            }
        }
        value
    }

    #[test]
    fn intel_vectors() {
        let data = [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0];
        assert_eq!(layout(0, 8, Intel, 8).extract(&data), 0x12);
        assert_eq!(layout(8, 16, Intel, 8).extract(&data), 0x5634);
        assert_eq!(layout(4, 8, Intel, 8).extract(&data), 0x41);
        assert_eq!(layout(0, 64, Intel, 8).extract(&data), 0xF0DE_BC9A_7856_3412);
        assert_eq!(layout(63, 1, Intel, 8).extract(&data), 1);
        assert_eq!(layout(60, 4, Intel, 8).extract(&data), 0xF);
        assert_eq!(layout(1, 3, Intel, 1).extract(&data[..1]), 0b001);
    }

    #[test]
    fn motorola_vectors() {
        let data = [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0];
        assert_eq!(layout(7, 8, Motorola, 8).extract(&data), 0x12);
        assert_eq!(layout(7, 16, Motorola, 8).extract(&data), 0x1234);
        assert_eq!(layout(7, 64, Motorola, 8).extract(&data), 0x1234_5678_9ABC_DEF0);
        // Start at bit 3 of byte 0 (0x12 = 0001_0010): bits 3..0 = 0010, then byte 1's top 4 bits 0011.
        assert_eq!(layout(3, 8, Motorola, 8).extract(&data), 0x23);
        assert_eq!(layout(56, 1, Motorola, 8).extract(&data), 0);
        assert_eq!(layout(63, 1, Motorola, 8).extract(&data), 1);
    }

    #[test]
    fn nine_byte_signals() {
        let data: Vec<u8> = (0..9u8).map(|i| i.wrapping_mul(0x3B) ^ 0xA5).collect();
        for (start, order) in [(4, Intel), (3, Motorola), (1, Intel), (6, Motorola), (7, Intel)] {
            let l = layout(start, 64, order, 9);
            assert!(matches!(l.extract, Extract::LeWide { .. } | Extract::BeWide { .. }), "{start} {order:?}");
            assert_eq!(l.extract(&data), reference(&data, start, 64, order), "{start} {order:?}");
        }
    }

    #[test]
    fn every_layout_of_a_64_byte_message_matches_the_reference() {
        let data: Vec<u8> = (0..64u32).map(|i| (i.wrapping_mul(0x9E37_79B9) >> 13) as u8).collect();
        let mut checked = 0;
        for order in [Intel, Motorola] {
            for size in 1..=64 {
                for start in 0..512 {
                    let Ok(l) = BitLayout::new("s", start, size, order, 64) else { continue };
                    assert_eq!(l.extract(&data), reference(&data, start, size, order), "{start}|{size} {order:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 60_000, "{checked}");
    }

    #[test]
    fn insert_writes_only_the_signal() {
        for order in [Intel, Motorola] {
            for size in [1, 7, 8, 13, 32, 57, 64] {
                for start in 0..128 {
                    let Ok(l) = BitLayout::new("s", start, size, order, 16) else { continue };
                    let mut ones = [0xFFu8; 16];
                    l.insert(&mut ones, 0);
                    let mut zeros = [0u8; 16];
                    l.insert(&mut zeros, u64::MAX);
                    // The bits cleared in one are exactly the bits set in the other.
                    for (one, zero) in ones.iter().zip(&zeros) {
                        assert_eq!(!one, *zero, "{start}|{size} {order:?}");
                    }
                    assert_eq!(zeros.iter().map(|b| b.count_ones()).sum::<u32>(), size);
                    let mut buf = [0x5Au8; 16];
                    let value = 0xDEAD_BEEF_F00D_CAFEu64 & l.mask;
                    l.insert(&mut buf, value);
                    assert_eq!(l.extract(&buf), value, "{start}|{size} {order:?}");
                }
            }
        }
    }

    #[test]
    fn short_data_reads_as_zero_without_panicking() {
        let l = layout(7, 64, Motorola, 8);
        assert_eq!(l.extract(&[0xFF, 0xFF]), 0xFFFF_0000_0000_0000);
        assert_eq!(l.extract(&[]), 0);
        let wide = layout(4, 64, Intel, 9);
        assert_eq!(wide.extract(&[0xF0; 3]), 0x0F_0F0F);
        let mut short = [0u8; 2];
        l.insert(&mut short, u64::MAX);
        assert_eq!(short, [0xFF, 0xFF]);
    }

    #[test]
    fn layout_errors() {
        let err = |start, size, order, msg| BitLayout::new("s", start, size, order, msg).unwrap_err();
        assert_eq!(err(0, 0, Intel, 8), LayoutError::ZeroSize { signal: "s".into() });
        assert_eq!(err(0, 65, Intel, 9), LayoutError::TooManyBits { signal: "s".into(), size: 65 });
        assert_eq!(err(0, 8, Intel, 65), LayoutError::MessageTooLong { size: 65 });
        assert_eq!(
            err(64, 1, Intel, 8),
            LayoutError::StartOutsideMessage { signal: "s".into(), start_bit: 64, message_size: 8 }
        );
        assert!(matches!(err(60, 8, Intel, 8), LayoutError::EndsOutsideMessage { .. }));
        // Motorola 56|16 starts in the last byte and runs off it.
        assert!(matches!(err(56, 16, Motorola, 8), LayoutError::EndsOutsideMessage { .. }));
        assert!(matches!(err(0, 1, Motorola, 0), LayoutError::StartOutsideMessage { .. }));
        assert!(matches!(err(u32::MAX, 64, Motorola, 64), LayoutError::StartOutsideMessage { .. }));
        // Motorola 7|64 fits exactly, 6|64 does not.
        assert!(BitLayout::new("s", 7, 64, Motorola, 8).is_ok());
        assert!(matches!(err(6, 64, Motorola, 8), LayoutError::EndsOutsideMessage { .. }));
    }
}
