//! All SecOC state of one gateway: receivers, senders, profile 3
//! synchronisation groups, keys, and the write-ahead reservations of every
//! counter.
//!
//! Design choice for persistence: the manager never performs I/O. It keeps, per
//! counter, the mark known to be durable and, when a counter runs low, a
//! request for a higher one. The shell asks [`SecOcManager::persist_request`]
//! after handling a frame (O(1) when nothing is wanted); when it returns a
//! snapshot, the shell writes it with its [`FreshnessStore`](super::FreshnessStore)
//! and calls [`SecOcManager::confirm_persisted`]. Until then, values beyond the
//! durable marks are refused (senders stop, receivers drop the frame as
//! `NotYetPersisted`), so a crash at any point never lets a value be reused
//! or re-accepted. Requests come at block boundaries (half a block ahead) for
//! single counters and once per reset cycle for profile 3 (see
//! `reservation`), so a shell that writes at once never makes a frame wait.
//!
//! If a write fails, the shell simply does not confirm: the manager keeps
//! refusing values beyond the durable marks (fail closed) and keeps asking.
//!
//! Why not hand the manager a `&mut dyn FreshnessStore` and let it write? That
//! would put an fsync (milliseconds) inside the engine's per-frame call, make
//! the engine's timing depend on the disk, and break the sans-IO rule that lets
//! `replay` and the fuzzers run the same engine without files. With requests,
//! the daemon may write synchronously or on a writer thread; replay uses a
//! [`MemoryStore`](super::MemoryStore) or nothing at all.
//!
//! Lifecycle:
//! 1. `let snapshot = store.load()?` (a missing or corrupt store is an error:
//!    refuse to start, or create the store on a first deployment only);
//! 2. `SecOcManager::new(config, &snapshot)?`: receivers start with the stored
//!    marks as "already seen", senders continue above them, and every counter
//!    asks for a new reservation at once;
//! 3. persist the first request before any traffic, then after each frame;
//! 4. on a clean shutdown, [`SecOcManager::checkpoint`] gives the exact latest
//!    values (nothing skipped on the next start); after a crash the reserved
//!    marks apply: a receiver refuses up to a block of values per id, a sender
//!    skips up to its block (capped below one wrap of its truncated counter so
//!    that receivers bridge the jump), and profile 3 counters wait for the next
//!    reset cycle. Nothing is ever reused or accepted twice.
//!
//! System rule for single counters: every receiver's acceptance window must
//! exceed its sender's reservation block, or the jump after a sender's unclean
//! restart is refused as out of window until the receiver is re-provisioned.

use super::authenticate::GenerateError;
use super::bits::low_mask_u64;
use super::config::{ConfigError, KeySlot, ManagerConfig};
use super::key::{MacKey, SecOcKey};
use super::outcome::{Rejection, Verified};
use super::profile::{FreshnessScheme, MAX_ATTEMPTS, SecOcProfile};
use super::receiver::Receiver;
use super::sender::Sender;
use super::store::{CounterKey, Snapshot};
use super::sync::SyncGroup;
use super::trip_reset::TripReset;
use crate::frame::{CanId, Frame};

/// Where a received id is verified.
#[derive(Clone, Copy, Debug)]
enum ReceiveSlot {
    Data(usize),
    Sync(usize),
}

#[derive(Debug)]
struct GroupEntry {
    id: CanId,
    sync: SyncGroup,
    receivers: Vec<usize>,
    senders: Vec<usize>,
}

/// The SecOC state of a gateway. See the module docs for the persistence protocol.
#[derive(Debug)]
pub struct SecOcManager {
    receive_index: Vec<(CanId, ReceiveSlot)>,
    send_index: Vec<(CanId, usize)>,
    receivers: Vec<(Receiver, Option<usize>)>,
    senders: Vec<(Sender, Option<usize>)>,
    groups: Vec<GroupEntry>,
    /// Marks of counters this configuration does not use, kept for a later one.
    carried: Snapshot,
    persist_wanted: bool,
}

impl SecOcManager {
    /// Builds the manager from `config`, starting every counter from its mark in `snapshot`.
    pub fn new(config: ManagerConfig, snapshot: &Snapshot) -> Result<SecOcManager, ConfigError> {
        let block = config.reserve_block.max(2);
        let mut carried = snapshot.clone();
        let take_mark = |key: CounterKey, bits: u32| -> Result<u64, ConfigError> {
            let mark = carried.get(key).unwrap_or(0);
            if bits == 0 {
                return Ok(0);
            }
            if mark > low_mask_u64(bits) {
                return Err(ConfigError::StoredMarkTooLarge { key, mark, bits });
            }
            Ok(mark)
        };
        let mut used_keys = Vec::new();
        let mut unique = |key: CounterKey| {
            if used_keys.contains(&key) {
                return Err(ConfigError::DuplicateCounter { key });
            }
            used_keys.push(key);
            Ok(())
        };

        let mut groups = Vec::new();
        let mut receive_index = Vec::new();
        for sync in config.syncs {
            let key = CounterKey::sync(sync.counters.sync_data_id());
            unique(key)?;
            let stored = take_mark(key, sync.counters.sync_value_bits())?;
            let current = snapshot.get(key).map(|_| sync.counters.sync_counters(stored));
            let group = SyncGroup::new(sync.counters, sync.mac_bits, sync.key.as_ref().map(MacKey::new), current)
                .map_err(|source| ConfigError::SyncLayout { id: sync.id, source })?;
            receive_index.push((sync.id, ReceiveSlot::Sync(groups.len())));
            groups.push(GroupEntry { id: sync.id, sync: group, receivers: Vec::new(), senders: Vec::new() });
        }

        let mut receivers = Vec::new();
        for rx in config.receivers {
            check_acceptance(rx.id, &rx.profile, block)?;
            let key = CounterKey::receive(rx.profile.layout().data_id());
            unique(key)?;
            let mark = take_mark(key, rx.profile.layout().freshness_value_bits())?;
            let group = find_group(&groups, rx.id, &rx.profile)?;
            if let Some(g) = group
                && let Some(entry) = groups.get_mut(g)
            {
                entry.receivers.push(receivers.len());
            }
            receive_index.push((rx.id, ReceiveSlot::Data(receivers.len())));
            let receiver = Receiver::new(rx.profile, rx.key.as_ref().map(MacKey::new), mark, block);
            receivers.push((receiver, group));
        }

        let mut senders = Vec::new();
        let mut send_index = Vec::new();
        for tx in config.senders {
            let layout = tx.profile.layout();
            if tx.fd.is_none() && layout.needs_fd() {
                return Err(ConfigError::SenderNeedsFd { id: tx.id, frame_len: layout.frame_len() });
            }
            let key = CounterKey::send(layout.data_id());
            unique(key)?;
            let mark = take_mark(key, layout.freshness_value_bits())?;
            let group = find_group(&groups, tx.id, &tx.profile)?;
            if let Some(g) = group
                && let Some(entry) = groups.get_mut(g)
            {
                entry.senders.push(senders.len());
            }
            send_index.push((tx.id, senders.len()));
            let sender = Sender::new(tx.id, tx.profile, tx.key.as_ref().map(MacKey::new), tx.fd, mark, block);
            senders.push((sender, group));
        }

        receive_index.sort_by_key(|&(id, _)| id);
        if let Some(pair) = receive_index.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(ConfigError::DuplicateReceiveId { id: pair[0].0 });
        }
        send_index.sort_by_key(|&(id, _)| id);
        if let Some(pair) = send_index.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(ConfigError::DuplicateSendId { id: pair[0].0 });
        }
        for key in used_keys {
            carried.remove(key);
        }
        let mut manager =
            SecOcManager { receive_index, send_index, receivers, senders, groups, carried, persist_wanted: false };
        manager.refresh_persist_wanted();
        Ok(manager)
    }

    /// Verifies a frame of a secured id (data or synchronisation message).
    ///
    /// Allocation-free; one AES-CMAC for an accepted frame in steady state, at
    /// most `1 + attempts + STALE_PROBES` (18 with the defaults) for a rejected
    /// one, which bounds what a flood of forgeries costs.
    pub fn verify(&mut self, frame: &Frame) -> Result<Verified, Rejection> {
        let id = frame.id();
        let slot = match self.receive_index.binary_search_by_key(&id, |&(id, _)| id) {
            Ok(at) => self.receive_index.get(at).map(|&(_, slot)| slot),
            Err(_) => None,
        };
        match slot {
            Some(ReceiveSlot::Data(index)) => {
                let Some((receiver, group)) = self.receivers.get_mut(index) else {
                    return Err(Rejection::UnknownId { id });
                };
                let sync = group.and_then(|g| self.groups.get(g)).and_then(|g| g.sync.current());
                let result = receiver.verify(frame, sync);
                self.persist_wanted |= receiver.reservation().is_pending();
                result
            }
            Some(ReceiveSlot::Sync(index)) => self.verify_sync(index, frame),
            None => Err(Rejection::UnknownId { id }),
        }
    }

    fn verify_sync(&mut self, index: usize, frame: &Frame) -> Result<Verified, Rejection> {
        let Some(group) = self.groups.get_mut(index) else { return Err(Rejection::UnknownId { id: frame.id() }) };
        let (proof, counters) = group.sync.verify(frame)?;
        // The new counters start a reset cycle for every member: reserve it whole now.
        for &member in &group.receivers {
            if let Some((receiver, _)) = self.receivers.get_mut(member)
                && let Some(mark) = receiver.ahead().period(counters)
            {
                receiver.reservation_mut().request(mark);
                self.persist_wanted |= receiver.reservation().is_pending();
            }
        }
        for &member in &group.senders {
            if let Some((sender, _)) = self.senders.get_mut(member)
                && let Some(mark) = sender.ahead().period(counters)
            {
                sender.reservation_mut().request(mark);
                self.persist_wanted |= sender.reservation().is_pending();
            }
        }
        Ok(proof)
    }

    /// Authenticates `payload` as the next frame of the sender with `id`.
    pub fn authenticate_next(&mut self, id: CanId, payload: &[u8]) -> Result<Frame, GenerateError> {
        let index = self
            .send_index
            .binary_search_by_key(&id, |&(id, _)| id)
            .ok()
            .and_then(|at| self.send_index.get(at))
            .map(|&(_, index)| index);
        let Some((sender, group)) = index.and_then(|i| self.senders.get_mut(i)) else {
            return Err(GenerateError::UnknownSender { id });
        };
        let sync = group.and_then(|g| self.groups.get(g)).and_then(|g| g.sync.current());
        let result = sender.next_frame(payload, sync);
        self.persist_wanted |= sender.reservation().is_pending();
        result
    }

    /// Re-authenticates a verified frame for another zone: its authentic payload
    /// under the layout, key and freshness counter of the sender with id `egress`.
    pub fn reauthenticate(&mut self, proof: &Verified, egress: CanId) -> Result<Frame, GenerateError> {
        self.authenticate_next(egress, proof.authentic_payload())
    }

    /// Installs, replaces (or with `None` removes) a key.
    pub fn set_key(&mut self, slot: KeySlot, key: Option<&SecOcKey>) -> Result<(), ConfigError> {
        let key = key.map(MacKey::new);
        match slot {
            KeySlot::Receive(id) => {
                let at = self.receive_index.binary_search_by_key(&id, |&(id, _)| id).ok();
                match at.and_then(|at| self.receive_index.get(at)).map(|&(_, slot)| slot) {
                    Some(ReceiveSlot::Data(i)) => self.receivers.get_mut(i).map(|(r, _)| r.set_key(key)),
                    Some(ReceiveSlot::Sync(i)) => self.groups.get_mut(i).map(|g| g.sync.set_key(key)),
                    None => None,
                }
                .ok_or(ConfigError::UnknownId { id, direction: "receiver" })
            }
            KeySlot::Send(id) => {
                let at = self.send_index.binary_search_by_key(&id, |&(id, _)| id).ok();
                at.and_then(|at| self.send_index.get(at))
                    .and_then(|&(_, i)| self.senders.get_mut(i))
                    .map(|(s, _)| s.set_key(key))
                    .ok_or(ConfigError::UnknownId { id, direction: "sender" })
            }
        }
    }

    /// The synchronised trip/reset counters of the group whose sync message has `id`.
    pub fn sync_counters(&self, id: CanId) -> Option<TripReset> {
        self.groups.iter().find(|g| g.id == id).and_then(|g| g.sync.current())
    }

    /// True when some counter waits for a higher durable mark.
    pub const fn needs_persist(&self) -> bool {
        self.persist_wanted
    }

    /// The snapshot to write now, when some counter needs a higher durable
    /// mark; `None` in steady state (checked in O(1)).
    pub fn persist_request(&self) -> Option<Snapshot> {
        self.persist_wanted.then(|| self.snapshot(false))
    }

    /// `snapshot` (from [`persist_request`](Self::persist_request)) is now durable.
    pub fn confirm_persisted(&mut self, snapshot: &Snapshot) {
        for (receiver, _) in &mut self.receivers {
            let key = CounterKey::receive(receiver.profile().layout().data_id());
            if let Some(mark) = snapshot.get(key) {
                receiver.reservation_mut().confirm(mark);
            }
        }
        for (sender, _) in &mut self.senders {
            let key = CounterKey::send(sender.profile().layout().data_id());
            if let Some(mark) = snapshot.get(key) {
                sender.reservation_mut().confirm(mark);
            }
        }
        self.refresh_persist_wanted();
    }

    /// The exact state for a clean shutdown: latest accepted and last used
    /// values instead of reserved marks. Consumes the manager, so nothing can
    /// use a value above these after they are written.
    pub fn checkpoint(self) -> Snapshot {
        self.snapshot(true)
    }

    fn snapshot(&self, exact: bool) -> Snapshot {
        let mut snapshot = self.carried.clone();
        for (receiver, _) in &self.receivers {
            if receiver.profile().layout().freshness_value_bits() > 0 {
                let mark = if exact { receiver.latest() } else { receiver.reservation().mark_to_persist() };
                snapshot.set(CounterKey::receive(receiver.profile().layout().data_id()), mark);
            }
        }
        for (sender, _) in &self.senders {
            if sender.profile().layout().freshness_value_bits() > 0 {
                let mark = if exact { sender.last() } else { sender.reservation().mark_to_persist() };
                snapshot.set(CounterKey::send(sender.profile().layout().data_id()), mark);
            }
        }
        for group in &self.groups {
            if let Some(current) = group.sync.current() {
                let counters = group.sync.counters();
                snapshot.set(CounterKey::sync(counters.sync_data_id()), counters.sync_value(current));
            }
        }
        snapshot
    }

    fn refresh_persist_wanted(&mut self) {
        self.persist_wanted = self.receivers.iter().any(|(r, _)| r.reservation().is_pending())
            || self.senders.iter().any(|(s, _)| s.reservation().is_pending());
    }
}

/// The group a profile 3 id belongs to, checked against its counter lengths.
fn find_group(groups: &[GroupEntry], id: CanId, profile: &SecOcProfile) -> Result<Option<usize>, ConfigError> {
    let FreshnessScheme::TripReset(counters) = profile.scheme() else { return Ok(None) };
    let sync_data_id = counters.sync_data_id();
    let Some(index) = groups.iter().position(|g| g.sync.counters().sync_data_id() == sync_data_id) else {
        return Err(ConfigError::MissingSyncGroup { id, sync_data_id });
    };
    let group = groups.get(index).map(|g| g.sync.counters());
    if group.is_none_or(|g| g.trip_bits() != counters.trip_bits() || g.reset_bits() != counters.reset_bits()) {
        return Err(ConfigError::SyncCountersMismatch { id, sync_data_id });
    }
    Ok(Some(index))
}

/// Checks the attempts and that half a reservation block covers the acceptance window.
fn check_acceptance(id: CanId, profile: &SecOcProfile, block: u64) -> Result<(), ConfigError> {
    let acceptance = profile.acceptance();
    if acceptance.attempts > MAX_ATTEMPTS {
        return Err(ConfigError::TooManyAttempts { id, attempts: acceptance.attempts, max: MAX_ATTEMPTS });
    }
    // Profile 3 reserves whole reset cycles: no block to fit in.
    let FreshnessScheme::Counter = profile.scheme() else { return Ok(()) };
    let span = acceptance.max_increment;
    if span > block / 2 {
        return Err(ConfigError::ReserveBlockTooSmall { block, id, span });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::{CounterKind, ReceiverConfig, SenderConfig};

    #[test]
    fn unknown_ids_and_kinds() {
        let mut m = SecOcManager::new(ManagerConfig::default(), &Snapshot::new()).unwrap();
        let id = CanId::standard(0x1).unwrap();
        let frame = Frame::classic(id, &[0; 8]).unwrap();
        assert_eq!(m.verify(&frame), Err(Rejection::UnknownId { id }));
        assert_eq!(m.authenticate_next(id, &[]), Err(GenerateError::UnknownSender { id }));
        assert_eq!(m.set_key(KeySlot::Send(id), None), Err(ConfigError::UnknownId { id, direction: "sender" }));
        assert!(m.persist_request().is_none());
        assert_eq!(CounterKind::Receive.name(), "receive");
    }

    #[test]
    fn carried_marks_survive_and_used_ones_are_replaced() {
        let mut stored = Snapshot::new();
        stored.set(CounterKey::receive(0x999), 77);
        stored.set(CounterKey::receive(0x140), 10);
        let config = ManagerConfig {
            receivers: vec![ReceiverConfig {
                id: CanId::standard(0x140).unwrap(),
                profile: SecOcProfile::profile1(0x140, 4).unwrap(),
                key: None,
            }],
            senders: vec![SenderConfig {
                id: CanId::standard(0x141).unwrap(),
                profile: SecOcProfile::profile2(0x141, 4).unwrap(),
                key: None,
                fd: None,
            }],
            ..ManagerConfig::default()
        };
        let m = SecOcManager::new(config, &stored).unwrap();
        let request = m.persist_request().unwrap();
        assert_eq!(request.get(CounterKey::receive(0x999)), Some(77));
        assert_eq!(request.get(CounterKey::receive(0x140)), Some(10 + 4096));
        assert_eq!(request.get(CounterKey::send(0x141)), None, "profile 2 has no counter");
        assert_eq!(m.checkpoint().get(CounterKey::receive(0x140)), Some(10));
    }
}
