//! The two message attributes every later layer needs, resolved once:
//! [`Message::format`] from `VFrameFormat` and [`Message::cycle_time_ms`]
//! from `GenMsgCycleTime`.
//!
//! `VFrameFormat` is an ENUM in most files (labels `StandardCAN`,
//! `ExtendedCAN`, `J1939PG`, `StandardCAN_FD`, `ExtendedCAN_FD`, ...), given per
//! message as an index (or a label) or through its `BA_DEF_DEF_` default; some
//! files define it as an INT, whose values then index Vector's standard list.
//! The id has the last word on standard versus extended (the frame on the bus
//! carries it); a disagreement *set on the message* is warned about, one coming
//! from the file-wide default is not (defaults are written for the usual case).
//! A classic format on a message longer than 8 bytes is kept as the file says,
//! with a warning: such files (CSS Electronics' `tp_*.dbc`) describe payloads
//! reassembled by a transport protocol (ISO-TP, J1939 TP) that travel in
//! several classic frames, never in one FD frame.
//! With no usable attribute: extended id -> `ExtendedCan`, else `StandardCan`;
//! size > 8 -> the FD variant.

use super::super::parser::context::Ctx;
use super::checks::MessageOffsets;
use crate::dbc::model::{
    AttributeDefinition, AttributeKind, AttributeScope, AttributeValue, Dbc, FrameFormat, Message,
};
use crate::dbc::notes::Note;

/// Vector's `VFrameFormat` labels by value, for files that define it as an INT.
const STANDARD_LABELS: [&str; 16] = [
    "StandardCAN",
    "ExtendedCAN",
    "reserved",
    "J1939PG",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "StandardCAN_FD",
    "ExtendedCAN_FD",
];

/// Sets `format` and `cycle_time_ms` of every message.
pub(crate) fn resolve_message_timing_and_format(cx: &Ctx<'_>, dbc: &mut Dbc, offsets: &[MessageOffsets]) {
    // Looked up once: `Dbc::attribute_definition` is a linear search.
    let format_definition = dbc.attribute_definition(AttributeScope::Message, "VFrameFormat");
    let cycle_default =
        dbc.attribute_definition(AttributeScope::Message, "GenMsgCycleTime").and_then(|d| d.default.as_ref());
    let mut resolved = Vec::with_capacity(dbc.messages.len());
    for (message, offsets) in dbc.messages.iter().zip(offsets) {
        resolved.push((
            frame_format(cx, format_definition, message, offsets.message),
            cycle_time(cx, cycle_default, message, offsets.message),
        ));
    }
    for (message, (format, cycle)) in dbc.messages.iter_mut().zip(resolved) {
        message.format = format;
        message.cycle_time_ms = cycle;
    }
}

/// The format implied by the id and the length alone.
pub(crate) fn derived_format(message: &Message) -> FrameFormat {
    match (message.id.is_extended(), message.size > 8) {
        (false, false) => FrameFormat::StandardCan,
        (true, false) => FrameFormat::ExtendedCan,
        (false, true) => FrameFormat::StandardCanFd,
        (true, true) => FrameFormat::ExtendedCanFd,
    }
}

fn frame_format(cx: &Ctx<'_>, definition: Option<&AttributeDefinition>, message: &Message, at: usize) -> FrameFormat {
    let derived = derived_format(message);
    let explicit = message.attributes.iter().find(|a| a.name == "VFrameFormat").map(|a| &a.value);
    let Some(value) = explicit.or_else(|| definition.and_then(|d| d.default.as_ref())) else {
        return derived;
    };
    let label = match value {
        AttributeValue::Str(label) => Some(label.as_str()),
        AttributeValue::Int(_) | AttributeValue::Float(_) => {
            let index = value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as usize);
            match definition.map(|d| &d.kind) {
                Some(AttributeKind::Enum(labels)) => index.and_then(|i| labels.get(i)).map(String::as_str),
                _ => index.and_then(|i| STANDARD_LABELS.get(i)).copied(),
            }
        }
    };
    let named = match label {
        Some("StandardCAN") => Some(FrameFormat::StandardCan),
        Some("ExtendedCAN") => Some(FrameFormat::ExtendedCan),
        Some("StandardCAN_FD") => Some(FrameFormat::StandardCanFd),
        Some("ExtendedCAN_FD") => Some(FrameFormat::ExtendedCanFd),
        Some("J1939PG") => Some(FrameFormat::J1939),
        _ => None,
    };
    let Some(named) = named else {
        if explicit.is_some() {
            cx.note(Note::warning(
                at,
                format!(
                    "`VFrameFormat` of message `{}` ({}) is not a frame format this gateway knows; {:?} is used, from its id and length",
                    message.name,
                    label.map_or_else(|| format!("{value:?}"), |l| format!("\"{l}\"")),
                    derived
                ),
            ));
        }
        return derived;
    };
    let fitted = fit_to_id(named, message.id.is_extended());
    if fitted != named && explicit.is_some() {
        cx.note(Note::warning(
            at,
            format!(
                "`VFrameFormat` of message `{}` says {named:?}, which its {} id contradicts; {fitted:?} is used",
                message.name,
                if message.id.is_extended() { "extended" } else { "standard" },
            ),
        ));
    }
    if !fitted.is_fd() && message.size > 8 {
        cx.note(Note::warning(
            at,
            format!(
                "message `{}` is {} bytes long but its `VFrameFormat` is classic CAN ({fitted:?}): it cannot travel in one \
                 frame (a transport-protocol payload?); no single frame will match its length",
                message.name, message.size
            ),
        ));
    }
    fitted
}

/// `format` corrected to agree with the message's id (standard or extended).
fn fit_to_id(format: FrameFormat, extended: bool) -> FrameFormat {
    match (format, extended) {
        (FrameFormat::J1939, true) => FrameFormat::J1939,
        (FrameFormat::StandardCanFd | FrameFormat::ExtendedCanFd, false) => FrameFormat::StandardCanFd,
        (FrameFormat::StandardCanFd | FrameFormat::ExtendedCanFd, true) => FrameFormat::ExtendedCanFd,
        (_, false) => FrameFormat::StandardCan,
        (_, true) => FrameFormat::ExtendedCan,
    }
}

fn cycle_time(cx: &Ctx<'_>, default: Option<&AttributeValue>, message: &Message, at: usize) -> Option<u32> {
    let explicit = message.attributes.iter().find(|a| a.name == "GenMsgCycleTime").map(|a| &a.value);
    let value = explicit.or(default)?;
    match value.as_f64() {
        Some(0.0) => None,
        Some(ms) if ms > 0.0 && ms <= f64::from(u32::MAX) => Some(ms.round() as u32),
        _ => {
            cx.note(Note::warning(
                at,
                format!("`GenMsgCycleTime` of message `{}` is {value:?}, not a number of milliseconds; no cycle time is used", message.name),
            ));
            None
        }
    }
}
