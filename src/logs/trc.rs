//! Reader of PEAK-System trace files (`.trc`), file versions 1.0 to 2.1.
//!
//! The version comes from the `;$FILEVERSION=` header line (none means 1.0);
//! 2.x files name their columns in `;$COLUMNS=`. Other `;` lines are
//! comments. The data lines, by version:
//!
//! ```text
//! 1.0      1)      1841      0001  8  00 00 00 00 00 00 00 00
//! 1.1      1)      1059.9  Rx         0300  7  00 00 00 00 04 00 00
//! 1.2      1)      1059.900  1  Rx         0300  7  00 00 00 00 04 00 00
//! 1.3      1)      1059.900 1  Rx        0300 -  7    00 00 00 00 04 00 00
//! 2.0      1      1059.900 DT     0300 Rx 7  00 00 00 00 04 00 00          ($COLUMNS=N,O,T,I,d,l,D)
//! 2.1      1      1059.900 DT 1      0300 Rx -  7    00 00 00 00 04 00 00  ($COLUMNS=N,O,T,B,I,d,R,L,D)
//! ```
//!
//! Ids of 4 digits are standard, of 8 digits extended. `RTR` in place of the
//! data (1.x) or the type `RR` (2.x) is a remote request for the given length.
//! 2.x types: `DT` classic data, `FD` CAN FD, `FB` CAN FD with BRS, `FE` CAN
//! FD with ESI, `BI` CAN FD with both BRS and ESI (PEAK's file format
//! document; python-can 4.6 reads `FE` as BRS+ESI and `BI` as ESI only), `RR`
//! remote request, `ER` error frame; `ST` (status), `EC` (error counters)
//! and `EV` (events) are counted as non-frames. In 1.x, bus warnings (id
//! `FFFFFFFF`, type `Warng`: `BUSLIGHT`, `BUSHEAVY`, ...) are non-frames;
//! `Error`/`ERROR` lines are error frames.
//!
//! Error frames carry PEAK's own error description, not SocketCAN error
//! classes: they become [`Frame::error`]`(0, [])`.
//!
//! Bus names: the bus column (1.2, 1.3, 2.1 with `B`) as written, `"1"` for
//! versions without one (a single-bus trace). Timestamps: the time offset
//! column in milliseconds since the start of the trace, converted to
//! nanoseconds exactly; the `$STARTTIME` of the header is not added.
//!
//! Invariants: one line is one record; no allocation per line; no input can
//! panic. The header is read as it comes (it is the `;` lines at the top).

use crate::frame::{CanId, FD_MAX_LEN, FdFlags, Frame, dlc_to_fd_len};
use crate::logs::number::{dec_u32, hex_byte, hex_u32, parse_scaled};
use crate::logs::outcome::Parsed;
use crate::logs::text::{LineError, Token, Tokens, intern_bus, shown, tokens};
use crate::logs::text_reader::{LineFormat, TextReader};
use crate::logs::{Buses, Direction, LogFormat, LogRecord};
use crate::time::Timestamp;

/// The trace file versions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrcVersion {
    /// 1.0 (also files without a `$FILEVERSION` line).
    #[default]
    V1_0,
    /// 1.1: adds the type column (`Rx`, `Tx`, `Warng`, `Error`).
    V1_1,
    /// 1.2: adds the bus column.
    V1_2,
    /// 1.3: adds a reserved column after the id.
    V1_3,
    /// 2.0: columns named by `$COLUMNS`, CAN FD.
    V2_0,
    /// 2.1: like 2.0 with a bus column.
    V2_1,
}

/// Positions of the columns of a 2.x file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Columns {
    time: Option<usize>,
    kind: Option<usize>,
    bus: Option<usize>,
    id: Option<usize>,
    direction: Option<usize>,
    /// `l`: the data length in bytes.
    length: Option<usize>,
    /// `L`: the DLC.
    dlc: Option<usize>,
    data: Option<usize>,
    /// How many columns there are before the data.
    count: usize,
}

/// Streaming reader of PEAK trace files. See the module docs.
pub type TrcReader = TextReader<Trc>;

/// The trace line parser: what the header said so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trc {
    version: TrcVersion,
    columns: Option<Columns>,
}

impl Trc {
    /// The file version, as far as the header has been read.
    pub fn version(&self) -> TrcVersion {
        self.version
    }
}

impl LineFormat for Trc {
    const FORMAT: LogFormat = LogFormat::Trc;

    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError> {
        parse_line(line, self, buses)
    }
}

/// Reads one line of a trace file.
fn parse_line(line: &[u8], state: &mut Trc, buses: &mut Buses) -> Result<Parsed, LineError> {
    let mut toks = tokens(line);
    let Some(first) = toks.next() else {
        return Ok(Parsed::Nothing);
    };
    if first.text.first() == Some(&b';') {
        parse_header(line, state)?;
        return Ok(Parsed::Nothing);
    }
    let number_ok = match state.version {
        TrcVersion::V2_0 | TrcVersion::V2_1 => first.text.iter().all(u8::is_ascii_digit),
        _ => first.text.split_last().is_some_and(|(last, n)| *last == b')' && n.iter().all(u8::is_ascii_digit)),
    };
    if !number_ok || (first.text.len() < 2 && state.version < TrcVersion::V2_0) {
        return Err(LineError::malformed(first.start, "expected the message number"));
    }
    match state.version {
        TrcVersion::V2_0 | TrcVersion::V2_1 => parse_v2(line, state, buses),
        version => parse_v1(toks, version, buses, line.len()),
    }
}

/// `;$FILEVERSION=`, `;$COLUMNS=`; other `;` lines are comments.
fn parse_header(line: &[u8], state: &mut Trc) -> Result<(), LineError> {
    let start = line.iter().position(|&b| b == b';').unwrap_or(0);
    let text = line.get(start + 1..).unwrap_or_default();
    let value_at = start + 1 + text.iter().position(|&b| b == b'=').map_or(0, |p| p + 1);
    let value = trim(text.iter().position(|&b| b == b'=').and_then(|p| text.get(p + 1..)).unwrap_or_default());
    if text.starts_with(b"$FILEVERSION") {
        state.version = match value {
            b"1.0" => TrcVersion::V1_0,
            b"1.1" => TrcVersion::V1_1,
            b"1.2" => TrcVersion::V1_2,
            b"1.3" => TrcVersion::V1_3,
            b"2.0" => TrcVersion::V2_0,
            b"2.1" => TrcVersion::V2_1,
            _ => {
                return Err(LineError::malformed(
                    value_at,
                    format!("unknown trace file version `{}` (1.0 to 2.1 are read)", shown(value)),
                ));
            }
        };
    } else if text.starts_with(b"$COLUMNS") {
        let mut columns = Columns::default();
        for (i, name) in value.split(|&b| b == b',').enumerate() {
            let slot = match trim(name) {
                b"O" => &mut columns.time,
                b"T" => &mut columns.kind,
                b"B" => &mut columns.bus,
                b"I" => &mut columns.id,
                b"d" => &mut columns.direction,
                b"l" => &mut columns.length,
                b"L" => &mut columns.dlc,
                b"D" => &mut columns.data,
                b"N" | b"R" => continue,
                other => {
                    return Err(LineError::malformed(value_at, format!("unknown column `{}`", shown(other))));
                }
            };
            *slot = Some(i);
            columns.count = i + 1;
        }
        let complete = columns.time.is_some()
            && columns.kind.is_some()
            && columns.id.is_some()
            && columns.direction.is_some()
            && (columns.length.is_some() || columns.dlc.is_some());
        if !complete {
            return Err(LineError::malformed(value_at, "`$COLUMNS` lacks one of O, T, I, d and l or L"));
        }
        state.columns = Some(columns);
    }
    Ok(())
}

fn trim(text: &[u8]) -> &[u8] {
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    let end = text.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |p| p + 1);
    text.get(start..end).unwrap_or_default()
}

/// Milliseconds with up to 6 decimals as a timestamp.
fn parse_time(tok: Token<'_>) -> Result<Timestamp, LineError> {
    parse_scaled(tok.text, 6, b'.')
        .map(Timestamp::from_nanos)
        .ok_or_else(|| LineError::malformed(tok.start, "expected the time offset in milliseconds"))
}

/// A 4-digit (standard) or 8-digit (extended) hex id.
fn parse_id(tok: Token<'_>) -> Result<CanId, LineError> {
    let raw = match tok.text.len() {
        1..=4 | 8 => hex_u32(tok.text),
        _ => None,
    }
    .ok_or_else(|| {
        LineError::malformed(tok.start, format!("expected a CAN id of 4 or 8 hex digits, found `{}`", shown(tok.text)))
    })?;
    CanId::new(raw, tok.text.len() == 8).map_err(|e| LineError::frame(tok.start, e))
}

/// `Rx` or `Tx`.
fn parse_direction(tok: Token<'_>) -> Result<Direction, LineError> {
    match tok.text {
        b"Rx" => Ok(Direction::Rx),
        b"Tx" => Ok(Direction::Tx),
        _ => Err(LineError::malformed(tok.start, format!("expected `Rx` or `Tx`, found `{}`", shown(tok.text)))),
    }
}

/// `count` hex data bytes.
fn read_bytes(toks: &mut Tokens<'_>, out: &mut [u8], after: usize) -> Result<(), LineError> {
    let wanted = out.len();
    for (i, slot) in out.iter_mut().enumerate() {
        let t = toks
            .next()
            .ok_or_else(|| LineError::malformed(after, format!("expected {wanted} data bytes, found {i}")))?;
        *slot = hex_byte(t.text).ok_or_else(|| {
            LineError::malformed(t.start, format!("expected a data byte (two hex digits), found `{}`", shown(t.text)))
        })?;
    }
    Ok(())
}

/// Versions 1.0 to 1.3, from the token after the message number.
fn parse_v1(mut toks: Tokens<'_>, version: TrcVersion, buses: &mut Buses, end: usize) -> Result<Parsed, LineError> {
    let missing = |what: &str| LineError::malformed(end, format!("expected {what}"));
    let time_tok = toks.next().ok_or_else(|| missing("the time offset"))?;
    let time = Some(parse_time(time_tok)?);
    let bus_tok = if version >= TrcVersion::V1_2 { Some(toks.next().ok_or_else(|| missing("the bus"))?) } else { None };
    let (direction, error) = if version >= TrcVersion::V1_1 {
        let kind = toks.next().ok_or_else(|| missing("the type"))?;
        match kind.text {
            b"Rx" => (Some(Direction::Rx), false),
            b"Tx" => (Some(Direction::Tx), false),
            b"Warng" => return Ok(Parsed::NonFrame),
            b"Error" => (None, true),
            _ => {
                return Err(LineError::malformed(
                    kind.start,
                    format!("expected the type Rx, Tx, Warng or Error, found `{}`", shown(kind.text)),
                ));
            }
        }
    } else {
        (None, false)
    };
    let id_tok = toks.next().ok_or_else(|| missing("the id"))?;
    if id_tok.text == b"FFFFFFFF" {
        // A bus warning (BUSLIGHT, BUSHEAVY, BUSOFF) in the place of a frame.
        return Ok(Parsed::NonFrame);
    }
    if version == TrcVersion::V1_3 {
        toks.next().ok_or_else(|| missing("the reserved column"))?;
    }
    let len_tok = toks.next().ok_or_else(|| missing("the data length"))?;
    let len = dec_u32(len_tok.text).filter(|&l| l <= 8).ok_or_else(|| {
        LineError::malformed(
            len_tok.start,
            format!("expected a data length of 0 to 8, found `{}`", shown(len_tok.text)),
        )
    })? as usize;
    let mut error = error;
    let mut toks_for_data = toks.clone();
    let mut remote = false;
    if let Some(t) = toks_for_data.next() {
        if t.text == b"RTR" {
            remote = true;
        } else if t.text == b"ERROR" && version == TrcVersion::V1_0 {
            error = true;
            toks = toks_for_data;
        }
    }
    let (bus, bus_at) = bus_tok.map_or((b"1".as_slice(), 0), |t| (t.text, t.start));
    let frame = if error {
        // PEAK's error description (error code as id, direction, ECC and
        // counters as data) has no SocketCAN equivalent.
        let mut detail = [0u8; 8];
        read_bytes(&mut toks, detail.get_mut(..len).unwrap_or_default(), len_tok.end())?;
        Frame::error(0, &[])
    } else {
        let id = parse_id(id_tok)?;
        if remote {
            Frame::remote(id, len as u8)
        } else {
            let mut data = [0u8; 8];
            read_bytes(&mut toks, data.get_mut(..len).unwrap_or_default(), len_tok.end())?;
            Frame::classic(id, data.get(..len).unwrap_or_default())
        }
    }
    .map_err(|e| LineError::frame(id_tok.start, e))?;
    Ok(Parsed::Frame(LogRecord { time, bus: intern_bus(buses, bus, bus_at)?, frame, direction }))
}

/// Versions 2.0 and 2.1, by the `$COLUMNS` of the header.
fn parse_v2(line: &[u8], state: &Trc, buses: &mut Buses) -> Result<Parsed, LineError> {
    let columns =
        state.columns.ok_or_else(|| LineError::malformed(0, "a 2.x trace needs a `;$COLUMNS=` header line"))?;
    let mut toks = tokens(line);
    let mut time = None;
    let mut kind = None;
    let mut bus = None;
    // The columns before the type are the number, the time and maybe the bus.
    let kind_at = columns.kind.unwrap_or(usize::MAX);
    for i in 0..=kind_at.min(columns.count) {
        let Some(t) = toks.next() else {
            return Err(LineError::malformed(line.len(), "expected more columns"));
        };
        if Some(i) == columns.time {
            time = Some(parse_time(t)?);
        } else if Some(i) == columns.bus {
            bus = Some(t);
        } else if i == kind_at {
            kind = Some(t);
        }
    }
    let kind = kind.ok_or_else(|| LineError::malformed(line.len(), "expected the message type"))?;
    let (fd, brs, esi, remote) = match kind.text {
        b"DT" => (false, false, false, false),
        b"FD" => (true, false, false, false),
        b"FB" => (true, true, false, false),
        b"FE" => (true, false, true, false),
        b"BI" => (true, true, true, false),
        b"RR" => (false, false, false, true),
        b"ER" => return parse_v2_error(toks, time, bus, buses, kind.end()),
        b"ST" | b"EC" | b"EV" => return Ok(Parsed::NonFrame),
        _ => {
            return Err(LineError::malformed(kind.start, format!("unknown message type `{}`", shown(kind.text))));
        }
    };
    let mut id = None;
    let mut direction = None;
    let mut len_tok = None;
    let mut last = kind.end();
    for i in kind_at + 1..columns.count {
        if Some(i) == columns.data {
            break;
        }
        let Some(t) = toks.next() else {
            return Err(LineError::malformed(line.len(), "expected more columns"));
        };
        last = t.end();
        if Some(i) == columns.bus {
            bus = Some(t);
        } else if Some(i) == columns.id {
            id = Some(parse_id(t)?);
        } else if Some(i) == columns.direction {
            direction = Some(parse_direction(t)?);
        } else if Some(i) == columns.length || Some(i) == columns.dlc {
            len_tok = Some(t);
        }
    }
    let id = id.ok_or_else(|| LineError::malformed(last, "expected the id"))?;
    let len_tok = len_tok.ok_or_else(|| LineError::malformed(last, "expected the data length"))?;
    let value = dec_u32(len_tok.text).filter(|&v| v <= 64).ok_or_else(|| {
        LineError::malformed(len_tok.start, format!("expected a length, found `{}`", shown(len_tok.text)))
    })? as usize;
    let len = if columns.length.is_some() {
        value
    } else {
        let dlc = u8::try_from(value).unwrap_or(u8::MAX);
        if fd { dlc_to_fd_len(dlc).map_err(|e| LineError::frame(len_tok.start, e))? } else { value }
    };
    let frame = if remote {
        Frame::remote(id, len.min(255) as u8)
    } else {
        let mut data = [0u8; FD_MAX_LEN];
        let bytes = data.get_mut(..len).ok_or_else(|| LineError::malformed(len_tok.start, "length above 64"))?;
        read_bytes(&mut toks, bytes, len_tok.end())?;
        let data = data.get(..len).unwrap_or_default();
        if fd { Frame::fd(id, data, FdFlags { brs, esi }) } else { Frame::classic(id, data) }
    }
    .map_err(|e| LineError::frame(len_tok.start, e))?;
    let (bus, bus_at) = bus.map_or((b"1".as_slice(), 0), |t| (t.text, t.start));
    Ok(Parsed::Frame(LogRecord { time, bus: intern_bus(buses, bus, bus_at)?, frame, direction }))
}

/// An `ER` line: the id column is empty (2.0) or `-` (2.1), the direction
/// follows; PEAK's error bytes are not kept (see the module docs).
fn parse_v2_error(
    mut toks: Tokens<'_>,
    time: Option<Timestamp>,
    bus: Option<Token<'_>>,
    buses: &mut Buses,
    after: usize,
) -> Result<Parsed, LineError> {
    let mut bus = bus;
    let direction = loop {
        let t = toks.next().ok_or_else(|| LineError::malformed(after, "expected `Rx` or `Tx` on an error frame"))?;
        match t.text {
            b"Rx" => break Direction::Rx,
            b"Tx" => break Direction::Tx,
            b"-" => {}
            _ if bus.is_none() => bus = Some(t),
            _ => return Err(LineError::malformed(t.start, "expected `Rx` or `Tx` on an error frame")),
        }
    };
    let frame = Frame::error(0, &[]).map_err(|e| LineError::frame(after, e))?;
    let (bus, bus_at) = bus.map_or((b"1".as_slice(), 0), |t| (t.text, t.start));
    Ok(Parsed::Frame(LogRecord { time, bus: intern_bus(buses, bus, bus_at)?, frame, direction: Some(direction) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Result<Parsed, LineError>>, Buses) {
        let mut state = Trc::default();
        let mut buses = Buses::default();
        let out = text.lines().map(|l| parse_line(l.as_bytes(), &mut state, &mut buses)).collect();
        (out, buses)
    }

    fn frames(out: &[Result<Parsed, LineError>]) -> Vec<LogRecord> {
        out.iter()
            .filter_map(|p| match p {
                Ok(Parsed::Frame(r)) => Some(*r),
                Ok(_) => None,
                Err(e) => panic!("{e:?}"),
            })
            .collect()
    }

    fn std(id: u32) -> CanId {
        CanId::standard(id).unwrap()
    }

    #[test]
    fn version_1_0() {
        let (out, buses) = read(
            "     1)      1841      0001  8  00 00 00 00 00 00 00 00\n     2)      1842      0008  4  ERROR 00 19 08 08\n\
             3)      1843  FFFFFFFF  4  00 00 00 04 -- -- -- --  BUSLIGHT\n     4)      1844      0100  3  RTR",
        );
        let f = frames(&out);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].time, Some(Timestamp::from_millis(1841)));
        assert_eq!(f[0].frame, Frame::classic(std(1), &[0; 8]).unwrap());
        assert!(f[1].frame.is_error());
        assert_eq!(f[2].frame, Frame::remote(std(0x100), 3).unwrap());
        assert_eq!(out[2], Ok(Parsed::NonFrame));
        assert_eq!(buses.names(), ["1"]);
    }

    #[test]
    fn version_1_3() {
        let (out, _) = read(
            ";$FILEVERSION=1.3\n     1)      6357.213 1  Rx        0401 -  8    F0 00 00 00 00 00 00 00\n\
             3)      1346.834 1  Warng FFFFFFFF -  4    00 00 00 04 BUSLIGHT\n     7)      1352.743 1  Rx        0100 -  3    RTR\n\
             6)      1349.222 1  Error     0008 -  4    00 19 08 08",
        );
        let f = frames(&out);
        assert_eq!(f[0].time, Some(Timestamp::from_nanos(6_357_213_000)));
        assert_eq!(f[0].direction, Some(Direction::Rx));
        assert_eq!(f[0].frame.data()[0], 0xF0);
        assert_eq!(f[1].frame, Frame::remote(std(0x100), 3).unwrap());
        assert!(f[2].frame.is_error());
    }

    #[test]
    fn version_2_1() {
        let (out, buses) = read(
            ";$FILEVERSION=2.1\n;$COLUMNS=N,O,T,B,I,d,R,L,D\n      5      1334.416 FD 1      0500 Tx -  9    01 02 03 04 05 06 07 08 09 0A 0B 0C\n\
             6      1334.222 ER 1         - Rx -  5    04 00 02 00 00\n      7      1334.224 EV 1  User-defined event for bus 1\n\
             12      1335.156 DT 2  18EFC034 Tx -  8    01 02 03 04 05 06 07 08\n     13      1336.543 RR 1      0100 Rx -  3\n\
             14      1.0 BI 1      0500 Tx -  2    01 02",
        );
        let f = frames(&out);
        assert_eq!(f[0].frame.len(), 12);
        assert!(f[0].frame.is_fd());
        assert!(f[1].frame.is_error());
        assert_eq!(
            f[2].frame,
            Frame::classic(CanId::extended(0x18EF_C034).unwrap(), &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap()
        );
        assert_eq!(buses.name(f[2].bus), "2");
        assert_eq!(f[3].frame, Frame::remote(std(0x100), 3).unwrap());
        assert_eq!(f[4].frame.fd_flags(), FdFlags { brs: true, esi: true });
        assert_eq!(out[4], Ok(Parsed::NonFrame));
    }

    #[test]
    fn version_2_0() {
        let (out, _) = read(
            ";$FILEVERSION=2.0\n;$COLUMNS=N,O,T,I,d,l,D\n      5      1334.416 FD     0500 Tx 12 01 02 03 04 05 06 07 08 09 0A 0B 0C\n\
             6      1334.522 ER          Rx    04 00 02 00 00\n      7      1334.531 ST          Rx    00 00 00 08\n\
             12     48937.600 RR     0704 Rx 1",
        );
        let f = frames(&out);
        assert_eq!(f[0].frame.len(), 12);
        assert!(f[1].frame.is_error());
        assert_eq!(f[2].frame, Frame::remote(std(0x704), 1).unwrap());
        assert_eq!(f[2].time, Some(Timestamp::from_nanos(48_937_600_000)));
    }

    #[test]
    fn errors_point_at_the_column() {
        let (out, _) = read(
            ";$FILEVERSION=2.1\n;$COLUMNS=N,O,T,B,I,d,R,L,D\n 5 1.0 FD 1 0500 Tx - 12 01 02 03 04 05 06 07 08 09 0A 0B 0C",
        );
        assert!(matches!(&out[2], Err(e) if e.offset == 24));
        let (out, _) = read(";$FILEVERSION=3.0");
        assert!(out[0].is_err());
        let (out, _) = read(";$FILEVERSION=2.0\n 1 1.0 DT 0100 Rx 1 00");
        assert!(out[1].is_err(), "2.x without $COLUMNS");
    }
}
