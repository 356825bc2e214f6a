//! Reader of SavvyCAN's native CSV format (GVRET CSV).
//!
//! ```text
//! Time Stamp,ID,Extended,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8
//! 166064000,0000021A,false,0,8,FE,36,12,FE,69,05,07,AD,
//! 303004300,00000450,false,0,3,00,C2,05
//! ```
//!
//! and the newer variant with a direction column (`...,Extended,Dir,Bus,...`,
//! `Rx`/`Tx`). The header line names the columns and is required; the reader
//! finds the columns by name, so both variants (and any order) are read.
//! `LEN` data bytes are taken from `D1` on; the padding SavvyCAN writes after
//! them (`00` fields, a trailing comma) is ignored. A `LEN` above 8 is an
//! invalid frame (SavvyCAN's own loader cuts it to 8).
//!
//! Bus names are the `Bus` column as written (`"0"`). Timestamps are the
//! `Time Stamp` column, microseconds as SavvyCAN counts them (since the
//! logger started, or since the Unix epoch for live captures).
//!
//! Invariants: one line is one record; no allocation per line; no input can
//! panic.

use crate::frame::{CanId, Frame};
use crate::logs::number::{dec_u32, dec_u64, hex_u32};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, NEGATIVE_TIME, intern_bus, shown};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, Direction, LogFormat, LogRecord};
use crate::time::Timestamp;

/// Positions of the columns, from the header line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Columns {
    time: usize,
    id: usize,
    extended: usize,
    direction: Option<usize>,
    bus: usize,
    len: usize,
    first_data: usize,
}

/// Streaming reader of GVRET CSV files. See the module docs.
pub type GvretReader = TextReader<Gvret>;

/// The GVRET line parser: the columns named by the header.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gvret {
    columns: Option<Columns>,
}

impl LineFormat for Gvret {
    const FORMAT: LogFormat = LogFormat::GvretCsv;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        parse_line(line, &mut self.columns, buses)
    }
}

/// The fields of a CSV line with their byte offsets, trimmed of spaces.
fn fields(line: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    line.split(|&b| b == b',').map(move |field| {
        let at = start;
        start += field.len() + 1;
        let lead = field.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let trimmed = field.get(lead..).unwrap_or_default();
        let trail = trimmed.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
        (at + lead, trimmed.get(..trimmed.len() - trail).unwrap_or_default())
    })
}

/// The header line: finds the columns by name.
fn parse_header(line: &[u8]) -> Result<Columns, LineError> {
    let (mut time, mut id, mut extended, mut direction, mut bus, mut len, mut first_data) =
        (None, None, None, None, None, None, None);
    for (i, (_, name)) in fields(line).enumerate() {
        let slot = match name.to_ascii_lowercase().as_slice() {
            b"time stamp" => &mut time,
            b"id" => &mut id,
            b"extended" => &mut extended,
            b"dir" => &mut direction,
            b"bus" => &mut bus,
            b"len" => &mut len,
            b"d1" => &mut first_data,
            _ => continue,
        };
        *slot = Some(i);
    }
    match (time, id, extended, bus, len, first_data) {
        (Some(time), Some(id), Some(extended), Some(bus), Some(len), Some(first_data)) => {
            Ok(Columns { time, id, extended, direction, bus, len, first_data })
        }
        _ => Err(LineError::malformed(0, "expected the GVRET header `Time Stamp,ID,Extended,[Dir,]Bus,LEN,D1,...,D8`")),
    }
}

/// Reads one line; the first non-blank line must be the header.
fn parse_line(line: &[u8], columns: &mut Option<Columns>, buses: &mut Buses) -> Result<Parsed, LineError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(Parsed::Nothing);
    }
    let Some(cols) = *columns else {
        *columns = Some(parse_header(line)?);
        return Ok(Parsed::Nothing);
    };
    let (mut time, mut id, mut extended, mut direction, mut bus, mut len) = (None, None, None, None, None, None);
    let mut data = [0u8; 8];
    let mut count = 0usize;
    let mut last_end = 0;
    for (i, (at, field)) in fields(line).enumerate() {
        last_end = at + field.len();
        if i == cols.time {
            if field.first() == Some(&b'-') {
                return Err(LineError::malformed(at, NEGATIVE_TIME));
            }
            let micros = dec_u64(field).and_then(|us| us.checked_mul(1_000)).ok_or_else(|| {
                LineError::malformed(at, format!("expected the time stamp in microseconds, found `{}`", shown(field)))
            })?;
            time = Some(Timestamp::from_nanos(micros));
        } else if i == cols.id {
            id = Some((
                at,
                hex_u32(field)
                    .ok_or_else(|| LineError::malformed(at, format!("expected a hex id, found `{}`", shown(field))))?,
            ));
        } else if i == cols.extended {
            extended = Some(if field.eq_ignore_ascii_case(b"true") {
                true
            } else if field.eq_ignore_ascii_case(b"false") {
                false
            } else {
                return Err(LineError::malformed(at, "expected `true` or `false`"));
            });
        } else if Some(i) == cols.direction {
            direction = Some(match field {
                b"Rx" => Direction::Rx,
                b"Tx" => Direction::Tx,
                _ => return Err(LineError::malformed(at, "expected `Rx` or `Tx`")),
            });
        } else if i == cols.bus {
            if field.is_empty() {
                return Err(LineError::malformed(at, "expected the bus number"));
            }
            bus = Some((at, field));
        } else if i == cols.len {
            let n = dec_u32(field).ok_or_else(|| {
                LineError::malformed(at, format!("expected the data length, found `{}`", shown(field)))
            })?;
            len = Some((at, n as usize));
        } else if i >= cols.first_data {
            let Some((_, n)) = len else {
                return Err(LineError::malformed(at, "the LEN column must come before the data"));
            };
            if i - cols.first_data < n.min(8) {
                let byte = hex_u32(field).filter(|&b| b <= 0xFF && field.len() <= 2).ok_or_else(|| {
                    LineError::malformed(at, format!("expected a data byte, found `{}`", shown(field)))
                })?;
                if let Some(slot) = data.get_mut(i - cols.first_data) {
                    *slot = byte as u8;
                    count += 1;
                }
            }
        }
    }
    let missing = |what: &str| LineError::malformed(last_end, format!("expected the {what} column"));
    let time = time.ok_or_else(|| missing("Time Stamp"))?;
    let (id_at, raw_id) = id.ok_or_else(|| missing("ID"))?;
    let extended = extended.ok_or_else(|| missing("Extended"))?;
    let (bus_at, bus) = bus.ok_or_else(|| missing("Bus"))?;
    let (len_at, len) = len.ok_or_else(|| missing("LEN"))?;
    if count < len.min(8) {
        return Err(LineError::malformed(last_end, format!("expected {len} data bytes, found {count}")));
    }
    let id = CanId::new(raw_id, extended).map_err(|e| LineError::frame(id_at, e))?;
    let frame = if len > 8 {
        Err(crate::frame::FrameError::ClassicTooLong { len })
    } else {
        Frame::classic(id, data.get(..len).unwrap_or_default())
    }
    .map_err(|e| LineError::frame(len_at, e))?;
    Ok(Parsed::Frame(LogRecord { time: Some(time), bus: intern_bus(buses, bus, bus_at)?, frame, direction }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Result<Parsed, LineError>>, Buses) {
        let mut columns = None;
        let mut buses = Buses::default();
        let out = text.lines().map(|l| parse_line(l.as_bytes(), &mut columns, &mut buses)).collect();
        (out, buses)
    }

    #[test]
    fn both_variants() {
        let (out, buses) = read(
            "Time Stamp,ID,Extended,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8\n166064000,0000021A,false,0,8,FE,36,12,FE,69,05,07,AD,\n\
             303004300,00000450,false,1,3,00,C2,05\n1,18EFC034,true,0,0,00,00",
        );
        assert_eq!(out[0], Ok(Parsed::Nothing));
        let Ok(Parsed::Frame(r)) = out[1] else { panic!("{:?}", out[1]) };
        assert_eq!(r.time, Some(Timestamp::from_micros(166_064_000)));
        assert_eq!(
            r.frame,
            Frame::classic(CanId::standard(0x21A).unwrap(), &[0xFE, 0x36, 0x12, 0xFE, 0x69, 5, 7, 0xAD]).unwrap()
        );
        assert_eq!(r.direction, None);
        let Ok(Parsed::Frame(r)) = out[2] else { panic!() };
        assert_eq!((buses.name(r.bus), r.frame.data()), ("1", &[0, 0xC2, 5][..]));
        let Ok(Parsed::Frame(r)) = out[3] else { panic!() };
        assert_eq!(r.frame, Frame::classic(CanId::extended(0x18EF_C034).unwrap(), &[]).unwrap());
        let (out, _) = read(
            "Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8\n22213513,00000111,false,Tx,0,2,01,02,00,00,00,00,00,00,",
        );
        let Ok(Parsed::Frame(r)) = out[1] else { panic!() };
        assert_eq!((r.direction, r.frame.data()), (Some(Direction::Tx), &[1, 2][..]));
    }

    #[test]
    fn refusals() {
        let (out, _) = read(
            "Time Stamp,ID,Extended,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8\n1,123,false,0,9,0,0,0,0,0,0,0,0\n1,123,false,0,3,01,02\n\
             x,123,false,0,0\n1,800,false,0,0\n1,123,maybe,0,0",
        );
        assert!(out[1..].iter().all(Result::is_err), "{out:?}");
        let (out, _) = read("166064000,0000021A,false,0,8");
        assert!(out[0].is_err(), "no header");
    }
}
