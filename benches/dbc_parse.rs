//! Throughput of bulkhead's DBC parser against the `can-dbc` crate (pest
//! based), on the real-world corpus under `../shared/data/dbc/`, in one run.
//!
//! ```text
//! cargo bench --bench dbc_parse
//! ```
//! Groups (throughput in bytes of DBC text):
//! - `corpus`: all 229 files;
//! - `common`: only the files both parsers accept (run only when `can-dbc`
//!   refuses some: an early error would make its figure look better than it
//!   is). can-dbc 10 accepts all 229, so `corpus` is the like-for-like group.
//!
//! `can-dbc` takes `&str`, so the files are decoded once before timing
//! (UTF-8, else Windows-1252); bulkhead gets the raw bytes.
//!
//! Criterion measures wall-clock time; on a machine shared with other work
//! both figures inflate. For CPU-time figures of the same comparison:
//! `cargo run --release --example parse_dbc_corpus -- [--can-dbc] ../shared/data/dbc`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

struct Corpus {
    files: Vec<(String, Vec<u8>, String)>,
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dbc")) {
            out.push(path);
        }
    }
}

fn corpus() -> Option<Corpus> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/dbc");
    if !dir.is_dir() {
        eprintln!("dbc_parse: skipped: no corpus at {} (see DESIGN.md, section Data)", dir.display());
        return None;
    }
    let mut paths = Vec::new();
    collect(&dir, &mut paths);
    paths.sort();
    let files = paths
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let text = bulkhead::diagnostic::decode_lossy(&bytes);
            Some((p.display().to_string(), bytes, text))
        })
        .collect();
    Some(Corpus { files })
}

fn bulkhead_all(files: &[&(String, Vec<u8>, String)]) -> usize {
    files.iter().filter(|(name, bytes, _)| bulkhead::dbc::parse(name, black_box(bytes)).is_ok()).count()
}

fn can_dbc_all(files: &[&(String, Vec<u8>, String)]) -> usize {
    files.iter().filter(|(_, _, text)| can_dbc::Dbc::try_from(black_box(text.as_str())).is_ok()).count()
}

fn bench(c: &mut Criterion) {
    let Some(corpus) = corpus() else { return };
    let all: Vec<_> = corpus.files.iter().collect();
    let common: Vec<_> =
        all.iter().copied().filter(|(_, _, text)| can_dbc::Dbc::try_from(text.as_str()).is_ok()).collect();
    let bytes = |set: &[&(String, Vec<u8>, String)]| set.iter().map(|(_, b, _)| b.len() as u64).sum::<u64>();
    eprintln!(
        "dbc_parse: {} files ({:.2} MB); bulkhead accepts {}, can-dbc accepts {} ({:.2} MB)",
        all.len(),
        bytes(&all) as f64 / 1e6,
        bulkhead_all(&all),
        common.len(),
        bytes(&common) as f64 / 1e6
    );
    let mut groups = vec![("corpus", &all)];
    if common.len() < all.len() {
        groups.push(("common", &common));
    } else {
        eprintln!("dbc_parse: can-dbc accepts every file, so `corpus` is already the like-for-like comparison");
    }
    for (group_name, set) in groups {
        let mut group = c.benchmark_group(format!("dbc_parse/{group_name}"));
        group.throughput(Throughput::Bytes(bytes(set)));
        group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(8));
        group.bench_function("bulkhead", |b| b.iter(|| bulkhead_all(set)));
        group.bench_function("can-dbc", |b| b.iter(|| can_dbc_all(set)));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
