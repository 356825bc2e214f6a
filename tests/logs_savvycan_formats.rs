//! One capture exported by SavvyCAN in several formats
//! (`savvycan_formats/`): every reader must give the same frames.
//!
//! Compared: id, extended flag, data of all 12,974 frames, in order, across
//! GVRET CSV, candump, CRTD, BUSMASTER, Microchip and generic ID/data CSV; and
//! the time relative to the first frame where the format has time. The
//! exports differ in time resolution, and the test states each difference
//! exactly instead of using a tolerance:
//! - GVRET and CRTD keep microseconds: equal;
//! - Microchip keeps milliseconds and BUSMASTER a time of day in
//!   milliseconds: both are the GVRET time cut to the millisecond;
//! - SavvyCAN's candump export wrote whole seconds (`(166.000000)` where the
//!   others have 166.064000): the GVRET time cut to the second;
//! - the generic CSV has no time.
//!
//! `CarBusAnalyzer.trc` is not this capture (55 frames of ids 45A, 4E0, 7C0
//! and 7C8; the first three never occur in the others); it is checked against
//! its own header (frame count and duration) instead.
//!
//! Found on the way: SavvyCAN's BUSMASTER export writes the milliseconds
//! without leading zeros (`22:20:15:2`), which the reader reads as 2 ms.

mod logs_support;

use bulkhead::frame::Frame;
use bulkhead::logs::LogFormat;
use logs_support::{logs_dir, read_file};

const FRAMES: usize = 12_974;

struct Export {
    frames: Vec<Frame>,
    /// Nanoseconds since the first frame.
    times: Option<Vec<u64>>,
}

fn export(name: &str, format: LogFormat) -> Option<Export> {
    let dir = logs_dir()?.join("savvycan_formats");
    let path = dir.join(name);
    let head = std::fs::read(&path).expect("export");
    assert_eq!(LogFormat::detect(&head, &path), Some(format), "{name} detected");
    let out = read_file(&path, false);
    assert!(out.errors.is_empty(), "{name}: {}", out.errors.first().map(ToString::to_string).unwrap_or_default());
    let frames: Vec<Frame> = out.records.iter().map(|(r, _)| r.frame).collect();
    let first = out.records.first().and_then(|(r, _)| r.time);
    let times = first.map(|t0| {
        out.records.iter().map(|(r, _)| r.time.expect("every record has a time").as_nanos() - t0.as_nanos()).collect()
    });
    Some(Export { frames, times })
}

#[test]
fn every_export_gives_the_same_frames() {
    let Some(gvret) = export("GVRET_Log.csv", LogFormat::GvretCsv) else { return };
    assert_eq!(gvret.frames.len(), FRAMES);
    let exact = gvret.times.clone().expect("GVRET has time");
    let millis: Vec<u64> = exact.iter().map(|t| t / 1_000_000 * 1_000_000).collect();
    // The capture starts at 166.064 s, so cutting absolute and relative times
    // to the millisecond is the same thing; to the second it is not.
    let first_absolute = 166_064_000_000u64;
    let seconds: Vec<u64> = exact
        .iter()
        .map(|t| (t + first_absolute) / 1_000_000_000 * 1_000_000_000 - first_absolute / 1_000_000_000 * 1_000_000_000)
        .collect();
    for (name, format, times) in [
        ("candump.log", LogFormat::Candump, Some(&seconds)),
        ("CRTD_Log.txt", LogFormat::Crtd, Some(&exact)),
        ("BusMasterLog.log", LogFormat::BusMaster, Some(&millis)),
        ("MicrochipLog.log", LogFormat::Microchip, Some(&millis)),
        ("GenericID_Log.csv", LogFormat::GenericCsv, None),
    ] {
        let other = export(name, format).expect("data present");
        assert_eq!(other.frames.len(), FRAMES, "{name}");
        for (i, (a, b)) in gvret.frames.iter().zip(&other.frames).enumerate() {
            assert_eq!(a, b, "{name}: frame {i}");
        }
        match (times, &other.times) {
            (Some(want), Some(got)) => {
                for (i, (w, g)) in want.iter().zip(got).enumerate() {
                    assert_eq!(w, g, "{name}: relative time of frame {i}");
                }
            }
            (None, None) => {}
            _ => panic!("{name}: time presence differs from expectation"),
        }
    }
}

#[test]
fn carbus_analyzer_trace_matches_its_header() {
    let Some(dir) = logs_dir() else { return };
    let path = dir.join("savvycan_formats/CarBusAnalyzer.trc");
    let head = std::fs::read(&path).expect("trace");
    assert_eq!(LogFormat::detect(&head, &path), Some(LogFormat::CarBus), "not a PEAK trace despite `.trc`");
    // `@ TEXT @ 2 @ 64 @ 0 @ 55 @ 10078 @ 00:00:10.078 @`: 55 frames over 10.078 s.
    let out = read_file(&path, false);
    assert!(out.errors.is_empty());
    assert_eq!(out.shown.len(), 55);
    assert_eq!(out.shown[0], "46.016000000 1 classic 45A#5A04000000000000 -");
    assert_eq!(out.shown[54], "56.094000000 1 classic 4E0#2400000000000000 -");
    let span = out.records[54].0.time.unwrap().as_nanos() - out.records[0].0.time.unwrap().as_nanos();
    assert_eq!(span, 10_078_000_000);
    let gvret = export("GVRET_Log.csv", LogFormat::GvretCsv).expect("data present");
    for id in [0x45A, 0x4E0, 0x7C0] {
        let id = bulkhead::frame::CanId::standard(id).unwrap();
        assert!(out.records.iter().any(|(r, _)| r.frame.id() == id));
        assert!(!gvret.frames.iter().any(|f| f.id() == id), "a different capture");
    }
}
