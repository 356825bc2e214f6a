//! Reader of Vector binary logs (`.blf`).
//!
//! Layout (little endian), as python-can's `blf.py` and Tobias Lorenz's
//! `vector_blf` describe it:
//!
//! - a file header: `LOGG`, its size (144 bytes in practice), application and
//!   format versions, sizes, object count, start and stop time;
//! - a sequence of objects, each with a base header `LOBJ`, header size,
//!   header version, object size, object type, then padding to 4 bytes;
//! - `LOG_CONTAINER` objects (type 10) hold further objects, stored or zlib
//!   compressed; an object may continue from one container into the next.
//!
//! Objects read as frames: `CAN_MESSAGE` (1) and `CAN_MESSAGE2` (86), classic
//! frames; `CAN_FD_MESSAGE` (100) and `CAN_FD_MESSAGE_64` (101), CAN FD frames
//! or classic frames on an FD channel (EDL flag clear), remote requests;
//! `CAN_ERROR` (2) and `CAN_ERROR_EXT` (73), error frames. Every other object
//! type is counted in [`FrameReader::non_frames`] and skipped without being
//! buffered, whatever its size; so is a CAN FD 64 object whose direction is
//! `TxRq` (a transmit request, not a frame on the bus).
//!
//! Decisions:
//! - Error frames carry no SocketCAN error class: [`Frame::error`]`(0, [])`.
//! - A classic frame's DLC of 9 to 15 means 8 bytes; a remote request with
//!   such a DLC asks for 8.
//! - A `CAN_FD_MESSAGE_64` whose valid-byte count exceeds the data stored in
//!   the object is padded with zeros, as CANoe and `binlog.dll` do (python-can
//!   issue 1905).
//! - Timestamps: object header flag 1 means units of 10 µs, otherwise 1 ns
//!   (python-can's rule); the time is relative to the start of measurement
//!   (the header's start time is available from [`BlfReader::start_time`]).
//! - Bus names are the channel numbers as text (`"1"`).
//!
//! Every length read from the file is bounded before use: a file header is at
//! most 64 KiB, a container at most 64 MiB compressed and decompressed (and
//! must decompress to exactly the size it declares), a frame object at most
//! 64 KiB. Errors are [`LogError::MalformedBinary`] with the byte offset:
//! file offsets for the file header and top-level objects, offsets in the
//! concatenated decompressed container data for objects inside containers
//! (the message says which). A malformed frame object is skipped in lenient
//! mode; a broken object structure ends the reading, since no later object
//! can be found reliably.
//!
//! Invariants: buffers are reused (no allocation per frame in steady state);
//! no input can panic.

use std::io::{BufRead, Read};
use std::sync::Arc;

use crate::frame::{CanId, FD_MAX_LEN, FdFlags, Frame, FrameError};
use crate::logs::outcome::{Parsed, Tally};
use crate::logs::{Buses, Direction, FrameReader, LogError, LogFormat, LogRecord, ReadOptions};
use crate::time::Timestamp;

const LOG_CONTAINER: u32 = 10;
const CAN_MESSAGE: u32 = 1;
const CAN_ERROR: u32 = 2;
const CAN_ERROR_EXT: u32 = 73;
const CAN_MESSAGE2: u32 = 86;
const CAN_FD_MESSAGE: u32 = 100;
const CAN_FD_MESSAGE_64: u32 = 101;

/// Size of the base object header (`LOBJ` ... object type).
const BASE_HEADER: usize = 16;
/// Largest file header accepted.
const MAX_FILE_HEADER: usize = 64 * 1024;
/// Largest container accepted, compressed or not.
const MAX_CONTAINER: usize = 64 * 1024 * 1024;
/// Largest frame object accepted.
const MAX_FRAME_OBJECT: usize = 64 * 1024;
/// At most this many zero bytes of padding are skipped between objects.
const MAX_PADDING: usize = 7;

/// Where an error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// A byte offset in the file.
    File(u64),
    /// A byte offset in the decompressed container data.
    Container(u64),
}

/// A structural problem (ends the reading) or a bad frame object (skippable).
#[derive(Debug)]
enum Fault {
    Structure(Place, String),
    Object(Place, String),
    Io(std::io::Error),
}

/// Streaming reader of BLF files. See the module docs.
pub struct BlfReader {
    input: Box<dyn BufRead + Send>,
    file: Arc<str>,
    buses: Buses,
    tally: Tally,
    start_time: Option<Timestamp>,
    /// Bytes consumed from the file.
    file_pos: u64,
    /// The compressed body of the current container.
    compressed: Vec<u8>,
    /// Decompressed container data not yet parsed, from `inner_pos`.
    inner: Vec<u8>,
    inner_pos: usize,
    /// Offset in the decompressed stream of `inner[0]`.
    inner_base: u64,
    /// Bytes of a skipped object still to drop from the container data.
    skip: u64,
    /// A top-level object outside containers.
    scratch: Vec<u8>,
    finished: bool,
}

impl BlfReader {
    /// Reads the file header of `input` (named `file` in errors).
    pub fn new(input: Box<dyn BufRead + Send>, file: Arc<str>, options: ReadOptions) -> Result<Self, LogError> {
        let mut reader = BlfReader {
            input,
            file,
            buses: Buses::default(),
            tally: Tally::new(options.lenient),
            start_time: None,
            file_pos: 0,
            compressed: Vec::new(),
            inner: Vec::new(),
            inner_pos: 0,
            inner_base: 0,
            skip: 0,
            scratch: Vec::new(),
            finished: false,
        };
        reader.read_file_header().map_err(|f| reader.error(f))?;
        Ok(reader)
    }

    /// The start of measurement from the file header (UTC, millisecond
    /// resolution), when the header holds a valid date.
    pub fn start_time(&self) -> Option<Timestamp> {
        self.start_time
    }

    fn error(&self, fault: Fault) -> LogError {
        let (offset, message) = match fault {
            Fault::Io(source) => return LogError::Io { file: Arc::clone(&self.file), source },
            Fault::Structure(Place::File(o), m) | Fault::Object(Place::File(o), m) => (o, format!("{m} (file offset)")),
            Fault::Structure(Place::Container(o), m) | Fault::Object(Place::Container(o), m) => {
                (o, format!("{m} (offset in the decompressed container data)"))
            }
        };
        LogError::MalformedBinary { file: Arc::clone(&self.file), offset, message }
    }

    /// Reads exactly `out.len()` bytes; `Ok(false)` at a clean end of file
    /// (no byte at all), an error when the file ends inside.
    fn read_exact_or_end(&mut self, out: &mut [u8], what: &str) -> Result<bool, Fault> {
        let mut filled = 0;
        while filled < out.len() {
            let n = match self.input.read(out.get_mut(filled..).unwrap_or_default()) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fault::Io(e)),
            };
            if n == 0 {
                if filled == 0 {
                    return Ok(false);
                }
                return Err(Fault::Structure(Place::File(self.file_pos), format!("file ends inside {what}")));
            }
            filled += n;
        }
        self.file_pos += out.len() as u64;
        Ok(true)
    }

    /// Reads `len` bytes into `self.compressed` or `self.scratch`. The buffer
    /// grows with the bytes actually read, not with the size the file claims.
    fn read_body(&mut self, len: usize, into_scratch: bool, what: &str) -> Result<(), Fault> {
        let mut buf = std::mem::take(if into_scratch { &mut self.scratch } else { &mut self.compressed });
        buf.clear();
        let result = (&mut self.input).take(len as u64).read_to_end(&mut buf);
        let read = buf.len();
        *(if into_scratch { &mut self.scratch } else { &mut self.compressed }) = buf;
        result.map_err(Fault::Io)?;
        self.file_pos += read as u64;
        if read < len {
            return Err(Fault::Structure(Place::File(self.file_pos), format!("file ends before {what}")));
        }
        Ok(())
    }

    fn read_file_header(&mut self) -> Result<(), Fault> {
        let mut head = [0u8; 8];
        if !self.read_exact_or_end(&mut head, "the file header")? {
            return Err(Fault::Structure(Place::File(0), "empty file, expected the `LOGG` header".to_owned()));
        }
        if head.get(..4) != Some(b"LOGG") {
            return Err(Fault::Structure(Place::File(0), "expected the signature `LOGG`".to_owned()));
        }
        let size = le_u32(&head, 4).unwrap_or(0) as usize;
        if !(72..=MAX_FILE_HEADER).contains(&size) {
            return Err(Fault::Structure(Place::File(4), format!("file header size {size} is not in 72..=65536")));
        }
        self.read_body(size - 8, true, "the file header")?;
        // SYSTEMTIME of the measurement start at file offset 40:
        // year, month, day of week, day, hour, minute, second, millisecond.
        let field = |i: usize| le_u16(&self.scratch, 32 + 2 * i).map(u64::from);
        if let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s), Some(ms)) =
            (field(0), field(1), field(3), field(4), field(5), field(6), field(7))
        {
            self.start_time =
                crate::logs::number::unix_nanos(y, mo, d, h, mi, s, ms * 1_000_000).map(Timestamp::from_nanos);
        }
        Ok(())
    }

    /// The next record, reading containers as needed.
    fn step(&mut self) -> Result<Option<Parsed>, Fault> {
        loop {
            if let Some(parsed) = self.next_inner()? {
                return Ok(Some(parsed));
            }
            // The container data is used up: read the next top-level object.
            let object_at = self.file_pos;
            let mut header = [0u8; BASE_HEADER];
            if !self.read_exact_or_end(&mut header, "an object header")? {
                let leftover = self.inner.get(self.inner_pos..).unwrap_or_default();
                if self.skip > 0 || leftover.iter().any(|&b| b != 0) {
                    return Err(Fault::Structure(
                        Place::Container(self.inner_base + self.inner_pos as u64),
                        "the file ends inside an object that continues after the last container".to_owned(),
                    ));
                }
                return Ok(None);
            }
            let base = BaseHeader::parse(&header).ok_or_else(|| {
                Fault::Structure(Place::File(object_at), "expected an object signature `LOBJ`".to_owned())
            })?;
            if base.object_size < BASE_HEADER {
                return Err(Fault::Structure(
                    Place::File(object_at),
                    format!("object size {} is smaller than its header", base.object_size),
                ));
            }
            let body = base.object_size - BASE_HEADER;
            if base.object_type == LOG_CONTAINER {
                if base.object_size > MAX_CONTAINER {
                    return Err(Fault::Structure(
                        Place::File(object_at),
                        format!("container of {} bytes is larger than 64 MiB", base.object_size),
                    ));
                }
                self.read_body(body, false, "the end of the container")?;
                self.skip_padding(base.object_size)?;
                self.unpack_container(object_at)?;
            } else {
                if base.object_size > MAX_FRAME_OBJECT {
                    // Not a frame object of any kind we read: drop it unread.
                    self.discard(body as u64)?;
                    self.skip_padding(base.object_size)?;
                    return Ok(Some(Parsed::NonFrame));
                }
                self.read_body(body, true, "the end of the object")?;
                self.skip_padding(base.object_size)?;
                let mut object = std::mem::take(&mut self.scratch);
                object.splice(0..0, header);
                let parsed = parse_object(&object, base, &mut self.buses, Place::File(object_at));
                self.scratch = object;
                return parsed.map(Some);
            }
        }
    }

    /// Drops `count` bytes of the file.
    fn discard(&mut self, count: u64) -> Result<(), Fault> {
        let copied = std::io::copy(&mut (&mut self.input).take(count), &mut std::io::sink()).map_err(Fault::Io)?;
        self.file_pos += copied;
        if copied < count {
            return Err(Fault::Structure(Place::File(self.file_pos), "file ends inside an object".to_owned()));
        }
        Ok(())
    }

    /// Skips the padding after a top-level object (absent at the end of file).
    fn skip_padding(&mut self, object_size: usize) -> Result<(), Fault> {
        let pad = object_size % 4;
        let mut buf = [0u8; 4];
        let buf = buf.get_mut(..pad).unwrap_or_default();
        let _ = self.read_exact_or_end(buf, "padding")?;
        Ok(())
    }

    /// Decompresses `self.compressed` (a container body) onto `self.inner`.
    fn unpack_container(&mut self, container_at: u64) -> Result<(), Fault> {
        let place = Place::File(container_at);
        let method = le_u16(&self.compressed, 0)
            .ok_or_else(|| Fault::Structure(place, "container shorter than its header".to_owned()))?;
        let declared = le_u32(&self.compressed, 8).unwrap_or(0) as usize;
        let data = self.compressed.get(16..).unwrap_or_default();
        // Drop what is parsed, keep the unparsed tail (an object continuing here).
        self.inner_base += self.inner_pos as u64;
        self.inner.drain(..self.inner_pos.min(self.inner.len()));
        self.inner_pos = 0;
        let before = self.inner.len();
        match method {
            0 => self.inner.extend_from_slice(data),
            2 => {
                if declared > MAX_CONTAINER {
                    return Err(Fault::Structure(place, format!("container declares {declared} bytes, above 64 MiB")));
                }
                let mut decoder = flate2::read::ZlibDecoder::new(data).take(declared as u64 + 1);
                decoder
                    .read_to_end(&mut self.inner)
                    .map_err(|e| Fault::Structure(place, format!("container data is not valid zlib: {e}")))?;
                let produced = self.inner.len() - before;
                if produced != declared {
                    return Err(Fault::Structure(
                        place,
                        format!("container decompresses to {produced} bytes, its header says {declared}"),
                    ));
                }
            }
            other => {
                return Err(Fault::Structure(place, format!("unknown container compression method {other}")));
            }
        }
        Ok(())
    }

    /// The next object of the container data, `None` when more data is needed.
    fn next_inner(&mut self) -> Result<Option<Parsed>, Fault> {
        loop {
            let available = self.inner.len() - self.inner_pos;
            if self.skip > 0 {
                let dropped = self.skip.min(available as u64);
                self.inner_pos += dropped as usize;
                self.skip -= dropped;
                if self.skip > 0 {
                    return Ok(None);
                }
                continue;
            }
            let rest = self.inner.get(self.inner_pos..).unwrap_or_default();
            let padding = rest.iter().take(MAX_PADDING).take_while(|&&b| b == 0).count();
            if padding == rest.len() {
                return Ok(None);
            }
            let at = self.inner_base + (self.inner_pos + padding) as u64;
            let rest = rest.get(padding..).unwrap_or_default();
            if rest.len() < BASE_HEADER {
                if rest.iter().zip(b"LOBJ").any(|(a, b)| a != b) {
                    return Err(Fault::Structure(
                        Place::Container(at),
                        "expected an object signature `LOBJ`".to_owned(),
                    ));
                }
                return Ok(None);
            }
            let base = BaseHeader::parse(rest).ok_or_else(|| {
                Fault::Structure(Place::Container(at), "expected an object signature `LOBJ`".to_owned())
            })?;
            if base.object_size < BASE_HEADER {
                return Err(Fault::Structure(
                    Place::Container(at),
                    format!("object size {} is smaller than its header", base.object_size),
                ));
            }
            if !is_frame_type(base.object_type) {
                let dropped = base.object_size.min(rest.len());
                self.inner_pos += padding + dropped;
                self.skip = (base.object_size - dropped) as u64;
                return Ok(Some(Parsed::NonFrame));
            }
            if base.object_size > MAX_FRAME_OBJECT {
                return Err(Fault::Structure(
                    Place::Container(at),
                    format!("frame object of {} bytes is larger than 64 KiB", base.object_size),
                ));
            }
            let Some(object) = rest.get(..base.object_size) else {
                return Ok(None);
            };
            let parsed = parse_object(object, base, &mut self.buses, Place::Container(at));
            self.inner_pos += padding + base.object_size;
            return parsed.map(Some);
        }
    }
}

impl Iterator for BlfReader {
    type Item = Result<LogRecord, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            let result = match self.step() {
                Ok(None) => {
                    self.finished = true;
                    return None;
                }
                Ok(Some(parsed)) => Ok(parsed),
                Err(fault @ Fault::Object(..)) => Err(self.error(fault)),
                Err(fault) => {
                    self.finished = true;
                    return Some(Err(self.error(fault)));
                }
            };
            if let Some(out) = self.tally.settle(result) {
                return Some(out);
            }
        }
        None
    }
}

impl FrameReader for BlfReader {
    fn buses(&self) -> &Buses {
        &self.buses
    }
    fn skipped(&self) -> u64 {
        self.tally.skipped
    }
    fn non_frames(&self) -> u64 {
        self.tally.non_frames
    }
    fn format(&self) -> LogFormat {
        LogFormat::Blf
    }
}

/// The base header of an object.
#[derive(Clone, Copy, Debug)]
struct BaseHeader {
    header_size: usize,
    header_version: u16,
    object_size: usize,
    object_type: u32,
}

impl BaseHeader {
    fn parse(bytes: &[u8]) -> Option<Self> {
        if bytes.get(..4)? != b"LOBJ" {
            return None;
        }
        Some(BaseHeader {
            header_size: usize::from(le_u16(bytes, 4)?),
            header_version: le_u16(bytes, 6)?,
            object_size: le_u32(bytes, 8)? as usize,
            object_type: le_u32(bytes, 12)?,
        })
    }
}

fn is_frame_type(object_type: u32) -> bool {
    matches!(object_type, CAN_MESSAGE | CAN_ERROR | CAN_ERROR_EXT | CAN_MESSAGE2 | CAN_FD_MESSAGE | CAN_FD_MESSAGE_64)
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Interns a channel number as its decimal text, without allocating.
fn channel_bus(buses: &mut Buses, channel: u16) -> crate::logs::BusId {
    let mut digits = [0u8; 5];
    let mut n = channel;
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    buses.intern(digits.get(start..).unwrap_or_default())
}

/// One complete object (`object` starts at its `LOBJ`).
fn parse_object(object: &[u8], base: BaseHeader, buses: &mut Buses, place: Place) -> Result<Parsed, Fault> {
    if !is_frame_type(base.object_type) {
        return Ok(Parsed::NonFrame);
    }
    let bad = |message: String| Fault::Object(place, message);
    let minimum_header = match base.header_version {
        1 => 32,
        2 => 40,
        v => return Err(bad(format!("unknown object header version {v}"))),
    };
    if base.header_size < minimum_header || base.header_size > object.len() {
        return Err(bad(format!("object header size {} does not fit the object", base.header_size)));
    }
    let flags = le_u32(object, 16).unwrap_or(0);
    let ticks = le_u64(object, 24).unwrap_or(0);
    let nanos = if flags == 1 { ticks.checked_mul(10_000) } else { Some(ticks) }
        .ok_or_else(|| bad("timestamp overflows 64-bit nanoseconds".to_owned()))?;
    let time = Some(Timestamp::from_nanos(nanos));
    let body = object.get(base.header_size..).unwrap_or_default();
    let short = |need: usize| bad(format!("object type {} needs {need} bytes after its header", base.object_type));
    let id_of = |raw: u32| CanId::new(raw & 0x7FFF_FFFF, raw & 0x8000_0000 != 0);
    let frame_err = |e: FrameError| bad(format!("invalid frame: {e}"));
    let (channel, frame, direction) = match base.object_type {
        CAN_MESSAGE | CAN_MESSAGE2 => {
            let (Some(channel), Some(&msg_flags), Some(&dlc), Some(raw_id), Some(data)) =
                (le_u16(body, 0), body.get(2), body.get(3), le_u32(body, 4), body.get(8..16))
            else {
                return Err(short(16));
            };
            let id = id_of(raw_id).map_err(frame_err)?;
            let len = classic_len(dlc).map_err(frame_err)?;
            let frame = if msg_flags & 0x80 != 0 {
                Frame::remote(id, len as u8)
            } else {
                Frame::classic(id, data.get(..len).unwrap_or_default())
            }
            .map_err(frame_err)?;
            (channel, frame, direction_bit(msg_flags & 1))
        }
        CAN_FD_MESSAGE => {
            let (Some(channel), Some(&msg_flags), Some(&dlc), Some(raw_id), Some(&fd_flags), Some(&valid), Some(data)) = (
                le_u16(body, 0),
                body.get(2),
                body.get(3),
                le_u32(body, 4),
                body.get(13),
                body.get(14),
                body.get(20..84),
            ) else {
                return Err(short(84));
            };
            let id = id_of(raw_id).map_err(frame_err)?;
            let valid = usize::from(valid);
            let data = data.get(..valid).ok_or_else(|| bad(format!("{valid} valid data bytes, at most 64")))?;
            let edl = fd_flags & 1 != 0;
            let frame = if edl {
                check_fd_dlc(dlc, valid).map_err(bad)?;
                Frame::fd(id, data, FdFlags { brs: fd_flags & 2 != 0, esi: fd_flags & 4 != 0 })
            } else if msg_flags & 0x80 != 0 {
                Frame::remote(id, classic_len(dlc).map_err(frame_err)? as u8)
            } else {
                Frame::classic(id, data)
            }
            .map_err(frame_err)?;
            (channel, frame, direction_bit(msg_flags & 1))
        }
        CAN_FD_MESSAGE_64 => {
            let (Some(&channel), Some(&dlc), Some(&valid), Some(raw_id), Some(fd_flags), Some(&dir), Some(&ext_offset)) =
                (body.first(), body.get(1), body.get(2), le_u32(body, 4), le_u32(body, 12), body.get(34), body.get(35))
            else {
                return Err(short(40));
            };
            let direction = match dir {
                0 => Direction::Rx,
                1 => Direction::Tx,
                2 => return Ok(Parsed::NonFrame),
                d => return Err(bad(format!("unknown direction {d}"))),
            };
            let id = id_of(raw_id).map_err(frame_err)?;
            let valid = usize::from(valid);
            if valid > FD_MAX_LEN {
                return Err(bad(format!("{valid} valid data bytes, at most 64")));
            }
            // The data stored in the object ends at the extended data (if any)
            // or at the end of the object; missing bytes are zeros.
            let data_end = if ext_offset == 0 { object.len() } else { usize::from(ext_offset) };
            let stored = data_end.saturating_sub(base.header_size + 40).min(valid);
            let mut data = [0u8; FD_MAX_LEN];
            if let (Some(dst), Some(src)) = (data.get_mut(..stored), body.get(40..40 + stored)) {
                dst.copy_from_slice(src);
            }
            let data = data.get(..valid).unwrap_or_default();
            let frame = if fd_flags & 0x1000 != 0 {
                check_fd_dlc(dlc, valid).map_err(bad)?;
                Frame::fd(id, data, FdFlags { brs: fd_flags & 0x2000 != 0, esi: fd_flags & 0x4000 != 0 })
            } else if fd_flags & 0x10 != 0 {
                Frame::remote(id, classic_len(dlc).map_err(frame_err)? as u8)
            } else {
                Frame::classic(id, data)
            }
            .map_err(frame_err)?;
            (u16::from(channel), frame, Some(direction))
        }
        _ => {
            // CAN_ERROR and CAN_ERROR_EXT both start with the channel.
            let channel = le_u16(body, 0).ok_or_else(|| short(2))?;
            (channel, Frame::error(0, &[]).map_err(frame_err)?, None)
        }
    };
    Ok(Parsed::Frame(LogRecord { time, bus: channel_bus(buses, channel), frame, direction }))
}

/// The payload length of a classic frame's DLC (9 to 15 mean 8).
fn classic_len(dlc: u8) -> Result<usize, FrameError> {
    if dlc > 15 { Err(FrameError::DlcOutOfRange { dlc }) } else { Ok(usize::from(dlc.min(8))) }
}

/// A CAN FD frame's DLC must announce its valid bytes.
fn check_fd_dlc(dlc: u8, valid: usize) -> Result<(), String> {
    match crate::frame::dlc_to_fd_len(dlc) {
        Ok(len) if len == valid => Ok(()),
        Ok(len) => Err(format!("DLC {dlc} means {len} bytes but the object has {valid} valid bytes")),
        Err(e) => Err(format!("invalid frame: {e}")),
    }
}

fn direction_bit(tx: u8) -> Option<Direction> {
    Some(if tx != 0 { Direction::Tx } else { Direction::Rx })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A minimal BLF: header, then `objects` in one uncompressed container.
    pub(crate) fn blf(objects: &[u8], method: u16) -> Vec<u8> {
        let mut out = b"LOGG".to_vec();
        out.extend_from_slice(&144u32.to_le_bytes());
        out.resize(144, 0);
        let payload = if method == 2 {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut e, objects).unwrap();
            e.finish().unwrap()
        } else {
            objects.to_vec()
        };
        let size = 32 + payload.len();
        out.extend_from_slice(b"LOBJ");
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&LOG_CONTAINER.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&[0; 6]);
        out.extend_from_slice(&(objects.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&payload);
        out.resize(out.len() + size % 4, 0);
        out
    }

    /// A CAN_MESSAGE object with a v1 header.
    pub(crate) fn can_message(channel: u16, id: u32, data: &[u8], ticks: u64, flags: u32) -> Vec<u8> {
        let mut o = b"LOBJ".to_vec();
        o.extend_from_slice(&32u16.to_le_bytes());
        o.extend_from_slice(&1u16.to_le_bytes());
        o.extend_from_slice(&48u32.to_le_bytes());
        o.extend_from_slice(&CAN_MESSAGE.to_le_bytes());
        o.extend_from_slice(&flags.to_le_bytes());
        o.extend_from_slice(&[0; 4]);
        o.extend_from_slice(&ticks.to_le_bytes());
        o.extend_from_slice(&channel.to_le_bytes());
        o.push(0);
        o.push(data.len() as u8);
        o.extend_from_slice(&id.to_le_bytes());
        let mut d = [0u8; 8];
        d[..data.len()].copy_from_slice(data);
        o.extend_from_slice(&d);
        o
    }

    fn read_all(bytes: Vec<u8>) -> Vec<Result<LogRecord, LogError>> {
        BlfReader::new(Box::new(Cursor::new(bytes)), Arc::from("t.blf"), ReadOptions::default()).unwrap().collect()
    }

    #[test]
    fn stored_and_zlib_containers() {
        let mut objects = can_message(1, 0x123, &[1, 2, 3], 250, 1);
        objects.extend(can_message(2, 0x8000_0456, &[], 7, 2));
        for method in [0, 2] {
            let out = read_all(blf(&objects, method));
            assert_eq!(out.len(), 2);
            let a = out[0].as_ref().unwrap();
            assert_eq!(a.time, Some(Timestamp::from_micros(2_500)));
            assert_eq!(a.frame, Frame::classic(CanId::standard(0x123).unwrap(), &[1, 2, 3]).unwrap());
            let b = out[1].as_ref().unwrap();
            assert_eq!((b.time, b.frame.id()), (Some(Timestamp::from_nanos(7)), CanId::extended(0x456).unwrap()));
        }
    }

    #[test]
    fn objects_may_span_containers() {
        let objects = can_message(1, 0x123, &[9], 1, 2);
        let (a, b) = objects.split_at(20);
        let first = blf(a, 0);
        let second = blf(b, 2);
        let mut file = first.clone();
        file.extend_from_slice(&second[144..]);
        let out = read_all(file);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].as_ref().unwrap().frame.data(), &[9]);
    }

    #[test]
    fn structure_errors_end_reading() {
        let mut file = blf(&can_message(1, 0x123, &[], 1, 2), 0);
        file[144] = b'X';
        let out = read_all(file);
        assert!(matches!(&out[..], [Err(LogError::MalformedBinary { offset: 144, .. })]), "{out:?}");
        let mut bomb = blf(&[0u8; 100], 2);
        let declared = 144 + 24;
        bomb[declared..declared + 4].copy_from_slice(&10u32.to_le_bytes());
        assert!(matches!(&read_all(bomb)[..], [Err(LogError::MalformedBinary { .. })]));
        assert!(
            BlfReader::new(Box::new(Cursor::new(b"LOGX".to_vec())), Arc::from("x"), ReadOptions::default()).is_err()
        );
    }

    #[test]
    fn bad_frames_are_skippable() {
        let mut objects = can_message(1, 0x800, &[], 1, 2);
        objects.extend(can_message(1, 0x7FF, &[], 1, 2));
        let file = blf(&objects, 0);
        let strict = read_all(file.clone());
        assert!(strict[0].is_err() && strict[1].is_ok());
        let mut lenient =
            BlfReader::new(Box::new(Cursor::new(file)), Arc::from("t"), ReadOptions { lenient: true }).unwrap();
        assert!(lenient.next().unwrap().is_ok());
        assert!(lenient.next().is_none());
        assert_eq!(lenient.skipped(), 1);
    }
}
