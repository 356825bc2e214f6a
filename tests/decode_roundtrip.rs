//! `encode(decode(frame))` on every decoded frame of the real captures, through
//! our DBC parser, our capture reader and our codec: encoding the decoded
//! values (raw, and physical) of the signals present writes back exactly the
//! frame's bits those signals cover and touches no other bit.
//!
//! The covered bits are computed here from the DBC definition alone (not by the
//! codec), and the message is encoded twice, over a payload of zeros and over a
//! payload of ones: covered bits must equal the frame's in both, the others
//! must keep the background.
//!
//! Needs `../shared/data` (skipped with a message when absent).

mod decode_support;

use std::path::Path;

use bulkhead::codec::{CodecTable, Lookup, MessageCodec, SignalIndex};
use bulkhead::dbc::ByteOrder;
use bulkhead::logs::{self, ReadOptions};
use decode_support::{CAPTURES, shared_data};

/// The payload bits (`byte * 8 + bit`, bit 0 the least significant) a signal covers.
fn covered_bits(start: u32, size: u32, order: ByteOrder) -> Vec<u32> {
    match order {
        ByteOrder::LittleEndian => (start..start + size).collect(),
        // Motorola: from the most significant bit at `start`, one lower
        // within a byte, then bit 7 of the next byte.
        ByteOrder::BigEndian => {
            let mut bits = Vec::with_capacity(size as usize);
            let mut k = start;
            for _ in 0..size {
                bits.push(k);
                k = if k.is_multiple_of(8) { k + 15 } else { k - 1 };
            }
            bits
        }
    }
}

/// The mask of the bits covered by the signals present (by index).
fn mask(codec: &MessageCodec, present: &[SignalIndex]) -> Vec<u8> {
    let mut mask = vec![0u8; codec.size()];
    for &index in present {
        let signal = codec.signal(index).expect("a present signal exists");
        for k in covered_bits(signal.start_bit(), signal.size(), signal.byte_order()) {
            mask[(k / 8) as usize] |= 1 << (k % 8);
        }
    }
    mask
}

#[derive(Default)]
struct Tally {
    frames: usize,
    signals: usize,
    failures: Vec<String>,
}

impl Tally {
    /// Encodes with `encode` over zeros and over ones and checks the result against the frame.
    fn check(
        &mut self,
        what: &str,
        data: &[u8],
        mask: &[u8],
        encode: impl Fn(&mut [u8]) -> Result<(), bulkhead::codec::EncodeError>,
    ) {
        for background in [0x00u8, 0xff] {
            let mut buf = vec![background; mask.len()];
            if let Err(e) = encode(&mut buf) {
                self.failures.push(format!("{what}: encoding fails: {e}"));
                return;
            }
            let want: Vec<u8> = data.iter().zip(mask).map(|(d, m)| (d & m) | (background & !m)).collect();
            if buf != want {
                self.failures.push(format!(
                    "{what}: over {background:#04x}: got {}, want {} (mask {})",
                    hex(&buf),
                    hex(&want),
                    hex(mask)
                ));
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn round_trip(data_dir: &Path, log: &str, bus: &str, dbc: &str, lenient: bool, tally: &mut Tally) {
    let parsed = bulkhead::dbc::load(&data_dir.join(dbc)).unwrap_or_else(|e| panic!("{dbc}: {e}"));
    let table = CodecTable::new([&parsed]);
    assert!(table.invalid().is_empty(), "{dbc}: messages we refuse: {:?}", table.invalid());
    let path = data_dir.join("logs").join(log);
    let mut reader = logs::open(&path, None, ReadOptions { lenient }).unwrap_or_else(|e| panic!("{log}: {e}"));
    while let Some(record) = reader.next() {
        let record = record.unwrap_or_else(|e| panic!("{log}: {e}"));
        if reader.buses().name(record.bus) != bus || record.frame.is_remote() || record.frame.is_error() {
            continue;
        }
        let Lookup::Message(_, codec) = table.lookup(record.frame.id()) else { continue };
        let data = record.frame.data();
        let Ok(decoded) = codec.decode_to_vec(data) else { continue };
        let what = format!("{log} {bus} {} {}#{}", codec.name(), record.frame.id(), hex(data));
        let present: Vec<SignalIndex> = decoded.iter().map(|(index, _)| *index).collect();
        let mask = mask(codec, &present);
        let data = &data[..codec.size()];
        let raw: Vec<_> = decoded.iter().map(|(index, value)| (*index, value.raw)).collect();
        tally.check(&format!("{what} (raw)"), data, &mask, |buf| codec.encode_raw(&raw, buf));
        let physical: Vec<_> = decoded.iter().map(|(index, value)| (*index, value.physical)).collect();
        tally.check(&format!("{what} (physical)"), data, &mask, |buf| codec.encode_physical(&physical, buf));
        tally.frames += 1;
        tally.signals += decoded.len();
    }
}

#[test]
fn encoding_the_decoded_values_gives_back_the_covered_bits_of_every_real_frame() {
    let Some(data) = shared_data("encoding_the_decoded_values_gives_back_the_covered_bits_of_every_real_frame") else {
        return;
    };
    let mut tally = Tally::default();
    for capture in CAPTURES {
        for (bus, dbc) in capture.buses {
            let before = tally.frames;
            round_trip(&data, capture.log, bus, dbc, capture.lenient, &mut tally);
            eprintln!("{} {bus} with {dbc}: {} frames", capture.log, tally.frames - before);
        }
    }
    eprintln!("{} frames, {} signals encoded back, twice each (raw and physical)", tally.frames, tally.signals);
    assert!(
        tally.failures.is_empty(),
        "{} failures, the first ones:\n{}",
        tally.failures.len(),
        tally.failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(tally.frames > 150_000, "only {} frames round-tripped", tally.frames);
}

#[test]
fn covered_bits_follow_the_dbc_numbering() {
    // Intel 4|8@1: bits 4..12. Motorola 7|16@0: all of bytes 0 and 1, MSB first.
    assert_eq!(covered_bits(4, 8, ByteOrder::LittleEndian), (4..12).collect::<Vec<_>>());
    assert_eq!(covered_bits(7, 16, ByteOrder::BigEndian), [7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8]);
    // Motorola 35|1 and 39|8 (RAV4 PCS_HUD): bit 35 lies inside byte 4.
    assert!(covered_bits(39, 8, ByteOrder::BigEndian).contains(&35));
    // A check that cannot pass by accident: one changed bit is caught.
    let mut tally = Tally::default();
    tally.check("test", &[0xA5], &[0x0F], |buf| {
        buf[0] = (buf[0] & 0xF0) | 0x04;
        Ok(())
    });
    assert_eq!(tally.failures.len(), 2, "{:?}", tally.failures);
}
