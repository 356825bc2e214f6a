//! Vehicle state variables: named signals of trusted traffic that conditions read.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::ports::{PortBuild, find_port};
use super::{Compiler, ParsedFile, did_you_mean};
use crate::codec::Lookup;
use crate::codec::{MessageCodec, SignalIndex};
use crate::rules::compiled::{PortId, Trust};
use crate::rules::source::RuleSource;

/// A state variable being compiled.
pub(crate) struct StateBuild {
    pub name: String,
    pub port: PortId,
    pub codec: Arc<MessageCodec>,
    pub signal: SignalIndex,
    pub max_age: Duration,
}

pub(crate) fn state_vars(c: &mut Compiler, files: &[ParsedFile], ports: &[PortBuild]) -> Vec<StateBuild> {
    let mut seen = BTreeMap::new();
    let mut vars = Vec::new();
    for f in files {
        for (name, s) in &f.file.state {
            if !c.check_unique(&mut seen, "state variable", &f.source, name) {
                continue;
            }
            let Some(port) = find_port(c, ports, &f.source, &s.port) else { continue };
            let p = &ports[port.0 as usize].port;
            if p.trust == Trust::Hostile {
                c.diags
                    .error(
                        &f.source,
                        &s.port.span(),
                        format!("state variable `{}` reads the hostile port `{}`", name.get_ref(), p.name),
                    )
                    .help =
                    Some("vehicle state must come from trusted traffic, or an attacker chooses the context".to_owned());
                continue;
            }
            let Some(codec) = find_message(c, &f.source, ports, port, &s.message) else { continue };
            let Some(signal) = find_signal(c, &f.source, &codec, &s.signal) else { continue };
            let age = *s.max_age_ms.get_ref();
            if !(age > 0.0 && age.is_finite()) {
                c.diags.error(
                    &f.source,
                    &s.max_age_ms.span(),
                    "`max_age_ms` must be a positive number of milliseconds",
                );
                continue;
            }
            let Some(max_age) = c.millis(&f.source, &s.max_age_ms.span(), age, "max_age_ms") else { continue };
            vars.push(StateBuild { name: name.get_ref().clone(), port, codec, signal, max_age });
        }
    }
    vars
}

/// The codec of message `name` in the DBCs of `port`, or an error with a suggestion.
pub(crate) fn find_message(
    c: &mut Compiler,
    source: &RuleSource,
    ports: &[PortBuild],
    port: PortId,
    name: &toml::Spanned<String>,
) -> Option<Arc<MessageCodec>> {
    let p = &ports[port.0 as usize].port;
    if let Some((_, codec)) = p.codecs.codecs().find(|(_, m)| m.name() == name.get_ref()) {
        return Some(Arc::new(codec.clone()));
    }
    let invalid = p.codecs.invalid().iter().find(|m| &m.name == name.get_ref());
    let d = match invalid {
        Some(m) => {
            c.diags.error(source, &name.span(), format!("message `{}` cannot be decoded: {}", name.get_ref(), m.error))
        }
        None if p.dbcs.is_empty() => c.diags.error(
            source,
            &name.span(),
            format!("port `{}` has no DBC file to find message `{}` in", p.name, name.get_ref()),
        ),
        None => c.diags.error(
            source,
            &name.span(),
            format!("no DBC file of port `{}` defines a message `{}`", p.name, name.get_ref()),
        ),
    };
    d.help = did_you_mean(name.get_ref(), p.codecs.codecs().map(|(_, m)| m.name()));
    None
}

/// The codec of the message with `id` on `port`, if its DBCs define it.
pub(crate) fn message_by_id(ports: &[PortBuild], port: PortId, id: crate::frame::CanId) -> Option<Arc<MessageCodec>> {
    match ports[port.0 as usize].port.codecs.lookup(id) {
        Lookup::Message(_, codec) => Some(Arc::new(codec.clone())),
        _ => None,
    }
}

/// The index of signal `name` of `codec`, or an error with a suggestion.
pub(crate) fn find_signal(
    c: &mut Compiler,
    source: &RuleSource,
    codec: &MessageCodec,
    name: &toml::Spanned<String>,
) -> Option<SignalIndex> {
    if let Some(i) = codec.signal_index(name.get_ref()) {
        return Some(i);
    }
    let d =
        c.diags.error(source, &name.span(), format!("message `{}` has no signal `{}`", codec.name(), name.get_ref()));
    d.help = did_you_mean(name.get_ref(), codec.signals().iter().map(|s| s.name()));
    None
}
