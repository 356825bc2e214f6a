//! The replay reports through the `bulkhead replay` binary, on a synthetic
//! capture of the reference vehicle with attacks: the JSON report follows its
//! schema (`docs/replay.md`) and agrees with itself and with the verdicts
//! file, and two runs give the same bytes in every output.

mod common;
mod replay_report_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use replay_report_support::{EVIL_BUS, write_capture};
use serde_json::Value;

/// The three outputs of one run.
struct Outputs {
    verdicts: Vec<u8>,
    json: Vec<u8>,
    html: Vec<u8>,
}

/// Runs `bulkhead replay` on `capture` with every output into `dir`.
fn run(capture: &Path, dir: &Path) -> Outputs {
    let path = |name: &str| -> PathBuf { dir.join(name) };
    let output = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .arg("replay")
        .arg("--quiet")
        .arg("--verdicts")
        .arg(path("verdicts.jsonl"))
        .arg("--report-json")
        .arg(path("report.json"))
        .arg("--report-html")
        .arg(path("report.html"))
        .arg(capture)
        .output()
        .expect("run bulkhead");
    assert!(output.status.success(), "bulkhead replay failed: {}", String::from_utf8_lossy(&output.stderr));
    let read = |name: &str| std::fs::read(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    Outputs { verdicts: read("verdicts.jsonl"), json: read("report.json"), html: read("report.html") }
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("`{key}` is not an unsigned integer in {v}"))
}

fn sum_of(v: &Value, key: &str) -> u64 {
    v[key].as_array().unwrap_or_else(|| panic!("`{key}` is not an array")).iter().map(|x| x.as_u64().unwrap_or(0)).sum()
}

#[test]
fn the_json_report_follows_its_schema() {
    let (dir, capture) = write_capture("replay-report-schema");
    let out = run(&capture, &dir);
    let r: Value = serde_json::from_slice(&out.json).expect("the JSON report parses");

    // Every documented field, in the documented order.
    let keys: Vec<&str> = r.as_object().expect("an object").keys().map(String::as_str).collect();
    let documented = [
        "schema",
        "rules",
        "frames",
        "forwarded",
        "dropped",
        "unmapped",
        "skipped_lines",
        "start",
        "end",
        "final_mode",
        "reasons",
        "ids",
        "routes",
        "ports",
        "unmapped_buses",
        "modes",
        "events",
        "transmitted",
        "timeline",
    ];
    let mut sorted_documented = documented.to_vec();
    sorted_documented.sort_unstable();
    assert_eq!(keys, sorted_documented, "serde_json sorts keys; the set of fields is the documented one");
    let text = String::from_utf8(out.json.clone()).expect("UTF-8");
    let positions: Vec<usize> =
        documented.iter().map(|k| text.find(&format!("\n  \"{k}\":")).unwrap_or_else(|| panic!("no {k}"))).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "fields out of the documented order");

    assert_eq!(r["schema"], "bulkhead-replay-report/1");
    assert_eq!(r["rules"], "bulkhead reference vehicle");
    let (frames, forwarded, dropped, unmapped) =
        (u64_of(&r, "frames"), u64_of(&r, "forwarded"), u64_of(&r, "dropped"), u64_of(&r, "unmapped"));
    assert_eq!(frames, forwarded + dropped + unmapped);
    assert_eq!(frames as usize, out.verdicts.iter().filter(|&&b| b == b'\n').count(), "one verdict line per frame");
    assert_eq!(unmapped, 7, "one frame a second on the unmapped bus");
    assert_eq!(r["unmapped_buses"][0]["bus"], EVIL_BUS);
    assert!(dropped > 4000, "the flood is dropped: {dropped}");
    assert!((r["start"].as_f64().unwrap_or(0.0) - 1.7e9).abs() < 1e-3);
    assert!(r["end"].as_f64() > r["start"].as_f64());

    // Drops by reason add up, most frequent first, with their layers.
    let reasons = r["reasons"].as_array().expect("reasons");
    assert_eq!(reasons.iter().map(|c| c["count"].as_u64().unwrap_or(0)).sum::<u64>(), dropped);
    assert!(reasons.windows(2).all(|w| w[0]["count"].as_u64() >= w[1]["count"].as_u64()));
    let reason_names: Vec<&str> = reasons.iter().filter_map(|c| c["reason"].as_str()).collect();
    for expected in ["ingress-budget", "too-fast", "cut-degraded"] {
        assert!(reason_names.contains(&expected), "no {expected} in {reason_names:?}");
    }
    assert!(reasons.iter().all(|c| c["layer"].is_string()));

    // Per id: sums match the totals, and messages are named from the DBCs.
    let ids = r["ids"].as_array().expect("ids");
    assert_eq!(ids.iter().map(|i| u64_of(i, "frames")).sum::<u64>(), forwarded + dropped);
    assert!(ids.iter().all(|i| u64_of(i, "frames") == u64_of(i, "forwarded") + u64_of(i, "dropped")));
    assert!(ids.iter().any(|i| i["port"] == "drive" && i["message"] == "VCU_Speed"));
    let flood = ids.iter().find(|i| i["port"] == "infotainment" && i["id"] == 0).expect("the flood id");
    assert_eq!(u64_of(flood, "frames"), 4000);
    assert_eq!(flood["message"], Value::Null);

    // Ports and routes.
    let ports = r["ports"].as_array().expect("ports");
    assert_eq!(ports.iter().map(|p| u64_of(p, "received")).sum::<u64>(), forwarded + dropped);
    assert!(
        r["routes"]
            .as_array()
            .expect("routes")
            .iter()
            .any(|x| x["name"] == "speed-to-body" && u64_of(x, "forwarded") > 0)
    );

    // Modes: the flood degrades, quiet recovers, the injection degrades again.
    let modes: Vec<(&str, &str, &str)> = r["modes"]
        .as_array()
        .expect("modes")
        .iter()
        .map(|m| (m["from"].as_str().unwrap_or(""), m["to"].as_str().unwrap_or(""), m["cause"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        modes,
        [
            ("normal", "degraded", "trigger infotainment-flood"),
            ("degraded", "normal", "recovered: quiet period over"),
            ("normal", "degraded", "trigger drive-injection"),
        ]
    );
    assert_eq!(r["final_mode"], "degraded");
    let times: Vec<f64> = r["modes"].as_array().expect("modes").iter().filter_map(|m| m["t"].as_f64()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "modes in time order");

    // Events.
    let events = &r["events"];
    assert!(u64_of(events, "total") > 0);
    assert!(events["by_kind"].as_object().is_some_and(|k| k.contains_key("mode-changed")), "{}", events["by_kind"]);
    assert!(!events["top"].as_array().expect("top").is_empty());
    assert!(!events["first"].as_array().expect("first").is_empty());

    // Timeline: equal lengths, at most 256 bins, sums match.
    let tl = &r["timeline"];
    let bins = tl["forwarded"].as_array().expect("bins").len();
    assert!(bins > 0 && bins <= 256, "{bins} bins");
    assert_eq!(tl["dropped"].as_array().map(Vec::len), Some(bins));
    assert_eq!(sum_of(tl, "forwarded"), forwarded);
    assert_eq!(sum_of(tl, "dropped"), dropped);
    let by_reason = tl["by_reason"].as_object().expect("by_reason");
    let per_reason: u64 =
        by_reason.values().map(|s| s.as_array().map_or(0, |a| a.iter().filter_map(Value::as_u64).sum())).sum();
    assert_eq!(per_reason, dropped);
    let series = tl["ids"].as_array().expect("series");
    assert!(!series.is_empty() && series.len() <= 40);
    assert!(series.iter().all(|s| s["forwarded"].as_array().map(Vec::len) == Some(bins)));
    let bin_seconds = tl["bin_seconds"].as_f64().expect("bin_seconds");
    assert!(bin_seconds * bins as f64 >= 6.99, "the bins cover the capture");
}

#[test]
fn two_runs_give_the_same_bytes() {
    let (dir, capture) = write_capture("replay-report-determinism");
    let first_dir = dir.join("first");
    let second_dir = dir.join("second");
    for d in [&first_dir, &second_dir] {
        std::fs::create_dir_all(d).expect("create dir");
    }
    let first = run(&capture, &first_dir);
    let second = run(&capture, &second_dir);
    assert!(!first.verdicts.is_empty() && !first.json.is_empty() && !first.html.is_empty());
    assert!(first.verdicts == second.verdicts, "verdicts differ between runs");
    assert!(first.json == second.json, "JSON reports differ between runs");
    assert!(first.html == second.html, "HTML reports differ between runs");
}

#[test]
fn the_html_report_escapes_the_capture_bus_name() {
    let (dir, capture) = write_capture("replay-report-escape");
    let out = run(&capture, &dir);
    let html = String::from_utf8(out.html).expect("UTF-8");
    assert!(!html.contains(EVIL_BUS), "the bus name's markup reached the page");
    assert!(html.contains("&lt;img/src=x&gt;"));
}
