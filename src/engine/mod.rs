//! The engine: a pure, deterministic function from (time, port, frame) to a
//! verdict, plus the state it keeps between frames.
//!
//! It never reads a clock, a socket or a file. Shells (the daemon, `replay`,
//! the simulator, the fuzzers) feed it with [`Engine::on_frame`], call
//! [`Engine::on_timer`] every [`TIMER_TICK`] of their time, report faults with
//! [`Engine::on_fault`], and drain what it wants to say with
//! [`Engine::poll_event`] and what it wants to send with
//! [`Engine::poll_transmit`]. The same inputs always give the same outputs:
//! that is what makes a replayed capture show what the live gateway would
//! have done.
//!
//! The layers a frame goes through, in order (`DESIGN.md`): sanitize, route
//! (with the mode's cuts), authenticate, content, context, rate, behaviour.
//! The first layer that refuses gives the drop reason. A frame may match
//! several routes (with disjoint destinations); it is forwarded to the union
//! of the destinations of the routes that allow it, and dropped with the
//! first route's reason when none does.
//!
//! Invariants:
//! - no allocation per frame in steady state: every table is sized when the
//!   engine is built (a test with a counting allocator proves it);
//! - per-id state is bounded by the compiled slots; queues have fixed capacity;
//! - time that goes backwards is treated as "no time passed";
//! - a route's verdict never includes a port outside what the mode keeps:
//!   hostile sources are cut in degraded and isolated modes, essential routes
//!   are never cut.

pub mod auth;
pub mod bucket;
pub mod context;
pub mod events;
pub mod modes;
pub mod verdict;
pub mod window;

mod behaviour;
mod content;
mod counters;
mod signals;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

pub use counters::{Counters, PortCounters, RouteCounters};

use self::auth::{Authenticator, KeyReport, Permit};
use self::behaviour::SlotState;
use self::bucket::Bucket;
use self::context::{Inputs, StateValue};
use self::events::{EventKind, EventQueue, SecurityEvent};
use self::modes::{Mode, ModeChange, ModeMachine};
use self::signals::FrameSignals;
use self::verdict::{DropReason, Verdict};
use self::window::SlidingWindow;
use crate::codec::Decoded;
use crate::frame::Frame;
use crate::rules::{
    CompiledRules, DeviceId, FaultKind, PortId, PortSet, Route, RouteId, SlotId, TriggerId, TriggerKind, Trust,
};
use crate::secoc::Snapshot;
use crate::time::Timestamp;

/// How often shells call [`Engine::on_timer`] (in their own time).
pub const TIMER_TICK: Duration = Duration::from_millis(10);

/// Capacity of the transmit queue (status frames).
const TRANSMIT_CAPACITY: usize = 16;

/// How long an id stays suspect after its cycle bucket last ran dry, at least.
const MIN_SUSPECT_HOLD: Duration = Duration::from_millis(100);

/// CAN error class bit of a bus-off in SocketCAN error frames (`CAN_ERR_BUSOFF`).
const CAN_ERR_BUSOFF: u32 = 0x40;

/// The engine: the compiled rules (shared, immutable) and the state kept
/// between frames.
pub struct Engine {
    rules: Arc<CompiledRules>,
    state: State,
}

/// Everything the engine remembers between calls. Kept apart from the rules
/// so the per-frame path borrows both without reference counting.
struct State {
    modes: ModeMachine,
    now: Timestamp,
    ingress: Vec<Option<Bucket>>,
    slots: Vec<SlotState>,
    route_buckets: Vec<Option<Bucket>>,
    route_last_forward: Vec<Option<Timestamp>>,
    step_cells: Vec<Option<f64>>,
    vehicle: Vec<StateValue>,
    trigger_windows: Vec<Option<SlidingWindow>>,
    flood_triggers: Vec<Vec<TriggerId>>,
    drop_triggers: Vec<TriggerId>,
    /// The current frame's signals, decoded on demand.
    signals: FrameSignals,
    /// The authenticate layer (SecOC, link keys, device identity).
    auth: Authenticator,
    /// Frames of the datagram being decided (capacity for the largest datagram).
    datagram: Vec<Frame>,
    /// The last signal-check group run on the current frame and its result.
    last_check: Option<(u32, Result<(), DropReason>)>,
    events: EventQueue,
    transmit: VecDeque<(PortId, Frame)>,
    status_next: Option<Timestamp>,
    status_counter: u64,
    /// No message can go missing before this time (a lower bound: frames
    /// seen since only move deadlines later), so timers skip the scan.
    mia_scan_at: Timestamp,
    /// True while some essential message is missing (the `mia` triggers keep firing).
    essential_missing: bool,
    counters: Counters,
}

/// What every route of one frame shares.
#[derive(Clone, Copy)]
struct RouteContext<'a> {
    port: &'a crate::rules::Port,
    slot: Option<&'a crate::rules::Slot>,
    device: Option<DeviceId>,
    integrity: Result<(), DropReason>,
    too_fast: bool,
}

/// The outcome of one route for one frame.
type RouteOutcome = Result<Permit, DropReason>;

/// What became of a datagram of the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatagramOutcome {
    /// Authenticated and decrypted: its frames were decided one by one.
    Opened {
        /// The device that sealed it (`None`: its key belongs to a device the
        /// rules do not declare on this port, and every frame was refused).
        device: Option<DeviceId>,
        /// How many frames it carried.
        frames: usize,
    },
    /// Dropped silently by the link layer, for this reason.
    Dropped(crate::link::DropReason),
}

impl Engine {
    /// An engine in normal mode at time zero, with no keys and fresh SecOC counters.
    pub fn new(rules: Arc<CompiledRules>) -> Self {
        match Self::with_freshness(rules, &Snapshot::default()) {
            Ok(engine) => engine,
            // The rule compiler refuses every configuration the SecOC manager
            // would (duplicate ids, counters); an empty snapshot adds nothing.
            Err(e) => unreachable!("compiled rules with an invalid SecOC configuration: {e}"),
        }
    }

    /// An engine whose SecOC counters continue from `freshness` (the marks
    /// persisted before a restart), so nothing is ever accepted or sent twice.
    pub fn with_freshness(rules: Arc<CompiledRules>, freshness: &Snapshot) -> Result<Self, crate::secoc::ConfigError> {
        let ports = rules.ports.len();
        let max_signals = rules
            .slots
            .iter()
            .filter_map(|s| s.codec.as_ref())
            .chain(rules.routes.iter().filter_map(|r| r.codec.as_ref()))
            .map(|c| c.signals().len())
            .max()
            .unwrap_or(0);
        let mut flood_triggers = vec![Vec::new(); ports];
        let mut drop_triggers = Vec::new();
        let trigger_windows = rules
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| match t.kind {
                TriggerKind::Flood { port, frames, window } => {
                    if let Some(list) = flood_triggers.get_mut(port.0 as usize) {
                        list.push(TriggerId(i as u32));
                    }
                    Some(SlidingWindow::new(frames, window))
                }
                TriggerKind::Drops { count, window, .. } => {
                    drop_triggers.push(TriggerId(i as u32));
                    Some(SlidingWindow::new(count, window))
                }
                TriggerKind::Mia | TriggerKind::Fault { .. } => None,
            })
            .collect();
        let auth = Authenticator::new(&rules, freshness)?;
        let state = State {
            modes: ModeMachine::new(rules.modes),
            now: Timestamp::ZERO,
            ingress: rules.ports.iter().map(|p| p.ingress.map(Bucket::full)).collect(),
            slots: rules.slots.iter().map(SlotState::new).collect(),
            route_buckets: rules.routes.iter().map(|r| r.rate.map(Bucket::full)).collect(),
            route_last_forward: vec![None; rules.routes.len()],
            step_cells: vec![None; rules.step_cells],
            vehicle: vec![StateValue::default(); rules.state.len()],
            trigger_windows,
            flood_triggers,
            drop_triggers,
            signals: FrameSignals::new(max_signals),
            auth,
            datagram: Vec::with_capacity(crate::link::MAX_FRAMES_PER_DATAGRAM),
            last_check: None,
            events: EventQueue::new(ports, rules.event_rate),
            transmit: VecDeque::with_capacity(TRANSMIT_CAPACITY),
            status_next: rules.status.as_ref().map(|_| Timestamp::ZERO),
            status_counter: 0,
            mia_scan_at: Timestamp::ZERO,
            essential_missing: false,
            counters: Counters::new(&rules),
        };
        Ok(Engine { rules, state })
    }

    /// Switches to new rules, keeping what still applies: the mode and its
    /// cause, the per-id state of every (port, id) both rule sets know (alive
    /// counters, timing, missing messages, injection suspicion), vehicle state
    /// variables and route token buckets by name, the link's replay windows and
    /// keys, SecOC freshness, pending events, and the running totals. Counters
    /// per route and port start over with the new layout; SecOC keys must be
    /// installed again with [`Engine::install_keys`].
    pub fn reload(&mut self, rules: Arc<CompiledRules>) -> Result<(), crate::secoc::ConfigError> {
        let placeholder = Authenticator::new(&rules, &Snapshot::default())?;
        let old_auth = std::mem::replace(&mut self.state.auth, placeholder);
        let auth = old_auth.rebuild(&rules)?;
        let mut next = Engine::with_freshness(Arc::clone(&rules), &Snapshot::default())?;
        let old = &mut self.state;
        let new = &mut next.state;
        new.auth = auth;
        new.now = old.now;
        new.modes = std::mem::replace(&mut old.modes, ModeMachine::new(rules.modes)).with_settings(rules.modes);
        for (i, slot) in rules.slots.iter().enumerate() {
            let port_name = rules.port(slot.port).map(|p| p.name.as_str());
            let previous = self
                .rules
                .slots
                .iter()
                .position(|o| o.id == slot.id && self.rules.port(o.port).map(|p| p.name.as_str()) == port_name);
            if let (Some(j), Some(cell)) = (previous, new.slots.get_mut(i))
                && let Some(state) = old.slots.get(j)
            {
                *cell = state.clone();
            }
        }
        for (i, var) in rules.state.iter().enumerate() {
            if let Some(j) = self.rules.state.iter().position(|o| o.name == var.name)
                && let (Some(cell), Some(value)) = (new.vehicle.get_mut(i), old.vehicle.get(j))
            {
                *cell = *value;
            }
        }
        for (i, route) in rules.routes.iter().enumerate() {
            if let Some(j) = self.rules.routes.iter().position(|o| o.name == route.name && o.rate == route.rate) {
                if let (Some(cell), Some(bucket)) = (new.route_buckets.get_mut(i), old.route_buckets.get(j)) {
                    *cell = *bucket;
                }
                if let (Some(cell), Some(last)) = (new.route_last_forward.get_mut(i), old.route_last_forward.get(j)) {
                    *cell = *last;
                }
            }
        }
        new.events = std::mem::replace(&mut old.events, EventQueue::new(0, rules.event_rate));
        new.transmit = std::mem::take(&mut old.transmit);
        new.counters.carry_totals(&old.counters);
        new.status_next = old.status_next.or(new.status_next);
        new.status_counter = old.status_counter;
        *self = next;
        Ok(())
    }

    /// Every link key seen with its highest accepted packet number (for the
    /// shell to persist, written ahead, so no replay window reopens after a restart).
    pub fn link_high_water_marks(&self) -> Vec<(crate::link::KeyId, u64)> {
        self.state.auth.link_high_water_marks()
    }

    /// After a restart: refuse the link packet numbers of `key` at or below `mark`.
    pub fn restore_link_high_water(&mut self, key: crate::link::KeyId, mark: u64) {
        self.state.auth.restore_link_high_water(key, mark);
    }

    /// The rules the engine runs on.
    pub fn rules(&self) -> &Arc<CompiledRules> {
        &self.rules
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.state.modes.mode()
    }

    /// The counters so far.
    pub fn counters(&self) -> &Counters {
        &self.state.counters
    }

    /// The latest time the engine has seen.
    pub fn now(&self) -> Timestamp {
        self.state.now
    }

    /// Events dropped because nobody drained the queue, and events held back by rate limits.
    pub fn events_lost_and_suppressed(&self) -> (u64, u64) {
        (self.state.events.lost(), self.state.events.suppressed())
    }

    /// The oldest pending security event.
    pub fn poll_event(&mut self) -> Option<SecurityEvent> {
        self.state.events.pop()
    }

    /// The oldest pending frame the engine wants sent (the status frame).
    pub fn poll_transmit(&mut self) -> Option<(PortId, Frame)> {
        self.state.transmit.pop_front()
    }

    /// Decides on `frame`, received on CAN port `port` at `now`. (A frame on
    /// an Ethernet port needs its sender: see [`Engine::on_frame_from`] and
    /// [`Engine::on_datagram`].)
    pub fn on_frame(&mut self, now: Timestamp, port: PortId, frame: &Frame) -> Verdict {
        self.state.on_frame(&self.rules, now, port, None, frame)
    }

    /// Decides on `frame`, received on `port` at `now` from `device` (the
    /// authenticated sender of the datagram that carried it).
    pub fn on_frame_from(&mut self, now: Timestamp, port: PortId, device: Option<DeviceId>, frame: &Frame) -> Verdict {
        self.state.on_frame(&self.rules, now, port, device, frame)
    }

    /// Opens a datagram of the link received on Ethernet port `port` and
    /// decides on each of its frames, calling `out` with each frame and its
    /// verdict. A datagram that fails authentication is dropped silently (no
    /// frame, a counter and a rate-limited event).
    pub fn on_datagram(
        &mut self,
        now: Timestamp,
        port: PortId,
        datagram: &[u8],
        out: &mut dyn FnMut(&Frame, Verdict),
    ) -> DatagramOutcome {
        let state = &mut self.state;
        state.advance(now);
        let device = match state.auth.open(datagram) {
            Ok(opened) => {
                state.datagram.clear();
                state.datagram.extend_from_slice(opened.frames());
                self.rules.device_by_name(opened.device())
            }
            Err(reason) => {
                state.event(EventKind::LinkDropped(reason), Some(port), None, None);
                return DatagramOutcome::Dropped(reason);
            }
        };
        let device = device.filter(|d| self.rules.devices.get(d.0 as usize).is_some_and(|dev| dev.port == port));
        if device.is_none() {
            state.event(EventKind::UnknownDevice, Some(port), None, None);
        }
        for i in 0..state.datagram.len() {
            let frame = state.datagram[i];
            let verdict = state.on_frame(&self.rules, now, port, device, &frame);
            out(&frame, verdict);
        }
        DatagramOutcome::Opened { device, frames: state.datagram.len() }
    }

    /// Installs the keys the rules need from `store` (SecOC keys by name, link
    /// keys of the declared devices); call again after a reload of the store.
    pub fn install_keys(&mut self, store: &dyn crate::keys::KeyStore) -> KeyReport {
        self.state.auth.install_keys(&self.rules, store)
    }

    /// SecOC freshness marks to persist before frames beyond the current marks
    /// are accepted or sent (see [`crate::secoc::SecOcManager`]); `None` when nothing is due.
    pub fn persist_request(&self) -> Option<Snapshot> {
        self.state.auth.persist_request()
    }

    /// The shell has persisted `snapshot`.
    pub fn confirm_persisted(&mut self, snapshot: &Snapshot) {
        self.state.auth.confirm_persisted(snapshot);
    }

    /// The link's drop counters.
    pub fn link_counters(&self) -> &crate::link::LinkCounters {
        self.state.auth.link_counters()
    }

    /// A fault reported by the shell (bus-off, queue overflow, link down, integrity).
    pub fn on_fault(&mut self, now: Timestamp, port: Option<PortId>, fault: FaultKind) {
        self.state.advance(now);
        self.state.fault(&self.rules, port, fault);
    }

    /// An authenticated command to return to normal mode (the caller
    /// authenticates it; the engine only obeys).
    pub fn reset_mode(&mut self, now: Timestamp) {
        let now = self.state.advance(now);
        if let Some(change) = self.state.modes.reset(now) {
            self.state.mode_changed(&self.rules, change);
        }
    }

    /// Time passed: missing messages, recovery from degraded mode, the status frame.
    pub fn on_timer(&mut self, now: Timestamp) {
        self.state.on_timer(&self.rules, now);
    }
}

impl State {
    fn advance(&mut self, now: Timestamp) -> Timestamp {
        self.now = self.now.max(now);
        self.now
    }

    fn event(&mut self, kind: EventKind, port: Option<PortId>, frame: Option<&Frame>, route: Option<RouteId>) {
        self.events.push(SecurityEvent { time: self.now, kind, port, id: frame.map(Frame::id), route });
    }

    fn on_frame(
        &mut self,
        rules: &CompiledRules,
        now: Timestamp,
        port: PortId,
        device: Option<DeviceId>,
        frame: &Frame,
    ) -> Verdict {
        let now = self.advance(now);
        self.signals.reset();
        self.last_check = None;
        self.auth.begin_frame();
        let verdict = self.decide(rules, now, port, device, frame);
        self.counters.record(port, &verdict);
        if let Verdict::Drop { reason, route, .. } = verdict {
            self.event(EventKind::Dropped(reason), Some(port), Some(frame), route);
            for i in 0..self.drop_triggers.len() {
                let t = self.drop_triggers[i];
                if drop_matches(rules, t, port, reason) && self.record_window(t, now) {
                    self.fire(rules, t);
                }
            }
        }
        verdict
    }

    fn decide(
        &mut self,
        rules: &CompiledRules,
        now: Timestamp,
        port: PortId,
        device: Option<DeviceId>,
        frame: &Frame,
    ) -> Verdict {
        let drop = |reason, route| Verdict::Drop { reason, route, port };
        let Some(p) = rules.port(port) else { return drop(DropReason::NoRoute, None) };
        for i in 0..self.flood_triggers.get(port.0 as usize).map_or(0, Vec::len) {
            let t = self.flood_triggers[port.0 as usize][i];
            if self.record_window(t, now) {
                self.fire(rules, t);
            }
        }

        // 1. Sanitize.
        if frame.is_error() {
            if frame.id().raw() & CAN_ERR_BUSOFF != 0 {
                self.fault(rules, Some(port), FaultKind::BusOff);
            }
            return drop(DropReason::ErrorFrame, None);
        }
        if frame.is_fd() && !p.medium.carries_fd() {
            return drop(DropReason::FdOnClassicPort, None);
        }
        if frame.is_remote() && !p.route_remote_frames {
            return drop(DropReason::RemoteFrame, None);
        }
        if let (Some(spec), Some(Some(bucket))) = (p.ingress, self.ingress.get_mut(port.0 as usize))
            && !bucket.try_take(spec, now)
        {
            return drop(DropReason::IngressBudget, None);
        }

        // 2. Route lookup; per-id behaviour is measured for every frame of a known id.
        let entry = p.lookup.entry(frame.id());
        let too_fast = match entry.slot {
            Some(slot) => self.observe_slot(rules, now, slot, frame),
            None => false,
        };
        let exact = p.lookup.routes(entry);
        let patterns = frame.id().is_extended() && entry.slot.is_none() && exact.is_empty();
        if exact.is_empty() && !(patterns && p.lookup.pattern_routes(frame.id().raw()).next().is_some()) {
            if entry.slot.is_none() && p.trust == Trust::Trusted && p.report_unknown_ids {
                self.event(EventKind::UnknownId, Some(port), Some(frame), None);
            }
            if let Some(slot) = entry.slot {
                // Known but routed nowhere: its integrity still decides whether it may feed the vehicle state.
                let _integrity = self.update_slot_state(rules, now, slot, frame, too_fast);
            }
            return drop(DropReason::NoRoute, None);
        }

        // Message-level integrity (counter, checksum) once per frame, and the vehicle state it feeds.
        let integrity = match entry.slot {
            Some(slot) => self.update_slot_state(rules, now, slot, frame, too_fast),
            None => Ok(()),
        };

        let mut to = PortSet::EMPTY;
        let mut first: Option<(RouteId, Result<(), DropReason>)> = None;
        let mut accepted: Option<RouteId> = None;
        let slot_def = entry.slot.and_then(|s| rules.slots.get(s.0 as usize));
        let mut evaluate = |state: &mut State, rid: RouteId| {
            let Some(route) = rules.route(rid) else { return };
            let context = RouteContext { port: p, slot: slot_def, device, integrity, too_fast };
            let outcome = state.evaluate_route(rules, now, route, rid, frame, &context);
            state.counters.route(rid, outcome.is_ok());
            let outcome = outcome.map(|permit| {
                to = to.union(permit.to);
                accepted.get_or_insert(rid);
            });
            if first.is_none() {
                first = Some((rid, outcome));
            }
        };
        if patterns {
            for rid in p.lookup.pattern_routes(frame.id().raw()) {
                evaluate(self, rid);
            }
        } else {
            for &rid in exact {
                evaluate(self, rid);
            }
        }
        match (accepted, first) {
            (Some(route), _) => self.forward(rules, slot_def, frame, to, route, port),
            (None, Some((rid, Err(reason)))) => drop(reason, Some(rid)),
            (None, _) => drop(DropReason::NoRoute, None),
        }
    }

    /// The forward verdict, with the frame re-authenticated for destinations
    /// where its id is SecOC-secured for sending. Those destinations are left
    /// out when re-signing fails (no key, freshness not yet persisted): the
    /// gateway never sends them an unauthenticated frame.
    fn forward(
        &mut self,
        rules: &CompiledRules,
        slot: Option<&crate::rules::Slot>,
        frame: &Frame,
        to: PortSet,
        route: RouteId,
        port: PortId,
    ) -> Verdict {
        let Some(slot) = slot else { return Verdict::Forward { to, route, resigned: None } };
        let secured_to = to.intersection(slot.resign_to);
        if secured_to.is_empty() {
            return Verdict::Forward { to, route, resigned: None };
        }
        match self.auth.resign(rules, slot, frame) {
            Ok(signed) => Verdict::Forward { to, route, resigned: Some((secured_to, signed)) },
            Err(reason) => {
                let rest = PortSet(to.0 & !secured_to.0);
                if rest.is_empty() {
                    Verdict::Drop { reason, route: Some(route), port }
                } else {
                    Verdict::Forward { to: rest, route, resigned: None }
                }
            }
        }
    }

    /// Runs layers 2 (mode cut and kind) to 7 for one route.
    fn evaluate_route(
        &mut self,
        rules: &CompiledRules,
        now: Timestamp,
        route: &Route,
        rid: RouteId,
        frame: &Frame,
        context: &RouteContext<'_>,
    ) -> RouteOutcome {
        let RouteContext { port, slot, device, integrity, too_fast } = *context;
        // 2. Kind and the mode's cut.
        let kind_ok = if frame.is_remote() { route.allow_remote } else { route.allow_data };
        if !kind_ok {
            return Err(DropReason::KindNotAllowed);
        }
        let to = match self.modes.mode() {
            Mode::Normal => route.to,
            Mode::Degraded => route.degraded_to,
            Mode::Isolated => route.isolated_to,
        };
        // Normal mode cuts nothing: a route with no destination ("allowed on
        // its bus, checked") passes there even from a hostile port.
        if self.modes.mode() != Mode::Normal && to.is_empty() && (!route.to.is_empty() || route.from_hostile) {
            return Err(match self.modes.mode() {
                Mode::Isolated => DropReason::CutIsolated,
                _ => DropReason::CutDegraded,
            });
        }
        // 3. Authenticate: the sender's identity, its authorization, SecOC.
        let proof = self.auth.authorize(rules, port, slot, route, device, frame)?;

        // 4. Content.
        if route.lengths & (1u128 << frame.len().min(64)) == 0 {
            return Err(DropReason::LengthMismatch);
        }
        integrity?;
        if let Some(codec) = &route.codec
            && !frame.is_remote()
        {
            let result = match self.last_check {
                Some((group, result)) if group == route.check_group => result,
                _ => {
                    let result =
                        content::check_signals(route, codec, frame.data(), &mut self.signals, &mut self.step_cells);
                    self.last_check = Some((route.check_group, result));
                    result
                }
            };
            result?;
        }
        // 5. Context.
        if let Some(condition) = &route.condition {
            // Signals of this frame only: a remote frame has none.
            let signals: &[Option<Decoded>] = match &route.codec {
                Some(codec) if route.condition_reads_signals && !frame.is_remote() => {
                    self.signals.all(codec, frame.data())?
                }
                _ => &[],
            };
            let inputs = Inputs { vars: &rules.state, values: &self.vehicle, signals, now };
            match context::evaluate(condition, &inputs) {
                Some(true) => {}
                Some(false) => return Err(DropReason::ConditionFalse),
                None => return Err(DropReason::StateUnknown),
            }
        }
        // 6. Rate.
        if let Some(min) = route.min_interval
            && let Some(Some(last)) = self.route_last_forward.get(rid.0 as usize)
            && now.saturating_since(*last) < min
        {
            return Err(DropReason::MinInterval);
        }
        if let (Some(spec), Some(Some(bucket))) = (route.rate, self.route_buckets.get_mut(rid.0 as usize))
            && !bucket.try_take(spec, now)
        {
            return Err(DropReason::RateLimited);
        }
        // 7. Behaviour.
        if too_fast {
            return Err(DropReason::TooFast);
        }
        if let Some(cell) = self.route_last_forward.get_mut(rid.0 as usize) {
            *cell = Some(now);
        }
        Ok(Permit::new(to, proof))
    }

    /// Timing of a known id: updates its cycle bucket and says whether the id is
    /// currently suspected of injection.
    fn observe_slot(&mut self, rules: &CompiledRules, now: Timestamp, slot: SlotId, frame: &Frame) -> bool {
        let Some(def) = rules.slots.get(slot.0 as usize) else { return false };
        let Some(state) = self.slots.get_mut(slot.0 as usize) else { return false };
        let was_missing = state.missing;
        let started = state.observe(now, def.cycle.as_ref(), MIN_SUSPECT_HOLD);
        let suspect = state.is_suspect(now);
        if was_missing {
            self.event(EventKind::Back, Some(def.port), Some(frame), None);
        }
        if started {
            self.event(EventKind::InjectionSuspected, Some(def.port), Some(frame), None);
        }
        suspect
    }

    /// Counter and checksum of a known id, and the vehicle state it carries
    /// (only from frames that pass both and are not suspect).
    fn update_slot_state(
        &mut self,
        rules: &CompiledRules,
        now: Timestamp,
        slot: SlotId,
        frame: &Frame,
        too_fast: bool,
    ) -> Result<(), DropReason> {
        let Some(def) = rules.slots.get(slot.0 as usize) else { return Ok(()) };
        let Some(state) = self.slots.get_mut(slot.0 as usize) else { return Ok(()) };
        let result = content::check_integrity(def, state, now, frame);
        if result.is_ok()
            && !too_fast
            && let Some(codec) = &def.codec
        {
            for (signal, var) in &def.state_updates {
                if let Ok(Some(value)) = self.signals.get(codec, *signal, frame.data())
                    && let Some(cell) = self.vehicle.get_mut(var.0 as usize)
                {
                    cell.latest = Some((value, now));
                }
            }
        }
        result
    }

    fn record_window(&mut self, t: TriggerId, now: Timestamp) -> bool {
        self.trigger_windows.get_mut(t.0 as usize).and_then(Option::as_mut).is_some_and(|w| w.record(now))
    }

    fn fire(&mut self, rules: &CompiledRules, t: TriggerId) {
        let Some(trigger) = rules.triggers.get(t.0 as usize) else { return };
        let changes = self.modes.trigger(self.now, t, trigger.enter, trigger.automatic_recovery);
        for change in changes.into_iter().flatten() {
            self.mode_changed(rules, change);
        }
    }

    fn mode_changed(&mut self, rules: &CompiledRules, change: ModeChange) {
        self.counters.mode_changes += 1;
        self.event(EventKind::ModeChanged(change), None, None, None);
        // Announce at once, then keep the period.
        self.queue_status(rules);
    }

    fn fault(&mut self, rules: &CompiledRules, port: Option<PortId>, fault: FaultKind) {
        self.event(EventKind::Fault(fault), port, None, None);
        for (i, trigger) in rules.triggers.iter().enumerate() {
            if let TriggerKind::Fault { fault: f, port: p } = trigger.kind
                && f.is_none_or(|f| f == fault)
                && p.is_none_or(|p| Some(p) == port)
            {
                self.fire(rules, TriggerId(i as u32));
            }
        }
    }

    fn on_timer(&mut self, rules: &CompiledRules, now: Timestamp) {
        let now = self.advance(now);
        if now >= self.mia_scan_at {
            self.scan_missing(rules, now);
        }
        if self.essential_missing {
            for (i, trigger) in rules.triggers.iter().enumerate() {
                if matches!(trigger.kind, TriggerKind::Mia) {
                    self.fire(rules, TriggerId(i as u32));
                }
            }
        }
        if let Some(change) = self.modes.tick(now) {
            self.mode_changed(rules, change);
        }
        if let (Some(status), Some(next)) = (&rules.status, self.status_next)
            && now >= next
        {
            self.queue_status(rules);
            let mut next = next.saturating_add(status.period);
            if next <= now {
                next = now.saturating_add(status.period);
            }
            self.status_next = Some(next);
        }
    }

    /// Marks messages missing whose deadline passed, and finds the next deadline.
    fn scan_missing(&mut self, rules: &CompiledRules, now: Timestamp) {
        let mut essential_missing = false;
        let mut next = None::<Timestamp>;
        for (i, def) in rules.slots.iter().enumerate() {
            let Some(state) = self.slots.get_mut(i) else { continue };
            let newly = state.check_missing(now, def.cycle.as_ref());
            essential_missing |= def.essential && state.missing;
            if let (Some(mia), Some(last), false) = (def.cycle.and_then(|c| c.mia), state.last_seen, state.missing) {
                let deadline = last.saturating_add(mia);
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
            if newly {
                self.events.push(SecurityEvent {
                    time: now,
                    kind: EventKind::Missing,
                    port: Some(def.port),
                    id: Some(def.id),
                    route: None,
                });
            }
        }
        self.essential_missing = essential_missing;
        // A message seen for the first time after this scan starts its own
        // deadline later than `now + mia`; the shortest MIA bounds how long
        // the scan may sleep without missing it.
        let shortest = rules.slots.iter().filter_map(|d| d.cycle.and_then(|c| c.mia)).min();
        let bound = shortest.map(|m| now.saturating_add(m));
        self.mia_scan_at = match (next, bound) {
            (Some(n), Some(b)) => n.min(b),
            (None, Some(b)) => b,
            (n, None) => n.unwrap_or(Timestamp::from_nanos(u64::MAX)),
        };
        // Back to a scan on every timer while something is missing (to see it come back).
        if self.slots.iter().any(|s| s.missing) {
            self.mia_scan_at = now;
        }
    }

    fn queue_status(&mut self, rules: &CompiledRules) {
        let Some(status) = &rules.status else { return };
        let cause = match self.modes.cause() {
            Some(modes::ModeCause::Trigger(t)) if self.modes.mode() != Mode::Normal => u64::from(t.0) + 1,
            Some(modes::ModeCause::Escalation) if self.modes.mode() != Mode::Normal => 255,
            _ => 0,
        };
        let frame = content::status_frame(status, self.modes.mode(), cause, self.counters.dropped, self.status_counter);
        self.status_counter = self.status_counter.wrapping_add(1);
        if let Some(frame) = frame {
            if self.transmit.len() == TRANSMIT_CAPACITY {
                self.transmit.pop_front();
            }
            self.transmit.push_back((status.port, frame));
        }
    }
}

fn drop_matches(rules: &CompiledRules, t: TriggerId, port: PortId, reason: DropReason) -> bool {
    match rules.triggers.get(t.0 as usize).map(|t| t.kind) {
        Some(TriggerKind::Drops { port: p, layer, reason: r, .. }) => {
            p.is_none_or(|p| p == port) && layer.is_none_or(|l| l == reason.layer()) && r.is_none_or(|r| r == reason)
        }
        _ => false,
    }
}
