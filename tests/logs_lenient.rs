//! Strict and lenient reading of malformed input, for every text format:
//! strict mode yields an error naming file, line and column and showing the
//! line, then reads on; lenient mode skips and counts the same lines and keeps
//! every valid line around them. I/O errors end the reading in both modes.

mod logs_support;

use std::io::{BufReader, Read};
use std::sync::Arc;

use bulkhead::logs::{LogError, LogFormat, ReadOptions, from_reader};
use logs_support::read_text;

/// (line, column) of the two errors of a case.
type Positions = [(u32, u32); 2];

/// (format, text with two bad lines, frames expected, where the errors are)
const CASES: &[(LogFormat, &str, usize, Positions)] = &[
    (
        LogFormat::Candump,
        "(1.0) can0 123#00\n(1.1) can0 12#00\n(1.2) can0 123#01\n(1.3) can0 123#0G\n(1.4) can0 7FF#\n",
        3,
        [(2, 12), (4, 17)],
    ),
    (
        LogFormat::Asc,
        "base hex timestamps absolute\n1.0 1 123 Rx d 1 00\n1.1 1 123 Rx d 2 00\n1.2 1 123 Rx d 0\nnonsense\n",
        2,
        [(3, 17), (5, 1)],
    ),
    (
        LogFormat::Trc,
        ";$FILEVERSION=1.1\n1) 1.0 Rx 0123 1 00\n2) 1.0 Rx 0123 1 0\n3) 1.0 Rx 0123 0\n4) x Rx 0123 0\n",
        2,
        [(3, 18), (5, 4)],
    ),
    (
        LogFormat::GvretCsv,
        "Time Stamp,ID,Extended,Bus,LEN,D1\n1,123,false,0,1,00\n2,123,maybe,0,0\n3,123,false,0,0\n4,123,false,0,1,XY\n",
        2,
        [(3, 7), (5, 17)],
    ),
    (LogFormat::Crtd, "1.0 R11 123 00\n1.1 R11 123 0\n1.2 R11 123\n1.3 Q11 123\n", 2, [(2, 13), (4, 5)]),
    (
        LogFormat::BusMaster,
        "***ABSOLUTE MODE***\n0:0:0:1 Rx 1 0x123 s 1 00\n0:0:0:2 Rx 1 0x123 q 0\n0:0:0:3 Rx 1 0x123 s 0\nx Rx 1 0x123 s 0\n",
        2,
        [(3, 20), (5, 1)],
    ),
    (
        LogFormat::Microchip,
        "1;RX;0x123;1;0x00;\n2;RX;0x123;2;0x00;\n3;RX;0x123;0;\n4;QX;0x123;0;\n",
        2,
        [(2, 19), (4, 3)],
    ),
    (LogFormat::GenericCsv, "ID,Data Bytes\n123,00\n123\n123,01 02\nXYZ,00\n", 2, [(3, 4), (5, 1)]),
];

#[test]
fn strict_errors_point_at_line_and_column_and_show_the_line() {
    for (format, text, frames, positions) in CASES {
        let out = read_text(*format, text, false);
        assert_eq!(out.shown.len(), *frames, "{format}: frames around the bad lines are kept");
        assert_eq!(
            out.errors.len(),
            2,
            "{format}: {:?}",
            out.errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        for (error, (line, column)) in out.errors.iter().zip(positions) {
            let (location, shown) = match error {
                LogError::Malformed { location, .. } | LogError::InvalidFrame { location, .. } => {
                    (location, error.to_string())
                }
                other => panic!("{format}: unexpected {other}"),
            };
            assert_eq!((location.line, location.column), (*line, *column), "{format}: {shown}");
            let text_line = text.lines().nth(*line as usize - 1).expect("line");
            assert_eq!(location.line_text, text_line, "{format}");
            assert!(shown.starts_with(&format!("test:{line}:{column}: ")), "{format}: {shown}");
            assert!(shown.ends_with(&format!("\n    {text_line}")), "{format}: {shown}");
        }
        assert_eq!(out.skipped, 0, "{format}: strict mode skips nothing");
    }
}

#[test]
fn lenient_mode_skips_and_counts() {
    for (format, text, frames, _) in CASES {
        let strict = read_text(*format, text, false);
        let lenient = read_text(*format, text, true);
        assert!(lenient.errors.is_empty(), "{format}");
        assert_eq!(lenient.skipped, 2, "{format}");
        assert_eq!(lenient.shown, strict.shown, "{format}");
        assert_eq!(lenient.shown.len(), *frames);
    }
}

#[test]
fn carbus_lines_end_in_carriage_returns() {
    let text = "@ TEXT @ 3 @ 64 @ 0 @ 2 @ 0 @ 00:00:00.000 @\r1,5\t1\t0004\t123\t1\t00\t0\t.\t\r2,5\t1\t0004\t123\t1\tZZ\t0\t.\t\r";
    let strict = read_text(LogFormat::CarBus, text, false);
    assert_eq!(strict.shown, ["1.000005000 1 classic 123#00 -"]);
    let error = strict.errors[0].to_string();
    assert!(error.starts_with("test:3:"), "{error}");
    assert_eq!(read_text(LogFormat::CarBus, text, true).skipped, 1);
}

/// Gives `good` then fails.
struct Failing {
    good: std::io::Cursor<Vec<u8>>,
}

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.good.read(buf)? {
            0 => Err(std::io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

#[test]
fn io_errors_end_the_reading_even_when_lenient() {
    for lenient in [false, true] {
        let input = Failing { good: std::io::Cursor::new(b"(1.0) can0 123#00\n(1.1) can0 123#01\n".to_vec()) };
        let input = Box::new(BufReader::with_capacity(16, input));
        let mut reader = from_reader(input, Arc::from("f.log"), LogFormat::Candump, ReadOptions { lenient }).unwrap();
        assert!(reader.next().unwrap().is_ok());
        assert!(reader.next().unwrap().is_ok());
        let err = reader.next().unwrap().unwrap_err();
        assert!(matches!(err, LogError::Io { .. }), "{err}");
        assert_eq!(err.to_string(), "f.log: disk on fire");
        assert!(reader.next().is_none());
    }
}
