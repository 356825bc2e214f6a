//! `bulkhead learn` as a user runs it: the file it writes passes
//! `bulkhead check`, the same capture gives the same file byte for byte, and
//! mistakes in the command line are reported with what to do.

mod learn_support;

use std::path::Path;
use std::process::{Command, Output};

use learn_support::{shared, temp_dir};

fn bulkhead(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulkhead")).args(args).output().expect("runs bulkhead")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn learned_rules_pass_check_and_are_deterministic() {
    let (Some(capture), Some(pt), Some(adas)) = (
        shared("logs/toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log"),
        shared("dbc/opendbc/generated/toyota_new_mc_pt_generated.dbc"),
        shared("dbc/opendbc/current/toyota_adas.dbc"),
    ) else {
        return;
    };
    let dir = temp_dir("learn-cli");
    let (a, b) = (dir.join("a.toml"), dir.join("b.toml"));
    let bus_dbc = |bus: &str, file: &Path| format!("{bus}={}", file.display());
    let (c0, c1, c128, c129) =
        (bus_dbc("can0", &pt), bus_dbc("can1", &adas), bus_dbc("can128", &pt), bus_dbc("can129", &pt));
    for out in [&a, &b] {
        let o = bulkhead(&[
            "learn",
            "--bus-dbc",
            &c0,
            "--bus-dbc",
            &c1,
            "--bus-dbc",
            &c128,
            "--bus-dbc",
            &c129,
            "-o",
            out.to_str().unwrap(),
            capture.to_str().unwrap(),
        ]);
        let err = text(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(err.contains("175 routes") && err.contains("135468 frames, 0 dropped"), "{err}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "same capture, same file");
    let o = bulkhead(&["check", a.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("ok (4 ports, 175 routes"), "{}", text(&o.stdout));
}

#[test]
fn command_line_mistakes_say_what_to_do() {
    let dir = temp_dir("learn-cli-errors");
    let log = dir.join("tiny.log");
    let lines: String = (0..20).map(|i| format!("(1.{:06}) vcan0 123#0102\n", i * 10_000)).collect();
    std::fs::write(&log, lines).unwrap();
    let out = dir.join("r.toml");
    let (log, out) = (log.to_str().unwrap(), out.to_str().unwrap());

    let o = bulkhead(&["learn", "-o", out, "--hostile", "can9", log]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("--hostile can9: the captures have no bus `can9` (buses: vcan0)"),
        "{}",
        text(&o.stderr)
    );

    let o = bulkhead(&["learn", "-o", out, "--bus-dbc", "vcan0", log]);
    assert!(text(&o.stderr).contains("--bus-dbc vcan0: expected BUS=VALUE"), "{}", text(&o.stderr));

    let o = bulkhead(&["learn", "-o", out, "-"]);
    assert!(text(&o.stderr).contains("not standard input"), "{}", text(&o.stderr));

    // A bus without DBC: the id is allowed with its length and its cycle.
    let o = bulkhead(&["learn", "-o", out, log]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rules = std::fs::read_to_string(out).unwrap();
    assert!(rules.contains("id = 0x123\nlengths = [2]\ncycle = { period_ms = 10"), "{rules}");
}
