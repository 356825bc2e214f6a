//! The gateway task's state and its frame path: frames and datagrams in,
//! verdicts from the engine, frames out. No locks: one task owns all of it.
//!
//! Ingress is read by [`Gateway::read_ports`] into bounded queues by
//! priority (trusted CAN ports first, then hostile CAN ports and link
//! datagrams); [`Gateway::process`] empties the trusted queue completely and
//! the hostile ones up to a budget per pass, so a flood on a hostile port
//! never delays trusted traffic by more than one budget. A full queue drops
//! the frame, counts it per port and reports a `queue-overflow` fault to the
//! engine (at most once per [`OVERFLOW_FAULT_INTERVAL`] per port, so a flood
//! does not become a flood of events). Steady state allocates nothing per
//! frame: queues, the datagram slots and the sealing buffer are sized at start.
//!
//! Write-ahead persistence happens here, synchronously, before side effects:
//! SecOC marks (`persist_request` / `confirm_persisted`, at block boundaries)
//! and link packet-number marks (see [`super::marks`]) before the frames of a
//! datagram above the persisted mark are forwarded, and before a sealed
//! datagram above the persisted send mark leaves.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::can_io;
use super::config::Config;
use super::control::Challenges;
use super::events::RecentEvents;
use super::marks::{MarkBook, MarkKind};
use super::ports::PortIo;
use super::record::Recorder;
use super::ring::BoundedQueue;
use super::stats::{LoadTracker, Stats};
use crate::bundle::LastGoodBundle;
use crate::engine::modes::ModeChange;
use crate::engine::verdict::Verdict;
use crate::engine::{DatagramOutcome, Engine};
use crate::frame::Frame;
use crate::keys::FileKeyStore;
use crate::link::{Header, MAX_DATAGRAM_LEN};
use crate::rules::{CompiledRules, FaultKind, PortId, Trust};
use crate::secoc::{FileStore, FreshnessStore};
use crate::time::Timestamp;

/// Capacity of the trusted ingress queue (frames).
pub const TRUSTED_QUEUE: usize = 1024;
/// Capacity of the hostile ingress queue (frames).
pub const HOSTILE_QUEUE: usize = 256;
/// Capacity of the datagram queue.
pub const DATAGRAM_QUEUE: usize = 64;
/// Frames read from one socket per poll.
pub const READ_BUDGET: usize = 64;
/// Ports receiving more frames per second than this are read in batches.
pub const BATCH_ABOVE_FPS: f64 = 1000.0;
/// Hostile frames and datagrams handled per pass (each) before trusted ports are looked at again.
pub const HOSTILE_BUDGET: usize = 32;
/// A queue-overflow fault is reported to the engine at most this often per port.
pub const OVERFLOW_FAULT_INTERVAL: Duration = Duration::from_millis(100);
/// How often a down interface is looked at.
pub const REOPEN_INTERVAL: Duration = Duration::from_millis(500);

/// Room for one received datagram (one byte more than the largest valid one,
/// so an oversized datagram is seen as such).
const DATAGRAM_SLOT: usize = MAX_DATAGRAM_LEN + 8;

/// A received datagram waiting for the engine.
#[derive(Clone, Copy)]
pub struct Datagram {
    port: PortId,
    from: SocketAddr,
    len: usize,
    bytes: [u8; DATAGRAM_SLOT],
}

/// Everything the gateway task owns.
pub struct Gateway {
    /// The configuration in force.
    pub config: Config,
    /// The engine.
    pub engine: Engine,
    /// The rules in force (the engine's, kept for names).
    pub rules: Arc<CompiledRules>,
    /// The key store.
    pub store: Option<FileKeyStore>,
    /// The bundle in force (rollback protection).
    pub last_bundle: LastGoodBundle,
    /// Where SecOC marks are saved.
    pub freshness: FileStore,
    /// Link packet-number marks.
    pub marks: MarkBook,
    /// The I/O of each port, by port id.
    pub ports: Vec<PortIo>,
    /// The monotonic start.
    pub started: Instant,
    /// Counters of the shell.
    pub stats: Stats,
    /// Per-port frame rates.
    pub load: LoadTracker,
    /// Recent events for `status`.
    pub recent: RecentEvents,
    /// The latest mode change (its cause is shown by `status`).
    pub mode_change: Option<ModeChange>,
    /// Outstanding challenges of the management protocol.
    pub challenges: Challenges,
    /// The ingress capture.
    pub recorder: Option<Recorder>,
    /// Names of the ports by id (for the capture).
    port_names: Vec<String>,
    trusted: BoundedQueue<(PortId, Frame)>,
    hostile: BoundedQueue<(PortId, Frame)>,
    datagrams: BoundedQueue<Datagram>,
    scratch: Box<Datagram>,
    sealed: Vec<u8>,
    verdicts: Vec<(Frame, Verdict)>,
    overflow_reported: Vec<Option<Timestamp>>,
    overflow_pending: Vec<bool>,
    ports_checked_at: Instant,
    batch: Vec<bool>,
    /// The loop's epoll set, where CAN sockets are (re)registered.
    pub poller: Option<super::poller::Poller>,
}

/// What happened to a frame handed to a port.
enum Sent {
    Done,
    Queued,
    Overflow,
    Down,
    Unbound,
    Failed,
    PortDown(String),
}

impl Gateway {
    /// A gateway over running parts (sockets open, state loaded).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Config,
        engine: Engine,
        store: Option<FileKeyStore>,
        last_bundle: LastGoodBundle,
        freshness: FileStore,
        marks: MarkBook,
        ports: Vec<PortIo>,
        started: Instant,
    ) -> Self {
        let rules = Arc::clone(engine.rules());
        let count = rules.ports.len();
        Gateway {
            config,
            engine,
            port_names: rules.ports.iter().map(|p| p.name.clone()).collect(),
            rules,
            store,
            last_bundle,
            freshness,
            marks,
            ports,
            started,
            stats: Stats::new(count),
            load: LoadTracker::new(count),
            recent: RecentEvents::default(),
            mode_change: None,
            challenges: Challenges::default(),
            recorder: None,
            trusted: BoundedQueue::new(TRUSTED_QUEUE),
            hostile: BoundedQueue::new(HOSTILE_QUEUE),
            datagrams: BoundedQueue::new(DATAGRAM_QUEUE),
            scratch: Box::new(Datagram {
                port: PortId(0),
                from: SocketAddr::from(([0, 0, 0, 0], 0)),
                len: 0,
                bytes: [0; DATAGRAM_SLOT],
            }),
            sealed: vec![0; MAX_DATAGRAM_LEN],
            verdicts: Vec::with_capacity(crate::link::MAX_FRAMES_PER_DATAGRAM),
            overflow_reported: vec![None; count],
            overflow_pending: vec![false; count],
            ports_checked_at: started,
            batch: vec![false; count],
            poller: None,
        }
    }

    /// The engine's time now (monotonic since start).
    pub fn now(&self) -> Timestamp {
        let elapsed = self.started.elapsed();
        Timestamp::from_nanos(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Seconds since start, for logs.
    pub fn uptime_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Logs a daemon event and keeps it among the recent ones.
    pub fn log(&mut self, event: &str, detail: serde_json::Value) {
        let time = self.uptime_s();
        super::events::log_daemon(&mut self.recent, time, event, detail);
    }

    /// Called after a reload: port names and queue bookkeeping follow the new rules.
    pub fn rules_changed(&mut self) {
        self.rules = Arc::clone(self.engine.rules());
        self.batch = vec![false; self.rules.ports.len()];
        self.port_names = self.rules.ports.iter().map(|p| p.name.clone()).collect();
    }

    /// Reads the ready ports into the ingress queues, trusted ports first. A
    /// busy port (more than [`BATCH_ABOVE_FPS`] frames per second over the
    /// last second) is read up to [`READ_BUDGET`] frames, until `EAGAIN`; a
    /// quiet one a single frame, because the level-triggered epoll set reports
    /// it again if there is more, and so a quiet bus costs no failed read per
    /// frame while a busy one costs no `epoll_wait` per frame.
    pub fn read_ports(&mut self, ready: &[usize]) {
        let rules = Arc::clone(&self.rules);
        for pass_trust in [Trust::Trusted, Trust::Hostile] {
            for &index in ready {
                let Some(port) = rules.ports.get(index) else { continue };
                if port.trust != pass_trust {
                    continue;
                }
                let busy = self.batch.get(index).copied().unwrap_or(false);
                self.read_port(index, pass_trust, if busy { READ_BUDGET } else { 1 });
            }
        }
    }

    /// Decides, from the last second's load, which ports are read in batches.
    pub fn update_batching(&mut self) {
        for (index, batch) in self.batch.iter_mut().enumerate() {
            let rate = self.load.rate(index);
            if rate > BATCH_ABOVE_FPS {
                *batch = true;
            } else if rate < BATCH_ABOVE_FPS / 2.0 {
                *batch = false;
            }
        }
    }

    fn read_port(&mut self, index: usize, trust: Trust, budget: usize) {
        let id = PortId(index as u8);
        match self.ports.get_mut(index) {
            Some(PortIo::Can(can)) => {
                let Some(socket) = &can.socket else { return };
                let queue = if trust == Trust::Trusted { &mut self.trusted } else { &mut self.hostile };
                let mut failed = None;
                for _ in 0..budget {
                    match can_io::read(socket) {
                        Ok(Some(frame)) => {
                            let Some(frame) = can_io::from_socket(&frame) else { continue };
                            if queue.push((id, frame)).is_err() {
                                self.stats.ingress_overflow[index] += 1;
                                self.overflow_pending[index] = true;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                if let Some(error) = failed {
                    // The engine hears of it as a fault in `process`.
                    self.take_down(index, error.to_string());
                }
            }
            Some(PortIo::Link(link)) => {
                for _ in 0..budget {
                    let scratch = &mut *self.scratch;
                    match link.socket.recv_from(&mut scratch.bytes) {
                        Ok((len, from)) => {
                            scratch.port = id;
                            scratch.len = len;
                            scratch.from = from;
                            if self.datagrams.push(*scratch).is_err() {
                                self.stats.ingress_overflow[index] += 1;
                                self.overflow_pending[index] = true;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            self.stats.read_errors[index] += 1;
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// True when queued work or a fault waits for [`Gateway::process`].
    pub fn has_work(&self) -> bool {
        !self.trusted.is_empty()
            || !self.hostile.is_empty()
            || !self.datagrams.is_empty()
            || self.overflow_pending.iter().any(|&p| p)
            || self.stats.down_pending.iter().any(|&p| p)
    }

    /// Hands queued frames to the engine: every trusted frame, then up to a
    /// budget of hostile frames and datagrams. Returns true when hostile work is left.
    pub fn process(&mut self) -> bool {
        let now = self.now();
        self.report_port_faults(now);
        while let Some((port, frame)) = self.trusted.pop() {
            self.handle_frame(now, port, &frame);
        }
        for _ in 0..HOSTILE_BUDGET {
            let Some((port, frame)) = self.hostile.pop() else { break };
            self.handle_frame(now, port, &frame);
        }
        for _ in 0..HOSTILE_BUDGET {
            let Some(datagram) = self.datagrams.pop() else { break };
            *self.scratch = datagram;
            self.handle_datagram(now);
        }
        !self.hostile.is_empty() || !self.datagrams.is_empty()
    }

    fn report_port_faults(&mut self, now: Timestamp) {
        for index in 0..self.overflow_pending.len() {
            let port = Some(PortId(index as u8));
            if self.stats.down_pending.get(index).copied().unwrap_or(false) {
                self.stats.down_pending[index] = false;
                self.engine.on_fault(now, port, FaultKind::LinkDown);
                let detail = serde_json::json!({
                    "port": self.port_names.get(index),
                    "error": self.stats.port_down.get(index).cloned().flatten(),
                });
                self.log("port-down", detail);
            }
            if self.overflow_pending[index] {
                // Engine time: no clock read on the frame path.
                let due =
                    self.overflow_reported[index].is_none_or(|at| now.saturating_since(at) >= OVERFLOW_FAULT_INTERVAL);
                if due {
                    self.overflow_pending[index] = false;
                    self.overflow_reported[index] = Some(now);
                    self.engine.on_fault(now, port, FaultKind::QueueOverflow);
                }
            }
        }
    }

    fn handle_frame(&mut self, now: Timestamp, port: PortId, frame: &Frame) {
        if let (Some(recorder), Some(name)) = (&mut self.recorder, self.port_names.get(port.0 as usize)) {
            let _ = recorder.record(now, name, frame);
        }
        let verdict = self.engine.on_frame(now, port, frame);
        self.dispatch(frame, &verdict);
        self.persist_secoc();
    }

    fn handle_datagram(&mut self, now: Timestamp) {
        let Gateway { engine, verdicts, scratch, .. } = self;
        let port = scratch.port;
        let bytes = scratch.bytes.get(..scratch.len).unwrap_or(&[]);
        let header = Header::parse(bytes).ok();
        verdicts.clear();
        let outcome = engine.on_datagram(now, port, bytes, &mut |frame, verdict| verdicts.push((*frame, verdict)));
        let DatagramOutcome::Opened { device, .. } = outcome else { return };
        // Write ahead: the receive mark covers this packet number before any frame of it leaves.
        if let Some(header) = header
            && let Err(error) = self.marks.cover(MarkKind::Receive, header.key_id, header.packet_number)
        {
            self.stats.persist_failures += 1;
            self.stats.link_withheld += self.verdicts.len() as u64;
            tracing::error!(target: "bulkhead::daemon", error = %error, "link mark not persisted: datagram withheld");
            return;
        }
        let from = self.scratch.from;
        if let (Some(device), Some(PortIo::Link(link))) = (device, self.ports.get_mut(port.0 as usize))
            && let Some(peer) = link.peers.iter_mut().find(|p| p.device == device)
        {
            peer.address = Some(from);
        }
        for i in 0..self.verdicts.len() {
            let Some((frame, verdict)) = self.verdicts.get(i).copied() else { break };
            if let Some(recorder) = &mut self.recorder {
                let bus = device
                    .and_then(|d| self.rules.devices.get(d.0 as usize))
                    .map(|d| d.name.as_str())
                    .or_else(|| self.port_names.get(port.0 as usize).map(String::as_str));
                if let Some(bus) = bus {
                    let _ = recorder.record(now, bus, &frame);
                }
            }
            self.dispatch(&frame, &verdict);
        }
        self.persist_secoc();
    }

    /// Sends a frame the engine forwards to every destination port.
    fn dispatch(&mut self, frame: &Frame, verdict: &Verdict) {
        let Verdict::Forward { to, resigned, .. } = verdict else { return };
        for dest in to.iter() {
            let out = match resigned {
                Some((set, signed)) if set.contains(dest) => signed,
                _ => frame,
            };
            self.send(dest, out);
        }
    }

    /// Sends one frame to one port (also used for the engine's status frames).
    pub fn send(&mut self, dest: PortId, frame: &Frame) {
        let index = dest.0 as usize;
        let outcome = match self.ports.get_mut(index) {
            Some(PortIo::Can(can)) => send_can(can, frame),
            Some(PortIo::Link(_)) => {
                self.send_link(dest, frame);
                Sent::Done
            }
            Some(PortIo::Unbound) | None => Sent::Unbound,
        };
        let stats = &mut self.stats;
        match outcome {
            Sent::Done | Sent::Queued => {}
            Sent::Overflow => {
                stats.egress_overflow[index] += 1;
                self.overflow_pending[index] = true;
            }
            Sent::Down => stats.egress_down[index] += 1,
            Sent::Unbound => {
                if let Some(count) = stats.egress_unbound.get_mut(index) {
                    *count += 1;
                }
            }
            Sent::Failed => stats.write_errors[index] += 1,
            Sent::PortDown(reason) => self.take_down(index, reason),
        }
    }

    /// Seals a frame to every device of a link port that has been heard from.
    fn send_link(&mut self, dest: PortId, frame: &Frame) {
        let Gateway { ports, marks, sealed, stats, .. } = self;
        let Some(PortIo::Link(link)) = ports.get_mut(dest.0 as usize) else { return };
        for peer in &mut link.peers {
            let (Some(address), Some(sender)) = (peer.address, peer.sender.as_mut()) else {
                stats.link_no_peer += 1;
                continue;
            };
            let Some(next) = sender.next_packet_number() else {
                stats.link_seal_errors += 1;
                continue;
            };
            if let Err(error) = marks.cover(MarkKind::Send, sender.key_id(), next) {
                stats.persist_failures += 1;
                tracing::error!(target: "bulkhead::daemon", error = %error, "send mark not persisted: frame withheld");
                continue;
            }
            match sender.seal(std::slice::from_ref(frame), sealed) {
                Ok(done) => match link.socket.send_to(sealed.get(..done.len).unwrap_or(&[]), address) {
                    Ok(_) => stats.link_sent += 1,
                    Err(_) => stats.write_errors[dest.0 as usize] += 1,
                },
                Err(_) => stats.link_seal_errors += 1,
            }
        }
    }

    /// Saves SecOC marks when the engine asks, then confirms them.
    pub fn persist_secoc(&mut self) {
        let Some(snapshot) = self.engine.persist_request() else { return };
        match self.freshness.save(&snapshot) {
            Ok(()) => {
                self.engine.confirm_persisted(&snapshot);
                self.stats.freshness_writes += 1;
            }
            Err(error) => {
                self.stats.persist_failures += 1;
                tracing::error!(target: "bulkhead::daemon", error = %error, "SecOC freshness not persisted");
            }
        }
    }

    /// Retries queued egress frames.
    pub fn flush_egress(&mut self) {
        for io in &mut self.ports {
            let PortIo::Can(can) = io else { continue };
            let Some(socket) = &can.socket else {
                can.egress.clear();
                continue;
            };
            while let Some(frame) = can.egress.pop() {
                if can_io::try_write(socket, &frame).is_err() {
                    let _ = can.egress.push_front(frame);
                    break;
                }
            }
        }
    }

    /// Every [`REOPEN_INTERVAL`]: takes down CAN ports whose interface went
    /// down (a down interface does not always wake a reader), and reopens
    /// those whose interface is back.
    pub fn check_ports(&mut self) {
        let wall = Instant::now();
        if wall < self.ports_checked_at + REOPEN_INTERVAL {
            return;
        }
        self.ports_checked_at = wall;
        let up = can_io::interfaces_up();
        for index in 0..self.ports.len() {
            let Some(PortIo::Can(can)) = self.ports.get_mut(index) else { continue };
            let is_up = up.iter().any(|name| name == &can.interface);
            match (&can.socket, is_up) {
                (Some(_), false) => {
                    self.take_down(index, "the interface is down".to_owned());
                }
                (None, true) => match can.open() {
                    Ok(()) => {
                        if let (Some(poller), Some(socket)) = (&self.poller, &can.socket) {
                            let _ = poller.add(socket, index);
                        }
                        self.stats.port_down[index] = None;
                        let detail =
                            serde_json::json!({ "port": self.port_names.get(index), "interface": can.interface });
                        self.log("port-up", detail);
                    }
                    Err(error) => self.stats.port_down[index] = Some(error.to_string()),
                },
                _ => {}
            }
        }
    }

    /// Closes a CAN port's socket; the engine hears of it as a `link-down` fault.
    fn take_down(&mut self, index: usize, reason: String) {
        if let Some(PortIo::Can(can)) = self.ports.get_mut(index) {
            if let (Some(poller), Some(socket)) = (&self.poller, &can.socket) {
                poller.remove(socket);
            }
            can.socket = None;
            let dropped = can.egress.clear() as u64;
            if let Some(count) = self.stats.egress_down.get_mut(index) {
                *count += dropped;
            }
        }
        if let Some(slot) = self.stats.port_down.get_mut(index) {
            *slot = Some(reason);
        }
        if let Some(count) = self.stats.faults.get_mut(index) {
            *count += 1;
        }
        if let Some(pending) = self.stats.down_pending.get_mut(index) {
            *pending = true;
        }
    }

    /// Frames queued for the engine (for tests and status).
    pub fn queued(&self) -> (usize, usize, usize) {
        (self.trusted.len(), self.hostile.len(), self.datagrams.len())
    }
}

fn send_can(can: &mut super::ports::CanPort, frame: &Frame) -> Sent {
    let Some(socket) = &can.socket else { return Sent::Down };
    let Some(out) = can_io::to_socket(frame) else { return Sent::Failed };
    if !can.egress.is_empty() {
        return if can.egress.push(out).is_ok() { Sent::Queued } else { Sent::Overflow };
    }
    match can_io::try_write(socket, &out) {
        Ok(()) => Sent::Done,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(105) => {
            // ENOBUFS (105): the interface queue is full.
            if can.egress.push(out).is_ok() { Sent::Queued } else { Sent::Overflow }
        }
        Err(e) if can_io::is_down_error(&e) => Sent::PortDown(e.to_string()),
        Err(_) => Sent::Failed,
    }
}
