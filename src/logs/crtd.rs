//! Reader of CRTD logs (the OVMS project's CAN record format, one of
//! SavvyCAN's exports).
//!
//! ```text
//! 166.064000 CXX GVRET-PC Reverse Engineering Tool Output V138
//! 166.064000 R11 0000021A FE 36 12 FE 69 05 07 AD
//! 123.431 2R11 27E 00 00 00 00 00 00 00 00
//! 1320745424.106 CEV Open charge port door
//! ```
//!
//! A record is `<seconds> <type> ...`. Frame types are `R11`/`T11`
//! (received/transmitted, standard id) and `R29`/`T29` (extended id),
//! optionally prefixed with the bus number (`2R11`); the id and up to 8 data
//! bytes follow in hex. `CXX` records are comments; the other `C..` records
//! (events, errors, statistics) are counted as non-frames.
//!
//! Bus names: the prefix digit as written, `"1"` without one (CRTD numbers
//! buses from 1). Timestamps: the seconds as written (Unix time or time since
//! the logger started), exactly.
//!
//! Invariants: one line is one record; no allocation per line; no input can
//! panic.

use crate::frame::{CanId, Frame};
use crate::logs::number::{hex_byte, hex_u32, parse_scaled};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, NEGATIVE_TIME, intern_bus, shown, tokens};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, Direction, LogFormat, LogRecord};
use crate::time::Timestamp;

/// Streaming reader of CRTD logs. See the module docs.
pub type CrtdReader = TextReader<Crtd>;

/// The CRTD line parser (CRTD lines stand alone).
#[derive(Clone, Copy, Debug, Default)]
pub struct Crtd;

impl LineFormat for Crtd {
    const FORMAT: LogFormat = LogFormat::Crtd;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        parse_line(line, buses)
    }
}

/// True when the record type `kind` is a CRTD frame or comment (detection).
pub(crate) fn is_crtd_type(kind: &str) -> bool {
    let kind = kind.trim_start_matches(|c: char| c.is_ascii_digit());
    matches!(kind, "R11" | "R29" | "T11" | "T29" | "CXX" | "CEV")
}

fn parse_line(line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
    let mut toks = tokens(line);
    let Some(time_tok) = toks.next() else {
        return Ok(Parsed::Nothing);
    };
    if time_tok.text.first() == Some(&b'-') {
        return Err(LineError::malformed(time_tok.start, NEGATIVE_TIME));
    }
    let nanos = parse_scaled(time_tok.text, 9, b'.')
        .ok_or_else(|| LineError::malformed(time_tok.start, "expected the time in seconds"))?;
    let kind = toks.next().ok_or_else(|| LineError::malformed(line.len(), "expected the record type"))?;
    let digits = kind.text.iter().take_while(|b| b.is_ascii_digit()).count();
    let (bus, record) = kind.text.split_at(digits);
    let (direction, extended) = match record {
        b"R11" => (Direction::Rx, false),
        b"R29" => (Direction::Rx, true),
        b"T11" => (Direction::Tx, false),
        b"T29" => (Direction::Tx, true),
        b"CXX" if digits == 0 => return Ok(Parsed::Nothing),
        [b'C', _, _] if digits == 0 => return Ok(Parsed::NonFrame),
        _ => {
            return Err(LineError::malformed(
                kind.start,
                format!("expected a record type (R11, R29, T11, T29, CXX, ...), found `{}`", shown(kind.text)),
            ));
        }
    };
    let id_tok = toks.next().ok_or_else(|| LineError::malformed(kind.end(), "expected the id"))?;
    let raw = hex_u32(id_tok.text).ok_or_else(|| {
        LineError::malformed(id_tok.start, format!("expected a hex id, found `{}`", shown(id_tok.text)))
    })?;
    let id = CanId::new(raw, extended).map_err(|e| LineError::frame(id_tok.start, e))?;
    let mut data = [0u8; 8];
    let mut len = 0;
    for t in toks {
        let byte = hex_byte(t.text).ok_or_else(|| {
            LineError::malformed(t.start, format!("expected a data byte (two hex digits), found `{}`", shown(t.text)))
        })?;
        match data.get_mut(len) {
            Some(slot) => *slot = byte,
            None => {
                return Err(LineError::frame(t.start, crate::frame::FrameError::ClassicTooLong { len: len + 1 }));
            }
        }
        len += 1;
    }
    let frame =
        Frame::classic(id, data.get(..len).unwrap_or_default()).map_err(|e| LineError::frame(id_tok.start, e))?;
    let bus = intern_bus(buses, if bus.is_empty() { b"1" } else { bus }, kind.start)?;
    Ok(Parsed::Frame(LogRecord { time: Some(Timestamp::from_nanos(nanos)), bus, frame, direction: Some(direction) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<Parsed, LineError> {
        parse_line(line.as_bytes(), &mut Buses::default())
    }

    #[test]
    fn records() {
        assert_eq!(one("166.064000 CXX GVRET-PC Reverse Engineering Tool Output V138"), Ok(Parsed::Nothing));
        assert_eq!(one("1320745424.106 CEV Open charge port door"), Ok(Parsed::NonFrame));
        let Ok(Parsed::Frame(r)) = one("166.064000 R11 0000021A FE 36 12 FE 69 05 07 AD ") else { panic!() };
        assert_eq!(r.time, Some(Timestamp::from_nanos(166_064_000_000)));
        assert_eq!(
            r.frame,
            Frame::classic(CanId::standard(0x21A).unwrap(), &[0xFE, 0x36, 0x12, 0xFE, 0x69, 5, 7, 0xAD]).unwrap()
        );
        let mut buses = Buses::default();
        let Ok(Parsed::Frame(r)) = parse_line(b"123.431 2T29 18EFC034 01", &mut buses) else { panic!() };
        assert_eq!((buses.name(r.bus), r.direction), ("2", Some(Direction::Tx)));
        assert!(r.frame.id().is_extended());
    }

    #[test]
    fn refusals() {
        for bad in
            ["1.0 R11 800", "1.0 X11 100", "1.0 R11 100 00 00 00 00 00 00 00 00 00", "-1.0 R11 100", "1.0 R11 1 0"]
        {
            assert!(one(bad).is_err(), "{bad}");
        }
    }
}
