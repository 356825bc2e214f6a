//! Learning speed on a real capture: both passes of `bulkhead learn` (the
//! statistics with every DBC signal decoded, then the token-bucket replay of
//! the cyclic ids), proposal and rendering, over the RAV4 capture (135,468
//! frames, four buses, two DBC files). Throughput is in frames per second of
//! capture learned; the file is read from disk (the page cache, after the
//! first iteration), as `bulkhead learn` reads it.
//!
//! ```text
//! cargo bench --bench learn
//! ```

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use bulkhead::learn::{self, LearnOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const DATA: &str = "../shared/data";
const CAPTURE: &str = "logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log";
const PT: &str = "dbc/opendbc/generated/toyota_new_mc_pt_generated.dbc";
const ADAS: &str = "dbc/opendbc/current/toyota_adas.dbc";

fn rav4(c: &mut Criterion) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    let capture = data.join(CAPTURE);
    if !capture.exists() {
        eprintln!("skipping the learn benchmark: {} is absent", capture.display());
        return;
    }
    let (pt, adas) = (data.join(PT), data.join(ADAS));
    let options = LearnOptions {
        logs: vec![capture],
        bus_dbcs: vec![
            ("can0".to_owned(), pt.clone()),
            ("can128".to_owned(), pt.clone()),
            ("can129".to_owned(), pt),
            ("can1".to_owned(), adas),
        ],
        output: std::env::temp_dir().join("bulkhead-bench-learned.toml"),
        ..LearnOptions::default()
    };
    let frames: u64 = learn::learn(&options).expect("learns").proposal.files.iter().map(|f| f.frames).sum();

    let mut group = c.benchmark_group("learn_rav4");
    group.throughput(Throughput::Elements(frames));
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("two_passes_and_proposal", |b| b.iter(|| black_box(learn::learn(&options).expect("learns"))));
    group.finish();
}

criterion_group!(benches, rav4);
criterion_main!(benches);
