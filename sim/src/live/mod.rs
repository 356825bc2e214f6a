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
pub mod collect;
pub mod ledger;
pub mod observe;
pub mod pacing;
pub mod summary;
pub mod telemetry;
pub mod wiring;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bulkhead::rules::{CompiledRules, PortId};
use bulkhead::time::Timestamp;

use crate::record::Recorder;
use crate::scenario::{Scenario, ScenarioError};
use crate::traffic::{SimFrame, Traffic, TrafficError};
use collect::{SentCounts, Tallies};
use ledger::Ledger;
use observe::Watch;
use pacing::{Flow, Pacer};
use summary::Summary;
use wiring::{Sent, Wiring};

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

pub(crate) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LiveError {
    let what = what.into();
    move |source| LiveError::Io { what, source }
}

/// Plays the scenario of `config` in real time on the ports of `rules`.
pub fn run(rules: Arc<CompiledRules>, config: &LiveConfig) -> Result<Summary, LiveError> {
    let scenario = Scenario::load(&config.scenario)?;
    let keys = crate::keys::load(&config.keys)?;
    let mut wiring = Wiring::open(&rules, config, &keys, scenario.seed)?;
    let name = scenario.name.clone();
    let duration = Duration::from_secs_f64(scenario.duration_s);
    let wall_clock = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let start = Timestamp::from_nanos(u64::try_from(wall_clock.as_nanos()).unwrap_or(u64::MAX));
    let traffic = Traffic::new(Arc::clone(&rules), scenario, start, &keys)?;
    let mut recorder = open_recorder(&rules, config)?;

    // Readers first, so that no echo of the first frames is missed.
    let stop = Arc::new(AtomicBool::new(false));
    let ledger = Arc::new(Mutex::new(Ledger::new(&rules, LEDGER_WINDOW)));
    let mut watches = Vec::new();
    if config.observe {
        for (port, iface) in wiring.interfaces() {
            let watch = Watch::start(PortId(port as u8), iface, Arc::clone(&ledger), Arc::clone(&stop))
                .map_err(io_error(format!("cannot watch {iface}")))?;
            watches.push(watch);
        }
    }
    let telemetry = match wiring.socket() {
        Some(socket) => {
            let clone = socket.try_clone().map_err(io_error("UDP socket"))?;
            let keys = telemetry::gateway_to_device_keys(&keys);
            Some(telemetry::Telemetry::start(clone, keys, Arc::clone(&stop)).map_err(io_error("telemetry thread"))?)
        }
        None => None,
    };

    let wall_start = Instant::now();
    let mut pacer = Pacer::new(start, wall_start, config.speed);
    let mut sent = SentCounts::new();
    let mut not_connected = BTreeMap::new();
    let mut record_error: Option<std::io::Error> = None;
    let mut next_progress = wall_start + PROGRESS;
    let mut frames = 0u64;
    let watching = config.observe.then_some(&*ledger);
    let lateness = pacing::play(traffic, &mut pacer, wiring.packer(), |batch, at| {
        let outcome = wiring.send(batch, at, watching);
        let Some(f) = batch.first() else { return Flow::Continue };
        let n = batch.len() as u64;
        if outcome == Sent::NotConnected {
            *not_connected.entry(f.port).or_insert(0) += n;
            return Flow::Continue;
        }
        let counts = sent.entry(f.label).or_default().entry(f.port).or_insert((0, 0));
        counts.0 += n;
        counts.1 += if outcome == Sent::Failed { n } else { 0 };
        frames += n;
        if outcome == Sent::Ok
            && record_error.is_none()
            && let Some(r) = &mut recorder
        {
            // The time they actually left, on the capture's wall clock.
            let time = start.saturating_add(at.saturating_duration_since(wall_start));
            record_error = batch.iter().find_map(|f| r.record(&SimFrame { time, ..*f }).err());
        }
        if config.progress && at >= next_progress {
            next_progress += PROGRESS;
            let played = at.duration_since(wall_start).as_secs_f64() * config.speed;
            eprintln!("bulkhead-sim: {played:.0} s of {:.0} s, {frames} frames sent", duration.as_secs_f64());
        }
        Flow::Continue
    });

    std::thread::sleep(config.grace);
    stop.store(true, Ordering::Relaxed);
    let wall_seconds = wall_start.elapsed().as_secs_f64();
    if let Some(r) = recorder {
        let what =
            format!("cannot write {}", config.record.as_ref().map_or(String::new(), |p| p.display().to_string()));
        match record_error {
            Some(source) => return Err(LiveError::Io { what, source }),
            None => r.finish().map_err(io_error(what))?,
        };
    }
    let watched =
        config.observe.then(|| watches.into_iter().map(|w| (w.port, w.iface.clone(), w.finish())).collect::<Vec<_>>());
    let own_unseen = {
        let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
        ledger.finish();
        ledger.unseen_own()
    };
    let tallies = Tallies {
        scenario: name,
        speed: config.speed,
        wall_seconds,
        lateness,
        sent,
        not_connected,
        send_errors: wiring.send_errors(),
        watched,
        own_unseen,
        telemetry: telemetry.map(telemetry::Telemetry::finish),
    };
    Ok(collect::summarize(&rules, tallies))
}

/// How often progress lines are printed.
const PROGRESS: Duration = Duration::from_secs(5);

type FileRecorder = Recorder<BufWriter<File>, BufWriter<File>>;

/// The capture (and labels) of what is sent, when asked for.
fn open_recorder(rules: &CompiledRules, config: &LiveConfig) -> Result<Option<FileRecorder>, LiveError> {
    let create = |path: &std::path::Path| {
        File::create(path).map(BufWriter::new).map_err(io_error(format!("cannot create {}", path.display())))
    };
    let Some(path) = &config.record else { return Ok(None) };
    let log = create(path)?;
    let labels = config.labels.as_deref().map(create).transpose()?;
    Ok(Some(Recorder::new(rules, log, labels)))
}

/// Writes `summary` as pretty JSON to `path`.
pub fn write_summary(summary: &Summary, path: &std::path::Path) -> Result<(), LiveError> {
    let what = format!("cannot write {}", path.display());
    let mut out = BufWriter::new(File::create(path).map_err(io_error(what.clone()))?);
    serde_json::to_writer_pretty(&mut out, summary)
        .map_err(|e| LiveError::Io { what: what.clone(), source: e.into() })?;
    out.write_all(b"\n").and_then(|()| out.flush()).map_err(io_error(what))
}
