//! SecOC throughput: verification of classic CAN and CAN FD frames through the
//! manager (lookup, reconstruction, one AES-CMAC, freshness and reservation
//! bookkeeping), the cost of rejecting a forgery, and generation.
//! Run with `cargo bench --bench secoc`.
//!
//! Layouts:
//! - classic: profile 1 in an 8-byte frame, 4 payload bytes | 8-bit truncated
//!   freshness | 24-bit MAC (data to authenticate: 2 + 4 + 8 = 14 bytes, one AES block);
//! - CAN FD 32: 22 payload bytes | 16-bit truncated freshness | 64-bit MAC
//!   (2 + 22 + 8 = 32 bytes, two AES blocks);
//! - CAN FD 64: 54 payload bytes | 16-bit truncated freshness | 64-bit MAC
//!   (2 + 54 + 8 = 64 bytes, four AES blocks);
//! - profile 3: 4 payload bytes | 4-bit truncated freshness | 28-bit MAC.
//!
//! Verification needs a fresh frame per call (a replay is rejected), so the
//! frames are built beforehand with consecutive freshness values and replayed
//! into a new receiver per batch; only the verification calls are timed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::secoc::{
    FreshnessScheme, LayoutParams, MacKey, ManagerConfig, ReceiverConfig, SecOcKey, SecOcManager, SecOcProfile,
    SecuredLayout, SenderConfig, Snapshot, SyncConfig, SyncMaster, TripReset, authenticate,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const FRAMES: usize = 1 << 16;
/// Large enough that no reservation runs out within a batch.
const BLOCK: u64 = 1 << 18;

fn key() -> SecOcKey {
    SecOcKey::new(*b"bulkhead-bench!!")
}

fn id() -> CanId {
    CanId::standard(0x140).unwrap()
}

fn profile1() -> SecOcProfile {
    SecOcProfile::profile1(0x0140, 4).unwrap()
}

fn fd_profile(payload_len: usize, frame_len: usize) -> SecOcProfile {
    let mac_at = (payload_len * 8) + 16;
    let layout = SecuredLayout::new(LayoutParams {
        data_id: 0x0140,
        frame_len,
        payload_offset: 0,
        payload_len,
        freshness_bits: 16,
        freshness_at: payload_len * 8,
        freshness_value_bits: 64,
        mac_bits: 64,
        mac_at,
    })
    .unwrap();
    SecOcProfile::counter(layout).unwrap()
}

fn persisted(mut manager: SecOcManager) -> SecOcManager {
    while let Some(request) = manager.persist_request() {
        manager.confirm_persisted(&request);
    }
    manager
}

fn receiver(config: ManagerConfig) -> SecOcManager {
    persisted(SecOcManager::new(ManagerConfig { reserve_block: BLOCK, ..config }, &Snapshot::new()).unwrap())
}

fn receiving(profile: SecOcProfile) -> ManagerConfig {
    ManagerConfig { receivers: vec![ReceiverConfig { id: id(), profile, key: Some(key()) }], ..Default::default() }
}

/// Frames with freshness 1, 2, 3, ... and varying payloads.
fn frames(profile: &SecOcProfile, freshness: impl Fn(u64) -> u64) -> Vec<Frame> {
    let layout = profile.layout();
    let mac_key = MacKey::new(&key());
    (1..=FRAMES as u64)
        .map(|i| {
            let payload: Vec<u8> = (0..layout.payload().len()).map(|b| (i as usize * 7 + b) as u8).collect();
            let pdu = authenticate(layout, &mac_key, freshness(i), &payload).unwrap();
            let fd = layout.needs_fd().then_some(FdFlags { brs: true, esi: false });
            pdu.to_frame(id(), fd).unwrap()
        })
        .collect()
}

/// Times `verify` over the prepared frames, a new receiver (untimed) per pass.
fn time_verification(iters: u64, frames: &[Frame], fresh: &dyn Fn() -> SecOcManager) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let mut manager = fresh();
        let count = (iters - done).min(frames.len() as u64) as usize;
        let start = Instant::now();
        for frame in &frames[..count] {
            let verified = manager.verify(black_box(frame));
            debug_assert!(verified.is_ok());
            black_box(verified.is_ok());
        }
        total += start.elapsed();
        done += count as u64;
    }
    total
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("secoc/verify");
    group.throughput(Throughput::Elements(1));

    let classic = profile1();
    let classic_frames = frames(&classic, |i| i);
    group.bench_function("classic profile 1 (8 bytes, 4 payload)", |b| {
        b.iter_custom(|iters| time_verification(iters, &classic_frames, &|| receiver(receiving(classic))))
    });

    for (payload_len, frame_len) in [(22, 32), (54, 64)] {
        let profile = fd_profile(payload_len, frame_len);
        let fd_frames = frames(&profile, |i| i);
        group.bench_function(format!("CAN FD {frame_len} bytes ({payload_len} payload, 64-bit MAC)"), |b| {
            b.iter_custom(|iters| time_verification(iters, &fd_frames, &|| receiver(receiving(profile))))
        });
    }

    let three = SecOcProfile::profile3(0x0140, 4, 0x0010).unwrap();
    let FreshnessScheme::TripReset(counters) = *three.scheme() else { unreachable!() };
    let period = TripReset { trip: 1, reset: 1 };
    let p3_frames = frames(&three, |i| counters.compose(period, i));
    let sync_id = CanId::standard(0x010).unwrap();
    let sync_frame = SyncMaster::new(sync_id, counters, 28, &key(), period).unwrap().frame().unwrap();
    let synced = || {
        let config = ManagerConfig {
            syncs: vec![SyncConfig { id: sync_id, counters, mac_bits: 28, key: Some(key()) }],
            ..receiving(three)
        };
        let mut manager = receiver(config);
        manager.verify(&sync_frame).unwrap();
        persisted(manager)
    };
    group.bench_function("classic profile 3 (8 bytes, 4 payload)", |b| {
        b.iter_custom(|iters| time_verification(iters, &p3_frames, &synced))
    });

    // A forgery costs every candidate: 1 + attempts (1) + 16 stale probes.
    let mut forged = classic_frames[0].data().to_vec();
    forged[7] ^= 1;
    let forged = Frame::classic(id(), &forged).unwrap();
    let mut manager = receiver(receiving(classic));
    group.bench_function("classic profile 1, forged MAC (rejected)", |b| {
        b.iter(|| black_box(manager.verify(black_box(&forged)).is_err()))
    });
    group.finish();
}

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("secoc/generate");
    group.throughput(Throughput::Elements(1));
    let classic = profile1();
    let mac_key = MacKey::new(&key());
    let mut freshness = 0u64;
    group.bench_function("authenticate, classic profile 1", |b| {
        b.iter(|| {
            freshness += 1;
            black_box(authenticate(classic.layout(), &mac_key, freshness, black_box(&[1, 2, 3, 4])).unwrap())
        })
    });
    let fd = fd_profile(54, 64);
    let payload = [0x5A; 54];
    group.bench_function("authenticate, CAN FD 64 bytes", |b| {
        b.iter(|| {
            freshness += 1;
            black_box(authenticate(fd.layout(), &mac_key, freshness, black_box(&payload)).unwrap())
        })
    });
    let config = ManagerConfig {
        senders: vec![SenderConfig { id: id(), profile: classic, key: Some(key()), fd: None }],
        ..Default::default()
    };
    let mut sender = persisted(SecOcManager::new(config, &Snapshot::new()).unwrap());
    group.bench_function("manager sender, classic profile 1 (reservations confirmed in memory)", |b| {
        b.iter(|| {
            if let Some(request) = sender.persist_request() {
                sender.confirm_persisted(&request);
            }
            black_box(sender.authenticate_next(id(), black_box(&[1, 2, 3, 4])).unwrap())
        })
    });
    group.finish();
}

fn key_schedule(c: &mut Criterion) {
    c.bench_function("secoc/key schedule (once per key)", |b| b.iter(|| black_box(MacKey::new(black_box(&key())))));
}

criterion_group!(benches, verify, generate, key_schedule);
criterion_main!(benches);
