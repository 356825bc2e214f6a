//! Our readers on python-can's own fixtures (`python_can_formats/`): exact
//! records per format, then a differential against python-can 4.6.1 on every
//! fixture it reads, on files python-can's writers produce, and on the real
//! candump captures.
//!
//! Differences from python-can are zero except these, each counted and
//! asserted so that a new one fails the test:
//! - python-can numbers ASC and BLF channels from 0 (channel - 1); our bus
//!   names are the channel numbers as written. Compared with the shift.
//! - A CANFD line with the remote flag (`test_CanFdRemoteMessage.asc`) is a
//!   remote frame for both, but python-can also marks it `is_fd`; CAN FD has
//!   no remote frames (the line's flags column has the RTR bit, not EDL).
//! - python-can yields frames that cannot exist and we refuse them (skipped in
//!   lenient mode): the field-pattern BLF fixtures (standard id 0x4444444,
//!   DLC 0x33, direction 0xDD), `single_frame.asc` (classic DLC 0x40), and
//!   negative timestamps (the Kona heating capture).
//! - python-can keeps error frames' id and data in its own terms; ours carry
//!   SocketCAN classes, so error frames compare by time, bus and kind only.
//! - Where a format records no direction (candump without `-x`, TRC 1.0),
//!   python-can says "received"; we say nothing: compared only when we know.

mod logs_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulkhead::frame::FrameKind;
use bulkhead::logs::Direction;
use logs_support::{Outcome, logs_dir, python, read_file};
use serde_json::Value;

fn fixture(dir: &Path, name: &str) -> PathBuf {
    dir.join("python_can_formats").join(name)
}

// ---------------------------------------------------------------- exact records

fn assert_records(path: &Path, want: &[&str]) -> Outcome {
    let out = read_file(path, false);
    assert!(
        out.errors.is_empty(),
        "{}: {:?}",
        path.display(),
        out.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(out.shown, want, "{}", path.display());
    out
}

#[test]
fn asc_fixtures() {
    let Some(dir) = logs_dir() else { return };
    let messages = ["2.501000000 2 classic 0C8#0908070605040302 tx", "17.876708000 1 classic 6F9#050C000000000000 rx"];
    assert_records(&fixture(&dir, "test_CanMessage.asc"), &messages);
    assert_records(&fixture(&dir, "test_CanMessage.asc.gz"), &messages);
    assert_records(
        &fixture(&dir, "test_CanRemoteMessage.asc"),
        &["2.510001000 2 remote 100#R0 rx", "2.520002000 3 remote 200#R0 tx", "2.584921000 4 remote 300#R8 rx"],
    );
    let errors = assert_records(
        &fixture(&dir, "test_CanErrorFrames.asc"),
        &[
            "2.501000000 1 error 00000000# -",
            "3.501000000 1 error 00000000# -",
            "4.501000000 2 error 00000000# -",
            "30.806898000 5 error 00000000# tx",
        ],
    );
    assert_eq!(errors.non_frames, 1, "Start of measurement");
    assert_records(
        &fixture(&dir, "test_CanFdMessage.asc"),
        &[
            "30.005021000 1 fd 300##111C2030405060708 rx",
            "30.005041000 2 fd 1C4D80A7##212C2030405060708 tx",
            "30.005071000 3 fd 30A##30102030405060708 rx",
        ],
    );
    let tail = "00".repeat(59) + "64";
    assert_records(
        &fixture(&dir, "test_CanFdMessage64.asc"),
        &[
            &format!("30.506898000 4 fd 4EE##2A1020304{tail} rx"),
            &format!("31.506898000 4 fd 1C4D80A7##1B1020304{tail} rx"),
        ],
    );
    assert_records(&fixture(&dir, "test_CanFdRemoteMessage.asc"), &["30.300981000 3 remote 00050005#R5 tx"]);
    assert_records(
        &fixture(&dir, "issue_1299.asc"),
        &[
            "13.258199000 1 classic 180#6A00000000000000 tx",
            "13.258433000 1 classic 221#C24A058100001510 tx",
            "13.258671000 1 classic 3FF#55AA010203040506 tx",
            "13.258907000 1 classic 0F4#8A1A0DF213000007 tx",
        ],
    );
    let log = read_file(&fixture(&dir, "logfile.asc"), false);
    assert!(log.errors.is_empty());
    assert_eq!((log.shown.len(), log.non_frames), (20, 12), "frames and non-frames of logfile.asc");
    assert_eq!(log.shown[6], "3.098426000 1 classic 18EBFF00#01A00FA6603BD140 rx");
    assert_eq!(log.shown[16], "30.005071000 2 fd 300##10102030405060708 rx");
    assert_eq!(read_file(&fixture(&dir, "issue_1256.asc"), false).shown.len(), 1457);

    let single = read_file(&fixture(&dir, "single_frame.asc"), false);
    let message = single.errors.first().map(ToString::to_string).unwrap_or_default();
    assert!(message.contains("single_frame.asc:6:37: invalid frame: DLC 64 is not a 4-bit value"), "{message}");
}

#[test]
fn trc_fixtures() {
    let Some(dir) = logs_dir() else { return };
    assert_records(
        &fixture(&dir, "test_CanMessage.trc"),
        &["2.501000000 2 classic 0C8#0908070605040302 tx", "17.876708000 1 classic 6F9#050C000000000000 rx"],
    );
    for (name, first, last) in [
        (
            "test_CanMessage_V1_0_BUS1.trc",
            "17.535000000 1 classic 00000100#0000000000000000 -",
            "48.937000000 1 remote 704#R1 -",
        ),
        (
            "test_CanMessage_V1_1.trc",
            "17.535400000 1 classic 00000100#0000000000000000 tx",
            "48.937600000 1 remote 704#R1 rx",
        ),
        (
            "test_CanMessage_V1_3.trc",
            "17.535400000 1 classic 00000100#0000000000000000 tx",
            "48.937600000 1 remote 704#R1 rx",
        ),
        (
            "test_CanMessage_V2_0_BUS1.trc",
            "17.535400000 1 classic 00000100#0000000000000000 tx",
            "48.937600000 1 remote 704#R1 rx",
        ),
        (
            "test_CanMessage_V2_1.trc",
            "17.535400000 1 classic 00000100#0000000000000000 tx",
            "48.937600000 1 remote 704#R1 rx",
        ),
    ] {
        let out = read_file(&fixture(&dir, name), false);
        assert!(out.errors.is_empty(), "{name}");
        assert_eq!(out.shown.len(), 11, "{name}");
        assert_eq!((out.shown[0].as_str(), out.shown[10].as_str()), (first, last), "{name}");
        assert_eq!(out.non_frames, 1, "{name}: the bus warning or status line");
        assert!(out.shown[3].contains(" classic 000#0000000000000000 "), "{name}: id 0000 is standard");
    }
}

#[test]
fn blf_fixtures() {
    let Some(dir) = logs_dir() else { return };
    let payload = "FF".repeat(48) + &"00".repeat(16);
    let out = read_file(&fixture(&dir, "issue_1905.blf"), false);
    assert!(out.errors.is_empty());
    assert_eq!(out.shown.len(), 22);
    assert_eq!(
        out.shown[0],
        format!("3.269113000 7 fd 6A9##1{payload} rx"),
        "valid bytes beyond the stored data are zeros"
    );
    assert_eq!(out.shown[21], format!("108.270673000 7 fd 6A9##1{payload} rx"));
    assert_eq!(out.non_frames, 2);
    let errors = assert_records(
        &fixture(&dir, "test_CanErrorFrameExt.blf"),
        &["2459565876.494606882 4369 error 00000000# -", "2459565876.494606882 4369 error 00000000# -"],
    );
    assert_eq!(errors.non_frames, 2);
    // The other BLF fixtures fill every field with a byte pattern: no frame in
    // them is valid, and each is refused by offset and reason.
    for (name, reason) in [
        ("test_CanMessage.blf", "standard id 0x44444444 does not fit"),
        ("test_CanMessage2.blf", "standard id 0x44444444 does not fit"),
        ("test_CanFdMessage.blf", "standard id 0x44444444 does not fit"),
        ("test_CanFdMessage64.blf", "unknown direction 221"),
    ] {
        let strict = read_file(&fixture(&dir, name), false);
        assert_eq!(strict.errors.len(), 2, "{name}");
        assert!(strict.errors[0].to_string().contains(reason), "{name}: {}", strict.errors[0]);
        assert!(strict.errors[0].to_string().contains("at byte 0:"), "{name}: {}", strict.errors[0]);
        let lenient = read_file(&fixture(&dir, name), true);
        assert_eq!((lenient.shown.len(), lenient.skipped, lenient.non_frames), (0, 2, 2), "{name}");
    }
}

// ---------------------------------------------------------------- differential

/// A frame in terms both sides can state.
#[derive(Clone, Debug, PartialEq)]
struct Common {
    nanos: i128,
    kind: &'static str,
    id: u32,
    extended: bool,
    brs: bool,
    esi: bool,
    len: usize,
    data: String,
    bus: Option<String>,
    rx: Option<bool>,
}

impl Common {
    /// Equal within 1 µs, comparing error frames by time, kind and bus.
    fn matches(&self, other: &Common) -> bool {
        let close = (self.nanos - other.nanos).abs() <= 1_000;
        let bus = self.bus.is_none() || other.bus.is_none() || self.bus == other.bus;
        let rx = self.rx.is_none() || other.rx.is_none() || self.rx == other.rx;
        if self.kind == "error" || other.kind == "error" {
            return close && bus && self.kind == other.kind;
        }
        close
            && bus
            && rx
            && Common { nanos: 0, bus: None, rx: None, ..self.clone() }
                == Common { nanos: 0, bus: None, rx: None, ..other.clone() }
    }
}

/// Why python-can's message `m` of `path` has no counterpart in our reading,
/// if it has none.
fn refused(path: &Path, m: &Value) -> Option<&'static str> {
    let id = m["id"].as_u64().unwrap_or(0);
    let ext = m["ext"].as_bool().unwrap_or(false);
    let fd = m["fd"].as_bool().unwrap_or(false);
    let err = m["err"].as_bool().unwrap_or(false);
    let time: f64 = m["t"].as_str().and_then(|t| t.parse().ok()).unwrap_or(0.0);
    if time < 0.0 {
        Some("negative time")
    } else if !err && !ext && id > 0x7FF {
        Some("standard id above 0x7FF")
    } else if path.ends_with("single_frame.asc") {
        // `d 40`: python-can's dlc2len maps any DLC above 15 to 64 and keeps
        // 8 bytes; the raw DLC is 0x40 (see `asc_fixtures`).
        Some("classic DLC 0x40")
    } else if !err && !fd && m["dlc"].as_u64().unwrap_or(0) > 64 {
        Some("classic DLC above 15")
    } else {
        None
    }
}

/// Runs python-can on `path` and returns (offset, messages).
fn python_read(format: &str, path: &Path) -> (f64, Vec<Value>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/python_can_oracle.py");
    let output = Command::new(python()).arg(script).args(["read", format]).arg(path).output().expect("run python");
    assert!(output.status.success(), "python-can on {}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    let mut lines = output.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let head: Value = serde_json::from_slice(lines.next().expect("offset line")).expect("json");
    let offset = head["offset"].as_str().and_then(|o| o.parse().ok()).expect("offset");
    (offset, lines.map(|l| serde_json::from_slice(l).expect("json")).collect())
}

/// Compares python-can and us on one file; returns the counted explained
/// differences.
fn compare(format: &str, path: &Path, explained: &mut BTreeMap<&'static str, usize>) {
    let (offset, messages) = python_read(format, path);
    let ours = read_file(path, true);
    assert!(ours.errors.is_empty(), "{}: {}", path.display(), ours.errors[0]);
    let channel_shift = i64::from(matches!(format, "asc" | "blf"));
    let mut expected = Vec::new();
    for m in &messages {
        if let Some(reason) = refused(path, m) {
            *explained.entry(reason).or_default() += 1;
            continue;
        }
        let time: f64 = m["t"].as_str().and_then(|t| t.parse().ok()).expect("time");
        let rtr = m["rtr"].as_bool().unwrap_or(false);
        let mut fd = m["fd"].as_bool().unwrap_or(false);
        let (mut brs, mut esi) = (m["brs"].as_bool().unwrap_or(false), m["esi"].as_bool().unwrap_or(false));
        if rtr && fd {
            // python-can keeps the line's FD columns on a remote frame.
            *explained.entry("CAN FD flag on a remote frame").or_default() += 1;
            (fd, brs, esi) = (false, false, false);
        }
        let kind = if m["err"].as_bool().unwrap_or(false) {
            "error"
        } else if rtr {
            "remote"
        } else if fd {
            "fd"
        } else {
            "classic"
        };
        let data = m["data"].as_str().unwrap_or("").to_ascii_uppercase();
        let dlc = m["dlc"].as_u64().unwrap_or(0) as usize;
        let bus = m["ch"].as_str().map(|ch| match ch.parse::<i64>() {
            Ok(n) => (n + channel_shift).to_string(),
            Err(_) => ch.to_owned(),
        });
        expected.push(Common {
            nanos: ((time - offset) * 1e9).round() as i128,
            kind,
            id: m["id"].as_u64().unwrap_or(0) as u32,
            extended: m["ext"].as_bool().unwrap_or(false),
            brs,
            esi,
            len: if rtr { dlc.min(8) } else { data.len() / 2 },
            data: if rtr { String::new() } else { data },
            bus,
            rx: m["rx"].as_bool(),
        });
    }
    let actual: Vec<Common> = ours
        .records
        .iter()
        .map(|(r, bus)| {
            let f = &r.frame;
            Common {
                nanos: r.time.map_or(0, |t| i128::from(t.as_nanos())),
                kind: f.kind().name(),
                id: f.id().raw(),
                extended: f.id().is_extended(),
                brs: f.fd_flags().brs,
                esi: f.fd_flags().esi,
                len: f.len(),
                data: f.data().iter().map(|b| format!("{b:02X}")).collect(),
                bus: Some(bus.clone()),
                rx: r.direction.map(|d| d == Direction::Rx),
            }
        })
        .filter(|c| c.kind != FrameKind::Error.name() || format != "trc")
        .collect();
    assert_eq!(
        actual.len(),
        expected.len(),
        "{}: {} frames from us, {} comparable from python-can",
        path.display(),
        actual.len(),
        expected.len()
    );
    assert_eq!(ours.skipped as usize, messages.len() - expected.len(), "{}: refusals", path.display());
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        assert!(a.matches(e), "{} frame {i}:\n  ours   {a:?}\n  python {e:?}", path.display());
    }
    *explained.entry("frames compared").or_default() += actual.len();
}

#[test]
fn differential_on_python_can_fixtures() {
    let Some(dir) = logs_dir() else { return };
    let mut explained = BTreeMap::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.join("python_can_formats")).expect("fixtures") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        let format = match name.trim_end_matches(".gz").rsplit('.').next() {
            Some("asc") => "asc",
            Some("trc") => "trc",
            Some("blf") => "blf",
            _ => continue,
        };
        compare(format, &path, &mut explained);
        files += 1;
    }
    assert_eq!(files, 25, "every python-can fixture");
    let want: BTreeMap<&str, usize> = [
        // test_CanFdRemoteMessage.asc and the same line in logfile.asc.
        ("CAN FD flag on a remote frame", 2),
        ("classic DLC 0x40", 1),
        ("frames compared", 1592),
        // Two messages in each of the four field-pattern BLF fixtures.
        ("standard id above 0x7FF", 8),
    ]
    .into_iter()
    .collect();
    assert_eq!(explained, want);
}

#[test]
fn differential_on_files_python_can_writes() {
    let Some(dir) = logs_dir() else { return };
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python_can_written");
    std::fs::create_dir_all(&work).expect("tmp dir");
    let rav4 =
        std::fs::read_to_string(dir.join("toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log")).expect("rav4");
    let mut source: String = rav4.lines().take(3000).flat_map(|l| [l, "\n"]).collect();
    source.push_str(
        "(46409.000000) can0 123##3AABBCCDDEEFF001122334455\n\
         (46409.000001) can1 1C4D80A7##1000102030405060708090A0B0C0D0E0F\n\
         (46409.000002) can0 7FF#R3\n(46409.000003) can0 18EFC034#R\n\
         (46409.000004) can0 20000080#0000000000000000\n(46409.000005) can0 18EFC034#DEADBEEF\n",
    );
    let source_path = work.join("source.log");
    std::fs::write(&source_path, source).expect("write source");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/python_can_oracle.py");
    let mut explained = BTreeMap::new();
    for (format, written) in
        [("blf", "blf"), ("blf", "blf-stored"), ("asc", "asc"), ("trc", "trc"), ("candump", "candump")]
    {
        let out = work.join(format!("written.{written}"));
        let status = Command::new(python())
            .arg(&script)
            .args(["write", written])
            .arg(&source_path)
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run python");
        assert!(status.success(), "python-can writing {written}");
        compare(format, &out, &mut explained);
    }
    // TRC: python-can's writer leaves out FD, remote and error frames.
    assert_eq!(explained.get("frames compared"), Some(&(3006 * 4 + 3001)));
    assert_eq!(explained.len(), 1, "{explained:?}");
}

#[test]
fn differential_on_real_candump_captures() {
    let Some(dir) = logs_dir() else { return };
    let mut explained = BTreeMap::new();
    let mut files = vec![
        dir.join("toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log"),
        dir.join("toyota86_motec/can_sample.log"),
        dir.join("savvycan_formats/candump.log"),
        dir.join("css_canedge/candump_converted/data-processing_LOG_17BD1DB7_00000006_00000170.log"),
        dir.join("css_canedge/candump_converted/data-processing_LOG_94C49784_00000005_00000002.log"),
    ];
    let kona = dir.join("hyundai_kona_ev/candump_converted");
    files.extend(std::fs::read_dir(&kona).expect("kona").map(|e| e.expect("entry").path()));
    for path in &files {
        compare("candump", path, &mut explained);
    }
    assert_eq!(explained.get("negative time"), Some(&217), "the Kona heating capture's clock restarts below zero");
    assert_eq!(explained.len(), 2, "{explained:?}");
}
