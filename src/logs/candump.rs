//! Reader of Linux can-utils `candump` output, in every form candump writes.
//!
//! The log form (`candump -l`, `-L`), one frame per line:
//!
//! ```text
//! (1436509052.249713) vcan0 044#2A366C2BBA          classic, 3-digit standard id
//! (1436509052.249713) vcan0 18EFC034#0102           extended id (8 digits)
//! (1436509052.249713) vcan0 123##1AABBCC            CAN FD: flags nibble, then data
//! (1436509052.249713) vcan0 123#R  123#R3  123#R8_9 remote request, DLC, raw DLC
//! (1436509052.249713) vcan0 20000080#0000000000000000   error frame (CAN_ERR_FLAG)
//! (1436509052.249713) vcan0 123#1122334455667788_E  8 bytes sent with raw DLC 14
//! (1436509052.249713) vcan0 123#0102 R              `-x`: R(eceived) or T(ransmitted)
//! ```
//!
//! The ascii form (`candump vcan0`), with or without a timestamp (`-ta`
//! `(1613749650.388103)`, `-tA` `(2020-12-19 12:04:45.485261)`, `-td`/`-tz`
//! `(000.000000)`):
//!
//! ```text
//!   vcan0  123   [4]  01 02 03 04               classic (one-digit length)
//!   vcan0  123  [12]  01 02 ... 0C               CAN FD (two-digit length)
//!   vcan0  123   {B}  11 22 33 44 55 66 77 88    classic, raw DLC 0xB (`-8`)
//!   vcan0  00000123   [0]  remote request
//!   vcan0  20000004   [8]  00 00 00 00 00 00 00 00   ERRORFRAME
//!   vcan0  123   [8]  31 30 30 2E 35 20 46 4D   '100.5 FM'   (`-a`)
//!   vcan0  RX B -  123  [12]  ...                (`-x`: direction, BRS, ESI)
//! ```
//!
//! Decisions, where candump's own output leaves room:
//! - A two-digit length (`[08]`, `[12]`) is what candump prints for CAN FD
//!   frames only, so such a frame is CAN FD (BRS/ESI false unless `-x` says).
//!   `[10]` is therefore an invalid frame (10 is not a CAN FD length), not ten
//!   classic bytes.
//! - A classic frame longer than 8 bytes (`064#F001FFFFFFFFFFFFFFFF`) is an
//!   invalid frame. A raw DLC above 8 (`_E`, `{E}`, `R8_9`) is accepted and
//!   the frame keeps its 8 bytes: it is what was on the wire.
//! - An error frame is [`Frame::error`] with the error class bits (the id
//!   without `CAN_ERR_FLAG`) and the detail bytes.
//! - CAN XL frames (`123###...`, `45123#81:00:...`, `[0003]`) are refused
//!   with an error saying so; byte-swapped (`-S`) and binary (`-i`) views are
//!   refused likewise.
//! - `vcan0 ERROR` and other lines without a frame are malformed.
//! - `DROPCOUNT: ...` lines candump writes into logs are counted as
//!   non-frames; the indented error-class lines that `-e` prints after an
//!   `ERRORFRAME` are skipped.
//!
//! Timestamps: `(seconds.fraction)` is taken as nanoseconds since the Unix
//! epoch for absolute logs, or since zero for `-tz`/`-td` output (delta
//! output gives each frame's delta as written); `(YYYY-MM-DD HH:MM:SS.ffffff)`
//! is read as UTC (candump prints local time; the log does not say which zone).
//! Decimals are parsed as integers: no rounding.
//!
//! Invariants: one line is one record; no allocation per line (the line
//! buffer is reused, interface names are interned); no input can panic.

use crate::frame::{CanId, FD_MAX_LEN, FdFlags, Frame};
use crate::logs::number::{dec_u64, hex_byte, hex_digit, hex_u32, parse_scaled, unix_nanos};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, NEGATIVE_TIME, Token, intern_bus, is_space, shown, tokens_from};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, Direction, LogFormat, LogRecord};
use crate::time::Timestamp;

/// SocketCAN's error-frame flag in the id.
const CAN_ERR_FLAG: u32 = 0x2000_0000;
/// SocketCAN's RTR and EFF flags, never printed by candump.
const CAN_RTR_EFF_FLAGS: u32 = 0xC000_0000;

/// Streaming reader of candump output. See the module docs for the forms.
pub type CandumpReader = TextReader<Candump>;

/// The candump line parser: what the previous line said, for the lines that
/// continue it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Candump {
    /// The last line was an ascii-form error frame: indented lines after it
    /// are its `-e` description.
    after_error_frame: bool,
}

impl LineFormat for Candump {
    const FORMAT: LogFormat = LogFormat::Candump;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        parse_line(line, buses, self)
    }
}

/// True when `line` is a candump line with a frame (used by format detection).
pub fn looks_like_candump(line: &str) -> bool {
    let mut buses = Buses::default();
    matches!(parse_line(line.as_bytes(), &mut buses, &mut Candump::default()), Ok(Parsed::Frame(_)))
}

/// Reads one line of candump output.
fn parse_line(line: &[u8], buses: &mut Buses, state: &mut Candump) -> Result<Parsed, LineError> {
    let continues_error = std::mem::take(&mut state.after_error_frame);
    let mut pos = 0;
    while line.get(pos).is_some_and(|b| is_space(*b)) {
        pos += 1;
    }
    let Some(&first) = line.get(pos) else {
        return Ok(Parsed::Nothing);
    };
    if continues_error && line.first() == Some(&b'\t') {
        // `candump -e` prints the decoded error classes on indented lines.
        state.after_error_frame = true;
        return Ok(Parsed::Nothing);
    }
    if first == b'('
        && let Some(record) = parse_log_fast(line, pos, buses)
    {
        return Ok(Parsed::Frame(record));
    }
    parse_general(line, pos, buses, state)
}

/// Any line, from its first non-blank byte at `pos`.
fn parse_general(line: &[u8], mut pos: usize, buses: &mut Buses, state: &mut Candump) -> Result<Parsed, LineError> {
    let first = line.get(pos).copied().unwrap_or(b' ');
    if line.get(pos..).is_some_and(|rest| rest.starts_with(b"DROPCOUNT:")) {
        return Ok(Parsed::NonFrame);
    }
    let time = if first == b'(' {
        let (time, end) = parse_timestamp(line, pos)?;
        pos = end;
        Some(time)
    } else {
        None
    };
    let mut toks = tokens_from(line, pos);
    let iface = toks.next().ok_or_else(|| LineError::malformed(line.len(), "expected an interface name"))?;
    let frame_tok =
        toks.next().ok_or_else(|| LineError::malformed(line.len(), "expected a frame after the interface name"))?;
    let (frame, direction) = if frame_tok.text.contains(&b'#') {
        let frame = parse_compact(frame_tok)?;
        let direction = match toks.next() {
            None => None,
            Some(t) if t.text == b"R" || t.text == b"r" => Some(Direction::Rx),
            Some(t) if t.text == b"T" || t.text == b"t" => Some(Direction::Tx),
            Some(t) => {
                return Err(LineError::malformed(
                    t.start,
                    format!("expected `R`, `T` or the end, found `{}`", shown(t.text)),
                ));
            }
        };
        if let Some(t) = toks.next() {
            return Err(LineError::malformed(t.start, "unexpected text after the frame"));
        }
        (frame, direction)
    } else {
        let (frame, direction) = parse_long(frame_tok, &mut toks)?;
        state.after_error_frame = frame.is_error();
        (frame, direction)
    };
    let bus = intern_bus(buses, iface.text, iface.start)?;
    Ok(Parsed::Frame(LogRecord { time, bus, frame, direction }))
}

/// The most common line, `(seconds.fraction) iface id#data` with a classic
/// or error frame, or `id##Fdata` with a CAN FD frame, read in one pass. `None` for anything else (or anything
/// wrong): the general parser then reads the line and reports its errors.
#[inline]
fn parse_log_fast(line: &[u8], open: usize, buses: &mut Buses) -> Option<LogRecord> {
    let rest = line.get(open + 1..)?;
    let close = rest.iter().position(|&b| b == b')')?;
    let nanos = parse_scaled(rest.get(..close)?, 9, b'.')?;
    let mut i = open + close + 2;
    let spaces = |i: &mut usize| {
        let start = *i;
        while line.get(*i) == Some(&b' ') {
            *i += 1;
        }
        *i > start
    };
    if !spaces(&mut i) {
        return None;
    }
    let iface_start = i;
    while line.get(i).is_some_and(|&b| !is_space(b)) {
        i += 1;
    }
    let iface = line.get(iface_start..i).filter(|name| !name.is_empty())?;
    if !spaces(&mut i) {
        return None;
    }
    let text = line.get(i..)?;
    let hash = text.iter().position(|&b| b == b'#')?;
    let raw = match hash {
        3 | 8 => hex_u32(text.get(..hash)?)?,
        _ => return None,
    };
    let hex = text.get(hash + 1..)?;
    // CAN FD: `##` then the flags nibble (BRS 1, ESI 2), then up to 64 bytes.
    let (fd, hex) = match hex.first() {
        Some(b'#') => (Some(hex_digit(*hex.get(1)?)?), hex.get(2..)?),
        _ => (None, hex),
    };
    let max = if fd.is_some() { 2 * FD_MAX_LEN } else { 16 };
    if hex.len() % 2 != 0 || hex.len() > max {
        return None;
    }
    let mut data = [0u8; FD_MAX_LEN];
    for (slot, pair) in data.iter_mut().zip(hex.chunks_exact(2)) {
        *slot = hex_byte(pair)?;
    }
    let data = data.get(..hex.len() / 2)?;
    let frame = if let Some(flags) = fd {
        let id = if hash == 3 { CanId::standard(raw).ok()? } else { CanId::extended(raw).ok()? };
        Frame::fd(id, data, FdFlags { brs: flags & 1 != 0, esi: flags & 2 != 0 }).ok()?
    } else if hash == 3 {
        Frame::classic(CanId::standard(raw).ok()?, data).ok()?
    } else if raw & CAN_RTR_EFF_FLAGS != 0 {
        return None;
    } else if raw & CAN_ERR_FLAG != 0 {
        Frame::error(raw & !CAN_ERR_FLAG, data).ok()?
    } else {
        Frame::classic(CanId::extended(raw).ok()?, data).ok()?
    };
    Some(LogRecord {
        time: Some(Timestamp::from_nanos(nanos)),
        bus: intern_bus(buses, iface, iface_start).ok()?,
        frame,
        direction: None,
    })
}

/// `(seconds.fraction)` or `(YYYY-MM-DD HH:MM:SS.fraction)` at `open`; returns
/// the time and the offset just past `)`.
fn parse_timestamp(line: &[u8], open: usize) -> Result<(Timestamp, usize), LineError> {
    let rest = line.get(open + 1..).unwrap_or_default();
    let close = rest
        .iter()
        .position(|&b| b == b')')
        .ok_or_else(|| LineError::malformed(open, "timestamp `(` is not closed by `)`"))?;
    let inner = rest.get(..close).unwrap_or_default();
    if inner.first() == Some(&b'-') {
        return Err(LineError::malformed(open + 1, NEGATIVE_TIME));
    }
    let nanos = if inner.contains(&b' ') { parse_date_time(inner) } else { parse_scaled(inner, 9, b'.') };
    let nanos = nanos.ok_or_else(|| {
        LineError::malformed(
            open + 1,
            "expected a timestamp `(seconds.fraction)` or `(YYYY-MM-DD HH:MM:SS.fraction)` (at most 9 decimals)",
        )
    })?;
    Ok((Timestamp::from_nanos(nanos), open + close + 2))
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]` as UTC nanoseconds since the epoch.
fn parse_date_time(text: &[u8]) -> Option<u64> {
    let mut halves = text.split(|&b| b == b' ').filter(|s| !s.is_empty());
    let (date, clock) = (halves.next()?, halves.next()?);
    if halves.next().is_some() {
        return None;
    }
    let mut date_parts = date.split(|&b| b == b'-');
    let year = dec_u64(date_parts.next()?)?;
    let month = dec_u64(date_parts.next()?)?;
    let day = dec_u64(date_parts.next()?)?;
    let mut clock_parts = clock.split(|&b| b == b':');
    let hour = dec_u64(clock_parts.next()?)?;
    let minute = dec_u64(clock_parts.next()?)?;
    let seconds = parse_scaled(clock_parts.next()?, 9, b'.')?;
    if date_parts.next().is_some() || clock_parts.next().is_some() {
        return None;
    }
    unix_nanos(year, month, day, hour, minute, seconds / 1_000_000_000, seconds % 1_000_000_000)
}

/// What a printed id stands for.
#[derive(Clone, Copy, Debug)]
enum PrintedId {
    /// A data or remote frame's id.
    Id(CanId),
    /// An error frame's class bits (without `CAN_ERR_FLAG`).
    Error(u32),
}

/// An id of 3 (standard) or 8 (extended or error) hex digits.
fn parse_id(tok: &[u8], offset: usize) -> Result<PrintedId, LineError> {
    let raw = match tok.len() {
        3 | 8 => hex_u32(tok),
        _ => None,
    }
    .ok_or_else(|| {
        LineError::malformed(
            offset,
            format!("expected a CAN id of 3 (standard) or 8 (extended) hex digits, found `{}`", shown(tok)),
        )
    })?;
    if tok.len() == 3 {
        return CanId::standard(raw).map(PrintedId::Id).map_err(|e| LineError::frame(offset, e));
    }
    if raw & CAN_RTR_EFF_FLAGS != 0 {
        return Err(LineError::malformed(offset, "an 8-digit id has bits 30 or 31 set, which candump never prints"));
    }
    if raw & CAN_ERR_FLAG != 0 {
        return Ok(PrintedId::Error(raw & !CAN_ERR_FLAG));
    }
    CanId::extended(raw).map(PrintedId::Id).map_err(|e| LineError::frame(offset, e))
}

/// The compact form `<id>#<data>`, `<id>##<flags><data>`, `<id>#R[dlc]`.
fn parse_compact(tok: Token<'_>) -> Result<Frame, LineError> {
    let text = tok.text;
    let hash = text.iter().position(|&b| b == b'#').unwrap_or(text.len());
    let id_text = text.get(..hash).unwrap_or_default();
    let rest = text.get(hash + 1..).unwrap_or_default();
    let rest_at = tok.start + hash + 1;
    if rest.starts_with(b"##") || (id_text.len() == 5 && rest.contains(&b':')) {
        return Err(LineError::malformed(tok.start, "CAN XL frames are not supported"));
    }
    let id = parse_id(id_text, tok.start)?;
    match rest.first() {
        Some(b'#') => {
            let PrintedId::Id(id) = id else {
                return Err(LineError::malformed(tok.start, "an error frame cannot be a CAN FD frame"));
            };
            let flags = rest
                .get(1)
                .and_then(|&b| hex_digit(b))
                .ok_or_else(|| LineError::malformed(rest_at + 1, "expected the CAN FD flags nibble after `##`"))?;
            let mut data = [0u8; FD_MAX_LEN];
            let len = parse_hex_data(rest.get(2..).unwrap_or_default(), rest_at + 2, &mut data)?;
            let flags = FdFlags { brs: flags & 1 != 0, esi: flags & 2 != 0 };
            Frame::fd(id, data.get(..len).unwrap_or_default(), flags).map_err(|e| LineError::frame(rest_at, e))
        }
        Some(b'R' | b'r') => {
            let PrintedId::Id(id) = id else {
                return Err(LineError::malformed(tok.start, "an error frame cannot be a remote request"));
            };
            let dlc = match rest.get(1..).unwrap_or_default() {
                [] => Some(0),
                [d] => hex_digit(*d).filter(|&d| d <= 8),
                [b'8', b'_', raw] => hex_digit(*raw).filter(|&d| d > 8).map(|_| 8),
                _ => None,
            }
            .ok_or_else(|| {
                LineError::malformed(rest_at, "expected `R`, `R<DLC 0-8>` or `R8_<raw DLC 9-F>` for a remote request")
            })?;
            Frame::remote(id, dlc).map_err(|e| LineError::frame(rest_at, e))
        }
        _ => {
            let (data_text, raw_dlc) = match rest.iter().position(|&b| b == b'_') {
                Some(u) => (rest.get(..u).unwrap_or_default(), Some((rest.get(u + 1..).unwrap_or_default(), u))),
                None => (rest, None),
            };
            let mut data = [0u8; FD_MAX_LEN];
            let len = parse_hex_data(data_text, rest_at, &mut data)?;
            if let Some((raw, u)) = raw_dlc {
                let valid = matches!(raw, [d] if hex_digit(*d).is_some_and(|d| d > 8)) && len == 8;
                if !valid {
                    return Err(LineError::malformed(
                        rest_at + u,
                        "a raw DLC suffix `_<9-F>` only follows exactly 8 data bytes",
                    ));
                }
            }
            let data = data.get(..len).unwrap_or_default();
            match id {
                PrintedId::Id(id) => Frame::classic(id, data),
                PrintedId::Error(class) => Frame::error(class, data),
            }
            .map_err(|e| LineError::frame(rest_at, e))
        }
    }
}

/// Hex bytes with optional `.` separators into `out`; returns the count.
fn parse_hex_data(text: &[u8], offset: usize, out: &mut [u8; FD_MAX_LEN]) -> Result<usize, LineError> {
    let mut len = 0;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b == b'.' {
            i += 1;
            continue;
        }
        let hi = hex_digit(b).ok_or_else(|| LineError::malformed(offset + i, "expected a hex digit"))?;
        let lo = text.get(i + 1).and_then(|&b| hex_digit(b)).ok_or_else(|| {
            LineError::malformed(offset + i + 1, "expected a second hex digit (data bytes are pairs)")
        })?;
        let slot = out
            .get_mut(len)
            .ok_or_else(|| LineError::malformed(offset + i, format!("more than {FD_MAX_LEN} data bytes")))?;
        *slot = hi << 4 | lo;
        len += 1;
        i += 2;
    }
    Ok(len)
}

/// The length column of the ascii form.
#[derive(Clone, Copy, Debug)]
enum LengthColumn {
    /// `[n]`: classic CAN (or remote, or error frame).
    Classic(usize),
    /// `[nn]`: CAN FD.
    Fd(usize),
}

/// The ascii form, from its first token after the interface name.
fn parse_long<'a>(
    first: Token<'a>,
    toks: &mut impl Iterator<Item = Token<'a>>,
) -> Result<(Frame, Option<Direction>), LineError> {
    let mut id_tok = first;
    let mut direction = None;
    let mut flags = FdFlags::default();
    if first.text == b"RX" || first.text == b"TX" {
        direction = Some(if first.text == b"RX" { Direction::Rx } else { Direction::Tx });
        let brs = toks.next().filter(|t| t.text == b"B" || t.text == b"-");
        let esi = toks.next().filter(|t| t.text == b"E" || t.text == b"-");
        let (Some(brs), Some(esi)) = (brs, esi) else {
            return Err(LineError::malformed(first.end(), "expected `B`/`-` and `E`/`-` after RX/TX"));
        };
        flags = FdFlags { brs: brs.text == b"B", esi: esi.text == b"E" };
        id_tok = toks.next().ok_or_else(|| LineError::malformed(esi.end(), "expected a CAN id"))?;
    }
    let id = parse_id(id_tok.text, id_tok.start)?;
    let len_tok =
        toks.next().ok_or_else(|| LineError::malformed(id_tok.end(), "expected the length (`[n]`) after the id"))?;
    let length = match len_tok.text {
        [b'[', d, b']'] if d.is_ascii_digit() => LengthColumn::Classic(usize::from(d - b'0')),
        [b'[', d1, d2, b']'] if d1.is_ascii_digit() && d2.is_ascii_digit() => {
            LengthColumn::Fd(usize::from(d1 - b'0') * 10 + usize::from(d2 - b'0'))
        }
        [b'{', h, b'}'] if hex_digit(*h).is_some() => {
            LengthColumn::Classic(usize::from(hex_digit(*h).unwrap_or(8)).min(8))
        }
        [b'[', _, _, _, _, b']'] => {
            return Err(LineError::malformed(len_tok.start, "CAN XL frames are not supported"));
        }
        _ => {
            return Err(LineError::malformed(
                len_tok.start,
                format!("expected the length as `[n]`, `[nn]` or `{{X}}`, found `{}`", shown(len_tok.text)),
            ));
        }
    };
    let len = match length {
        LengthColumn::Classic(n) | LengthColumn::Fd(n) => n,
    };
    let mut data = [0u8; FD_MAX_LEN];
    let mut count = 0;
    let mut next = toks.next();
    let is_remote = matches!(length, LengthColumn::Classic(_)) && next.is_some_and(|t| t.text == b"remote");
    if is_remote {
        let request = toks.next().filter(|r| r.text == b"request");
        if request.is_none() {
            return Err(LineError::malformed(len_tok.end(), "expected `remote request`"));
        }
        next = toks.next();
    } else {
        while count < len {
            let Some(t) = next else {
                return Err(LineError::malformed(len_tok.end(), format!("expected {len} data bytes, found {count}")));
            };
            let byte = hex_byte(t.text).ok_or_else(|| {
                let message = if t.text.contains(&b'`') {
                    "byte-swapped output (candump -S) is not supported".to_owned()
                } else if t.text.len() == 8 && t.text.iter().all(|b| *b == b'0' || *b == b'1') {
                    "binary output (candump -i) is not supported".to_owned()
                } else {
                    format!("expected a data byte (two hex digits), found `{}`", shown(t.text))
                };
                LineError::malformed(t.start, message)
            })?;
            let slot = data
                .get_mut(count)
                .ok_or_else(|| LineError::malformed(len_tok.start, format!("more than {FD_MAX_LEN} data bytes")))?;
            *slot = byte;
            count += 1;
            next = toks.next();
        }
    }
    if let Some(t) = next {
        let error_marker = t.text == b"ERRORFRAME" && matches!(id, PrintedId::Error(_));
        let ascii_column = t.text.first() == Some(&b'\'');
        if !(error_marker || ascii_column) || (error_marker && toks.next().is_some()) {
            return Err(LineError::malformed(t.start, "unexpected text after the frame"));
        }
    }
    let data = data.get(..count).unwrap_or_default();
    let frame = match (id, length) {
        (PrintedId::Error(_), LengthColumn::Fd(_)) => {
            return Err(LineError::malformed(len_tok.start, "an error frame cannot be a CAN FD frame"));
        }
        (PrintedId::Error(class), LengthColumn::Classic(_)) => {
            if is_remote {
                return Err(LineError::malformed(len_tok.end(), "an error frame cannot be a remote request"));
            }
            Frame::error(class, data)
        }
        (PrintedId::Id(id), LengthColumn::Fd(_)) => Frame::fd(id, data, flags),
        (PrintedId::Id(_), LengthColumn::Classic(_)) if flags != FdFlags::default() => {
            return Err(LineError::malformed(first.start, "BRS/ESI flags on a classic CAN frame"));
        }
        (PrintedId::Id(id), LengthColumn::Classic(n)) if is_remote => Frame::remote(id, n as u8),
        (PrintedId::Id(id), LengthColumn::Classic(_)) => Frame::classic(id, data),
    }
    .map_err(|e| LineError::frame(len_tok.start, e))?;
    Ok((frame, direction))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameKind;

    fn one(line: &str) -> Result<(LogRecord, String), LineError> {
        let mut buses = Buses::default();
        match parse_line(line.as_bytes(), &mut buses, &mut Candump::default())? {
            Parsed::Frame(r) => Ok((r, buses.name(r.bus).to_owned())),
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn err(line: &str) -> LineError {
        let mut buses = Buses::default();
        parse_line(line.as_bytes(), &mut buses, &mut Candump::default()).expect_err(line)
    }

    fn std(id: u32) -> CanId {
        CanId::standard(id).unwrap()
    }

    #[test]
    fn log_form() {
        let (r, bus) = one("(1436509052.249713) vcan0 044#2A366C2BBA").unwrap();
        assert_eq!(bus, "vcan0");
        assert_eq!(r.time, Some(Timestamp::from_nanos(1_436_509_052_249_713_000)));
        assert_eq!(r.frame, Frame::classic(std(0x44), &[0x2A, 0x36, 0x6C, 0x2B, 0xBA]).unwrap());
        assert_eq!(r.direction, None);
        let (r, _) = one("(0.1) can1 18EFC034#01.02 T").unwrap();
        assert_eq!(r.frame, Frame::classic(CanId::extended(0x18EF_C034).unwrap(), &[1, 2]).unwrap());
        assert_eq!(r.direction, Some(Direction::Tx));
        let (r, _) = one("(0.1) can1 123#").unwrap();
        assert_eq!(r.frame, Frame::classic(std(0x123), &[]).unwrap());
    }

    #[test]
    fn fd_remote_error_and_raw_dlc() {
        let (r, _) = one("(1.0) can0 123##3AABB").unwrap();
        assert_eq!(r.frame, Frame::fd(std(0x123), &[0xAA, 0xBB], FdFlags { brs: true, esi: true }).unwrap());
        let (r, _) = one("(1.0) can0 123##4").unwrap();
        assert_eq!(r.frame, Frame::fd(std(0x123), &[], FdFlags::default()).unwrap(), "FDF bit 0x4 is ignored");
        for (text, dlc) in [("123#R", 0), ("123#r", 0), ("123#R3", 3), ("123#R8_9", 8)] {
            let (r, _) = one(&format!("(1.0) can0 {text}")).unwrap();
            assert_eq!(r.frame, Frame::remote(std(0x123), dlc).unwrap(), "{text}");
        }
        let (r, _) = one("(1.0) can0 20000080#0000000000000000").unwrap();
        assert_eq!(r.frame, Frame::error(0x80, &[0; 8]).unwrap());
        let (r, _) = one("(1.0) can0 123#1122334455667788_E").unwrap();
        assert_eq!(r.frame.data(), &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    }

    #[test]
    fn ascii_form() {
        let (r, bus) = one("  vcan0  1F4   [4]  01 02 03 04").unwrap();
        assert_eq!((bus.as_str(), r.time), ("vcan0", None));
        assert_eq!(r.frame, Frame::classic(std(0x1F4), &[1, 2, 3, 4]).unwrap());
        let (r, _) = one(" (2020-12-19 12:04:45.485261)  vcan0  00000123   [0]  remote request").unwrap();
        assert_eq!(r.time, Some(Timestamp::from_nanos(1_608_379_485_485_261_000)));
        assert_eq!(r.frame, Frame::remote(CanId::extended(0x123).unwrap(), 0).unwrap());
        let (r, _) = one("  vcan0  20000004   [8]  00 00 00 00 00 00 00 00   ERRORFRAME").unwrap();
        assert_eq!(r.frame, Frame::error(4, &[0; 8]).unwrap());
        let (r, _) = one("(1613749650.388103)  can1       0AD  [08]  A6 55 3B CF 3F 1A F5 2A").unwrap();
        assert_eq!(r.frame.kind(), FrameKind::Fd);
        let (r, _) = one(" can1  123   [8]  31 30 30 2E 35 20 46 4D   '100.5 FM'").unwrap();
        assert_eq!(r.frame.data(), b"100.5 FM");
        let (r, _) = one("  can0  RX B E  123  [12]  01 02 03 04 05 06 07 08 09 0A 0B 0C").unwrap();
        assert_eq!(r.frame.fd_flags(), FdFlags { brs: true, esi: true });
        assert_eq!(r.direction, Some(Direction::Rx));
        let (r, _) = one("  can0  321   {B}  11 22 33 44 55 66 77 88").unwrap();
        assert_eq!(r.frame.len(), 8);
        let (r, _) = one("  can0  321   [2]  remote request").unwrap();
        assert_eq!(r.frame, Frame::remote(std(0x321), 2).unwrap());
    }

    #[test]
    fn refusals_are_precise() {
        let e = err("  vcan1  064   [10]  F0 01 FF FF FF FF FF FF FF FF");
        assert_eq!(e.problem, crate::logs::text::Problem::Frame(crate::frame::FrameError::InvalidFdLength { len: 10 }));
        assert_eq!(e.offset, 15);
        let e = err("(1594172462.126542) vcan0 064#F001FFFFFFFFFFFFFFFF");
        assert_eq!(e.problem, crate::logs::text::Problem::Frame(crate::frame::FrameError::ClassicTooLong { len: 10 }));
        let e = err("  vcan0  ERROR");
        assert_eq!(e.offset, 9);
        assert!(matches!(e.problem, crate::logs::text::Problem::Malformed(ref m) if m.contains("`ERROR`")));
        assert!(
            matches!(err("(1.0) can0 123###00").problem, crate::logs::text::Problem::Malformed(ref m) if m.contains("XL"))
        );
        assert!(
            matches!(err("(1.0) can0 45123#81:00:12345678#11").problem, crate::logs::text::Problem::Malformed(ref m) if m.contains("XL"))
        );
        for bad in [
            "(1.0) can0 800#00",
            "(1.0) can0 12#00",
            "(1.0) can0 123#0",
            "(1.0) can0 123#R9",
            "(1.0) can0 123#11_E",
            "(1.0) can0 123#00 X",
            "(1.0 can0 123#00",
            "(1.0) can0",
            "(1.0) can0 C0000000#00",
            "(1.0) can0 20000000##000",
            "  can0  123   [3]  01 02",
            "  can0  123   [2]  01 02 03",
            "  can0  123   [2]  01`02",
        ] {
            err(bad);
        }
        let long_name = format!("(1.0) {} 123#00", "x".repeat(65));
        assert!(
            matches!(err(&long_name).problem, crate::logs::text::Problem::Malformed(ref m) if m.contains("bus name"))
        );
        assert!(one(&format!("(1.0) {} 123#00", "x".repeat(64))).is_ok());
    }

    #[test]
    fn non_frames() {
        let mut buses = Buses::default();
        let mut state = Candump::default();
        let mut p = |l: &str| parse_line(l.as_bytes(), &mut buses, &mut state).unwrap();
        assert_eq!(p(""), Parsed::Nothing);
        assert_eq!(p("DROPCOUNT: dropped 2 CAN frames on 'can0' socket (total drops 2)"), Parsed::NonFrame);
        assert!(matches!(p("  can0  20000004   [8]  00 00 00 00 00 00 00 00   ERRORFRAME"), Parsed::Frame(_)));
        assert_eq!(p("\tcontroller-problem{rx-error-warning}"), Parsed::Nothing);
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        let lines = [
            "(1436509052.249713) vcan0 044#2A366C2BBA",
            "(0.1) can1 18EFC034#0102",
            "(0.1)  can1   123#",
            "(1.0) can0 20000080#0000000000000000",
            "(46408.584930) can128 2E4#BE000000A9",
            "(1.0) can0 800#00",
            "(1.0) can0 123#0G",
            "(1.0) can0 123#00 R",
            "(1.0) can0 123##100",
            "(1.0) can0 123##1",
            "(1.0) can0 123##3",
            "(1700000000.004758) vcan0 110##100000140E2010051",
            "(1.0) can0 1FFFFFFF##2000102030405060708090A0B",
            "(1.0) can0 123##100112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF",
            "(1.0) can0 123##1001",
            "(1.0) can0 123##G00",
            "(1.0) can0 20000080##100",
            "(1.0) can0 123###100",
            "(1.0) can0 C0000000#00",
            "(-1.0) can0 123#00",
            "(1.0)can0 123#00",
        ];
        for line in lines {
            let mut fast_buses = Buses::default();
            let fast = parse_log_fast(line.as_bytes(), 0, &mut fast_buses);
            let mut buses = Buses::default();
            let general = parse_general(line.as_bytes(), 0, &mut buses, &mut Candump::default());
            if let Some(record) = fast {
                assert_eq!(general, Ok(Parsed::Frame(record)), "{line}");
                assert_eq!(fast_buses.names(), buses.names());
            }
        }
        assert!(parse_log_fast(b"(1.0) can0 123#00", 0, &mut Buses::default()).is_some());
        assert!(parse_log_fast(b"(1.0) can0 123##100112233445566778899AABB", 0, &mut Buses::default()).is_some());
    }

    #[test]
    fn detection() {
        assert!(looks_like_candump("(1.0) can0 123#00"));
        assert!(!looks_like_candump("date Sam Sep 30 15:06:13.191 2017"));
    }
}
