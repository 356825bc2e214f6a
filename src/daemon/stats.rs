//! Counters kept by the daemon itself (the engine counts its decisions; these
//! count what happens around them: queues, sockets, persistence, reloads) and
//! per-port load in frames per second.

use std::time::{Duration, Instant};

/// The daemon's own counters, per port where it matters.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Frames or datagrams dropped because an ingress queue was full.
    pub ingress_overflow: Vec<u64>,
    /// Frames dropped because an egress queue was full.
    pub egress_overflow: Vec<u64>,
    /// Frames for a port whose interface is down.
    pub egress_down: Vec<u64>,
    /// Frames for a port the configuration does not bind.
    pub egress_unbound: Vec<u64>,
    /// Writes that failed for another reason.
    pub write_errors: Vec<u64>,
    /// Reads that failed without taking the port down.
    pub read_errors: Vec<u64>,
    /// Faults seen on each port (interface down).
    pub faults: Vec<u64>,
    /// Why each port is down, while it is.
    pub port_down: Vec<Option<String>>,
    /// A port went down and the engine has not been told yet.
    pub down_pending: Vec<bool>,
    /// Datagrams sent on the link.
    pub link_sent: u64,
    /// Frames for a link device not heard from yet (no address) or without a key.
    pub link_no_peer: u64,
    /// Frames that could not be sealed.
    pub link_seal_errors: u64,
    /// Frames of accepted datagrams withheld because their mark could not be persisted.
    pub link_withheld: u64,
    /// SecOC freshness files written.
    pub freshness_writes: u64,
    /// Persistence failures (freshness or link marks).
    pub persist_failures: u64,
    /// Reloads that succeeded.
    pub reloads: u64,
    /// Reloads refused.
    pub reloads_failed: u64,
    /// Why the last reload was refused.
    pub last_reload_error: Option<String>,
}

impl Stats {
    /// Zeroed counters for `ports` ports.
    pub fn new(ports: usize) -> Self {
        Stats {
            ingress_overflow: vec![0; ports],
            egress_overflow: vec![0; ports],
            egress_down: vec![0; ports],
            egress_unbound: vec![0; ports],
            write_errors: vec![0; ports],
            read_errors: vec![0; ports],
            faults: vec![0; ports],
            port_down: vec![None; ports],
            down_pending: vec![false; ports],
            ..Stats::default()
        }
    }
}

/// Frames per second per port, from the engine's received counters sampled
/// about once a second.
#[derive(Clone, Debug)]
pub struct LoadTracker {
    last: Vec<u64>,
    last_at: Option<Instant>,
    rates: Vec<f64>,
}

impl LoadTracker {
    /// A tracker for `ports` ports.
    pub fn new(ports: usize) -> Self {
        LoadTracker { last: vec![0; ports], last_at: None, rates: vec![0.0; ports] }
    }

    /// Samples `received` (per port, running totals) at `now`; rates are
    /// updated when at least a second passed since the last sample.
    pub fn sample(&mut self, now: Instant, received: impl Iterator<Item = u64>) {
        let received: Vec<u64> = received.collect();
        let Some(at) = self.last_at else {
            self.last = received;
            self.last_at = Some(now);
            return;
        };
        let elapsed = now.duration_since(at);
        if elapsed < Duration::from_secs(1) {
            return;
        }
        let seconds = elapsed.as_secs_f64();
        self.rates = received
            .iter()
            .enumerate()
            .map(|(i, &n)| n.saturating_sub(self.last.get(i).copied().unwrap_or(0)) as f64 / seconds)
            .collect();
        self.last = received;
        self.last_at = Some(now);
    }

    /// Frames per second of port `index` over the last sampled second.
    pub fn rate(&self, index: usize) -> f64 {
        self.rates.get(index).copied().unwrap_or(0.0)
    }

    /// Starts over (after a reload: per-port counters restart at zero).
    pub fn reset(&mut self, ports: usize) {
        *self = LoadTracker::new(ports);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_over_a_second() {
        let mut load = LoadTracker::new(2);
        let t0 = Instant::now();
        load.sample(t0, [0, 10].into_iter());
        load.sample(t0 + Duration::from_millis(500), [100, 10].into_iter());
        assert_eq!(load.rate(0), 0.0);
        load.sample(t0 + Duration::from_secs(2), [400, 10].into_iter());
        assert!((load.rate(0) - 200.0).abs() < 1e-9);
        assert_eq!(load.rate(1), 0.0);
        assert_eq!(load.rate(7), 0.0);
    }
}
