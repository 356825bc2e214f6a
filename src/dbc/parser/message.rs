//! `BO_` (a message) and `SG_` (one of its signals).
//!
//! `BO_ id name: size transmitter` and
//! `SG_ name [M|mN|mNM] : start|length@order sign (factor,offset) [min|max] "unit" receivers`.
//! Neither ends with `;`: a `BO_` ends after its transmitter, an `SG_` after
//! its receivers, which are separated by commas or by spaces on the same line.
//!
//! The id of a `BO_` is classified here ([`MessageKind`]): a frame id,
//! the `VECTOR__INDEPENDENT_SIG_MSG` pseudo-message, or a number no CAN frame
//! can carry. A standard id wider than 11 bits without the extended flag is
//! read as an extended id, with a warning.

use super::context::Ctx;
use super::lexical::{
    Input, PResult, at_line_start, ident, is_keyword, name, number, opt_symbol, peek_ident, skip_space, string, symbol,
    unsigned32,
};
use super::statement::{MessageKind, RawMessage};
use super::syntax_error::fail;
use crate::dbc::model::{ByteOrder, Multiplexing, Signal, ValueType};
use crate::frame::{CanId, MAX_EXTENDED_ID};

/// The DBC id of the pseudo-message that holds signals sent in no frame.
pub(crate) const INDEPENDENT_SIGNALS_ID: u32 = 0xC000_0000;
/// The name of that pseudo-message.
pub(crate) const INDEPENDENT_SIGNALS_NAME: &str = "VECTOR__INDEPENDENT_SIG_MSG";
/// The largest message size (bytes): a CAN FD payload.
pub(crate) const MAX_MESSAGE_SIZE: u32 = 64;
/// The name DBC files use for "no node".
pub(crate) const NO_NODE: &str = "Vector__XXX";

/// `BO_ id name: size transmitter`, starting after `BO_` (at `keyword_offset`).
pub(crate) fn message<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, RawMessage> {
    let id_at = skip_space(i);
    let (i, raw_id) = unsigned32(i, "expected the message id (a number) after `BO_`")?;
    let (i, message_name) = name(cx, i, "expected the message name after the id in `BO_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the message name in `BO_`")?;
    let size_at = skip_space(i);
    let (i, size) = unsigned32(i, "expected the message size in bytes after `:` in `BO_`")?;
    if size > MAX_MESSAGE_SIZE {
        return Err(fail(size_at, format!("message size {size} bytes is more than 64, the largest CAN FD payload")));
    }
    let next = skip_space(i);
    let (i, transmitter) = match peek_ident(next) {
        Some(word) if !(is_keyword(word) && at_line_start(cx, next)) => {
            name(cx, i, "expected the transmitting node after the size in `BO_`")?
        }
        _ => {
            cx.warn(i, format!("message `{message_name}` names no transmitter; `{NO_NODE}` assumed"));
            (i, NO_NODE.to_owned())
        }
    };
    let kind = classify_id(cx, id_at, raw_id, &message_name);
    let message = RawMessage {
        raw_id,
        kind,
        name: message_name,
        size,
        transmitter,
        line: 0,
        offset: keyword_offset,
        id_offset: cx.offset(id_at),
        size_offset: cx.offset(size_at),
    };
    Ok((i, message))
}

/// What the id of a `BO_` means (warning about the odd ones).
fn classify_id(cx: &Ctx<'_>, at: Input<'_>, raw: u32, name: &str) -> MessageKind {
    if raw == INDEPENDENT_SIGNALS_ID || name == INDEPENDENT_SIGNALS_NAME {
        cx.warn(
            at,
            format!("`{name}` is the pseudo-message of signals sent in no frame; it and its signals are left out"),
        );
        return MessageKind::Pseudo;
    }
    if let Ok(id) = CanId::from_dbc_raw(raw) {
        return MessageKind::Frame(id);
    }
    if raw & 0x8000_0000 == 0
        && raw <= MAX_EXTENDED_ID
        && let Ok(id) = CanId::extended(raw)
    {
        cx.warn(
            at,
            format!(
                "id {raw} (0x{raw:X}) of message `{name}` does not fit in 11 bits and bit 31 (extended) is not set; \
                     read as extended id 0x{raw:08X}"
            ),
        );
        return MessageKind::Frame(id);
    }
    cx.warn(
        at,
        format!(
            "id {raw} (0x{:X}) of message `{name}` is more than 29 bits, so no CAN frame can carry it; the message is left out",
            raw & 0x7FFF_FFFF
        ),
    );
    MessageKind::Unusable
}

/// `SG_ ...`, starting after `SG_`.
pub(crate) fn signal<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Signal> {
    let (i, signal_name) = name(cx, i, "expected the signal name after `SG_`")?;
    let next = skip_space(i);
    let (i, multiplexing) = match peek_ident(next) {
        Some(b"m") => {
            cx.warn(
                next,
                format!("multiplexer indicator `m` of signal `{signal_name}` has no value; read as `M` (the switch)"),
            );
            (ident(next)?.0, Multiplexing::Multiplexor)
        }
        Some(word) => {
            let indicator = multiplexer_indicator(word).ok_or_else(|| {
                fail(next, "expected `:` or a multiplexer indicator (`M`, `m3` or `m3M`) after the signal name")
            })?;
            (ident(next)?.0, indicator)
        }
        None => (i, Multiplexing::Plain),
    };
    let (i, ()) = symbol(i, b':', "expected `:` after the signal name in `SG_`")?;
    let (i, start_bit) = unsigned32(i, "expected the start bit (a number) after `:` in `SG_`")?;
    let (i, ()) = symbol(i, b'|', "expected `|` between the start bit and the length in `SG_`")?;
    let size_at = skip_space(i);
    let (i, size) = unsigned32(i, "expected the signal length in bits after `|` in `SG_`")?;
    if !(1..=64).contains(&size) {
        return Err(fail(size_at, format!("signal `{signal_name}` has length {size}; a signal has 1 to 64 bits")));
    }
    let (i, ()) = symbol(i, b'@', "expected `@` and the byte order after the signal length in `SG_`")?;
    let (i, byte_order) = byte_order(i)?;
    let (i, value_type) = signedness(i)?;
    let (i, ()) = symbol(i, b'(', "expected `(` and the factor after the value type in `SG_`")?;
    let (i, factor) = number(cx, i, "expected the factor (a number) after `(` in `SG_`")?;
    let (i, ()) = symbol(i, b',', "expected `,` between the factor and the offset in `SG_`")?;
    let (i, offset) = number(cx, i, "expected the offset (a number) after `,` in `SG_`")?;
    let (i, ()) = symbol(i, b')', "expected `)` after the offset in `SG_`")?;
    let (i, ()) = symbol(i, b'[', "expected `[` and the minimum after `(factor,offset)` in `SG_`")?;
    let (i, min) = number(cx, i, "expected the minimum (a number) after `[` in `SG_`")?;
    let (i, ()) = symbol(i, b'|', "expected `|` between the minimum and the maximum in `SG_`")?;
    let (i, max) = number(cx, i, "expected the maximum (a number) after `|` in `SG_`")?;
    let (i, ()) = symbol(i, b']', "expected `]` after the maximum in `SG_`")?;
    let (i, unit) = string(cx, i, "expected the unit (in quotes, may be empty) after `[min|max]` in `SG_`")?;
    let (i, receivers) = receivers(cx, i, &signal_name)?;
    let signal = Signal {
        name: signal_name,
        start_bit,
        size,
        byte_order,
        value_type,
        factor,
        offset,
        min,
        max,
        unit,
        receivers,
        multiplexing,
        extended_multiplexing: Vec::new(),
        value_descriptions: Vec::new(),
        comment: None,
        attributes: Vec::new(),
        line: 0,
    };
    Ok((i, signal))
}

/// `M`, `mN` or `mNM`.
fn multiplexer_indicator(word: &[u8]) -> Option<Multiplexing> {
    let digits_value = |digits: &[u8]| -> Option<u64> {
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))
    };
    match word {
        b"M" => Some(Multiplexing::Multiplexor),
        [b'm', rest @ .., b'M'] => digits_value(rest).map(Multiplexing::MultiplexedMultiplexor),
        [b'm', rest @ ..] => digits_value(rest).map(Multiplexing::Multiplexed),
        _ => None,
    }
}

/// `1` (Intel) or `0` (Motorola).
pub(crate) fn byte_order(i: Input<'_>) -> PResult<'_, ByteOrder> {
    let start = skip_space(i);
    match start.split_first() {
        Some((b'1', rest)) => Ok((rest, ByteOrder::LittleEndian)),
        Some((b'0', rest)) => Ok((rest, ByteOrder::BigEndian)),
        _ => Err(fail(
            start,
            "expected the byte order after `@`: `1` (Intel, little-endian) or `0` (Motorola, big-endian)",
        )),
    }
}

/// `+` (unsigned) or `-` (signed).
pub(crate) fn signedness(i: Input<'_>) -> PResult<'_, ValueType> {
    let start = skip_space(i);
    match start.split_first() {
        Some((b'+', rest)) => Ok((rest, ValueType::Unsigned)),
        Some((b'-', rest)) => Ok((rest, ValueType::Signed)),
        _ => Err(fail(start, "expected `+` (unsigned) or `-` (signed) after the byte order in `SG_`")),
    }
}

/// The receivers of a signal: names separated by commas, or by spaces on one line.
fn receivers<'a>(cx: &Ctx<'_>, i: Input<'a>, signal: &str) -> PResult<'a, Vec<String>> {
    let mut receivers = Vec::new();
    let mut i = i;
    let mut after_comma = false;
    loop {
        let next = skip_space(i);
        let Some(word) = peek_ident(next) else {
            if after_comma {
                return Err(fail(next, "expected a receiving node after `,` in `SG_`"));
            }
            break;
        };
        let new_line = i.get(..i.len() - next.len()).is_some_and(|gap| gap.contains(&b'\n'));
        let next_statement = is_keyword(word) && at_line_start(cx, next);
        if next_statement || (new_line && !after_comma && !receivers.is_empty()) {
            if after_comma {
                return Err(fail(next, "expected a receiving node after `,` in `SG_`"));
            }
            break;
        }
        let (rest, receiver) = name(cx, i, "expected a receiving node in `SG_`")?;
        receivers.push(receiver);
        let (rest, comma) = opt_symbol(rest, b',');
        after_comma = comma;
        i = rest;
    }
    if receivers.is_empty() {
        cx.warn(i, format!("signal `{signal}` names no receiver"));
    }
    Ok((i, receivers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;
    use std::sync::Arc;

    type Outcome = (Result<(Signal, usize), (usize, String)>, Vec<String>);

    fn parse_signal(src: &str) -> Outcome {
        let sink = NoteSink::default();
        let cx = Ctx::new(src.as_bytes(), &sink);
        let r = match signal(&cx, &src.as_bytes()[4..]) {
            Ok((rest, s)) => Ok((s, src.len() - rest.len())),
            Err(nom::Err::Failure(e) | nom::Err::Error(e)) => Err((src.len() - e.rest_len, e.message.into_owned())),
            Err(nom::Err::Incomplete(_)) => unreachable!(),
        };
        let (_, w) = sink.into_inner().into_diagnostics(&Arc::from("t"), src.as_bytes());
        (r, w.into_iter().map(|d| format!("{}:{} {}", d.location.line, d.location.column, d.message)).collect())
    }

    #[test]
    fn full_signal_definition() {
        let (r, w) = parse_signal(" SG_ Speed m3M : 39|16@0- (0.01,-5) [-5|650.35] \"km/h\" ABS, ESP\n");
        let (s, _) = r.unwrap();
        assert!(w.is_empty());
        assert_eq!(s.name, "Speed");
        assert_eq!(s.multiplexing, Multiplexing::MultiplexedMultiplexor(3));
        assert_eq!(
            (s.start_bit, s.size, s.byte_order, s.value_type),
            (39, 16, ByteOrder::BigEndian, ValueType::Signed)
        );
        assert_eq!((s.factor, s.offset, s.min, s.max), (0.01, -5.0, -5.0, 650.35));
        assert_eq!(s.unit, "km/h");
        assert_eq!(s.receivers, ["ABS", "ESP"]);
    }

    #[test]
    fn receivers_separated_by_spaces_stop_at_line_end() {
        let src = " SG_ A : 0|8@1+ (1,0) [0|0] \"\" X Y\n SG_ B : 8|8@1+ (1,0) [0|0] \"\" Z";
        let (r, _) = parse_signal(src);
        let (s, end) = r.unwrap();
        assert_eq!(s.receivers, ["X", "Y"]);
        assert_eq!(&src[end..end + 1], "\n");
    }

    #[test]
    fn receivers_continue_after_a_comma_on_the_next_line() {
        let (r, _) = parse_signal(" SG_ A : 0|8@1+ (1,0) [0|0] \"\" X,\n   Y\n");
        assert_eq!(r.unwrap().0.receivers, ["X", "Y"]);
    }

    #[test]
    fn multiplexer_indicators() {
        assert_eq!(multiplexer_indicator(b"M"), Some(Multiplexing::Multiplexor));
        assert_eq!(multiplexer_indicator(b"m0"), Some(Multiplexing::Multiplexed(0)));
        assert_eq!(multiplexer_indicator(b"m12M"), Some(Multiplexing::MultiplexedMultiplexor(12)));
        assert_eq!(multiplexer_indicator(b"m"), None);
        assert_eq!(multiplexer_indicator(b"mM"), None);
        assert_eq!(multiplexer_indicator(b"X"), None);
    }

    #[test]
    fn precise_errors() {
        let cases = [
            (" SG_ A : 0|8@2+ (1,0) [0|0] \"\" X", 14, "expected the byte order after `@`"),
            (" SG_ A : 0|8@1 (1,0) [0|0] \"\" X", 16, "expected `+` (unsigned) or `-` (signed)"),
            (" SG_ A : 0|0@1+ (1,0) [0|0] \"\" X", 12, "signal `A` has length 0"),
            (" SG_ A Q : 0|8@1+ (1,0) [0|0] \"\" X", 8, "expected `:` or a multiplexer indicator"),
            (" SG_ A : 0|8@1+ (1;0) [0|0] \"\" X", 19, "expected `,` between the factor and the offset"),
            (" SG_ A : 0|8@1+ (1,0) [0|0] X", 29, "expected the unit (in quotes"),
            (" SG_ A : 0|8@1+ (1,0) [0|0] \"\" X,\n", 35, "expected a receiving node after `,`"),
        ];
        for (src, col, msg) in cases {
            let (r, _) = parse_signal(src);
            let (offset, message) = r.unwrap_err();
            assert_eq!(offset + 1, col, "{src}: {message}");
            assert!(message.starts_with(msg), "{src}: {message}");
        }
    }

    #[test]
    fn signal_without_receiver_warns() {
        let (r, w) = parse_signal(" SG_ A : 0|8@1+ (1,0) [0|0] \"\"\n BO_ 1 X: 8 Y");
        assert!(r.unwrap().0.receivers.is_empty());
        assert_eq!(w, ["1:31 signal `A` names no receiver"]);
    }

    fn parse_message(src: &str) -> (RawMessage, Vec<String>) {
        let sink = NoteSink::default();
        let cx = Ctx::new(src.as_bytes(), &sink);
        let (_, m) = message(&cx, &src.as_bytes()[3..], 0).unwrap();
        let (_, w) = sink.into_inner().into_diagnostics(&Arc::from("t"), src.as_bytes());
        (m, w.into_iter().map(|d| format!("{}:{} {}", d.location.line, d.location.column, d.message)).collect())
    }

    #[test]
    fn message_ids() {
        let (m, w) = parse_message("BO_ 2147483705 X: 8 Y");
        assert_eq!(m.kind, MessageKind::Frame(CanId::extended(0x39).unwrap()));
        assert!(w.is_empty());
        let (m, w) = parse_message("BO_ 316495015 VZE_04: 8 XXX");
        assert_eq!(m.kind, MessageKind::Frame(CanId::extended(316_495_015).unwrap()));
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("1:5 id 316495015 (0x12DD54A7) of message `VZE_04` does not fit in 11 bits"));
        let (m, w) = parse_message("BO_ 4294967295 D: 1 GMLAN");
        assert_eq!(m.kind, MessageKind::Unusable);
        assert!(w[0].contains("is more than 29 bits"), "{w:?}");
        let (m, _) = parse_message("BO_ 3221225472 VECTOR__INDEPENDENT_SIG_MSG: 0 Vector__XXX");
        assert_eq!(m.kind, MessageKind::Pseudo);
    }

    #[test]
    fn message_without_transmitter_warns() {
        let (m, w) = parse_message("BO_ 1 X: 8\n SG_ A : 0|8@1+ (1,0) [0|0] \"\" Y");
        assert_eq!(m.transmitter, NO_NODE);
        assert_eq!(w, ["1:11 message `X` names no transmitter; `Vector__XXX` assumed"]);
    }
}
