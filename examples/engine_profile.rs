//! Drives the engine with one message in a loop, for profilers
//! (`valgrind --tool=callgrind target/release/examples/engine_profile`).
//!
//!   cargo run --release --example engine_profile -- [MESSAGE] [FRAMES]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bulkhead::engine::Engine;
use bulkhead::frame::{FdFlags, Frame};
use bulkhead::time::Timestamp;

fn main() {
    let mut args = std::env::args().skip(1);
    let message = args.next().unwrap_or_else(|| "VCU_Speed".to_owned());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let rules = Arc::new(bulkhead::rules::reference().expect("reference rules").0);
    let port = rules.port_by_name("drive").expect("drive port");
    let p = rules.port(port).expect("port");
    let (_, codec) = p.codecs.codecs().find(|(_, c)| c.name() == message).expect("message on the drive bus");
    let slot = p.lookup.entry(codec.id()).slot.map(|s| &rules.slots[s.0 as usize]);
    let frames: Vec<Frame> = (0..16u64)
        .map(|i| {
            let mut data = vec![0u8; codec.size()];
            if let Some(slot) = slot {
                slot.protect(&mut data, i);
            }
            Frame::fd(codec.id(), &data, FdFlags { brs: true, esi: false }).expect("frame")
        })
        .collect();
    let period = Duration::from_millis(
        rules
            .slots
            .iter()
            .find(|s| s.id == codec.id())
            .and_then(|s| s.cycle)
            .map_or(10, |c| c.period.as_millis() as u64),
    );
    let mut engine = Engine::new(Arc::clone(&rules));
    let mut t = Timestamp::from_secs_nanos(1000, 0);
    let start = Instant::now();
    let mut forwarded = 0usize;
    for i in 0..n {
        t = t.saturating_add(period);
        forwarded += usize::from(engine.on_frame(t, port, &frames[i & 15]).is_forward());
        while engine.poll_event().is_some() {}
    }
    let elapsed = start.elapsed();
    println!("{message}: {n} frames, {forwarded} forwarded, {:.1} ns per frame", elapsed.as_nanos() as f64 / n as f64);
}
