//! Reader of SavvyCAN's "Generic ID/Data CSV" export.
//!
//! ```text
//! ID,Data Bytes
//! 0000021A,FE 36 12 FE 69 05 07 AD
//! 0000048C,00
//! ```
//!
//! One frame per line: the id in hex, a comma, the data bytes in hex
//! separated by spaces. The first line is the header. The format has no time,
//! no bus and no extended flag: records have no time, the bus name is `"0"`,
//! and an id above `0x7FF` is extended (SavvyCAN's convention; a small
//! extended id cannot be told apart from a standard one here).
//!
//! Invariants: one line is one record; no allocation per line; no input can
//! panic.

use crate::frame::{CanId, Frame, FrameError, MAX_STANDARD_ID};
use crate::logs::number::{hex_byte, hex_u32};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, shown, tokens_from};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, LogFormat, LogRecord};

/// Streaming reader of generic ID/data CSV files. See the module docs.
pub type GenericCsvReader = TextReader<GenericCsv>;

/// The generic CSV line parser: whether the header was seen.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenericCsv {
    header_seen: bool,
}

impl LineFormat for GenericCsv {
    const FORMAT: LogFormat = LogFormat::GenericCsv;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(Parsed::Nothing);
        }
        if !self.header_seen {
            if !line.eq_ignore_ascii_case(b"ID,Data Bytes") {
                return Err(LineError::malformed(0, "expected the header `ID,Data Bytes`"));
            }
            self.header_seen = true;
            return Ok(Parsed::Nothing);
        }
        parse_record(line, buses)
    }
}

fn parse_record(line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
    let comma = line
        .iter()
        .position(|&b| b == b',')
        .ok_or_else(|| LineError::malformed(line.len(), "expected `,` after the id"))?;
    let id_text = line.get(..comma).unwrap_or_default();
    let raw = hex_u32(id_text)
        .ok_or_else(|| LineError::malformed(0, format!("expected a hex id, found `{}`", shown(id_text))))?;
    let id = CanId::new(raw, raw > MAX_STANDARD_ID).map_err(|e| LineError::frame(0, e))?;
    let mut data = [0u8; 8];
    let mut len = 0;
    for t in tokens_from(line, comma + 1) {
        let byte = hex_byte(t.text).ok_or_else(|| {
            LineError::malformed(t.start, format!("expected a data byte (two hex digits), found `{}`", shown(t.text)))
        })?;
        let slot = data.get_mut(len).ok_or(LineError::frame(t.start, FrameError::ClassicTooLong { len: len + 1 }))?;
        *slot = byte;
        len += 1;
    }
    let frame = Frame::classic(id, data.get(..len).unwrap_or_default()).map_err(|e| LineError::frame(comma, e))?;
    Ok(Parsed::Frame(LogRecord { time: None, bus: buses.intern(b"0"), frame, direction: None }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<Parsed, LineError>> {
        let mut state = GenericCsv::default();
        let mut buses = Buses::default();
        text.lines().map(|l| state.parse_line(l.as_bytes(), &mut buses)).collect()
    }

    #[test]
    fn records() {
        let out = read("ID,Data Bytes\n0000021A,FE 36 12 FE 69 05 07 AD \n0000048C,\n18EFC034,01");
        assert_eq!(out[0], Ok(Parsed::Nothing));
        let Ok(Parsed::Frame(r)) = out[1] else { panic!() };
        assert_eq!((r.time, r.frame.data()), (None, &[0xFE, 0x36, 0x12, 0xFE, 0x69, 5, 7, 0xAD][..]));
        let Ok(Parsed::Frame(r)) = out[2] else { panic!() };
        assert!(r.frame.is_empty());
        let Ok(Parsed::Frame(r)) = out[3] else { panic!() };
        assert!(r.frame.id().is_extended());
    }

    #[test]
    fn refusals() {
        assert!(read("0000021A,FE")[0].is_err(), "no header");
        for bad in [
            "ID,Data Bytes\n21A FE",
            "ID,Data Bytes\n21A,F",
            "ID,Data Bytes\n21A,00 00 00 00 00 00 00 00 00",
            "ID,Data Bytes\n2000_0000,00",
        ] {
            assert!(read(bad)[1].is_err(), "{bad}");
        }
    }
}
