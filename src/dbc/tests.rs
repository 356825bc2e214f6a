//! End-to-end tests of [`parse`](super::parse): whole (small) files through
//! parsing and resolution, each quirk with its warning text and position,
//! each refusal with its error text and position.

use super::*;
use crate::frame::CanId;

const HEAD: &str = "VERSION \"\"\n\nNS_ :\n\tCM_\n\nBS_:\n\nBU_: ECU GW\n\n";

/// `HEAD` + `body`, parsed; warnings as `line:col message` (lines count from the body's first line = 10).
fn ok(body: &str) -> (Dbc, Vec<String>) {
    let src = format!("{HEAD}{body}");
    match parse("t.dbc", src.as_bytes()) {
        Ok(dbc) => {
            let w = dbc
                .warnings
                .iter()
                .map(|w| format!("{}:{} {}", w.location.line, w.location.column, w.message))
                .collect();
            (dbc, w)
        }
        Err(e) => panic!("does not parse:\n{e}"),
    }
}

/// `HEAD` + `body`, which must fail; errors as `line:col message`.
fn err(body: &str) -> Vec<String> {
    let src = format!("{HEAD}{body}");
    match parse("t.dbc", src.as_bytes()) {
        Ok(dbc) => panic!("parses, with warnings {:?}", dbc.warnings),
        Err(e) => {
            e.errors().iter().map(|d| format!("{}:{} {}", d.location.line, d.location.column, d.message)).collect()
        }
    }
}

const MSG: &str = "BO_ 100 Engine: 8 ECU\n SG_ Rpm : 0|16@1+ (0.25,0) [0|16383.75] \"rpm\" GW\n SG_ Temp : 16|8@1- (1,-40) [-40|215] \"degC\" GW,ECU\n\n";

#[test]
fn a_complete_small_file() {
    let (dbc, w) = ok(MSG);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(dbc.source.as_ref(), "t.dbc");
    assert_eq!(dbc.new_symbols, ["CM_"]);
    assert_eq!(dbc.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["ECU", "GW"]);
    let m = &dbc.messages[0];
    assert_eq!(
        (m.id, m.name.as_str(), m.size, m.transmitter.as_str(), m.line),
        (CanId::standard(100).unwrap(), "Engine", 8, "ECU", 10)
    );
    assert_eq!((m.format, m.cycle_time_ms), (FrameFormat::StandardCan, None));
    let temp = m.signal("Temp").unwrap();
    assert_eq!((temp.value_type, temp.offset, temp.line), (ValueType::Signed, -40.0, 12));
    assert_eq!(temp.receivers, ["GW", "ECU"]);
}

#[test]
fn load_reports_io_errors_with_the_path() {
    let e = load(std::path::Path::new("/nonexistent/car.dbc")).unwrap_err();
    assert!(matches!(e, DbcError::Io { .. }));
    assert!(e.to_string().starts_with("cannot read DBC file `/nonexistent/car.dbc`: "), "{e}");
}

#[test]
fn errors_render_like_rustc() {
    let e = parse("car.dbc", b"VERSION \"\"\nBU_ A B\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "error: expected `:` after `BU_`\n --> car.dbc:2:5\n  |\n2 | BU_ A B\n  |     ^ found `A`\n  = help: write the node list as \
         `BU_: NODE_A NODE_B`\n\nerror: could not load DBC file `car.dbc` (1 error, 0 warnings)"
    );
}

#[test]
fn several_errors_are_reported_and_warnings_kept() {
    let src = format!(
        "{HEAD}BO_ 1 A: 8 ECU\n SG_ x : 0|8@1+ (1,0) [0|0] \"\" GW\nCM_ SG_ 1 \"no name\";\nBO_ 2 B 8 ECU\nVAL_ 1 x 0 \"a\" 1;\n"
    );
    let e = parse("t.dbc", src.as_bytes()).unwrap_err();
    let errors: Vec<_> = e.errors().iter().map(|d| (d.location.line, d.location.column, d.message.as_str())).collect();
    assert_eq!(
        errors,
        [
            (13, 9, "expected `:` after the message name in `BO_`"),
            (14, 17, "expected the description (in quotes) after the value in `VAL_`"),
        ]
    );
    assert_eq!(e.warnings().len(), 1);
    assert_eq!(e.warnings()[0].location.line, 12);
}

#[test]
fn unterminated_string_points_where_it_opened_and_stops() {
    let errors = err(&format!("{MSG}CM_ BO_ 100 \"never closed;\nBO_ 5 X: 8 ECU\nBO_ 5 Y 8\n"));
    assert_eq!(errors, ["14:13 unterminated string: this `\"` is never closed"]);
}

#[test]
fn unknown_keyword_and_signal_outside_a_message() {
    assert_eq!(
        err("B0_ 1 A: 8 ECU\n"),
        ["10:1 expected a DBC keyword (`BO_`, `SG_`, `CM_`, `BA_`, `VAL_`, ...) at the start of a statement"]
    );
    let errors = err("CM_ \"x\";\n SG_ s : 0|8@1+ (1,0) [0|0] \"\" GW\n");
    assert_eq!(errors, ["11:2 signal `s` is outside any message"]);
}

#[test]
fn duplicates() {
    let errors = err(&format!("{MSG}BO_ 100 Other: 8 ECU\n"));
    assert_eq!(errors, ["14:5 message id 100 of `Other` is already used on line 10"]);
    let errors = err("BO_ 1 A: 8 ECU\n SG_ s : 0|8@1+ (1,0) [0|0] \"\" GW\n SG_ s : 8|8@1+ (1,0) [0|0] \"\" GW\n");
    assert_eq!(errors, ["12:2 message `A` already has a signal `s` (line 11)"]);
    let (dbc, w) = ok("BU_: ECU\nBO_ 1 A: 8 ECU\nBO_ 2 A: 8 ECU\n");
    assert_eq!(dbc.messages.len(), 2);
    assert_eq!(
        w,
        [
            "10:6 node `ECU` is listed twice in `BU_`",
            "12:1 message name `A` is also used by message 1 on line 11; lookups by name find that one"
        ]
    );
}

#[test]
fn layout_quirks_tabs_blank_lines_split_statements_bom_and_crlf() {
    let src = "\u{feff}VERSION \"\"\r\n\r\nBU_:\tA\r\n   \r\n\tBO_ 1\r\n  X:\r\n 8 A\r\n\t SG_ s\t: 0|8@1+ (1,\r\n0) [0|0] \"\" \r\n  A\r\nBA_DEF_ BO_ \"C\"\r\n INT 0 10; BA_ \"C\" BO_ 1 5;\r\n";
    let dbc = parse("t.dbc", src.as_bytes()).unwrap();
    assert!(dbc.warnings.is_empty(), "{:?}", dbc.warnings);
    let m = &dbc.messages[0];
    assert_eq!((m.name.as_str(), m.line, m.signals[0].receivers.as_slice()), ("X", 5, ["A".to_owned()].as_slice()));
    assert_eq!(m.attributes[0].value, AttributeValue::Int(5));
}

#[test]
fn text_after_semicolon_and_double_slash_comments() {
    let (_, w) = ok("// a comment\nCM_ \"x\"; trailing words\nCM_ \"y\";;\n");
    assert_eq!(
        w,
        [
            "10:1 `//` comments are not part of the DBC format; the line is ignored",
            "11:10 text after the `;` of `CM_` is ignored",
            "12:9 extra `;` ignored"
        ]
    );
}

#[test]
fn comments_attach_to_every_object() {
    let body = format!(
        "{MSG}EV_ Var: 0 [0|1] \"\" 0 1 DUMMY_NODE_VECTOR0 Vector__XXX;\nCM_ \"net 1\";\nCM_ BU_ ECU \"node\";\nCM_ BO_ 100 \"message\";\nCM_ SG_ 100 Rpm \"multi\nline \\\"quoted\\\"\";\nCM_ EV_ Var \"var\";\nCM_ \"net 2\";\n"
    );
    let (dbc, w) = ok(&body);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(dbc.comments, ["net 1", "net 2"]);
    assert_eq!(dbc.nodes[0].comment.as_deref(), Some("node"));
    assert_eq!(dbc.messages[0].comment.as_deref(), Some("message"));
    assert_eq!(dbc.messages[0].signals[0].comment.as_deref(), Some("multi\nline \"quoted\""));
    assert_eq!(dbc.environment_variables[0].comment.as_deref(), Some("var"));
}

#[test]
fn dangling_references_are_warned_about_and_dropped() {
    let body = format!(
        "{MSG}CM_ BO_ 7 \"x\";\nCM_ SG_ 100 Nope \"x\";\nCM_ BU_ Nobody \"x\";\nVAL_ 100 Nope 0 \"a\";\nVAL_ NoVar 0 \"a\";\nBO_TX_BU_ 9 : ECU;\nSIG_VALTYPE_ 100 Nope : 1;\nSG_MUL_VAL_ 100 Rpm Nope 0-0;\nBA_DEF_ BO_ \"A\" INT 0 9;\nBA_ \"A\" BO_ 8 1;\n"
    );
    let (dbc, w) = ok(&body);
    assert_eq!(
        w,
        [
            "14:9 `CM_ BO_` refers to message 7, which no `BO_` defines; the comment is ignored",
            "15:13 `CM_ SG_` refers to signal `Nope`, which message 100 (`Engine`) does not have; the comment is ignored",
            "16:9 `CM_ BU_` refers to node `Nobody`, which `BU_` does not list; the comment is ignored",
            "17:10 `VAL_` refers to signal `Nope`, which message 100 (`Engine`) does not have; its value descriptions are ignored",
            "18:6 `VAL_` refers to environment variable `NoVar`, which no `EV_` defines; ignored",
            "19:11 `BO_TX_BU_` refers to message 9, which no `BO_` defines; the transmitters are ignored",
            "20:18 `SIG_VALTYPE_` refers to signal `Nope`, which message 100 (`Engine`) does not have; the value type is ignored",
            "21:21 `SG_MUL_VAL_` refers to signal `Nope`, which message 100 (`Engine`) does not have; the multiplexing is ignored",
            "23:13 `BA_ \"A\"` for message 8, which no `BO_` defines; ignored",
        ]
    );
    assert!(dbc.messages[0].comment.is_none());
}

#[test]
fn the_pseudo_message_and_references_to_it_are_left_out_quietly() {
    let body = "BO_ 3221225472 VECTOR__INDEPENDENT_SIG_MSG: 0 Vector__XXX\n SG_ Orphan : 0|8@1+ (1,0) [0|0] \"\" Vector__XXX\n\nCM_ SG_ 3221225472 Orphan \"x\";\nVAL_ 3221225472 Orphan 0 \"a\";\n";
    let (dbc, w) = ok(body);
    assert!(dbc.messages.is_empty());
    assert_eq!(
        w,
        [
            "10:5 `VECTOR__INDEPENDENT_SIG_MSG` is the pseudo-message of signals sent in no frame; it and its signals are left out"
        ]
    );
}

#[test]
fn wide_standard_ids_are_read_as_extended_and_found_by_either_form() {
    let (dbc, w) = ok(
        "BO_ 316495015 VZE: 8 ECU\n SG_ s : 0|8@1+ (1,0) [0|0] \"\" GW\nCM_ BO_ 316495015 \"written\";\nCM_ SG_ 2463978663 s \"canonical\";\n",
    );
    assert_eq!(dbc.messages[0].id, CanId::extended(316_495_015).unwrap());
    assert_eq!(dbc.messages[0].format, FrameFormat::ExtendedCan);
    assert_eq!(dbc.messages[0].comment.as_deref(), Some("written"));
    assert_eq!(dbc.messages[0].signals[0].comment.as_deref(), Some("canonical"));
    assert_eq!(w.len(), 1);
    assert!(w[0].starts_with("10:5 id 316495015 (0x12DD54A7) of message `VZE` does not fit in 11 bits"), "{w:?}");
}

#[test]
fn attributes_definitions_defaults_values_and_loose_forms() {
    let body = format!(
        "{MSG}EV_ Var: 0 [0|1] \"\" 0 1 DUMMY_NODE_VECTOR0 Vector__XXX;\n\
         BA_DEF_ \"DBName\" STRING;\n\
         BA_DEF_ BU_ \"Addr\" HEX 0 255;\n\
         BA_DEF_ BO_ \"GenMsgCycleTime\" INT 0 10000;\n\
         BA_DEF_ BO_ \"SendType\" ENUM \"Cyclic\",\"Event\";\n\
         BA_DEF_ SG_ \"Start\" FLOAT 0 100;\n\
         BA_DEF_ EV_ \"EvA\" INT 0 0;\n\
         BA_DEF_REL_ BU_SG_REL_ \"Timeout\" INT 0 65535;\n\
         BA_DEF_DEF_ \"DBName\" \"car\";\n\
         BA_DEF_DEF_ \"GenMsgCycleTime\" 100;\n\
         BA_DEF_DEF_ \"SendType\" 1;\n\
         BA_DEF_DEF_REL_ \"Timeout\" 50;\n\
         BA_ \"DBName\" \"body\";\n\
         BA_ \"Addr\" BU_ ECU 18;\n\
         BA_ \"GenMsgCycleTime\" BO_ 100 \"20\";\n\
         BA_ \"SendType\" BO_ 100 \"Event\";\n\
         BA_ \"Start\" SG_ 100 Rpm 2;\n\
         BA_ \"EvA\" EV_ Var 3;\n\
         BA_ \"Nobody\" BO_ 100 1.5;\n\
         BA_ \"GenMsgCycleTime\" BO_ 100 20000;\n\
         BA_REL_ \"Timeout\" BU_SG_REL_ GW SG_ 100 Rpm 200;\n"
    );
    let (dbc, w) = ok(&body);
    assert_eq!(
        w,
        [
            "24:24 default of ENUM attribute `SendType` is given as index 1 instead of its label",
            "28:31 integer attribute `GenMsgCycleTime` is given as the string \"20\"; read as a number",
            "29:24 ENUM attribute `SendType` is given by its label \"Event\" instead of its index",
            "32:5 attribute `Nobody` is not defined for messages (`BO_`) (no `BA_DEF_`); its value is kept as written",
            "33:1 attribute `GenMsgCycleTime` is set twice on the same object; the later value wins",
            "33:31 value 20000 of attribute `GenMsgCycleTime` is outside its range [0, 10000]",
        ]
    );
    assert_eq!(dbc.network_attribute("DBName"), Some(&AttributeValue::Str("body".into())));
    assert_eq!(dbc.node_attribute(&dbc.nodes[0], "Addr"), Some(&AttributeValue::Int(18)));
    let m = &dbc.messages[0];
    assert_eq!(dbc.message_attribute(m, "GenMsgCycleTime"), Some(&AttributeValue::Int(20000)));
    assert_eq!(m.cycle_time_ms, Some(20000));
    assert_eq!(dbc.message_attribute(m, "SendType"), Some(&AttributeValue::Str("Event".into())));
    assert_eq!(dbc.message_attribute(m, "Nobody"), Some(&AttributeValue::Float(1.5)));
    assert_eq!(dbc.signal_attribute(&m.signals[0], "Start"), Some(&AttributeValue::Float(2.0)));
    assert_eq!(dbc.signal_attribute(&m.signals[1], "Start"), None);
    assert_eq!(dbc.environment_variables[0].attributes[0].value, AttributeValue::Int(3));
    let def = dbc.attribute_definition(AttributeScope::Message, "SendType").unwrap();
    assert_eq!(def.enum_label(def.default.as_ref().unwrap()), Some("Event"));
    let rel = &dbc.relation_attributes[0];
    assert_eq!(
        (rel.scope, rel.node.as_str(), rel.message_id, rel.object.as_deref()),
        (AttributeScope::NodeSignal, "GW", Some(m.id), Some("Rpm"))
    );
    assert_eq!(rel.value, AttributeValue::Int(200));
    let timeout = dbc.attribute_definition(AttributeScope::NodeSignal, "Timeout").unwrap();
    assert_eq!(timeout.default, Some(AttributeValue::Int(50)));
}

#[test]
fn value_descriptions_for_signals_and_variables() {
    let body = format!(
        "{MSG}EV_ Var: 0 [0|1] \"\" 0 1 DUMMY_NODE_VECTOR0 ECU, GW;\nVAL_ 100 Temp -40 \"cold\" 215 \"hot\" ;\nVAL_ Var 0 \"off\" 1 \"on\";\nVAL_TABLE_ OnOff 1 \"On\" 0 \"Off\";\n"
    );
    let (dbc, w) = ok(&body);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(dbc.messages[0].signals[1].describe(-40), Some("cold"));
    assert_eq!(dbc.environment_variables[0].value_descriptions.len(), 2);
    assert_eq!(dbc.environment_variables[0].access_nodes, ["ECU", "GW"]);
    assert_eq!(dbc.value_tables[0].name, "OnOff");
}

#[test]
fn float_types_are_checked_against_the_length() {
    let float = "BO_ 1 F: 8 ECU\n SG_ f : 0|32@1- (1,0) [0|0] \"\" GW\n SG_ d : 0|64@1- (1,0) [0|0] \"\" GW\n SG_ i : 32|16@1- (1,0) [0|0] \"\" GW\n";
    let (dbc, _) = ok(&format!("{float}SIG_VALTYPE_ 1 f : 1;\nSIG_VALTYPE_ 1 d : 2;\nSIG_VALTYPE_ 1 i : 0;\n"));
    let types: Vec<_> = dbc.messages[0].signals.iter().map(|s| s.value_type).collect();
    assert_eq!(types, [ValueType::Float32, ValueType::Float64, ValueType::Signed]);
    assert_eq!(
        err(&format!("{float}SIG_VALTYPE_ 1 i : 1;\n")),
        ["14:20 signal `i` is declared a float by `SIG_VALTYPE_` but is 16 bits long; a float has exactly 32 bits"]
    );
    assert_eq!(
        err(&format!("{float}SIG_VALTYPE_ 1 i : 3;\n")),
        ["14:20 value type 3 of signal `i` is not 0 (integer), 1 (float) or 2 (double)"]
    );
}

#[test]
fn multiplexing_simple_extended_and_refused() {
    let body = "BO_ 1 M: 8 ECU\n SG_ S M : 0|8@1+ (1,0) [0|0] \"\" GW\n SG_ A m0 : 8|8@1+ (1,0) [0|0] \"\" GW\n SG_ T m1M : 8|8@1+ (1,0) [0|0] \"\" GW\n SG_ B m2 : 16|8@1+ (1,0) [0|0] \"\" GW\nSG_MUL_VAL_ 1 B T 2-3, 7-7;\n";
    let (dbc, w) = ok(body);
    assert!(w.is_empty(), "{w:?}");
    let m = &dbc.messages[0];
    assert_eq!(m.multiplexor().map(|s| s.name.as_str()), Some("S"));
    assert_eq!(m.signals[2].multiplexing, Multiplexing::MultiplexedMultiplexor(1));
    assert_eq!(
        m.signals[3].extended_multiplexing,
        [ExtendedMultiplexing { switch: "T".into(), ranges: vec![(2, 3), (7, 7)] }]
    );
    assert_eq!(
        err("BO_ 1 M: 8 ECU\n SG_ A m0 : 8|8@1+ (1,0) [0|0] \"\" GW\n"),
        ["11:2 signal `A` is multiplexed but message `M` has no `M` switch"]
    );
    assert_eq!(
        err(
            "BO_ 1 M: 8 ECU\n SG_ S M : 0|4@1+ (1,0) [0|0] \"\" GW\n SG_ R M : 4|4@1+ (1,0) [0|0] \"\" GW\n SG_ A m0 : 8|8@1+ (1,0) [0|0] \"\" GW\n"
        ),
        ["13:2 signal `A` is multiplexed but message `M` has several `M` switches"]
    );
}

#[test]
fn frame_format_from_vframeformat_and_fallbacks() {
    let defs = "BA_DEF_ BO_ \"VFrameFormat\" ENUM \"StandardCAN\",\"ExtendedCAN\",\"reserved\",\"J1939PG\",\"StandardCAN_FD\",\"ExtendedCAN_FD\";\nBA_DEF_DEF_ \"VFrameFormat\" \"StandardCAN\";\n";
    let msgs = "BO_ 1 A: 8 ECU\nBO_ 2 B: 64 ECU\nBO_ 2147483651 C: 8 ECU\nBO_ 4 D: 16 ECU\nBO_ 2147483653 E: 8 ECU\nBO_ 6 F: 8 ECU\n";
    let values = "BA_ \"VFrameFormat\" BO_ 1 4;\nBA_ \"VFrameFormat\" BO_ 4 \"StandardCAN\";\nBA_ \"VFrameFormat\" BO_ 2147483653 3;\nBA_ \"VFrameFormat\" BO_ 6 1;\n";
    let (dbc, w) = ok(&format!("{msgs}{defs}{values}"));
    let formats: Vec<_> = dbc.messages.iter().map(|m| m.format).collect();
    assert_eq!(
        formats,
        [
            FrameFormat::StandardCanFd,
            FrameFormat::StandardCan,
            FrameFormat::ExtendedCan,
            FrameFormat::StandardCan,
            FrameFormat::J1939,
            FrameFormat::StandardCan,
        ]
    );
    assert_eq!(
        w,
        [
            "11:1 message `B` is 64 bytes long but its `VFrameFormat` is classic CAN (StandardCan): it cannot travel in one frame (a transport-protocol payload?); no single frame will match its length",
            "13:1 message `D` is 16 bytes long but its `VFrameFormat` is classic CAN (StandardCan): it cannot travel in one frame (a transport-protocol payload?); no single frame will match its length",
            "15:1 `VFrameFormat` of message `F` says ExtendedCan, which its standard id contradicts; StandardCan is used",
            "19:26 ENUM attribute `VFrameFormat` is given by its label \"StandardCAN\" instead of its index",
        ]
    );
    // B (64 bytes) is classic by the file's default: kept, with the warning above.
    // Without the attribute, the id and the length decide.
    let (dbc, _) = ok("BO_ 1 A: 8 ECU\nBO_ 2147483650 B: 64 ECU\n");
    assert_eq!(dbc.messages[0].format, FrameFormat::StandardCan);
    assert_eq!(dbc.messages[1].format, FrameFormat::ExtendedCanFd);
    // An INT definition indexes Vector's standard list (14 = StandardCAN_FD).
    let (dbc, _) = ok("BO_ 1 A: 8 ECU\nBA_DEF_ BO_ \"VFrameFormat\" INT 0 15;\nBA_ \"VFrameFormat\" BO_ 1 14;\n");
    assert_eq!(dbc.messages[0].format, FrameFormat::StandardCanFd);
}

#[test]
fn cycle_time_from_value_default_or_none() {
    let defs = "BA_DEF_ BO_ \"GenMsgCycleTime\" INT 0 65535;\nBA_DEF_DEF_ \"GenMsgCycleTime\" 100;\n";
    let (dbc, _) = ok(&format!(
        "BO_ 1 A: 8 ECU\nBO_ 2 B: 8 ECU\nBO_ 3 C: 8 ECU\n{defs}BA_ \"GenMsgCycleTime\" BO_ 1 10;\nBA_ \"GenMsgCycleTime\" BO_ 3 0;\n"
    ));
    let cycles: Vec<_> = dbc.messages.iter().map(|m| m.cycle_time_ms).collect();
    assert_eq!(cycles, [Some(10), Some(100), None]);
    let (dbc, w) =
        ok("BO_ 1 A: 8 ECU\nBA_DEF_ BO_ \"GenMsgCycleTime\" STRING;\nBA_ \"GenMsgCycleTime\" BO_ 1 \"fast\";\n");
    assert_eq!(dbc.messages[0].cycle_time_ms, None);
    assert_eq!(
        w,
        ["10:1 `GenMsgCycleTime` of message `A` is Str(\"fast\"), not a number of milliseconds; no cycle time is used"]
    );
}

#[test]
fn transmitters_and_signal_groups() {
    let (dbc, w) = ok(&format!(
        "{MSG}BO_TX_BU_ 100 : GW, ECU;\nSIG_GROUP_ 100 Grp 1 : Rpm Temp;\nSIG_GROUP_ 100 Bad 1 : Rpm Nope;\n"
    ));
    assert_eq!(dbc.messages[0].extra_transmitters, ["GW"]);
    assert_eq!(dbc.signal_groups.len(), 2);
    assert_eq!(dbc.signal_groups[0].message_id, CanId::standard(100).unwrap());
    assert_eq!(w, ["16:1 signal group `Bad` lists `Nope`, which message `Engine` does not have"]);
}

#[test]
fn signal_past_the_message_end_is_a_warning() {
    let (dbc, w) =
        ok("BO_ 1 Short: 2 ECU\n SG_ s : 8|16@1+ (1,0) [0|0] \"\" GW\n SG_ m : 15|16@0+ (1,0) [0|0] \"\" GW\n");
    assert_eq!(dbc.messages[0].signals.len(), 2);
    assert_eq!(
        w,
        [
            "11:2 signal `s` (start bit 8, 16 bits, Intel) needs 3 bytes but message `Short` declares 2",
            "12:2 signal `m` (start bit 15, 16 bits, Motorola) needs 3 bytes but message `Short` declares 2",
        ]
    );
}

#[test]
fn empty_and_header_only_files() {
    let dbc = parse("e.dbc", b"").unwrap();
    assert!(dbc.messages.is_empty() && dbc.warnings.is_empty());
    let dbc = parse("e.dbc", b"VERSION \"1.0\"\nBS_: 500 : 1, 2\n").unwrap();
    assert_eq!((dbc.version.as_str(), dbc.bit_timing.map(|b| b.baudrate)), ("1.0", Some(500)));
}

#[test]
fn duplicates_in_large_messages_and_repeated_undefined_attributes() {
    let mut body = String::from("BO_ 1 Big: 64 ECU\n");
    for k in 0..40 {
        body.push_str(&format!(" SG_ S{k} : {k}|1@1+ (1,0) [0|0] \"\" GW\n"));
    }
    body.push_str(" SG_ S7 : 50|1@1+ (1,0) [0|0] \"\" GW\n");
    assert_eq!(err(&body), ["51:2 message `Big` already has a signal `S7` (line 18)"]);
    let (dbc, w) = ok("BO_ 1 A: 8 ECU\nBA_ \"X\" BO_ 1 1;\nBA_ \"X\" BO_ 1 2;\n");
    assert_eq!(dbc.messages[0].attributes, [Attribute { name: "X".into(), value: AttributeValue::Int(2) }]);
    assert_eq!(w.len(), 3, "{w:?}");
    assert_eq!(w[1], "12:1 attribute `X` is set twice on the same object; the later value wins");
}

#[test]
fn loosely_written_defaults_and_values() {
    let body = "BO_ 1 A: 8 ECU\n\
        BA_DEF_ BO_ \"Cycle\" INT 0 1000;\n\
        BA_DEF_ BO_ \"Delay\" INT 0 1000;\n\
        BA_DEF_ BO_ \"Kind\" ENUM \"Cyclic\",\"Event\";\n\
        BA_DEF_ BO_ \"Gain\" FLOAT 0 10;\n\
        BA_DEF_ BO_ \"Label\" STRING;\n\
        BA_DEF_DEF_ \"Cycle\" 100.0;\n\
        BA_DEF_DEF_ \"Delay\" \"5\";\n\
        BA_DEF_DEF_ \"Kind\" \"Cyclic\";\n\
        BA_DEF_DEF_ \"Gain\" \"2.5\";\n\
        BA_DEF_DEF_ \"Label\" 7;\n\
        BA_DEF_DEF_ \"Missing\" 1;\n\
        BA_ \"Kind\" BO_ 1 \"Sporadic\";\n\
        BA_ \"Kind\" BO_ 1 9;\n";
    let (dbc, w) = ok(body);
    assert_eq!(
        w,
        [
            "16:21 integer attribute `Cycle` is given as the decimal 100; read as 100",
            "17:21 integer attribute `Delay` is given as the string \"5\"; read as a number",
            "19:20 float attribute `Gain` is given as the string \"2.5\"; read as a number",
            "20:21 string attribute `Label` is given the number 7 without quotes; read as the text \"7\"",
            "21:1 `BA_DEF_DEF_` for `Missing`, which no definition defines; ignored",
            "22:18 \"Sporadic\" is not one of the labels of ENUM attribute `Kind`",
            "23:1 attribute `Kind` is set twice on the same object; the later value wins",
            "23:18 index 9 of ENUM attribute `Kind` is outside its 2 labels",
        ]
    );
    let defaults: Vec<_> = dbc.attribute_definitions.iter().map(|d| d.default.clone()).collect();
    assert_eq!(
        defaults,
        [
            Some(AttributeValue::Int(100)),
            Some(AttributeValue::Int(5)),
            Some(AttributeValue::Str("Cyclic".into())),
            Some(AttributeValue::Float(2.5)),
            Some(AttributeValue::Str("7".into())),
        ]
    );
}

#[test]
fn files_without_bs_and_bu_sections() {
    let dbc = parse(
        "t.dbc",
        b"VERSION \"\"\n\nNS_ :\n  NS_DESC_\n\nBO_ 263 UNK: 8 XXX\n SG_ A : 39|16@0+ (1,0) [0|255] \"a\" XXX\n",
    )
    .unwrap();
    assert!(dbc.warnings.is_empty(), "{:?}", dbc.warnings);
    assert_eq!((dbc.nodes.len(), dbc.bit_timing, dbc.new_symbols.len()), (0, None, 1));
    assert_eq!(dbc.messages[0].signals[0].unit, "a");
}

#[test]
fn exponents_and_signs_in_numbers() {
    let (dbc, w) = ok("BO_ 1 A: 8 ECU\n SG_ s : 0|8@1- (1e-3,+5) [-1.5E+2|.5] \"\" GW\n");
    let s = &dbc.messages[0].signals[0];
    assert_eq!((s.factor, s.offset, s.min, s.max), (0.001, 5.0, -150.0, 0.5));
    assert_eq!(
        w,
        ["11:23 number `+5` is written with a leading `+`", "11:36 number `.5` has no digit before its decimal point"]
    );
}

#[test]
fn unindented_symbol_list() {
    let dbc = parse("t.dbc", b"VERSION \"\"\n\nNS_ :\nCM_\nBA_DEF_\n\nBS_:\nBU_: A\nBO_ 1 M: 8 A\n").unwrap();
    assert_eq!(dbc.new_symbols, ["CM_", "BA_DEF_"]);
    let w: Vec<_> = dbc.warnings.iter().map(|w| (w.location.line, w.location.column, w.message.as_str())).collect();
    assert_eq!(
        w,
        [
            (4, 1, "the `NS_` symbol list continues on a line that is not indented"),
            (5, 1, "the `NS_` symbol list continues on a line that is not indented")
        ]
    );
}

#[test]
fn duplicate_definitions_later_wins() {
    let body = "VAL_TABLE_ T 0 \"a\";\nVAL_TABLE_ T 1 \"b\";\n\
        EV_ V: 0 [0|1] \"\" 0 1 DUMMY_NODE_VECTOR0 Vector__XXX;\nEV_ V: 1 [0|2] \"\" 0 2 DUMMY_NODE_VECTOR0 Vector__XXX;\n\
        BA_DEF_ BO_ \"A\" INT 0 1;\nBA_DEF_ BO_ \"A\" STRING;\nBA_DEF_DEF_ \"A\" \"x\";\nBA_DEF_DEF_ \"A\" \"y\";\n";
    let (dbc, w) = ok(body);
    assert_eq!(
        w,
        [
            "11:1 value table `T` is defined twice; the later definition replaces the earlier",
            "13:1 environment variable `V` is defined twice; the later definition replaces the earlier",
            "15:1 attribute `A` is defined twice for messages (`BO_`); the later definition replaces the earlier",
            "17:1 default of attribute `A` is given twice; the later wins",
        ]
    );
    assert_eq!((dbc.value_tables.len(), dbc.value_tables[0].values[0].value), (1, 1));
    assert_eq!((dbc.environment_variables.len(), dbc.environment_variables[0].id), (1, 2));
    assert_eq!(dbc.attribute_definitions[0].kind, AttributeKind::String);
    assert_eq!(dbc.attribute_definitions[0].default, Some(AttributeValue::Str("y".into())));
}
