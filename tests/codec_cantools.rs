//! Our decode against cantools 45.1.0 on a handful of tricky messages.
//!
//! The messages are described once, in [`messages`]; from that table the test
//! writes a tiny DBC text by hand (we do not use our own parser) for cantools
//! and builds the DBC model for our codec. cantools decodes random payloads
//! (`decode_choices=False, scaling=True`) and we compare: the same signals
//! present, values within 1e-9 relative, the same value descriptions.
//! Needs the project's `.venv` (`scripts/setup-oracles`).

mod codec_support;

use std::fmt::Write as _;

use bulkhead::codec::CodecTable;
use bulkhead::dbc::{ByteOrder, Dbc, Message, Multiplexing, ValueType};
use codec_support::{SignalExt, compare, message, run_oracle, signal};

/// One signal as it would be written in a DBC.
struct Sig {
    name: &'static str,
    /// `""`, `"M"`, `"m3"` or `"m3M"`.
    mux: &'static str,
    start: u32,
    size: u32,
    /// `'1'` Intel, `'0'` Motorola.
    order: char,
    /// `'+'`, `'-'`, or `'f'` for a float (`SIG_VALTYPE_`).
    kind: char,
    factor: f64,
    offset: f64,
    /// `SG_MUL_VAL_`: the switch and ranges.
    mul_val: Option<(&'static str, &'static [(u64, u64)])>,
    /// `VAL_` entries.
    values: &'static [(i64, &'static str)],
}

const fn sig(name: &'static str, start: u32, size: u32, order: char, kind: char) -> Sig {
    Sig { name, mux: "", start, size, order, kind, factor: 1.0, offset: 0.0, mul_val: None, values: &[] }
}

impl Sig {
    const fn scaled(mut self, factor: f64, offset: f64) -> Sig {
        self.factor = factor;
        self.offset = offset;
        self
    }

    const fn mux(mut self, mux: &'static str) -> Sig {
        self.mux = mux;
        self
    }

    const fn mul_val(mut self, switch: &'static str, ranges: &'static [(u64, u64)]) -> Sig {
        self.mul_val = Some((switch, ranges));
        self
    }

    const fn values(mut self, values: &'static [(i64, &'static str)]) -> Sig {
        self.values = values;
        self
    }
}

struct Msg {
    id: u32,
    extended: bool,
    name: &'static str,
    size: u32,
    signals: Vec<Sig>,
}

fn messages() -> Vec<Msg> {
    let fd_signals = (0..30)
        .map(|i| {
            // 30 signals over 64 bytes: alternating orders, sizes 3..=33, some signed and scaled.
            let names = [
                "fd00", "fd01", "fd02", "fd03", "fd04", "fd05", "fd06", "fd07", "fd08", "fd09", "fd10", "fd11", "fd12",
                "fd13", "fd14", "fd15", "fd16", "fd17", "fd18", "fd19", "fd20", "fd21", "fd22", "fd23", "fd24", "fd25",
                "fd26", "fd27", "fd28", "fd29",
            ];
            let size = 3 + i * 29 % 31;
            let first = i * 17;
            if i % 2 == 0 {
                sig(names[i as usize], first, size, '1', if i % 3 == 0 { '-' } else { '+' }).scaled(0.25, -3.0)
            } else {
                // Motorola: the most significant bit at big-endian position `first`.
                let start = first / 8 * 8 + 7 - first % 8;
                sig(names[i as usize], start, size, '0', if i % 3 == 0 { '-' } else { '+' }).scaled(1.5, 100.0)
            }
        })
        .collect();
    vec![
        Msg {
            id: 0x123,
            extended: false,
            name: "Mixed",
            size: 8,
            signals: vec![
                sig("bit", 0, 1, '1', '+').values(&[(0, "off"), (1, "on")]),
                sig("intel_signed", 1, 12, '1', '-').scaled(0.5, -20.0),
                sig("moto_small", 13, 3, '0', '+'),
                sig("moto_cross", 23, 20, '0', '-').scaled(0.001, 5.0),
                sig("moto_last", 62, 7, '0', '+'),
                sig("intel_cross", 40, 17, '1', '+').values(&[(0, "zero"), (131071, "max")]),
            ],
        },
        Msg {
            id: 0x7FF,
            extended: false,
            name: "Wide",
            size: 32,
            signals: vec![
                sig("intel_64_nine_bytes", 4, 64, '1', '+'),
                sig("moto_64_nine_bytes", 75, 64, '0', '-'),
                sig("intel_f32", 144, 32, '1', 'f').scaled(2.0, 1.0),
                sig("moto_63", 182, 63, '0', '+').scaled(1e-3, 0.0),
            ],
        },
        Msg {
            id: 0x01AB_CDEF,
            extended: true,
            name: "Floats",
            size: 16,
            signals: vec![
                sig("moto_f64", 7, 64, '0', 'f'),
                sig("moto_f32", 71, 32, '0', 'f').scaled(0.5, -1.0),
                sig("intel_i32", 96, 32, '1', '-').scaled(0.01, 0.0),
            ],
        },
        Msg {
            id: 0x200,
            extended: false,
            name: "SimpleMux",
            size: 8,
            signals: vec![
                sig("sw", 0, 2, '1', '+').mux("M"),
                sig("zero", 8, 8, '1', '+').mux("m0"),
                sig("one", 8, 16, '1', '-').mux("m1").scaled(0.1, 0.0),
                sig("two", 23, 12, '0', '+').mux("m2"),
                sig("plain", 56, 8, '1', '+'),
            ],
        },
        Msg {
            id: 0x201,
            extended: false,
            name: "CascadedMux",
            size: 8,
            signals: vec![
                sig("A", 0, 2, '1', '+').mux("M"),
                sig("B", 2, 2, '1', '+').mux("m1M").mul_val("A", &[(1, 2)]),
                sig("C", 8, 8, '1', '-').mux("m0").mul_val("B", &[(0, 0)]),
                sig("D", 8, 12, '1', '+').mux("m1").mul_val("B", &[(1, 3)]),
                sig("E", 16, 8, '1', '+').mux("m0").mul_val("A", &[(0, 0), (3, 3)]),
                sig("F", 63, 8, '0', '+'),
            ],
        },
        Msg { id: 0x300, extended: false, name: "FdLong", size: 64, signals: fd_signals },
    ]
}

fn dbc_text(messages: &[Msg]) -> String {
    let mut text = String::from("VERSION \"\"\n\nNS_ :\n\nBS_:\n\nBU_: ECU\n\n");
    let dbc_id = |m: &Msg| if m.extended { m.id | 0x8000_0000 } else { m.id };
    for m in messages {
        writeln!(text, "BO_ {} {}: {} ECU", dbc_id(m), m.name, m.size).unwrap();
        for s in &m.signals {
            let mux = if s.mux.is_empty() { String::new() } else { format!("{} ", s.mux) };
            let sign = if s.kind == '-' { '-' } else { '+' };
            writeln!(
                text,
                " SG_ {} {mux}: {}|{}@{}{sign} ({},{}) [0|0] \"\" ECU",
                s.name, s.start, s.size, s.order, s.factor, s.offset
            )
            .unwrap();
        }
        text.push('\n');
    }
    for m in messages {
        for s in &m.signals {
            if s.kind == 'f' {
                writeln!(text, "SIG_VALTYPE_ {} {} : {};", dbc_id(m), s.name, if s.size == 32 { 1 } else { 2 })
                    .unwrap();
            }
            if !s.values.is_empty() {
                let values: String = s.values.iter().map(|(v, t)| format!("{v} \"{t}\" ")).collect();
                writeln!(text, "VAL_ {} {} {values};", dbc_id(m), s.name).unwrap();
            }
            if let Some((switch, ranges)) = s.mul_val {
                let ranges: Vec<String> = ranges.iter().map(|(l, h)| format!("{l}-{h}")).collect();
                writeln!(text, "SG_MUL_VAL_ {} {} {switch} {};", dbc_id(m), s.name, ranges.join(", ")).unwrap();
            }
        }
    }
    text
}

fn model(messages: &[Msg]) -> Dbc {
    let to_message = |m: &Msg| -> Message {
        let signals = m
            .signals
            .iter()
            .map(|s| {
                let order = if s.order == '1' { ByteOrder::LittleEndian } else { ByteOrder::BigEndian };
                let value_type = match (s.kind, s.size) {
                    ('f', 32) => ValueType::Float32,
                    ('f', _) => ValueType::Float64,
                    ('-', _) => ValueType::Signed,
                    _ => ValueType::Unsigned,
                };
                let multiplexing = match s.mux {
                    "" => Multiplexing::Plain,
                    "M" => Multiplexing::Multiplexor,
                    marker => {
                        let value = marker.trim_start_matches('m').trim_end_matches('M').parse().expect("mux value");
                        if marker.ends_with('M') {
                            Multiplexing::MultiplexedMultiplexor(value)
                        } else {
                            Multiplexing::Multiplexed(value)
                        }
                    }
                };
                let mut built =
                    signal(s.name, s.start, s.size, order, value_type).scaled(s.factor, s.offset).mux(multiplexing);
                if let Some((switch, ranges)) = s.mul_val {
                    built = built.mul_val(switch, ranges);
                }
                for (value, text) in s.values {
                    built = built.describe(*value, text);
                }
                built
            })
            .collect();
        message(m.id, m.extended, m.name, m.size, signals)
    };
    Dbc { source: "tricky.dbc".into(), messages: messages.iter().map(to_message).collect(), ..Dbc::default() }
}

#[test]
fn tricky_messages_decode_like_cantools() {
    let messages = messages();
    let text = dbc_text(&messages);
    let dbc = model(&messages);
    let table = CodecTable::new([&dbc]);
    assert!(table.invalid().is_empty(), "{:?}", table.invalid());
    assert_eq!(table.len(), messages.len());

    let oracle = run_oracle(&["random", "7", "400", "-"], Some(&text));
    assert!(oracle["dbcs"][0].get("error").is_none(), "cantools refused our DBC text: {}\n{text}", oracle["dbcs"][0]);
    let result = compare(&oracle, &[Some(table)]);
    assert!(
        result.mismatches.is_empty(),
        "{} disagreements with cantools, first ones:\n{}\nDBC:\n{text}",
        result.mismatches.len(),
        result.mismatches.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    eprintln!("{result:?}");
    // Every message had its 400 payloads decoded by both (the oracle retries
    // payloads whose multiplexer value has no branch).
    assert_eq!(result.agreed, 400 * messages.len(), "{result:?}");
    assert_eq!(result.oracle_refused, 0);
}
