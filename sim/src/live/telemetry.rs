//! The gateway's telemetry to the devices: datagrams arriving on the
//! simulator's UDP socket, opened with each device's gateway-to-device key and
//! counted per device and per message.
//!
//! The gateway sends a device's telemetry to the address its last
//! authenticated datagram came from, so the simulator sends and receives on
//! one socket. A datagram that does not open is counted by reason (the
//! gateway's packet numbers, its keys or its sealing would be wrong).
//!
//! Invariants: the receiving thread stops within one read timeout of being
//! asked; nothing received is trusted before it opens.

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bulkhead::keys::{Direction, KeyStore};
use bulkhead::link::{self, LinkReceiver, MAX_DATAGRAM_LEN, MemoryKeys};

/// What the simulator received from the gateway.
#[derive(Clone, Debug, Default)]
pub struct TelemetryTally {
    /// Datagrams received.
    pub datagrams: u64,
    /// Datagrams that opened, per device.
    pub opened: BTreeMap<String, u64>,
    /// Frames they carried, per device and CAN id (as candump writes it).
    pub frames: BTreeMap<(String, String), u64>,
    /// Datagrams that did not open, per reason.
    pub refused: BTreeMap<&'static str, u64>,
    /// The receive error that ended the thread, if any.
    pub error: Option<String>,
}

/// The gateway-to-device keys of `keys`, as a receiver looks them up.
pub fn gateway_to_device_keys(keys: &dyn KeyStore) -> MemoryKeys {
    let mut out = MemoryKeys::new();
    for info in keys.link_keys() {
        if info.direction != Direction::GatewayToDevice {
            continue;
        }
        if let Ok(key) = keys.link_key(info.id)
            && let Ok(prepared) = link::LinkKey::new(key.suite(), key.secret().expose(), info.device.as_str())
        {
            let _ = out.insert(info.id, prepared);
        }
    }
    out
}

/// Opens one received datagram and counts it.
pub fn receive(receiver: &mut LinkReceiver, keys: &MemoryKeys, bytes: &[u8], tally: &mut TelemetryTally) {
    tally.datagrams += 1;
    match receiver.open(keys, bytes) {
        Ok(opened) => {
            let device = opened.device().to_owned();
            for f in opened.frames() {
                let id = if f.id().is_extended() {
                    format!("{:08X}", f.id().raw())
                } else {
                    format!("{:03X}", f.id().raw())
                };
                *tally.frames.entry((device.clone(), id)).or_insert(0) += 1;
            }
            *tally.opened.entry(device).or_insert(0) += 1;
        }
        Err(reason) => *tally.refused.entry(reason.name()).or_insert(0) += 1,
    }
}

/// The receiving thread.
pub struct Telemetry {
    thread: JoinHandle<TelemetryTally>,
}

impl Telemetry {
    /// Receives on `socket` (a clone of the sending socket) until `stop` is set.
    pub fn start(socket: UdpSocket, keys: MemoryKeys, stop: Arc<AtomicBool>) -> std::io::Result<Self> {
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        let thread = std::thread::Builder::new().name("telemetry".into()).spawn(move || {
            let mut receiver = LinkReceiver::new();
            let mut tally = TelemetryTally::default();
            // A little more than the largest datagram, so oversized ones are seen as such.
            let mut buf = vec![0u8; MAX_DATAGRAM_LEN + 100];
            while !stop.load(Ordering::Relaxed) {
                match socket.recv_from(&mut buf) {
                    Ok((n, _)) => receive(&mut receiver, &keys, &buf[..n], &mut tally),
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                    // ICMP port unreachable from an earlier send: nothing listened there.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                    Err(e) => {
                        tally.error = Some(e.to_string());
                        break;
                    }
                }
            }
            tally
        })?;
        Ok(Telemetry { thread })
    }

    /// Waits for the thread (after `stop` was set) and returns what it counted.
    pub fn finish(self) -> TelemetryTally {
        self.thread.join().unwrap_or_else(|_| TelemetryTally {
            error: Some("the telemetry thread panicked".into()),
            ..TelemetryTally::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead::frame::{CanId, Frame};
    use bulkhead::keys::{KeyId, KeyName, LinkSecret, MemoryKeyStore};
    use bulkhead::link::{LinkSender, LinkSuite};

    #[test]
    fn telemetry_opens_with_the_gateway_to_device_key_only() {
        let mut store = MemoryKeyStore::new();
        let name = KeyName::new("head-unit").expect("name");
        let out_secret = LinkSecret::random(LinkSuite::Aes128Gcm).expect("random");
        let in_secret = LinkSecret::random(LinkSuite::Aes128Gcm).expect("random");
        let out = bulkhead::keys::LinkKey::new(KeyId::new(7), name.clone(), Direction::GatewayToDevice, out_secret);
        let inbound = bulkhead::keys::LinkKey::new(KeyId::new(8), name, Direction::DeviceToGateway, in_secret);
        let sealer = |k: &bulkhead::keys::LinkKey| {
            let prepared = link::LinkKey::new(k.suite(), k.secret().expose(), "head-unit").expect("key");
            LinkSender::new(k.id(), prepared, 1).expect("sender")
        };
        let (mut gateway, mut impostor) = (sealer(&out), sealer(&inbound));
        store.insert_link(out).expect("insert");
        store.insert_link(inbound).expect("insert");
        let keys = gateway_to_device_keys(&store);
        let frame = Frame::classic(CanId::standard(0x110).expect("id"), &[1, 2]).expect("frame");
        let mut receiver = LinkReceiver::new();
        let mut tally = TelemetryTally::default();
        let mut buf = [0u8; 200];
        for _ in 0..3 {
            let n = gateway.seal(&[frame, frame], &mut buf).expect("seal").len;
            receive(&mut receiver, &keys, &buf[..n], &mut tally);
        }
        // The device's own key does not open telemetry: it is the other direction.
        let n = impostor.seal(&[frame], &mut buf).expect("seal").len;
        receive(&mut receiver, &keys, &buf[..n], &mut tally);
        receive(&mut receiver, &keys, b"noise", &mut tally);
        assert_eq!(tally.datagrams, 5);
        assert_eq!(tally.opened.get("head-unit"), Some(&3));
        assert_eq!(tally.frames.get(&("head-unit".to_owned(), "110".to_owned())), Some(&6));
        assert_eq!(tally.refused.get("unknown_key_id"), Some(&1));
        assert_eq!(tally.refused.get("too_short"), Some(&1));
    }
}
