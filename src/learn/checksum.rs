//! Checksums: which byte of an id's payload holds which checksum of the rest.
//!
//! Every byte position is a candidate for every [`ChecksumAlgorithm`] at
//! first; a frame in which the byte is not the algorithm's checksum of the
//! other bytes rules that pair out for good (a checksum that fails even once
//! would drop a frame of the capture). The bytes covered are those the engine
//! covers: for a DBC message the first `DBC length` bytes of the payload, else
//! the whole payload. Once every candidate is out, frames cost nothing more.
//!
//! A surviving pair is proposed only if it is not trivially true: the byte
//! took at least [`MIN_DISTINCT_VALUES`] distinct values (a zero byte in
//! all-zero frames "matches" `xor8` and `sum8`), over at least `min_frames`
//! frames. When several algorithms survive on one byte the most specific one
//! wins, in the order of [`PREFERENCE`]. An XOR checksum cannot be placed by
//! the data alone (when one byte is the XOR of the others, the XOR of all bytes
//! is zero and every byte is the XOR of the others), so every byte matches:
//! the caller picks the one the DBC names like a checksum.
//!
//! Invariant: memory is fixed per id (at most 64 byte positions, each with
//! five flags and a 256-bit set of values seen).

use crate::e2e::ChecksumAlgorithm;
use crate::frame::CanId;

/// Fewest distinct values of the checksum byte for a match to mean anything.
pub const MIN_DISTINCT_VALUES: u32 = 8;

/// Fewest frames to propose a checksum.
pub const MIN_FRAMES: u64 = 16;

/// Most specific first: an algorithm that also mixes in the id or the length
/// cannot match by accident where a plain sum or XOR can.
pub const PREFERENCE: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc8J1850,
    ChecksumAlgorithm::Toyota,
    ChecksumAlgorithm::Sum8Id,
    ChecksumAlgorithm::Sum8,
    ChecksumAlgorithm::Xor8,
];

/// The most bytes a payload can have.
const MAX_BYTES: usize = 64;

/// One byte position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    /// Bit `i` set: algorithm `PREFERENCE[i]` has matched every frame so far.
    alive: u8,
    /// Values the byte took.
    seen: [u64; 4],
}

/// What the capture says about the checksums of one id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecksumDetector {
    id: CanId,
    /// Bytes covered by the checksum (the DBC length), or `None` for the whole payload.
    covered: Option<usize>,
    candidates: Vec<Candidate>,
    frames: u64,
    any_alive: bool,
}

/// A checksum found in the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChecksumMatch {
    /// The byte holding it.
    pub byte: usize,
    /// The algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// Other algorithms that matched too, as a bit set over [`PREFERENCE`].
    pub also: u8,
    /// Frames it matched (all of them).
    pub frames: u64,
}

impl ChecksumDetector {
    /// A detector for `id`; `covered` is the DBC length when a DBC defines the id.
    pub fn new(id: CanId, covered: Option<usize>) -> Self {
        ChecksumDetector { id, covered, candidates: Vec::new(), frames: 0, any_alive: true }
    }

    /// One frame's payload.
    pub fn observe(&mut self, payload: &[u8]) {
        if !self.any_alive {
            return;
        }
        let data = match self.covered {
            Some(n) => payload.get(..n).unwrap_or(payload),
            None => payload,
        };
        let len = data.len().min(MAX_BYTES);
        if self.frames == 0 {
            self.candidates = vec![Candidate { alive: (1 << PREFERENCE.len()) - 1, seen: [0; 4] }; len];
        }
        // A byte position a frame does not have cannot hold its checksum.
        for c in self.candidates.iter_mut().skip(len) {
            c.alive = 0;
        }
        self.frames += 1;
        let mut any = false;
        for (byte, c) in self.candidates.iter_mut().enumerate() {
            if c.alive == 0 {
                continue;
            }
            for (bit, algorithm) in PREFERENCE.iter().enumerate() {
                if c.alive & (1 << bit) != 0 && !algorithm.verify(self.id, &data[..len], byte) {
                    c.alive &= !(1 << bit);
                }
            }
            if let Some(&value) = data.get(byte) {
                c.seen[usize::from(value >> 6)] |= 1 << (value & 63);
            }
            any |= c.alive != 0;
        }
        self.any_alive = any;
    }

    /// Every byte holding a non-trivial checksum in every frame, by byte position.
    pub fn matches(&self) -> Vec<ChecksumMatch> {
        if self.frames < MIN_FRAMES {
            return Vec::new();
        }
        self.candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.alive != 0 && c.seen.iter().map(|w| w.count_ones()).sum::<u32>() >= MIN_DISTINCT_VALUES)
            .filter_map(|(byte, c)| {
                let first = c.alive.trailing_zeros() as usize;
                let algorithm = *PREFERENCE.get(first)?;
                Some(ChecksumMatch { byte, algorithm, also: c.alive & !(1 << first), frames: self.frames })
            })
            .collect()
    }
}

/// True when `name` suggests a checksum signal.
pub fn name_suggests_checksum(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper == "CS" || ["CHECKSUM", "CHKSUM", "CHKSM", "CRC"].iter().any(|h| upper.contains(h))
}

/// The names of the algorithms in a [`ChecksumMatch::also`] set.
pub fn names(set: u8) -> Vec<&'static str> {
    PREFERENCE.iter().enumerate().filter(|(i, _)| set & (1 << i) != 0).map(|(_, a)| a.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: u32) -> CanId {
        CanId::standard(raw).unwrap()
    }

    fn payloads(n: u64) -> impl Iterator<Item = [u8; 8]> {
        (0..n).map(|i| {
            let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes();
            [x[0], x[1], x[2], x[3], x[4], x[5], x[6], 0]
        })
    }

    #[test]
    fn finds_each_algorithm_at_any_byte() {
        for algorithm in ChecksumAlgorithm::ALL {
            for byte in [0usize, 3, 7] {
                let mut d = ChecksumDetector::new(id(0x2E4), Some(8));
                for mut p in payloads(200) {
                    p.swap(byte, 7);
                    p[byte] = algorithm.compute(id(0x2E4), &p, byte);
                    d.observe(&p);
                }
                let found = d.matches();
                if algorithm == ChecksumAlgorithm::Xor8 {
                    // The XOR of all bytes is zero, so every byte is the XOR of the others.
                    assert_eq!(found.len(), 8, "{found:?}");
                    assert!(found.iter().all(|m| m.algorithm == algorithm));
                } else {
                    assert_eq!(found.len(), 1, "{algorithm} at {byte}: {found:?}");
                    assert_eq!((found[0].byte, found[0].algorithm), (byte, algorithm));
                }
            }
        }
    }

    #[test]
    fn one_bad_frame_rules_a_checksum_out() {
        let mut d = ChecksumDetector::new(id(0x260), Some(8));
        for (i, mut p) in payloads(200).enumerate() {
            p[7] = ChecksumAlgorithm::Toyota.compute(id(0x260), &p, 7);
            if i == 150 {
                p[7] ^= 1;
            }
            d.observe(&p);
        }
        assert!(d.matches().is_empty());
    }

    #[test]
    fn trivial_matches_are_not_proposed() {
        // All-zero frames: the zero bytes "match" xor8 and sum8.
        let mut d = ChecksumDetector::new(id(0x100), None);
        for _ in 0..100 {
            d.observe(&[0; 8]);
        }
        assert!(d.matches().is_empty());
        // Too few frames.
        let mut d = ChecksumDetector::new(id(0x100), None);
        for mut p in payloads(10) {
            p[7] = ChecksumAlgorithm::Xor8.compute(id(0x100), &p, 7);
            d.observe(&p);
        }
        assert!(d.matches().is_empty());
    }

    #[test]
    fn only_the_dbc_length_is_covered_and_short_frames_end_a_position() {
        // A 6-byte DBC message sent in 8-byte frames: the checksum covers 6 bytes.
        let mut d = ChecksumDetector::new(id(0x22A), Some(6));
        for mut p in payloads(100) {
            p[5] = ChecksumAlgorithm::Sum8.compute(id(0x22A), &p[..6], 5);
            p[6] = 0xAA;
            d.observe(&p);
        }
        let found = d.matches();
        assert_eq!(found.iter().map(|m| (m.byte, m.algorithm)).collect::<Vec<_>>(), [(5, ChecksumAlgorithm::Sum8)]);
        let mut d = ChecksumDetector::new(id(0x22A), None);
        for mut p in payloads(100) {
            p[7] = ChecksumAlgorithm::Sum8.compute(id(0x22A), &p, 7);
            d.observe(&p);
        }
        d.observe(&[1, 2, 3]);
        assert!(d.matches().is_empty());
        assert_eq!(names(0b11), ["crc8-j1850", "toyota"]);
        assert!(name_suggests_checksum("CHECKSUM") && name_suggests_checksum("VCU_Speed_Checksum"));
        assert!(name_suggests_checksum("CS") && name_suggests_checksum("CRC8_STEER"));
        assert!(!name_suggests_checksum("COUNTER") && !name_suggests_checksum("CSPEED"));
    }
}
