//! Where each port's frames go during a live run, and sending them there:
//! the CAN interface of a `--can PORT=IFACE`, or the gateway address of a
//! `--link PORT=ADDR` (one datagram per frame, from one UDP socket).
//!
//! Invariants: the mappings are checked against the rules before anything is
//! opened (a port exists, has the right medium, is given once; a CAN FD port's
//! interface takes CAN FD frames); a failed send is counted with its first
//! error, never retried for ever.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use bulkhead::keys::KeyStore;
use bulkhead::link;
use bulkhead::rules::{CompiledRules, Medium};

use super::can::{self, CanWriter};
use super::ledger::Ledger;
use super::{LiveConfig, LiveError, io_error};
use crate::link::{Datagrams, packet_number_from_clock};
use crate::scenario::AttackKind;
use crate::traffic::{Label, SimFrame};

/// What became of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Written or sent.
    Ok,
    /// It could not be (counted in the send errors).
    Failed,
    /// Its port is not connected: not sent.
    NotConnected,
}

/// The open ports of a run.
pub struct Wiring {
    can: Vec<Option<(String, CanWriter)>>,
    link: Vec<Option<SocketAddr>>,
    socket: Option<UdpSocket>,
    datagrams: Datagrams,
    /// Per device: datagrams not sent, and the first reason.
    link_errors: BTreeMap<String, (u64, String)>,
    device_names: Vec<String>,
}

impl Wiring {
    /// Checks the mappings of `config` against `rules`, opens the CAN
    /// interfaces and, when a link port is mapped, binds the UDP socket.
    pub fn open(rules: &CompiledRules, config: &LiveConfig, keys: &dyn KeyStore, seed: u64) -> Result<Self, LiveError> {
        let ports = rules.ports.len();
        let names = || rules.ports.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
        let find = |name: &str| {
            rules
                .port_by_name(name)
                .ok_or_else(|| LiveError::Wiring(format!("the rules have no port `{name}` (their ports: {})", names())))
        };
        let mut can_ports: Vec<Option<(String, CanWriter)>> = (0..ports).map(|_| None).collect();
        let mut link = vec![None; ports];
        for (name, iface) in &config.can {
            let id = find(name)?;
            let port = &rules.ports[id.0 as usize];
            if port.medium == Medium::Ethernet {
                return Err(LiveError::Wiring(format!(
                    "`--can {name}={iface}`: port `{name}` is an Ethernet port; use `--link {name}=ADDRESS`"
                )));
            }
            if can_ports[id.0 as usize].is_some() {
                return Err(LiveError::Wiring(format!("port `{name}` is given twice")));
            }
            if port.medium == Medium::CanFd {
                let mtu = can::interface_mtu(iface).map_err(io_error(format!("port `{name}`")))?;
                if mtu < can::CANFD_MTU {
                    return Err(LiveError::Wiring(format!(
                        "port `{name}` carries CAN FD but `{iface}` has MTU {mtu}: `ip link set {iface} mtu 72` first"
                    )));
                }
            }
            let writer = CanWriter::open(iface).map_err(io_error(format!("port `{name}`")))?;
            can_ports[id.0 as usize] = Some((iface.clone(), writer));
        }
        for (name, addr) in &config.link {
            let id = find(name)?;
            if rules.ports[id.0 as usize].medium != Medium::Ethernet {
                return Err(LiveError::Wiring(format!(
                    "`--link {name}={addr}`: port `{name}` is a CAN port; use `--can {name}=INTERFACE`"
                )));
            }
            if link[id.0 as usize].replace(*addr).is_some() {
                return Err(LiveError::Wiring(format!("port `{name}` is given twice")));
            }
        }
        if can_ports.iter().all(Option::is_none) && link.iter().all(Option::is_none) {
            return Err(LiveError::Wiring("nothing to send to: give at least one `--can` or `--link`".into()));
        }
        let socket = if link.iter().any(Option::is_some) {
            Some(UdpSocket::bind(config.bind).map_err(io_error(format!("cannot bind UDP {}", config.bind)))?)
        } else {
            None
        };
        Ok(Wiring {
            can: can_ports,
            link,
            socket,
            datagrams: Datagrams::new(rules, keys, packet_number_from_clock(), seed),
            link_errors: BTreeMap::new(),
            device_names: rules.devices.iter().map(|d| d.name.clone()).collect(),
        })
    }

    /// The CAN interfaces in use, by port index.
    pub fn interfaces(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        self.can.iter().enumerate().filter_map(|(i, slot)| slot.as_ref().map(|(iface, _)| (i, iface.as_str())))
    }

    /// The UDP socket, when a link port is mapped.
    pub fn socket(&self) -> Option<&UdpSocket> {
        self.socket.as_ref()
    }

    /// Says whether a frame may travel in one datagram with a batch: frames
    /// of a flooding or fuzzing head unit on a connected link port, of one
    /// device and one attack, as many as a datagram holds. Everything else
    /// goes alone.
    pub fn packer(&self) -> impl Fn(&[SimFrame], &SimFrame) -> bool + use<> {
        let linked: Vec<bool> = self.link.iter().map(Option::is_some).collect();
        move |batch: &[SimFrame], next: &SimFrame| {
            let Some(first) = batch.first() else { return false };
            let packable = matches!(next.label, Label::Attack(AttackKind::Flood | AttackKind::Fuzz));
            let on_link = linked.get(next.port.0 as usize).copied().unwrap_or(false);
            let together = first.label == next.label && first.port == next.port && first.device == next.device;
            if !(packable && on_link && together) {
                return false;
            }
            let frames = batch.iter().chain(std::iter::once(next)).map(|f| f.frame);
            let body: usize = frames.clone().map(|f| link::encoded_len(&f)).sum();
            body <= link::MAX_BODY_LEN && frames.count() <= link::MAX_FRAMES_PER_DATAGRAM
        }
    }

    /// Sends `batch` (one frame, or frames [`Wiring::packer`] put together)
    /// where its port goes, recording each frame first in `ledger` (if
    /// watching) so that its echo or crossing can be told apart.
    pub fn send(&mut self, batch: &[SimFrame], at: Instant, ledger: Option<&std::sync::Mutex<Ledger>>) -> Sent {
        let Some(f) = batch.first() else { return Sent::Ok };
        let port = f.port.0 as usize;
        let note = |written: bool| {
            if let Some(l) = ledger {
                let mut l = l.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                for f in batch {
                    l.sent(at, f.port, &f.frame, f.label, written);
                }
            }
        };
        if let Some(Some((_, writer))) = self.can.get_mut(port) {
            note(true);
            let written = batch.iter().filter(|f| writer.write(&f.frame)).count();
            return if written == batch.len() { Sent::Ok } else { Sent::Failed };
        }
        let (Some(Some(addr)), Some(socket)) = (self.link.get(port).copied(), &self.socket) else {
            return Sent::NotConnected;
        };
        note(false);
        let result = match self.datagrams.datagram_of(batch) {
            Ok(bytes) => socket.send_to(bytes, addr).map(|_| ()).map_err(|e| format!("to {addr}: {e}")),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(()) => Sent::Ok,
            Err(why) => {
                let device =
                    f.device.and_then(|d| self.device_names.get(d.0 as usize)).map_or("(no device)", String::as_str);
                self.link_errors.entry(device.to_owned()).or_insert((0, why)).0 += 1;
                Sent::Failed
            }
        }
    }

    /// The send errors, one line per interface or device.
    pub fn send_errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for (iface, writer) in self.can.iter().flatten() {
            if writer.failed > 0 {
                let first = writer.first_error.as_deref().unwrap_or("");
                errors.push(format!("{iface}: {} frames not written; first: {first}", writer.failed));
            }
        }
        for (device, (n, first)) in &self.link_errors {
            errors.push(format!("link, {device}: {n} datagrams not sent; first: {first}"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bulkhead::frame::{CanId, Frame};
    use bulkhead::keys::{Direction, KeyId, KeyName, LinkSecret, MemoryKeyStore};
    use bulkhead::link::{LinkReceiver, LinkSuite, MemoryKeys};
    use bulkhead::time::Timestamp;

    use super::*;

    fn config(link: SocketAddr) -> LiveConfig {
        LiveConfig {
            scenario: "unused.toml".into(),
            keys: "unused".into(),
            can: Vec::new(),
            link: vec![("infotainment".into(), link)],
            bind: "127.0.0.1:0".parse().expect("address"),
            speed: 1.0,
            observe: false,
            record: None,
            labels: None,
            grace: Duration::ZERO,
            progress: false,
        }
    }

    #[test]
    fn mappings_are_checked_against_the_rules() {
        let rules = bulkhead::rules::reference().expect("rules").0;
        let keys = MemoryKeyStore::new();
        let addr: SocketAddr = "127.0.0.1:9".parse().expect("address");
        let mut bad = config(addr);
        bad.link = vec![("drive".into(), addr)];
        let e = Wiring::open(&rules, &bad, &keys, 1).err().expect("refused");
        assert!(e.to_string().contains("port `drive` is a CAN port; use `--can drive=INTERFACE`"), "{e}");
        bad.link = vec![("radio".into(), addr)];
        let e = Wiring::open(&rules, &bad, &keys, 1).err().expect("refused");
        assert!(e.to_string().contains("no port `radio`") && e.to_string().contains("infotainment"), "{e}");
        bad.link = Vec::new();
        bad.can = vec![("infotainment".into(), "vcan9".into())];
        let e = Wiring::open(&rules, &bad, &keys, 1).err().expect("refused");
        assert!(e.to_string().contains("is an Ethernet port"), "{e}");
        bad.can = Vec::new();
        let e = Wiring::open(&rules, &bad, &keys, 1).err().expect("refused");
        assert!(e.to_string().contains("nothing to send to"), "{e}");
    }

    #[test]
    fn a_flood_leaves_packed_in_datagrams_the_gateway_opens() {
        let rules = bulkhead::rules::reference().expect("rules").0;
        let mut store = MemoryKeyStore::new();
        let secret = LinkSecret::random(LinkSuite::Aes128Gcm).expect("random");
        let key = bulkhead::keys::LinkKey::new(
            KeyId::new(77),
            KeyName::new("head-unit").expect("name"),
            Direction::DeviceToGateway,
            secret,
        );
        let mut gateway_keys = MemoryKeys::new();
        let prepared = link::LinkKey::new(key.suite(), key.secret().expose(), "head-unit").expect("key");
        gateway_keys.insert(KeyId::new(77), prepared).expect("insert");
        store.insert_link(key).expect("insert");
        let gateway = UdpSocket::bind("127.0.0.1:0").expect("bind");
        gateway.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut wiring =
            Wiring::open(&rules, &config(gateway.local_addr().expect("address")), &store, 1).expect("wiring");

        let ivi = rules.port_by_name("infotainment").expect("port");
        let frame = |label: Label, len: usize| SimFrame {
            time: Timestamp::from_millis(0),
            port: ivi,
            frame: if len > 8 {
                Frame::fd(CanId::standard(0x314).expect("id"), &vec![1; len], Default::default()).expect("fd")
            } else {
                Frame::classic(CanId::standard(0x314).expect("id"), &[1, 2, 3, 4]).expect("frame")
            },
            label,
            device: rules.device_by_name("head-unit"),
        };
        let flood = Label::Attack(AttackKind::Flood);
        let packs = wiring.packer();
        assert!(packs(&[frame(flood, 4)], &frame(flood, 4)));
        assert!(!packs(&[frame(flood, 4)], &frame(Label::Request, 4)), "another label goes alone");
        assert!(!packs(&[frame(Label::Request, 4)], &frame(Label::Request, 4)), "requests go alone");
        let big: Vec<SimFrame> = (0..19).map(|_| frame(flood, 64)).collect();
        assert!(packs(&big[..18], &big[18]), "19 records of 70 bytes fit in 1366");
        let bigger: Vec<SimFrame> = (0..20).map(|_| frame(flood, 64)).collect();
        assert!(!packs(&bigger[..19], &bigger[19]), "20 do not");

        let batch: Vec<SimFrame> = (0..5).map(|_| frame(flood, 4)).collect();
        assert_eq!(wiring.send(&batch, Instant::now(), None), Sent::Ok);
        let mut buf = [0u8; 1500];
        let (n, _) = gateway.recv_from(&mut buf).expect("a datagram");
        let mut receiver = LinkReceiver::new();
        let opened = receiver.open(&gateway_keys, &buf[..n]).expect("opens");
        assert_eq!((opened.device(), opened.frames().len()), ("head-unit", 5));
        assert!(wiring.send_errors().is_empty());
    }
}
