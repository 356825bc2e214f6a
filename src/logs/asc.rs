//! Reader of Vector ASCII logs (`.asc`, as CANoe and CANalyzer write them).
//!
//! ```text
//! date Sam Sep 30 15:06:13.191 2017
//! base hex  timestamps absolute
//! internal events logged
//! // version 9.0.0
//! Begin Triggerblock Sam Sep 30 15:06:13.191 2017
//!    0.000000 Start of measurement
//!    0.015991 CAN 1 Status:chip status error passive - TxErr: 132 RxErr: 0
//!    1.015991 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%
//!    2.501000 1 ErrorFrame
//!    2.510001 2 100 Tx r
//!    2.584921 4 300 Tx r 8 Length = 1704000 BitCount = 145 ID = 88888888x
//!    3.098426 1  18EBFF00x       Rx d 8 01 A0 0F A6 60 3B D1 40  Length = 273910 ...
//!   30.005071 CANFD   2 Rx  300  Generic_Name_12  1 0 8  8 01 02 03 04 05 06 07 08  102203 133 303000 ...
//! End TriggerBlock
//! ```
//!
//! Classic lines: `<time> <channel> <id>[x] <Rx|Tx> d <DLC> <bytes...>` or
//! `... r [DLC]`. A DLC of 9 to 15 on a classic frame means 8 bytes (the raw
//! DLC Vector tools record); anything after the data (`Length = ...`) is
//! ignored. CAN FD lines: `<time> CANFD <channel> <Rx|Tx> <id>[x] [name]
//! <BRS> <ESI> <DLC> <data length> <bytes...> <duration> <bit count> <flags>
//! ...`. The kind of a CANFD line's frame:
//! - the flags column has the remote bit (0x10): a classic remote request;
//! - the flags column is present, its EDL bit (0x1000) is clear and the data
//!   length is at most 8: a classic data frame on an FD channel;
//! - otherwise a CAN FD frame, whose data length must be the DLC's length
//!   (python-can's fixture `test_CanFdMessage64.asc` has 64-byte lines with a
//!   zero flags column: a classic frame cannot carry 64 bytes, so they are FD).
//!
//! Error frames (`ErrorFrame`, on classic and CANFD lines) carry no SocketCAN
//! error class: they become [`Frame::error`]`(0, [])`. `base dec` makes ids,
//! DLCs and data bytes decimal. Lines that are events but not frames (start of
//! measurement, statistics, chip status, J1939 transport summaries, `TxRq`
//! transmit requests) are counted in
//! [`FrameReader::non_frames`](crate::logs::FrameReader::non_frames).
//!
//! Bus names are the channel numbers as written (`"1"`). Timestamps are the
//! seconds as written, relative to the start of the measurement; with
//! `timestamps relative` in the header each event's time is a delta from the
//! previous event, and the reader adds them up. Decimals are parsed exactly.
//!
//! Invariants: one line is one record; no allocation per line; no input can
//! panic.

use crate::frame::{CanId, FD_MAX_LEN, FdFlags, Frame, FrameError, dlc_to_fd_len};
use crate::logs::number::{dec_u32, hex_u32, parse_scaled};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, Token, Tokens, intern_bus, shown, tokens};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, Direction, LogFormat, LogRecord};
use crate::time::Timestamp;

/// The remote-frame bit of a CANFD line's flags column.
const FLAG_RTR: u32 = 0x10;
/// The EDL (CAN FD format) bit of a CANFD line's flags column.
const FLAG_EDL: u32 = 0x1000;

/// Streaming reader of Vector ASC logs. See the module docs.
pub type AscReader = TextReader<Asc>;

/// The ASC line parser: what the header said so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asc {
    /// `base dec`: numbers are decimal (hex otherwise).
    decimal: bool,
    /// `timestamps relative`: event times are deltas.
    deltas: bool,
    /// The time of the last event in nanoseconds (for deltas).
    clock: u64,
}

impl LineFormat for Asc {
    const FORMAT: LogFormat = LogFormat::Asc;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        parse_line(line, self, buses)
    }
}

/// Reads one line of an ASC file.
fn parse_line(line: &[u8], state: &mut Asc, buses: &mut Buses) -> Result<Parsed, LineError> {
    let mut toks = tokens(line);
    let Some(first) = toks.next() else {
        return Ok(Parsed::Nothing);
    };
    if first.text.starts_with(b"//") {
        return Ok(Parsed::Nothing);
    }
    if !first.text.first().is_some_and(u8::is_ascii_digit) {
        return parse_header(first, toks, state);
    }
    let written = parse_scaled(first.text, 9, b'.')
        .ok_or_else(|| LineError::malformed(first.start, "expected the event time in seconds"))?;
    let nanos = if state.deltas { state.clock.saturating_add(written) } else { written };
    state.clock = nanos;
    let time = Some(Timestamp::from_nanos(nanos));
    let Some(second) = toks.next() else {
        return Err(LineError::malformed(line.len(), "expected an event after the time"));
    };
    if second.is("CANFD") {
        return parse_fd(toks, state, buses, time, line.len());
    }
    if !second.text.iter().all(u8::is_ascii_digit) {
        return Ok(Parsed::NonFrame);
    }
    let Some(third) = toks.next() else {
        return Ok(Parsed::NonFrame);
    };
    if third.is("ErrorFrame") {
        let frame = Frame::error(0, &[]).map_err(|e| LineError::frame(third.start, e))?;
        return Ok(Parsed::Frame(LogRecord {
            time,
            bus: intern_bus(buses, second.text, second.start)?,
            frame,
            direction: None,
        }));
    }
    let direction = match toks.next() {
        Some(t) if t.is("Rx") => Direction::Rx,
        Some(t) if t.is("Tx") => Direction::Tx,
        _ => return Ok(Parsed::NonFrame),
    };
    let id = parse_id(third, state)?;
    let kind =
        toks.next().ok_or_else(|| LineError::malformed(line.len(), "expected `d` or `r` after the direction"))?;
    let frame = if kind.is("d") {
        let dlc_tok = toks.next().ok_or_else(|| LineError::malformed(kind.end(), "expected the DLC after `d`"))?;
        let dlc = parse_number(dlc_tok, state)?;
        let dlc = u8::try_from(dlc).ok().filter(|&d| d <= 15).ok_or(LineError::frame(
            dlc_tok.start,
            FrameError::DlcOutOfRange { dlc: u8::try_from(dlc).unwrap_or(u8::MAX) },
        ))?;
        let count = usize::from(dlc.min(8));
        let mut data = [0u8; 8];
        read_bytes(&mut toks, data.get_mut(..count).unwrap_or_default(), state, dlc_tok.end())?;
        Frame::classic(id, data.get(..count).unwrap_or_default()).map_err(|e| LineError::frame(kind.start, e))?
    } else if kind.is("r") {
        let dlc = match toks.next() {
            Some(t) => match number(t.text, state) {
                Some(d) if d <= 15 => d.min(8) as u8,
                Some(d) => {
                    return Err(LineError::frame(t.start, FrameError::DlcOutOfRange { dlc: d.min(255) as u8 }));
                }
                None => 0,
            },
            None => 0,
        };
        Frame::remote(id, dlc).map_err(|e| LineError::frame(kind.start, e))?
    } else {
        return Err(LineError::malformed(kind.start, format!("expected `d` or `r`, found `{}`", shown(kind.text))));
    };
    Ok(Parsed::Frame(LogRecord {
        time,
        bus: intern_bus(buses, second.text, second.start)?,
        frame,
        direction: Some(direction),
    }))
}

/// Header lines: `date`, `base`, `internal events logged`, `Begin/End Triggerblock`.
fn parse_header(first: Token<'_>, mut toks: Tokens<'_>, state: &mut Asc) -> Result<Parsed, LineError> {
    if first.is("date") {
        return Ok(Parsed::Nothing);
    }
    if first.is("base") {
        match toks.next() {
            Some(t) if t.is("hex") => state.decimal = false,
            Some(t) if t.is("dec") => state.decimal = true,
            _ => return Err(LineError::malformed(first.end(), "expected `hex` or `dec` after `base`")),
        }
        if let Some(t) = toks.next() {
            if !t.is("timestamps") {
                return Err(LineError::malformed(t.start, "expected `timestamps absolute|relative`"));
            }
            match toks.next() {
                Some(t) if t.is("absolute") => state.deltas = false,
                Some(t) if t.is("relative") => state.deltas = true,
                _ => return Err(LineError::malformed(t.end(), "expected `absolute` or `relative`")),
            }
        }
        return Ok(Parsed::Nothing);
    }
    let second = toks.next();
    let keyword = |t: Option<Token<'_>>, word: &str| t.is_some_and(|t| t.is(word));
    if (first.is("internal") && keyword(second, "events"))
        || (first.is("no") && keyword(second, "internal"))
        || ((first.is("begin") || first.is("end")) && keyword(second, "triggerblock"))
    {
        return Ok(Parsed::Nothing);
    }
    Err(LineError::malformed(
        first.start,
        "expected a header line (date, base, internal events logged, Begin/End Triggerblock, //) or an event time",
    ))
}

/// A CANFD line after the `CANFD` keyword.
fn parse_fd(
    mut toks: Tokens<'_>,
    state: &Asc,
    buses: &mut Buses,
    time: Option<Timestamp>,
    end: usize,
) -> Result<Parsed, LineError> {
    let missing = |what: &str| LineError::malformed(end, format!("expected {what} on a CANFD line"));
    let channel = toks.next().ok_or_else(|| missing("the channel"))?;
    if !channel.text.iter().all(u8::is_ascii_digit) {
        return Err(LineError::malformed(channel.start, "expected the channel number after `CANFD`"));
    }
    let dir = toks.next().ok_or_else(|| missing("the direction"))?;
    let direction = if dir.is("Rx") {
        Direction::Rx
    } else if dir.is("Tx") {
        Direction::Tx
    } else if dir.is("TxRq") {
        return Ok(Parsed::NonFrame);
    } else {
        return Err(LineError::malformed(dir.start, "expected `Rx` or `Tx`"));
    };
    let id_tok = toks.next().ok_or_else(|| missing("the id"))?;
    if id_tok.is("ErrorFrame") {
        let frame = Frame::error(0, &[]).map_err(|e| LineError::frame(id_tok.start, e))?;
        let bus = intern_bus(buses, channel.text, channel.start)?;
        return Ok(Parsed::Frame(LogRecord { time, bus, frame, direction: Some(direction) }));
    }
    let id = parse_id(id_tok, state)?;
    let mut brs = toks.next().ok_or_else(|| missing("BRS"))?;
    if !brs.text.iter().all(u8::is_ascii_digit) {
        // A symbolic message name comes first.
        brs = toks.next().ok_or_else(|| missing("BRS"))?;
    }
    let esi = toks.next().ok_or_else(|| missing("ESI"))?;
    let flag = |t: Token<'_>, name: &str| match t.text {
        b"0" => Ok(false),
        b"1" => Ok(true),
        _ => Err(LineError::malformed(t.start, format!("expected {name} as `0` or `1`"))),
    };
    let fd_flags = FdFlags { brs: flag(brs, "BRS")?, esi: flag(esi, "ESI")? };
    let dlc_tok = toks.next().ok_or_else(|| missing("the DLC"))?;
    let dlc = hex_u32(dlc_tok.text).filter(|&d| d <= 15).ok_or_else(|| {
        LineError::malformed(dlc_tok.start, format!("expected a DLC (one hex digit), found `{}`", shown(dlc_tok.text)))
    })? as u8;
    let len_tok = toks.next().ok_or_else(|| missing("the data length"))?;
    let len = dec_u32(len_tok.text).map(|l| l as usize).filter(|&l| l <= FD_MAX_LEN).ok_or_else(|| {
        LineError::malformed(
            len_tok.start,
            format!("expected a data length of 0 to 64, found `{}`", shown(len_tok.text)),
        )
    })?;
    let mut data = [0u8; FD_MAX_LEN];
    read_bytes(&mut toks, data.get_mut(..len).unwrap_or_default(), state, len_tok.end())?;
    let data = data.get(..len).unwrap_or_default();
    let (_duration, _bits) = (toks.next(), toks.next());
    let flags = toks.next().and_then(|t| hex_u32(t.text));
    let frame = match flags {
        Some(f) if f & FLAG_RTR != 0 => {
            if len != 0 {
                return Err(LineError::malformed(len_tok.start, "a remote request (flag 0x10) carries no data"));
            }
            Frame::remote(id, dlc.min(8))
        }
        Some(f) if f & FLAG_EDL == 0 && len <= 8 => {
            if fd_flags != FdFlags::default() {
                return Err(LineError::malformed(brs.start, "BRS/ESI on a classic frame (EDL flag clear)"));
            }
            Frame::classic(id, data)
        }
        _ => {
            let expected = dlc_to_fd_len(dlc).map_err(|e| LineError::frame(dlc_tok.start, e))?;
            if expected != len {
                return Err(LineError::malformed(
                    len_tok.start,
                    format!("DLC {dlc:X} means {expected} data bytes, the data length column says {len}"),
                ));
            }
            Frame::fd(id, data, fd_flags)
        }
    }
    .map_err(|e| LineError::frame(id_tok.start, e))?;
    Ok(Parsed::Frame(LogRecord {
        time,
        bus: intern_bus(buses, channel.text, channel.start)?,
        frame,
        direction: Some(direction),
    }))
}

/// An id in the file's base, `x` suffix for extended ids.
fn parse_id(tok: Token<'_>, state: &Asc) -> Result<CanId, LineError> {
    let (digits, extended) = match tok.text.split_last() {
        Some((b'x' | b'X', digits)) => (digits, true),
        _ => (tok.text, false),
    };
    let raw = number(digits, state).ok_or_else(|| {
        LineError::malformed(
            tok.start,
            format!("expected a CAN id (`x` suffix for extended), found `{}`", shown(tok.text)),
        )
    })?;
    CanId::new(raw, extended).map_err(|e| LineError::frame(tok.start, e))
}

/// A number in the file's base.
fn number(text: &[u8], state: &Asc) -> Option<u32> {
    if state.decimal { dec_u32(text) } else { hex_u32(text) }
}

/// A number in the file's base, or an error pointing at `tok`.
fn parse_number(tok: Token<'_>, state: &Asc) -> Result<u32, LineError> {
    number(tok.text, state).ok_or_else(|| {
        let base = if state.decimal { "decimal" } else { "hex" };
        LineError::malformed(tok.start, format!("expected a {base} number, found `{}`", shown(tok.text)))
    })
}

/// `out.len()` data bytes in the file's base.
fn read_bytes(toks: &mut Tokens<'_>, out: &mut [u8], state: &Asc, after: usize) -> Result<(), LineError> {
    let wanted = out.len();
    for (i, slot) in out.iter_mut().enumerate() {
        let t = toks
            .next()
            .ok_or_else(|| LineError::malformed(after, format!("expected {wanted} data bytes, found {i}")))?;
        *slot = number(t.text, state)
            .and_then(|b| u8::try_from(b).ok())
            .ok_or_else(|| LineError::malformed(t.start, format!("expected a data byte, found `{}`", shown(t.text))))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::text::Problem;

    fn read(text: &str) -> Vec<Result<Parsed, LineError>> {
        let mut state = Asc::default();
        let mut buses = Buses::default();
        text.lines().map(|l| parse_line(l.as_bytes(), &mut state, &mut buses)).collect()
    }

    fn frame(p: &Result<Parsed, LineError>) -> LogRecord {
        match p {
            Ok(Parsed::Frame(r)) => *r,
            other => panic!("not a frame: {other:?}"),
        }
    }

    #[test]
    fn header_and_classic_lines() {
        let out = read(
            "date Sam Sep 30 15:06:13.191 2017\nbase hex  timestamps absolute\ninternal events logged\n// version 9.0.0\n\
             Begin Triggerblock Sam Sep 30 15:06:13.191 2017\n   0.000000 Start of measurement\n\
             3.098426 1  18EBFF00x       Rx d 8 01 A0 0F A6 60 3B D1 40    Length = 273910\n\
             2.520002 3 200 Tx r Length = 1704000 BitCount = 145 ID = 88888888x\n\
             2.584921 4 300 Tx r 8\n13.258671 1  3FF  Tx   d D 55 AA 01 02 03 04 05 06  Length = 232016\n\
             1.015991 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%\n2.501000 1 ErrorFrame\nEnd TriggerBlock",
        );
        assert!(out[..5].iter().all(|p| *p == Ok(Parsed::Nothing)));
        assert_eq!(out[5], Ok(Parsed::NonFrame));
        let r = frame(&out[6]);
        assert_eq!(r.time, Some(Timestamp::from_nanos(3_098_426_000)));
        assert_eq!(r.direction, Some(Direction::Rx));
        assert_eq!(
            r.frame,
            Frame::classic(CanId::extended(0x18EB_FF00).unwrap(), &[1, 0xA0, 0x0F, 0xA6, 0x60, 0x3B, 0xD1, 0x40])
                .unwrap()
        );
        assert_eq!(frame(&out[7]).frame, Frame::remote(CanId::standard(0x200).unwrap(), 0).unwrap());
        assert_eq!(frame(&out[8]).frame, Frame::remote(CanId::standard(0x300).unwrap(), 8).unwrap());
        assert_eq!(frame(&out[9]).frame.data(), &[0x55, 0xAA, 1, 2, 3, 4, 5, 6], "DLC 13 on classic CAN = 8 bytes");
        assert_eq!(out[10], Ok(Parsed::NonFrame));
        assert_eq!(frame(&out[11]).frame, Frame::error(0, &[]).unwrap());
        assert_eq!(out[12], Ok(Parsed::Nothing));
    }

    #[test]
    fn fd_lines() {
        let out = read(
            "30.005021 CANFD   1 Rx        300                                   1 0 8  8 11 c2 03 04 05 06 07 08   102203  133   303000 e0006659\n\
             30.005071 CANFD   3 Rx        30a  Generic_Name_12                  1 1 8  8 01 02 03 04 05 06 07 08   102203  133   303000 e0006659\n\
             30.300981 CANFD   3 Tx     50005x                                0 1 5 0 140000 73 200050 7a60\n\
             30.1 CANFD 1 Rx 123 0 0 2 2 AA BB 1000 60 0 0\n\
             30.806898 CANFD   5 Tx ErrorFrame Not Acknowledge error",
        );
        let r = frame(&out[0]);
        assert_eq!(r.frame.fd_flags(), FdFlags { brs: true, esi: false });
        assert_eq!(r.frame.data(), &[0x11, 0xC2, 3, 4, 5, 6, 7, 8]);
        assert!(r.frame.is_fd());
        assert_eq!(frame(&out[1]).frame.fd_flags(), FdFlags { brs: true, esi: true });
        assert_eq!(frame(&out[2]).frame, Frame::remote(CanId::extended(0x50005).unwrap(), 5).unwrap());
        assert_eq!(frame(&out[3]).frame, Frame::classic(CanId::standard(0x123).unwrap(), &[0xAA, 0xBB]).unwrap());
        assert!(frame(&out[4]).frame.is_error());
    }

    #[test]
    fn decimal_base_and_relative_times() {
        let out = read("base dec timestamps relative\n1.5 1 291 Rx d 2 255 16\n0.25 1 Statistic: x\n0.25 1 17x Tx d 0");
        let r = frame(&out[1]);
        assert_eq!(r.frame, Frame::classic(CanId::standard(291).unwrap(), &[255, 16]).unwrap());
        assert_eq!(r.time, Some(Timestamp::from_nanos(1_500_000_000)));
        assert_eq!(frame(&out[3]).time, Some(Timestamp::from_nanos(2_000_000_000)));
    }

    #[test]
    fn errors() {
        let out = read(
            "0.0 1 123x Rx d 40 00 01 02 03 04 05 06 07\n0.0 1 123 Rx d 4 01 02\n0.0 1 800 Rx d 0\nhello\n0.0 CANFD 1 Rx 1 0 0 9 8 00 00 00 00 00 00 00 00",
        );
        assert_eq!(out[0].as_ref().unwrap_err().problem, Problem::Frame(FrameError::DlcOutOfRange { dlc: 64 }));
        assert!(
            matches!(&out[1], Err(e) if matches!(&e.problem, Problem::Malformed(m) if m.contains("expected 4 data bytes, found 2")))
        );
        assert_eq!(out[2].as_ref().unwrap_err().problem, Problem::Frame(FrameError::StandardIdTooLarge { id: 0x800 }));
        assert!(out[3].is_err());
        assert!(
            matches!(&out[4], Err(e) if matches!(&e.problem, Problem::Malformed(m) if m.contains("DLC 9 means 12")))
        );
    }
}
