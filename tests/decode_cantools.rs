//! `bulkhead decode` end to end against cantools 45.1.0, on the real captures
//! and their DBC files (`../shared/data`): our binary (our capture reader, our
//! DBC parser, our codec, the JSON lines of the CLI) on one side; on the other
//! python-can reading the same capture and cantools decoding it with the same
//! DBC file (`decode_support/cantools_decode.py`). For every frame cantools
//! decodes we must print the same message name and exactly the same signals
//! with the same values (floats within 1e-9 relative); every frame cantools
//! refuses we must refuse too; both sides must know the same messages.
//!
//! The differences, each counted and asserted so that a new one fails:
//! - cantools cannot load two of the DBC files as they are; it reads copies
//!   patched in a temporary directory (`decode_support::cantools_copy`), we
//!   read the originals.
//! - cantools refuses every frame of a message whose signals overlap, even
//!   with `strict=False` ("unpacking failed": its bitstruct format cannot
//!   describe overlapping fields; cantools issue #205, open since 2020, fix
//!   proposed in pull request #825). DBC files have such messages (RAV4
//!   `PCS_HUD`: `PCS_DUST` and `PCS_TEMP`, bits 34 and 35, lie inside
//!   `SET_ME_X10`, bits 32 to 39), and we decode them. For those frames the
//!   helper has cantools decode each signal alone in a one-signal message,
//!   and we compare with that; the messages where this happens are listed in
//!   [`OVERLAPPING`].
//! - The Kona heating capture has 217 lines with negative timestamps, which
//!   our reader refuses (skipped with `--lenient`); python-can yields them.
//!   Their frames are left out of the comparison and their number must be
//!   exactly the number of lines we skipped.
//!
//! Needs `../shared/data` (skipped with a message when absent) and the
//! project's `.venv` (`scripts/setup-oracles`).

mod decode_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use decode_support::{CAPTURES, Capture, cantools_copy, python, root, shared_data};
use serde_json::Value;

/// The messages cantools can decode only one signal at a time (overlapping signals).
const OVERLAPPING: &[&str] = &["PCS_HUD"];

/// One line of either side: a frame of a known message, decoded or refused.
struct Decoded {
    t: f64,
    id: u64,
    ext: bool,
    msg: String,
    /// Signal values, or the reason the frame was refused.
    outcome: Result<BTreeMap<String, Value>, String>,
    negative_time: bool,
    one_signal_at_a_time: bool,
}

impl Decoded {
    fn from_json(line: &str, side: &str) -> Decoded {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{side} printed invalid JSON ({e}): {line}"));
        let outcome = match (&v["signals"], &v["error"]) {
            (Value::Object(signals), Value::Null) => Ok(signals.clone().into_iter().collect()),
            (Value::Null, Value::String(error)) => Err(error.clone()),
            _ => panic!("{side}: neither signals nor error: {line}"),
        };
        Decoded {
            t: v["t"].as_f64().unwrap_or_else(|| panic!("{side}: no time: {line}")),
            id: v["id"].as_u64().unwrap_or_else(|| panic!("{side}: no id: {line}")),
            ext: v["ext"].as_bool().unwrap_or(false),
            msg: v["msg"].as_str().unwrap_or_else(|| panic!("{side}: no message name: {line}")).to_owned(),
            outcome,
            negative_time: v["negative_time"].as_bool().unwrap_or(false),
            one_signal_at_a_time: v["one_signal_at_a_time"].as_bool().unwrap_or(false),
        }
    }

    fn describe(&self) -> String {
        format!("t={} id={:#x}{} {}", self.t, self.id, if self.ext { " (extended)" } else { "" }, self.msg)
    }
}

/// `bulkhead decode --dbc DBC --bus BUS` over the capture: its lines and the
/// number of capture lines it skipped.
fn ours(data: &Path, capture: &Capture, bus: &str, dbc: &str) -> (Vec<Decoded>, u64) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bulkhead"));
    command.arg("decode").arg("--dbc").arg(data.join(dbc)).arg("--bus").arg(bus);
    if capture.lenient {
        command.arg("--lenient");
    }
    let output = command.arg(data.join("logs").join(capture.log)).output().expect("run bulkhead");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bulkhead decode failed on {}:\n{stderr}", capture.log);
    let skipped =
        stderr.lines().find_map(|l| l.strip_prefix("skipped ")?.split_whitespace().next()?.parse().ok()).unwrap_or(0);
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (stdout.lines().map(|l| Decoded::from_json(l, "bulkhead")).collect(), skipped)
}

/// cantools' view of the capture: the messages it knows per bus, and its lines per bus.
struct Oracle {
    known: BTreeMap<String, BTreeSet<(u64, bool, String)>>,
    lines: BTreeMap<String, Vec<Decoded>>,
}

fn theirs(data: &Path, capture: &Capture, scratch: &Path) -> Oracle {
    let script = root().join("tests/decode_support/cantools_decode.py");
    let mut command = Command::new(python());
    command.arg(script).arg(data.join("logs").join(capture.log));
    for (bus, dbc) in capture.buses {
        command.arg(format!("{bus}={}", cantools_copy(data, dbc, scratch).display()));
    }
    let output = command.output().expect("run the cantools helper");
    assert!(
        output.status.success(),
        "cantools_decode.py failed on {}:\n{}",
        capture.log,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let mut lines = stdout.lines();
    let header: Value = serde_json::from_str(lines.next().expect("the known messages")).expect("JSON");
    let known = header["known"]
        .as_object()
        .expect("known")
        .iter()
        .map(|(bus, messages)| {
            let set = messages
                .as_array()
                .expect("messages")
                .iter()
                .map(|m| {
                    (m[0].as_u64().expect("id"), m[1].as_bool().expect("ext"), m[2].as_str().expect("name").into())
                })
                .collect();
            (bus.clone(), set)
        })
        .collect();
    let mut by_bus: BTreeMap<String, Vec<Decoded>> = BTreeMap::new();
    for line in lines {
        let bus = serde_json::from_str::<Value>(line).expect("JSON")["bus"].as_str().expect("bus").to_owned();
        by_bus.entry(bus).or_default().push(Decoded::from_json(line, "cantools"));
    }
    Oracle { known, lines: by_bus }
}

/// The messages our DBC parser finds in `dbc`, as `(id, extended, name)`.
fn our_messages(data: &Path, dbc: &str) -> BTreeSet<(u64, bool, String)> {
    let parsed = bulkhead::dbc::load(&data.join(dbc)).unwrap_or_else(|e| panic!("{dbc}: {e}"));
    parsed.messages.iter().map(|m| (u64::from(m.id.raw()), m.id.is_extended(), m.name.clone())).collect()
}

/// Equal numbers: exactly, or within 1e-9 relative; non-finite values by name.
fn same_value(ours: &Value, theirs: &Value) -> bool {
    match (ours.as_f64(), theirs.as_f64()) {
        (Some(a), Some(b)) => a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
        _ => ours == theirs,
    }
}

#[derive(Default)]
struct Tally {
    frames: usize,
    values: usize,
    both_refuse: usize,
    negative_time: usize,
    /// Frames cantools decoded one signal at a time, by message.
    one_signal_at_a_time: BTreeMap<String, usize>,
    mismatches: Vec<String>,
}

impl Tally {
    fn compare_bus(&mut self, what: &str, ours: &[Decoded], theirs: &[Decoded]) {
        let theirs: Vec<&Decoded> = theirs
            .iter()
            .filter(|d| {
                self.negative_time += usize::from(d.negative_time);
                !d.negative_time
            })
            .collect();
        if ours.len() != theirs.len() {
            let first = ours.iter().zip(&theirs).position(|(a, b)| a.id != b.id || a.ext != b.ext);
            let at = first.map_or_else(
                || "at the end of the shorter one".to_owned(),
                |i| format!("first at frame {i}: ours {}, cantools {}", ours[i].describe(), theirs[i].describe()),
            );
            self.mismatches.push(format!(
                "{what}: {} frames of known messages, cantools {}; {at}",
                ours.len(),
                theirs.len()
            ));
            return;
        }
        for (a, b) in ours.iter().zip(theirs) {
            if a.id != b.id || a.ext != b.ext || (a.t - b.t).abs() > 1e-6 {
                self.mismatches.push(format!("{what}: out of step: ours {}, cantools {}", a.describe(), b.describe()));
                return;
            }
            if a.msg != b.msg {
                self.mismatches.push(format!("{what}: {}: message name {} for cantools", a.describe(), b.msg));
                continue;
            }
            match (&a.outcome, &b.outcome) {
                (Ok(ours_values), Ok(their_values)) => {
                    self.frames += 1;
                    if b.one_signal_at_a_time {
                        *self.one_signal_at_a_time.entry(b.msg.clone()).or_default() += 1;
                    }
                    let names: BTreeSet<&String> = ours_values.keys().chain(their_values.keys()).collect();
                    for name in names {
                        match (ours_values.get(name), their_values.get(name)) {
                            (Some(x), Some(y)) if same_value(x, y) => self.values += 1,
                            (x, y) => self
                                .mismatches
                                .push(format!("{what}: {}: signal {name}: ours {x:?}, cantools {y:?}", a.describe())),
                        }
                    }
                }
                (Err(ours_error), Err(their_error))
                    if ours_error.contains("is shorter than") && their_error.contains("Wrong data size") =>
                {
                    self.both_refuse += 1
                }
                (Err(ours_error), Err(their_error)) => self.mismatches.push(format!(
                    "{what}: {}: refused by both for different reasons: ours {ours_error}, cantools {their_error}",
                    a.describe()
                )),
                (Err(e), Ok(_)) => {
                    self.mismatches.push(format!("{what}: {}: we refuse ({e}), cantools decodes", a.describe()))
                }
                (Ok(_), Err(e)) => {
                    self.mismatches.push(format!("{what}: {}: cantools refuses ({e}), we decode", a.describe()))
                }
            }
        }
    }
}

#[test]
fn bulkhead_decode_agrees_with_cantools_on_every_real_capture() {
    let Some(data) = shared_data("bulkhead_decode_agrees_with_cantools_on_every_real_capture") else { return };
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut total = Tally::default();
    for capture in CAPTURES {
        let oracle = theirs(&data, capture, scratch.path());
        let mut tally = Tally::default();
        let mut skipped_total = 0;
        for (bus, dbc) in capture.buses {
            let what = format!("{} {bus}", capture.log);
            let known = &oracle.known[*bus];
            assert_eq!(&our_messages(&data, dbc), known, "{what}: our parser and cantools know different messages");
            let (ours, skipped) = ours(&data, capture, bus, dbc);
            skipped_total += skipped;
            tally.compare_bus(&what, &ours, oracle.lines.get(*bus).map_or(&[], Vec::as_slice));
        }
        let negative_lines = std::fs::read_to_string(data.join("logs").join(capture.log))
            .expect("read the capture")
            .lines()
            .filter(|l| l.starts_with("(-"))
            .count() as u64;
        assert_eq!(
            skipped_total,
            negative_lines * capture.buses.len() as u64,
            "{}: our reader skips exactly the lines with a negative time, once per bus decoded",
            capture.log
        );
        eprintln!(
            "{}: {} frames agree ({} signal values), {} refused by both (shorter than the DBC length), \
             {} with a negative time left out, decoded one signal at a time by cantools: {:?}",
            capture.log, tally.frames, tally.values, tally.both_refuse, tally.negative_time, tally.one_signal_at_a_time
        );
        for (message, _) in tally.one_signal_at_a_time {
            assert!(
                OVERLAPPING.contains(&message.as_str()),
                "{}: cantools refuses {message} as a whole: check that its signals overlap and list it",
                capture.log
            );
            total.one_signal_at_a_time.insert(message, 0);
        }
        total.frames += tally.frames;
        total.values += tally.values;
        total.both_refuse += tally.both_refuse;
        total.mismatches.extend(tally.mismatches);
    }
    assert!(
        total.mismatches.is_empty(),
        "{} disagreements with cantools, the first ones:\n{}",
        total.mismatches.len(),
        total.mismatches.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    eprintln!(
        "total: {} frames agree ({} signal values), {} refused by both",
        total.frames, total.values, total.both_refuse
    );
    let seen: Vec<&str> = total.one_signal_at_a_time.keys().map(String::as_str).collect();
    assert_eq!(seen, OVERLAPPING, "every message listed as overlapping was met");
    assert!(total.frames > 150_000, "only {} frames compared", total.frames);
}

#[test]
fn the_comparison_sees_every_kind_of_difference() {
    let line = |t: f64, msg: &str, outcome: &str| {
        Decoded::from_json(&format!(r#"{{"t": {t}, "id": 608, "msg": "{msg}", {outcome}}}"#), "test")
    };
    let ours = [line(1.0, "A", r#""signals": {"x": 1.5, "y": 2}"#)];
    let mut agree = Tally::default();
    agree.compare_bus("same", &ours, &[line(1.0, "A", r#""signals": {"y": 2.0, "x": 1.5000000000001}"#)]);
    assert!(agree.mismatches.is_empty(), "{:?}", agree.mismatches);
    assert_eq!((agree.frames, agree.values), (1, 2));
    for (theirs, why) in [
        (line(1.0, "A", r#""signals": {"x": 1.5001, "y": 2}"#), "a value"),
        (line(1.0, "A", r#""signals": {"x": 1.5}"#), "a signal only we decode"),
        (line(1.0, "A", r#""signals": {"x": 1.5, "y": 2, "z": 0}"#), "a signal only cantools decodes"),
        (line(1.0, "B", r#""signals": {"x": 1.5, "y": 2}"#), "the message name"),
        (line(1.0, "A", r#""error": "DecodeError: Wrong data size""#), "a frame only cantools refuses"),
        (line(2.0, "A", r#""signals": {"x": 1.5, "y": 2}"#), "another frame"),
    ] {
        let mut tally = Tally::default();
        tally.compare_bus("different", &ours, &[theirs]);
        assert_eq!(tally.mismatches.len(), 1, "{why} must be one mismatch: {:?}", tally.mismatches);
    }
    let mut tally = Tally::default();
    tally.compare_bus("missing", &ours, &[]);
    assert_eq!(tally.mismatches.len(), 1, "a frame cantools does not list");
}
