//! The RAV4 evaluation's goals (scripts/eval-rav4.sh runs the same steps with
//! the release binary and prints the table): learn from the first 70% of the
//! capture's frames, replay the other 30%, then the same 30% with attacks
//! injected by scripts/attack-inject.py (seed 1).
//!
//! Goals: the learned rules let their own capture through untouched; at most
//! 0.1% of the held-out genuine frames are dropped; 100% of the flood and
//! unknown-id frames and at least 99% of the rate-spoofed and out-of-range
//! frames are dropped; learning twice gives the same file.

mod learn_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulkhead::learn::{self, LearnOptions};
use learn_support::{learn_to_file, replay_with, shared, temp_dir};

const CAPTURE: &str = "logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log";
const PT: &str = "dbc/opendbc/generated/toyota_new_mc_pt_generated.dbc";
const ADAS: &str = "dbc/opendbc/current/toyota_adas.dbc";

/// Splits `capture` by frames: the first 70% of its lines, then the rest.
fn split(capture: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(capture).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines.len() * 70 / 100;
    let (learn, hold) = (dir.join("learn.log"), dir.join("holdout.log"));
    std::fs::write(&learn, lines[..cut].iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    std::fs::write(&hold, lines[cut..].iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    (learn, hold)
}

#[test]
fn rav4_learn_replay_and_attack_goals() {
    let (Some(capture), Some(pt), Some(adas)) = (shared(CAPTURE), shared(PT), shared(ADAS)) else { return };
    let dir = temp_dir("learn-rav4");
    let (learn_log, holdout) = split(&capture, &dir);
    let options = LearnOptions {
        logs: vec![learn_log.clone()],
        bus_dbcs: ["can0", "can128", "can129"]
            .iter()
            .map(|b| (b.to_string(), pt.clone()))
            .chain([("can1".to_owned(), adas.clone())])
            .collect(),
        output: dir.join("learned.toml"),
        ..LearnOptions::default()
    };
    let learned = learn_to_file(&options);

    // The toyota checksums are found where the DBC has a CHECKSUM byte.
    let speed = learned.proposal.routes.iter().find(|r| r.name == "can0-SPEED").expect("can0-SPEED");
    assert_eq!(speed.checksum.as_ref().map(|(s, a)| (s.as_str(), a.name())), Some(("CHECKSUM", "toyota")));
    let s = learned.proposal.summary();
    assert!(s.checksums >= 30 && s.counters >= 25 && s.cycles >= 160, "{s:?}");

    // Its own capture goes through untouched, and learning again gives the same file.
    let v = learn::verify(&options.output, &options.logs, Default::default()).unwrap();
    assert!(v.is_clean(), "drops {:?}, missing {}, injection {}", v.drops, v.missing, v.injection_suspected);
    assert_eq!(learn::learn(&options).unwrap().text, learned.text);

    // The held-out 30%: false alarms.
    let (report, _) = replay_with(&options.output, std::slice::from_ref(&holdout));
    let rate = report.dropped as f64 / report.frames as f64;
    assert!(rate <= 0.001, "{} of {} held-out frames dropped: {:?}", report.dropped, report.frames, report.ids);

    // Attacks on the held-out part.
    let attacked = dir.join("attacked.log");
    let marks = dir.join("attacked.marks.tsv");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/attack-inject.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script).args(["inject", "--seed", "1", "--rules"]).arg(&options.output);
    for (bus, dbc) in [("can0", &pt), ("can128", &pt), ("can129", &pt), ("can1", &adas)] {
        cmd.arg("--dbc").arg(format!("{bus}={}", dbc.display()));
    }
    cmd.arg("--known").arg(&capture);
    cmd.args(["--spoof", "can0:0x0AA", "--out-of-range", "can0:0x0B4:SPEED"]).arg(&holdout).arg(&attacked).arg(&marks);
    let out =
        cmd.output().unwrap_or_else(|e| panic!("python3 (3.11 or later) is needed for {}: {e}", script.display()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let (_, sink) = replay_with(&options.output, &[attacked]);
    let mut classes: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut injected = vec![false; sink.verdicts.len()];
    for line in std::fs::read_to_string(&marks).unwrap().lines().filter(|l| !l.starts_with('#')) {
        let (index, class) = line.split_once('\t').expect("index<TAB>class");
        let index: usize = index.parse().unwrap();
        injected[index] = true;
        let c = classes.entry(class.to_owned()).or_default();
        c.0 += 1;
        c.1 += u64::from(sink.verdicts[index].2.is_some_and(|v| !v.is_forward()));
    }
    let detection = |class: &str| {
        let (n, d) = classes.get(class).copied().unwrap_or_else(|| panic!("no {class} frames injected"));
        assert!(n > 0);
        d as f64 / n as f64
    };
    assert_eq!(detection("flood"), 1.0, "{classes:?}");
    assert_eq!(detection("unknown-id"), 1.0, "{classes:?}");
    assert!(detection("rate-spoof") >= 0.99, "{classes:?}");
    assert!(detection("out-of-range") >= 0.99, "{classes:?}");

    // Genuine frames of the ids not attacked are not touched by the attacks.
    let attacked_ids = [("can0", 0x0AA), ("can0", 0x0B4)];
    let collateral = sink
        .verdicts
        .iter()
        .zip(&injected)
        .filter(|((bus, id, _), inj)| !**inj && !attacked_ids.contains(&(bus.as_str(), *id)))
        .filter(|((_, _, v), _)| v.is_some_and(|v| !v.is_forward()))
        .count();
    assert_eq!(collateral, 0, "genuine frames of other ids dropped during the attacks");
}
