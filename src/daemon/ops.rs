//! The gateway's periodic and operator-driven work: the timer tick (engine
//! timer, status frames, events, persistence, egress retries, reopening
//! ports, load), reloads, and management commands.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use super::control::Request;
use super::events;
use super::gateway::Gateway;
use super::load::{self, LoadError};
use super::ports::{self, PortIo};
use crate::engine::events::EventKind;
use crate::keys::KeyStore;
use crate::rules::PortId;

/// What a management command answers.
#[derive(Debug)]
pub enum Reply {
    /// A JSON object.
    Json(Value),
    /// Prometheus text.
    Text(String),
}

impl Gateway {
    /// Every [`crate::engine::TIMER_TICK`].
    pub fn on_tick(&mut self) {
        let now = self.now();
        self.engine.on_timer(now);
        self.drain_engine();
        self.flush_egress();
        self.check_ports();
        let received: Vec<u64> = self.engine.counters().ports.iter().map(|p| p.received).collect();
        self.load.sample(Instant::now(), received.into_iter());
        self.update_batching();
        if let Some(recorder) = &mut self.recorder
            && let Err(error) = recorder.flush()
        {
            tracing::error!(target: "bulkhead::daemon", error = %error, "ingress capture failed; recording stopped");
            self.recorder = None;
        }
    }

    /// Sends the engine's status frames, logs its events, persists what it asks.
    pub fn drain_engine(&mut self) {
        while let Some((port, frame)) = self.engine.poll_transmit() {
            self.send(port, &frame);
        }
        while let Some(event) = self.engine.poll_event() {
            if let EventKind::ModeChanged(change) = event.kind {
                self.mode_change = Some(change);
            }
            let value = events::render(&self.rules, &event);
            tracing::warn!(target: "bulkhead::event", event = %value, "{}", event.kind.name());
            self.recent.push(value);
        }
        self.persist_secoc();
    }

    /// Reloads keys and rules; on any error the running rules stay. Returns
    /// the outcome as JSON.
    pub fn reload(&mut self) -> Value {
        let started = Instant::now();
        match self.try_reload() {
            Ok(summary) => {
                self.stats.reloads += 1;
                self.log("reload", summary.clone());
                tracing::info!(target: "bulkhead::daemon", took_ms = started.elapsed().as_millis() as u64, "reloaded");
                json!({ "ok": true, "reload": summary })
            }
            Err(error) => {
                self.stats.reloads_failed += 1;
                let message = error.to_string();
                self.stats.last_reload_error = Some(message.clone());
                self.log("reload-refused", json!({ "error": message }));
                // Revocations read despite the failure still take effect at once.
                if let Some(store) = &self.store {
                    self.engine.install_keys(store as &dyn KeyStore);
                }
                json!({ "ok": false, "error": format!("reload refused, the running rules stay: {message}") })
            }
        }
    }

    fn try_reload(&mut self) -> Result<Value, LoadError> {
        if let Some(store) = &mut self.store {
            store.reload()?;
        } else {
            self.store = load::load_keys(&self.config)?;
        }
        let loaded = load::load_rules(&self.config, self.store.as_ref(), &mut self.last_bundle)?;
        load::check_same_ports(&self.rules, &loaded.rules)?;
        self.engine
            .reload(Arc::clone(&loaded.rules))
            .map_err(|e| LoadError::PortsChanged(format!("SecOC configuration refused: {e}")))?;
        let report = self.store.as_ref().map(|s| self.engine.install_keys(s as &dyn KeyStore));
        self.rules_changed();
        self.load.reset(self.rules.ports.len());
        // Kernel filters and link senders follow the new rules and keys.
        let rules = Arc::clone(&self.rules);
        let marks = self.marks.marks().clone();
        let send_mark = |key| marks.get(super::marks::MarkKind::Send, key);
        for (index, io) in self.ports.iter_mut().enumerate() {
            let id = PortId(index as u8);
            match io {
                PortIo::Can(can) => {
                    let filters = rules.port(id).and_then(super::can_io::receive_filters);
                    if filters != can.filters {
                        can.filters = filters;
                        if let Some(socket) = &can.socket
                            && super::can_io::apply_filters(socket, can.filters.as_deref()).is_err()
                        {
                            // Reopened with the new filters by `check_ports`.
                            can.socket = None;
                        }
                    }
                }
                PortIo::Link(link) => {
                    let previous = std::mem::take(&mut link.peers);
                    let store = self.store.as_ref().map(|s| s as &dyn KeyStore);
                    link.peers = ports::build_peers(&rules, id, store, &send_mark, previous);
                }
                PortIo::Unbound => {}
            }
        }
        self.check_ports();
        Ok(json!({
            "rules": rules.name,
            "warnings": loaded.warnings,
            "bundle_signer": loaded.bundle.as_ref().map(|b| b.0.clone()),
            "bundle_manifest_sha256": loaded.bundle.as_ref().map(|b| b.1.clone()),
            "link_keys": report.as_ref().map(|r| r.link_keys),
            "revoked_link_keys": report.as_ref().map(|r| r.revoked),
            "missing_secoc_keys": report.as_ref().map(|r| r.missing_secoc.clone()),
        }))
    }

    /// Answers one management request.
    pub fn command(&mut self, request: &Request) -> Reply {
        match request.command.as_str() {
            "status" => Reply::Json(self.status_json()),
            "metrics" => match self.metrics_text() {
                Ok(text) => Reply::Text(text),
                Err(_) => Reply::Json(json!({ "ok": false, "error": "metrics could not be rendered" })),
            },
            "reload" => Reply::Json(self.reload()),
            "challenge" => match self.challenges.issue(Instant::now()) {
                Ok(nonce) => Reply::Json(json!({ "ok": true, "nonce": super::control::hex(&nonce) })),
                Err(e) => Reply::Json(json!({ "ok": false, "error": format!("no random nonce: {e}") })),
            },
            "reset-mode" => {
                let trusted = self.store.as_ref().map(|s| s.bundle_verifying_keys());
                match self.challenges.verify(Instant::now(), request, trusted) {
                    Ok(fingerprint) => {
                        let before = self.engine.mode();
                        self.engine.reset_mode(self.now());
                        self.drain_engine();
                        let detail =
                            json!({ "from": before.name(), "to": self.engine.mode().name(), "key": fingerprint });
                        self.log("reset-mode", detail);
                        Reply::Json(
                            json!({ "ok": true, "mode": self.engine.mode().name(), "authorized_by": fingerprint }),
                        )
                    }
                    Err(error) => {
                        let detail = json!({ "error": error.to_string() });
                        self.log("reset-mode-refused", detail);
                        Reply::Json(json!({ "ok": false, "error": error.to_string() }))
                    }
                }
            }
            other => Reply::Json(json!({
                "ok": false,
                "error": format!("unknown command `{other}` (status, metrics, reload, challenge, reset-mode)"),
            })),
        }
    }
}
