//! Property tests of the DBC parser: it never panics, whatever the bytes; every
//! diagnostic points inside the file; and files written from random models
//! read back as those models.

mod dbc_support;

use std::fmt::Write as _;

use bulkhead::dbc::{self, ByteOrder, DbcError, ValueType};
use bulkhead::diagnostic::Diagnostic;
use proptest::prelude::*;

/// A small but varied DBC used when the real-world data is absent.
const SAMPLE: &[u8] = b"VERSION \"1\"\r\n\r\nNS_ :\r\n\tCM_\r\n\r\nBS_:\r\n\r\nBU_: ECU GW\r\n\r\n\
BO_ 100 Engine: 8 ECU\r\n SG_ Mux M : 0|4@1+ (1,0) [0|15] \"\" GW\r\n SG_ Rpm m0 : 8|16@0- (0.25,-5) [-5|1000] \"rpm\" GW,ECU\r\n\r\n\
BO_ 2147483905 Ext: 64 GW\r\n SG_ F : 0|32@1- (1,0) [0|0] \"\" ECU\r\n\r\n\
CM_ \"network \\\"quoted\\\"\r\nsecond line\";\r\nCM_ SG_ 100 Rpm \"engine speed \xB0\";\r\n\
BA_DEF_ BO_ \"GenMsgCycleTime\" INT 0 65535;\r\nBA_DEF_DEF_ \"GenMsgCycleTime\" 100;\r\nBA_ \"GenMsgCycleTime\" BO_ 100 10;\r\n\
VAL_ 100 Mux 0 \"A\" 1 \"B\";\r\nSIG_VALTYPE_ 2147483905 F : 1;\r\nSG_MUL_VAL_ 100 Rpm Mux 0-0;\r\n";

/// Real files to mutate (small and varied), or the sample.
fn seeds() -> Vec<Vec<u8>> {
    let files = [
        "dbc/opendbc/current/tesla_can.dbc",
        "dbc/can-dbc/tests/cantools-dbcs/issue_184_extended_mux_cascaded.dbc",
        "dbc/can-dbc/tests/cantools-dbcs/cp1252.dbc",
        "dbc/kona-ev/pcan.dbc",
        "dbc/dbcc/ex1.dbc",
    ];
    let data = dbc_support::data_dir();
    let mut seeds: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(data.join(f)).ok()).collect();
    seeds.push(SAMPLE.to_vec());
    seeds
}

/// Checks that every diagnostic points at a line and column of `bytes`.
fn check_positions(bytes: &[u8], diagnostics: &[Diagnostic]) -> Result<(), TestCaseError> {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    for d in diagnostics {
        prop_assert!(
            d.location.line >= 1 && (d.location.line as usize) <= lines,
            "line {} of {lines}: {d}",
            d.location.line
        );
        prop_assert!(d.location.column >= 1, "{d}");
        prop_assert!(!d.message.is_empty());
        let _ = d.to_string();
    }
    Ok(())
}

fn check_any(bytes: &[u8]) -> Result<(), TestCaseError> {
    match dbc::parse("fuzz.dbc", bytes) {
        Ok(dbc) => check_positions(bytes, &dbc.warnings)?,
        Err(DbcError::Invalid { errors, warnings, .. }) => {
            prop_assert!(!errors.is_empty());
            check_positions(bytes, &errors)?;
            check_positions(bytes, &warnings)?;
        }
        Err(e) => prop_assert!(false, "unexpected error kind: {e}"),
    }
    Ok(())
}

/// One edit of a file.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b'"', b';', b':', b'|', b'@', b'(', b')', b'[', b']', b',', b'-', b'+', b'.', b'\n', b'\r', b'\\', b' ', b'0',
        b'9', b'M', b'm', 0x00, 0xFF, 0xB0,
    ]);
    let token = prop::sample::select(vec![
        &b"BO_ "[..],
        b"SG_ ",
        b"CM_ ",
        b"VAL_ ",
        b"BA_ ",
        b"\"",
        b";",
        b"\n",
        b"SG_MUL_VAL_ ",
        b"99999999999999999999",
        b"1e400",
        b"m1M",
        b"//",
        b"BA_DEF_ ",
        b"EV_ ",
    ]);
    prop_oneof![
        (any::<usize>(), interesting).prop_map(|(at, b)| Mutation::Replace(at, b)),
        (any::<usize>(), token).prop_map(|(at, t)| Mutation::Insert(at, t.to_vec())),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, v)| Mutation::Insert(at, v)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), 1usize..256).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len().max(1);
    match m {
        Mutation::Replace(at, b) => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = *b;
            }
        }
        Mutation::Insert(at, v) => {
            let i = at % (bytes.len() + 1);
            bytes.splice(i..i, v.iter().copied());
        }
        Mutation::Delete(at, n) => {
            let i = at % len;
            let end = (i + n).min(bytes.len());
            if i < end {
                bytes.drain(i..end);
            }
        }
        Mutation::Duplicate(at, n) => {
            let i = at % len;
            let end = (i + n).min(bytes.len());
            if i < end {
                let copy = bytes[i..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
        Mutation::Truncate(at) => bytes.truncate(at % len),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_any(&bytes)?;
    }

    #[test]
    fn random_dbc_like_text_never_panics(words in prop::collection::vec(prop::sample::select(vec![
        "BO_", "SG_", "CM_", "BA_", "BA_DEF_", "VAL_", "BU_:", "NS_ :", "\n", " ", "\t", ":", ";", "|", "@1+", "@0-", "(1,0)",
        "[0|0]", "\"\"", "\"x\"", "123", "-1", "2147483648", "m2", "M", "Name", ",", "SG_MUL_VAL_", "0-3", "EV_", "\r\n",
    ]), 0..200)) {
        check_any(words.concat().as_bytes())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_files_never_panic(seed in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let seeds = seeds();
        let mut bytes = seed.get(&seeds).clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check_any(&bytes)?;
    }
}

/// A signal of a generated file.
#[derive(Clone, Debug)]
struct GenSignal {
    start: u32,
    size: u32,
    intel: bool,
    signed: bool,
    factor: &'static str,
    offset: &'static str,
    unit: String,
    values: Vec<(i64, String)>,
    comment: Option<String>,
}

fn text() -> impl Strategy<Value = String> {
    // Printable text with quotes, backslashes, non-ASCII and line breaks. DBC
    // text has one escape, `\"`, so a backslash right before a quote or at the
    // end cannot be written; such backslashes become `/`.
    "[ -~äöü°€\n]{0,24}".prop_map(|t| {
        let chars: Vec<char> = t.chars().collect();
        chars
            .iter()
            .enumerate()
            .map(|(i, &c)| if c == '\\' && matches!(chars.get(i + 1), None | Some('"')) { '/' } else { c })
            .collect()
    })
}

fn signal() -> impl Strategy<Value = GenSignal> {
    let factors = prop::sample::select(vec!["1", "0.25", "-0.5", "1e-3", "2.5E+2", "0.001", "100"]);
    let offsets = prop::sample::select(vec!["0", "-40", "0.5", "-1e2", "273.15"]);
    (
        0u32..64,
        1u32..=64,
        any::<bool>(),
        any::<bool>(),
        factors,
        offsets,
        text(),
        prop::collection::vec((-1000i64..1000, text()), 0..4),
        prop::option::of(text()),
    )
        .prop_map(|(start, size, intel, signed, factor, offset, unit, values, comment)| GenSignal {
            start,
            size,
            intel,
            signed,
            factor,
            offset,
            unit: unit.replace('\n', " "),
            values,
            comment,
        })
}

fn escape(text: &str) -> String {
    text.replace('"', "\\\"")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn generated_files_read_back(
        messages in prop::collection::vec((0u32..0x800, any::<bool>(), 0u32..=64, prop::collection::vec(signal(), 0..6)), 1..6),
        crlf in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut src = format!("VERSION \"gen\"{nl}{nl}NS_ :{nl}\tCM_{nl}{nl}BS_:{nl}{nl}BU_: ECU GW{nl}{nl}");
        let mut tail = String::new();
        let mut expected = Vec::new();
        for (index, (id, extended, size, signals)) in messages.iter().enumerate() {
            let raw = if *extended { (id << 8 | index as u32) | 0x8000_0000 } else { (id & !7) | index as u32 };
            let _ = write!(src, "BO_ {raw} Msg{index}: {size} ECU{nl}");
            for (k, s) in signals.iter().enumerate() {
                let _ = write!(
                    src,
                    " SG_ Sig{k} : {}|{}@{}{} ({},{}) [0|0] \"{}\" GW{nl}",
                    s.start, s.size, if s.intel { 1 } else { 0 }, if s.signed { '-' } else { '+' }, s.factor, s.offset, escape(&s.unit)
                );
                if !s.values.is_empty() {
                    let _ = write!(tail, "VAL_ {raw} Sig{k}");
                    for (v, d) in &s.values {
                        let _ = write!(tail, " {v} \"{}\"", escape(d));
                    }
                    let _ = write!(tail, " ;{nl}");
                }
                if let Some(c) = &s.comment {
                    let _ = write!(tail, "CM_ SG_ {raw} Sig{k} \"{}\";{nl}", escape(c));
                }
            }
            src.push_str(nl);
            expected.push((raw, *size, signals.clone()));
        }
        src.push_str(&tail);
        let dbc = dbc::parse("gen.dbc", src.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
        prop_assert_eq!(dbc.messages.len(), expected.len());
        for (message, (raw, size, signals)) in dbc.messages.iter().zip(&expected) {
            prop_assert_eq!(message.id.to_dbc_raw(), *raw);
            prop_assert_eq!(message.size, *size);
            prop_assert_eq!(message.signals.len(), signals.len());
            for (got, want) in message.signals.iter().zip(signals) {
                prop_assert_eq!(got.start_bit, want.start);
                prop_assert_eq!(got.size, want.size);
                prop_assert_eq!(got.byte_order, if want.intel { ByteOrder::LittleEndian } else { ByteOrder::BigEndian });
                prop_assert_eq!(got.value_type, if want.signed { ValueType::Signed } else { ValueType::Unsigned });
                prop_assert_eq!(got.factor, want.factor.parse::<f64>().unwrap_or(f64::NAN));
                prop_assert_eq!(got.offset, want.offset.parse::<f64>().unwrap_or(f64::NAN));
                prop_assert_eq!(&got.unit, &want.unit);
                let values: Vec<(i64, String)> = got.value_descriptions.iter().map(|v| (v.value, v.description.clone())).collect();
                prop_assert_eq!(&values, &want.values);
                prop_assert_eq!(&got.comment, &want.comment);
            }
        }
    }
}
