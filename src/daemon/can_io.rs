//! CAN and CAN FD ports: SocketCAN raw sockets, frame conversions, kernel
//! receive filters.
//!
//! Every CAN port gets one `CAN_RAW` socket with CAN FD frames enabled, used
//! both to read and to write (a socket does not receive its own frames, so
//! what the gateway sends on a bus never comes back to it as ingress). The
//! socket is non-blocking and watched by the loop's epoll set
//! ([`super::poller`]), which reads the ready ports in priority order.
//!
//! Kernel filters ([`receive_filters`]): on a hostile port only the ids that
//! have a route or a DBC slot there are let through (anything else would be
//! dropped by the engine anyway; the kernel drops it for free). A trusted port
//! reads everything: unknown ids are reported as events and every cyclic
//! message must be seen for the missing-message watch. Error frames (bus-off)
//! are read on every port.

use std::io;

use embedded_can::{ExtendedId, Frame as _, Id, StandardId};
use socketcan::{CanAnyFrame, CanDataFrame, CanFdFrame, CanFilter, CanRemoteFrame, Frame as _, Socket, SocketOptions};

use crate::frame::{CanId, FdFlags, Frame};
use crate::rules::{IdPattern, Port};

/// `CAN_EFF_FLAG`: extended frame format.
const EFF_FLAG: u32 = 0x8000_0000;
/// `CAN_ERR_FLAG`: error frame.
const ERR_FLAG: u32 = 0x2000_0000;
/// `CAN_SFF_MASK`.
const SFF_MASK: u32 = 0x7FF;
/// `CAN_EFF_MASK`.
const EFF_MASK: u32 = 0x1FFF_FFFF;
/// Error classes read on every port: bus-off, controller problems, restarts.
const ERROR_CLASSES: u32 = 0x40 | 0x04 | 0x100;
/// At most this many kernel filters; beyond, a port reads everything.
pub const MAX_FILTERS: usize = 512;

/// An open CAN port socket.
pub type CanSocket = socketcan::CanFdSocket;

/// `SOL_SOCKET`.
const SOL_SOCKET: i32 = 1;
/// `SO_RCVBUF`.
const SO_RCVBUF: i32 = 8;
/// `SO_RCVBUFFORCE` (privileged: may exceed `net.core.rmem_max`).
const SO_RCVBUFFORCE: i32 = 33;

/// Opens a non-blocking CAN FD raw socket on `interface`, with `filters`
/// (`None`: everything) and an optional receive buffer size.
pub fn open(interface: &str, filters: Option<&[(u32, u32)]>, receive_buffer: Option<usize>) -> io::Result<CanSocket> {
    let socket = CanSocket::open(interface)?;
    socket.set_nonblocking(true)?;
    set_filters(&socket, filters)?;
    socket.set_error_filter(ERROR_CLASSES)?;
    if let Some(size) = receive_buffer {
        let size = i32::try_from(size).unwrap_or(i32::MAX);
        // Privileged processes may exceed net.core.rmem_max; others get what the limit allows.
        if socket.set_socket_option_int(SOL_SOCKET, SO_RCVBUFFORCE, size).is_err() {
            socket.set_socket_option_int(SOL_SOCKET, SO_RCVBUF, size)?;
        }
    }
    Ok(socket)
}

/// Reads one frame if there is one (`Ok(None)`: nothing to read now).
pub fn read(socket: &CanSocket) -> io::Result<Option<CanAnyFrame>> {
    match socket.read_frame() {
        Ok(frame) => Ok(Some(frame)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the kernel filters of an open socket (`None`: everything).
pub fn apply_filters(socket: &CanSocket, filters: Option<&[(u32, u32)]>) -> io::Result<()> {
    set_filters(socket, filters)
}

fn set_filters(socket: &CanSocket, filters: Option<&[(u32, u32)]>) -> io::Result<()> {
    match filters {
        Some(list) => {
            let list: Vec<CanFilter> = list.iter().map(|&(id, mask)| CanFilter::new(id, mask)).collect();
            socket.set_filters(&list)
        }
        None => socket.set_filter_accept_all(),
    }
}

/// The kernel filters (`(can_id, can_mask)`) of a port: `None` when it should
/// read everything (trusted, or too many filters).
pub fn receive_filters(port: &Port) -> Option<Vec<(u32, u32)>> {
    if port.trust == crate::rules::Trust::Trusted {
        return None;
    }
    let lookup = &port.lookup;
    let mut filters = Vec::new();
    for (id, entry) in lookup.standard.iter().enumerate() {
        if entry.slot.is_some() || entry.routes_len > 0 {
            filters.push((id as u32, EFF_FLAG | SFF_MASK));
        }
    }
    for (raw, entry) in &lookup.extended {
        if entry.slot.is_some() || entry.routes_len > 0 {
            filters.push((raw | EFF_FLAG, EFF_FLAG | EFF_MASK));
        }
    }
    for (pattern, _) in &lookup.extended_patterns {
        let (value, mask) = match *pattern {
            IdPattern::Mask { value, mask } => (value & mask, mask & EFF_MASK),
            // The smallest aligned block holding the range: a superset, the engine decides the rest.
            IdPattern::Range(lo, hi) => {
                let free = 32 - (lo ^ hi).leading_zeros();
                let mask = if free >= 32 { 0 } else { (u32::MAX << free) & EFF_MASK };
                (lo & mask, mask)
            }
        };
        filters.push((value | EFF_FLAG, mask | EFF_FLAG));
    }
    if filters.len() > MAX_FILTERS {
        return None;
    }
    Some(filters)
}

/// The frame a socket read, as the engine's [`Frame`] (`None` for what cannot be one).
pub fn from_socket(frame: &CanAnyFrame) -> Option<Frame> {
    let (word, data) = match frame {
        CanAnyFrame::Normal(f) => (f.id_word(), f.data()),
        CanAnyFrame::Remote(f) => (f.id_word(), f.data()),
        CanAnyFrame::Error(f) => (f.id_word(), f.data()),
        CanAnyFrame::Fd(f) => (f.id_word(), f.data()),
    };
    if word & ERR_FLAG != 0 {
        return Frame::error(word & EFF_MASK, data).ok();
    }
    let extended = word & EFF_FLAG != 0;
    let id = CanId::new(word & if extended { EFF_MASK } else { SFF_MASK }, extended).ok()?;
    match frame {
        CanAnyFrame::Normal(f) => Frame::classic(id, f.data()).ok(),
        CanAnyFrame::Remote(f) => Frame::remote(id, u8::try_from(f.dlc()).ok()?).ok(),
        CanAnyFrame::Fd(f) => Frame::fd(id, f.data(), FdFlags { brs: f.is_brs(), esi: f.is_esi() }).ok(),
        CanAnyFrame::Error(_) => None,
    }
}

/// The engine's frame as a SocketCAN frame (`None` for error frames, which are never sent).
pub fn to_socket(frame: &Frame) -> Option<CanAnyFrame> {
    let raw = frame.id().raw();
    let id = if frame.id().is_extended() {
        Id::Extended(ExtendedId::new(raw)?)
    } else {
        Id::Standard(StandardId::new(u16::try_from(raw).ok()?)?)
    };
    if frame.is_error() {
        return None;
    }
    if frame.is_remote() {
        return CanRemoteFrame::new_remote(id, usize::from(frame.dlc())).map(CanAnyFrame::Remote);
    }
    if frame.is_fd() {
        let flags = frame.fd_flags();
        let mut bits = socketcan::id::FdFlags::empty();
        if flags.brs {
            bits |= socketcan::id::FdFlags::BRS;
        }
        if flags.esi {
            bits |= socketcan::id::FdFlags::ESI;
        }
        return CanFdFrame::with_flags(id, frame.data(), bits).map(CanAnyFrame::Fd);
    }
    CanDataFrame::new(id, frame.data()).map(CanAnyFrame::Normal)
}

/// Writes one frame without waiting (`WouldBlock` or `ENOBUFS` when the
/// interface queue is full: the caller queues or drops).
pub fn try_write(socket: &CanSocket, frame: &CanAnyFrame) -> io::Result<()> {
    match frame {
        CanAnyFrame::Normal(f) => socket.write_frame(f),
        CanAnyFrame::Remote(f) => socket.write_frame(f),
        CanAnyFrame::Fd(f) => socket.write_frame(f),
        CanAnyFrame::Error(_) => Err(io::Error::new(io::ErrorKind::InvalidInput, "error frames are never sent")),
    }
}

/// The names of the network interfaces that exist and are up (one netlink
/// dump, no file system access).
pub fn interfaces_up() -> Vec<String> {
    match nix::ifaddrs::getifaddrs() {
        Ok(list) => {
            let mut names: Vec<String> = list
                .filter(|ifa| ifa.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP))
                .map(|ifa| ifa.interface_name)
                .collect();
            names.sort();
            names.dedup();
            names
        }
        Err(_) => Vec::new(),
    }
}

/// True for write errors that mean the interface is gone or down
/// (`ENETDOWN`, `ENODEV`, `ENXIO`).
pub fn is_down_error(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(100 | 19 | 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_socketcan_types() {
        let frames = [
            Frame::classic(CanId::standard(0x123).expect("id"), &[1, 2, 3]).expect("frame"),
            Frame::classic(CanId::extended(0x1ABCDEF0).expect("id"), &[]).expect("frame"),
            Frame::classic(CanId::extended(0x10).expect("id"), &[9; 8]).expect("frame"),
            Frame::remote(CanId::standard(0x7FF).expect("id"), 4).expect("frame"),
            Frame::fd(CanId::standard(0x40).expect("id"), &[7; 64], FdFlags { brs: true, esi: false }).expect("fd"),
            Frame::fd(CanId::extended(0x40).expect("id"), &[7; 12], FdFlags { brs: false, esi: true }).expect("fd"),
        ];
        for frame in frames {
            let socket_frame = to_socket(&frame).expect("convertible");
            assert_eq!(from_socket(&socket_frame), Some(frame), "{frame:?}");
        }
    }

    #[test]
    fn hostile_ports_filter_trusted_ports_do_not() {
        let (rules, _) = crate::rules::reference().expect("reference rules");
        let drive = rules.port(rules.port_by_name("drive").expect("drive")).expect("port");
        assert_eq!(receive_filters(drive), None);
        let diag = rules.port(rules.port_by_name("diag").expect("diag")).expect("port");
        let filters = receive_filters(diag).expect("filters");
        assert!(!filters.is_empty());
        // Every filter is an exact standard or extended id.
        for (id, mask) in &filters {
            assert!(*mask == EFF_FLAG | SFF_MASK || *mask == EFF_FLAG | EFF_MASK, "{id:#x}/{mask:#x}");
        }
    }
}
