//! Consistency of multiplexing within each message, once `SG_MUL_VAL_` has
//! been attached.
//!
//! Simple multiplexing: a signal `mN` is present when the message's one `M`
//! switch holds `N`. Extended multiplexing (`SG_MUL_VAL_`) names the switch
//! explicitly, which is the only way a message can have several switches.
//!
//! Refused (an error), because a decoder could not know when the signal is
//! present: a signal `mN` or `mNM` without `SG_MUL_VAL_` in a message that
//! has no `M` switch, or more than one.
//!
//! Warned about, and read as the `SG_MUL_VAL_` says: ranges on a signal
//! marked `M` or not marked at all (cantools writes cascaded switches as `M`
//! with `SG_MUL_VAL_`), and ranges whose switch is not marked `M` or `mNM`.
//! The model keeps the marker as written; a non-empty
//! [`Signal::extended_multiplexing`](crate::dbc::Signal::extended_multiplexing)
//! always decides when a signal is present.

use std::collections::HashMap;

use super::checks::MessageOffsets;
use crate::dbc::model::{Message, Multiplexing, Signal};
use crate::dbc::notes::Note;
use crate::dbc::parser::context::Ctx;

/// Checks every message.
pub(crate) fn check(cx: &Ctx<'_>, messages: &[Message], offsets: &[MessageOffsets]) {
    for (message, offsets) in messages.iter().zip(offsets) {
        check_message(cx, message, offsets);
    }
}

fn check_message(cx: &Ctx<'_>, message: &Message, offsets: &MessageOffsets) {
    let plain_switches = message.signals.iter().filter(|s| s.multiplexing == Multiplexing::Multiplexor).count();
    // Large messages get a map, so checking every `SG_MUL_VAL_` stays linear.
    let by_name: Option<HashMap<&str, &Signal>> =
        (message.signals.len() > 32).then(|| message.signals.iter().rev().map(|s| (s.name.as_str(), s)).collect());
    for (signal, &at) in message.signals.iter().zip(&offsets.signals) {
        let multiplexed =
            matches!(signal.multiplexing, Multiplexing::Multiplexed(_) | Multiplexing::MultiplexedMultiplexor(_));
        if signal.extended_multiplexing.is_empty() {
            if multiplexed && plain_switches != 1 {
                let why = if plain_switches == 0 { "has no `M` switch" } else { "has several `M` switches" };
                cx.note(
                    Note::error(
                        at,
                        format!("signal `{}` is multiplexed but message `{}` {why}", signal.name, message.name),
                    )
                    .with_help("mark exactly one signal of the message `M`, or name the switch with `SG_MUL_VAL_`"),
                );
            }
            continue;
        }
        if !multiplexed {
            let marked =
                if signal.multiplexing == Multiplexing::Multiplexor { "marked `M`" } else { "not marked `mN`" };
            cx.note(Note::warning(
                at,
                format!(
                    "signal `{}` is {marked} but `SG_MUL_VAL_` makes it present only for some values of `{}`; read that way",
                    signal.name,
                    signal.extended_multiplexing.first().map_or("", |e| e.switch.as_str())
                ),
            ));
        }
        for extended in &signal.extended_multiplexing {
            let switch = match &by_name {
                Some(map) => map.get(extended.switch.as_str()).copied(),
                None => message.signal(&extended.switch),
            };
            let is_switch = switch.is_some_and(|s| {
                matches!(s.multiplexing, Multiplexing::Multiplexor | Multiplexing::MultiplexedMultiplexor(_))
            });
            if !is_switch {
                cx.note(Note::warning(
                    at,
                    format!(
                        "`SG_MUL_VAL_` makes `{}` the switch of `{}`, but it is not marked `M` or `mNM`",
                        extended.switch, signal.name
                    ),
                ));
            }
        }
    }
}
