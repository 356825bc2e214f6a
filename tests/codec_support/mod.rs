//! Shared helpers of the codec's integration tests: terse builders of DBC model
//! values, and the cantools oracle (`cantools_oracle.py`) with the comparison
//! of its decodes against ours.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bulkhead::codec::{CodecTable, DecodeError, MessageCodec, RawValue};
use bulkhead::dbc::{
    ByteOrder, Dbc, ExtendedMultiplexing, FrameFormat, Message, Multiplexing, Signal, ValueDescription, ValueType,
};
use bulkhead::frame::CanId;
use serde_json::Value;

/// A plain signal with factor 1 and offset 0.
pub fn signal(name: &str, start_bit: u32, size: u32, byte_order: ByteOrder, value_type: ValueType) -> Signal {
    Signal::new(name, start_bit, size, byte_order, value_type)
}

/// Chained modifiers for [`signal`].
pub trait SignalExt {
    /// Sets factor and offset.
    fn scaled(self, factor: f64, offset: f64) -> Signal;
    /// Sets the simple multiplexing role.
    fn mux(self, multiplexing: Multiplexing) -> Signal;
    /// Adds an `SG_MUL_VAL_` entry.
    fn mul_val(self, switch: &str, ranges: &[(u64, u64)]) -> Signal;
    /// Adds a value description.
    fn describe(self, value: i64, text: &str) -> Signal;
}

impl SignalExt for Signal {
    fn scaled(mut self, factor: f64, offset: f64) -> Signal {
        self.factor = factor;
        self.offset = offset;
        self
    }

    fn mux(mut self, multiplexing: Multiplexing) -> Signal {
        self.multiplexing = multiplexing;
        self
    }

    fn mul_val(mut self, switch: &str, ranges: &[(u64, u64)]) -> Signal {
        self.extended_multiplexing.push(ExtendedMultiplexing { switch: switch.to_owned(), ranges: ranges.to_vec() });
        self
    }

    fn describe(mut self, value: i64, text: &str) -> Signal {
        self.value_descriptions.push(ValueDescription { value, description: text.to_owned() });
        self
    }
}

/// A message; the id is extended when `extended` is set.
pub fn message(id: u32, extended: bool, name: &str, size: u32, signals: Vec<Signal>) -> Message {
    let id = CanId::new(id, extended).expect("test ids fit");
    Message {
        id,
        name: name.to_owned(),
        size,
        transmitter: "Vector__XXX".to_owned(),
        extra_transmitters: Vec::new(),
        signals,
        comment: None,
        attributes: Vec::new(),
        format: match (extended, size > 8) {
            (false, false) => FrameFormat::StandardCan,
            (true, false) => FrameFormat::ExtendedCan,
            (false, true) => FrameFormat::StandardCanFd,
            (true, true) => FrameFormat::ExtendedCanFd,
        },
        cycle_time_ms: None,
        line: 0,
    }
}

/// The project root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data` when it exists; otherwise prints why the test is skipped and returns `None`.
pub fn shared_data(test: &str) -> Option<PathBuf> {
    let dir = root().join("../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("{test}: skipped, the real-world data directory {} is absent", dir.display());
        None
    }
}

/// The project's Python with cantools and python-can; panics with the fix when missing.
pub fn python() -> PathBuf {
    let python = root().join(".venv/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-oracles first (it installs cantools 45.1.0 and python-can 4.6.1)",
        python.display()
    );
    python
}

/// Runs the cantools oracle with `args` (and `stdin`), returning its JSON output.
/// Panics with a clear message when the project venv is missing.
pub fn run_oracle(args: &[&str], stdin: Option<&str>) -> Value {
    let python = python();
    let script = root().join("tests/codec_support/cantools_oracle.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the venv's python starts");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or("").as_bytes()).expect("oracle reads its stdin");
    }
    let output = child.wait_with_output().expect("oracle runs");
    assert!(output.status.success(), "cantools oracle failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("oracle prints JSON")
}

/// The DBC model of one DBC as cantools loaded it (`None` when cantools could not load it).
pub fn dbc_from_oracle(entry: &Value) -> Option<Dbc> {
    let messages = entry.get("messages")?.as_array()?;
    Some(Dbc {
        source: entry["path"].as_str().unwrap_or("?").into(),
        messages: messages.iter().map(message_from_oracle).collect(),
        ..Dbc::default()
    })
}

fn message_from_oracle(m: &Value) -> Message {
    let signals = m["signals"].as_array().expect("signals");
    let top_switches: Vec<&str> = signals
        .iter()
        .filter(|s| s["is_multiplexer"].as_bool() == Some(true) && s["multiplexer_signal"].is_null())
        .filter_map(|s| s["name"].as_str())
        .collect();
    let signals = signals
        .iter()
        .map(|s| {
            let size = s["length"].as_u64().expect("length") as u32;
            let value_type = match (s["is_float"].as_bool(), s["is_signed"].as_bool()) {
                (Some(true), _) if size == 32 => ValueType::Float32,
                (Some(true), _) => ValueType::Float64,
                (_, Some(true)) => ValueType::Signed,
                _ => ValueType::Unsigned,
            };
            let order = if s["byte_order"] == "big_endian" { ByteOrder::BigEndian } else { ByteOrder::LittleEndian };
            let mut signal = signal(
                s["name"].as_str().expect("name"),
                s["start"].as_u64().expect("start") as u32,
                size,
                order,
                value_type,
            )
            .scaled(number(&s["scale"]), number(&s["offset"]));
            let ids: Vec<u64> = s["multiplexer_ids"]
                .as_array()
                .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let is_switch = s["is_multiplexer"].as_bool() == Some(true);
            signal.multiplexing = match (s["multiplexer_signal"].as_str(), is_switch) {
                (None, false) => Multiplexing::Plain,
                (None, true) => Multiplexing::Multiplexor,
                (Some(_), false) => Multiplexing::Multiplexed(ids.first().copied().unwrap_or(0)),
                (Some(_), true) => Multiplexing::MultiplexedMultiplexor(ids.first().copied().unwrap_or(0)),
            };
            if let Some(switch) = s["multiplexer_signal"].as_str() {
                // Simple `mN` under the message's only `M`; anything else as `SG_MUL_VAL_` ranges.
                if !(top_switches == [switch] && ids.len() == 1) {
                    signal = signal.mul_val(switch, &ranges(&ids));
                }
            }
            for choice in s["choices"].as_array().into_iter().flatten() {
                signal =
                    signal.describe(choice[0].as_i64().expect("choice value"), choice[1].as_str().expect("choice"));
            }
            signal
        })
        .collect();
    let id = m["id"].as_u64().expect("id") as u32;
    message(
        id,
        m["extended"].as_bool() == Some(true),
        m["name"].as_str().expect("name"),
        m["length"].as_u64().expect("length") as u32,
        signals,
    )
}

fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

/// Sorted values as inclusive ranges of consecutive values.
fn ranges(ids: &[u64]) -> Vec<(u64, u64)> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for id in ids {
        match out.last_mut() {
            Some((_, high)) if *high + 1 == id => *high = id,
            _ => out.push((id, id)),
        }
    }
    out
}

/// What a comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Frames whose signals agree with cantools.
    pub agreed: usize,
    /// Signals compared.
    pub signals: usize,
    /// Value descriptions compared.
    pub descriptions: usize,
    /// Frames both refused as shorter than the message.
    pub both_too_short: usize,
    /// Frames cantools could not decode (multiplexer value without branch,
    /// overlapping signals) and we decoded.
    pub oracle_refused: usize,
    /// Signals we decode and cantools cannot: their switch is not marked `M`
    /// in the file (cantools then never decodes them).
    pub oracle_blind: usize,
    /// Frames of messages whose layout we refuse.
    pub layout_refused: usize,
    /// Disagreements, described.
    pub mismatches: Vec<String>,
}

/// Compares every frame of the oracle's output with our decode.
pub fn compare(oracle: &Value, tables: &[Option<CodecTable>]) -> Comparison {
    let mut result = Comparison::default();
    let never_decoded = |dbc: usize, id: u64, extended: bool| -> Vec<String> {
        let messages = oracle["dbcs"][dbc]["messages"].as_array();
        let message = messages.into_iter().flatten().find(|m| m["id"] == id && m["extended"] == extended);
        let names = message.and_then(|m| m["never_decoded"].as_array()).into_iter().flatten();
        names.filter_map(|n| n.as_str().map(str::to_owned)).collect()
    };
    for frame in oracle["frames"].as_array().expect("frames") {
        let dbc = frame["dbc"].as_u64().expect("dbc") as usize;
        let raw_id = frame["id"].as_u64().expect("id") as u32;
        let id = CanId::new(raw_id, frame["extended"].as_bool() == Some(true)).expect("id fits");
        let data = hex(frame["data"].as_str().expect("data"));
        let Some(table) = tables.get(dbc).and_then(Option::as_ref) else { continue };
        let Some((_, codec)) = table.get(id) else {
            result.layout_refused += 1;
            continue;
        };
        let blind = never_decoded(dbc, u64::from(raw_id), id.is_extended());
        compare_frame(codec, &data, frame, &blind, &mut result);
    }
    result
}

fn compare_frame(codec: &MessageCodec, data: &[u8], frame: &Value, blind: &[String], result: &mut Comparison) {
    let ours = codec.decode_to_vec(data);
    let context = || format!("{} ({}) data {}", codec.name(), codec.id(), frame["data"].as_str().unwrap_or(""));
    if let Some(error) = frame["error"].as_str() {
        match (&ours, error.contains("Wrong data size")) {
            (Err(DecodeError::TooShort { .. }), true) => result.both_too_short += 1,
            (Ok(_), false) => result.oracle_refused += 1,
            _ => result.mismatches.push(format!("{}: cantools says {error}, we say {ours:?}", context())),
        }
        return;
    }
    let ours = match ours {
        Ok(ours) => ours,
        Err(e) => {
            result.mismatches.push(format!("{}: cantools decodes, we say {e}", context()));
            return;
        }
    };
    let theirs = frame["signals"].as_array().expect("signals");
    let name_of = |index| codec.signal(index).map(|s| s.name().to_owned()).unwrap_or_default();
    let extra = ours.iter().filter(|(i, _)| blind.contains(&name_of(*i))).count();
    result.oracle_blind += extra;
    if ours.len() - extra != theirs.len() {
        let our_names: Vec<_> =
            ours.iter().map(|(i, _)| codec.signal(*i).map(|s| s.name().to_owned()).unwrap_or_default()).collect();
        let their_names: Vec<_> = theirs.iter().map(|t| t[0].as_str().unwrap_or("")).collect();
        result
            .mismatches
            .push(format!("{}: present signals differ: ours {our_names:?}, cantools {their_names:?}", context()));
        return;
    }
    let mut frame_ok = true;
    for entry in theirs {
        let name = entry[0].as_str().expect("name");
        let expected: f64 = entry[1].as_str().expect("value").parse().expect("a number");
        let Some(index) = codec.signal_index(name) else {
            result.mismatches.push(format!("{}: no signal {name}", context()));
            frame_ok = false;
            continue;
        };
        let Some((_, decoded)) = ours.iter().find(|(i, _)| *i == index) else {
            result.mismatches.push(format!("{}: cantools has {name}, we do not", context()));
            frame_ok = false;
            continue;
        };
        result.signals += 1;
        // Unscaled integers: cantools prints the exact integer, so compare every bit
        // (f64 would hide differences in the low bits of 64-bit values).
        let text = entry[1].as_str().unwrap_or("");
        let exact = codec.signal(index).is_some_and(|s| s.factor() == 1.0 && s.offset() == 0.0);
        if let (true, Ok(expected)) = (exact, text.parse::<i128>()) {
            let raw = match decoded.raw {
                RawValue::Unsigned(u) => Some(i128::from(u)),
                RawValue::Signed(i) => Some(i128::from(i)),
                RawValue::Float(_) => None,
            };
            if raw != Some(expected) {
                result.mismatches.push(format!("{}: {name} = {:?} ours, {expected} cantools", context(), decoded.raw));
                frame_ok = false;
            }
        }
        if !close(decoded.physical, expected) {
            result.mismatches.push(format!("{}: {name} = {} ours, {expected} cantools", context(), decoded.physical));
            frame_ok = false;
        }
        if !matches!(decoded.raw, RawValue::Float(_)) {
            let description = codec.signal(index).and_then(|s| s.description(decoded.raw));
            result.descriptions += 1;
            if description != entry[2].as_str() {
                result.mismatches.push(format!(
                    "{}: {name} described {description:?} ours, {} cantools",
                    context(),
                    entry[2]
                ));
                frame_ok = false;
            }
        }
    }
    if frame_ok {
        result.agreed += 1;
    }
}

/// Equal, both NaN, or within 1e-9 relative.
pub fn close(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Bytes from hex digits.
pub fn hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex")).collect()
}
