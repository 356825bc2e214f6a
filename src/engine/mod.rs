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

pub mod bucket;
pub mod context;
pub mod events;
pub mod modes;
pub mod verdict;
pub mod window;

mod behaviour;
mod content;
mod counters;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

pub use counters::{Counters, PortCounters, RouteCounters};

use self::behaviour::SlotState;
use self::bucket::Bucket;
use self::context::{Inputs, StateValue};
use self::events::{EventKind, EventQueue, SecurityEvent};
use self::modes::{Mode, ModeChange, ModeMachine};
use self::verdict::{DropReason, Verdict};
use self::window::SlidingWindow;
use crate::codec::Decoded;
use crate::frame::Frame;
use crate::rules::{CompiledRules, FaultKind, PortId, PortSet, Route, RouteId, SlotId, TriggerId, TriggerKind, Trust};
use crate::time::Timestamp;

/// How often shells call [`Engine::on_timer`] (in their own time).
pub const TIMER_TICK: Duration = Duration::from_millis(10);

/// Capacity of the transmit queue (status frames).
const TRANSMIT_CAPACITY: usize = 16;

/// How long an id stays suspect after its cycle bucket last ran dry, at least.
const MIN_SUSPECT_HOLD: Duration = Duration::from_millis(100);

/// CAN error class bit of a bus-off in SocketCAN error frames (`CAN_ERR_BUSOFF`).
const CAN_ERR_BUSOFF: u32 = 0x40;

/// The engine's state over one set of compiled rules.
pub struct Engine {
    rules: Arc<CompiledRules>,
    modes: ModeMachine,
    now: Timestamp,
    ingress: Vec<Option<Bucket>>,
    slots: Vec<SlotState>,
    route_buckets: Vec<Option<Bucket>>,
    route_last_forward: Vec<Option<Timestamp>>,
    step_cells: Vec<Option<f64>>,
    state: Vec<StateValue>,
    trigger_windows: Vec<Option<SlidingWindow>>,
    flood_triggers: Vec<Vec<TriggerId>>,
    drop_triggers: Vec<TriggerId>,
    scratch: Vec<Option<Decoded>>,
    events: EventQueue,
    transmit: VecDeque<(PortId, Frame)>,
    status_next: Option<Timestamp>,
    status_counter: u64,
    counters: Counters,
}

/// The outcome of one route for one frame.
type RouteOutcome = Result<PortSet, DropReason>;

impl Engine {
    /// An engine in normal mode at time zero.
    pub fn new(rules: Arc<CompiledRules>) -> Self {
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
        Engine {
            modes: ModeMachine::new(rules.modes),
            now: Timestamp::ZERO,
            ingress: rules.ports.iter().map(|p| p.ingress.map(Bucket::full)).collect(),
            slots: rules.slots.iter().map(SlotState::new).collect(),
            route_buckets: rules.routes.iter().map(|r| r.rate.map(Bucket::full)).collect(),
            route_last_forward: vec![None; rules.routes.len()],
            step_cells: vec![None; rules.step_cells],
            state: vec![StateValue::default(); rules.state.len()],
            trigger_windows,
            flood_triggers,
            drop_triggers,
            scratch: vec![None; max_signals],
            events: EventQueue::new(ports, rules.event_rate),
            transmit: VecDeque::with_capacity(TRANSMIT_CAPACITY),
            status_next: rules.status.as_ref().map(|_| Timestamp::ZERO),
            status_counter: 0,
            counters: Counters::new(&rules),
            rules,
        }
    }

    /// The rules the engine runs on.
    pub fn rules(&self) -> &Arc<CompiledRules> {
        &self.rules
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.modes.mode()
    }

    /// The counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The latest time the engine has seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Events dropped because nobody drained the queue, and events held back by rate limits.
    pub fn events_lost_and_suppressed(&self) -> (u64, u64) {
        (self.events.lost(), self.events.suppressed())
    }

    /// The oldest pending security event.
    pub fn poll_event(&mut self) -> Option<SecurityEvent> {
        self.events.pop()
    }

    /// The oldest pending frame the engine wants sent (the status frame).
    pub fn poll_transmit(&mut self) -> Option<(PortId, Frame)> {
        self.transmit.pop_front()
    }

    fn advance(&mut self, now: Timestamp) -> Timestamp {
        self.now = self.now.max(now);
        self.now
    }

    fn event(&mut self, kind: EventKind, port: Option<PortId>, frame: Option<&Frame>, route: Option<RouteId>) {
        self.events.push(SecurityEvent { time: self.now, kind, port, id: frame.map(Frame::id), route });
    }

    /// Decides on `frame`, received on `port` at `now`.
    pub fn on_frame(&mut self, now: Timestamp, port: PortId, frame: &Frame) -> Verdict {
        let now = self.advance(now);
        let verdict = self.decide(now, port, frame);
        self.counters.record(port, &verdict);
        if let Verdict::Drop { reason, route, .. } = verdict {
            self.event(EventKind::Dropped(reason), Some(port), Some(frame), route);
            for i in 0..self.drop_triggers.len() {
                let t = self.drop_triggers[i];
                if self.drop_matches(t, port, reason) && self.record_window(t, now) {
                    self.fire(t);
                }
            }
        }
        verdict
    }

    fn decide(&mut self, now: Timestamp, port: PortId, frame: &Frame) -> Verdict {
        let rules = Arc::clone(&self.rules);
        let drop = |reason, route| Verdict::Drop { reason, route, port };
        let Some(p) = rules.port(port) else { return drop(DropReason::NoRoute, None) };
        for i in 0..self.flood_triggers.get(port.0 as usize).map_or(0, Vec::len) {
            let t = self.flood_triggers[port.0 as usize][i];
            if self.record_window(t, now) {
                self.fire(t);
            }
        }

        // 1. Sanitize.
        if frame.is_error() {
            if frame.id().raw() & CAN_ERR_BUSOFF != 0 {
                self.on_fault(now, Some(port), FaultKind::BusOff);
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
            Some(slot) => self.observe_slot(now, slot, frame),
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
                let _integrity = self.update_slot_state(now, slot, frame, too_fast);
            }
            return drop(DropReason::NoRoute, None);
        }

        // Message-level integrity (counter, checksum) once per frame, and the vehicle state it feeds.
        let integrity = match entry.slot {
            Some(slot) => self.update_slot_state(now, slot, frame, too_fast),
            None => Ok(()),
        };

        let mut to = PortSet::EMPTY;
        let mut first: Option<(RouteId, RouteOutcome)> = None;
        let mut accepted: Option<RouteId> = None;
        let route_ids: &[RouteId] = exact;
        let mut evaluate = |engine: &mut Engine, rid: RouteId| {
            let Some(route) = rules.route(rid) else { return };
            let outcome = engine.evaluate_route(now, route, rid, frame, integrity, too_fast);
            if let Ok(ports) = outcome {
                to = to.union(ports);
                accepted.get_or_insert(rid);
            }
            if first.is_none() {
                first = Some((rid, outcome));
            }
        };
        if patterns {
            for rid in p.lookup.pattern_routes(frame.id().raw()) {
                evaluate(self, rid);
            }
        } else {
            for &rid in route_ids {
                evaluate(self, rid);
            }
        }
        match (accepted, first) {
            (Some(route), _) => Verdict::Forward { to, route },
            (None, Some((rid, Err(reason)))) => drop(reason, Some(rid)),
            (None, _) => drop(DropReason::NoRoute, None),
        }
    }

    /// Runs layers 2 (mode cut and kind) to 7 for one route.
    fn evaluate_route(
        &mut self,
        now: Timestamp,
        route: &Route,
        rid: RouteId,
        frame: &Frame,
        integrity: Result<(), DropReason>,
        too_fast: bool,
    ) -> RouteOutcome {
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
        // 3. Authenticate: no route can require it yet (SecOC comes with the key store).

        // 4. Content.
        if route.lengths & (1u128 << frame.len().min(64)) == 0 {
            return Err(DropReason::LengthMismatch);
        }
        integrity?;
        if let Some(codec) = &route.codec
            && !frame.is_remote()
        {
            self.decode_into_scratch(codec, frame)?;
            content::check_signals(route, &self.scratch, &mut self.step_cells)?;
        }
        // 5. Context.
        if let Some(condition) = &route.condition {
            let inputs = Inputs { vars: &self.rules.state, values: &self.state, signals: &self.scratch, now };
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
        Ok(to)
    }

    fn decode_into_scratch(&mut self, codec: &crate::codec::MessageCodec, frame: &Frame) -> Result<(), DropReason> {
        for cell in &mut self.scratch {
            *cell = None;
        }
        let scratch = &mut self.scratch;
        codec
            .decode(frame.data(), |index, value| {
                if let Some(cell) = scratch.get_mut(index.get()) {
                    *cell = Some(value);
                }
            })
            .map_err(|_| DropReason::LengthMismatch)
    }

    /// Timing of a known id: updates its cycle bucket and says whether the id is
    /// currently suspected of injection.
    fn observe_slot(&mut self, now: Timestamp, slot: SlotId, frame: &Frame) -> bool {
        let rules = Arc::clone(&self.rules);
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
        now: Timestamp,
        slot: SlotId,
        frame: &Frame,
        too_fast: bool,
    ) -> Result<(), DropReason> {
        let rules = Arc::clone(&self.rules);
        let Some(def) = rules.slots.get(slot.0 as usize) else { return Ok(()) };
        let Some(state) = self.slots.get_mut(slot.0 as usize) else { return Ok(()) };
        let result = content::check_integrity(def, state, now, frame);
        if result.is_ok()
            && !too_fast
            && !def.state_updates.is_empty()
            && let Some(codec) = &def.codec
            && self.decode_into_scratch(codec, frame).is_ok()
        {
            for (signal, var) in &def.state_updates {
                if let (Some(Some(value)), Some(cell)) =
                    (self.scratch.get(signal.get()), self.state.get_mut(var.0 as usize))
                {
                    cell.latest = Some((*value, now));
                }
            }
        }
        result
    }

    fn drop_matches(&self, t: TriggerId, port: PortId, reason: DropReason) -> bool {
        match self.rules.triggers.get(t.0 as usize).map(|t| t.kind) {
            Some(TriggerKind::Drops { port: p, layer, reason: r, .. }) => {
                p.is_none_or(|p| p == port)
                    && layer.is_none_or(|l| l == reason.layer())
                    && r.is_none_or(|r| r == reason)
            }
            _ => false,
        }
    }

    fn record_window(&mut self, t: TriggerId, now: Timestamp) -> bool {
        self.trigger_windows.get_mut(t.0 as usize).and_then(Option::as_mut).is_some_and(|w| w.record(now))
    }

    fn fire(&mut self, t: TriggerId) {
        let Some(trigger) = self.rules.triggers.get(t.0 as usize) else { return };
        let (enter, auto) = (trigger.enter, trigger.automatic_recovery);
        let changes = self.modes.trigger(self.now, t, enter, auto);
        for change in changes.into_iter().flatten() {
            self.mode_changed(change);
        }
    }

    fn mode_changed(&mut self, change: ModeChange) {
        self.counters.mode_changes += 1;
        self.event(EventKind::ModeChanged(change), None, None, None);
        // Announce at once, then keep the period.
        if self.rules.status.is_some() {
            self.queue_status();
        }
    }

    /// A fault reported by the shell (bus-off, queue overflow, link down, integrity).
    pub fn on_fault(&mut self, now: Timestamp, port: Option<PortId>, fault: FaultKind) {
        self.advance(now);
        self.event(EventKind::Fault(fault), port, None, None);
        for i in 0..self.rules.triggers.len() {
            if let TriggerKind::Fault { fault: f, port: p } = self.rules.triggers[i].kind
                && f.is_none_or(|f| f == fault)
                && p.is_none_or(|p| Some(p) == port)
            {
                self.fire(TriggerId(i as u32));
            }
        }
    }

    /// An authenticated command to return to normal mode (the caller
    /// authenticates it; the engine only obeys).
    pub fn reset_mode(&mut self, now: Timestamp) {
        self.advance(now);
        if let Some(change) = self.modes.reset(self.now) {
            self.mode_changed(change);
        }
    }

    /// Time passed: missing messages, recovery from degraded mode, the status frame.
    pub fn on_timer(&mut self, now: Timestamp) {
        let now = self.advance(now);
        let rules = Arc::clone(&self.rules);
        let mut essential_missing = false;
        for (i, def) in rules.slots.iter().enumerate() {
            let Some(state) = self.slots.get_mut(i) else { continue };
            let newly = state.check_missing(now, def.cycle.as_ref());
            essential_missing |= def.essential && state.missing;
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
        if essential_missing {
            for i in 0..rules.triggers.len() {
                if matches!(rules.triggers[i].kind, TriggerKind::Mia) {
                    self.fire(TriggerId(i as u32));
                }
            }
        }
        if let Some(change) = self.modes.tick(now) {
            self.mode_changed(change);
        }
        if let (Some(status), Some(next)) = (&rules.status, self.status_next)
            && now >= next
        {
            self.queue_status();
            let mut next = next.saturating_add(status.period);
            if next <= now {
                next = now.saturating_add(status.period);
            }
            self.status_next = Some(next);
        }
    }

    fn queue_status(&mut self) {
        let Some(status) = &self.rules.status else { return };
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
