//! CAN and CAN FD frames as plain `Copy` values.
//!
//! One [`Frame`] type carries every kind of frame bulkhead meets on a bus or in a
//! log: classic CAN data frames (0..=8 bytes), CAN FD data frames (the FD lengths
//! 0..=8, 12, 16, 20, 24, 32, 48, 64), remote (RTR) frames and error frames.
//!
//! Invariants, upheld by the checked constructors (there is no other way to build
//! a frame):
//! - a standard id is at most `0x7FF`, an extended id at most `0x1FFF_FFFF`;
//! - `len` is a valid length for the frame's kind (at most 8 for classic CAN and
//!   RTR, one of the FD lengths for CAN FD);
//! - only an FD frame has the BRS or ESI flag; an RTR frame is never FD and
//!   carries no data (its `len` is the requested DLC);
//! - bytes of `data` beyond `len` are zero, so two equal frames compare equal
//!   byte for byte.
//!
//! After construction no accessor can panic.

use std::fmt;

use thiserror::Error;

/// The largest standard (11-bit) identifier.
pub const MAX_STANDARD_ID: u32 = 0x7FF;
/// The largest extended (29-bit) identifier.
pub const MAX_EXTENDED_ID: u32 = 0x1FFF_FFFF;
/// The largest payload of a classic CAN frame.
pub const CLASSIC_MAX_LEN: usize = 8;
/// The largest payload of a CAN FD frame.
pub const FD_MAX_LEN: usize = 64;

/// The bit that marks an extended id in the DBC convention and in [`CanId::to_dbc_raw`].
const EXTENDED_FLAG: u32 = 0x8000_0000;

/// A CAN identifier: standard (11 bits) or extended (29 bits).
///
/// Stored as one `u32`: the id in the low 29 bits and bit 31 set for extended
/// ids (the same encoding DBC files use). Ordering sorts all standard ids before
/// all extended ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CanId(u32);

impl CanId {
    /// A standard (11-bit) id; `id` must be at most `0x7FF`.
    pub const fn standard(id: u32) -> Result<Self, FrameError> {
        if id > MAX_STANDARD_ID {
            return Err(FrameError::StandardIdTooLarge { id });
        }
        Ok(CanId(id))
    }

    /// An extended (29-bit) id; `id` must be at most `0x1FFF_FFFF`.
    pub const fn extended(id: u32) -> Result<Self, FrameError> {
        if id > MAX_EXTENDED_ID {
            return Err(FrameError::ExtendedIdTooLarge { id });
        }
        Ok(CanId(id | EXTENDED_FLAG))
    }

    /// A standard id if `id` fits in 11 bits and `extended` is false, otherwise extended.
    pub const fn new(id: u32, extended: bool) -> Result<Self, FrameError> {
        if extended { Self::extended(id) } else { Self::standard(id) }
    }

    /// Decodes the DBC convention: bit 31 set means extended, the rest is the id.
    pub const fn from_dbc_raw(raw: u32) -> Result<Self, FrameError> {
        if raw & EXTENDED_FLAG != 0 { Self::extended(raw & !EXTENDED_FLAG) } else { Self::standard(raw) }
    }

    /// The numeric id without the extended flag.
    pub const fn raw(self) -> u32 {
        self.0 & !EXTENDED_FLAG
    }

    /// True for a 29-bit id.
    pub const fn is_extended(self) -> bool {
        self.0 & EXTENDED_FLAG != 0
    }

    /// The id in the DBC convention (bit 31 set for extended ids).
    pub const fn to_dbc_raw(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for CanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for CanId {
    /// `0x123` for standard ids, `0x18EFC034x` (8 hex digits and an `x`) for extended ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_extended() { write!(f, "0x{:08X}x", self.raw()) } else { write!(f, "0x{:03X}", self.raw()) }
    }
}

/// The kind of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Classic CAN data frame, 0..=8 bytes.
    Classic,
    /// CAN FD data frame.
    Fd,
    /// Classic CAN remote transmission request; carries a DLC but no data.
    Remote,
    /// Error frame as reported by SocketCAN; the id holds the error class bits.
    Error,
}

impl FrameKind {
    /// A short lower-case name used in reports.
    pub const fn name(self) -> &'static str {
        match self {
            FrameKind::Classic => "classic",
            FrameKind::Fd => "fd",
            FrameKind::Remote => "remote",
            FrameKind::Error => "error",
        }
    }
}

/// Everything that can be wrong when building a frame from untrusted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    /// A standard id must fit in 11 bits.
    #[error("standard id 0x{id:X} does not fit in 11 bits (max 0x7FF)")]
    StandardIdTooLarge {
        /// The id as given.
        id: u32,
    },
    /// An extended id must fit in 29 bits.
    #[error("extended id 0x{id:X} does not fit in 29 bits (max 0x1FFFFFFF)")]
    ExtendedIdTooLarge {
        /// The id as given.
        id: u32,
    },
    /// A classic CAN frame carries at most 8 bytes.
    #[error("a classic CAN frame carries at most 8 data bytes, got {len}")]
    ClassicTooLong {
        /// The payload length as given.
        len: usize,
    },
    /// CAN FD lengths are 0..=8, 12, 16, 20, 24, 32, 48 or 64.
    #[error("{len} is not a CAN FD length (0-8, 12, 16, 20, 24, 32, 48, 64)")]
    InvalidFdLength {
        /// The payload length as given.
        len: usize,
    },
    /// A remote frame requests at most 8 bytes.
    #[error("a remote frame requests at most 8 bytes, got DLC {dlc}")]
    RemoteDlcTooLarge {
        /// The DLC as given.
        dlc: u8,
    },
    /// A DLC is a 4-bit value.
    #[error("DLC {dlc} is not a 4-bit value")]
    DlcOutOfRange {
        /// The DLC as given.
        dlc: u8,
    },
}

/// Flags of a CAN FD frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FdFlags {
    /// Bit rate switch: the data phase was sent at the higher rate.
    pub brs: bool,
    /// Error state indicator: the sender was error passive.
    pub esi: bool,
}

const FLAG_FD: u8 = 1;
const FLAG_BRS: u8 = 2;
const FLAG_ESI: u8 = 4;
const FLAG_RTR: u8 = 8;
const FLAG_ERR: u8 = 16;

/// One CAN or CAN FD frame. See the module docs for the invariants.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    id: CanId,
    len: u8,
    flags: u8,
    data: [u8; FD_MAX_LEN],
}

impl Frame {
    /// A classic CAN data frame with `data.len() <= 8`.
    pub fn classic(id: CanId, data: &[u8]) -> Result<Self, FrameError> {
        if data.len() > CLASSIC_MAX_LEN {
            return Err(FrameError::ClassicTooLong { len: data.len() });
        }
        Ok(Self::with_payload(id, data, 0))
    }

    /// A CAN FD data frame; `data.len()` must be one of the CAN FD lengths.
    pub fn fd(id: CanId, data: &[u8], flags: FdFlags) -> Result<Self, FrameError> {
        if !is_fd_length(data.len()) {
            return Err(FrameError::InvalidFdLength { len: data.len() });
        }
        let mut bits = FLAG_FD;
        if flags.brs {
            bits |= FLAG_BRS;
        }
        if flags.esi {
            bits |= FLAG_ESI;
        }
        Ok(Self::with_payload(id, data, bits))
    }

    /// A remote transmission request for `dlc` bytes (0..=8).
    pub fn remote(id: CanId, dlc: u8) -> Result<Self, FrameError> {
        if dlc as usize > CLASSIC_MAX_LEN {
            return Err(FrameError::RemoteDlcTooLarge { dlc });
        }
        Ok(Frame { id, len: dlc, flags: FLAG_RTR, data: [0; FD_MAX_LEN] })
    }

    /// An error frame: `class` holds the SocketCAN error class bits (29 bits at most)
    /// and `data` the up to 8 bytes of detail.
    pub fn error(class: u32, data: &[u8]) -> Result<Self, FrameError> {
        let id = CanId::extended(class)?;
        if data.len() > CLASSIC_MAX_LEN {
            return Err(FrameError::ClassicTooLong { len: data.len() });
        }
        Ok(Self::with_payload(id, data, FLAG_ERR))
    }

    fn with_payload(id: CanId, data: &[u8], flags: u8) -> Self {
        let mut buf = [0u8; FD_MAX_LEN];
        buf[..data.len()].copy_from_slice(data);
        Frame { id, len: data.len() as u8, flags, data: buf }
    }

    /// The identifier (for error frames: the error class bits as an extended id).
    pub const fn id(&self) -> CanId {
        self.id
    }

    /// The kind of frame.
    pub const fn kind(&self) -> FrameKind {
        if self.flags & FLAG_ERR != 0 {
            FrameKind::Error
        } else if self.flags & FLAG_RTR != 0 {
            FrameKind::Remote
        } else if self.flags & FLAG_FD != 0 {
            FrameKind::Fd
        } else {
            FrameKind::Classic
        }
    }

    /// True for a CAN FD frame.
    pub const fn is_fd(&self) -> bool {
        self.flags & FLAG_FD != 0
    }

    /// True for a remote transmission request.
    pub const fn is_remote(&self) -> bool {
        self.flags & FLAG_RTR != 0
    }

    /// True for an error frame.
    pub const fn is_error(&self) -> bool {
        self.flags & FLAG_ERR != 0
    }

    /// The CAN FD flags (both false for other kinds).
    pub const fn fd_flags(&self) -> FdFlags {
        FdFlags { brs: self.flags & FLAG_BRS != 0, esi: self.flags & FLAG_ESI != 0 }
    }

    /// The payload length in bytes; for a remote frame, the requested length.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// True when the frame carries no payload bytes.
    pub const fn is_empty(&self) -> bool {
        self.data().is_empty()
    }

    /// The data length code as it goes on the wire.
    pub const fn dlc(&self) -> u8 {
        len_to_dlc(self.len as usize)
    }

    /// The payload (empty for a remote frame).
    pub const fn data(&self) -> &[u8] {
        if self.flags & FLAG_RTR != 0 {
            &[]
        } else {
            // `len <= 64` is an invariant of every constructor.
            self.data.split_at(self.len as usize).0
        }
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Frame {
    /// The candump compact form: `123#0102`, `123##1AABB` (FD, flags nibble), `123#R2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.id.is_extended() {
            write!(f, "{:08X}", self.id.raw())?;
        } else {
            write!(f, "{:03X}", self.id.raw())?;
        }
        match self.kind() {
            FrameKind::Remote => return write!(f, "#R{}", self.len),
            FrameKind::Fd => {
                let flags = (self.flags & FLAG_BRS != 0) as u8 | ((self.flags & FLAG_ESI != 0) as u8) << 1;
                write!(f, "##{flags:X}")?;
            }
            FrameKind::Classic | FrameKind::Error => f.write_str("#")?,
        }
        for byte in self.data() {
            write!(f, "{byte:02X}")?;
        }
        Ok(())
    }
}

/// True when `len` is a valid CAN FD payload length.
pub const fn is_fd_length(len: usize) -> bool {
    matches!(len, 0..=8 | 12 | 16 | 20 | 24 | 32 | 48 | 64)
}

/// The DLC for a payload length (lengths between FD steps round up, as on the wire).
pub const fn len_to_dlc(len: usize) -> u8 {
    match len {
        0..=8 => len as u8,
        9..=12 => 9,
        13..=16 => 10,
        17..=20 => 11,
        21..=24 => 12,
        25..=32 => 13,
        33..=48 => 14,
        _ => 15,
    }
}

/// The CAN FD payload length of a DLC (0..=15).
pub const fn dlc_to_fd_len(dlc: u8) -> Result<usize, FrameError> {
    Ok(match dlc {
        0..=8 => dlc as usize,
        9 => 12,
        10 => 16,
        11 => 20,
        12 => 24,
        13 => 32,
        14 => 48,
        15 => 64,
        _ => return Err(FrameError::DlcOutOfRange { dlc }),
    })
}

impl From<CanId> for embedded_can::Id {
    fn from(id: CanId) -> Self {
        if id.is_extended() {
            // The invariant of `CanId` guarantees the value fits in 29 bits.
            embedded_can::Id::Extended(embedded_can::ExtendedId::new(id.raw()).unwrap_or(embedded_can::ExtendedId::MAX))
        } else {
            embedded_can::Id::Standard(
                embedded_can::StandardId::new(id.raw() as u16).unwrap_or(embedded_can::StandardId::MAX),
            )
        }
    }
}

impl From<embedded_can::Id> for CanId {
    fn from(id: embedded_can::Id) -> Self {
        match id {
            embedded_can::Id::Standard(s) => CanId(u32::from(s.as_raw())),
            embedded_can::Id::Extended(e) => CanId(e.as_raw() | EXTENDED_FLAG),
        }
    }
}

impl embedded_can::Frame for Frame {
    /// A classic data frame; `None` when `data` is longer than 8 bytes
    /// (use [`Frame::fd`] for CAN FD).
    fn new(id: impl Into<embedded_can::Id>, data: &[u8]) -> Option<Self> {
        Frame::classic(CanId::from(id.into()), data).ok()
    }

    fn new_remote(id: impl Into<embedded_can::Id>, dlc: usize) -> Option<Self> {
        let dlc = u8::try_from(dlc).ok()?;
        Frame::remote(CanId::from(id.into()), dlc).ok()
    }

    fn is_extended(&self) -> bool {
        self.id.is_extended()
    }

    fn is_remote_frame(&self) -> bool {
        self.is_remote()
    }

    fn id(&self) -> embedded_can::Id {
        self.id.into()
    }

    fn dlc(&self) -> usize {
        Frame::dlc(self) as usize
    }

    fn data(&self) -> &[u8] {
        Frame::data(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(CanId::standard(0x7FF).is_ok());
        assert_eq!(CanId::standard(0x800), Err(FrameError::StandardIdTooLarge { id: 0x800 }));
        assert!(CanId::extended(0x1FFF_FFFF).is_ok());
        assert_eq!(CanId::extended(0x2000_0000), Err(FrameError::ExtendedIdTooLarge { id: 0x2000_0000 }));
        let ext = CanId::from_dbc_raw(0x8000_0123).unwrap();
        assert!(ext.is_extended());
        assert_eq!(ext.raw(), 0x123);
        assert_eq!(ext.to_dbc_raw(), 0x8000_0123);
        assert_ne!(ext, CanId::standard(0x123).unwrap());
        assert!(CanId::standard(0x7FF).unwrap() < CanId::extended(0).unwrap());
    }

    #[test]
    fn lengths_are_checked() {
        let id = CanId::standard(0x100).unwrap();
        assert!(Frame::classic(id, &[0; 8]).is_ok());
        assert_eq!(Frame::classic(id, &[0; 9]), Err(FrameError::ClassicTooLong { len: 9 }));
        for len in 0..=64 {
            assert_eq!(Frame::fd(id, &[0xAA; 64][..len], FdFlags::default()).is_ok(), is_fd_length(len));
        }
        assert_eq!(Frame::remote(id, 9), Err(FrameError::RemoteDlcTooLarge { dlc: 9 }));
        assert!(Frame::error(0x2000_0000, &[]).is_err());
    }

    #[test]
    fn accessors_follow_kind() {
        let id = CanId::standard(0x123).unwrap();
        let fd = Frame::fd(id, &[1; 12], FdFlags { brs: true, esi: false }).unwrap();
        assert_eq!(fd.kind(), FrameKind::Fd);
        assert_eq!(fd.dlc(), 9);
        assert!(fd.fd_flags().brs && !fd.fd_flags().esi);
        assert_eq!(fd.to_string(), "123##1010101010101010101010101");
        let rtr = Frame::remote(id, 3).unwrap();
        assert_eq!((rtr.kind(), rtr.len(), rtr.data()), (FrameKind::Remote, 3, &[][..]));
        assert_eq!(rtr.to_string(), "123#R3");
        let classic = Frame::classic(CanId::extended(0x18EF_C034).unwrap(), &[0xDE, 0xAD]).unwrap();
        assert_eq!(classic.to_string(), "18EFC034#DEAD");
        assert_eq!(format!("{}", classic.id()), "0x18EFC034x");
    }

    #[test]
    fn dlc_table_round_trips() {
        for dlc in 0..=15u8 {
            assert_eq!(len_to_dlc(dlc_to_fd_len(dlc).unwrap()), dlc);
        }
        assert!(dlc_to_fd_len(16).is_err());
    }

    #[test]
    fn embedded_can_round_trip() {
        use embedded_can::Frame as _;
        let std = CanId::standard(0x7FF).unwrap();
        let ext = CanId::extended(0x1234_5678).unwrap();
        for id in [std, ext] {
            let e: embedded_can::Id = id.into();
            assert_eq!(CanId::from(e), id);
            let frame = <Frame as embedded_can::Frame>::new(e, &[1, 2, 3]).unwrap();
            assert_eq!(frame.id(), id);
            assert_eq!(embedded_can::Frame::data(&frame), &[1, 2, 3]);
            assert_eq!(frame.is_extended(), id.is_extended());
            let remote = <Frame as embedded_can::Frame>::new_remote(e, 4).unwrap();
            assert!(remote.is_remote_frame());
            assert_eq!(embedded_can::Frame::dlc(&remote), 4);
        }
        assert!(<Frame as embedded_can::Frame>::new(std, &[0; 9]).is_none());
    }
}
