//! Devices of the Ethernet link and SecOC-secured ids.
//!
//! A device is known by the name its link keys carry; the rules say which
//! Ethernet port it talks through and, route by route, what it may send. A
//! secured id names its port, its message, the SecOC key (by name: keys live
//! in the key store, never in rule files) and its layout.

use std::collections::BTreeMap;

use super::ports::{PortBuild, find_port};
use super::state::find_message;
use super::{Compiler, ParsedFile};
use crate::diagnostic::Diagnostic;
use crate::rules::compiled::{Device, MAX_DEVICES, Medium, Secured};
use crate::rules::source::RuleSource;

pub(crate) fn devices(c: &mut Compiler, files: &[ParsedFile], ports: &[PortBuild]) -> Vec<Device> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for f in files {
        for (name, d) in &f.file.devices {
            if !c.check_unique(&mut seen, "device", &f.source, name) {
                continue;
            }
            if out.len() == MAX_DEVICES {
                c.diags.error(&f.source, &name.span(), format!("at most {MAX_DEVICES} devices"));
                continue;
            }
            let Some(port) = find_port(c, ports, &f.source, &d.port) else { continue };
            if ports[port.0 as usize].port.medium != Medium::Ethernet {
                c.diags
                    .error(
                        &f.source,
                        &d.port.span(),
                        format!("device `{}` must talk through an Ethernet port", name.get_ref()),
                    )
                    .help = Some(format!(
                    "port `{}` is a CAN bus; devices are the senders of the authenticated link",
                    d.port.get_ref()
                ));
                continue;
            }
            out.push(Device { name: name.get_ref().clone(), port });
        }
    }
    out
}

/// The line of `key = ` inside the text spanned by `span`, for errors about one field.
fn field_offset(source: &RuleSource, span: &std::ops::Range<usize>, field: &str) -> usize {
    let text = source.text.get(span.clone()).unwrap_or("");
    let mut from = 0;
    while let Some(i) = text[from..].find(field) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        let after = text[at + field.len()..].trim_start();
        if before.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == '_')) && after.starts_with('=') {
            return span.start + at;
        }
        from = at + field.len();
    }
    span.start
}

pub(crate) fn secured(c: &mut Compiler, files: &[ParsedFile], ports: &[PortBuild]) -> Vec<Secured> {
    let mut out: Vec<Secured> = Vec::new();
    for f in files {
        let source = &f.source;
        for s in &f.file.secured {
            let Some(port) = find_port(c, ports, source, &s.port) else { continue };
            let Some(codec) = find_message(c, source, ports, port, &s.message) else { continue };
            let send = match s.direction.as_ref().map(|d| (d.get_ref().as_str(), d.span())) {
                None | Some(("receive", _)) => false,
                Some(("send", _)) => true,
                Some((other, span)) => {
                    c.diags.error(source, &span, format!("unknown direction `{other}`")).help =
                        Some("use `receive` (frames arriving on the port are verified) or `send` (the gateway signs what it forwards there)".to_owned());
                    continue;
                }
            };
            if s.key.get_ref().trim().is_empty() {
                c.diags.error(
                    source,
                    &s.key.span(),
                    "the SecOC key needs a name (the key itself lives in the key store)",
                );
                continue;
            }
            let profile = match s.layout.get_ref().build() {
                Ok(p) => p,
                Err(e) => {
                    let at = field_offset(source, &s.layout.span(), e.field());
                    c.diags.push(Diagnostic::error(
                        source.location(at),
                        format!("SecOC layout of `{}`: {e}", codec.name()),
                    ));
                    continue;
                }
            };
            let layout = profile.layout();
            if layout.frame_len() > codec.size() {
                c.diags.error(
                    source,
                    &s.layout.span(),
                    format!(
                        "the SecOC layout needs {} bytes but `{}` is {} bytes long in its DBC",
                        layout.frame_len(),
                        codec.name(),
                        codec.size()
                    ),
                );
                continue;
            }
            let duplicate = out.iter().find(|o| o.id == codec.id() && o.send == send && (o.port == port || !send));
            if let Some(other) = duplicate {
                let why = if other.port == port {
                    "twice on this port".to_owned()
                } else {
                    format!(
                        "for receiving on port `{}` too (an id is verified on one port)",
                        ports[other.port.0 as usize].port.name
                    )
                };
                c.diags.error(source, &s.message.span(), format!("`{}` is secured {why}", codec.name()));
                continue;
            }
            out.push(Secured {
                port,
                id: codec.id(),
                message: codec.name().to_owned(),
                key: s.key.get_ref().clone(),
                send,
                profile,
            });
        }
    }
    out
}
