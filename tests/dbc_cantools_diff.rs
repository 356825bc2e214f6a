//! Differential test against cantools 45.1.0: for every DBC file of the
//! corpus that cantools loads, message ids, names, lengths, cycle times and,
//! per signal, start bit, length, byte order, signedness, float type, factor,
//! offset, minimum, maximum, unit, multiplexing and value descriptions must be
//! the same as bulkhead's, or the difference must be one explained below with
//! evidence from the DBC format.
//!
//! cantools runs once over all files (`scripts/cantools_dbc_dump.py`, about
//! five seconds). Needs the oracles: run `scripts/setup-oracles` first.

mod dbc_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulkhead::dbc::{AttributeValue, ByteOrder, Dbc, Message, Multiplexing, Signal, ValueType};
use serde_json::Value;

fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    assert!(python.exists(), "{} is missing: run scripts/setup-oracles first", python.display());
    python
}

/// One field that differs.
#[derive(Debug)]
struct Difference {
    file: String,
    message: String,
    signal: String,
    field: &'static str,
    ours: String,
    theirs: String,
}

/// Why a difference is not a bug in bulkhead, if it is one of the known ones.
/// Each explanation matches one precise case (file, object, field, values).
fn explanation(d: &Difference) -> Option<&'static str> {
    let file = |suffix: &str| d.file.ends_with(suffix);
    match (d.field, d.message.as_str(), d.signal.as_str()) {
        // The last statement of these files is `VAL_ 501 ManualMode 1 "Active" 0 "Inactive"`
        // with no `;` before the end of the file. The value descriptions are
        // complete; bulkhead keeps them with a warning ("missing `;` at the end
        // of `VAL_`"). cantools' parser silently drops trailing tokens at the
        // end of the input (the same statement followed by any other statement
        // is a syntax error for it), so it loses them.
        ("choices", "ECMPRDNL2", "ManualMode")
            if (file("gm/gm_global_a_powertrain.dbc") || file("gm_global_a_powertrain_generated.dbc"))
                && d.theirs == "{}" =>
        {
            Some("final `VAL_` without `;` at end of file: cantools drops it, bulkhead keeps it (warning)")
        }
        // `SG_ MO2_Mp_Code m : 6|2@1+ ...` has a multiplexer marker `m` with no
        // value, which the DBC grammar does not allow (`M`, `mN` or `mNM`). Four
        // `SG_MUL_VAL_ 648 ... MO2_Mp_Code n-n` make it the switch of the other
        // signals, so bulkhead reads the marker as `M` (with a warning). cantools
        // keeps it as a plain signal while using it as the switch through
        // `SG_MUL_VAL_`; the multiplexed signals decode the same either way.
        ("is multiplexer", "Motor_2", "MO2_Mp_Code") if file("vw_pq.dbc") && d.ours == "true" => {
            Some("bare `m` marker read as `M` (vw_pq.dbc, the switch named by SG_MUL_VAL_)")
        }
        _ => None,
    }
}

fn long_name<'a>(attributes: &'a [bulkhead::dbc::Attribute], key: &str, short: &'a str) -> &'a str {
    match attributes.iter().find(|a| a.name == key).map(|a| &a.value) {
        Some(AttributeValue::Str(long)) => long,
        _ => short,
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_str().and_then(|s| s.parse::<f64>().ok())
}

/// Our multiplexing in cantools' terms: (is_multiplexer, sorted ids, switch name).
fn our_multiplexing(message: &Message, signal: &Signal) -> (bool, Option<Vec<u64>>, Option<String>) {
    let is_switch = matches!(signal.multiplexing, Multiplexing::Multiplexor | Multiplexing::MultiplexedMultiplexor(_));
    if !signal.extended_multiplexing.is_empty() {
        let mut ids: Vec<u64> = signal
            .extended_multiplexing
            .iter()
            .flat_map(|e| e.ranges.iter().flat_map(|&(lo, hi)| lo..=hi.min(lo + 4096)))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        return (is_switch, Some(ids), signal.extended_multiplexing.first().map(|e| e.switch.clone()));
    }
    let switch = || message.multiplexor().map(|s| s.name.clone());
    match signal.multiplexing {
        Multiplexing::Multiplexed(n) | Multiplexing::MultiplexedMultiplexor(n) => (is_switch, Some(vec![n]), switch()),
        _ => (is_switch, None, None),
    }
}

/// Compares one file; returns the number of signals compared.
fn compare_file(file: &str, ours: &Dbc, theirs: &Value, out: &mut Vec<Difference>) -> usize {
    let mut signals_compared = 0;
    let Some(messages) = theirs["messages"].as_array() else { return 0 };
    let mut diff = |message: &str, signal: &str, field: &'static str, ours: String, theirs: String| {
        if ours != theirs {
            out.push(Difference {
                file: file.to_owned(),
                message: message.to_owned(),
                signal: signal.to_owned(),
                field,
                ours,
                theirs,
            });
        }
    };
    diff("", "", "message count", ours.messages.len().to_string(), messages.len().to_string());
    for m in messages {
        let id = m["frame_id"].as_u64().unwrap_or(u64::MAX);
        let extended = m["is_extended_frame"].as_bool().unwrap_or(false);
        let name = m["name"].as_str().unwrap_or("");
        let Some(message) =
            ours.messages.iter().find(|x| u64::from(x.id.raw()) == id && x.id.is_extended() == extended)
        else {
            diff(name, "", "message present", "absent".into(), format!("id {id} extended {extended}"));
            continue;
        };
        diff(
            name,
            "",
            "name",
            long_name(&message.attributes, "SystemMessageLongSymbol", &message.name).into(),
            name.into(),
        );
        diff(name, "", "length", message.size.to_string(), m["length"].to_string());
        diff(
            name,
            "",
            "cycle time",
            format!("{:?}", message.cycle_time_ms),
            format!("{:?}", m["cycle_time"].as_u64().map(|v| v as u32)),
        );
        let Some(signals) = m["signals"].as_array() else { continue };
        diff(name, "", "signal count", message.signals.len().to_string(), signals.len().to_string());
        for s in signals {
            let sname = s["name"].as_str().unwrap_or("");
            let Some(signal) =
                message.signals.iter().find(|x| long_name(&x.attributes, "SystemSignalLongSymbol", &x.name) == sname)
            else {
                diff(name, sname, "signal present", "absent".into(), "present".into());
                continue;
            };
            signals_compared += 1;
            let mut field = |f: &'static str, o: String, t: String| diff(name, sname, f, o, t);
            field("start", signal.start_bit.to_string(), s["start"].to_string());
            field("length", signal.size.to_string(), s["length"].to_string());
            let order = match signal.byte_order {
                ByteOrder::LittleEndian => "little_endian",
                ByteOrder::BigEndian => "big_endian",
            };
            field("byte order", order.into(), s["byte_order"].as_str().unwrap_or("").into());
            let float = matches!(signal.value_type, ValueType::Float32 | ValueType::Float64);
            field("float", float.to_string(), s["is_float"].to_string());
            if !float {
                field("signed", (signal.value_type == ValueType::Signed).to_string(), s["is_signed"].to_string());
            }
            field("factor", format!("{:?}", signal.factor), format!("{:?}", number(&s["scale"]).unwrap_or(f64::NAN)));
            field("offset", format!("{:?}", signal.offset), format!("{:?}", number(&s["offset"]).unwrap_or(f64::NAN)));
            match (number(&s["minimum"]), number(&s["maximum"])) {
                (None, None) => field("range", format!("[{:?}|{:?}]", signal.min, signal.max), "[0.0|0.0]".into()),
                (min, max) => {
                    field("minimum", format!("{:?}", Some(signal.min)), format!("{min:?}"));
                    field("maximum", format!("{:?}", Some(signal.max)), format!("{max:?}"));
                }
            }
            field("unit", signal.unit.clone(), s["unit"].as_str().unwrap_or("").into());
            let (is_switch, ids, switch) = our_multiplexing(message, signal);
            field("is multiplexer", is_switch.to_string(), s["is_multiplexer"].to_string());
            let their_ids: Option<Vec<u64>> =
                s["multiplexer_ids"].as_array().map(|a| a.iter().filter_map(Value::as_u64).collect());
            field("multiplexer ids", format!("{ids:?}"), format!("{their_ids:?}"));
            field(
                "multiplexer signal",
                format!("{switch:?}"),
                format!("{:?}", s["multiplexer_signal"].as_str().map(str::to_owned)),
            );
            let our_choices: BTreeMap<i64, &str> =
                signal.value_descriptions.iter().map(|v| (v.value, v.description.as_str())).collect();
            let their_choices: BTreeMap<i64, &str> = s["choices"]
                .as_array()
                .map(|a| a.iter().filter_map(|p| Some((p[0].as_i64()?, p[1].as_str()?))).collect())
                .unwrap_or_default();
            field("choices", format!("{our_choices:?}"), format!("{their_choices:?}"));
        }
    }
    signals_compared
}

#[test]
fn structure_matches_cantools_on_every_file_it_loads() {
    let Some(data) = dbc_support::data_dir_or_skip("structure_matches_cantools") else { return };
    let python = python();
    let mut files = dbc_support::dbc_files(&data.join("dbc"));
    files.extend(dbc_support::dbc_files(&data.join("logs")));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cantools_dbc_dump.py");
    let output = Command::new(&python).arg(&script).args(&files).output().expect("run the cantools dump script");
    assert!(output.status.success(), "cantools dump failed: {}", String::from_utf8_lossy(&output.stderr));
    let dump: Value = serde_json::from_slice(&output.stdout).expect("the dump is JSON");
    assert_eq!(dump["cantools"], "45.1.0", "the differential is pinned to cantools 45.1.0");

    let mut compared = 0;
    let mut signals = 0;
    let mut refused_by_cantools = Vec::new();
    let mut differences = Vec::new();
    for file in &files {
        let key = file.display().to_string();
        let theirs = &dump["files"][&key];
        let name = dbc_support::short_name(&data, file);
        let ours = bulkhead::dbc::load(file).unwrap_or_else(|e| panic!("bulkhead refuses {name}:\n{e}"));
        if theirs["ok"] != true {
            refused_by_cantools.push(format!("{name}: {}", theirs["error"].as_str().unwrap_or("?")));
            continue;
        }
        compared += 1;
        signals += compare_file(&name, &ours, theirs, &mut differences);
    }
    let (explained, unexplained): (Vec<_>, Vec<_>) = differences.iter().partition(|d| explanation(d).is_some());
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &explained {
        *by_reason.entry(explanation(d).unwrap_or("")).or_default() += 1;
    }
    println!(
        "compared {compared} files ({signals} signals) with cantools; {} files cantools refuses (bulkhead reads them all):",
        refused_by_cantools.len()
    );
    for r in &refused_by_cantools {
        println!("  {r}");
    }
    println!("{} differences, all explained:", explained.len());
    for (reason, n) in &by_reason {
        println!("  {n:4} x {reason}");
    }
    for d in &unexplained {
        println!(
            "UNEXPLAINED {} / {} / {} / {}: bulkhead {} vs cantools {}",
            d.file, d.message, d.signal, d.field, d.ours, d.theirs
        );
    }
    assert!(compared >= 150 && signals >= 20_000, "only {compared} files ({signals} signals) compared");
    assert!(unexplained.is_empty(), "{} unexplained differences with cantools (listed above)", unexplained.len());
}
