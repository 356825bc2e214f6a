//! End-to-end protection of CAN payloads: checksum algorithms and alive
//! counters, as ECUs use them and as the gateway verifies them.
//!
//! A checksum occupies one whole byte of the payload and is computed over the
//! other bytes of the payload (for a SecOC-secured message: of the authentic
//! part only), in the algorithm's own way. An alive counter is an unsigned
//! signal of `bits` bits that advances by one per frame and wraps.
//!
//! Invariants: computing a checksum never panics, whatever the byte index or
//! payload length (an index past the payload simply excludes nothing).

use std::fmt;

use crate::frame::CanId;

/// A checksum algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    /// XOR of every other byte.
    Xor8,
    /// Sum of every other byte, modulo 256.
    Sum8,
    /// Sum of every other byte plus the two low bytes of the id, modulo 256
    /// (the scheme of Tesla's chassis messages).
    Sum8Id,
    /// Sum of every other byte, the two low bytes of the id and the length,
    /// modulo 256 (the scheme of Toyota's powertrain messages).
    Toyota,
    /// CRC-8 SAE J1850 (polynomial 0x1D, initial value 0xFF, final XOR 0xFF)
    /// over the low byte of the id followed by every other byte (the scheme of
    /// AUTOSAR E2E profile 1 with the id's low byte as data id).
    Crc8J1850,
}

impl ChecksumAlgorithm {
    /// Every algorithm.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Xor8,
        ChecksumAlgorithm::Sum8,
        ChecksumAlgorithm::Sum8Id,
        ChecksumAlgorithm::Toyota,
        ChecksumAlgorithm::Crc8J1850,
    ];

    /// The name used in rule files.
    pub const fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Xor8 => "xor8",
            ChecksumAlgorithm::Sum8 => "sum8",
            ChecksumAlgorithm::Sum8Id => "sum8-id",
            ChecksumAlgorithm::Toyota => "toyota",
            ChecksumAlgorithm::Crc8J1850 => "crc8-j1850",
        }
    }

    /// The algorithm called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The checksum of `payload` for a frame with id `id`, leaving out the
    /// byte at `checksum_byte`.
    pub fn compute(self, id: CanId, payload: &[u8], checksum_byte: usize) -> u8 {
        // The bytes before and after the checksum byte (an index past the end excludes nothing).
        let (before, after) = match payload.get(checksum_byte) {
            Some(_) => (&payload[..checksum_byte], &payload[checksum_byte + 1..]),
            None => (payload, &[][..]),
        };
        let raw = id.raw();
        let id_sum = ((raw & 0xFF) as u8).wrapping_add(((raw >> 8) & 0xFF) as u8);
        let fold = |init: u8, f: fn(u8, u8) -> u8| {
            after.iter().fold(before.iter().fold(init, |a, &b| f(a, b)), |a, &b| f(a, b))
        };
        match self {
            ChecksumAlgorithm::Xor8 => fold(0, |a, b| a ^ b),
            ChecksumAlgorithm::Sum8 => fold(0, u8::wrapping_add),
            ChecksumAlgorithm::Sum8Id => fold(id_sum, u8::wrapping_add),
            ChecksumAlgorithm::Toyota => fold(id_sum.wrapping_add(payload.len() as u8), u8::wrapping_add),
            ChecksumAlgorithm::Crc8J1850 => {
                fold(CRC8_J1850[(0xFF ^ (raw & 0xFF) as u8) as usize], |crc, b| CRC8_J1850[(crc ^ b) as usize]) ^ 0xFF
            }
        }
    }

    /// True when the byte at `checksum_byte` of `payload` holds the right checksum.
    pub fn verify(self, id: CanId, payload: &[u8], checksum_byte: usize) -> bool {
        payload.get(checksum_byte).is_some_and(|&b| b == self.compute(id, payload, checksum_byte))
    }
}

impl fmt::Display for ChecksumAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// CRC-8 SAE J1850 of one byte from a zero register, for every byte value.
const CRC8_J1850: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = crc8_j1850_update(0, i as u8);
        i += 1;
    }
    table
};

/// One byte through CRC-8 SAE J1850 (polynomial 0x1D), bit by bit.
const fn crc8_j1850_update(crc: u8, byte: u8) -> u8 {
    let mut crc = crc ^ byte;
    let mut bit = 0;
    while bit < 8 {
        crc = if crc & 0x80 != 0 { (crc << 1) ^ 0x1D } else { crc << 1 };
        bit += 1;
    }
    crc
}

/// What an alive counter did between two frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterStep {
    /// Advanced by 1..=`max_step` (modulo its range).
    Advanced,
    /// Same value again: a replayed or stuck frame.
    Repeated,
    /// Advanced by more than `max_step`, or went backwards.
    Jumped,
}

/// Classifies the step from `previous` to `current` of a counter of `bits` bits.
pub fn counter_step(previous: u64, current: u64, bits: u32, max_step: u64) -> CounterStep {
    let modulus = if bits >= 64 { 0 } else { 1u64 << bits };
    let diff = if modulus == 0 { current.wrapping_sub(previous) } else { current.wrapping_sub(previous) % modulus };
    match diff {
        0 => CounterStep::Repeated,
        d if d <= max_step => CounterStep::Advanced,
        _ => CounterStep::Jumped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: u32) -> CanId {
        CanId::standard(raw).unwrap()
    }

    #[test]
    fn toyota_checksum_of_a_real_rav4_frame() {
        // (46408.584930) can0 260#08FFFB0000001884 from the comma2k19 RAV4 capture.
        let data = [0x08, 0xFF, 0xFB, 0x00, 0x00, 0x00, 0x18, 0x84];
        assert!(ChecksumAlgorithm::Toyota.verify(id(0x260), &data, 7));
        assert!(!ChecksumAlgorithm::Toyota.verify(id(0x261), &data, 7));
    }

    #[test]
    fn crc8_j1850_check_value() {
        // The catalogue check value of CRC-8/SAE-J1850 over "123456789" is 0x4B.
        let check = b"123456789".iter().fold(0xFF, |c, &b| crc8_j1850_update(c, b)) ^ 0xFF;
        assert_eq!(check, 0x4B);
        // With the id's low byte first, as the rule files use it.
        let mut payload = [0x10, 0x27, 0, 0, 0, 0, 0x05, 0];
        payload[7] = ChecksumAlgorithm::Crc8J1850.compute(id(0x110), &payload, 7);
        assert!(ChecksumAlgorithm::Crc8J1850.verify(id(0x110), &payload, 7));
        payload[0] ^= 1;
        assert!(!ChecksumAlgorithm::Crc8J1850.verify(id(0x110), &payload, 7));
    }

    #[test]
    fn simple_sums() {
        let data = [0x01, 0x02, 0x04, 0x00];
        assert_eq!(ChecksumAlgorithm::Xor8.compute(id(0x1), &data, 3), 0x07);
        assert_eq!(ChecksumAlgorithm::Sum8.compute(id(0x1), &[0xFF, 0x02, 0], 2), 0x01);
        assert_eq!(ChecksumAlgorithm::Sum8Id.compute(id(0x2B4), &[0x10, 0], 1), 0x10 + 0x02 + 0xB4);
        // The checksum byte may be anywhere; an index past the end excludes nothing.
        assert_eq!(ChecksumAlgorithm::Xor8.compute(id(0x1), &data, 0), 0x06);
        assert_eq!(ChecksumAlgorithm::Xor8.compute(id(0x1), &data, 99), 0x07);
        assert!(!ChecksumAlgorithm::Xor8.verify(id(0x1), &data, 99));
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::from_name(a.name()), Some(a));
        }
    }

    #[test]
    fn counter_steps() {
        assert_eq!(counter_step(3, 4, 4, 1), CounterStep::Advanced);
        assert_eq!(counter_step(15, 0, 4, 1), CounterStep::Advanced);
        assert_eq!(counter_step(4, 4, 4, 1), CounterStep::Repeated);
        assert_eq!(counter_step(4, 6, 4, 1), CounterStep::Jumped);
        assert_eq!(counter_step(4, 6, 4, 2), CounterStep::Advanced);
        assert_eq!(counter_step(4, 3, 4, 2), CounterStep::Jumped);
        assert_eq!(counter_step(u64::MAX, 0, 64, 1), CounterStep::Advanced);
    }
}
