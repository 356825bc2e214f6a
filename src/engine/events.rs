//! Security events: what the engine wants a person (or a SIEM) to know.
//!
//! Events are `Copy` values with indices, not text: rendering them needs the
//! compiled rules (for names) and happens in the shells. They wait in a queue
//! of fixed capacity until the shell drains it with `Engine::poll_event`;
//! when the queue is full new events are counted as lost, never allocated.
//!
//! A flood must not turn into a flood of events: events of one class on one
//! port pass a token bucket (`event_rate` of the rules); the ones it holds back
//! are counted and announced by one [`EventKind::Suppressed`] event when the
//! class may speak again. Mode changes, faults and missing messages are never
//! held back (they are rare by nature).

use std::collections::VecDeque;

use super::bucket::{Bucket, RateSpec};
use super::modes::ModeChange;
use super::verdict::{DropReason, Layer};
use crate::frame::CanId;
use crate::rules::{FaultKind, PortId, RouteId};
use crate::time::Timestamp;

/// Capacity of the event queue.
pub const EVENT_QUEUE_CAPACITY: usize = 4096;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventKind {
    /// A frame was dropped.
    Dropped(DropReason),
    /// An id no DBC of a trusted port knows appeared on it.
    UnknownId,
    /// An id started arriving much faster than its cycle: likely injection.
    InjectionSuspected,
    /// A cyclic message stopped arriving.
    Missing,
    /// A missing message is back.
    Back,
    /// A fault was reported.
    Fault(FaultKind),
    /// A datagram of the link was dropped (no frame reached the rules).
    LinkDropped(crate::link::DropReason),
    /// A datagram authenticated with the key of a device the rules do not
    /// declare on its port: every frame of it was refused.
    UnknownDevice,
    /// The mode changed.
    ModeChanged(ModeChange),
    /// Events of a class were held back by the rate limit.
    Suppressed {
        /// The class.
        class: EventClass,
        /// How many.
        count: u64,
    },
}

/// Rate-limited classes of events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventClass {
    /// Drops of one layer.
    Drops(Layer),
    /// Unknown ids.
    UnknownIds,
    /// Injection suspicions.
    Injection,
}

impl EventClass {
    const COUNT: usize = Layer::ALL.len() + 2;

    fn index(self) -> usize {
        match self {
            EventClass::Drops(layer) => layer as usize,
            EventClass::UnknownIds => Layer::ALL.len(),
            EventClass::Injection => Layer::ALL.len() + 1,
        }
    }

    /// A name for reports.
    pub fn name(self) -> &'static str {
        match self {
            EventClass::Drops(layer) => layer.name(),
            EventClass::UnknownIds => "unknown-id",
            EventClass::Injection => "injection",
        }
    }
}

impl EventKind {
    /// The rate-limited class, or `None` for events that always pass.
    pub fn class(&self) -> Option<EventClass> {
        match self {
            EventKind::Dropped(reason) => Some(EventClass::Drops(reason.layer())),
            EventKind::UnknownId => Some(EventClass::UnknownIds),
            EventKind::InjectionSuspected => Some(EventClass::Injection),
            EventKind::LinkDropped(_) | EventKind::UnknownDevice => Some(EventClass::Drops(Layer::Authenticate)),
            _ => None,
        }
    }

    /// A stable kebab-case name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Dropped(_) => "dropped",
            EventKind::UnknownId => "unknown-id",
            EventKind::InjectionSuspected => "injection-suspected",
            EventKind::Missing => "missing",
            EventKind::Back => "back",
            EventKind::Fault(_) => "fault",
            EventKind::LinkDropped(_) => "link-dropped",
            EventKind::UnknownDevice => "unknown-device",
            EventKind::ModeChanged(_) => "mode-changed",
            EventKind::Suppressed { .. } => "suppressed",
        }
    }
}

/// One security event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SecurityEvent {
    /// When.
    pub time: Timestamp,
    /// What.
    pub kind: EventKind,
    /// The port concerned.
    pub port: Option<PortId>,
    /// The id concerned.
    pub id: Option<CanId>,
    /// The route concerned.
    pub route: Option<RouteId>,
}

/// The queue and its rate limits.
#[derive(Clone, Debug)]
pub struct EventQueue {
    queue: VecDeque<SecurityEvent>,
    spec: RateSpec,
    buckets: Vec<Bucket>,
    held_back: Vec<u64>,
    lost: u64,
    suppressed_total: u64,
}

impl EventQueue {
    /// A queue for `ports` ports with the given per-class budget.
    pub fn new(ports: usize, spec: RateSpec) -> Self {
        let cells = ports.max(1) * EventClass::COUNT;
        EventQueue {
            queue: VecDeque::with_capacity(EVENT_QUEUE_CAPACITY),
            spec,
            buckets: vec![Bucket::full(spec); cells],
            held_back: vec![0; cells],
            lost: 0,
            suppressed_total: 0,
        }
    }

    fn enqueue(&mut self, event: SecurityEvent) {
        if self.queue.len() < EVENT_QUEUE_CAPACITY {
            self.queue.push_back(event);
        } else {
            self.lost += 1;
        }
    }

    /// Offers an event; it is queued, held back by its class's budget, or lost
    /// when the queue is full.
    pub fn push(&mut self, event: SecurityEvent) {
        let Some(class) = event.kind.class() else {
            self.enqueue(event);
            return;
        };
        let cell = event.port.map_or(0, |p| p.0 as usize) * EventClass::COUNT + class.index();
        let (Some(bucket), Some(held)) = (self.buckets.get_mut(cell), self.held_back.get_mut(cell)) else {
            self.enqueue(event);
            return;
        };
        if bucket.try_take(self.spec, event.time) {
            let count = std::mem::take(held);
            if count > 0 {
                self.enqueue(SecurityEvent {
                    kind: EventKind::Suppressed { class, count },
                    id: None,
                    route: None,
                    ..event
                });
            }
            self.enqueue(event);
        } else {
            *held += 1;
            self.suppressed_total += 1;
        }
    }

    /// The oldest queued event.
    pub fn pop(&mut self) -> Option<SecurityEvent> {
        self.queue.pop_front()
    }

    /// Events dropped because the queue was full.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Events held back by rate limits so far.
    pub fn suppressed(&self) -> u64 {
        self.suppressed_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drop_event(ms: u64) -> SecurityEvent {
        SecurityEvent {
            time: Timestamp::from_millis(ms),
            kind: EventKind::Dropped(DropReason::NoRoute),
            port: Some(PortId(1)),
            id: None,
            route: None,
        }
    }

    #[test]
    fn floods_are_summarised() {
        let mut q = EventQueue::new(2, RateSpec { per_second: 1.0, burst: 2.0 });
        for _ in 0..10 {
            q.push(drop_event(0));
        }
        assert_eq!(q.suppressed(), 8);
        assert!(q.pop().is_some() && q.pop().is_some() && q.pop().is_none());
        q.push(drop_event(1000));
        assert_eq!(
            q.pop().map(|e| e.kind),
            Some(EventKind::Suppressed { class: EventClass::Drops(Layer::Route), count: 8 })
        );
        assert_eq!(q.pop().map(|e| e.kind), Some(EventKind::Dropped(DropReason::NoRoute)));
        // Other ports and unlimited kinds are not affected.
        q.push(SecurityEvent { port: Some(PortId(0)), ..drop_event(1000) });
        q.push(SecurityEvent { kind: EventKind::Missing, ..drop_event(1000) });
        assert_eq!(q.pop().map(|e| e.port), Some(Some(PortId(0))));
        assert_eq!(q.pop().map(|e| e.kind), Some(EventKind::Missing));
    }

    #[test]
    fn full_queue_counts_losses() {
        let mut q = EventQueue::new(1, RateSpec { per_second: 1.0, burst: 1.0 });
        for _ in 0..EVENT_QUEUE_CAPACITY + 5 {
            q.push(SecurityEvent { kind: EventKind::Missing, ..drop_event(0) });
        }
        assert_eq!(q.lost(), 5);
    }
}
