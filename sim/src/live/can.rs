//! SocketCAN for the live simulation: bulkhead's frames to and from the
//! `socketcan` crate's, a writer that rides out a full transmit queue, and the
//! interface checks worth doing before a run (does it exist, does it take
//! CAN FD frames).
//!
//! Invariants: a frame converts to exactly the frame on the wire (id kind,
//! data, FD flags; error frames are never written) and back; a write that
//! keeps failing is counted, never retried for ever.

use std::io;
use std::path::Path;
use std::time::Duration;

use bulkhead::frame::{CanId, FdFlags, Frame};
use socketcan::id::FdFlags as WireFdFlags;
use socketcan::{CanAnyFrame, CanDataFrame, CanFdFrame, CanFdSocket, CanRemoteFrame, EmbeddedFrame, Socket};

/// The frame on the wire for `frame`; `None` for an error frame.
pub fn to_wire(frame: &Frame) -> Option<CanAnyFrame> {
    let id: socketcan::Id = frame.id().into();
    if frame.is_error() {
        None
    } else if frame.is_fd() {
        let flags = frame.fd_flags();
        let mut wire = WireFdFlags::empty();
        wire.set(WireFdFlags::BRS, flags.brs);
        wire.set(WireFdFlags::ESI, flags.esi);
        CanFdFrame::with_flags(id, frame.data(), wire).map(CanAnyFrame::Fd)
    } else if frame.is_remote() {
        CanRemoteFrame::new_remote(id, usize::from(frame.dlc())).map(CanAnyFrame::Remote)
    } else {
        CanDataFrame::new(id, frame.data()).map(CanAnyFrame::Normal)
    }
}

/// bulkhead's frame for a frame read from the wire; `None` for error frames.
pub fn from_wire(wire: &CanAnyFrame) -> Option<Frame> {
    match wire {
        CanAnyFrame::Normal(f) => Frame::classic(CanId::from(f.id()), f.data()).ok(),
        CanAnyFrame::Remote(f) => Frame::remote(CanId::from(f.id()), u8::try_from(f.dlc()).ok()?).ok(),
        CanAnyFrame::Fd(f) => {
            Frame::fd(CanId::from(f.id()), f.data(), FdFlags { brs: f.is_brs(), esi: f.is_esi() }).ok()
        }
        CanAnyFrame::Error(_) => None,
    }
}

/// The MTU of a network interface: 16 for classic CAN, 72 for CAN FD.
pub fn interface_mtu(iface: &str) -> io::Result<u32> {
    let path = Path::new("/sys/class/net").join(iface).join("mtu");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("interface `{iface}` not found ({}: {e})", path.display())))?;
    text.trim().parse().map_err(|_| io::Error::other(format!("{}: not a number: {text:?}", path.display())))
}

/// The MTU of a CAN FD interface.
pub const CANFD_MTU: u32 = 72;

/// A socket writing to one interface.
pub struct CanWriter {
    socket: CanFdSocket,
    /// Writes that failed even after retrying.
    pub failed: u64,
    /// The first such failure, for the summary.
    pub first_error: Option<String>,
}

/// How long a write may keep finding the transmit queue full before the frame
/// is given up (counted as failed).
const FULL_QUEUE_PATIENCE: Duration = Duration::from_millis(20);

impl CanWriter {
    /// Opens `iface` (CAN FD frames allowed when its MTU allows them).
    pub fn open(iface: &str) -> io::Result<Self> {
        let socket = CanFdSocket::open(iface)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open CAN interface `{iface}`: {e}")))?;
        Ok(CanWriter { socket, failed: 0, first_error: None })
    }

    /// Writes `frame`; a full queue (`ENOBUFS`) is retried for a little while.
    /// Returns false when the frame could not be written.
    pub fn write(&mut self, frame: &Frame) -> bool {
        let Some(wire) = to_wire(frame) else {
            self.fail("error frames are not written".into());
            return false;
        };
        let mut waited = Duration::ZERO;
        loop {
            match self.socket.write_frame(&wire) {
                Ok(()) => return true,
                Err(e) if is_full(&e) && waited < FULL_QUEUE_PATIENCE => {
                    let pause = Duration::from_micros(200);
                    std::thread::sleep(pause);
                    waited += pause;
                }
                Err(e) => {
                    self.fail(format!("{frame}: {e}"));
                    return false;
                }
            }
        }
    }

    fn fail(&mut self, why: String) {
        self.failed += 1;
        if self.first_error.is_none() {
            self.first_error = Some(why);
        }
    }
}

fn is_full(e: &io::Error) -> bool {
    // ENOBUFS: the interface's queue or the socket's send buffer is full.
    e.raw_os_error() == Some(105) || e.kind() == io::ErrorKind::WouldBlock
}

/// A socket reading every frame of one interface.
pub struct CanReader {
    socket: CanFdSocket,
}

impl CanReader {
    /// Opens `iface` for reading, with reads that give up after `timeout` so
    /// the caller can check whether to stop.
    pub fn open(iface: &str, timeout: Duration) -> io::Result<Self> {
        let socket = CanFdSocket::open(iface)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open CAN interface `{iface}`: {e}")))?;
        socket.set_read_timeout(timeout)?;
        // A larger queue rides out bursts (floods); the kernel caps it at rmem_max.
        let _ = socket.as_raw_socket().set_recv_buffer_size(4 << 20);
        Ok(CanReader { socket })
    }

    /// The next frame; `Ok(None)` when the timeout passed without one or the
    /// frame is an error frame.
    pub fn read(&self) -> io::Result<Option<Frame>> {
        match self.socket.read_frame() {
            Ok(wire) => Ok(from_wire(&wire)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_the_round_trip_through_the_wire_types() {
        let std_id = CanId::standard(0x123).expect("id");
        let ext_id = CanId::extended(0x18DA_F110).expect("id");
        let frames = [
            Frame::classic(std_id, &[1, 2, 3]).expect("classic"),
            Frame::classic(ext_id, &[]).expect("empty extended"),
            Frame::remote(std_id, 8).expect("remote"),
            Frame::fd(std_id, &[7; 64], FdFlags { brs: true, esi: false }).expect("fd brs"),
            Frame::fd(ext_id, &[9; 12], FdFlags { brs: false, esi: true }).expect("fd esi"),
            Frame::fd(std_id, &[1; 8], FdFlags { brs: false, esi: false }).expect("fd 8"),
        ];
        for f in frames {
            let wire = to_wire(&f).expect("converts");
            assert_eq!(matches!(wire, CanAnyFrame::Fd(_)), f.is_fd(), "{f}");
            assert_eq!(from_wire(&wire), Some(f), "{f}");
        }
        let error = Frame::error(0x40, &[0; 8]).expect("error frame");
        assert!(to_wire(&error).is_none());
    }

    #[test]
    fn a_missing_interface_is_named() {
        let e = interface_mtu("no-such-can-iface").unwrap_err();
        assert!(e.to_string().contains("`no-such-can-iface`"), "{e}");
        let e = CanWriter::open("no-such-can-iface").err().expect("refused");
        assert!(e.to_string().contains("`no-such-can-iface`"), "{e}");
    }
}
