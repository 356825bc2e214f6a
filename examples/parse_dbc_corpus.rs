//! Parses DBC files with bulkhead's parser and prints the throughput.
//!
//! ```text
//! cargo run --release --example parse_dbc_corpus -- [--repeat N] [--report] PATH...
//! ```
//! Each PATH is a `.dbc` file or a directory searched recursively for `.dbc`
//! files (any letter case). The files are read once; the parse is timed over
//! `N` rounds (default 10) and reported as MB/s, by wall clock and, on Linux,
//! by the CPU time of the process (`/proc/self/schedstat`), which other
//! processes competing for the cores do not inflate. `--can-dbc` times the
//! `can-dbc` crate instead, on the same files (decoded to text first, as it
//! takes `&str`). `--report` prints, per file, the number of messages, signals
//! and warnings, and every error; `--warnings` prints every warning as
//! `file:line:col: message` too.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Nanoseconds this process has run on a CPU, if the kernel tells.
fn cpu_nanos() -> Option<u64> {
    std::fs::read_to_string("/proc/self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            collect(&entry, out)?;
        }
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dbc")) {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut repeat = 10usize;
    let mut report = false;
    let mut show_warnings = false;
    let mut can_dbc = false;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(repeat),
            "--report" => report = true,
            "--can-dbc" => can_dbc = true,
            "--warnings" => {
                report = true;
                show_warnings = true;
            }
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    let mut files = Vec::new();
    for path in &paths {
        if let Err(e) = collect(path, &mut files) {
            eprintln!("cannot list {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let mut inputs = Vec::with_capacity(files.len());
    for file in &files {
        match std::fs::read(file) {
            Ok(bytes) => inputs.push((file.display().to_string(), bytes)),
            Err(e) => {
                eprintln!("cannot read {}: {e}", file.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let total_bytes: usize = inputs.iter().map(|(_, b)| b.len()).sum();
    let mut failures = 0;
    if report {
        let (mut messages, mut signals, mut warnings) = (0, 0, 0);
        for (name, bytes) in &inputs {
            match bulkhead::dbc::parse(name, bytes) {
                Ok(dbc) => {
                    println!(
                        "ok   {name}: {} messages, {} signals, {} warnings",
                        dbc.messages.len(),
                        dbc.signal_count(),
                        dbc.warnings.len()
                    );
                    messages += dbc.messages.len();
                    signals += dbc.signal_count();
                    warnings += dbc.warnings.len();
                    if show_warnings {
                        for w in &dbc.warnings {
                            println!("  warning: {}: {}", w.location, w.message);
                        }
                    }
                }
                Err(e) => {
                    failures += 1;
                    println!("FAIL {name}\n{e}\n");
                }
            }
        }
        println!(
            "{} files, {failures} failed, {messages} messages, {signals} signals, {warnings} warnings",
            inputs.len()
        );
    }
    let texts: Vec<String> =
        if can_dbc { inputs.iter().map(|(_, b)| bulkhead::diagnostic::decode_lossy(b)).collect() } else { Vec::new() };
    let cpu_start = cpu_nanos();
    let start = Instant::now();
    let mut parsed = 0usize;
    for _ in 0..repeat {
        if can_dbc {
            parsed += texts.iter().filter(|t| can_dbc::Dbc::try_from(t.as_str()).is_ok()).count();
        } else {
            parsed += inputs.iter().filter(|(name, bytes)| bulkhead::dbc::parse(name, bytes).is_ok()).count();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = cpu_start.zip(cpu_nanos()).map(|(a, b)| b.saturating_sub(a) as f64 / 1e9);
    let mb = (total_bytes * repeat) as f64 / 1e6;
    let cpu = cpu_seconds.map_or_else(String::new, |c| {
        format!("; CPU time {:.2} ms per round: {:.1} MB/s", c * 1e3 / repeat.max(1) as f64, mb / c.max(1e-9))
    });
    println!(
        "{}: {} files, {:.2} MB, {repeat} rounds in {seconds:.3} s: {:.1} MB/s, {:.2} ms per round ({parsed} parses ok){cpu}",
        if can_dbc { "can-dbc" } else { "bulkhead" },
        inputs.len(),
        total_bytes as f64 / 1e6,
        mb / seconds.max(1e-9),
        seconds * 1e3 / repeat.max(1) as f64
    );
    if failures > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
