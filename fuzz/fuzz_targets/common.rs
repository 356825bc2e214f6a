//! The check every log-reader fuzz target runs.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use bulkhead::logs::{FrameReader, LogFormat, LogRecord, ReadOptions, from_reader};

fn read(format: LogFormat, data: &[u8], lenient: bool) -> Option<(Vec<LogRecord>, u64, usize)> {
    let input = Box::new(Cursor::new(data.to_vec()));
    let mut reader: Box<dyn FrameReader> = match from_reader(input, Arc::from("fuzz"), format, ReadOptions { lenient }) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = e.to_string();
            return None;
        }
    };
    let mut records = Vec::new();
    let mut errors = 0;
    #[allow(clippy::while_let_on_iterator)]
    while let Some(item) = reader.next() {
        match item {
            Ok(record) => {
                // Every accessor of a checked frame must be safe to call.
                let frame = record.frame;
                let _ = (frame.kind(), frame.data(), frame.dlc(), frame.fd_flags(), frame.to_string());
                let _ = reader.buses().name(record.bus);
                records.push(record);
            }
            Err(e) => {
                let _ = e.to_string();
                errors += 1;
            }
        }
    }
    Some((records, reader.skipped(), errors))
}

/// Reads `data` as `format` strictly and leniently and compares the two.
pub fn check(format: LogFormat, data: &[u8]) {
    let _ = LogFormat::detect(data, Path::new("fuzz.log"));
    let Some((strict, strict_skipped, _)) = read(format, data, false) else { return };
    let Some((lenient, _, lenient_errors)) = read(format, data, true) else { return };
    assert_eq!(strict_skipped, 0, "strict mode never skips");
    if format != LogFormat::Blf {
        // Text formats: lenient reading keeps exactly the valid lines. (BLF
        // stops at a broken structure in both modes, so the same holds, but
        // an I/O-free structural error is yielded even when lenient.)
        assert_eq!(lenient_errors, 0, "lenient text readers yield no errors");
    }
    assert_eq!(strict, lenient, "lenient mode keeps the records strict mode yields");
}
