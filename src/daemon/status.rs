//! What `bulkhead status` shows and what Prometheus scrapes: the mode and its
//! cause, the engine's counters (per reason, route and port), per-port load,
//! the link's counters and peers, the daemon's own counters and the most
//! recent events. Built on request (allocates; never on the frame path).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};

use super::gateway::Gateway;
use super::ports::PortIo;
use crate::engine::verdict::DropReason;

type Labels = Vec<(String, String)>;

impl Gateway {
    /// The status as one JSON object.
    pub fn status_json(&self) -> Value {
        let rules = &self.rules;
        let counters = self.engine.counters();
        let by_reason: serde_json::Map<String, Value> =
            DropReason::ALL.iter().map(|r| (r.name().to_owned(), json!(counters.reason(*r)))).collect();
        let ports: Vec<Value> = rules
            .ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let c = counters.ports.get(i).copied().unwrap_or_default();
                let (binding, state) = match self.ports.get(i) {
                    Some(PortIo::Can(can)) => {
                        (json!({ "interface": can.interface }), if can.socket.is_some() { "up" } else { "down" })
                    }
                    Some(PortIo::Link(link)) => {
                        let listen = link.socket.local_addr().map(|a| a.to_string()).unwrap_or_default();
                        (json!({ "listen": listen }), "up")
                    }
                    _ => (json!({}), "unbound"),
                };
                json!({
                    "name": p.name,
                    "medium": p.medium.name(),
                    "trust": p.trust.name(),
                    "binding": binding,
                    "state": state,
                    "down_reason": self.stats.port_down.get(i).cloned().flatten(),
                    "received": c.received,
                    "dropped": c.dropped,
                    "sent": c.sent,
                    "load_fps": self.load.rate(i),
                    "ingress_overflow": self.stats.ingress_overflow.get(i),
                    "egress_overflow": self.stats.egress_overflow.get(i),
                    "egress_down": self.stats.egress_down.get(i),
                    "egress_unbound": self.stats.egress_unbound.get(i),
                    "write_errors": self.stats.write_errors.get(i),
                    "faults": self.stats.faults.get(i),
                })
            })
            .collect();
        let routes: Vec<Value> = rules
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let c = counters.routes.get(i).copied().unwrap_or_default();
                json!({ "name": r.name, "forwarded": c.forwarded, "dropped": c.dropped })
            })
            .collect();
        let link = self.engine.link_counters();
        let link_drops: serde_json::Map<String, Value> =
            link.iter().map(|(r, n)| (r.name().to_owned(), json!(n))).collect();
        let peers: Vec<Value> = self
            .ports
            .iter()
            .filter_map(|io| match io {
                PortIo::Link(l) => Some(l.peers.iter()),
                _ => None,
            })
            .flatten()
            .map(|p| {
                json!({
                    "device": p.name,
                    "address": p.address.map(|a| a.to_string()),
                    "sending_key": p.sender.as_ref().map(|s| s.key_id().to_string()),
                })
            })
            .collect();
        let (lost, suppressed) = self.engine.events_lost_and_suppressed();
        let mode = self.engine.mode();
        let cause = self
            .mode_change
            .filter(|c| c.to == mode)
            .map(|c| (super::events::cause_name(rules, c.cause), c.time.as_secs_f64()));
        json!({
            "ok": true,
            "gateway": rules.name,
            "pid": std::process::id(),
            "uptime_s": self.uptime_s(),
            "mode": mode.name(),
            "mode_cause": cause.as_ref().map(|c| c.0.clone()),
            "mode_since_s": cause.as_ref().map(|c| c.1),
            "counters": {
                "frames": counters.frames,
                "forwarded": counters.forwarded,
                "dropped": counters.dropped,
                "mode_changes": counters.mode_changes,
                "by_reason": by_reason,
            },
            "ports": ports,
            "routes": routes,
            "link": {
                "accepted_datagrams": link.accepted_datagrams,
                "accepted_frames": link.accepted_frames,
                "dropped": link_drops,
                "sent_datagrams": self.stats.link_sent,
                "no_peer": self.stats.link_no_peer,
                "seal_errors": self.stats.link_seal_errors,
                "withheld_frames": self.stats.link_withheld,
                "peers": peers,
            },
            "reloads": {
                "ok": self.stats.reloads,
                "refused": self.stats.reloads_failed,
                "last_error": self.stats.last_reload_error,
            },
            "state": {
                "directory": self.config.state_directory,
                "freshness_writes": self.stats.freshness_writes,
                "link_mark_writes": self.marks.writes(),
                "failures": self.stats.persist_failures,
            },
            "events": {
                "lost": lost,
                "suppressed": suppressed,
                "recent": self.recent.to_json(),
            },
        })
    }

    /// The metrics in the Prometheus text format.
    pub fn metrics_text(&self) -> Result<String, std::fmt::Error> {
        let mut registry = Registry::with_prefix("bulkhead");
        let counters = self.engine.counters();
        let label = |pairs: &[(&str, &str)]| -> Labels {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };

        let frames = Family::<Labels, Counter>::default();
        registry.register("frames", "Frames decided by the engine, by verdict", frames.clone());
        frames.get_or_create(&label(&[("verdict", "forwarded")])).inc_by(counters.forwarded);
        frames.get_or_create(&label(&[("verdict", "dropped")])).inc_by(counters.dropped);

        let drops = Family::<Labels, Counter>::default();
        registry.register("drops", "Frames dropped, by reason", drops.clone());
        for reason in DropReason::ALL {
            drops.get_or_create(&label(&[("reason", reason.name())])).inc_by(counters.reason(*reason));
        }

        let mode = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        registry.register("mode", "Gateway mode: 0 normal, 1 degraded, 2 isolated", mode.clone());
        mode.set(i64::from(self.engine.mode().code()));

        let port_frames = Family::<Labels, Counter>::default();
        registry.register("port_frames", "Frames per port and direction", port_frames.clone());
        let load = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        registry.register("port_load_fps", "Frames received per second over the last second", load.clone());
        let overflow = Family::<Labels, Counter>::default();
        registry.register("queue_overflow", "Frames dropped because a queue was full", overflow.clone());
        for (i, p) in self.rules.ports.iter().enumerate() {
            let c = counters.ports.get(i).copied().unwrap_or_default();
            for (direction, n) in [("received", c.received), ("dropped", c.dropped), ("sent", c.sent)] {
                port_frames.get_or_create(&label(&[("port", &p.name), ("direction", direction)])).inc_by(n);
            }
            load.get_or_create(&label(&[("port", &p.name)])).set(self.load.rate(i));
            let ingress = self.stats.ingress_overflow.get(i).copied().unwrap_or(0);
            let egress = self.stats.egress_overflow.get(i).copied().unwrap_or(0);
            overflow.get_or_create(&label(&[("port", &p.name), ("queue", "ingress")])).inc_by(ingress);
            overflow.get_or_create(&label(&[("port", &p.name), ("queue", "egress")])).inc_by(egress);
        }

        let routes = Family::<Labels, Counter>::default();
        registry.register("route_frames", "Frames per route and decision", routes.clone());
        for (i, r) in self.rules.routes.iter().enumerate() {
            let c = counters.routes.get(i).copied().unwrap_or_default();
            routes.get_or_create(&label(&[("route", &r.name), ("decision", "forwarded")])).inc_by(c.forwarded);
            routes.get_or_create(&label(&[("route", &r.name), ("decision", "dropped")])).inc_by(c.dropped);
        }

        let link = self.engine.link_counters();
        let datagrams = Family::<Labels, Counter>::default();
        registry.register("link_datagrams", "Link datagrams received, by outcome", datagrams.clone());
        datagrams.get_or_create(&label(&[("outcome", "accepted")])).inc_by(link.accepted_datagrams);
        for (reason, n) in link.iter() {
            datagrams.get_or_create(&label(&[("outcome", reason.name())])).inc_by(n);
        }

        let reloads = Family::<Labels, Counter>::default();
        registry.register("reloads", "Reloads, by outcome", reloads.clone());
        reloads.get_or_create(&label(&[("outcome", "ok")])).inc_by(self.stats.reloads);
        reloads.get_or_create(&label(&[("outcome", "refused")])).inc_by(self.stats.reloads_failed);

        let persist = Counter::<u64>::default();
        registry.register("persist_failures", "State writes that failed", persist.clone());
        persist.inc_by(self.stats.persist_failures);

        let mut out = String::new();
        encode(&mut out, &registry)?;
        Ok(out)
    }
}
