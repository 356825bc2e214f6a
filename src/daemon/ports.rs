//! The I/O side of each port of the rules: a CAN socket, a UDP socket with
//! the devices of the link behind it, or nothing (a port the configuration
//! does not bind: frames for it are dropped and counted).
//!
//! Egress towards a CAN port goes through a bounded queue only when the
//! interface cannot take a frame at once; a full queue drops the frame
//! (counted, and a `queue-overflow` fault for the engine). A CAN port whose
//! interface is down (or missing at start) is reopened when the interface is
//! up again; meanwhile it neither reads nor writes.

use std::net::SocketAddr;

use socketcan::CanAnyFrame;

use super::can_io::{self, CanSocket};
use super::ring::BoundedQueue;
use crate::keys::{Direction, KeyStore};
use crate::link::{self, LinkSender};
use crate::rules::{CompiledRules, DeviceId, PortId};

/// Frames waiting for a CAN interface that could not take them at once.
pub const EGRESS_CAPACITY: usize = 256;

/// A CAN or CAN FD port.
#[derive(Debug)]
pub struct CanPort {
    /// The interface name.
    pub interface: String,
    /// Kernel filters (`None`: read everything).
    pub filters: Option<Vec<(u32, u32)>>,
    /// Requested receive buffer.
    pub receive_buffer: Option<usize>,
    /// The socket, while the interface is usable.
    pub socket: Option<CanSocket>,
    /// Frames waiting to be written.
    pub egress: BoundedQueue<CanAnyFrame>,
}

impl CanPort {
    /// Opens the socket (again); on failure the port stays down.
    pub fn open(&mut self) -> std::io::Result<()> {
        let socket = can_io::open(&self.interface, self.filters.as_deref(), self.receive_buffer)?;
        self.socket = Some(socket);
        Ok(())
    }
}

/// A device of a link port: where it was last heard from, and the sender
/// that seals the gateway's frames to it.
#[derive(Debug)]
pub struct Peer {
    /// The device.
    pub device: DeviceId,
    /// The device's name.
    pub name: String,
    /// The source address of its last authenticated datagram.
    pub address: Option<SocketAddr>,
    /// Seals with its gateway-to-device key (`None` without such a key).
    pub sender: Option<LinkSender>,
}

/// An Ethernet port: the authenticated link over UDP.
#[derive(Debug)]
pub struct LinkPort {
    /// The socket (non-blocking).
    pub socket: std::net::UdpSocket,
    /// The devices the rules put on this port.
    pub peers: Vec<Peer>,
}

/// The I/O of one port.
#[derive(Debug)]
pub enum PortIo {
    /// A CAN or CAN FD interface.
    Can(CanPort),
    /// The Ethernet link.
    Link(LinkPort),
    /// Not bound by the configuration.
    Unbound,
}

/// Builds the peers of link port `port`: one per device of the rules on it,
/// with a sender under its gateway-to-device key when the store has one
/// (packet numbers resuming above `send_mark`), keeping the addresses and
/// senders of `previous` peers whose key did not change.
pub fn build_peers(
    rules: &CompiledRules,
    port: PortId,
    store: Option<&dyn KeyStore>,
    send_mark: &dyn Fn(link::KeyId) -> Option<u64>,
    previous: Vec<Peer>,
) -> Vec<Peer> {
    let mut peers = Vec::new();
    for (index, device) in rules.devices.iter().enumerate() {
        if device.port != port {
            continue;
        }
        let old = previous.iter().find(|p| p.name == device.name);
        let sender = store.and_then(|s| gateway_sender(s, &device.name, send_mark));
        let sender = match (sender, old.and_then(|p| p.sender.as_ref())) {
            // The same key: keep the running packet numbers.
            (Some(new), Some(running)) if new.key_id() == running.key_id() => Some(running.clone()),
            (new, _) => new,
        };
        peers.push(Peer {
            device: DeviceId(index as u8),
            name: device.name.clone(),
            address: old.and_then(|p| p.address),
            sender,
        });
    }
    peers
}

/// The sender under `device`'s gateway-to-device key (the newest id when
/// there are several, so a rotation takes effect when the new key is installed).
fn gateway_sender(
    store: &dyn KeyStore,
    device: &str,
    send_mark: &dyn Fn(link::KeyId) -> Option<u64>,
) -> Option<LinkSender> {
    let mut infos: Vec<_> = store
        .link_keys()
        .into_iter()
        .filter(|i| i.direction == Direction::GatewayToDevice && i.device.as_str() == device && !i.revoked)
        .collect();
    infos.sort_by_key(|i| i.id);
    let info = infos.last()?;
    let key = store.link_key(info.id).ok()?;
    let prepared = link::LinkKey::new(key.suite(), key.secret().expose(), device).ok()?;
    let sender = match send_mark(info.id) {
        Some(mark) => LinkSender::resume_after(info.id, prepared, mark),
        None => LinkSender::new(info.id, prepared, 0),
    };
    sender.ok()
}
