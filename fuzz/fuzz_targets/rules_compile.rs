//! Fuzzes the rule compiler: arbitrary bytes, lossily decoded like a rule file
//! read from disk, compiled against the embedded reference DBC files. It must
//! never panic or hang; every diagnostic must point at a line that exists in
//! the file it names (the rule file or one of the reference DBC files); and
//! rules it accepts must be usable: an engine built on them (which relies on
//! the compiler's SecOC checks) decides a frame of every slot and runs its
//! timers without panicking.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulkhead::diagnostic::Diagnostic;
use bulkhead::engine::{Engine, TIMER_TICK};
use bulkhead::frame::{FdFlags, Frame};
use bulkhead::rules::source::RuleSource;
use bulkhead::rules::{CompileOptions, CompiledRules, Medium, REFERENCE_DBCS, compile_sources};
use bulkhead::time::Timestamp;
use libfuzzer_sys::fuzz_target;

const RULE_FILE: &str = "rules/fuzz.toml";

fn line_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count() + 1
}

/// The lines of the file a diagnostic names, or `None` for a file that is
/// neither the rule file nor a reference DBC (one the input named on disk).
fn lines_of(file: &str, rule_text: &str) -> Option<usize> {
    if file == RULE_FILE {
        return Some(line_count(rule_text.as_bytes()));
    }
    REFERENCE_DBCS.iter().find(|(path, _)| *path == file).map(|(_, bytes)| line_count(bytes))
}

fn check_diagnostic(d: &Diagnostic, rule_text: &str) {
    let rendered = d.to_string();
    assert!(!d.message.is_empty(), "empty message: {rendered}");
    assert!(d.location.line >= 1, "line 0: {rendered}");
    assert!(d.location.column >= 1, "column 0: {rendered}");
    let lines = match lines_of(&d.location.file, rule_text) {
        Some(lines) => lines,
        // A DBC file the input named on disk: its own line count.
        None => match std::fs::read(&*d.location.file) {
            Ok(bytes) => line_count(&bytes),
            Err(_) => panic!("diagnostic in an unknown file: {rendered}"),
        },
    };
    assert!(d.location.line as usize <= lines, "line {} of {lines}: {rendered}", d.location.line);
}

/// A frame of every slot on its port, fed to an engine built on the rules,
/// with the timers running in between.
fn exercise(rules: CompiledRules, payload: &[u8]) {
    let rules = Arc::new(rules);
    let mut engine = Engine::new(Arc::clone(&rules));
    let mut now = Timestamp::ZERO;
    for slot in &rules.slots {
        let Some(port) = rules.ports.get(slot.port.0 as usize) else {
            panic!("slot {:?} on port {} of {}", slot.id, slot.port.0, rules.ports.len());
        };
        let frame = match port.medium {
            Medium::Can => Frame::classic(slot.id, payload.get(..8).unwrap_or(payload)),
            Medium::CanFd | Medium::Ethernet => Frame::fd(slot.id, &fd_payload(payload), FdFlags::default()),
        };
        if let Ok(frame) = frame {
            now = now.saturating_add(TIMER_TICK);
            let _ = engine.on_frame(now, slot.port, &frame);
            engine.on_timer(now);
            while engine.poll_event().is_some() {}
            while engine.poll_transmit().is_some() {}
        }
    }
    let _ = engine.counters();
}

/// Up to 64 bytes, padded to the next valid CAN FD length.
fn fd_payload(payload: &[u8]) -> Vec<u8> {
    let mut bytes = payload.get(..64).unwrap_or(payload).to_vec();
    let len = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64].into_iter().find(|&l| l >= bytes.len());
    bytes.resize(len.unwrap_or(64), 0);
    bytes
}

fuzz_target!(|data: &[u8]| {
    let text = bulkhead::diagnostic::decode_lossy(data);
    let source = RuleSource::new(RULE_FILE, Path::new("rules"), text.clone());
    let options = CompileOptions {
        virtual_files: REFERENCE_DBCS.iter().map(|(p, b)| (PathBuf::from(p), Arc::from(*b))).collect(),
        ..CompileOptions::default()
    };
    let compilation = compile_sources(vec![source], options);
    for d in &compilation.diagnostics {
        check_diagnostic(d, &text);
    }
    let errors = compilation.diagnostics.iter().filter(|d| d.is_error()).count();
    match compilation.rules {
        Some(rules) => {
            assert_eq!(errors, 0, "rules compiled despite errors");
            exercise(rules, data);
        }
        None => assert!(errors > 0, "no rules and no error"),
    }
});
