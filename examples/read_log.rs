//! Reads a capture with bulkhead's log readers and reports how fast.
//!
//! ```text
//! cargo run --release --example read_log -- FILE [--format NAME] [--lenient] [--repeat N] [--print]
//! ```
//!
//! The file is read into memory once (and gunzipped if need be), then parsed `--repeat` times (default 1)
//! from memory, so the figure is the parser's speed, not the disk's. Prints
//! one line `frames=N seconds=S frames_per_second=R` (the best of the
//! repetitions) followed by the skipped and non-frame counts and the buses.

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use bulkhead::logs::{FrameReader, LogFormat, ReadOptions, from_reader};

fn main() -> anyhow::Result<()> {
    let mut path = None;
    let mut format = None;
    let mut options = ReadOptions::default();
    let mut repeat = 1u32;
    let mut print = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--format" => {
                let name = args.next().context("--format needs a name")?;
                format = Some(LogFormat::from_name(&name).with_context(|| format!("unknown format {name}"))?);
            }
            "--lenient" => options.lenient = true,
            "--print" => print = true,
            "--repeat" => repeat = args.next().context("--repeat needs a count")?.parse()?,
            _ if path.is_none() => path = Some(PathBuf::from(arg)),
            _ => bail!("unexpected argument {arg}"),
        }
    }
    let path = path.context("usage: read_log FILE [--format NAME] [--lenient] [--repeat N] [--print]")?;
    let mut bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut plain)?;
        bytes = plain;
    }
    let format = match format {
        Some(f) => f,
        None => LogFormat::detect(&bytes, &path).context("format not recognised; give --format")?,
    };
    let name: Arc<str> = Arc::from(path.display().to_string());
    let mut best = f64::INFINITY;
    let mut frames = 0u64;
    let mut last: Option<Box<dyn FrameReader>> = None;
    for _ in 0..repeat.max(1) {
        let input = Box::new(Cursor::new(bytes.clone()));
        let start = Instant::now();
        let mut reader = from_reader(input, Arc::clone(&name), format, options)?;
        frames = 0;
        while let Some(record) = reader.next() {
            let record = match record {
                Ok(record) => record,
                Err(e) => bail!("{e}"),
            };
            if print {
                let time = record.time.map_or_else(|| "-".to_owned(), |t| t.to_string());
                println!("{time} {} {}", reader.buses().name(record.bus), record.frame);
            }
            frames += 1;
        }
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(reader);
    }
    println!("frames={frames} seconds={best:.6} frames_per_second={:.0}", frames as f64 / best);
    if let Some(reader) = last {
        println!("skipped={} non_frames={} buses={:?}", reader.skipped(), reader.non_frames(), reader.buses().names());
    }
    Ok(())
}
