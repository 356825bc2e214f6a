//! Watching the buses during a live run: one thread per CAN interface reads
//! every frame with a raw socket and asks the [`Ledger`] what it was, and
//! counts the answers ([`BusTally`]).
//!
//! Invariants: the sockets are open before the first frame is sent (so no
//! echo is missed for lack of a reader); a thread stops within one read
//! timeout of being asked; a read error ends only that bus's watch and is
//! reported.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bulkhead::frame::Frame;
use bulkhead::rules::PortId;

use super::can::CanReader;
use super::ledger::{Ledger, Observation};
use crate::traffic::Label;

/// How long a read waits before checking whether to stop.
const POLL: Duration = Duration::from_millis(100);

/// Unattributed frames kept as examples, per bus.
const EXAMPLES: usize = 5;

/// What one bus showed.
#[derive(Clone, Debug, Default)]
pub struct BusTally {
    /// Frames read.
    pub frames: u64,
    /// The simulator's own frames.
    pub own: u64,
    /// Frames that crossed the gateway, per label of the frame sent and port it was sent on.
    pub crossed: BTreeMap<(Label, PortId), u64>,
    /// The gateway's status frames.
    pub gateway_status: u64,
    /// Frames nobody sent as such.
    pub unattributed: u64,
    /// The first unattributed frames, in candump notation.
    pub unattributed_examples: Vec<String>,
    /// The read error that ended the watch, if any.
    pub error: Option<String>,
}

impl BusTally {
    fn count(&mut self, seen: Observation, frame: &Frame) {
        self.frames += 1;
        match seen {
            Observation::Own => self.own += 1,
            Observation::Crossed { label, from } => *self.crossed.entry((label, from)).or_insert(0) += 1,
            Observation::GatewayStatus => self.gateway_status += 1,
            Observation::Unattributed => {
                self.unattributed += 1;
                if self.unattributed_examples.len() < EXAMPLES {
                    self.unattributed_examples.push(frame.to_string());
                }
            }
        }
    }
}

/// The watch of one bus, running in its own thread.
pub struct Watch {
    /// The port the bus belongs to.
    pub port: PortId,
    /// The interface.
    pub iface: String,
    thread: JoinHandle<BusTally>,
}

impl Watch {
    /// Opens `iface` (port `port`) and starts reading it until `stop` is set.
    pub fn start(
        port: PortId,
        iface: &str,
        ledger: Arc<Mutex<Ledger>>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<Self> {
        let reader = CanReader::open(iface, POLL)?;
        let thread = std::thread::Builder::new().name(format!("observe {iface}")).spawn(move || {
            let mut tally = BusTally::default();
            while !stop.load(Ordering::Relaxed) {
                match reader.read() {
                    Ok(Some(frame)) => {
                        let at = Instant::now();
                        let seen = ledger.lock().unwrap_or_else(PoisonError::into_inner).observed(at, port, &frame);
                        tally.count(seen, &frame);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tally.error = Some(e.to_string());
                        break;
                    }
                }
            }
            tally
        })?;
        Ok(Watch { port, iface: iface.to_owned(), thread })
    }

    /// Waits for the thread (after `stop` was set) and returns what it saw.
    pub fn finish(self) -> BusTally {
        self.thread
            .join()
            .unwrap_or_else(|_| BusTally { error: Some("the observer thread panicked".into()), ..BusTally::default() })
    }
}
