//! Link protocol costs per datagram, for both suites: opening (1 classic frame,
//! 10 classic frames, one 64-byte CAN FD frame), sealing the same, and dropping a
//! forged datagram (the cost of a flood). Throughput is in frames, so criterion
//! prints frames per second next to the time per datagram.
//!
//! `cargo bench --bench link`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::link::{DropReason, KeyId, LinkKey, LinkReceiver, LinkSender, LinkSuite, MemoryKeys};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Datagrams sealed ahead for the open benchmarks (each packet number opens once).
const PRESEALED: usize = 20_000;

fn payloads() -> Vec<(&'static str, Vec<Frame>)> {
    let id = CanId::standard(0x123).expect("valid id");
    let classic = Frame::classic(id, &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]).expect("classic");
    let fd = Frame::fd(CanId::extended(0x18DA_F110).expect("valid id"), &[0xA5; 64], FdFlags { brs: true, esi: false })
        .expect("fd");
    vec![("1 classic", vec![classic]), ("10 classic", vec![classic; 10]), ("1 fd64", vec![fd])]
}

fn key(suite: LinkSuite) -> LinkKey {
    LinkKey::new(suite, &vec![0x42; suite.key_len()], "bench-device").expect("key")
}

fn seal_all(suite: LinkSuite, frames: &[Frame], count: usize) -> Vec<Vec<u8>> {
    let mut sender = LinkSender::new(KeyId::new(7), key(suite), 1).expect("sender");
    let mut out = [0u8; 1400];
    (0..count)
        .map(|_| {
            let sealed = sender.seal(frames, &mut out).expect("seal");
            out[..sealed.len].to_vec()
        })
        .collect()
}

fn bench_open(c: &mut Criterion) {
    let mut group = c.benchmark_group("link_open");
    for suite in LinkSuite::ALL {
        let mut keys = MemoryKeys::new();
        keys.insert(KeyId::new(7), key(suite)).expect("insert");
        for (name, frames) in payloads() {
            let datagrams = seal_all(suite, &frames, PRESEALED + 1);
            let Some((warm, datagrams)) = datagrams.split_first() else { return };
            group.throughput(Throughput::Elements(frames.len() as u64));
            group.bench_function(format!("{} {name}", suite.name()), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut remaining = iters as usize;
                    while remaining > 0 {
                        // A fresh receiver per round of presealed datagrams; its window
                        // is created by the warm-up datagram, outside the timing.
                        let mut receiver = LinkReceiver::new();
                        receiver.open(&keys, warm).expect("warm-up opens");
                        let round = remaining.min(datagrams.len());
                        let start = Instant::now();
                        for datagram in &datagrams[..round] {
                            let opened = receiver.open(&keys, black_box(datagram)).expect("opens");
                            black_box(opened.frames().len());
                        }
                        total += start.elapsed();
                        remaining -= round;
                    }
                    total
                });
            });
        }
    }
    group.finish();
}

fn bench_forged(c: &mut Criterion) {
    let mut group = c.benchmark_group("link_drop_forged");
    for suite in LinkSuite::ALL {
        let mut keys = MemoryKeys::new();
        keys.insert(KeyId::new(7), key(suite)).expect("insert");
        for (name, frames) in payloads() {
            let mut forged = seal_all(suite, &frames, 1).remove(0);
            if let Some(last) = forged.last_mut() {
                *last ^= 1;
            }
            let mut receiver = LinkReceiver::new();
            group.throughput(Throughput::Elements(1));
            group.bench_function(format!("{} {name}", suite.name()), |b| {
                b.iter(|| {
                    let reason = receiver.open(&keys, black_box(&forged)).expect_err("forged");
                    assert_eq!(reason, DropReason::AuthenticationFailed);
                });
            });
        }
    }
    group.finish();
}

fn bench_seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("link_seal");
    for suite in LinkSuite::ALL {
        for (name, frames) in payloads() {
            group.throughput(Throughput::Elements(frames.len() as u64));
            group.bench_function(format!("{} {name}", suite.name()), |b| {
                let mut sender = LinkSender::new(KeyId::new(7), key(suite), 1).expect("sender");
                let mut out = [0u8; 1400];
                b.iter(|| black_box(sender.seal(black_box(&frames), &mut out).expect("seal").len));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_open, bench_forged, bench_seal);
criterion_main!(benches);
