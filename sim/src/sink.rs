//! A bare receiving end of the link, for tests: `bulkhead-sim link-sink`
//! opens every datagram arriving on a UDP address with the device-to-gateway
//! keys of a key directory (and its revocation list), as the gateway would,
//! counts what it accepted and why it dropped the rest, and writes the
//! accepted frames as a candump capture whose bus is the sending device (the
//! naming `bulkhead replay` maps back to the device).
//!
//! It applies no rules: it checks that the simulator's datagrams are valid
//! protocol v1 under the right keys, and that its link attacks are refused for
//! the reason they aim at. It stops after a quiet period or a time limit.
//!
//! Invariants: the link checks are the library's own ([`LinkReceiver`]), in
//! their order; a revoked key id is refused whether or not its file exists.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

use bulkhead::keys::{Direction, FileKeyStore, FileKeyStoreConfig, KeyStore};
use bulkhead::link::{self, LinkReceiver, MAX_DATAGRAM_LEN, MemoryKeys};
use bulkhead::time::Timestamp;
use serde::Serialize;

use crate::record::write_line;

/// What the sink got.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SinkReport {
    /// Datagrams received.
    pub datagrams: u64,
    /// Datagrams accepted, per device.
    pub accepted: BTreeMap<String, u64>,
    /// Frames they carried.
    pub frames: u64,
    /// Datagrams dropped, per reason (`docs/link.md`, section 7).
    pub dropped: BTreeMap<String, u64>,
    /// The highest packet number accepted, per key id (hex).
    pub highest_packet_number: BTreeMap<String, u64>,
}

/// The device-to-gateway keys of `dir`, revoked ones refused (as the gateway holds them).
pub fn gateway_keys(dir: &std::path::Path, revocation_list: Option<&std::path::Path>) -> Result<MemoryKeys, String> {
    let store = FileKeyStore::load(FileKeyStoreConfig {
        directory: dir.to_owned(),
        revocation_list: revocation_list.map(ToOwned::to_owned),
        revoked: Vec::new(),
    })
    .map_err(|e| e.to_string())?;
    let mut keys = MemoryKeys::new();
    for info in store.link_keys() {
        if info.direction != Direction::DeviceToGateway {
            continue;
        }
        if info.revoked {
            // The secret of a revoked key is gone; any key material stands in, it is refused before use.
            let stand_in = vec![0u8; if info.suite == link::LinkSuite::Aes128Gcm { 16 } else { 32 }];
            if let Ok(k) = link::LinkKey::new(info.suite, &stand_in, info.device.as_str()) {
                let _ = keys.insert(info.id, k);
                keys.revoke(info.id);
            }
        } else if let Ok(key) = store.link_key(info.id)
            && let Ok(k) = link::LinkKey::new(key.suite(), key.secret().expose(), info.device.as_str())
        {
            let _ = keys.insert(info.id, k);
        }
    }
    Ok(keys)
}

/// When the sink stops receiving.
#[derive(Debug, Clone)]
pub enum SinkEnd {
    /// Nothing arrived for this long after the first datagram.
    Idle(Duration),
    /// This file exists and the socket has nothing queued (whatever was sent
    /// before the file was created has been read): for tests whose sender's
    /// pace depends on the machine's load.
    StopFile(std::path::PathBuf),
}

impl SinkEnd {
    fn reached(&self, last: Option<Instant>, queue_empty: bool) -> bool {
        match self {
            SinkEnd::Idle(idle) => last.is_some_and(|t| t.elapsed() >= *idle),
            SinkEnd::StopFile(path) => queue_empty && path.exists(),
        }
    }
}

/// Receives on `listen` until `end` is reached or `limit` passed; writes
/// accepted frames to `capture`.
pub fn run(
    listen: SocketAddr,
    keys: &MemoryKeys,
    end: &SinkEnd,
    limit: Duration,
    mut capture: Option<&mut dyn Write>,
) -> std::io::Result<SinkReport> {
    let socket = UdpSocket::bind(listen)?;
    socket.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut receiver = LinkReceiver::new();
    let mut report = SinkReport::default();
    let mut buf = vec![0u8; MAX_DATAGRAM_LEN + 200];
    let start = Instant::now();
    let mut last = None;
    let mut queue_empty = false;
    while start.elapsed() < limit && !end.reached(last, queue_empty) {
        let n = match socket.recv_from(&mut buf) {
            Ok((n, _)) => n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                queue_empty = true;
                continue;
            }
            Err(e) => return Err(e),
        };
        queue_empty = false;
        last = Some(Instant::now());
        report.datagrams += 1;
        match receiver.open(keys, &buf[..n]) {
            Ok(opened) => {
                *report.accepted.entry(opened.device().to_owned()).or_insert(0) += 1;
                report.frames += opened.frames().len() as u64;
                let id = format!("{}", opened.key_id());
                let high = report.highest_packet_number.entry(id).or_insert(0);
                *high = (*high).max(opened.packet_number());
                if let Some(out) = capture.as_mut() {
                    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
                    let time = Timestamp::from_nanos(u64::try_from(now.as_nanos()).unwrap_or(u64::MAX));
                    for f in opened.frames() {
                        write_line(out, time, opened.device(), f)?;
                    }
                }
            }
            Err(reason) => *report.dropped.entry(reason.name().to_owned()).or_insert(0) += 1,
        }
    }
    if let Some(out) = capture.as_mut() {
        out.flush()?;
    }
    Ok(report)
}
