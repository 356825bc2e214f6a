//! Checks that need more than one statement: duplicates (nodes, value
//! tables, environment variables, message ids and names, signal names) and
//! the layout of signals in their message.
//!
//! Decisions (each backed by real files, see the corpus test):
//! - two messages with one id: an error (a frame could not be decoded
//!   unambiguously); the first keeps the id;
//! - two signals with one name in a message: an error (every later reference
//!   by name would be ambiguous); the first is kept;
//! - two messages with one name but different ids: a warning (ids stay
//!   unambiguous; lookups by name find the first);
//! - a signal whose bits run past the message's declared size: a *warning*,
//!   because real files have them (opendbc `vw_pq.dbc` `Lenkhilfe_1`,
//!   `mazda_3_2019.dbc`, `FORD_CADS_64.dbc`, dbcc `ex1.dbc`, cantools'
//!   `bad_message_length.dbc`). The codec must never read or write a bit past
//!   the payload it has: such a signal is absent from a frame too short to hold
//!   it (decoding reports it missing, encoding refuses it).

use std::collections::HashMap;

use super::super::parser::collect::CollectedMessage;
use super::super::parser::context::Ctx;
use super::super::parser::statement::Located;
use crate::dbc::model::{ByteOrder, EnvironmentVariable, Message, Node, Signal, ValueTable};
use crate::dbc::notes::Note;

/// Offsets of a message's tokens, for diagnostics after resolution.
#[derive(Clone, Debug, Default)]
pub(crate) struct MessageOffsets {
    /// The id as written in the `BO_`.
    pub raw_id: u32,
    /// The `BO_` keyword.
    pub message: usize,
    /// Each signal's `SG_` keyword.
    pub signals: Vec<usize>,
}

/// Node names without duplicates (warned about).
pub(crate) fn unique_nodes(cx: &Ctx<'_>, names: Vec<Located<String>>) -> Vec<Node> {
    let mut seen: HashMap<String, ()> = HashMap::with_capacity(names.len());
    let mut nodes = Vec::with_capacity(names.len());
    for name in names {
        if seen.insert(name.item.clone(), ()).is_some() {
            cx.note(Note::warning(name.offset, format!("node `{}` is listed twice in `BU_`", name.item)));
            continue;
        }
        nodes.push(Node { name: name.item, comment: None, attributes: Vec::new() });
    }
    nodes
}

/// Value tables; a second table with a name replaces the first (warned about).
pub(crate) fn unique_value_tables(cx: &Ctx<'_>, tables: Vec<Located<ValueTable>>) -> Vec<ValueTable> {
    let mut by_name: HashMap<String, usize> = HashMap::with_capacity(tables.len());
    let mut out: Vec<ValueTable> = Vec::with_capacity(tables.len());
    for table in tables {
        match by_name.get(&table.item.name).and_then(|&i| out.get_mut(i)) {
            Some(existing) => {
                cx.note(Note::warning(
                    table.offset,
                    format!(
                        "value table `{}` is defined twice; the later definition replaces the earlier",
                        table.item.name
                    ),
                ));
                *existing = table.item;
            }
            None => {
                by_name.insert(table.item.name.clone(), out.len());
                out.push(table.item);
            }
        }
    }
    out
}

/// Environment variables; a second one with a name replaces the first (warned about).
pub(crate) fn unique_environment_variables(
    cx: &Ctx<'_>,
    variables: Vec<Located<EnvironmentVariable>>,
) -> Vec<EnvironmentVariable> {
    let mut by_name: HashMap<String, usize> = HashMap::with_capacity(variables.len());
    let mut out: Vec<EnvironmentVariable> = Vec::with_capacity(variables.len());
    for var in variables {
        match by_name.get(&var.item.name).and_then(|&i| out.get_mut(i)) {
            Some(existing) => {
                cx.note(Note::warning(
                    var.offset,
                    format!(
                        "environment variable `{}` is defined twice; the later definition replaces the earlier",
                        var.item.name
                    ),
                ));
                *existing = var.item;
            }
            None => {
                by_name.insert(var.item.name.clone(), out.len());
                out.push(var.item);
            }
        }
    }
    out
}

/// The model's messages, with duplicate ids and duplicate signal names reported.
pub(crate) fn messages(cx: &Ctx<'_>, collected: Vec<CollectedMessage>) -> (Vec<Message>, Vec<MessageOffsets>) {
    // Duplicates are found on borrowed names first (no copies), then the
    // messages are moved into the model.
    let mut by_id: HashMap<u32, u32> = HashMap::with_capacity(collected.len());
    let mut by_name: HashMap<&str, (u32, u32)> = HashMap::with_capacity(collected.len());
    let mut keep = Vec::with_capacity(collected.len());
    for message in &collected {
        let raw = &message.raw;
        if let Some(&line) = by_id.get(&message.id.to_dbc_raw()) {
            cx.note(
                Note::error(
                    raw.id_offset,
                    format!("message id {} of `{}` is already used on line {line}", raw.raw_id, raw.name),
                )
                .with_label("duplicate id")
                .with_help("every message needs its own id; remove or renumber one of them"),
            );
            keep.push(false);
            continue;
        }
        by_id.insert(message.id.to_dbc_raw(), raw.line);
        keep.push(true);
        if let Some(&(other_id, line)) = by_name.get(raw.name.as_str()) {
            cx.note(Note::warning(
                raw.offset,
                format!(
                    "message name `{}` is also used by message {other_id} on line {line}; lookups by name find that one",
                    raw.name
                ),
            ));
        } else {
            by_name.insert(&raw.name, (raw.raw_id, raw.line));
        }
    }
    drop(by_name);
    let mut messages = Vec::with_capacity(collected.len());
    let mut offsets = Vec::with_capacity(collected.len());
    for (message, keep) in collected.into_iter().zip(keep) {
        if !keep {
            continue;
        }
        let CollectedMessage { raw, id, signals, signal_offsets } = message;
        let (signals, signal_offsets) = unique_signals(cx, &raw.name, signals, signal_offsets);
        offsets.push(MessageOffsets { raw_id: raw.raw_id, message: raw.offset, signals: signal_offsets });
        messages.push(Message {
            id,
            name: raw.name,
            size: raw.size,
            transmitter: raw.transmitter,
            extra_transmitters: Vec::new(),
            signals,
            comment: None,
            attributes: Vec::new(),
            format: crate::dbc::model::FrameFormat::StandardCan,
            cycle_time_ms: None,
            line: raw.line,
        });
    }
    (messages, offsets)
}

/// Messages with at most this many signals are checked for duplicates pairwise.
const PAIRWISE_DUPLICATE_CHECK: usize = 16;

fn unique_signals(cx: &Ctx<'_>, message: &str, signals: Vec<Signal>, offsets: Vec<usize>) -> (Vec<Signal>, Vec<usize>) {
    // The index of the first signal with the same name, for each duplicate.
    let mut first_of: Vec<(usize, usize)> = Vec::new();
    if signals.len() <= PAIRWISE_DUPLICATE_CHECK {
        for (i, signal) in signals.iter().enumerate() {
            if let Some(j) = signals.get(..i).and_then(|before| before.iter().position(|s| s.name == signal.name)) {
                first_of.push((i, j));
            }
        }
    } else {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(signals.len());
        for (i, signal) in signals.iter().enumerate() {
            match seen.get(signal.name.as_str()) {
                Some(&j) => first_of.push((i, j)),
                None => {
                    seen.insert(&signal.name, i);
                }
            }
        }
    }
    if first_of.is_empty() {
        return (signals, offsets);
    }
    for &(i, j) in &first_of {
        let (Some(signal), Some(first), Some(&offset)) = (signals.get(i), signals.get(j), offsets.get(i)) else {
            continue;
        };
        cx.note(
            Note::error(
                offset,
                format!("message `{message}` already has a signal `{}` (line {})", signal.name, first.line),
            )
            .with_help("signal names must be unique within their message"),
        );
    }
    let duplicates: HashMap<usize, ()> = first_of.iter().map(|&(i, _)| (i, ())).collect();
    signals
        .into_iter()
        .zip(offsets)
        .enumerate()
        .filter(|(i, _)| !duplicates.contains_key(i))
        .map(|(_, pair)| pair)
        .unzip()
}

/// The number of payload bytes a signal needs (its last bit's byte + 1).
pub(crate) fn bytes_needed(signal: &Signal) -> u64 {
    let start = u64::from(signal.start_bit);
    let size = u64::from(signal.size.max(1));
    let last = match signal.byte_order {
        ByteOrder::LittleEndian => start + size - 1,
        ByteOrder::BigEndian => (start / 8) * 8 + (7 - start % 8) + size - 1,
    };
    last / 8 + 1
}

/// Warns about signals whose bits run past their message's declared size.
pub(crate) fn signal_layout(cx: &Ctx<'_>, messages: &[Message], offsets: &[MessageOffsets]) {
    for (message, offsets) in messages.iter().zip(offsets) {
        for (signal, &at) in message.signals.iter().zip(&offsets.signals) {
            let needed = bytes_needed(signal);
            if needed > u64::from(message.size) {
                cx.note(
                    Note::warning(
                        at,
                        format!(
                            "signal `{}` (start bit {}, {} bits, {}) needs {needed} bytes but message `{}` declares {}",
                            signal.name,
                            signal.start_bit,
                            signal.size,
                            match signal.byte_order {
                                ByteOrder::LittleEndian => "Intel",
                                ByteOrder::BigEndian => "Motorola",
                            },
                            message.name,
                            message.size
                        ),
                    )
                    .with_help("the codec treats this signal as absent from frames too short to hold it"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::model::ValueType;

    fn signal(start_bit: u32, size: u32, byte_order: ByteOrder) -> Signal {
        Signal { line: 1, ..Signal::new("s", start_bit, size, byte_order, ValueType::Unsigned) }
    }

    #[test]
    fn bytes_needed_for_both_byte_orders() {
        assert_eq!(bytes_needed(&signal(0, 8, ByteOrder::LittleEndian)), 1);
        assert_eq!(bytes_needed(&signal(8, 1, ByteOrder::LittleEndian)), 2);
        assert_eq!(bytes_needed(&signal(7, 8, ByteOrder::BigEndian)), 1);
        assert_eq!(bytes_needed(&signal(7, 16, ByteOrder::BigEndian)), 2);
        assert_eq!(bytes_needed(&signal(0, 1, ByteOrder::BigEndian)), 1);
        assert_eq!(bytes_needed(&signal(0, 2, ByteOrder::BigEndian)), 2);
        assert_eq!(bytes_needed(&signal(55, 30, ByteOrder::BigEndian)), 10);
        assert_eq!(bytes_needed(&signal(u32::MAX, 64, ByteOrder::BigEndian)), 536_870_919);
    }
}
