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
use bulkhead::rules::{CompiledRules, Medium};

use super::can::{self, CanWriter};
use super::ledger::Ledger;
use super::{LiveConfig, LiveError, io_error};
use crate::link::{Datagrams, packet_number_from_clock};
use crate::traffic::SimFrame;

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

    /// Sends `f` where its port goes, recording it first in `ledger` (if
    /// watching) so that its echo or crossing can be told apart.
    pub fn send(&mut self, f: &SimFrame, at: Instant, ledger: Option<&std::sync::Mutex<Ledger>>) -> Sent {
        let port = f.port.0 as usize;
        let note = |written: bool| {
            if let Some(l) = ledger {
                l.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .sent(at, f.port, &f.frame, f.label, written);
            }
        };
        if let Some(Some((_, writer))) = self.can.get_mut(port) {
            note(true);
            return if writer.write(&f.frame) { Sent::Ok } else { Sent::Failed };
        }
        let (Some(Some(addr)), Some(socket)) = (self.link.get(port).copied(), &self.socket) else {
            return Sent::NotConnected;
        };
        note(false);
        let result = match self.datagrams.datagram(f) {
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
