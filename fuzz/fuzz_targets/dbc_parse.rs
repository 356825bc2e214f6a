//! Fuzzes the DBC parser with arbitrary bytes: it must never panic, hang or
//! blow up, and every diagnostic must point at a line and column of the input.

#![no_main]

use bulkhead::dbc::{self, DbcError};
use bulkhead::diagnostic::Diagnostic;
use libfuzzer_sys::fuzz_target;

fn check(data: &[u8], diagnostics: &[Diagnostic]) {
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    for d in diagnostics {
        assert!(d.location.line >= 1 && d.location.line as usize <= lines, "line {} of {lines}: {d}", d.location.line);
        assert!(d.location.column >= 1, "{d}");
        let _ = d.to_string();
    }
}

fuzz_target!(|data: &[u8]| {
    match dbc::parse("fuzz.dbc", data) {
        Ok(dbc) => {
            check(data, &dbc.warnings);
            for message in &dbc.messages {
                assert!(message.size <= 64);
                for signal in &message.signals {
                    assert!((1..=64).contains(&signal.size));
                }
            }
        }
        Err(DbcError::Invalid { errors, warnings, .. }) => {
            assert!(!errors.is_empty());
            check(data, &errors);
            check(data, &warnings);
        }
        Err(e) => panic!("unexpected error kind: {e}"),
    }
});
