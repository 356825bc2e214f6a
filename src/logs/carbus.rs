//! Reader of CARBUS Analyzer traces (the `@ TEXT @` `.trc` format of
//! canhacker.ru's tools, one of SavvyCAN's exports; not PEAK's `.trc`).
//!
//! ```text
//! @ TEXT @ 2 @ 64 @ 0 @ 55 @ 10078 @ 00:00:10.078 @
//! 46,016<TAB>1<TAB>0004<TAB>45A<TAB>8<TAB>5A 04 00 00 00 00 00 00<TAB>00000000<TAB>Z       <TAB>
//! ```
//!
//! Records end with a carriage return (`\r`). The header gives the format
//! version: in version 2 the time is `seconds,milliseconds`, in version 3
//! `seconds,microseconds`; the part after the comma is a count of those units
//! (SavvyCAN writes it without leading zeros in version 3). Fields are
//! separated by tabs: time, bus, record type (`0004`, a CAN frame, the only
//! type known), id, length, data bytes, a reserved field and the data as
//! text. The format has no extended flag: an id above `0x7FF` is extended.
//!
//! Bus names: the bus field as written. Timestamps: the time field, since
//! the trace started.
//!
//! Invariants: one record per `\r`-terminated line; no allocation per line;
//! no input can panic.

use crate::frame::{CanId, Frame, FrameError, MAX_STANDARD_ID};
use crate::logs::number::{dec_u32, dec_u64, hex_byte, hex_u32};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, intern_bus, shown, tokens};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, LogFormat, LogRecord};
use crate::time::Timestamp;

/// Streaming reader of CARBUS Analyzer traces. See the module docs.
pub type CarBusReader = TextReader<CarBus>;

/// The CARBUS line parser: the format version from the header.
#[derive(Clone, Copy, Debug, Default)]
pub struct CarBus {
    /// 2 or 3 once the header is read.
    version: Option<u32>,
}

impl LineFormat for CarBus {
    const FORMAT: LogFormat = LogFormat::CarBus;
    const TERMINATOR: u8 = b'\r';

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(Parsed::Nothing);
        }
        let Some(version) = self.version else {
            let mut toks = tokens(line);
            let (at, text) = (toks.next(), toks.next());
            let version = toks.nth(1).and_then(|v| dec_u32(v.text));
            match (at.map(|t| t.text), text.map(|t| t.text), version) {
                (Some(b"@"), Some(b"TEXT"), Some(v @ (2 | 3))) => {
                    self.version = Some(v);
                    return Ok(Parsed::Nothing);
                }
                _ => return Err(LineError::malformed(0, "expected the header `@ TEXT @ <version 2 or 3> @ ...`")),
            }
        };
        parse_record(line, version, buses)
    }
}

fn parse_record(line: &[u8], version: u32, buses: &mut Buses) -> Result<Parsed, LineError> {
    let mut at = 0;
    let mut fields = line.split(|&b| b == b'\t').map(|f| {
        let start = at;
        at += f.len() + 1;
        (start, f)
    });
    let mut next =
        |what: &str| fields.next().ok_or_else(|| LineError::malformed(line.len(), format!("expected {what}")));
    let (time_at, time) = next("the time")?;
    let (unit, limit) = if version == 2 { (1_000_000u64, 1_000u64) } else { (1_000, 1_000_000) };
    let nanos = time
        .iter()
        .position(|&b| b == b',')
        .and_then(|comma| {
            let seconds = dec_u64(time.get(..comma)?)?;
            let fraction = dec_u64(time.get(comma + 1..)?).filter(|&f| f < limit)?;
            seconds.checked_mul(1_000_000_000)?.checked_add(fraction * unit)
        })
        .ok_or_else(|| {
            LineError::malformed(time_at, format!("expected the time `seconds,fraction`, found `{}`", shown(time)))
        })?;
    let (bus_at, bus) = next("the bus")?;
    if bus.is_empty() || !bus.iter().all(u8::is_ascii_digit) {
        return Err(LineError::malformed(bus_at, "expected the bus number"));
    }
    let (kind_at, kind) = next("the record type")?;
    if kind != b"0004" {
        return Err(LineError::malformed(
            kind_at,
            format!("unknown record type `{}` (0004 is a CAN frame)", shown(kind)),
        ));
    }
    let (id_at, id_text) = next("the id")?;
    let raw = hex_u32(id_text)
        .ok_or_else(|| LineError::malformed(id_at, format!("expected a hex id, found `{}`", shown(id_text))))?;
    let id = CanId::new(raw, raw > MAX_STANDARD_ID).map_err(|e| LineError::frame(id_at, e))?;
    let (len_at, len_text) = next("the length")?;
    let len = dec_u32(len_text)
        .map(|l| l as usize)
        .ok_or_else(|| LineError::malformed(len_at, format!("expected the length, found `{}`", shown(len_text))))?;
    let (data_at, data_text) = next("the data")?;
    let mut data = [0u8; 8];
    let slots = data.get_mut(..len).ok_or(LineError::frame(len_at, FrameError::ClassicTooLong { len }))?;
    let mut bytes = tokens(data_text);
    for (i, slot) in slots.iter_mut().enumerate() {
        let t = bytes
            .next()
            .ok_or_else(|| LineError::malformed(data_at, format!("expected {len} data bytes, found {i}")))?;
        *slot = hex_byte(t.text).ok_or_else(|| LineError::malformed(data_at + t.start, "expected a data byte"))?;
    }
    if let Some(t) = bytes.next() {
        return Err(LineError::malformed(data_at + t.start, format!("more data bytes than the length {len}")));
    }
    let frame = Frame::classic(id, data.get(..len).unwrap_or_default()).map_err(|e| LineError::frame(len_at, e))?;
    Ok(Parsed::Frame(LogRecord {
        time: Some(Timestamp::from_nanos(nanos)),
        bus: intern_bus(buses, bus, bus_at)?,
        frame,
        direction: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<Parsed, LineError>> {
        let mut state = CarBus::default();
        let mut buses = Buses::default();
        text.split('\r').map(|l| state.parse_line(l.as_bytes(), &mut buses)).collect()
    }

    #[test]
    fn versions_2_and_3() {
        let out = read(
            "@ TEXT @ 2 @ 64 @ 0 @ 55 @ 10078 @ 00:00:10.078 @\r46,016\t1\t0004\t45A\t8\t5A 04 00 00 00 00 00 00\t00000000\tZ       \t\r",
        );
        let Ok(Parsed::Frame(r)) = out[1] else { panic!("{:?}", out[1]) };
        assert_eq!(r.time, Some(Timestamp::from_millis(46_016)));
        assert_eq!(r.frame, Frame::classic(CanId::standard(0x45A).unwrap(), &[0x5A, 4, 0, 0, 0, 0, 0, 0]).unwrap());
        let out = read("@ TEXT @ 3 @ 64 @ 0 @ 1 @ 0 @ 00:00:00.000 @\r7,16\t2\t0004\t18EFC034\t1\t01\t00000000\t.\t");
        let Ok(Parsed::Frame(r)) = out[1] else { panic!("{:?}", out[1]) };
        assert_eq!(r.time, Some(Timestamp::from_nanos(7_000_016_000)));
        assert!(r.frame.id().is_extended());
    }

    #[test]
    fn refusals() {
        assert!(read("46,016\t1\t0004\t45A\t0\t\t0\t\t")[0].is_err(), "no header");
        for bad in [
            "46,1000\t1\t0004\t45A\t0\t\t",
            "46,016\t1\t0005\t45A\t0\t\t",
            "46,016\t1\t0004\t45A\t2\t01\t",
            "46,016\t1\t0004\t45A\t1\t01 02\t",
        ] {
            let text = format!("@ TEXT @ 2 @ 64 @\r{bad}");
            assert!(read(&text)[1].is_err(), "{bad}");
        }
    }
}
