//! Rule files that once broke the rule compiler, found while fuzzing it
//! (`fuzz/fuzz_targets/rules_compile.rs`, and probing its numeric keys by
//! hand): each must now compile to exactly one error, at the offending value,
//! instead of panicking or silently dropping a check.
//!
//! - A time in milliseconds too large for a `Duration` (`1e300`) panicked in
//!   `Duration::from_secs_f64`, at every key that takes one: `max_age_ms`,
//!   `resync_ms`, `min_interval_ms`, `period_ms`, `mia_ms`, `window_ms`,
//!   `recovery_quiet_ms`, and `mia_cycles` (multiplied by a DBC cycle time).
//! - A signal bound `min = nan` or `max = nan` was accepted, and a NaN bound
//!   compares false with every value: the check it asked for did nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulkhead::diagnostic::Diagnostic;
use bulkhead::rules::source::RuleSource;
use bulkhead::rules::{CompileOptions, REFERENCE_DBCS, compile_sources};

const HEADER: &str = r#"version = 1
[zones.car]
trust = "trusted"
[zones.ivi]
trust = "hostile"
[ports.body]
medium = "can"
zone = "car"
dbc = ["../dbc/body.dbc"]
[ports.infotainment]
medium = "ethernet"
zone = "ivi"
dbc = ["../dbc/body.dbc"]
"#;

/// Compiles `HEADER` + `extra` over the reference DBC files.
fn compile(extra: &str) -> (bool, Vec<Diagnostic>) {
    let source = RuleSource::new("rules/test.toml", Path::new("rules"), format!("{HEADER}{extra}"));
    let options = CompileOptions {
        virtual_files: REFERENCE_DBCS.iter().map(|(p, b)| (PathBuf::from(p), Arc::from(*b))).collect(),
        ..CompileOptions::default()
    };
    let compilation = compile_sources(vec![source], options);
    (compilation.rules.is_some(), compilation.diagnostics)
}

/// Asserts that `extra` compiles to exactly one error containing `message`,
/// on the line of `HEADER` + `extra` that holds `at`, at the column where `at` starts.
fn expect_error(extra: &str, message: &str, at: &str) {
    let (ok, diagnostics) = compile(extra);
    let rendered: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    assert!(!ok, "compiled although it should not:\n{extra}");
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "expected one error:\n{}", rendered.join("\n"));
    let error = errors[0];
    assert!(error.message.contains(message), "`{}` does not contain `{message}`", error.message);
    let full = format!("{HEADER}{extra}");
    let line = full.lines().position(|l| l.contains(at)).expect("`at` is in the file") + 1;
    assert_eq!(error.location.line as usize, line, "{error}");
    let column = error.location.line_text.find(at).expect("`at` is on the line") + 1;
    assert_eq!(error.location.column as usize, column, "{error}");
}

const LOCK_ROUTE: &str =
    "[[route]]\nname = \"lock\"\nfrom = \"infotainment\"\nmessage = \"BCM_LockCmd\"\nto = [\"body\"]\n";

#[test]
fn huge_times_are_errors_not_panics() {
    let too_long = "longer than any time a rule may give";
    expect_error(
        "[state.locked]\nport = \"body\"\nmessage = \"BCM_DoorStatus\"\nsignal = \"LockState\"\nmax_age_ms = 1e300\n",
        "`max_age_ms` is 1e300 ms, longer than any time a rule may give",
        "1e300",
    );
    expect_error(
        &format!("{LOCK_ROUTE}counter = {{ signal = \"BCM_LockCmd_Counter\", resync_ms = 1e300 }}\n"),
        too_long,
        "1e300",
    );
    expect_error(&format!("{LOCK_ROUTE}min_interval_ms = 1e300\n"), too_long, "1e300");
    expect_error(&format!("{LOCK_ROUTE}cycle = {{ period_ms = 1e300 }}\n"), "`period_ms` is 1e300 ms", "1e300");
    expect_error(&format!("{LOCK_ROUTE}cycle = {{ period_ms = 100, mia_ms = 1e300 }}\n"), "`mia_ms`", "1e300");
    expect_error("[modes]\nrecovery_quiet_ms = 1e300\n", "`recovery_quiet_ms`", "1e300");
    expect_error("[modes]\nisolate_after = { degradations = 3, window_ms = 2e12 }\n", "`window_ms` is 2e12 ms", "2e12");
    expect_error(
        "[[trigger]]\nname = \"f\"\nkind = \"flood\"\nport = \"infotainment\"\nframes = 10\nwindow_ms = 1e300\nenter = \"degraded\"\n",
        "`window_ms`",
        "1e300",
    );
}

#[test]
fn huge_mia_cycles_are_an_error_once_per_port() {
    // The body bus's DBC gives cycle times; `mia_cycles` multiplies them.
    let extra = "[ports.monitored]\nmedium = \"can\"\nzone = \"car\"\ndbc = [\"../dbc/body.dbc\"]\n\
                 monitor = { tolerance = 0.5, mia_cycles = 1e300 }\n";
    expect_error(extra, "`mia_cycles` times the", "1e300");
}

#[test]
fn the_longest_time_allowed_still_compiles() {
    let (ok, diagnostics) = compile(&format!("{LOCK_ROUTE}min_interval_ms = 1e12\n"));
    assert!(ok, "{diagnostics:?}");
}

#[test]
fn nan_bounds_are_errors() {
    let hvac = "[[route]]\nname = \"hvac\"\nfrom = \"infotainment\"\nmessage = \"HVAC_Cmd\"\nto = [\"body\"]\n";
    expect_error(
        &format!("{hvac}[route.signals.TargetTempDriver]\nmin = nan\n"),
        "`min` of `TargetTempDriver` is not a number",
        "nan",
    );
    expect_error(
        &format!("{hvac}[route.signals.FanSpeed]\nmax = -nan\n"),
        "`max` of `FanSpeed` is not a number",
        "-nan",
    );
}
