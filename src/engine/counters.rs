//! Counters of everything the engine decided: per reason, per route, per port.
//!
//! Sized when the engine is built; recording never allocates.

use super::verdict::{DropReason, Verdict};
use crate::rules::{CompiledRules, PortId, RouteId};

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

/// Counts for one route: every frame the route was asked about, whether it
/// allowed it or refused it (a frame may be allowed by one route and refused
/// by another, e.g. passed to the body bus and rate-limited towards the head
/// unit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouteCounters {
    /// Frames this route allowed.
    pub forwarded: u64,
    /// Frames this route refused.
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
            Verdict::Forward { to, .. } => {
                self.forwarded += 1;
                if let Some(p) = from {
                    p.received += 1;
                }
                for dest in to.iter() {
                    if let Some(p) = self.ports.get_mut(dest.0 as usize) {
                        p.sent += 1;
                    }
                }
            }
            Verdict::Drop { reason, .. } => {
                self.dropped += 1;
                if let Some(p) = from {
                    p.received += 1;
                    p.dropped += 1;
                }
                if let Some(c) = self.by_reason.get_mut(reason.index()) {
                    *c += 1;
                }
            }
        }
    }

    /// Carries the running totals of `old` (frames, forwarded, dropped, per
    /// reason, mode changes) over a reload; per-route and per-port counts
    /// follow the new layout and start at zero.
    pub fn carry_totals(&mut self, old: &Counters) {
        self.frames = old.frames;
        self.forwarded = old.forwarded;
        self.dropped = old.dropped;
        self.by_reason = old.by_reason;
        self.mode_changes = old.mode_changes;
    }

    /// Counts one route's decision on a frame.
    pub fn route(&mut self, route: RouteId, allowed: bool) {
        if let Some(r) = self.routes.get_mut(route.0 as usize) {
            if allowed {
                r.forwarded += 1;
            } else {
                r.dropped += 1;
            }
        }
    }

    /// Drops for `reason`.
    pub fn reason(&self, reason: DropReason) -> u64 {
        self.by_reason.get(reason.index()).copied().unwrap_or(0)
    }
}
