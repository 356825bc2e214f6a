//! The rule compiler reports every problem with file, line and column, and
//! the message a person needs: unknown names (with a suggestion), impossible
//! ranges, overlapping routes, unreachable rules, missing DBC files, bad
//! triggers. Each case is a small rule file over the reference DBC files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulkhead::diagnostic::{Diagnostic, Severity};
use bulkhead::rules::source::RuleSource;
use bulkhead::rules::{CompileOptions, REFERENCE_DBCS, compile_sources};

const HEADER: &str = r#"version = 1
[zones.car]
trust = "trusted"
[zones.ivi]
trust = "hostile"
[ports.drive]
medium = "can-fd"
zone = "car"
dbc = ["../dbc/drive.dbc"]
[ports.body]
medium = "can"
zone = "car"
dbc = ["../dbc/body.dbc"]
[ports.infotainment]
medium = "ethernet"
zone = "ivi"
dbc = ["../dbc/body.dbc", "../dbc/drive.dbc"]
[state.speed]
port = "drive"
message = "VCU_Speed"
signal = "VehicleSpeed"
max_age_ms = 100
"#;

fn compile(extra: &str) -> (bool, Vec<Diagnostic>) {
    let text = format!("{HEADER}{extra}");
    let source = RuleSource::new("rules/test.toml", Path::new("rules"), text);
    let options = CompileOptions {
        virtual_files: REFERENCE_DBCS.iter().map(|(p, b)| (PathBuf::from(p), Arc::from(*b))).collect(),
        ..CompileOptions::default()
    };
    let c = compile_sources(vec![source], options);
    (c.rules.is_some(), c.diagnostics)
}

/// The line of `needle` in the full text (1-based).
fn line_of(extra: &str, needle: &str) -> u32 {
    let full = format!("{HEADER}{extra}");
    full.lines().position(|l| l.contains(needle)).map(|i| i as u32 + 1).unwrap_or_else(|| panic!("{needle} not found"))
}

/// Asserts exactly one error, containing `message`, at the line holding `at`
/// and the column where `at` starts on it.
fn expect_error(extra: &str, message: &str, at: &str) -> Diagnostic {
    let (ok, diags) = compile(extra);
    assert!(!ok, "compiled although it should not:\n{extra}");
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "expected one error, got:\n{}", render(&diags));
    let e = errors[0].clone();
    assert!(e.message.contains(message), "`{}` does not contain `{message}`", e.message);
    let line = line_of(extra, at);
    assert_eq!(e.location.line, line, "line of `{at}` in:\n{e}");
    let col = e.location.line_text.find(at).map(|c| c as u32 + 1);
    assert_eq!(Some(e.location.column), col, "column of `{at}` in:\n{e}");
    assert_eq!(&*e.location.file, "rules/test.toml");
    e
}

fn render(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n\n")
}

#[test]
fn a_clean_file_compiles_without_diagnostics() {
    let (ok, diags) = compile(
        r#"
[[route]]
name = "speed"
from = "drive"
message = "VCU_Speed"
to = ["body"]
"#,
    );
    assert!(ok, "{}", render(&diags));
    assert!(diags.is_empty(), "{}", render(&diags));
}

#[test]
fn unknown_message_with_suggestion() {
    let e = expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"drive\"\nmessage = \"VCU_Sped\"\nto = [\"body\"]\n",
        "no DBC file of port `drive` defines a message `VCU_Sped`",
        "\"VCU_Sped\"",
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `VCU_Speed`?"));
    let text = e.to_string();
    assert!(text.contains("--> rules/test.toml:"), "{text}");
    assert!(text.contains("message = \"VCU_Sped\""), "the offending line is shown: {text}");
}

#[test]
fn unknown_signal_port_zone_and_state() {
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"drive\"\nmessage = \"VCU_Speed\"\nto = [\"body\"]\n[route.signals.Speed]\nmax = 3\n",
        "message `VCU_Speed` has no signal `Speed`",
        "Speed]",
    );
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"drvie\"\nmessage = \"VCU_Speed\"\n",
        "unknown port `drvie`",
        "\"drvie\"",
    );
    expect_error("[ports.x]\nmedium = \"can\"\nzone = \"nowhere\"\n", "unknown zone `nowhere`", "\"nowhere\"");
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nto = [\"body\"]\nwhen = \"sped < 3\"\n",
        "unknown name `sped`",
        "sped",
    );
}

#[test]
fn impossible_ranges() {
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"HVAC_Cmd\"\nto = [\"body\"]\n[route.signals.FanSpeed]\nmin = 5\nmax = 2\n",
        "impossible range for `FanSpeed`: min 5 is above max 2",
        "2",
    );
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"HVAC_Cmd\"\nto = [\"body\"]\n[route.signals.TargetTempDriver]\nmin = 40\n",
        "above its DBC maximum 30: no frame can pass",
        "40",
    );
    // Wider than the DBC: a warning, the DBC range still applies.
    let (ok, diags) = compile(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"HVAC_Cmd\"\nto = [\"body\"]\n[route.signals.TargetTempDriver]\nmax = 35\n",
    );
    assert!(ok);
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("above its DBC maximum 30, which still applies"), "{}", diags[0]);
}

#[test]
fn overlapping_routes() {
    let extra = r#"
[[route]]
name = "a"
from = "drive"
message = "VCU_Speed"
to = ["body"]

[[route]]
name = "b"
from = "drive"
ids = "0x100-0x1FF"
to = ["body", "infotainment"]
"#;
    let e = expect_error(extra, "routes `b` and `a` overlap: both forward 0x110 to the same port", "\"b\"");
    assert!(e.help.unwrap().contains("`a` is at rules/test.toml:"));
    // Disjoint destinations are fine.
    let (ok, diags) = compile(&extra.replace("to = [\"body\", \"infotainment\"]", "to = [\"infotainment\"]"));
    assert!(ok, "{}", render(&diags));
}

#[test]
fn unreachable_rules() {
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nto = [\"body\"]\nwhen = \"speed < 3 and speed > 5\"\n",
        "this condition can never be true, so the route is unreachable",
        "\"speed < 3 and",
    );
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nto = [\"body\"]\nkinds = [\"remote\"]\n",
        "drops every remote frame, so this never matches",
        "\"remote\"",
    );
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nto = [\"infotainment\"]\n",
        "sends frames back to their own port",
        "\"infotainment\"]",
    );
}

#[test]
fn hostile_sources_cannot_be_essential_or_feed_state() {
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nto = [\"body\"]\nessential = true\n",
        "comes from the hostile port `infotainment` and cannot be essential",
        "true",
    );
    expect_error(
        "[state.x]\nport = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nsignal = \"LockRequest\"\nmax_age_ms = 10\n",
        "reads the hostile port `infotainment`",
        "\"infotainment\"",
    );
}

#[test]
fn missing_dbc_file() {
    let (ok, diags) = compile("[ports.x]\nmedium = \"can\"\nzone = \"car\"\ndbc = [\"../dbc/missing.dbc\"]\n");
    assert!(!ok);
    let e = diags.iter().find(|d| d.is_error()).unwrap();
    assert!(e.message.contains("cannot use DBC file `rules/../dbc/missing.dbc`"), "{e}");
    assert_eq!(
        e.location.line,
        line_of("[ports.x]\nmedium = \"can\"\nzone = \"car\"\ndbc = [\"../dbc/missing.dbc\"]\n", "missing.dbc")
    );
}

#[test]
fn typos_in_keys_and_labels() {
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"drive\"\nmesage = \"VCU_Speed\"\n",
        "unknown field `mesage`",
        "mesage",
    );
    let e = expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nto = [\"body\"]\nwhen = \"LockRequest == 'OPEN'\"\n",
        "signal `LockRequest` has no value described as \"OPEN\"",
        "'OPEN'",
    );
    assert!(e.help.unwrap().contains("2 \"UNLOCK\""));
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"drive\"\nmessage = \"VCU_Speed\"\nchecksum = { signal = \"VCU_Speed_Checksum\", algorithm = \"crc16\" }\n",
        "unknown checksum algorithm `crc16`",
        "\"crc16\"",
    );
    expect_error(
        "[[route]]\nname = \"r\"\nfrom = \"drive\"\nmessage = \"VCU_Speed\"\nchecksum = { signal = \"VehicleSpeed\", algorithm = \"xor8\" }\n",
        "must be one whole byte",
        "\"VehicleSpeed\", algorithm",
    );
}

#[test]
fn conflicting_message_checks_and_duplicates() {
    let extra = r#"
[[route]]
name = "a"
from = "drive"
message = "VCU_Speed"
to = ["body"]
counter = { signal = "VCU_Speed_Counter" }

[[route]]
name = "b"
from = "drive"
message = "VCU_Speed"
to = ["infotainment"]
counter = { signal = "VCU_Speed_Counter", max_step = 2 }
"#;
    expect_error(
        extra,
        "declares a different counter check for the message than route `a`",
        "\"VCU_Speed_Counter\", max_step",
    );
    let twice = "[[route]]\nname = \"r\"\nfrom = \"drive\"\nmessage = \"VCU_Speed\"\n[[route]]\nname = \"r\"\nfrom = \"drive\"\nmessage = \"VCU_Gear\"\n";
    let (ok, diags) = compile(twice);
    assert!(!ok);
    let e = diags.iter().find(|d| d.is_error()).unwrap();
    assert!(e.message.contains("route `r` is defined twice"), "{e}");
    assert_eq!((e.location.line, e.location.column), (line_of(twice, "VCU_Gear") - 2, 8), "the second definition: {e}");
    assert!(e.help.as_deref().unwrap().contains("the first definition is at rules/test.toml:"));
}

#[test]
fn bad_triggers() {
    expect_error(
        "[[trigger]]\nname = \"t\"\nkind = \"flood\"\nenter = \"degraded\"\n",
        "a `flood` trigger needs `port`",
        "\"flood\"",
    );
    expect_error(
        "[[trigger]]\nname = \"t\"\nkind = \"fault\"\nfault = \"integrity\"\nenter = \"isolated\"\nrecovery = \"auto\"\n",
        "isolated mode is only left by an authenticated command",
        "\"auto\"",
    );
    expect_error(
        "[[trigger]]\nname = \"t\"\nkind = \"drops\"\ncount = 5\nwindow_ms = 100\nlayer = \"rate\"\nreason = \"checksum\"\nenter = \"degraded\"\n",
        "reason `checksum` belongs to layer `content`, not `rate`",
        "\"checksum\"",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let (ok, diags) = compile(
        "[[route]]\nname = \"a\"\nfrom = \"nope\"\nmessage = \"X\"\n[[route]]\nname = \"b\"\nfrom = \"drive\"\nmessage = \"Y\"\n[[trigger]]\nname = \"t\"\nkind = \"what\"\nenter = \"degraded\"\n",
    );
    assert!(!ok);
    assert_eq!(diags.iter().filter(|d| d.is_error()).count(), 3, "{}", render(&diags));
    let lines: Vec<u32> = diags.iter().map(|d| d.location.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted, "diagnostics come sorted by position");
}
