//! Attaches the statements that refer to other objects: comments (`CM_`),
//! value descriptions (`VAL_`), float types (`SIG_VALTYPE_`), extended
//! multiplexing (`SG_MUL_VAL_`), extra transmitters (`BO_TX_BU_`) and signal
//! groups (`SIG_GROUP_`).
//!
//! A reference to a message, signal, node or variable that does not exist is
//! a warning and the statement is dropped (real files have `VAL_` and
//! `BO_TX_BU_` for messages long deleted). References to messages the parser
//! left out on purpose (the pseudo-message, unusable ids) are dropped quietly.
//! A second comment or `VAL_` for one object replaces the first, with a warning.
//!
//! Refused (errors): `SIG_VALTYPE_` 1 on a signal that is not 32 bits long or
//! 2 on one that is not 64 bits long (the bits could not be read as the float
//! the file claims), and any value type other than 0, 1 or 2.

use std::collections::{HashMap, HashSet};

use super::index::{MessageIndex, MessageLookup, NameIndex};
use crate::dbc::model::SignalGroup;
use crate::dbc::model::{Dbc, ExtendedMultiplexing, ValueType};
use crate::dbc::notes::Note;
use crate::dbc::parser::context::Ctx;
use crate::dbc::parser::statement::{
    Located, MessageRef, ObjectRef, RawComment, RawMultiplexValues, RawSignalGroup, RawTransmitters,
    RawValueDescriptions, RawValueType, ValueTarget,
};

/// The lookups attachments need.
pub(crate) struct Targets<'i> {
    /// Messages and their signals.
    pub messages: &'i mut MessageIndex,
    /// Nodes by name.
    pub nodes: &'i NameIndex,
    /// Environment variables by name.
    pub variables: &'i NameIndex,
}

impl Targets<'_> {
    /// The message `m` refers to, warning when there is none.
    fn message(&self, cx: &Ctx<'_>, m: MessageRef, stmt: &str, what: &str) -> Option<usize> {
        match self.messages.message(m.raw) {
            MessageLookup::Found(i) => Some(i),
            MessageLookup::LeftOut => None,
            MessageLookup::Missing => {
                cx.note(Note::warning(
                    m.offset,
                    format!("`{stmt}` refers to message {}, which no `BO_` defines; {what} ignored", m.raw),
                ));
                None
            }
        }
    }

    /// The signal `name` of the message `m` refers to, warning when there is none.
    fn signal(
        &mut self,
        cx: &Ctx<'_>,
        dbc: &Dbc,
        m: MessageRef,
        name: &Located<String>,
        stmt: &str,
        what: &str,
    ) -> Option<(usize, usize)> {
        let message = self.message(cx, m, stmt, what)?;
        match self.messages.signal(&dbc.messages, message, &name.item) {
            Some(signal) => Some((message, signal)),
            None => {
                let message_name = dbc.messages.get(message).map_or("", |m| m.name.as_str());
                cx.note(Note::warning(
                    name.offset,
                    format!("`{stmt}` refers to signal `{}`, which message {} (`{message_name}`) does not have; {what} ignored", name.item, m.raw),
                ));
                None
            }
        }
    }
}

/// Replaces `slot` with `value`, warning when it was already set.
fn set_once<T>(cx: &Ctx<'_>, at: usize, slot: &mut Option<T>, value: T, what: &str) {
    if slot.is_some() {
        cx.note(Note::warning(at, format!("{what} is given twice; the later one replaces the earlier")));
    }
    *slot = Some(value);
}

/// `CM_` statements.
pub(crate) fn comments(cx: &Ctx<'_>, dbc: &mut Dbc, targets: &mut Targets<'_>, comments: Vec<Located<RawComment>>) {
    for comment in comments {
        let at = comment.offset;
        let RawComment { target, text } = comment.item;
        match target {
            ObjectRef::Network => dbc.comments.push(text),
            ObjectRef::Node(node) => match targets.nodes.get(&node.item).and_then(|i| dbc.nodes.get_mut(i)) {
                Some(n) => set_once(cx, at, &mut n.comment, text, &format!("the comment of node `{}`", node.item)),
                None => cx.note(Note::warning(
                    node.offset,
                    format!(
                        "`CM_ BU_` refers to node `{}`, which `BU_` does not list; the comment is ignored",
                        node.item
                    ),
                )),
            },
            ObjectRef::Message(m) => {
                if let Some(message) =
                    targets.message(cx, m, "CM_ BO_", "the comment is").and_then(|i| dbc.messages.get_mut(i))
                {
                    let what = format!("the comment of message `{}`", message.name);
                    set_once(cx, at, &mut message.comment, text, &what);
                }
            }
            ObjectRef::Signal(m, name) => {
                if let Some((mi, si)) = targets.signal(cx, dbc, m, &name, "CM_ SG_", "the comment is")
                    && let Some(signal) = dbc.messages.get_mut(mi).and_then(|m| m.signals.get_mut(si))
                {
                    let what = format!("the comment of signal `{}`", signal.name);
                    set_once(cx, at, &mut signal.comment, text, &what);
                }
            }
            ObjectRef::EnvironmentVariable(var) => {
                match targets.variables.get(&var.item).and_then(|i| dbc.environment_variables.get_mut(i)) {
                    Some(v) => set_once(cx, at, &mut v.comment, text, &format!("the comment of variable `{}`", var.item)),
                    None => cx.note(Note::warning(
                        var.offset,
                        format!("`CM_ EV_` refers to environment variable `{}`, which no `EV_` defines; the comment is ignored", var.item),
                    )),
                }
            }
        }
    }
}

/// `VAL_` statements.
pub(crate) fn value_descriptions(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    targets: &mut Targets<'_>,
    statements: Vec<Located<RawValueDescriptions>>,
) {
    for statement in statements {
        let at = statement.offset;
        let RawValueDescriptions { target, values } = statement.item;
        match target {
            ValueTarget::Signal(m, name) => {
                let Some((mi, si)) = targets.signal(cx, dbc, m, &name, "VAL_", "its value descriptions are") else {
                    continue;
                };
                if let Some(signal) = dbc.messages.get_mut(mi).and_then(|m| m.signals.get_mut(si)) {
                    if !signal.value_descriptions.is_empty() {
                        cx.note(Note::warning(
                            at,
                            format!(
                                "value descriptions of signal `{}` are given twice; the later replace the earlier",
                                signal.name
                            ),
                        ));
                    }
                    signal.value_descriptions = values;
                }
            }
            ValueTarget::EnvironmentVariable(var) => {
                match targets.variables.get(&var.item).and_then(|i| dbc.environment_variables.get_mut(i)) {
                    Some(v) => {
                        if !v.value_descriptions.is_empty() {
                            cx.note(Note::warning(at, format!("value descriptions of variable `{}` are given twice; the later replace the earlier", v.name)));
                        }
                        v.value_descriptions = values;
                    }
                    None => cx.note(Note::warning(
                        var.offset,
                        format!(
                            "`VAL_` refers to environment variable `{}`, which no `EV_` defines; ignored",
                            var.item
                        ),
                    )),
                }
            }
        }
    }
}

/// `SIG_VALTYPE_` statements.
pub(crate) fn value_types(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    targets: &mut Targets<'_>,
    statements: Vec<Located<RawValueType>>,
) {
    for statement in statements {
        let RawValueType { message, signal, kind } = statement.item;
        let Some((mi, si)) = targets.signal(cx, dbc, message, &signal, "SIG_VALTYPE_", "the value type is") else {
            continue;
        };
        let Some(signal) = dbc.messages.get_mut(mi).and_then(|m| m.signals.get_mut(si)) else { continue };
        let (value_type, bits) = match kind.item {
            0 => continue,
            1 => (ValueType::Float32, 32),
            2 => (ValueType::Float64, 64),
            other => {
                cx.note(
                    Note::error(
                        kind.offset,
                        format!(
                            "value type {other} of signal `{}` is not 0 (integer), 1 (float) or 2 (double)",
                            signal.name
                        ),
                    )
                    .with_label("unknown value type"),
                );
                continue;
            }
        };
        if signal.size != bits {
            cx.note(
                Note::error(
                    kind.offset,
                    format!(
                        "signal `{}` is declared {} by `SIG_VALTYPE_` but is {} bits long; a {} has exactly {bits} bits",
                        signal.name,
                        if bits == 32 { "a float" } else { "a double" },
                        signal.size,
                        if bits == 32 { "float" } else { "double" }
                    ),
                )
                .with_help(format!("make the `SG_` length {bits} or remove the `SIG_VALTYPE_`")),
            );
            continue;
        }
        signal.value_type = value_type;
    }
}

/// `SG_MUL_VAL_` statements.
pub(crate) fn multiplex_values(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    targets: &mut Targets<'_>,
    statements: Vec<Located<RawMultiplexValues>>,
) {
    // (message, signal, switch) -> position in the signal's `extended_multiplexing`.
    let mut positions: HashMap<(usize, usize, usize), usize> = HashMap::new();
    for statement in statements {
        let RawMultiplexValues { message, signal, switch, ranges } = statement.item;
        let Some((mi, si)) = targets.signal(cx, dbc, message, &signal, "SG_MUL_VAL_", "the multiplexing is") else {
            continue;
        };
        let Some((_, wi)) = targets.signal(cx, dbc, message, &switch, "SG_MUL_VAL_", "the multiplexing is") else {
            continue;
        };
        let Some(signal) = dbc.messages.get_mut(mi).and_then(|m| m.signals.get_mut(si)) else { continue };
        let position = positions.get(&(mi, si, wi)).copied();
        match position.and_then(|p| signal.extended_multiplexing.get_mut(p)) {
            Some(existing) => {
                cx.note(Note::warning(
                    statement.offset,
                    format!(
                        "`SG_MUL_VAL_` for signal `{}` and switch `{}` is given twice; the later replaces the earlier",
                        signal.name, switch.item
                    ),
                ));
                existing.ranges = ranges;
            }
            None => {
                positions.insert((mi, si, wi), signal.extended_multiplexing.len());
                signal.extended_multiplexing.push(ExtendedMultiplexing { switch: switch.item, ranges });
            }
        }
    }
}

/// `BO_TX_BU_` statements (each transmitter listed once per message, in file order).
pub(crate) fn transmitters(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    targets: &mut Targets<'_>,
    statements: Vec<Located<RawTransmitters>>,
) {
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    for statement in statements {
        let RawTransmitters { message, nodes } = statement.item;
        let Some(index) = targets.message(cx, message, "BO_TX_BU_", "the transmitters are") else { continue };
        let Some(message) = dbc.messages.get_mut(index) else { continue };
        for node in nodes {
            if node != message.transmitter && seen.insert((index, node.clone())) {
                message.extra_transmitters.push(node);
            }
        }
    }
}

/// `SIG_GROUP_` statements.
pub(crate) fn signal_groups(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    targets: &mut Targets<'_>,
    statements: Vec<Located<RawSignalGroup>>,
) {
    for statement in statements {
        let RawSignalGroup { message, name, repetitions, signals } = statement.item;
        let Some(index) = targets.message(cx, message, "SIG_GROUP_", "the group is") else { continue };
        let Some(message_id) = dbc.messages.get(index).map(|m| m.id) else { continue };
        for member in &signals {
            if targets.messages.signal(&dbc.messages, index, member).is_none() {
                let message_name = dbc.messages.get(index).map_or("", |m| m.name.as_str());
                cx.note(Note::warning(
                    statement.offset,
                    format!("signal group `{name}` lists `{member}`, which message `{message_name}` does not have"),
                ));
            }
        }
        dbc.signal_groups.push(SignalGroup { message_id, name, repetitions, signals });
    }
}
