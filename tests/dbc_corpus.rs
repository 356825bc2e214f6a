//! Every real-world DBC file of the corpus parses, and spot checks of real
//! content: counts and a full signal of `tesla_can.dbc`, a CAN FD message, an
//! extended-multiplexing file, float and double signals, a cp1252 comment, a
//! CRLF file, and the warnings of real quirks at their exact line and column.

mod dbc_support;

use std::path::Path;

use bulkhead::dbc::{self, ByteOrder, Dbc, FrameFormat, Multiplexing, ValueType};
use bulkhead::frame::CanId;

fn load(data: &Path, relative: &str) -> Dbc {
    let path = data.join(relative);
    dbc::load(&path).unwrap_or_else(|e| panic!("{relative} does not parse:\n{e}"))
}

fn warnings_at(dbc: &Dbc, line: u32) -> Vec<(u32, String)> {
    dbc.warnings.iter().filter(|w| w.location.line == line).map(|w| (w.location.column, w.message.clone())).collect()
}

#[test]
fn every_corpus_file_parses() {
    let Some(data) = dbc_support::data_dir_or_skip("every_corpus_file_parses") else { return };
    let corpus = dbc_support::dbc_files(&data.join("dbc"));
    assert_eq!(corpus.len(), 229, "the corpus under dbc/ has 229 DBC files");
    let logs = dbc_support::dbc_files(&data.join("logs"));
    assert!(!logs.is_empty(), "the captures come with DBC files");
    let (mut messages, mut signals, mut warnings, mut bytes) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for file in corpus.iter().chain(&logs) {
        let name = dbc_support::short_name(&data, file);
        match dbc::load(file) {
            Ok(dbc) => {
                messages += dbc.messages.len();
                signals += dbc.signal_count();
                warnings += dbc.warnings.len();
                bytes += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
                for w in &dbc.warnings {
                    assert!(w.location.line >= 1 && w.location.column >= 1, "{name}: {w}");
                    assert!(!w.location.line_text.contains('\r'), "{name}: CR left in the line text of {w}");
                }
            }
            Err(e) => failures.push(format!("{name}:\n{e}")),
        }
    }
    println!(
        "DBC corpus: {} files ({} under dbc/, {} under logs/), {:.1} MB, {messages} messages, {signals} signals, {warnings} warnings",
        corpus.len() + logs.len(),
        corpus.len(),
        logs.len(),
        bytes as f64 / 1e6
    );
    assert!(failures.is_empty(), "{} files do not parse:\n{}", failures.len(), failures.join("\n\n"));
    assert!(
        messages > 7000 && signals > 45_000,
        "{messages} messages and {signals} signals is less than the corpus holds"
    );
}

#[test]
fn tesla_can_in_detail() {
    let Some(data) = dbc_support::data_dir_or_skip("tesla_can_in_detail") else { return };
    let dbc = load(&data, "dbc/opendbc/current/tesla_can.dbc");
    assert_eq!(dbc.messages.len(), 44);
    assert_eq!(dbc.signal_count(), 572);
    let message = dbc.message_by_id(CanId::standard(264).unwrap()).expect("DI_torque1");
    assert_eq!((message.name.as_str(), message.size, message.transmitter.as_str()), ("DI_torque1", 8, "DI"));
    assert_eq!(message.format, FrameFormat::StandardCan);
    let signal = message.signal("DI_torqueMotor").expect("DI_torqueMotor");
    assert_eq!((signal.start_bit, signal.size, signal.byte_order), (16, 13, ByteOrder::LittleEndian));
    assert_eq!(signal.value_type, ValueType::Signed);
    assert_eq!((signal.factor, signal.offset, signal.min, signal.max), (0.25, 0.0, -750.0, 750.0));
    assert_eq!(signal.unit, "Nm");
    assert_eq!(signal.receivers, ["NEO"]);
    assert_eq!(signal.multiplexing, Multiplexing::Plain);
    assert_eq!(signal.describe(-4096), Some("SNA"));
    assert_eq!(signal.line, 166);
    // The one dangling reference of the file, reported where it is.
    assert_eq!(dbc.warnings.len(), 1);
    assert_eq!(dbc.warnings[0].location.line, 783);
    assert!(dbc.warnings[0].message.contains("`UI_mapSpeedLimit`"));
}

#[test]
fn can_fd_messages_from_vframeformat() {
    let Some(data) = dbc_support::data_dir_or_skip("can_fd_messages") else { return };
    let dbc = load(&data, "dbc/opendbc/current/ford_lincoln_base_pt.dbc");
    let fd = dbc.message_by_name("TesterPhysicalReqVDM_FD1").expect("a 64-byte message");
    assert_eq!((fd.id, fd.size), (CanId::standard(1825).unwrap(), 64));
    // `BA_ "VFrameFormat" BO_ 1825 14;` is StandardCAN_FD in the file's ENUM.
    assert_eq!(fd.format, FrameFormat::StandardCanFd);
    let short = dbc.message_by_id(CanId::standard(823).unwrap()).expect("DTE_HPCMtoECG");
    assert_eq!((short.size, short.format, short.cycle_time_ms), (8, FrameFormat::StandardCanFd, Some(1000)));
    assert!(dbc.messages.iter().all(|m| m.size <= 8 || m.format.is_fd()));
}

#[test]
fn extended_multiplexing_ranges() {
    let Some(data) = dbc_support::data_dir_or_skip("extended_multiplexing_ranges") else { return };
    let dbc = load(&data, "dbc/can-dbc/tests/cantools-dbcs/issue_184_extended_mux_multiple_values.dbc");
    let message = dbc.message_by_id(CanId::extended(1).unwrap()).expect("ext_MUX_multiple_values");
    assert_eq!(message.multiplexor().map(|s| s.name.as_str()), Some("MUX"));
    let signal = message.signal("muxed_0_3_4_5").expect("muxed_0_3_4_5");
    assert_eq!(signal.multiplexing, Multiplexing::Multiplexed(0));
    assert_eq!(signal.extended_multiplexing.len(), 1);
    assert_eq!(signal.extended_multiplexing[0].switch, "MUX");
    assert_eq!(signal.extended_multiplexing[0].ranges, [(0, 0), (3, 5)]);
    assert!(dbc.warnings.is_empty(), "{:?}", dbc.warnings);
}

#[test]
fn float_and_double_signals() {
    let Some(data) = dbc_support::data_dir_or_skip("float_and_double_signals") else { return };
    let floats = load(&data, "dbc/dbcc/float_signal.dbc");
    let message = &floats.messages[0];
    assert!(message.signals.iter().all(|s| s.value_type == ValueType::Float32 && s.size == 32));
    assert_eq!(message.signals.len(), 2);
    let doubles = load(&data, "dbc/dbcc/double_signal.dbc");
    let signal = doubles.messages[0].signal("DoubleSignal0").expect("DoubleSignal0");
    assert_eq!((signal.value_type, signal.size), (ValueType::Float64, 64));
}

#[test]
fn cp1252_comment_is_decoded() {
    let Some(data) = dbc_support::data_dir_or_skip("cp1252_comment_is_decoded") else { return };
    let dbc = load(&data, "dbc/can-dbc/tests/cantools-dbcs/cp1252.dbc");
    let comment = dbc.nodes[0].comment.as_deref().expect("the node comment");
    assert!(comment.starts_with(" !#$%&'()*+,-./0123456789:;<=>?@ABC"), "{comment}");
    // 0x80.. in Windows-1252: euro sign, then 0x82 (0x81 is unused by the file).
    assert!(
        comment.contains("~\u{7f}\u{20ac}\u{201a}\u{192}\u{201e}\u{2026}\u{2020}\u{2021}\u{2c6}\u{2030}\u{160}"),
        "{comment}"
    );
    assert!(comment.ends_with("\u{fc}\u{fd}\u{fe}\u{ff}"), "{comment}");
    assert_eq!(comment.chars().count(), 94 + 1 + 27 + 96);
}

#[test]
fn crlf_file() {
    let Some(data) = dbc_support::data_dir_or_skip("crlf_file") else { return };
    let path = "dbc/can-dbc/tests/cantools-dbcs/choices.dbc";
    let bytes = std::fs::read(data.join(path)).expect("read");
    assert_eq!(bytes.windows(2).filter(|w| w == b"\r\n").count(), 47, "choices.dbc has CRLF line ends");
    let dbc = load(&data, path);
    let foo = dbc.message_by_name("Foo").expect("Foo");
    assert_eq!(foo.line, 39);
    for signal in &foo.signals {
        assert!(!signal.unit.contains('\r'));
        assert!(signal.value_descriptions.iter().all(|v| !v.description.contains('\r')));
    }
    assert!(foo.signals.iter().any(|s| !s.value_descriptions.is_empty()));
}

#[test]
fn real_quirks_are_warnings_at_their_place() {
    let Some(data) = dbc_support::data_dir_or_skip("real_quirks") else { return };
    let honda = load(&data, "dbc/opendbc/current/generator/honda/_honda_common.dbc");
    assert_eq!(
        warnings_at(&honda, 207),
        [(13, "`CM_ SG_ 304` names no signal; the comment cannot be attached and is ignored".to_owned())]
    );
    let radar = load(&data, "dbc/opendbc/current/toyota_radar_dsu_tssp.dbc");
    assert_eq!(warnings_at(&radar, 138), [(19, "missing `;` at the end of `CM_`".to_owned())]);
    assert!(radar.comments.iter().any(|c| c == "Front target"));
    let kona = load(&data, "dbc/kona-ev/pcan.dbc");
    assert!(kona.nodes.is_empty() && kona.bit_timing.is_none());
    assert_eq!(kona.messages.len(), 107);
    let mazda = load(&data, "dbc/opendbc/current/mazda_2017.dbc");
    assert!(mazda.message_by_name("2017_5").is_some());
    assert_eq!(warnings_at(&mazda, 273)[0].0, 10);
    let gm = load(&data, "dbc/can-dbc/tests/cantools-dbcs/issue_199_extended.dbc");
    assert!(gm.message_by_name("DriverDoorStatus").is_none(), "id 0xFFFFFFFF is no CAN id");
    let chime = gm.message_by_name("Chime").expect("Chime");
    assert_eq!(chime.id, CanId::extended(0x1040_0000).unwrap());
    let psa = load(&data, "dbc/opendbc/current/psa_aee2010_r3.dbc");
    assert!(psa.messages.iter().all(|m| m.name != "VECTOR__INDEPENDENT_SIG_MSG"));
    let chrysler = load(&data, "dbc/opendbc/current/generator/chrysler/_stellantis_common.dbc");
    let torque =
        chrysler.messages.iter().flat_map(|m| &m.signals).find(|s| s.name == "ENGINE_TORQ_MAX").expect("signal");
    assert_eq!(torque.factor, 0.25);
    assert_eq!(warnings_at(&chrysler, 16), [(33, "number `.25` has no digit before its decimal point".to_owned())]);
}

#[test]
fn signals_past_the_message_end_are_warned_about() {
    let Some(data) = dbc_support::data_dir_or_skip("signals_past_the_message_end") else { return };
    let vw = load(&data, "dbc/opendbc/current/vw_pq.dbc");
    let w = warnings_at(&vw, 566);
    assert_eq!(w.len(), 1);
    assert!(w[0].1.starts_with(
        "signal `LH1_ECU_Temp` (start bit 40, 8 bits, Intel) needs 6 bytes but message `Lenkhilfe_1` declares 2"
    ));
}
