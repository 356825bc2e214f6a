//! Every line variant of cantools' log-reader tests
//! (`candump_variants/format_variants_from_cantools_test_logreader.txt`), read
//! with our readers: the exact frame for each valid line, a precise error for
//! each invalid one (and the same frames, with the errors skipped and counted,
//! in lenient mode).
//!
//! Decisions where cantools is laxer (see `bulkhead::logs::candump`):
//! `[10]` is a two-digit (CAN FD) length that no FD frame has, `064#F001...`
//! (10 bytes) is too long for classic CAN, and `vcan0 ERROR` has no frame.
//! The PEAK TRC variants are read by the TRC reader; the one-line ones get the
//! `$FILEVERSION` (and `$COLUMNS`) header their column layout belongs to.

mod logs_support;

use bulkhead::logs::LogFormat;
use logs_support::{logs_dir, read_text};

/// What a block must give.
struct Expect {
    format: LogFormat,
    /// Header lines put in front of a one-line TRC variant.
    header: &'static str,
    frames: &'static [&'static str],
    /// (line in the block, column, part of the message), in order.
    errors: &'static [(u32, u32, &'static str)],
    non_frames: u64,
}

const fn candump(frames: &'static [&'static str]) -> Expect {
    Expect { format: LogFormat::Candump, header: "", frames, errors: &[], non_frames: 0 }
}

const fn trc(header: &'static str, frames: &'static [&'static str], non_frames: u64) -> Expect {
    Expect { format: LogFormat::Trc, header, frames, errors: &[], non_frames }
}

const V1_1: &str = ";$FILEVERSION=1.1\n";
const V1_2: &str = ";$FILEVERSION=1.2\n";
const V1_3: &str = ";$FILEVERSION=1.3\n";
const V2_0: &str = ";$FILEVERSION=2.0\n;$COLUMNS=N,O,T,I,d,l,D\n";
const V2_1: &str = ";$FILEVERSION=2.1\n;$COLUMNS=N,O,T,B,I,d,R,L,D\n";

fn expected(label: u32) -> Expect {
    const TEN_BYTES: &str = "10 is not a CAN FD length";
    const NO_ID: &str = "expected a CAN id of 3 (standard) or 8 (extended) hex digits, found `ERROR`";
    match label {
        25 => candump(&["- vcan0 error 00000004#0000000000000000 -"]),
        32 => candump(&["0.000000000 vcan0 error 00000004#0000000000000000 -"]),
        39 => candump(&["1608379485.485261000 vcan0 error 00000004#0000000000000000 -"]),
        47 => candump(&["- vcan0 classic 0C8#F000000000000000 -"]),
        55 => Expect { errors: &[(1, 16, TEN_BYTES)], ..candump(&[]) },
        63 => Expect { errors: &[(1, 10, NO_ID)], ..candump(&[]) },
        66 => candump(&["- vcan0 classic 1F4#01020304 -"]),
        74 => candump(&["- vcan0 classic 1F3#010203 -"]),
        82 => candump(&["- vcan0 classic 00000123#1234567890ABCDEF -"]),
        90 => candump(&["- vcan0 remote 00000123#R0 -"]),
        98 => candump(&["- vcan-0 classic 123#0001020304050607 -"]),
        103 => candump(&["- vcan.0 classic 123#0001020304050607 -"]),
        111 => candump(&["0.000000000 vcan0 classic 0C8#F000000000000000 -"]),
        120 => candump(&["2.047817000 vcan0 classic 064#F001FFFFFFFFFFFF -"]),
        130 => candump(&["12.831664000 vcan0 classic 1F4#01020304 -"]),
        140 => candump(&["15.679614000 vcan0 classic 1F3#010203 -"]),
        150 => candump(&["1613749650.388103000 can1 fd 0AD##0A6553BCF3F1AF52A -"]),
        182 => candump(&["0.000000000 vcan0 classic 00000123#1234567890ABCDEF -"]),
        192 => candump(&["15.052211000 vcan0 remote 00000123#R0 -"]),
        205 => candump(&["1579857014.345944000 can2 classic 486#82967A6B006B07F8 -"]),
        221 => candump(&[
            "1613656104.501098000 can3 fd 14C##155B53476F7B82EEEB8E97236AC252B8BBB5B80A6A7734B2F675C6D2CEEC869D3 -",
        ]),
        239 => candump(&["1780715436.846782000 vcan-0 classic 123#0001020304050607 -"]),
        251 => candump(&["1780715439.417805000 vcan.0 classic 123#0001020304050607 -"]),
        264 => candump(&["1752918539.271062000 vcan0 classic 00000123#1234567890ABCDEF -"]),
        297 => candump(&["1752923603.673608000 vcan0 remote 00000123#R0 -"]),
        345 => candump(&["1608379485.485261000 vcan0 classic 0C8#F000000000000000 -"]),
        361 => candump(&["1752925739.271062000 vcan0 classic 00000123#1234567890ABCDEF -"]),
        376 => candump(&["1752930803.673608000 vcan0 remote 00000123#R0 -"]),
        394 => candump(&["- can1 classic 123#3130302E3520464D -"]),
        406 => candump(&["1621271100.919019000 can1 classic 123#3130302E3520464D -"]),
        417 => candump(&["1608379485.485261000 can1 classic 123#3130302E3520464D -"]),
        436 => trc("", &["1.841000000 1 classic 001#F000000000000000 -"], 0),
        446 => trc("", &["1.844000000 1 remote 100#R3 -"], 0),
        459 => trc(V1_1, &["6.357200000 1 classic 401#F000000000000000 rx"], 0),
        469 => trc(V1_1, &["1.352700000 1 remote 100#R3 rx"], 0),
        482 | 505 => trc(if label == 482 { V1_2 } else { V1_3 }, &["6.357213000 1 classic 401#F000000000000000 rx"], 0),
        492 | 515 => trc(if label == 492 { V1_2 } else { V1_3 }, &["1.352743000 1 remote 100#R3 rx"], 0),
        528 => trc(V2_0, &["1.059900000 1 classic 300#00000000040000 rx"], 0),
        538 => trc(V2_0, &["1.336543000 1 remote 100#R3 rx"], 0),
        551 => trc(V2_1, &["1.059900000 1 classic 300#00000000040000 rx"], 0),
        561 => trc(V2_1, &["1.335156000 1 classic 18EFC034#0102030405060708 tx"], 0),
        571 => trc(V2_1, &["1.336543000 1 remote 100#R3 rx"], 0),
        583 => candump(&[
            "- vcan0 classic 0C8#F000000000000000 -",
            "- vcan0 error 00000004#0000000000000000 -",
            "- vcan0 classic 064#F001 -",
        ]),
        594 => Expect {
            errors: &[(2, 16, TEN_BYTES), (3, 10, NO_ID)],
            ..candump(&[
                "- vcan0 classic 0C8#F000000000000000 -",
                "- vcan0 classic 1F4#01020304 -",
                "- vcan0 classic 1F3#010203 -",
            ])
        },
        616 => candump(&[
            "1608379485.485261000 vcan0 classic 0C8#F000000000000000 -",
            "1608379488.597222000 vcan0 classic 064#F001FFFFFFFFFFFF -",
            "1608379496.805087000 vcan0 classic 1F4#01020304 -",
            "1608379499.085517000 vcan0 classic 1F3#010203 -",
        ]),
        636 => candump(&[
            "0.000000000 vcan0 classic 0C8#F000000000000000 -",
            "2.047817000 vcan0 classic 064#F001FFFFFFFFFFFF -",
            "12.831664000 vcan0 classic 1F4#01020304 -",
            "15.679614000 vcan0 classic 1F3#010203 -",
        ]),
        656 => candump(&[
            "1613656104.493702000 can2 fd 102##1150B7F0102010010000064A0020000100000000000E41F000000000090D1FF000020A600000000210100000000000000 -",
        ]),
        667 => Expect {
            errors: &[
                (2, 31, "a classic CAN frame carries at most 8 data bytes, got 10"),
                (3, 27, "expected a CAN id of 3 (standard) or 8 (extended) hex digits, found `ERROR`"),
            ],
            ..candump(&[
                "1594172461.968006000 vcan0 classic 0C8#F000000000000000 -",
                "1594172462.356874000 vcan0 classic 1F4#01020304 -",
                "1594172462.688432000 vcan0 classic 1F3#010203 -",
            ])
        },
        689 => trc(
            "",
            &[
                "1.841000000 1 classic 001#0000000000000000 -",
                "1.842000000 1 error 00000000# -",
                "1.844000000 1 remote 100#R3 -",
                "1.845000000 1 classic 300#0000000000000000 -",
            ],
            1,
        ),
        728 => trc(
            "",
            &[
                "1.059900000 1 classic 300#00000000040000 rx",
                "1.283200000 1 classic 300#00000000040000 rx",
                "1.298900000 1 classic 400#0000 tx",
                "1.323000000 1 classic 300#00000000060000 rx",
                "1.349200000 1 error 00000000# -",
                "1.352700000 1 remote 100#R3 rx",
            ],
            1,
        ),
        775 => trc(
            "",
            &[
                "1.059900000 1 classic 300#00000000040000 rx",
                "1.283231000 1 classic 300#00000000040000 rx",
                "1.298945000 1 classic 400#0000 tx",
                "1.323201000 1 classic 300#00000000060000 rx",
                "1.349222000 1 error 00000000# -",
                "1.352743000 1 remote 100#R3 rx",
            ],
            1,
        ),
        820 => trc(
            "",
            &[
                "6.357213000 1 classic 401#0000000000000000 rx",
                "6.357682000 1 classic 4A1#0000000000000000 rx",
                "6.377180000 1 classic 400#0000000000000000 rx",
                "6.377692000 1 classic 4A0#0000000000000000 rx",
                "1.349222000 1 error 00000000# -",
            ],
            1,
        ),
        858 => trc(
            "",
            &[
                "1.059900000 1 classic 300#00000000040000 rx",
                "1.283231000 1 classic 300#00000000040000 rx",
                "1.298945000 1 classic 400#0000 tx",
                "1.323201000 1 classic 300#00000000060000 rx",
                "1.334416000 1 fd 500##00102030405060708090A0B0C tx",
                "1.334522000 1 error 00000000# rx",
                "1.335156000 1 classic 18EFC034#0102030405060708 tx",
                "1.336543000 1 remote 100#R3 rx",
            ],
            2,
        ),
        // cantools' 2.1 sample writes the FD frame's length (12) in the DLC
        // column `L`; DLC 12 means 24 bytes (PEAK's own sample writes 9).
        909 => Expect {
            errors: &[(22, 29, "expected 24 data bytes, found 12")],
            ..trc(
                "",
                &[
                    "1.059900000 1 classic 300#00000000040000 rx",
                    "1.283231000 1 classic 300#00000000040000 rx",
                    "1.298945000 1 classic 400#0000 tx",
                    "1.323201000 1 classic 300#00000000060000 rx",
                    "1.334222000 1 error 00000000# rx",
                    "1.334268000 1 error 00000000# rx",
                    "1.335156000 1 classic 18EFC034#0102030405060708 tx",
                    "1.336543000 1 remote 100#R3 rx",
                ],
                4,
            )
        },
        _ => panic!("no expectation for the variant at line {label}"),
    }
}

/// The blocks of the variants file: (label, text).
fn blocks(text: &str) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## line ") {
            let label = rest.split(' ').next().and_then(|n| n.parse().ok()).expect("block label");
            out.push((label, String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

#[test]
fn every_variant_gives_the_exact_frame_or_a_precise_error() {
    let Some(dir) = logs_dir() else { return };
    let text = std::fs::read_to_string(dir.join("candump_variants/format_variants_from_cantools_test_logreader.txt"))
        .expect("variants file");
    let blocks = blocks(&text);
    assert_eq!(blocks.len(), 56, "the file holds 56 variants");
    let mut candump_blocks = 0;
    for (label, body) in &blocks {
        let expect = expected(*label);
        candump_blocks += usize::from(expect.format == LogFormat::Candump);
        let input = format!("{}{body}", expect.header);
        let header_lines = expect.header.lines().count() as u32;
        let strict = read_text(expect.format, &input, false);
        assert_eq!(strict.shown, expect.frames, "variant at line {label}:\n{body}");
        assert_eq!(strict.non_frames, expect.non_frames, "non-frames of variant at line {label}");
        let errors: Vec<_> = strict
            .errors
            .iter()
            .map(|e| match e {
                bulkhead::logs::LogError::Malformed { location, message } => {
                    (location.line, location.column, message.clone())
                }
                bulkhead::logs::LogError::InvalidFrame { location, source } => {
                    (location.line, location.column, source.to_string())
                }
                other => panic!("unexpected error kind {other}"),
            })
            .collect();
        assert_eq!(errors.len(), expect.errors.len(), "errors of variant at line {label}: {errors:?}");
        for ((line, column, message), (want_line, want_column, want)) in errors.iter().zip(expect.errors) {
            assert_eq!(
                (*line, *column),
                (want_line + header_lines, *want_column),
                "variant at line {label}: {message}"
            );
            assert!(message.contains(want), "variant at line {label}: `{message}` lacks `{want}`");
        }
        let lenient = read_text(expect.format, &input, true);
        assert_eq!(lenient.shown, expect.frames, "lenient, variant at line {label}");
        assert!(lenient.errors.is_empty());
        assert_eq!(lenient.skipped, expect.errors.len() as u64, "lenient skips, variant at line {label}");
    }
    assert_eq!(candump_blocks, 37, "candump variants (the other 19 are PEAK TRC)");
}
