//! Counters of everything the engine decided: per reason, per route, per port.
//!
//! Sized when the engine is built; recording never allocates.

use super::verdict::{DropReason, Verdict};
use crate::rules::{CompiledRules, PortId};

/// Counts for one port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    /// Frames received on it.
    pub received: u64,
    /// Frames received on it and dropped.
    pub dropped: u64,
    /// Frames forwarded to it.
    pub sent: u64,
}

/// Counts for one route.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouteCounters {
    /// Frames whose verdict named this route as the forwarding one.
    pub forwarded: u64,
    /// Frames dropped with this route as the refusing one.
    pub dropped: u64,
}

/// All counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counters {
    /// Frames seen.
    pub frames: u64,
    /// Frames forwarded (to at least zero ports: allowed).
    pub forwarded: u64,
    /// Frames dropped.
    pub dropped: u64,
    /// Drops per reason, indexed by [`DropReason::index`].
    pub by_reason: [u64; DropReason::COUNT],
    /// Per route, indexed by route id.
    pub routes: Vec<RouteCounters>,
    /// Per port, indexed by port id.
    pub ports: Vec<PortCounters>,
    /// Mode transitions.
    pub mode_changes: u64,
}

impl Counters {
    /// Zeroed counters for `rules`.
    pub fn new(rules: &CompiledRules) -> Self {
        Counters {
            frames: 0,
            forwarded: 0,
            dropped: 0,
            by_reason: [0; DropReason::COUNT],
            routes: vec![RouteCounters::default(); rules.routes.len()],
            ports: vec![PortCounters::default(); rules.ports.len()],
            mode_changes: 0,
        }
    }

    /// Counts one verdict on a frame from `port`.
    pub fn record(&mut self, port: PortId, verdict: &Verdict) {
        self.frames += 1;
        let from = self.ports.get_mut(port.0 as usize);
        match verdict {
            Verdict::Forward { to, route } => {
                self.forwarded += 1;
                if let Some(p) = from {
                    p.received += 1;
                }
                if let Some(r) = self.routes.get_mut(route.0 as usize) {
                    r.forwarded += 1;
                }
                for dest in to.iter() {
                    if let Some(p) = self.ports.get_mut(dest.0 as usize) {
                        p.sent += 1;
                    }
                }
            }
            Verdict::Drop { reason, route, .. } => {
                self.dropped += 1;
                if let Some(p) = from {
                    p.received += 1;
                    p.dropped += 1;
                }
                if let Some(c) = self.by_reason.get_mut(reason.index()) {
                    *c += 1;
                }
                if let Some(r) = route.and_then(|r| self.routes.get_mut(r.0 as usize)) {
                    r.dropped += 1;
                }
            }
        }
    }

    /// Drops for `reason`.
    pub fn reason(&self, reason: DropReason) -> u64 {
        self.by_reason.get(reason.index()).copied().unwrap_or(0)
    }
}
