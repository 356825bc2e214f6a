//! Reader of Microchip CAN BUS Analyzer logs (one of SavvyCAN's exports).
//!
//! ```text
//! //---------------------------------
//! Microchip Technology Inc.
//! CAN BUS Analyzer
//! SavvyCAN Exporter
//! Logging Started: 23/9/2015 22:17:43
//! //---------------------------------
//! 166064;RX;0x0000021A;8;0xFE;0x36;0x12;0xFE;0x69;0x05;0x07;0xAD;
//! ```
//!
//! Lines starting with `//` open and close the header block; what is between
//! two of them is skipped. A record is `<ms>;RX|TX;0x<id>;<len>;0x<byte>;...`.
//! The format has no extended flag: an id above `0x7FF` is extended (the
//! convention of SavvyCAN's reader; a small extended id cannot be told apart
//! from a standard one in this format).
//!
//! Bus name: `"0"` (the format has no bus column). Timestamps: the
//! milliseconds as written.
//!
//! Invariants: one line is one record; no allocation per line; no input can
//! panic.

use crate::frame::{CanId, Frame, FrameError, MAX_STANDARD_ID};
use crate::logs::number::{dec_u32, dec_u64, hex_u32};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, NEGATIVE_TIME, shown};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, Direction, LogFormat, LogRecord};
use crate::time::Timestamp;

/// Streaming reader of Microchip logs. See the module docs.
pub type MicrochipReader = TextReader<Microchip>;

/// The Microchip line parser: whether a `//` header block is open.
#[derive(Clone, Copy, Debug, Default)]
pub struct Microchip {
    in_header: bool,
}

impl LineFormat for Microchip {
    const FORMAT: LogFormat = LogFormat::Microchip;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        if line.starts_with(b"//") {
            self.in_header = !self.in_header;
            return Ok(Parsed::Nothing);
        }
        if self.in_header || line.iter().all(u8::is_ascii_whitespace) {
            return Ok(Parsed::Nothing);
        }
        parse_record(line, buses)
    }
}

/// `0x`-prefixed hex.
fn prefixed_hex(field: &[u8]) -> Option<u32> {
    hex_u32(field.strip_prefix(b"0x").or_else(|| field.strip_prefix(b"0X"))?)
}

fn parse_record(line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
    let mut at = 0;
    let mut fields = line.split(|&b| b == b';').map(|f| {
        let start = at;
        at += f.len() + 1;
        (start, f)
    });
    let end = line.len();
    let mut next = |what: &str| fields.next().ok_or_else(|| LineError::malformed(end, format!("expected {what}")));
    let (time_at, time) = next("the time")?;
    if time.first() == Some(&b'-') {
        return Err(LineError::malformed(time_at, NEGATIVE_TIME));
    }
    let millis = dec_u64(time)
        .and_then(|ms| ms.checked_mul(1_000_000))
        .ok_or_else(|| LineError::malformed(time_at, format!("expected the time in ms, found `{}`", shown(time))))?;
    let (dir_at, dir) = next("RX or TX")?;
    let direction = match dir {
        b"RX" => Direction::Rx,
        b"TX" => Direction::Tx,
        _ => return Err(LineError::malformed(dir_at, "expected `RX` or `TX`")),
    };
    let (id_at, id_text) = next("the id")?;
    let raw = prefixed_hex(id_text)
        .ok_or_else(|| LineError::malformed(id_at, format!("expected the id as 0x..., found `{}`", shown(id_text))))?;
    let id = CanId::new(raw, raw > MAX_STANDARD_ID).map_err(|e| LineError::frame(id_at, e))?;
    let (len_at, len_text) = next("the data length")?;
    let len = dec_u32(len_text).map(|l| l as usize).ok_or_else(|| {
        LineError::malformed(len_at, format!("expected the data length, found `{}`", shown(len_text)))
    })?;
    let mut data = [0u8; 8];
    let slots = data.get_mut(..len).ok_or(LineError::frame(len_at, FrameError::ClassicTooLong { len }))?;
    for (i, slot) in slots.iter_mut().enumerate() {
        let (byte_at, byte) = fields
            .next()
            .filter(|(_, f)| !f.is_empty())
            .ok_or_else(|| LineError::malformed(line.len(), format!("expected {len} data bytes, found {i}")))?;
        *slot = prefixed_hex(byte).and_then(|b| u8::try_from(b).ok()).ok_or_else(|| {
            LineError::malformed(byte_at, format!("expected a data byte as 0x.., found `{}`", shown(byte)))
        })?;
    }
    if let Some((extra_at, extra)) = fields.next().filter(|(_, f)| !f.iter().all(u8::is_ascii_whitespace)) {
        return Err(LineError::malformed(extra_at, format!("unexpected field `{}` after the data", shown(extra))));
    }
    let frame = Frame::classic(id, data.get(..len).unwrap_or_default()).map_err(|e| LineError::frame(len_at, e))?;
    let time = Some(Timestamp::from_nanos(millis));
    Ok(Parsed::Frame(LogRecord { time, bus: buses.intern(b"0"), frame, direction: Some(direction) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<Parsed, LineError>> {
        let mut state = Microchip::default();
        let mut buses = Buses::default();
        text.lines().map(|l| state.parse_line(l.as_bytes(), &mut buses)).collect()
    }

    #[test]
    fn header_block_and_records() {
        let out = read(
            "//-----\nMicrochip Technology Inc.\n//-----\n166064;RX;0x0000021A;8;0xFE;0x36;0x12;0xFE;0x69;0x05;0x07;0xAD;\n\
             1;TX;0x18EFC034;1;0x01;\n2;RX;0x0000048C;0;",
        );
        assert!(out[..3].iter().all(|p| *p == Ok(Parsed::Nothing)));
        let Ok(Parsed::Frame(r)) = out[3] else { panic!("{:?}", out[3]) };
        assert_eq!(r.time, Some(Timestamp::from_millis(166_064)));
        assert_eq!(r.frame.data(), &[0xFE, 0x36, 0x12, 0xFE, 0x69, 5, 7, 0xAD]);
        let Ok(Parsed::Frame(r)) = out[4] else { panic!() };
        assert!(r.frame.id().is_extended());
        assert_eq!(r.direction, Some(Direction::Tx));
        let Ok(Parsed::Frame(r)) = out[5] else { panic!() };
        assert!(r.frame.is_empty());
    }

    #[test]
    fn refusals() {
        for bad in ["1;RX;0x100;2;0x01;", "1;RX;0x100;9;", "1;XX;0x100;0;", "1;RX;100;0;", "1;RX;0x100;1;0x01;0x02;"] {
            assert!(read(bad)[0].is_err(), "{bad}");
        }
    }
}
