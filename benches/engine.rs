//! The engine per frame, with the reference rules, on the paths a gateway
//! takes all day: an essential drive message (route + counter + checksum +
//! signal ranges + a second, rate-limited route), a head-unit request
//! (signal constraints, steps, rate), a request with a condition on vehicle
//! state, and a drop for an unknown id.
//!
//! Frames are prebuilt with valid counters (a ring of 16 frames for a 4-bit
//! counter keeps advancing forever) and fed at their cycle time in virtual
//! time, so every iteration does the full work of a frame that passes.
//!
//!   cargo bench --bench engine

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bulkhead::engine::Engine;
use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::rules::{CompiledRules, PortId};
use bulkhead::time::Timestamp;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn frames(rules: &CompiledRules, port: &str, message: &str, values: &[(&str, f64)], n: u64) -> (PortId, Vec<Frame>) {
    let pid = rules.port_by_name(port).expect("port");
    let p = rules.port(pid).expect("port");
    let (_, codec) = p.codecs.codecs().find(|(_, c)| c.name() == message).expect("message");
    let slot = p.lookup.entry(codec.id()).slot.map(|s| &rules.slots[s.0 as usize]);
    let out = (0..n)
        .map(|i| {
            let mut data = vec![0u8; codec.size()];
            for (name, v) in values {
                let s = codec.signal(codec.signal_index(name).expect("signal")).expect("signal");
                s.encode_physical(*v, &mut data).expect("encode");
            }
            if let Some(slot) = slot {
                slot.protect(&mut data, i);
            }
            if p.medium == bulkhead::rules::Medium::CanFd {
                Frame::fd(codec.id(), &data, FdFlags { brs: true, esi: false }).expect("frame")
            } else {
                Frame::classic(codec.id(), &data).expect("frame")
            }
        })
        .collect();
    (pid, out)
}

/// An engine that has seen the vehicle parked for a second (state known).
fn warm(rules: &Arc<CompiledRules>) -> (Engine, Timestamp) {
    let mut engine = Engine::new(Arc::clone(rules));
    let (drive, speed) = frames(rules, "drive", "VCU_Speed", &[("VehicleSpeed", 0.0)], 16);
    let (_, gear) = frames(rules, "drive", "VCU_Gear", &[("Gear", 0.0)], 16);
    let mut t = Timestamp::from_secs_nanos(1000, 0);
    for i in 0..100 {
        engine.on_frame(t, drive, &speed[i % 16]);
        if i % 2 == 0 {
            engine.on_frame(t, drive, &gear[(i / 2) % 16]);
        }
        t = t.saturating_add(Duration::from_millis(10));
        engine.on_timer(t);
    }
    while engine.poll_event().is_some() {}
    (engine, t)
}

fn bench(c: &mut Criterion) {
    let rules = Arc::new(bulkhead::rules::reference().expect("reference rules").0);
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));

    // 1. VCU_Speed: essential route to the body (counter, checksum, DBC ranges) and
    //    a rate-limited telemetry route to the head unit.
    let (drive, speed) = frames(&rules, "drive", "VCU_Speed", &[("VehicleSpeed", 42.0), ("SpeedValid", 1.0)], 16);
    group.bench_function("essential drive frame (2 routes, counter, checksum, ranges, rate)", |b| {
        let (mut engine, mut t) = warm(&rules);
        let mut i = 0;
        b.iter(|| {
            t = t.saturating_add(Duration::from_millis(10));
            let v = engine.on_frame(t, drive, black_box(&speed[i & 15]));
            i += 1;
            while engine.poll_event().is_some() {}
            black_box(v)
        });
    });

    // 2. HVAC_Cmd from the head unit: signal ranges, steps, counter, checksum, rate.
    let (ivi, hvac) =
        frames(&rules, "infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)], 16);
    group.bench_function("head-unit request (constraints, steps, counter, checksum, rate)", |b| {
        let (mut engine, mut t) = warm(&rules);
        let mut i = 0;
        b.iter(|| {
            t = t.saturating_add(Duration::from_millis(250));
            let v = engine.on_frame(t, ivi, black_box(&hvac[i & 15]));
            i += 1;
            while engine.poll_event().is_some() {}
            black_box(v)
        });
    });

    // 3. BCM_LockCmd unlock: the condition on the vehicle speed (known, fresh).
    let (_, lock) = frames(&rules, "infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)], 16);
    let (_, speed0) = frames(&rules, "drive", "VCU_Speed", &[("VehicleSpeed", 0.0)], 16);
    group.bench_function("head-unit request with a context condition", |b| {
        let (mut engine, mut t) = warm(&rules);
        let mut i = 0;
        b.iter(|| {
            // Keep the speed fresh (one speed frame per request, not measured apart).
            t = t.saturating_add(Duration::from_millis(10));
            engine.on_frame(t, drive, &speed0[(i + 4) & 15]);
            t = t.saturating_add(Duration::from_millis(490));
            let v = engine.on_frame(t, ivi, black_box(&lock[i & 15]));
            i += 1;
            while engine.poll_event().is_some() {}
            black_box(v)
        });
    });

    // 4. An unknown id from the head unit: the default-deny drop.
    let unknown = Frame::classic(CanId::standard(0x123).expect("id"), &[0; 8]).expect("frame");
    group.bench_function("unknown id dropped (no route)", |b| {
        let (mut engine, mut t) = warm(&rules);
        b.iter(|| {
            t = t.saturating_add(Duration::from_millis(10));
            let v = engine.on_frame(t, ivi, black_box(&unknown));
            while engine.poll_event().is_some() {}
            black_box(v)
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
