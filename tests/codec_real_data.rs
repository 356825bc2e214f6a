//! The codec against cantools on real DBC files and real captures: cantools
//! loads the files (our parser is written elsewhere), we build our model from
//! what it loaded, and both decode the same payloads.
//!
//! Needs `../shared/data` (skipped with a message when absent) and the
//! project's `.venv` (`scripts/setup-oracles`).

mod codec_support;

use bulkhead::codec::CodecTable;
use codec_support::{Comparison, compare, dbc_from_oracle, run_oracle, shared_data};
use serde_json::Value;

/// Our tables for the DBCs the oracle loaded (`None` for those cantools could not load).
fn tables(oracle: &Value) -> Vec<Option<CodecTable>> {
    oracle["dbcs"]
        .as_array()
        .expect("dbcs")
        .iter()
        .map(|d| dbc_from_oracle(d).map(|dbc| CodecTable::new([&dbc])))
        .collect()
}

fn assert_agrees(what: &str, result: &Comparison) {
    eprintln!("{what}: {result:?}", result = Summary(result));
    assert!(
        result.mismatches.is_empty(),
        "{what}: {} disagreements with cantools, first ones:\n{}",
        result.mismatches.len(),
        result.mismatches.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The counts of a comparison, without the (empty) mismatch list.
struct Summary<'a>(&'a Comparison);

impl std::fmt::Debug for Summary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.0;
        write!(
            f,
            "{} frames agree ({} signal values, {} descriptions), {} too short for both, \
             {} refused by cantools only, {} signals cantools cannot decode, {} of messages whose layout we refuse",
            c.agreed, c.signals, c.descriptions, c.both_too_short, c.oracle_refused, c.oracle_blind, c.layout_refused
        )
    }
}

#[test]
fn real_captures_decode_like_cantools() {
    let Some(data) = shared_data("real_captures_decode_like_cantools") else { return };
    let dbc = |path: &str| data.join("dbc").join(path).display().to_string();
    let log = |path: &str| data.join("logs").join(path).display().to_string();
    let toyota_pt = dbc("opendbc/generated/toyota_new_mc_pt_generated.dbc");
    let toyota_adas = dbc("opendbc/current/toyota_adas.dbc");
    let captures = [
        (
            log("toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log"),
            vec![
                ("can0", toyota_pt.clone()),
                ("can128", toyota_pt.clone()),
                ("can1", toyota_adas.clone()),
                ("can129", toyota_adas),
            ],
        ),
        (
            log("hyundai_kona_ev/candump_converted/230112-7-2019-pcan-ccan-power-off-on-ready-off.log"),
            vec![("can0", dbc("kona-ev/pcan.dbc")), ("can1", dbc("kona-ev/ccan.dbc"))],
        ),
        (
            log("hyundai_kona_ev/candump_converted/221217-1-2021-pcan-bcan-no-key.log"),
            vec![("can0", dbc("kona-ev/pcan.dbc")), ("can1", dbc("kona-ev/bcan.dbc"))],
        ),
        (
            log("hyundai_kona_ev/candump_converted/250105-1-2020-comp-can-heating.log"),
            vec![("can0", dbc("kona-ev/comp_can.dbc"))],
        ),
        (
            log("toyota86_motec/can_sample.log"),
            vec![("can0", data.join("logs/toyota86_motec/sample_can_spec.dbc").display().to_string())],
        ),
    ];
    let mut decoded = 0;
    for (capture, buses) in &captures {
        let mut args = vec!["log".to_owned(), "12000".to_owned(), capture.clone()];
        args.extend(buses.iter().map(|(bus, dbc)| format!("{bus}={dbc}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let oracle = run_oracle(&args, None);
        for entry in oracle["dbcs"].as_array().expect("dbcs") {
            assert!(entry.get("error").is_none(), "cantools could not load {}: {}", entry["path"], entry["error"]);
        }
        let result = compare(&oracle, &tables(&oracle));
        assert_agrees(capture, &result);
        assert_eq!(result.layout_refused, 0, "{capture}: frames of messages we refuse");
        decoded += result.agreed;
    }
    assert!(decoded > 40_000, "only {decoded} frames compared");
}

#[test]
fn every_dbc_of_the_corpus_decodes_like_cantools() {
    let Some(data) = shared_data("every_dbc_of_the_corpus_decodes_like_cantools") else { return };
    let mut paths = Vec::new();
    collect_dbc_files(&data.join("dbc"), &mut paths);
    paths.sort();
    assert!(paths.len() > 100, "expected the DBC corpus, found {} files", paths.len());
    let mut args = vec!["random".to_owned(), "20240611".to_owned(), "3".to_owned()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let oracle = run_oracle(&args, None);
    let tables = tables(&oracle);
    let loaded = tables.iter().flatten().count();
    let mut refused = Vec::new();
    for table in tables.iter().flatten() {
        for invalid in table.invalid() {
            refused.push(invalid.to_string());
        }
    }
    eprintln!("cantools loaded {loaded} of {} DBC files; we refuse {} messages:", paths.len(), refused.len());
    for line in &refused {
        eprintln!("  {line}");
    }
    let result = compare(&oracle, &tables);
    assert_agrees("DBC corpus, random payloads", &result);
    assert!(loaded > 100 && result.agreed > 5_000, "too little compared: {loaded} files, {} frames", result.agreed);
}

fn collect_dbc_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_dbc_files(&path, out);
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dbc")) {
            out.push(path);
        }
    }
}
