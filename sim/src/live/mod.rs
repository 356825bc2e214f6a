//! The simulated vehicle in real time: a scenario's frames written to CAN
//! interfaces (vcan) and sent as link datagrams over UDP to a gateway, at the
//! scenario's pace (`bulkhead-sim run`).
//!
//! [`run`] plays the same [`Traffic`] as `bulkhead-sim record`, but each frame
//! leaves when its time comes ([`pacing`]): frames of CAN ports go to the
//! interface given for the port ([`can`]), frames of the Ethernet port are
//! sealed into datagrams with their device's device-to-gateway key, or
//! tampered with as the link attacks say ([`crate::link`]), and sent to the
//! gateway's address from one UDP socket, which also receives the gateway's
//! telemetry ([`telemetry`]). With `observe`, every CAN interface is read back
//! and each frame on it is attributed ([`ledger`], [`observe`]): the
//! simulator's own, a frame the gateway forwarded (with the label of the frame
//! sent), the gateway's status frame, or a stranger. The run ends with a
//! [`Summary`] per label; an attack frame that crossed the gateway is a
//! failure of the gateway.
//!
//! Time: the traffic's virtual clock starts at the wall-clock time of the run,
//! so recorded timestamps are real ones. Rules that depend on time (rates,
//! counter resynchronisation, recovery) see the scenario at the speed given:
//! `speed = 2` halves every gap, which can change verdicts.

pub mod can;
pub mod ledger;
pub mod observe;
pub mod pacing;
pub mod summary;
pub mod telemetry;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bulkhead::rules::{CompiledRules, Medium, PortId};
use bulkhead::time::Timestamp;

use crate::link::{Datagrams, packet_number_from_clock};
use crate::record::Recorder;
use crate::scenario::{AttackKind, Scenario, ScenarioError};
use crate::traffic::{Label, SimFrame, Traffic, TrafficError};
use can::CanWriter;
use ledger::Ledger;
use observe::Watch;
use pacing::{Flow, Pacer};
use summary::{Bus, LabelSummary, Observed, Pacing, Summary};

/// How long frames are remembered to attribute what the buses show.
pub const LEDGER_WINDOW: Duration = Duration::from_secs(2);

/// How long the run waits by default after the last frame for echoes, crossings and telemetry.
pub const GRACE: Duration = Duration::from_millis(400);

/// What to play and where.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The key directory (`bulkhead-sim keys`).
    pub keys: PathBuf,
    /// CAN ports and their interfaces: `(port, interface)`.
    pub can: Vec<(String, String)>,
    /// Ethernet ports and the gateway's address for each: `(port, address)`.
    pub link: Vec<(String, SocketAddr)>,
    /// The local address of the UDP socket (sends datagrams, receives telemetry).
    pub bind: SocketAddr,
    /// Virtual seconds per wall-clock second.
    pub speed: f64,
    /// Read the CAN interfaces back and attribute what crossed the gateway.
    pub observe: bool,
    /// Write what was sent as a candump capture (link frames on a bus named after the device).
    pub record: Option<PathBuf>,
    /// With `record`: the labels file (JSON lines `{"i": N, "label": "..."}`).
    pub labels: Option<PathBuf>,
    /// How long to keep watching after the last frame ([`GRACE`] by default).
    pub grace: Duration,
    /// Print a progress line every few seconds on standard error.
    pub progress: bool,
}

/// Why a live run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The scenario file is unusable.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The key directory is unusable (the error says which file and why).
    #[error("keys: {0}")]
    Keys(bulkhead::keys::KeyError),
    /// The scenario does not fit the rules.
    #[error(transparent)]
    Traffic(#[from] TrafficError),
    /// A `--can`/`--link` mapping is wrong.
    #[error("{0}")]
    Wiring(String),
    /// A socket or file could not be opened or written.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl From<bulkhead::keys::KeyError> for LiveError {
    fn from(e: bulkhead::keys::KeyError) -> Self {
        LiveError::Keys(e)
    }
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LiveError {
    let what = what.into();
    move |source| LiveError::Io { what, source }
}

/// Where each port's frames go.
struct Wiring {
    can: Vec<Option<(String, CanWriter)>>,
    link: Vec<Option<SocketAddr>>,
}

/// Checks the mappings against the rules and opens the CAN interfaces.
fn wire(rules: &CompiledRules, config: &LiveConfig) -> Result<Wiring, LiveError> {
    let ports = rules.ports.len();
    let names = || rules.ports.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let find = |name: &str| {
        rules
            .port_by_name(name)
            .ok_or_else(|| LiveError::Wiring(format!("the rules have no port `{name}` (their ports: {})", names())))
    };
    let mut wiring = Wiring { can: (0..ports).map(|_| None).collect(), link: vec![None; ports] };
    for (name, iface) in &config.can {
        let id = find(name)?;
        let port = &rules.ports[id.0 as usize];
        if port.medium == Medium::Ethernet {
            return Err(LiveError::Wiring(format!(
                "`--can {name}={iface}`: port `{name}` is an Ethernet port; use `--link {name}=ADDRESS`"
            )));
        }
        if wiring.can[id.0 as usize].is_some() {
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
        wiring.can[id.0 as usize] = Some((iface.clone(), writer));
    }
    for (name, addr) in &config.link {
        let id = find(name)?;
        if rules.ports[id.0 as usize].medium != Medium::Ethernet {
            return Err(LiveError::Wiring(format!(
                "`--link {name}={addr}`: port `{name}` is a CAN port; use `--can {name}=INTERFACE`"
            )));
        }
        if wiring.link[id.0 as usize].replace(*addr).is_some() {
            return Err(LiveError::Wiring(format!("port `{name}` is given twice")));
        }
    }
    if wiring.can.iter().all(Option::is_none) && wiring.link.iter().all(Option::is_none) {
        return Err(LiveError::Wiring("nothing to send to: give at least one `--can` or `--link`".into()));
    }
    Ok(wiring)
}

/// Per-label and per-port counts while sending.
#[derive(Default)]
struct Sent {
    by_label: BTreeMap<Label, BTreeMap<PortId, (u64, u64)>>,
    not_connected: BTreeMap<PortId, u64>,
    link_errors: BTreeMap<String, (u64, String)>,
}

/// Plays the scenario of `config` in real time on the ports of `rules`.
pub fn run(rules: Arc<CompiledRules>, config: &LiveConfig) -> Result<Summary, LiveError> {
    let scenario = Scenario::load(&config.scenario)?;
    let keys = crate::keys::load(&config.keys)?;
    let mut wiring = wire(&rules, config)?;
    let socket = if wiring.link.iter().any(Option::is_some) {
        Some(UdpSocket::bind(config.bind).map_err(io_error(format!("cannot bind UDP {}", config.bind)))?)
    } else {
        None
    };
    let mut datagrams = Datagrams::new(&rules, &keys, packet_number_from_clock(), scenario.seed);

    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Arc::new(Mutex::new(Ledger::new(&rules, LEDGER_WINDOW)));
    let mut watches = Vec::new();
    if config.observe {
        for (i, slot) in wiring.can.iter().enumerate() {
            if let Some((iface, _)) = slot {
                let watch = Watch::start(PortId(i as u8), iface, Arc::clone(&ledger), Arc::clone(&stop))
                    .map_err(io_error(format!("cannot watch {iface}")))?;
                watches.push(watch);
            }
        }
    }
    let telemetry = match &socket {
        Some(s) => {
            let clone = s.try_clone().map_err(io_error("UDP socket"))?;
            Some(
                telemetry::Telemetry::start(clone, telemetry::gateway_to_device_keys(&keys), Arc::clone(&stop))
                    .map_err(io_error("telemetry thread"))?,
            )
        }
        None => None,
    };
    let mut recorder = match &config.record {
        Some(path) => {
            let log =
                BufWriter::new(File::create(path).map_err(io_error(format!("cannot create {}", path.display())))?);
            let labels = match &config.labels {
                Some(p) => {
                    Some(BufWriter::new(File::create(p).map_err(io_error(format!("cannot create {}", p.display())))?))
                }
                None => None,
            };
            Some(Recorder::new(&rules, log, labels))
        }
        None => None,
    };

    let name = scenario.name.clone();
    let duration = Duration::from_secs_f64(scenario.duration_s);
    let wall_clock = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let start = Timestamp::from_nanos(u64::try_from(wall_clock.as_nanos()).unwrap_or(u64::MAX));
    let traffic = Traffic::new(Arc::clone(&rules), scenario, start, &keys)?;
    let wall_start = Instant::now();
    let mut pacer = Pacer::new(start, wall_start, config.speed);
    let mut sent = Sent::default();
    let mut record_error: Option<std::io::Error> = None;
    let mut next_progress = wall_start + Duration::from_secs(5);
    let mut frames = 0u64;

    let lateness = pacing::play(traffic, &mut pacer, |f, at| {
        let port = f.port.0 as usize;
        let ok = if let Some(Some((_, writer))) = wiring.can.get_mut(port) {
            if config.observe {
                ledger.lock().unwrap_or_else(PoisonError::into_inner).sent(at, f.port, &f.frame, f.label, true);
            }
            writer.write(&f.frame)
        } else if let (Some(Some(addr)), Some(socket)) = (wiring.link.get(port), &socket) {
            if config.observe {
                ledger.lock().unwrap_or_else(PoisonError::into_inner).sent(at, f.port, &f.frame, f.label, false);
            }
            send_datagram(&mut datagrams, socket, *addr, f, &rules, &mut sent.link_errors)
        } else {
            *sent.not_connected.entry(f.port).or_insert(0) += 1;
            return Flow::Continue;
        };
        let counts = sent.by_label.entry(f.label).or_default().entry(f.port).or_insert((0, 0));
        counts.0 += 1;
        if !ok {
            counts.1 += 1;
        }
        frames += 1;
        if ok
            && record_error.is_none()
            && let Some(r) = &mut recorder
        {
            let time = start.saturating_add(at.saturating_duration_since(wall_start));
            if let Err(e) = r.record(&SimFrame { time, ..*f }) {
                record_error = Some(e);
            }
        }
        if config.progress && at >= next_progress {
            next_progress += Duration::from_secs(5);
            eprintln!(
                "bulkhead-sim: {:.0} s of {:.0} s, {frames} frames sent",
                at.duration_since(wall_start).as_secs_f64() * config.speed,
                duration.as_secs_f64()
            );
        }
        Flow::Continue
    });

    std::thread::sleep(config.grace);
    stop.store(true, Ordering::Relaxed);
    let wall_seconds = wall_start.elapsed().as_secs_f64();
    if let Some(r) = recorder {
        let path = config.record.as_ref().map_or(String::new(), |p| p.display().to_string());
        if let Some(e) = record_error {
            return Err(LiveError::Io { what: format!("cannot write {path}"), source: e });
        }
        r.finish().map_err(io_error(format!("cannot write {path}")))?;
    }

    let port_name = |p: PortId| rules.port(p).map_or_else(|| format!("port {}", p.0), |p| p.name.clone());
    let mut labels = Vec::new();
    let order = [Label::Genuine, Label::Request].into_iter().chain(AttackKind::ALL.map(Label::Attack));
    for label in order {
        let Some(ports) = sent.by_label.get(&label) else { continue };
        let attack = matches!(label, Label::Attack(_));
        labels.push(LabelSummary {
            label: label.name().to_owned(),
            attack,
            link_level: matches!(label, Label::Attack(k) if k.is_link_level()),
            sent: ports.iter().map(|(p, (n, _))| (port_name(*p), *n)).collect(),
            failed: ports.values().map(|(_, failed)| failed).sum(),
            crossed: BTreeMap::new(),
        });
    }
    let mut send_errors = Vec::new();
    for (iface, writer) in wiring.can.iter().flatten() {
        if writer.failed > 0 {
            let first = writer.first_error.as_deref().unwrap_or("");
            send_errors.push(format!("{iface}: {} frames not written; first: {first}", writer.failed));
        }
    }
    for (device, (n, first)) in &sent.link_errors {
        send_errors.push(format!("link, {device}: {n} datagrams not sent; first: {first}"));
    }

    let observed = if config.observe {
        let mut buses = Vec::new();
        for watch in watches {
            let (port, iface) = (watch.port, watch.iface.clone());
            let tally = watch.finish();
            for ((label, _from), n) in &tally.crossed {
                if let Some(l) = labels.iter_mut().find(|l| l.label == label.name()) {
                    *l.crossed.entry(port_name(port)).or_insert(0) += n;
                } else {
                    labels.push(LabelSummary {
                        label: label.name().to_owned(),
                        attack: matches!(label, Label::Attack(_)),
                        crossed: BTreeMap::from([(port_name(port), *n)]),
                        ..LabelSummary::default()
                    });
                }
            }
            buses.push(Bus {
                port: port_name(port),
                interface: iface,
                frames: tally.frames,
                own: tally.own,
                crossed: tally.crossed.values().sum(),
                gateway_status: tally.gateway_status,
                unattributed: tally.unattributed,
                unattributed_examples: tally.unattributed_examples,
                error: tally.error,
            });
        }
        let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
        ledger.finish();
        Some(Observed { buses, own_unseen: ledger.unseen_own() })
    } else {
        None
    };
    let telemetry = telemetry.map(|t| {
        let t = t.finish();
        let mut frames: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((device, id), n) in t.frames {
            frames.entry(device).or_default().insert(id, n);
        }
        summary::Telemetry {
            datagrams: t.datagrams,
            opened: t.opened,
            frames,
            refused: t.refused.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            error: t.error,
        }
    });
    let mut summary = Summary {
        schema: summary::SCHEMA,
        scenario: name,
        speed: config.speed,
        wall_seconds,
        pacing: Pacing {
            frames: lateness.frames,
            late: lateness.late,
            max_late_ms: lateness.max.as_secs_f64() * 1e3,
            mean_late_ms: lateness.mean().as_secs_f64() * 1e3,
            slips: lateness.slips,
            slipped_ms: lateness.slipped.as_secs_f64() * 1e3,
        },
        labels,
        not_connected: sent.not_connected.iter().map(|(p, n)| (port_name(*p), *n)).collect(),
        send_errors,
        observed,
        telemetry,
        failures: Vec::new(),
    };
    summary.judge();
    Ok(summary)
}

/// Seals (or tampers with) `f` and sends it; false when it could not be sent.
fn send_datagram(
    datagrams: &mut Datagrams,
    socket: &UdpSocket,
    addr: SocketAddr,
    f: &SimFrame,
    rules: &CompiledRules,
    errors: &mut BTreeMap<String, (u64, String)>,
) -> bool {
    let device = f.device.and_then(|d| rules.devices.get(d.0 as usize)).map_or("(no device)", |d| d.name.as_str());
    let result = match datagrams.datagram(f) {
        Ok(bytes) => socket.send_to(bytes, addr).map(|_| ()).map_err(|e| format!("to {addr}: {e}")),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => true,
        Err(why) => {
            let entry = errors.entry(device.to_owned()).or_insert((0, why));
            entry.0 += 1;
            false
        }
    }
}

/// Writes `summary` as pretty JSON to `path`.
pub fn write_summary(summary: &Summary, path: &std::path::Path) -> Result<(), LiveError> {
    let what = format!("cannot write {}", path.display());
    let mut out = BufWriter::new(File::create(path).map_err(io_error(what.clone()))?);
    serde_json::to_writer_pretty(&mut out, summary)
        .map_err(|e| LiveError::Io { what: what.clone(), source: e.into() })?;
    out.write_all(b"\n").and_then(|()| out.flush()).map_err(io_error(what))
}
