//! Read and decode speed on one core: a capture parsed by bulkhead's reader
//! and every frame of a DBC message decoded by the codec (all its signals),
//! the signals counted. The figure of the "5 million frames per second" goal.
//!
//! ```text
//! cargo run --release --example read_decode -- CAPTURE BUS=DBC... [--repeat N]
//! ```
//!
//! Each `BUS=DBC` decodes the frames of interface `BUS` with the messages of
//! the DBC file (several files for one bus: repeat it; the first definition of
//! an id wins). The capture is read into memory once (gunzipped if need be),
//! so the figure is parsing and decoding, not the disk. Prints the best of
//! `--repeat` runs (default 5):
//!
//! ```text
//! frames=135468 decoded=87344 too_short=1200 signals=481683 seconds=0.013400 frames_per_second=10109552
//! ```
//!
//! `frames` counts every frame read, `decoded` those of a DBC message that
//! decoded, `too_short` those of a DBC message shorter than its DBC length.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use bulkhead::codec::CodecTable;
use bulkhead::dbc::Dbc;
use bulkhead::logs::{LogFormat, ReadOptions, from_reader};

#[derive(Default, Clone, Copy, PartialEq, Debug)]
struct Counts {
    frames: u64,
    decoded: u64,
    too_short: u64,
    signals: u64,
}

fn main() -> anyhow::Result<()> {
    let usage = "usage: read_decode CAPTURE BUS=DBC... [--repeat N]";
    let mut capture = None;
    let mut buses: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut repeat = 5u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--repeat" {
            repeat = args.next().context("--repeat needs a count")?.parse()?;
        } else if let Some((bus, dbc)) = arg.split_once('=') {
            buses.entry(bus.to_owned()).or_default().push(PathBuf::from(dbc));
        } else if capture.is_none() {
            capture = Some(PathBuf::from(arg));
        } else {
            bail!("unexpected argument {arg}; {usage}");
        }
    }
    let capture = capture.context(usage)?;
    if buses.is_empty() {
        bail!("no BUS=DBC given; {usage}");
    }
    let mut tables = Vec::new();
    for (bus, paths) in &buses {
        let dbcs: Vec<Dbc> = paths
            .iter()
            .map(|p| bulkhead::dbc::load(p).map_err(|e| anyhow::anyhow!("{e}")))
            .collect::<anyhow::Result<_>>()?;
        tables.push((bus.clone(), CodecTable::new(dbcs.iter())));
    }

    let mut bytes = std::fs::read(&capture).with_context(|| format!("reading {}", capture.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut plain)?;
        bytes = plain;
    }
    let format = LogFormat::detect(&bytes, &capture).context("capture format not recognised")?;
    let name: Arc<str> = Arc::from(capture.display().to_string());
    let bytes: Arc<[u8]> = Arc::from(bytes);

    let mut best = f64::INFINITY;
    let mut counts = Counts::default();
    for _ in 0..repeat.max(1) {
        let input = Box::new(Cursor::new(Arc::clone(&bytes)));
        let start = Instant::now();
        let mut reader = from_reader(input, Arc::clone(&name), format, ReadOptions::default())?;
        // The table of each bus, by the reader's bus id (filled as buses appear).
        let mut by_bus: Vec<Option<usize>> = Vec::new();
        let mut run = Counts::default();
        let mut sum = 0.0f64;
        while let Some(record) = reader.next() {
            let record = record?;
            run.frames += 1;
            let bus = usize::from(record.bus.0);
            if bus >= by_bus.len() {
                let names = reader.buses();
                by_bus = (0..names.names().len())
                    .map(|i| tables.iter().position(|(b, _)| b == names.names()[i].as_str()))
                    .collect();
            }
            let Some(table) = by_bus.get(bus).copied().flatten() else { continue };
            let Some((_, codec)) = tables[table].1.get(record.frame.id()) else { continue };
            if record.frame.is_remote() || record.frame.is_error() {
                continue;
            }
            let result = codec.decode(record.frame.data(), |_, value| {
                run.signals += 1;
                sum += value.physical;
            });
            match result {
                Ok(()) => run.decoded += 1,
                Err(_) => run.too_short += 1,
            }
        }
        black_box(sum);
        best = best.min(start.elapsed().as_secs_f64());
        counts = run;
    }
    println!(
        "frames={} decoded={} too_short={} signals={} seconds={best:.6} frames_per_second={:.0}",
        counts.frames,
        counts.decoded,
        counts.too_short,
        counts.signals,
        counts.frames as f64 / best
    );
    Ok(())
}
