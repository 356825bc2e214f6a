//! Reading speed of the candump reader on a real capture, next to the
//! `socketcan` crate's `dump::Reader` on the same bytes in the same run.
//!
//! The capture (`../shared/data/logs/toyota_rav4/*.candump.log`, 135,468
//! frames of `candump -l`) is loaded into memory once and read through a
//! `Cursor`, so the figures are parsing speed, not disk speed. Throughput is
//! in frames (elements) per second.
//!
//! ```text
//! cargo bench --bench logs
//! ```

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bulkhead::logs::ReadOptions;
use bulkhead::logs::candump::CandumpReader;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CAPTURE: &str = "../shared/data/logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log";

fn bulkhead_frames(bytes: &'static [u8]) -> u64 {
    let reader = CandumpReader::new(Box::new(Cursor::new(bytes)), Arc::from("rav4"), ReadOptions::default());
    let mut frames = 0;
    for record in reader {
        let record = record.expect("valid capture");
        black_box(&record);
        frames += 1;
    }
    frames
}

fn socketcan_frames(bytes: &'static [u8]) -> u64 {
    let reader = socketcan::dump::Reader::from_reader(Cursor::new(bytes));
    let mut frames = 0;
    for record in reader {
        let record = record.expect("valid capture");
        black_box(&record);
        frames += 1;
    }
    frames
}

fn candump(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CAPTURE);
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping the candump benchmark: {} is absent", path.display());
        return;
    };
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let frames = bulkhead_frames(bytes);
    assert_eq!(socketcan_frames(bytes), frames, "both readers see every frame");

    let mut group = c.benchmark_group("candump_rav4");
    group.throughput(Throughput::Elements(frames));
    group.sample_size(30).measurement_time(Duration::from_secs(6));
    group.bench_function("bulkhead", |b| b.iter(|| bulkhead_frames(bytes)));
    group.bench_function("socketcan", |b| b.iter(|| socketcan_frames(bytes)));
    group.finish();
}

criterion_group!(benches, candump);
criterion_main!(benches);
