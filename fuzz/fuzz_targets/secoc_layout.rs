//! Layout parsing: the rule-file struct from TOML text, and the checked
//! constructor from raw numbers. Neither may panic; every layout they accept
//! must keep its invariants (fields inside the frame, no overlap).
#![no_main]

use bulkhead::secoc::{LayoutParams, LayoutSpec, SecuredLayout, TripResetLayout};
use libfuzzer_sys::fuzz_target;

fn check_invariants(layout: &SecuredLayout) {
    let frame_bits = layout.frame_len() * 8;
    assert!(layout.frame_len() <= 64);
    assert!(layout.payload().end() * 8 <= frame_bits);
    assert!(layout.mac().bits() >= 1 && layout.mac().bits() <= 128 && layout.mac().end() <= frame_bits);
    assert!(layout.freshness().bits() <= layout.freshness_value_bits());
    assert!(layout.freshness_value_bits() <= 64);
    let mut used = vec![false; frame_bits];
    let payload = layout.payload();
    let bits = (payload.offset() * 8..payload.end() * 8)
        .chain(layout.freshness().position()..layout.freshness().end())
        .chain(layout.mac().position()..layout.mac().end());
    for bit in bits {
        assert!(!used[bit], "bit {bit} in two fields of {layout:?}");
        used[bit] = true;
    }
}

fn read_u16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data.get(at).copied().unwrap_or(0), data.get(at + 1).copied().unwrap_or(0)])
}

fuzz_target!(|data: &[u8]| {
    // The rule-file path: any text, through serde and the spec checks.
    let text = String::from_utf8_lossy(data);
    if let Ok(spec) = toml::from_str::<LayoutSpec>(&text) {
        match spec.build() {
            Ok(profile) => check_invariants(profile.layout()),
            Err(error) => {
                assert!(!error.field().is_empty());
                let _ = error.to_string();
            }
        }
    }

    // The constructor path: the first 12 bytes as sizes and positions.
    let byte = |at: usize| usize::from(data.get(at).copied().unwrap_or(0));
    let params = LayoutParams {
        data_id: read_u16(data, 0),
        frame_len: byte(2),
        payload_offset: byte(3),
        payload_len: byte(4),
        freshness_bits: byte(5) as u32,
        freshness_at: usize::from(read_u16(data, 6)),
        freshness_value_bits: byte(8) as u32,
        mac_bits: byte(9) as u32,
        mac_at: usize::from(read_u16(data, 10)),
    };
    match SecuredLayout::new(params) {
        Ok(layout) => {
            check_invariants(&layout);
            if let Ok(counters) = TripResetLayout::new(read_u16(data, 12), byte(14) as u32, byte(15) as u32, byte(16) as u32, &layout) {
                let value = u64::from_be_bytes(std::array::from_fn(|i| data.get(17 + i).copied().unwrap_or(0)));
                let (period, message) = counters.decompose(value);
                assert_eq!(counters.decompose(counters.compose(period, message)), (period, message));
                if let Ok(sync) = counters.sync_layout(byte(25) as u32) {
                    check_invariants(&sync);
                }
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
