//! Lookups the resolution pass needs many times: messages by DBC id, signals
//! by name within a message, nodes and environment variables by name.
//!
//! Invariant: every lookup is O(1) on average or linear in a small, bounded
//! set (signals of a message with at most [`LINEAR_SIGNAL_LOOKUP`] signals), so
//! resolving `n` references costs O(n) whatever the file holds: a message with
//! thousands of signals gets a hash map of its own on first use.

use std::collections::HashMap;

use crate::dbc::model::Message;

/// Messages with at most this many signals are searched linearly.
const LINEAR_SIGNAL_LOOKUP: usize = 32;

/// What a message id in a reference points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageLookup {
    /// The message at this index of `Dbc::messages`.
    Found(usize),
    /// A message the parser left out (pseudo-message or unusable id).
    LeftOut,
    /// No `BO_` has this id.
    Missing,
}

/// Messages by DBC id, and signals by name within a message.
#[derive(Debug, Default)]
pub(crate) struct MessageIndex {
    by_raw_id: HashMap<u32, usize>,
    left_out: Vec<u32>,
    signal_maps: HashMap<usize, HashMap<String, usize>>,
}

impl MessageIndex {
    /// An index over messages whose DBC ids (as written) are `raw_ids`, plus the ids left out.
    pub fn new(raw_ids: impl Iterator<Item = (u32, usize)>, mut left_out: Vec<u32>) -> Self {
        left_out.sort_unstable();
        left_out.dedup();
        let mut by_raw_id = HashMap::new();
        for (raw, index) in raw_ids {
            by_raw_id.entry(raw).or_insert(index);
        }
        MessageIndex { by_raw_id, left_out, signal_maps: HashMap::new() }
    }

    /// The message with DBC id `raw`.
    pub fn message(&self, raw: u32) -> MessageLookup {
        match self.by_raw_id.get(&raw) {
            Some(&index) => MessageLookup::Found(index),
            None if self.left_out.binary_search(&raw).is_ok() => MessageLookup::LeftOut,
            None => MessageLookup::Missing,
        }
    }

    /// The index of signal `name` in `messages[message]`.
    pub fn signal(&mut self, messages: &[Message], message: usize, name: &str) -> Option<usize> {
        let signals = &messages.get(message)?.signals;
        if signals.len() <= LINEAR_SIGNAL_LOOKUP {
            return signals.iter().position(|s| s.name == name);
        }
        let map = self.signal_maps.entry(message).or_insert_with(|| {
            let mut map = HashMap::with_capacity(signals.len());
            for (index, signal) in signals.iter().enumerate() {
                map.entry(signal.name.clone()).or_insert(index);
            }
            map
        });
        map.get(name).copied()
    }
}

/// Names to indices, first occurrence wins.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    by_name: HashMap<String, usize>,
}

impl NameIndex {
    /// An index over `names`.
    pub fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        let mut by_name = HashMap::new();
        for (index, name) in names.enumerate() {
            by_name.entry(name.to_owned()).or_insert(index);
        }
        NameIndex { by_name }
    }

    /// The index of `name`.
    pub fn get(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }
}
