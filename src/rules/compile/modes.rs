//! Mode triggers, mode settings, the gateway status frame and the event budget.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use super::ports::{PortBuild, find_port};
use super::state::{find_message, find_signal};
use super::{Compiler, MAX_TRIGGER_THRESHOLD, ParsedFile};
use crate::codec::SignalIndex;
use crate::e2e::ChecksumAlgorithm;
use crate::engine::bucket::RateSpec;
use crate::engine::modes::{Mode, ModeSettings};
use crate::engine::verdict::{DropReason, Layer};
use crate::rules::compiled::{ChecksumCheck, FaultKind, StatusFrame, Trigger, TriggerKind, Trust};
use crate::rules::source::RuleSource;

/// A trigger being compiled.
pub(crate) struct TriggerBuild {
    pub trigger: Trigger,
}

/// Default security events per second per (port, class).
const DEFAULT_EVENT_RATE: f64 = 20.0;
/// Default burst of security events per (port, class).
const DEFAULT_EVENT_BURST: f64 = 50.0;

pub(crate) fn event_rate(c: &mut Compiler, files: &[ParsedFile]) -> RateSpec {
    let mut spec = RateSpec { per_second: DEFAULT_EVENT_RATE, burst: DEFAULT_EVENT_BURST };
    for f in files {
        let Some(g) = &f.file.gateway else { continue };
        if let Some(r) = &g.event_rate {
            if *r.get_ref() > 0.0 && r.get_ref().is_finite() {
                spec.per_second = *r.get_ref();
            } else {
                c.diags.error(&f.source, &r.span(), "`event_rate` must be a positive number of events per second");
            }
        }
        if let Some(b) = &g.event_burst {
            if *b.get_ref() >= 1.0 && b.get_ref().is_finite() {
                spec.burst = *b.get_ref();
            } else {
                c.diags.error(&f.source, &b.span(), "`event_burst` must be at least 1");
            }
        }
    }
    spec
}

fn millis(c: &mut Compiler, source: &RuleSource, v: &Spanned<f64>, what: &str) -> Option<Duration> {
    let ms = *v.get_ref();
    if ms > 0.0 && ms.is_finite() {
        c.millis(source, &v.span(), ms, what)
    } else {
        c.diags.error(source, &v.span(), format!("`{what}` must be a positive number of milliseconds"));
        None
    }
}

fn threshold(c: &mut Compiler, source: &RuleSource, v: &Spanned<u32>, what: &str) -> Option<u32> {
    let n = *v.get_ref();
    if (1..=MAX_TRIGGER_THRESHOLD).contains(&n) {
        Some(n)
    } else {
        c.diags.error(source, &v.span(), format!("`{what}` must be between 1 and {MAX_TRIGGER_THRESHOLD}"));
        None
    }
}

pub(crate) fn triggers(c: &mut Compiler, files: &[ParsedFile], ports: &[PortBuild]) -> Vec<TriggerBuild> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for f in files {
        let source = &f.source;
        for t in &f.file.trigger {
            if !c.check_unique(&mut seen, "trigger", source, &t.name) {
                continue;
            }
            let port = match &t.port {
                Some(p) => match find_port(c, ports, source, p) {
                    Some(id) => Some(id),
                    None => continue,
                },
                None => None,
            };
            let missing = |c: &mut Compiler, key: &str| {
                c.diags.error(source, &t.kind.span(), format!("a `{}` trigger needs `{key}`", t.kind.get_ref()));
            };
            let kind = match t.kind.get_ref().as_str() {
                "flood" => {
                    let Some(port) = port else {
                        missing(c, "port");
                        continue;
                    };
                    let (Some(frames), Some(window)) = (&t.frames, &t.window_ms) else {
                        missing(c, "frames` and `window_ms");
                        continue;
                    };
                    let (Some(frames), Some(window)) =
                        (threshold(c, source, frames, "frames"), millis(c, source, window, "window_ms"))
                    else {
                        continue;
                    };
                    TriggerKind::Flood { port, frames, window }
                }
                "drops" => {
                    let (Some(count), Some(window)) = (&t.count, &t.window_ms) else {
                        missing(c, "count` and `window_ms");
                        continue;
                    };
                    let (Some(count), Some(window)) =
                        (threshold(c, source, count, "count"), millis(c, source, window, "window_ms"))
                    else {
                        continue;
                    };
                    let layer = match &t.layer {
                        Some(l) => match Layer::from_name(l.get_ref()) {
                            Some(layer) => Some(layer),
                            None => {
                                let names: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
                                c.diags.error(source, &l.span(), format!("unknown layer `{}`", l.get_ref())).help =
                                    Some(format!("layers: {}", names.join(", ")));
                                continue;
                            }
                        },
                        None => None,
                    };
                    let reason = match &t.reason {
                        Some(r) => match DropReason::from_name(r.get_ref()) {
                            Some(reason) => Some(reason),
                            None => {
                                let names: Vec<&str> = DropReason::ALL.iter().map(|r| r.name()).collect();
                                c.diags
                                    .error(source, &r.span(), format!("unknown drop reason `{}`", r.get_ref()))
                                    .help = Some(format!("reasons: {}", names.join(", ")));
                                continue;
                            }
                        },
                        None => None,
                    };
                    if let (Some(layer), Some(reason)) = (layer, reason)
                        && reason.layer() != layer
                    {
                        let span = t.reason.as_ref().map(|r| r.span()).unwrap_or_default();
                        c.diags.error(
                            source,
                            &span,
                            format!(
                                "reason `{reason}` belongs to layer `{}`, not `{}`: this trigger never fires",
                                reason.layer().name(),
                                layer.name()
                            ),
                        );
                        continue;
                    }
                    TriggerKind::Drops { port, layer, reason, count, window }
                }
                "mia" => TriggerKind::Mia,
                "fault" => {
                    let fault = match &t.fault {
                        None => None,
                        Some(name) if name.get_ref() == "any" => None,
                        Some(name) => match FaultKind::from_name(name.get_ref()) {
                            Some(f) => Some(f),
                            None => {
                                let names: Vec<&str> = FaultKind::ALL.iter().map(|f| f.name()).collect();
                                c.diags
                                    .error(source, &name.span(), format!("unknown fault `{}`", name.get_ref()))
                                    .help = Some(format!("faults: {}, any", names.join(", ")));
                                continue;
                            }
                        },
                    };
                    TriggerKind::Fault { fault, port }
                }
                other => {
                    c.diags.error(source, &t.kind.span(), format!("unknown trigger kind `{other}`")).help =
                        Some("kinds: flood, drops, mia, fault".to_owned());
                    continue;
                }
            };
            let enter = match t.enter.get_ref().as_str() {
                "degraded" => Mode::Degraded,
                "isolated" => Mode::Isolated,
                other => {
                    c.diags.error(source, &t.enter.span(), format!("a trigger cannot enter `{other}`")).help =
                        Some("use `degraded` or `isolated`".to_owned());
                    continue;
                }
            };
            let automatic_recovery = match t.recovery.as_ref().map(|r| (r.get_ref().as_str(), r.span())) {
                None => enter == Mode::Degraded,
                Some(("manual", _)) => false,
                Some(("auto", span)) => {
                    if enter == Mode::Isolated {
                        c.diags.error(source, &span, "isolated mode is only left by an authenticated command").help =
                            Some("use `recovery = \"manual\"` or enter `degraded`".to_owned());
                        continue;
                    }
                    true
                }
                Some((other, span)) => {
                    c.diags.error(source, &span, format!("unknown recovery `{other}`")).help =
                        Some("use `auto` or `manual`".to_owned());
                    continue;
                }
            };
            out.push(TriggerBuild {
                trigger: Trigger { name: t.name.get_ref().clone(), kind, enter, automatic_recovery },
            });
        }
    }
    out
}

/// Default quiet time before leaving degraded mode.
const DEFAULT_RECOVERY_QUIET: Duration = Duration::from_secs(2);

pub(crate) fn settings(
    c: &mut Compiler,
    files: &[ParsedFile],
    ports: &[PortBuild],
) -> (ModeSettings, Option<StatusFrame>) {
    let mut settings =
        ModeSettings { recovery_quiet: DEFAULT_RECOVERY_QUIET, escalate_after: 0, escalation_window: Duration::ZERO };
    let mut status = None;
    let mut seen: Option<&RuleSource> = None;
    for f in files {
        let Some(m) = &f.file.modes else { continue };
        if let Some(first) = seen {
            let span = m.recovery_quiet_ms.as_ref().map(|r| r.span()).unwrap_or_default();
            c.diags.error(&f.source, &span, format!("`[modes]` is already given in {}", first.name));
            continue;
        }
        seen = Some(&f.source);
        if let Some(q) = &m.recovery_quiet_ms
            && let Some(d) = millis(c, &f.source, q, "recovery_quiet_ms")
        {
            settings.recovery_quiet = d;
        }
        if let Some(e) = &m.isolate_after {
            if *e.degradations.get_ref() < 2 || *e.degradations.get_ref() > 1000 {
                c.diags.error(&f.source, &e.degradations.span(), "`degradations` must be between 2 and 1000");
            } else if let Some(w) = millis(c, &f.source, &e.window_ms, "window_ms") {
                settings.escalate_after = *e.degradations.get_ref();
                settings.escalation_window = w;
            }
        }
        if let Some(s) = &m.status {
            status = status_frame(c, &f.source, s, ports);
        }
    }
    (settings, status)
}

fn status_frame(
    c: &mut Compiler,
    source: &RuleSource,
    s: &crate::rules::schema::StatusSection,
    ports: &[PortBuild],
) -> Option<StatusFrame> {
    let port = find_port(c, ports, source, &s.port)?;
    if ports[port.0 as usize].port.trust == Trust::Hostile {
        c.diags.error(source, &s.port.span(), "the status frame is announced on a trusted bus, not a hostile one");
        return None;
    }
    let codec = find_message(c, source, ports, port, &s.message)?;
    let signal = |c: &mut Compiler, name: &Option<Spanned<String>>| -> Result<Option<SignalIndex>, ()> {
        match name {
            Some(n) => find_signal(c, source, &codec, n).map(Some).ok_or(()),
            None => Ok(None),
        }
    };
    let mode_signal = find_signal(c, source, &codec, &s.mode_signal)?;
    let cause_signal = signal(c, &s.cause_signal).ok()?;
    let drops_signal = signal(c, &s.drops_signal).ok()?;
    let counter_signal = signal(c, &s.counter_signal).ok()?;
    let checksum = match &s.checksum {
        Some(cs) => {
            let index = find_signal(c, source, &codec, &cs.signal)?;
            let sig = codec.signal(index)?;
            let (first, last) = sig.byte_span();
            let Some(algorithm) = ChecksumAlgorithm::from_name(cs.algorithm.get_ref()) else {
                c.diags.error(
                    source,
                    &cs.algorithm.span(),
                    format!("unknown checksum algorithm `{}`", cs.algorithm.get_ref()),
                );
                return None;
            };
            if sig.size() != 8 || first != last {
                c.diags.error(source, &cs.signal.span(), format!("checksum `{}` must be one whole byte", sig.name()));
                return None;
            }
            Some(ChecksumCheck { byte: first, algorithm, start: 0, end: codec.size() })
        }
        None => None,
    };
    let period = millis(c, source, &s.period_ms, "period_ms")?;
    Some(StatusFrame {
        port,
        codec: Arc::clone(&codec),
        mode_signal,
        cause_signal,
        drops_signal,
        counter_signal,
        checksum,
        period,
    })
}
