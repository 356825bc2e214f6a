//! The `bulkhead dbc` and `bulkhead decode` commands as a user runs them:
//! exit codes, summaries, errors with their location, and the JSON lines
//! format of `decode` (numbers, extended ids, errors for short frames).

use std::path::{Path, PathBuf};
use std::process::Command;

fn bulkhead() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
}

fn data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/data (the real-world test data) is absent");
        None
    }
}

fn dbc_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            dbc_files(&path, out);
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dbc")) {
            out.push(path);
        }
    }
}

#[test]
fn every_real_dbc_file_parses_from_the_command_line() {
    let Some(data) = data() else { return };
    let mut files = Vec::new();
    dbc_files(&data.join("dbc"), &mut files);
    files.sort();
    assert_eq!(files.len(), 229);
    let out = bulkhead().arg("dbc").args(&files).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.ends_with("229 file(s) parsed, 0 failed\n"), "{}", &stdout[stdout.len().saturating_sub(200)..]);
}

#[test]
fn a_broken_dbc_file_fails_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.dbc");
    let bad = dir.path().join("bad.dbc");
    std::fs::write(&good, "VERSION \"\"\nBU_: A\nBO_ 256 M: 8 A\n SG_ S : 0|8@1+ (1,0) [0|255] \"\" A\n").unwrap();
    std::fs::write(&bad, "VERSION \"\"\nBU_: A\nBO_ 256 M: 8 A\n SG_ S : 0|8@1+ (1,0) [0|255 \"\" A\n").unwrap();
    let out = bulkhead().arg("dbc").arg(&good).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("good.dbc: 1 messages, 1 signals"), "{stdout}");
    assert!(stdout.contains("1 file(s) parsed, 1 failed"), "{stdout}");
    assert!(stderr.contains("bad.dbc:4:"), "the error names file and line: {stderr}");
    assert!(stderr.contains("SG_ S : 0|8@1+ (1,0) [0|255 \"\" A"), "the offending line is shown: {stderr}");
}

#[test]
fn decode_writes_one_json_line_per_known_frame() {
    let dir = tempfile::tempdir().unwrap();
    let dbc = dir.path().join("car.dbc");
    std::fs::write(
        &dbc,
        "VERSION \"\"\nBU_: A\n\
         BO_ 608 STEER: 8 A\n SG_ TORQUE : 7|16@0- (1,0) [-32768|32767] \"\" A\n SG_ ANGLE : 23|16@0- (0.5,0) [0|0] \"deg\" A\n\
         BO_ 2566844672 J1939: 8 A\n SG_ V : 0|32@1- (1,0) [0|0] \"\" A\n\
         SIG_VALTYPE_ 2566844672 V : 1;\n",
    )
    .unwrap();
    let log = dir.path().join("log.log");
    std::fs::write(
        &log,
        "(46408.584930) can0 260#FFEE000300000000\n\
         (46408.584940) can0 123#00\n\
         (46408.584950) can1 18FEF100#0000C07F00000000\n\
         (46408.584960) can0 260#FF\n",
    )
    .unwrap();
    let out = bulkhead().args(["decode", "--dbc"]).arg(&dbc).arg(&log).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "the unknown id is skipped");
    assert_eq!(lines[0]["t"], 46408.58493);
    assert_eq!(lines[0]["bus"], "can0");
    assert_eq!(lines[0]["id"], 608);
    assert_eq!(lines[0]["msg"], "STEER");
    assert_eq!(lines[0]["signals"]["TORQUE"], -18);
    assert_eq!(lines[0]["signals"]["ANGLE"], 1.5);
    assert!(lines[0].get("ext").is_none());
    assert_eq!(lines[1]["ext"], true);
    assert_eq!(lines[1]["id"], 0x18FE_F100);
    assert_eq!(lines[1]["signals"]["V"], "NaN", "a float NaN is written as a string");
    assert!(
        lines[2]["error"].as_str().unwrap().contains("1"),
        "a short frame is an error for that frame: {}",
        lines[2]
    );
    assert!(lines[2].get("signals").is_none());

    // --bus filters, --format table is for people.
    let out = bulkhead()
        .args(["decode", "--bus", "can1", "--format", "table", "--dbc"])
        .arg(&dbc)
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("J1939") && text.contains("V=NaN"), "{text}");
}
