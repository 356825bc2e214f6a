//! Bit fields of a secured frame, numbered the way AUTOSAR packs a secured PDU.
//!
//! Bit position 0 is the most significant bit of byte 0, position 8 the most
//! significant bit of byte 1, and so on; a field of `n` bits at position `p`
//! holds an unsigned value with its most significant bit at `p` (big-endian
//! bit order, the order in which `payload | freshness | MAC` are concatenated).
//!
//! Invariant: reading and writing never panic; bits beyond the end of the
//! slice read as zero and are not written (layouts are checked against the
//! frame length before these functions are called, so that only happens on
//! caller bugs, never on input).

/// Reads `bits` (0..=128) bits starting at bit `position`, most significant bit first.
pub(crate) fn read_bits(data: &[u8], position: usize, bits: usize) -> u128 {
    let end = position.saturating_add(bits.min(128));
    let mut value: u128 = 0;
    let mut at = position;
    while at < end {
        let offset = at % 8;
        let take = (8 - offset).min(end - at);
        let byte = data.get(at / 8).copied().unwrap_or(0);
        let chunk = (byte >> (8 - offset - take)) & low_mask_u8(take);
        value = (value << take) | u128::from(chunk);
        at += take;
    }
    value
}

/// Writes the low `bits` (0..=128) bits of `value` starting at bit `position`,
/// most significant bit first, leaving the other bits of the touched bytes as they were.
pub(crate) fn write_bits(data: &mut [u8], position: usize, bits: usize, value: u128) {
    let bits = bits.min(128);
    let end = position.saturating_add(bits);
    let mut at = position;
    while at < end {
        let offset = at % 8;
        let take = (8 - offset).min(end - at);
        // Bits of `value` still to write after this chunk.
        let remaining = end - at - take;
        let chunk = ((value >> remaining) as u8) & low_mask_u8(take);
        let shift = 8 - offset - take;
        if let Some(byte) = data.get_mut(at / 8) {
            let mask = low_mask_u8(take) << shift;
            *byte = (*byte & !mask) | (chunk << shift);
        }
        at += take;
    }
}

/// A mask of the `bits` (0..=8) low bits of a byte.
const fn low_mask_u8(bits: usize) -> u8 {
    if bits >= 8 { 0xFF } else { (1u8 << bits) - 1 }
}

/// A mask of the `bits` (0..=64) low bits of a `u64`.
pub(crate) const fn low_mask_u64(bits: u32) -> u64 {
    if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 }
}

/// The number of whole bytes that hold `bits` bits.
pub(crate) const fn bytes_for_bits(bits: u32) -> usize {
    bits.div_ceil(8) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-by-bit definition the fast loops must agree with.
    fn reference_read(data: &[u8], position: usize, bits: usize) -> u128 {
        (position..position + bits).fold(0u128, |acc, p| {
            let bit = data.get(p / 8).map_or(0, |b| (b >> (7 - p % 8)) & 1);
            (acc << 1) | u128::from(bit)
        })
    }

    #[test]
    fn reads_aligned_and_unaligned_fields() {
        let data = [0xDE, 0xAD, 0xBE, 0xEF, 0x01];
        assert_eq!(read_bits(&data, 0, 8), 0xDE);
        assert_eq!(read_bits(&data, 8, 16), 0xADBE);
        assert_eq!(read_bits(&data, 4, 8), 0xEA);
        assert_eq!(read_bits(&data, 0, 4), 0xD);
        assert_eq!(read_bits(&data, 36, 4), 0x1);
        assert_eq!(read_bits(&data, 3, 0), 0);
        for position in 0..40 {
            for bits in 0..=(40 - position) {
                assert_eq!(read_bits(&data, position, bits), reference_read(&data, position, bits));
            }
        }
    }

    #[test]
    fn reads_a_full_128_bit_field_at_an_odd_position() {
        let data: Vec<u8> = (0..17).map(|i| (i * 37 + 11) as u8).collect();
        assert_eq!(read_bits(&data, 5, 128), reference_read(&data, 5, 128));
    }

    #[test]
    fn writes_only_the_field_bits() {
        let mut data = [0xFFu8; 4];
        write_bits(&mut data, 4, 12, 0);
        assert_eq!(data, [0xF0, 0x00, 0xFF, 0xFF]);
        write_bits(&mut data, 4, 12, 0xABC);
        assert_eq!(data, [0xFA, 0xBC, 0xFF, 0xFF]);
        write_bits(&mut data, 30, 2, 0b01);
        assert_eq!(data, [0xFA, 0xBC, 0xFF, 0xFD]);
    }

    #[test]
    fn write_then_read_round_trips_everywhere() {
        for position in 0..24 {
            for bits in 1..=40 {
                let mut data = [0x5Au8; 9];
                let value = 0x0123_4567_89AB_u128 & ((1u128 << bits) - 1);
                write_bits(&mut data, position, bits, value);
                assert_eq!(read_bits(&data, position, bits), value, "position {position} bits {bits}");
                // Bits before and after the field are untouched.
                assert_eq!(reference_read(&data, 0, position), reference_read(&[0x5A; 9], 0, position));
                let after = position + bits;
                assert_eq!(reference_read(&data, after, 72 - after), reference_read(&[0x5A; 9], after, 72 - after));
            }
        }
    }

    #[test]
    fn out_of_range_bits_read_as_zero_and_are_not_written() {
        let mut data = [0xFFu8; 2];
        assert_eq!(read_bits(&data, 12, 8), 0xF0);
        write_bits(&mut data, 12, 8, 0);
        assert_eq!(data, [0xFF, 0xF0]);
    }

    #[test]
    fn masks_and_byte_counts() {
        assert_eq!(low_mask_u64(0), 0);
        assert_eq!(low_mask_u64(8), 0xFF);
        assert_eq!(low_mask_u64(64), u64::MAX);
        assert_eq!(bytes_for_bits(0), 0);
        assert_eq!(bytes_for_bits(1), 1);
        assert_eq!(bytes_for_bits(36), 5);
        assert_eq!(bytes_for_bits(64), 8);
    }
}
