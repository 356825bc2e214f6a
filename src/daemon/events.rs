//! Security events as JSON: logged through `tracing` (one JSON line each on
//! stderr, collected by journald) and kept, the most recent ones, for
//! `bulkhead status`.
//!
//! The engine already rate-limits per (port, class) and summarises what it
//! held back, so every event it hands out is logged. Rendering needs the
//! rules (port, route and trigger names) and allocates; events are rare by
//! construction, never per forwarded frame.

use std::collections::VecDeque;

use serde_json::{Value, json};

use crate::engine::events::{EventKind, SecurityEvent};
use crate::engine::modes::{ModeCause, ModeChange};
use crate::rules::CompiledRules;

/// How many recent events `status` shows.
pub const RECENT_EVENTS: usize = 32;

/// The name of a mode change's cause.
pub fn cause_name(rules: &CompiledRules, cause: ModeCause) -> String {
    match cause {
        ModeCause::Trigger(t) => rules
            .triggers
            .get(t.0 as usize)
            .map_or_else(|| format!("trigger {}", t.0), |tr| format!("trigger {}", tr.name)),
        ModeCause::Escalation => "escalation".to_owned(),
        ModeCause::Recovered => "recovered".to_owned(),
        ModeCause::Command => "command".to_owned(),
    }
}

/// One event as a JSON object.
pub fn render(rules: &CompiledRules, event: &SecurityEvent) -> Value {
    let mut object = json!({
        "time_s": event.time.as_secs_f64(),
        "event": event.kind.name(),
    });
    let Some(map) = object.as_object_mut() else { return object };
    if let Some(port) = event.port.and_then(|p| rules.port(p)) {
        map.insert("port".into(), json!(port.name));
    }
    if let Some(id) = event.id {
        let text = if id.is_extended() { format!("{:08X}", id.raw()) } else { format!("{:03X}", id.raw()) };
        map.insert("id".into(), json!(text));
    }
    if let Some(route) = event.route.and_then(|r| rules.route(r)) {
        map.insert("route".into(), json!(route.name));
    }
    match event.kind {
        EventKind::Dropped(reason) => {
            map.insert("reason".into(), json!(reason.name()));
        }
        EventKind::Fault(fault) => {
            map.insert("fault".into(), json!(fault.name()));
        }
        EventKind::LinkDropped(reason) => {
            map.insert("reason".into(), json!(reason.name()));
        }
        EventKind::ModeChanged(ModeChange { from, to, cause, .. }) => {
            map.insert("from".into(), json!(from.name()));
            map.insert("to".into(), json!(to.name()));
            map.insert("cause".into(), json!(cause_name(rules, cause)));
        }
        EventKind::Suppressed { class, count } => {
            map.insert("class".into(), json!(class.name()));
            map.insert("count".into(), json!(count));
        }
        _ => {}
    }
    object
}

/// The most recent events, oldest first.
#[derive(Debug, Default)]
pub struct RecentEvents {
    events: VecDeque<Value>,
}

impl RecentEvents {
    /// Keeps `event`, forgetting the oldest beyond [`RECENT_EVENTS`].
    pub fn push(&mut self, event: Value) {
        if self.events.len() == RECENT_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// The events as a JSON array.
    pub fn to_json(&self) -> Value {
        Value::Array(self.events.iter().cloned().collect())
    }
}

/// Logs a daemon event (not from the engine): reloads, faults seen by the
/// shell, state writes. Also kept among the recent events.
pub fn log_daemon(recent: &mut RecentEvents, time_s: f64, event: &str, detail: Value) {
    let value = json!({ "time_s": time_s, "event": event, "detail": detail });
    tracing::warn!(target: "bulkhead::daemon", event = event, detail = %detail, "{event}");
    recent.push(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::verdict::DropReason;
    use crate::frame::CanId;
    use crate::time::Timestamp;

    #[test]
    fn events_render_with_names() {
        let (rules, _) = crate::rules::reference().expect("reference rules");
        let event = SecurityEvent {
            time: Timestamp::from_millis(1500),
            kind: EventKind::Dropped(DropReason::NoRoute),
            port: rules.port_by_name("diag"),
            id: Some(CanId::standard(0x7DF).expect("id")),
            route: None,
        };
        let value = render(&rules, &event);
        assert_eq!(value["event"], "dropped");
        assert_eq!(value["port"], "diag");
        assert_eq!(value["id"], "7DF");
        assert_eq!(value["reason"], "no-route");
        let mut recent = RecentEvents::default();
        for i in 0..40 {
            recent.push(json!(i));
        }
        let list = recent.to_json();
        assert_eq!(list.as_array().map(Vec::len), Some(RECENT_EVENTS));
        assert_eq!(list[0], 8);
    }
}
