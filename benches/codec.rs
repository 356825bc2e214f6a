//! Codec throughput: full decodes of a classic and a CAN FD message, single
//! signal reads for the engine's checks, a multiplexed decode, an encode, and
//! `CodecTable` lookups. Run with `cargo bench --bench codec`.

use std::hint::black_box;

use bulkhead::codec::{CodecTable, MessageCodec, RawValue, SignalIndex};
use bulkhead::dbc::{ByteOrder, Dbc, FrameFormat, Message, Multiplexing, Signal, ValueType};
use bulkhead::frame::CanId;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn signal(name: &str, start_bit: u32, size: u32, byte_order: ByteOrder, value_type: ValueType) -> Signal {
    Signal::new(name, start_bit, size, byte_order, value_type)
}

fn scaled(mut s: Signal, factor: f64, offset: f64) -> Signal {
    s.factor = factor;
    s.offset = offset;
    s
}

fn message(id: CanId, size: u32, signals: Vec<Signal>) -> Message {
    Message {
        id,
        name: format!("M{id}"),
        size,
        transmitter: "Vector__XXX".to_owned(),
        extra_transmitters: Vec::new(),
        signals,
        comment: None,
        attributes: Vec::new(),
        format: if size > 8 { FrameFormat::StandardCanFd } else { FrameFormat::StandardCan },
        cycle_time_ms: None,
        line: 0,
    }
}

/// A typical powertrain message: 8 signals, both byte orders, factors and offsets.
fn classic() -> Message {
    use ByteOrder::{BigEndian as Moto, LittleEndian as Intel};
    message(
        CanId::standard(0x1A0).unwrap(),
        8,
        vec![
            scaled(signal("speed", 7, 16, Moto, ValueType::Unsigned), 0.01, 0.0),
            scaled(signal("torque", 16, 12, Intel, ValueType::Signed), 0.5, -400.0),
            signal("gear", 28, 4, Intel, ValueType::Unsigned),
            scaled(signal("pedal", 39, 8, Moto, ValueType::Unsigned), 0.4, 0.0),
            scaled(signal("yaw", 40, 10, Intel, ValueType::Signed), 0.1, 0.0),
            signal("brake", 50, 1, Intel, ValueType::Unsigned),
            signal("counter", 51, 4, Intel, ValueType::Unsigned),
            signal("checksum", 63, 8, Moto, ValueType::Unsigned),
        ],
    )
}

/// A CAN FD message: 30 signals over 64 bytes.
fn fd() -> Message {
    let signals = (0..30u32)
        .map(|i| {
            let size = 3 + i * 29 % 31;
            let first = i * 17;
            let value_type = if i % 3 == 0 { ValueType::Signed } else { ValueType::Unsigned };
            if i % 2 == 0 {
                scaled(signal(&format!("s{i}"), first, size, ByteOrder::LittleEndian, value_type), 0.25, -3.0)
            } else {
                let start = first / 8 * 8 + 7 - first % 8;
                scaled(signal(&format!("s{i}"), start, size, ByteOrder::BigEndian, value_type), 1.5, 100.0)
            }
        })
        .collect();
    message(CanId::standard(0x300).unwrap(), 64, signals)
}

/// A multiplexed message: a switch and 4 branches of 2 signals.
fn multiplexed() -> Message {
    let mut signals = vec![signal("sw", 0, 8, ByteOrder::LittleEndian, ValueType::Unsigned)];
    signals[0].multiplexing = Multiplexing::Multiplexor;
    for branch in 0..4u64 {
        for (k, start) in [(0, 8), (1, 32)] {
            let mut s = scaled(
                signal(&format!("b{branch}_{k}"), start, 16, ByteOrder::LittleEndian, ValueType::Unsigned),
                0.1,
                0.0,
            );
            s.multiplexing = Multiplexing::Multiplexed(branch);
            signals.push(s);
        }
    }
    message(CanId::standard(0x2A0).unwrap(), 8, signals)
}

fn bench_decode(c: &mut Criterion) {
    let classic = MessageCodec::new(&classic()).unwrap();
    let fd = MessageCodec::new(&fd()).unwrap();
    let mux = MessageCodec::new(&multiplexed()).unwrap();
    let data8 = [0x12u8, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0];
    let data64: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("classic_8_signals", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            classic.decode(black_box(&data8), |_, d| sum += d.physical).unwrap();
            sum
        })
    });
    group.bench_function("fd_64_bytes_30_signals", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            fd.decode(black_box(&data64), |_, d| sum += d.physical).unwrap();
            sum
        })
    });
    let mux_data = [2u8, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0];
    group.bench_function("multiplexed_1_of_4_branches", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            mux.decode(black_box(&mux_data), |_, d| sum += d.physical).unwrap();
            sum
        })
    });
    group.finish();

    let mut group = c.benchmark_group("signal");
    group.throughput(Throughput::Elements(1));
    let speed = &classic.signals()[0];
    let torque = &classic.signals()[1];
    group.bench_function("physical_motorola_16", |b| b.iter(|| speed.physical(black_box(&data8)).unwrap()));
    group.bench_function("raw_intel_signed_12", |b| b.iter(|| torque.raw(black_box(&data8)).unwrap()));
    let wide = &fd.signals()[29];
    group.bench_function("physical_fd_last_signal", |b| b.iter(|| wide.physical(black_box(&data64)).unwrap()));
    group.finish();

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    let values: Vec<(SignalIndex, RawValue)> =
        classic.decode_to_vec(&data8).unwrap().into_iter().map(|(i, d)| (i, d.raw)).collect();
    group.bench_function("classic_8_signals_raw", |b| {
        let mut buf = [0u8; 8];
        b.iter(|| {
            classic.encode_raw(black_box(&values), &mut buf).unwrap();
            buf
        })
    });
    group.finish();
}

fn bench_table(c: &mut Criterion) {
    // 300 standard and 200 extended messages, as a vehicle's DBCs might hold.
    let standard = (0..300u32).map(|i| message(CanId::standard(i * 6 + 1).unwrap(), 8, classic().signals));
    let extended = (0..200u32).map(|i| message(CanId::extended(0x18F0_0000 + i * 257).unwrap(), 8, classic().signals));
    let dbc = Dbc { source: "bench.dbc".into(), messages: standard.chain(extended).collect(), ..Dbc::default() };
    let table = CodecTable::new([&dbc]);
    assert_eq!(table.len(), 500);
    let hit_standard = CanId::standard(601).unwrap();
    let hit_extended = CanId::extended(0x18F0_0000 + 123 * 257).unwrap();
    let miss = CanId::standard(0x7FE).unwrap();
    let mut group = c.benchmark_group("table");
    group.throughput(Throughput::Elements(1));
    group.bench_function("lookup_standard", |b| b.iter(|| table.get(black_box(hit_standard)).is_some()));
    group.bench_function("lookup_extended_of_200", |b| b.iter(|| table.get(black_box(hit_extended)).is_some()));
    group.bench_function("lookup_unknown", |b| b.iter(|| table.get(black_box(miss)).is_some()));
    let data8 = [0x12u8, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0];
    group.bench_function("lookup_and_decode_classic", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            if let Some((_, codec)) = table.get(black_box(hit_standard)) {
                codec.decode(black_box(&data8), |_, d| sum += d.physical).unwrap();
            }
            sum
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode, bench_table);
criterion_main!(benches);
