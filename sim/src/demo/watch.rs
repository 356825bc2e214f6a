//! One line per second of what the gateway is doing, for people watching the
//! demo: `bulkhead status --watch --json | bulkhead-sim watch`.
//!
//! Each input line is the daemon's status (one JSON object, `docs/daemon.md`);
//! each output line gives the mode (and its cause when not normal), per zone
//! the frames forwarded and dropped since the previous status, the link's
//! accepted and refused datagrams, and the security events that are new since
//! the previous status, grouped, the most frequent first.
//!
//! Invariants: a malformed or unexpected status never stops the watch (the
//! line says what is missing); counts are differences of the daemon's
//! counters, so they add up to its totals.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bulkhead::rules::{CompiledRules, Trust};
use serde_json::Value;

/// Event groups shown per line.
const GROUPS: usize = 3;

/// Turns status objects into lines.
pub struct Watcher {
    /// Zone of each port, by port name; zones in rule order.
    zones: Vec<(String, Vec<String>)>,
    previous: Option<Value>,
}

impl Watcher {
    /// A watcher for a gateway running `rules`.
    pub fn new(rules: &CompiledRules) -> Self {
        let mut zones: Vec<(String, Vec<String>)> = Vec::new();
        for port in &rules.ports {
            let zone = rules.zones.get(port.zone).map_or_else(|| port.name.clone(), |z| z.name.clone());
            match zones.iter_mut().find(|(z, _)| *z == zone) {
                Some((_, ports)) => ports.push(port.name.clone()),
                None => zones.push((zone, vec![port.name.clone()])),
            }
        }
        // The vehicle's zones first, then the hostile ones; by name within each.
        zones.sort_by_key(|(zone, _)| {
            let hostile = rules.zones.iter().find(|z| z.name == *zone).is_some_and(|z| z.trust != Trust::Trusted);
            (hostile, zone.clone())
        });
        Watcher { zones, previous: None }
    }

    /// The line for one status (a JSON object as text).
    pub fn line(&mut self, text: &str) -> String {
        let status: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return format!("(not a status: {e})"),
        };
        if status["ok"] != true {
            return format!("(the gateway answered: {})", status["error"].as_str().unwrap_or(text.trim()));
        }
        let line = self.render(&status);
        self.previous = Some(status);
        line
    }

    fn render(&self, status: &Value) -> String {
        let previous = self.previous.as_ref();
        let mut out = String::new();
        let uptime = status["uptime_s"].as_f64().unwrap_or(0.0);
        let mode = status["mode"].as_str().unwrap_or("?");
        let _ = write!(out, "{uptime:>6.1} s  {:<9}", mode.to_uppercase());
        if mode != "normal"
            && let Some(cause) = status["mode_cause"].as_str()
        {
            let _ = write!(out, "({cause}) ");
        }
        for (zone, ports) in &self.zones {
            let (mut forwarded, mut dropped) = (0u64, 0u64);
            for port in ports {
                let now = port_counts(status, port);
                let before = previous.map_or((0, 0), |p| port_counts(p, port));
                forwarded += now.0.saturating_sub(before.0);
                dropped += now.1.saturating_sub(before.1);
            }
            let _ = write!(out, "| {zone} {forwarded} fwd");
            if dropped > 0 {
                let _ = write!(out, " {dropped} DROP");
            }
            out.push(' ');
        }
        let link = |s: &Value| {
            let accepted = s["link"]["accepted_datagrams"].as_u64().unwrap_or(0);
            let refused: u64 =
                s["link"]["dropped"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
            (accepted, refused)
        };
        let (accepted, refused) = link(status);
        let (accepted_before, refused_before) = previous.map_or((0, 0), link);
        let _ = write!(out, "| link {} ok", accepted.saturating_sub(accepted_before));
        let refused = refused.saturating_sub(refused_before);
        if refused > 0 {
            let _ = write!(out, " {refused} REFUSED");
        }
        let groups = new_events(previous, status);
        if !groups.is_empty() {
            let mut sorted: Vec<(&String, &u64)> = groups.iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let shown: Vec<String> = sorted
                .iter()
                .take(GROUPS)
                .map(|(what, n)| if **n > 1 { format!("{what} x{n}") } else { (*what).clone() })
                .collect();
            let _ = write!(out, " | {}", shown.join("; "));
            if sorted.len() > GROUPS {
                let _ = write!(out, "; +{} more", sorted.len() - GROUPS);
            }
        }
        out.trim_end().to_owned()
    }
}

/// (forwarded, dropped) so far on `port`.
fn port_counts(status: &Value, port: &str) -> (u64, u64) {
    let Some(p) = status["ports"].as_array().and_then(|ports| ports.iter().find(|p| p["name"] == port)) else {
        return (0, 0);
    };
    let received = p["received"].as_u64().unwrap_or(0);
    let dropped = p["dropped"].as_u64().unwrap_or(0);
    (received.saturating_sub(dropped), dropped)
}

/// The events of `status` that `previous` did not have, grouped by description.
fn new_events(previous: Option<&Value>, status: &Value) -> BTreeMap<String, u64> {
    let empty = Vec::new();
    let recent = status["events"]["recent"].as_array().unwrap_or(&empty);
    let before = previous.and_then(|p| p["events"]["recent"].as_array()).unwrap_or(&empty);
    let newest_before = before.iter().filter_map(|e| e["time_s"].as_f64()).fold(f64::NEG_INFINITY, f64::max);
    let mut groups = BTreeMap::new();
    for event in recent {
        let t = event["time_s"].as_f64().unwrap_or(f64::NEG_INFINITY);
        let is_new = t > newest_before || (t == newest_before && !before.contains(event));
        if is_new {
            // A `suppressed` event stands for `count` events the rate limit held back.
            let n = if event["event"] == "suppressed" { event["count"].as_u64().unwrap_or(1) } else { 1 };
            *groups.entry(describe(event)).or_insert(0) += n;
        }
    }
    groups
}

/// `dropped too-fast drive 130`, `mode-changed normal -> degraded (trigger x)`, ...
fn describe(event: &Value) -> String {
    let kind = event["event"].as_str().unwrap_or("event");
    let mut text = kind.to_owned();
    match kind {
        "mode-changed" => {
            let _ = write!(
                text,
                " {} -> {} ({})",
                event["from"].as_str().unwrap_or("?"),
                event["to"].as_str().unwrap_or("?"),
                event["cause"].as_str().unwrap_or("?")
            );
            return text;
        }
        "suppressed" => {
            let class = event["class"].as_str().unwrap_or("?");
            let port = event["port"].as_str().unwrap_or("?");
            return format!("held back: {class} events on {port}");
        }
        _ => {}
    }
    for key in ["reason", "fault", "port", "id"] {
        if let Some(v) = event[key].as_str() {
            let _ = write!(text, " {v}");
        }
    }
    if let Some(detail) = event.get("detail").filter(|d| !d.is_null()) {
        let _ = write!(text, " {detail}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(uptime: f64, mode: &str, drive: (u64, u64), ivi: (u64, u64), link: (u64, u64), events: Value) -> String {
        json!({
            "ok": true, "uptime_s": uptime, "mode": mode, "mode_cause": "trigger infotainment-flood",
            "ports": [
                { "name": "drive", "received": drive.0, "dropped": drive.1 },
                { "name": "body", "received": 10, "dropped": 0 },
                { "name": "infotainment", "received": ivi.0, "dropped": ivi.1 },
                { "name": "diag", "received": 0, "dropped": 0 },
            ],
            "link": { "accepted_datagrams": link.0, "dropped": { "replayed": link.1, "revoked_key": 0 } },
            "events": { "recent": events },
        })
        .to_string()
    }

    #[test]
    fn lines_show_differences_per_zone_and_only_new_events() {
        let rules = bulkhead::rules::reference().expect("rules").0;
        let mut w = Watcher::new(&rules);
        let e1 =
            json!({ "time_s": 0.5, "event": "dropped", "reason": "no-route", "port": "infotainment", "id": "150" });
        let first = w.line(&status(1.0, "normal", (100, 0), (2, 1), (2, 0), json!([e1])));
        assert!(first.contains("NORMAL") && !first.contains("trigger"), "{first}");
        assert!(first.contains("| powertrain 100 fwd |") && first.contains("| infotainment 1 fwd 1 DROP"), "{first}");
        assert!(first.contains("dropped no-route infotainment 150"), "{first}");
        let e2 = json!({ "time_s": 1.5, "event": "dropped", "reason": "too-fast", "port": "drive", "id": "130" });
        let e3 = json!({ "time_s": 1.6, "event": "mode-changed", "from": "normal", "to": "degraded", "cause": "trigger drive-injection" });
        let held = |n: u64| json!({ "time_s": 1.7, "event": "suppressed", "class": "route", "count": n, "port": "infotainment" });
        let events = json!([e1, e2.clone(), e2, e3, held(4), held(5)]);
        let second = w.line(&status(2.0, "degraded", (250, 20), (2, 1), (5, 3), events));
        assert!(second.contains("DEGRADED (trigger infotainment-flood)"), "{second}");
        let zones: Vec<usize> = ["| body", "| powertrain", "| diagnostics", "| infotainment"]
            .iter()
            .map(|z| second.find(z).unwrap_or(usize::MAX))
            .collect();
        assert!(zones.windows(2).all(|w| w[0] < w[1]), "vehicle zones first: {second}");
        assert!(second.contains("| powertrain 130 fwd 20 DROP |"), "{second}");
        assert!(second.contains("| infotainment 0 fwd |"), "{second}");
        assert!(second.contains("| link 3 ok 3 REFUSED"), "{second}");
        assert!(second.contains("dropped too-fast drive 130 x2"), "{second}");
        assert!(second.contains("mode-changed normal -> degraded (trigger drive-injection)"), "{second}");
        assert!(!second.contains("no-route"), "an old event shown again: {second}");
        assert!(second.contains("held back: route events on infotainment x9"), "{second}");
    }

    #[test]
    fn nonsense_is_reported_not_fatal() {
        let rules = bulkhead::rules::reference().expect("rules").0;
        let mut w = Watcher::new(&rules);
        assert!(w.line("{oops").starts_with("(not a status"));
        assert_eq!(w.line(r#"{"ok": false, "error": "busy"}"#), "(the gateway answered: busy)");
        let line = w.line(r#"{"ok": true}"#);
        assert!(line.contains("?") && line.contains("powertrain 0 fwd"), "{line}");
    }
}
