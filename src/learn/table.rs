//! The first pass's statistics, per (bus, id), found by key: each id's
//! [`IdStats`] is created at its first frame, with the DBC message of its bus
//! if one defines it, and fed every later frame.
//!
//! Invariant: after an id's first frame, observing a frame allocates nothing
//! (a hash lookup and the id's bounded state).

use std::collections::HashMap;
use std::sync::Arc;

use super::dbcs::{BusCodecs, DbcSet};
use super::observe::IdStats;
use super::scan::BusNames;
use crate::codec::Lookup;
use crate::frame::{CanId, Frame};
use crate::time::Timestamp;

/// Per-(bus, id) statistics of the first pass.
#[derive(Default)]
pub struct IdTable {
    index: HashMap<(usize, CanId), usize>,
    /// Every id seen, in order of first appearance.
    pub stats: Vec<IdStats>,
    /// Per bus index: frames, error frames.
    pub buses: Vec<(u64, u64)>,
    /// Per bus index: its DBC codecs, once the bus has been seen.
    pub codecs: Vec<Option<Arc<BusCodecs>>>,
}

impl IdTable {
    /// One frame of bus `bus` at `now` (the engine's time).
    pub fn observe(&mut self, dbcs: &DbcSet, names: &BusNames, bus: usize, now: Timestamp, frame: &Frame) {
        if self.buses.len() <= bus {
            self.buses.resize(bus + 1, (0, 0));
            self.codecs.resize(bus + 1, None);
        }
        if let Some(counts) = self.buses.get_mut(bus) {
            counts.0 += 1;
            if frame.is_error() {
                counts.1 += 1;
                return;
            }
        }
        let key = (bus, frame.id());
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let codecs = self
                    .codecs
                    .get_mut(bus)
                    .map(|c| Arc::clone(c.get_or_insert_with(|| Arc::new(dbcs.for_bus(names.name(bus))))));
                let message = codecs.as_ref().and_then(|c| match c.table.lookup(frame.id()) {
                    Lookup::Message(key, codec) => Some((Arc::new(codec.clone()), c.model(key).to_vec())),
                    _ => None,
                });
                let stats =
                    IdStats::new(bus, frame.id(), now, message.as_ref().map(|(c, m)| (Arc::clone(c), m.as_slice())));
                self.stats.push(stats);
                self.index.insert(key, self.stats.len() - 1);
                self.stats.len() - 1
            }
        };
        if let Some(s) = self.stats.get_mut(i) {
            s.observe(now, frame);
        }
    }
}
