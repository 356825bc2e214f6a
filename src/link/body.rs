//! The plaintext body of a datagram: one or more frame records.
//!
//! A record is `id (u32, big-endian) || flags (u8) || length (u8) || data`:
//! bit 31 of the id marks an extended id, bits 30 and 29 are reserved (zero),
//! the low 29 bits are the id; flags are FD (0x01), BRS (0x02), ESI (0x04),
//! RTR (0x08), the high nibble reserved (zero); `length` is the payload length
//! in bytes (for a remote frame the requested length, and no data follows).
//! `docs/link.md` is the normative description.
//!
//! Invariants: the encoding is canonical (a body that decodes re-encodes to
//! the same bytes); decoding accepts exactly the frames that
//! [`Frame`]'s checked constructors accept, and only data, remote and CAN FD
//! frames (error frames do not travel on the link); a body holds 1 to
//! [`MAX_FRAMES_PER_DATAGRAM`] records and nothing after the last one.
//! Decoding never panics and never allocates ([`decode_body`] fills a vector
//! the caller sized once).

use thiserror::Error;

use super::sender::SealError;
use super::wire::{HEADER_LEN, MAX_BODY_LEN, TAG_LEN};
use crate::frame::{CLASSIC_MAX_LEN, CanId, FdFlags, Frame, FrameError, FrameKind, is_fd_length};

/// Bytes of a record before its data: id (4), flags (1), length (1).
pub const RECORD_HEADER_LEN: usize = 6;
/// The most frame records one datagram may carry.
pub const MAX_FRAMES_PER_DATAGRAM: usize = 128;

/// Id field bit: the id is extended (29 bits).
pub const ID_EXTENDED: u32 = 0x8000_0000;
/// Id field bits that must be zero.
pub const ID_RESERVED: u32 = 0x6000_0000;
/// Flags bit: CAN FD frame.
pub const FLAG_FD: u8 = 0x01;
/// Flags bit: bit rate switch (FD only).
pub const FLAG_BRS: u8 = 0x02;
/// Flags bit: error state indicator (FD only).
pub const FLAG_ESI: u8 = 0x04;
/// Flags bit: remote transmission request (never with FD).
pub const FLAG_RTR: u8 = 0x08;
/// Flags bits that must be zero.
pub const FLAGS_RESERVED: u8 = 0xF0;

/// What is wrong with a decrypted body; `offset` is where the faulty record
/// starts, counted from the first byte of the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum BodyError {
    /// A body must carry at least one frame record.
    #[error("the body is empty; a datagram carries at least one frame")]
    Empty,
    /// The body ends inside a record.
    #[error("record at byte {offset} needs {needed} bytes, only {available} are left")]
    Truncated {
        /// Start of the record.
        offset: usize,
        /// Bytes the record needs (header and data).
        needed: usize,
        /// Bytes left in the body from `offset`.
        available: usize,
    },
    /// Bits 30 and 29 of the id field are reserved and must be zero.
    #[error("record at byte {offset}: reserved id bits set in 0x{field:08X}")]
    ReservedIdBits {
        /// Start of the record.
        offset: usize,
        /// The whole id field.
        field: u32,
    },
    /// The high nibble of the flags byte is reserved and must be zero.
    #[error("record at byte {offset}: reserved flag bits set in 0x{flags:02X}")]
    ReservedFlags {
        /// Start of the record.
        offset: usize,
        /// The flags byte.
        flags: u8,
    },
    /// BRS and ESI exist only on CAN FD frames.
    #[error("record at byte {offset}: BRS or ESI set on a frame that is not CAN FD (flags 0x{flags:02X})")]
    FdFlagsWithoutFd {
        /// Start of the record.
        offset: usize,
        /// The flags byte.
        flags: u8,
    },
    /// CAN FD has no remote frames.
    #[error("record at byte {offset}: a remote frame cannot be CAN FD")]
    RemoteFd {
        /// Start of the record.
        offset: usize,
    },
    /// The id or the length is not valid for the frame's kind.
    #[error("record at byte {offset}: {source}")]
    InvalidFrame {
        /// Start of the record.
        offset: usize,
        /// What the frame constructors refuse.
        source: FrameError,
    },
    /// More than [`MAX_FRAMES_PER_DATAGRAM`] records.
    #[error("record at byte {offset} is beyond the {MAX_FRAMES_PER_DATAGRAM}-frame maximum")]
    TooManyFrames {
        /// Start of the first record too many.
        offset: usize,
    },
}

/// The number of body bytes `frame` takes: 6, plus its data (none for a remote frame).
pub const fn encoded_len(frame: &Frame) -> usize {
    RECORD_HEADER_LEN + frame.data().len()
}

/// The size of the datagram that would carry `frames` (header, records, tag),
/// whether or not it is within the limits.
pub fn datagram_len(frames: &[Frame]) -> usize {
    HEADER_LEN + frames.iter().map(encoded_len).sum::<usize>() + TAG_LEN
}

/// How many frames from the start of `frames` fit in one datagram (by size
/// and by count); a sender batching a queue seals that many at a time.
pub fn frames_that_fit(frames: &[Frame]) -> usize {
    let mut body = 0;
    let mut count = 0;
    for frame in frames.iter().take(MAX_FRAMES_PER_DATAGRAM) {
        body += encoded_len(frame);
        if body > MAX_BODY_LEN {
            break;
        }
        count += 1;
    }
    count
}

/// Writes the records of `frames` at the start of `out` and returns their length.
pub fn encode_body(frames: &[Frame], out: &mut [u8]) -> Result<usize, SealError> {
    if frames.is_empty() {
        return Err(SealError::NoFrames);
    }
    if frames.len() > MAX_FRAMES_PER_DATAGRAM {
        return Err(SealError::TooManyFrames { count: frames.len() });
    }
    if let Some(index) = frames.iter().position(|frame| frame.kind() == FrameKind::Error) {
        return Err(SealError::ErrorFrame { index });
    }
    let len: usize = frames.iter().map(encoded_len).sum();
    if len > MAX_BODY_LEN {
        return Err(SealError::TooLarge { len: len + HEADER_LEN + TAG_LEN });
    }
    let available = out.len();
    let Some(mut rest) = out.get_mut(..len) else {
        return Err(SealError::BufferTooSmall { needed: len, available });
    };
    for frame in frames {
        let (record, tail) = rest.split_at_mut(encoded_len(frame));
        write_record(frame, record);
        rest = tail;
    }
    Ok(len)
}

/// Writes one record into `record`, which is exactly `encoded_len(frame)` long.
fn write_record(frame: &Frame, record: &mut [u8]) {
    let mut flags = 0;
    match frame.kind() {
        FrameKind::Fd => {
            let fd = frame.fd_flags();
            flags = FLAG_FD | if fd.brs { FLAG_BRS } else { 0 } | if fd.esi { FLAG_ESI } else { 0 };
        }
        FrameKind::Remote => flags = FLAG_RTR,
        FrameKind::Classic | FrameKind::Error => {}
    }
    let id = frame.id();
    let field = id.raw() | if id.is_extended() { ID_EXTENDED } else { 0 };
    let (head, data) = record.split_at_mut(RECORD_HEADER_LEN);
    let [i0, i1, i2, i3] = field.to_be_bytes();
    // A frame's length is at most 64: the cast cannot truncate.
    head.copy_from_slice(&[i0, i1, i2, i3, flags, frame.len() as u8]);
    data.copy_from_slice(frame.data());
}

/// The frames of a body, one record at a time; stops after the first error.
#[derive(Clone, Debug)]
pub struct BodyReader<'a> {
    body: &'a [u8],
    offset: usize,
    count: usize,
    failed: bool,
}

impl<'a> BodyReader<'a> {
    /// A reader over `body` (an empty body yields [`BodyError::Empty`]).
    pub fn new(body: &'a [u8]) -> Self {
        BodyReader { body, offset: 0, count: 0, failed: false }
    }

    fn read_record(&self) -> Result<(Frame, usize), BodyError> {
        let offset = self.offset;
        if self.count >= MAX_FRAMES_PER_DATAGRAM {
            return Err(BodyError::TooManyFrames { offset });
        }
        let rest = self.body.get(offset..).unwrap_or_default();
        let truncated = |needed| BodyError::Truncated { offset, needed, available: rest.len() };
        let Some((head, data)) = rest.split_first_chunk::<RECORD_HEADER_LEN>() else {
            return Err(truncated(RECORD_HEADER_LEN));
        };
        let [i0, i1, i2, i3, flags, len] = *head;
        let field = u32::from_be_bytes([i0, i1, i2, i3]);
        if field & ID_RESERVED != 0 {
            return Err(BodyError::ReservedIdBits { offset, field });
        }
        let invalid = |source| BodyError::InvalidFrame { offset, source };
        let id = CanId::new(field & !(ID_EXTENDED | ID_RESERVED), field & ID_EXTENDED != 0).map_err(invalid)?;
        if flags & FLAGS_RESERVED != 0 {
            return Err(BodyError::ReservedFlags { offset, flags });
        }
        let fd = flags & FLAG_FD != 0;
        if flags & FLAG_RTR != 0 && fd {
            return Err(BodyError::RemoteFd { offset });
        }
        if !fd && flags & (FLAG_BRS | FLAG_ESI) != 0 {
            return Err(BodyError::FdFlagsWithoutFd { offset, flags });
        }
        if flags & FLAG_RTR != 0 {
            let frame = Frame::remote(id, len).map_err(invalid)?;
            return Ok((frame, offset + RECORD_HEADER_LEN));
        }
        let len = usize::from(len);
        // Refuse a bad length before looking for its data, so the reason is the length.
        if fd && !is_fd_length(len) {
            return Err(invalid(FrameError::InvalidFdLength { len }));
        }
        if !fd && len > CLASSIC_MAX_LEN {
            return Err(invalid(FrameError::ClassicTooLong { len }));
        }
        let Some(data) = data.get(..len) else {
            return Err(truncated(RECORD_HEADER_LEN + len));
        };
        let frame = if fd {
            Frame::fd(id, data, FdFlags { brs: flags & FLAG_BRS != 0, esi: flags & FLAG_ESI != 0 })
        } else {
            Frame::classic(id, data)
        }
        .map_err(invalid)?;
        Ok((frame, offset + RECORD_HEADER_LEN + len))
    }
}

impl Iterator for BodyReader<'_> {
    type Item = Result<Frame, BodyError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.body.is_empty() {
            self.failed = true;
            return Some(Err(BodyError::Empty));
        }
        if self.offset >= self.body.len() {
            return None;
        }
        match self.read_record() {
            Ok((frame, next)) => {
                self.offset = next;
                self.count += 1;
                Some(Ok(frame))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

/// Decodes a whole body into `frames` (cleared first). On error `frames` holds
/// the records before the faulty one, which the caller must not use.
///
/// With `frames.capacity() >= MAX_FRAMES_PER_DATAGRAM` this never allocates.
pub fn decode_body(body: &[u8], frames: &mut Vec<Frame>) -> Result<(), BodyError> {
    frames.clear();
    for frame in BodyReader::new(body) {
        frames.push(frame?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_id(id: u32) -> CanId {
        CanId::standard(id).unwrap()
    }

    fn decode(body: &[u8]) -> Result<Vec<Frame>, BodyError> {
        let mut frames = Vec::new();
        decode_body(body, &mut frames).map(|()| frames)
    }

    #[test]
    fn every_kind_round_trips() {
        let frames = [
            Frame::classic(std_id(0x123), &[0xDE, 0xAD]).unwrap(),
            Frame::classic(CanId::extended(0x1ABC_DEF0).unwrap(), &[]).unwrap(),
            Frame::fd(std_id(0x7FF), &[0x55; 64], FdFlags { brs: true, esi: false }).unwrap(),
            Frame::fd(CanId::extended(0).unwrap(), &[1; 12], FdFlags { brs: false, esi: true }).unwrap(),
            Frame::remote(std_id(0x10), 8).unwrap(),
        ];
        let mut out = [0u8; MAX_BODY_LEN];
        let len = encode_body(&frames, &mut out).unwrap();
        assert_eq!(len, frames.iter().map(encoded_len).sum::<usize>());
        assert_eq!(&out[..8], &[0x00, 0x00, 0x01, 0x23, 0x00, 0x02, 0xDE, 0xAD]);
        assert_eq!(&out[8..14], &[0x9A, 0xBC, 0xDE, 0xF0, 0x00, 0x00]);
        assert_eq!(&out[14..20], &[0x00, 0x00, 0x07, 0xFF, 0x03, 64]);
        assert_eq!(decode(&out[..len]).unwrap(), frames);
    }

    #[test]
    fn malformed_records_are_named() {
        let e = |offset, source| Err(BodyError::InvalidFrame { offset, source });
        assert_eq!(decode(&[]), Err(BodyError::Empty));
        assert_eq!(decode(&[0, 0, 1]), Err(BodyError::Truncated { offset: 0, needed: 6, available: 3 }));
        assert_eq!(decode(&[0, 0, 1, 0, 0, 2, 9]), Err(BodyError::Truncated { offset: 0, needed: 8, available: 7 }));
        assert_eq!(decode(&[0x20, 0, 0, 0, 0, 0]), Err(BodyError::ReservedIdBits { offset: 0, field: 0x2000_0000 }));
        assert_eq!(decode(&[0, 0, 0x08, 0, 0, 0]), e(0, FrameError::StandardIdTooLarge { id: 0x800 }));
        assert_eq!(decode(&[0, 0, 0, 0, 0x10, 0]), Err(BodyError::ReservedFlags { offset: 0, flags: 0x10 }));
        assert_eq!(decode(&[0, 0, 0, 0, 0x02, 0]), Err(BodyError::FdFlagsWithoutFd { offset: 0, flags: 0x02 }));
        assert_eq!(decode(&[0, 0, 0, 0, 0x0C, 0]), Err(BodyError::FdFlagsWithoutFd { offset: 0, flags: 0x0C }));
        assert_eq!(decode(&[0, 0, 0, 0, 0x09, 0]), Err(BodyError::RemoteFd { offset: 0 }));
        assert_eq!(decode(&[0, 0, 0, 0, 0x08, 9]), e(0, FrameError::RemoteDlcTooLarge { dlc: 9 }));
        assert_eq!(decode(&[0, 0, 0, 0, 0x00, 9]), e(0, FrameError::ClassicTooLong { len: 9 }));
        assert_eq!(decode(&[0, 0, 0, 0, 0x01, 9]), e(0, FrameError::InvalidFdLength { len: 9 }));
        let mut second_bad = vec![0, 0, 0, 1, 0, 0];
        second_bad.extend_from_slice(&[0, 0, 0, 1, 0x01, 13]);
        assert_eq!(decode(&second_bad), e(6, FrameError::InvalidFdLength { len: 13 }));
        let many = [0u8; RECORD_HEADER_LEN * (MAX_FRAMES_PER_DATAGRAM + 1)];
        assert_eq!(
            decode(&many),
            Err(BodyError::TooManyFrames { offset: RECORD_HEADER_LEN * MAX_FRAMES_PER_DATAGRAM })
        );
        assert_eq!(decode(&many[..RECORD_HEADER_LEN * MAX_FRAMES_PER_DATAGRAM]).unwrap().len(), 128);
    }

    #[test]
    fn reader_stops_after_an_error() {
        let mut reader = BodyReader::new(&[0, 0, 0, 1, 0, 0, 0xFF]);
        assert!(matches!(reader.next(), Some(Ok(_))));
        assert!(matches!(reader.next(), Some(Err(BodyError::Truncated { offset: 6, .. }))));
        assert!(reader.next().is_none());
    }

    #[test]
    fn encoder_refuses_what_cannot_travel() {
        let frame = Frame::classic(std_id(1), &[0; 8]).unwrap();
        let mut out = [0u8; MAX_BODY_LEN];
        assert_eq!(encode_body(&[], &mut out), Err(SealError::NoFrames));
        let error = Frame::error(4, &[0; 8]).unwrap();
        assert_eq!(encode_body(&[frame, error], &mut out), Err(SealError::ErrorFrame { index: 1 }));
        assert_eq!(encode_body(&[frame; 129], &mut out), Err(SealError::TooManyFrames { count: 129 }));
        let fd = Frame::fd(std_id(1), &[0; 64], FdFlags::default()).unwrap();
        assert_eq!(frames_that_fit(&[fd; 30]), 19);
        assert_eq!(encode_body(&[fd; 20], &mut out), Err(SealError::TooLarge { len: 20 * 70 + 34 }));
        assert!(encode_body(&[fd; 19], &mut out).is_ok());
        assert_eq!(encode_body(&[frame], &mut out[..13]), Err(SealError::BufferTooSmall { needed: 14, available: 13 }));
        assert_eq!(frames_that_fit(&[Frame::remote(std_id(1), 0).unwrap(); 200]), MAX_FRAMES_PER_DATAGRAM);
        assert_eq!(datagram_len(&[frame]), 18 + 14 + 16);
    }
}
