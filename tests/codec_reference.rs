//! The codec against a bit-by-bit reference written straight from the DBC
//! definition, on random layouts, values and payloads (proptest).
//!
//! The reference: bit `k` of a payload is bit `k % 8` of byte `k / 8`. An Intel
//! signal `start|size@1` is bits `start, start+1, ...` from least to most
//! significant. A Motorola signal `start|size@0` is bits from most to least
//! significant starting at `start`, each next bit one lower within a byte, and
//! after bit 0 of a byte, bit 7 of the next byte.

mod codec_support;

use bulkhead::codec::{DecodeError, MessageCodec, RawValue, SignalCodec, SignalIndex};
use bulkhead::dbc::{ByteOrder, Multiplexing, Signal, ValueType};
use codec_support::{SignalExt, message, signal};
use proptest::prelude::*;

/// The payload bits a signal covers, least significant first.
fn covered_bits(start: u32, size: u32, order: ByteOrder) -> Vec<u32> {
    match order {
        ByteOrder::LittleEndian => (start..start + size).collect(),
        ByteOrder::BigEndian => {
            let mut bits = Vec::new();
            let mut k = start;
            for _ in 0..size {
                bits.push(k);
                k = if k.is_multiple_of(8) { k + 15 } else { k - 1 };
            }
            bits.reverse();
            bits
        }
    }
}

fn bit(data: &[u8], k: u32) -> bool {
    data[(k / 8) as usize] >> (k % 8) & 1 == 1
}

/// The reference raw value of `signal` in `data`.
fn reference_raw(signal: &Signal, data: &[u8]) -> RawValue {
    let bits = covered_bits(signal.start_bit, signal.size, signal.byte_order);
    let mut value: u128 = 0;
    for (i, k) in bits.iter().enumerate() {
        if bit(data, *k) {
            value |= 1 << i;
        }
    }
    match signal.value_type {
        ValueType::Unsigned => RawValue::Unsigned(value as u64),
        ValueType::Signed => {
            let negative = value >> (signal.size - 1) & 1 == 1;
            let signed = if negative { value as i128 - (1i128 << signal.size) } else { value as i128 };
            RawValue::Signed(signed as i64)
        }
        ValueType::Float32 => RawValue::Float(f64::from(f32::from_bits(value as u32))),
        ValueType::Float64 => RawValue::Float(f64::from_bits(value as u64)),
    }
}

/// Equal values; floats bit for bit (NaN is NaN, 0.0 is not -0.0).
fn same_raw(a: RawValue, b: RawValue) -> bool {
    match (a, b) {
        (RawValue::Float(x), RawValue::Float(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

/// A valid layout: `(message size, start bit, size, order, value type)`.
fn layout() -> impl Strategy<Value = (u32, u32, u32, ByteOrder, ValueType)> {
    let kind = prop_oneof![
        (1u32..=64).prop_map(|size| (size, ValueType::Unsigned)),
        (1u32..=64).prop_map(|size| (size, ValueType::Signed)),
        Just((32, ValueType::Float32)),
        Just((64, ValueType::Float64)),
        // Extremes more often than a uniform draw would give them.
        prop_oneof![Just(1u32), Just(63), Just(64)].prop_map(|size| (size, ValueType::Unsigned)),
    ];
    let order = prop_oneof![Just(ByteOrder::LittleEndian), Just(ByteOrder::BigEndian)];
    (kind, order)
        .prop_flat_map(|((size, value_type), order)| {
            ((size.div_ceil(8))..=64u32).prop_map(move |message_size| (message_size, size, order, value_type))
        })
        .prop_flat_map(|(message_size, size, order, value_type)| {
            // The first bit in the order of the signal's own numbering, anywhere it fits.
            (0..=message_size * 8 - size).prop_map(move |first| {
                let start = match order {
                    ByteOrder::LittleEndian => first,
                    // Big-endian linear position `first` as a sawtooth start bit.
                    ByteOrder::BigEndian => first / 8 * 8 + 7 - first % 8,
                };
                (message_size, start, size, order, value_type)
            })
        })
}

fn payload(len: u32) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len as usize)
}

fn codec_for(message_size: u32, s: Signal) -> MessageCodec {
    MessageCodec::new(&message(0x100, false, "m", message_size, vec![s])).expect("a valid layout compiles")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_matches_the_reference(
        (message_size, start, size, order, value_type) in layout(),
        seed in any::<u64>(),
        extra in 0usize..4,
    ) {
        let s = signal("s", start, size, order, value_type).scaled(0.5, -3.0);
        let codec = codec_for(message_size, s.clone());
        // Deterministic pseudo-random payload, sometimes longer than the message.
        let data: Vec<u8> = (0..message_size as usize + extra)
            .map(|i| (seed.rotate_left(i as u32 * 7) ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) as u8)
            .collect();
        let expected = reference_raw(&s, &data);
        let decoded = codec.decode_to_vec(&data).unwrap();
        prop_assert_eq!(decoded.len(), 1);
        prop_assert!(same_raw(decoded[0].1.raw, expected), "{:?} vs reference {:?}", decoded[0].1.raw, expected);
        let physical = expected.as_f64() * 0.5 - 3.0;
        prop_assert!(decoded[0].1.physical.to_bits() == physical.to_bits() || physical.is_nan());
        let single = &codec.signals()[0];
        prop_assert!(same_raw(single.raw(&data).unwrap(), expected));
        if message_size > 0 {
            let short = &data[..message_size as usize - 1];
            prop_assert_eq!(single.raw(short), Err(DecodeError::TooShort { len: short.len(), expected: message_size as usize }));
        }
    }

    #[test]
    fn encoding_a_decode_writes_exactly_the_signal_bits(
        (message_size, start, size, order, value_type) in layout(),
        source in payload(64),
        background in payload(64),
    ) {
        let s = signal("s", start, size, order, value_type);
        let codec = codec_for(message_size, s.clone());
        let decoded = codec.decode_to_vec(&source).unwrap();
        let mut out = background[..message_size as usize].to_vec();
        codec.encode_raw(&[(SignalIndex::new(0), decoded[0].1.raw)], &mut out).unwrap();
        let covered = covered_bits(start, size, order);
        for k in 0..message_size * 8 {
            let expected = if covered.contains(&k) { bit(&source, k) } else { bit(&background, k) };
            prop_assert_eq!(bit(&out, k), expected, "bit {} of {}|{}@{:?}", k, start, size, order);
        }
    }

    #[test]
    fn decoding_an_encode_gives_the_value_back(
        (message_size, start, size, order, value_type) in layout(),
        bits in any::<u64>(),
        fill in any::<u8>(),
    ) {
        let s = signal("s", start, size, order, value_type);
        let codec = codec_for(message_size, s);
        let value = match value_type {
            ValueType::Unsigned => RawValue::Unsigned(bits >> (64 - size)),
            ValueType::Signed => RawValue::Signed((bits as i64) >> (64 - size)),
            ValueType::Float32 => {
                let f = f32::from_bits(bits as u32);
                RawValue::Float(if f.is_nan() { 1.25 } else { f64::from(f) })
            }
            ValueType::Float64 => RawValue::Float(f64::from_bits(bits)),
        };
        let mut buf = vec![fill; message_size as usize];
        codec.encode_raw(&[(SignalIndex::new(0), value)], &mut buf).unwrap();
        let back = codec.signals()[0].raw(&buf).unwrap();
        prop_assert!(same_raw(back, value), "{:?} -> {:?}", value, back);
    }

    #[test]
    fn physical_values_round_trip_within_rounding(
        (message_size, start, size, order, value_type) in layout(),
        factor_exponent in -4i32..=4,
        factor_mantissa in 1.0f64..10.0,
        negative_factor in any::<bool>(),
        offset in -1e4f64..1e4,
        position in 0.001f64..0.999,
    ) {
        let factor = factor_mantissa * 10f64.powi(factor_exponent) * if negative_factor { -1.0 } else { 1.0 };
        let s = signal("s", start, size, order, value_type).scaled(factor, offset);
        let codec = codec_for(message_size, s);
        let signal = &codec.signals()[0];
        // A raw value inside the signal's range, then the physical value it stands for.
        let (low, high) = match value_type {
            ValueType::Unsigned => (0.0, 2f64.powi(size as i32) - 1.0),
            ValueType::Signed => (-(2f64.powi(size as i32 - 1)), 2f64.powi(size as i32 - 1) - 1.0),
            ValueType::Float32 | ValueType::Float64 => (-1e6, 1e6),
        };
        let raw = low + (high - low) * position;
        let physical = raw * factor + offset;
        let mut buf = vec![0u8; message_size as usize];
        signal.encode_physical(physical, &mut buf).unwrap();
        let back = signal.physical(&buf).unwrap();
        let rounding = match value_type {
            ValueType::Unsigned | ValueType::Signed => 0.5 * factor.abs(),
            ValueType::Float32 => (raw * factor).abs() * f64::from(f32::EPSILON),
            ValueType::Float64 => 0.0,
        };
        let float_noise = 8.0 * f64::EPSILON * (physical.abs() + offset.abs() + (raw * factor).abs());
        prop_assert!((back - physical).abs() <= rounding + float_noise, "{} -> {} (factor {}, offset {})", physical, back, factor, offset);
    }

    /// Whatever the model says, compiling never panics, and a codec that
    /// compiles decodes any payload without panicking.
    #[test]
    fn arbitrary_models_never_panic(
        message_size in 0u32..80,
        signals in prop::collection::vec((0u32..600, 0u32..80, any::<bool>(), 0u8..4, 0u8..4, 0u64..4), 0..6),
        data in prop::collection::vec(any::<u8>(), 0..72),
    ) {
        let names = ["a", "b", "c", "d", "e", "f"];
        let signals: Vec<Signal> = signals.iter().enumerate().map(|(i, &(start, size, intel, kind, mux, value))| {
            let order = if intel { ByteOrder::LittleEndian } else { ByteOrder::BigEndian };
            let value_type = [ValueType::Unsigned, ValueType::Signed, ValueType::Float32, ValueType::Float64][kind as usize];
            let s = signal(names[i], start, size, order, value_type);
            match mux {
                0 => s,
                1 => s.mux(Multiplexing::Multiplexor),
                2 => s.mux(Multiplexing::Multiplexed(value)),
                _ => s.mul_val(names[(value as usize + i) % names.len()], &[(0, value)]),
            }
        }).collect();
        if let Ok(codec) = MessageCodec::new(&message(0x1, false, "m", message_size, signals)) {
            match codec.decode_to_vec(&data) {
                Ok(values) => prop_assert!(data.len() >= codec.size() && values.len() <= codec.signals().len()),
                Err(DecodeError::TooShort { len, expected }) => prop_assert!(len < expected),
            }
            for s in codec.signals() {
                let _ = s.raw(&data);
            }
        }
    }
}

/// The reference presence rule of a signal: its switch present and holding a
/// non-negative value in one of its ranges, recursively.
fn reference_present(codec: &MessageCodec, index: SignalIndex, data: &[u8]) -> bool {
    match codec.selector(index) {
        None => true,
        Some((switch, ranges)) => {
            reference_present(codec, switch, data)
                && match codec.signal(switch).map(|s| s.raw(data).unwrap()) {
                    Some(RawValue::Unsigned(v)) => ranges.iter().any(|&(l, h)| l <= v && v <= h),
                    Some(RawValue::Signed(v)) => v >= 0 && ranges.iter().any(|&(l, h)| l <= v as u64 && v as u64 <= h),
                    _ => false,
                }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random multiplexing trees (each signal switched by an earlier one or
    /// plain): decode yields exactly the signals the reference rule selects.
    #[test]
    fn multiplexing_trees_select_like_the_reference(
        shape in prop::collection::vec((any::<bool>(), 0usize..8, 0u64..4, 0u64..3, 1u32..4, any::<bool>()), 1..8),
        data in prop::collection::vec(any::<u8>(), 8),
    ) {
        let names = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"];
        let signals: Vec<Signal> = shape.iter().enumerate().map(|(i, &(switched, parent, low, width, size, signed))| {
            let value_type = if signed { ValueType::Signed } else { ValueType::Unsigned };
            // Signal i occupies `size` bits at bit 8 * i (one byte each, so none overlap).
            let s = signal(names[i], 8 * i as u32, size, ByteOrder::LittleEndian, value_type);
            if switched && i > 0 {
                s.mul_val(names[parent % i], &[(low, low + width), (low + 5, low + 5)])
            } else {
                s
            }
        }).collect();
        let codec = MessageCodec::new(&message(0x1, false, "m", 8, signals)).unwrap();
        let present: Vec<SignalIndex> = codec.decode_to_vec(&data).unwrap().into_iter().map(|(i, _)| i).collect();
        let expected: Vec<SignalIndex> = (0..codec.signals().len())
            .map(SignalIndex::new)
            .filter(|i| reference_present(&codec, *i, &data))
            .collect();
        prop_assert_eq!(&present, &expected);
        for i in 0..codec.signals().len() {
            let index = SignalIndex::new(i);
            prop_assert_eq!(codec.is_present(index, &data).unwrap(), expected.contains(&index));
        }
    }
}

#[test]
fn signal_codec_alone_matches_the_message_codec() {
    let s = signal("s", 13, 20, ByteOrder::BigEndian, ValueType::Signed).scaled(0.25, 1.0);
    let alone = SignalCodec::new(&s, 8).unwrap();
    let codec = codec_for(8, s.clone());
    let data = [0x12, 0x9A, 0xBC, 0xDE, 0xF0, 0x11, 0x22, 0x33];
    assert_eq!(alone.raw(&data).unwrap(), codec.signals()[0].raw(&data).unwrap());
    assert!(same_raw(alone.raw(&data).unwrap(), reference_raw(&s, &data)));
}
