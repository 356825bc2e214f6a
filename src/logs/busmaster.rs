//! Reader of BUSMASTER logs (`.log`, one of SavvyCAN's exports).
//!
//! ```text
//! ***BUSMASTER Ver 2.4.0***
//! ***START DATE AND TIME 23:9:2015 22:17:28:928***
//! ***HEX***
//! ***SYSTEM MODE***
//! ***<Time><Tx/Rx><Channel><CAN ID><Type><DLC><DataBytes>***
//! 22:20:14:992 Rx 0 0000021A s 8 FE 36 12 FE 69 05 07 AD
//! 11:49:12:9420 Rx 1 0x023 s 1 40
//! ```
//!
//! Header lines are `***...***`; `***HEX***`/`***DEC***` set the base of ids
//! and data, `***SYSTEM MODE***`, `***ABSOLUTE MODE***`, `***RELATIVE MODE***`
//! the meaning of the time column. Frame types: `s` standard, `x` extended,
//! `sr`/`xr` remote requests (the DLC is the requested length).
//!
//! Timestamps: the time column is `hours:minutes:seconds:fraction`. Four
//! fraction digits are tenths of a millisecond, as BUSMASTER writes them
//! (`9420` is 942.0 ms); one to three digits are milliseconds, as SavvyCAN's
//! export writes them without leading zeros (`992` is 992 ms, `2` is 2 ms).
//! In system mode it is the time of day: with the start date of the header it
//! becomes Unix time, read as UTC (the log does not say which zone), moving
//! to the next day when the time of day goes back. In absolute mode it is the
//! time since logging started; in relative mode the delta from the previous
//! frame, summed up. Bus names: the channel column as written.
//!
//! Invariants: one line is one record; no allocation per line; no input can
//! panic.

use crate::frame::{CanId, Frame, FrameError};
use crate::logs::number::{dec_u32, dec_u64, hex_u32, unix_nanos};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, Token, intern_bus, shown, tokens};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, Direction, LogFormat, LogRecord};
use crate::time::Timestamp;

const DAY_NANOS: u64 = 86_400_000_000_000;

/// Streaming reader of BUSMASTER logs. See the module docs.
pub type BusMasterReader = TextReader<BusMaster>;

/// What the time column means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum TimeMode {
    /// Time of day.
    #[default]
    System,
    /// Time since logging started.
    Absolute,
    /// Time since the previous frame.
    Relative,
}

/// The BUSMASTER line parser: what the header said so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct BusMaster {
    decimal: bool,
    mode: TimeMode,
    /// Midnight (UTC) of the start date, in Unix nanoseconds.
    start_day: Option<u64>,
    /// Days added after the time of day went back.
    day_offset: u64,
    /// The previous frame's time of day (system mode) or sum (relative mode).
    last: u64,
}

impl LineFormat for BusMaster {
    const FORMAT: LogFormat = LogFormat::BusMaster;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        self.parse(line, buses)
    }
}

/// `h:m:s:fraction` as nanoseconds (hours may exceed 23).
fn parse_clock(text: &[u8]) -> Option<u64> {
    let mut parts = text.split(|&b| b == b':');
    let hours = dec_u64(parts.next()?)?;
    let minutes = dec_u64(parts.next()?)?;
    let seconds = dec_u64(parts.next()?)?;
    let fraction = parts.next()?;
    if parts.next().is_some() || minutes > 59 || seconds > 59 {
        return None;
    }
    // BUSMASTER writes four digits (0.1 ms units); SavvyCAN's export writes
    // the milliseconds without leading zeros (`22:20:15:2` is 2 ms).
    let frac = match fraction.len() {
        4 => dec_u64(fraction)? * 100_000,
        1..=3 => dec_u64(fraction)? * 1_000_000,
        _ => return None,
    };
    hours.checked_mul(3_600)?.checked_add(minutes * 60 + seconds)?.checked_mul(1_000_000_000)?.checked_add(frac)
}

impl BusMaster {
    fn parse(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        let mut toks = tokens(line);
        let Some(time_tok) = toks.next() else {
            return Ok(Parsed::Nothing);
        };
        if time_tok.text.starts_with(b"***") {
            self.header(line);
            return Ok(Parsed::Nothing);
        }
        let clock = parse_clock(time_tok.text)
            .ok_or_else(|| LineError::malformed(time_tok.start, "expected the time `h:m:s:ms`"))?;
        let nanos = match self.mode {
            TimeMode::Absolute => clock,
            TimeMode::Relative => {
                self.last = self.last.saturating_add(clock);
                self.last
            }
            TimeMode::System => {
                let day = self.start_day.ok_or_else(|| {
                    LineError::malformed(time_tok.start, "system-mode times need the `START DATE AND TIME` header")
                })?;
                if clock < self.last {
                    self.day_offset += 1;
                }
                self.last = clock;
                day.saturating_add(self.day_offset.saturating_mul(DAY_NANOS)).saturating_add(clock)
            }
        };
        let missing = |what: &str| LineError::malformed(line.len(), format!("expected {what}"));
        let dir = toks.next().ok_or_else(|| missing("`Rx` or `Tx`"))?;
        let direction = match dir.text {
            b"Rx" | b"RX" => Direction::Rx,
            b"Tx" | b"TX" => Direction::Tx,
            _ => return Err(LineError::malformed(dir.start, "expected `Rx` or `Tx`")),
        };
        let channel = toks.next().ok_or_else(|| missing("the channel"))?;
        if !channel.text.iter().all(u8::is_ascii_digit) {
            return Err(LineError::malformed(channel.start, "expected the channel number"));
        }
        let id_tok = toks.next().ok_or_else(|| missing("the id"))?;
        let kind = toks.next().ok_or_else(|| missing("the frame type"))?;
        let (extended, remote) = match kind.text {
            b"s" | b"S" => (false, false),
            b"x" | b"X" => (true, false),
            b"sr" | b"SR" => (false, true),
            b"xr" | b"XR" => (true, true),
            _ => return Err(LineError::malformed(kind.start, "expected the frame type s, x, sr or xr")),
        };
        let raw = self.number(id_tok, "id")?;
        let id = CanId::new(raw, extended).map_err(|e| LineError::frame(id_tok.start, e))?;
        let dlc_tok = toks.next().ok_or_else(|| missing("the DLC"))?;
        let dlc = dec_u32(dlc_tok.text).ok_or_else(|| {
            LineError::malformed(dlc_tok.start, format!("expected the DLC, found `{}`", shown(dlc_tok.text)))
        })?;
        let frame = if remote {
            Frame::remote(id, u8::try_from(dlc).unwrap_or(u8::MAX))
        } else {
            let len = usize::try_from(dlc).unwrap_or(usize::MAX);
            let mut data = [0u8; 8];
            let slots =
                data.get_mut(..len).ok_or(LineError::frame(dlc_tok.start, FrameError::ClassicTooLong { len }))?;
            for (i, slot) in slots.iter_mut().enumerate() {
                let t = toks.next().ok_or_else(|| missing(&format!("{len} data bytes, found {i}")))?;
                *slot = u8::try_from(self.number(t, "data byte")?)
                    .map_err(|_| LineError::malformed(t.start, "a data byte is at most 255"))?;
            }
            Frame::classic(id, data.get(..len).unwrap_or_default())
        }
        .map_err(|e| LineError::frame(dlc_tok.start, e))?;
        if let Some(t) = toks.next() {
            return Err(LineError::malformed(t.start, "unexpected text after the data bytes"));
        }
        let bus = intern_bus(buses, channel.text, channel.start)?;
        Ok(Parsed::Frame(LogRecord {
            time: Some(Timestamp::from_nanos(nanos)),
            bus,
            frame,
            direction: Some(direction),
        }))
    }

    /// A number in the log's base (`0x` allowed in hex mode).
    fn number(&self, tok: Token<'_>, what: &str) -> Result<u32, LineError> {
        let value = if self.decimal {
            dec_u32(tok.text)
        } else {
            let digits = tok.text.strip_prefix(b"0x").or_else(|| tok.text.strip_prefix(b"0X")).unwrap_or(tok.text);
            hex_u32(digits)
        };
        value
            .ok_or_else(|| LineError::malformed(tok.start, format!("expected the {what}, found `{}`", shown(tok.text))))
    }

    /// A `***...***` line.
    fn header(&mut self, line: &[u8]) {
        let inner = line.strip_prefix(b"***").unwrap_or(line);
        let inner = inner.strip_suffix(b"***").unwrap_or(inner);
        match inner {
            b"HEX" => self.decimal = false,
            b"DEC" => self.decimal = true,
            b"SYSTEM MODE" => self.mode = TimeMode::System,
            b"ABSOLUTE MODE" => self.mode = TimeMode::Absolute,
            b"RELATIVE MODE" => self.mode = TimeMode::Relative,
            _ => {
                if let Some(when) = inner.strip_prefix(b"START DATE AND TIME ") {
                    self.start_day = parse_start(when);
                    self.day_offset = 0;
                    self.last = 0;
                }
            }
        }
    }
}

/// `d:m:yyyy h:m:s:ms` → midnight of that day (the time part is not needed:
/// frames carry their own time of day).
fn parse_start(text: &[u8]) -> Option<u64> {
    let date = text.split(|&b| b == b' ').next()?;
    let mut parts = date.split(|&b| b == b':');
    let day = dec_u64(parts.next()?)?;
    let month = dec_u64(parts.next()?)?;
    let year = dec_u64(parts.next()?)?;
    unix_nanos(year, month, day, 0, 0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<Parsed, LineError>> {
        let mut state = BusMaster::default();
        let mut buses = Buses::default();
        text.lines().map(|l| state.parse(l.as_bytes(), &mut buses)).collect()
    }

    fn frame(p: &Result<Parsed, LineError>) -> LogRecord {
        match p {
            Ok(Parsed::Frame(r)) => *r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn system_mode_with_midnight() {
        let out = read(
            "***BUSMASTER Ver 2.4.0***\n***START DATE AND TIME 23:9:2015 22:17:28:928***\n***HEX***\n***SYSTEM MODE***\n\
             22:20:14:992 Rx 0 0000021A s 8 FE 36 12 FE 69 05 07 AD \n23:59:59:9999 Tx 1 0x18EFC034 x 1 40\n00:00:00:0001 Rx 1 0x100 sr 2",
        );
        let a = frame(&out[4]);
        // 2015-09-23 22:20:14.992 UTC (`date -u -d '2015-09-23 22:20:14.992' +%s.%N`).
        assert_eq!(a.time, Some(Timestamp::from_nanos(1_443_046_814_992_000_000)));
        assert_eq!(a.frame.data(), &[0xFE, 0x36, 0x12, 0xFE, 0x69, 5, 7, 0xAD]);
        let b = frame(&out[5]);
        assert!(b.frame.id().is_extended());
        assert_eq!(b.direction, Some(Direction::Tx));
        let c = frame(&out[6]);
        assert_eq!(c.frame, Frame::remote(CanId::standard(0x100).unwrap(), 2).unwrap());
        assert_eq!(c.time.unwrap().as_nanos() - b.time.unwrap().as_nanos(), 200_000, "next day");
    }

    #[test]
    fn decimal_and_relative() {
        let out = read("***DEC***\n***RELATIVE MODE***\n0:0:1:5 Rx 1 291 s 2 255 16\n0:0:0:2500 Rx 1 291 s 0");
        assert_eq!(frame(&out[2]).frame.data(), &[255, 16]);
        assert_eq!(frame(&out[2]).time, Some(Timestamp::from_millis(1_005)), "unpadded milliseconds");
        assert_eq!(frame(&out[3]).time, Some(Timestamp::from_millis(1_255)), "tenths of a millisecond");
    }

    #[test]
    fn refusals() {
        let out = read(
            "22:20:14:992 Rx 0 21A s 0\n***ABSOLUTE MODE***\n0:0:0:1 Rx 0 21A q 0\n0:0:0:1 Rx 0 21A s 9\n0:0:0:1 Rx 0 21A s 2 01",
        );
        assert!(out[0].is_err(), "system mode without a start date");
        assert!(out[2..].iter().all(Result::is_err));
    }
}
