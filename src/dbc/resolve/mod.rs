//! The pass after parsing: builds the [`Dbc`] from the statements of a file.
//!
//! It attaches every statement that refers to another object (`CM_`, `BA_`,
//! `BA_REL_`, `VAL_`, `SIG_VALTYPE_`, `SG_MUL_VAL_`, `BO_TX_BU_`,
//! `SIG_GROUP_`) to that object, checks what needs the whole file (duplicates,
//! signal layout, multiplexing, attribute types) and resolves
//! [`Message::format`](crate::dbc::Message::format) and
//! [`Message::cycle_time_ms`](crate::dbc::Message::cycle_time_ms).
//! Each step lives in its own module and documents what it accepts, warns
//! about and refuses.
//!
//! Invariant: resolution is O(size of the file) on average (hash lookups, no
//! nested scans over all messages or signals).

mod attach;
mod attribute_value;
mod attributes;
mod checks;
mod frame;
mod index;
mod multiplexing;

use std::sync::Arc;

use crate::dbc::model::Dbc;
use crate::dbc::parser::collect::Collected;
use crate::dbc::parser::context::Ctx;
use index::{MessageIndex, NameIndex};

/// Builds the model from the statements `collected` from the file in `cx`.
pub(crate) fn resolve(cx: &Ctx<'_>, source: Arc<str>, collected: Collected) -> Dbc {
    let Collected {
        version,
        new_symbols,
        bit_timing,
        nodes,
        value_tables,
        messages,
        left_out_ids,
        environment_variables,
        signal_types,
        signal_groups,
        comments,
        attribute_definitions,
        attribute_defaults,
        attribute_values,
        relation_values,
        value_descriptions,
        value_types,
        multiplex_values,
        transmitters,
        ..
    } = collected;
    let mut dbc = Dbc {
        source,
        version: version.map(|v| v.item).unwrap_or_default(),
        new_symbols,
        bit_timing,
        signal_types,
        ..Dbc::default()
    };
    dbc.nodes = checks::unique_nodes(cx, nodes);
    dbc.value_tables = checks::unique_value_tables(cx, value_tables);
    dbc.environment_variables = checks::unique_environment_variables(cx, environment_variables);
    let (messages, offsets) = checks::messages(cx, messages);
    dbc.messages = messages;

    // References may use the id as written or its canonical form (bit 31 for
    // extended ids); both find the message.
    let written = offsets.iter().enumerate().map(|(i, o)| (o.raw_id, i));
    let canonical = dbc.messages.iter().enumerate().map(|(i, m)| (m.id.to_dbc_raw(), i));
    let mut message_index = MessageIndex::new(written.chain(canonical), left_out_ids);
    let node_index = NameIndex::new(dbc.nodes.iter().map(|n| n.name.as_str()));
    let variable_index = NameIndex::new(dbc.environment_variables.iter().map(|v| v.name.as_str()));

    let definitions = attributes::definitions(cx, &mut dbc, attribute_definitions, attribute_defaults);
    let mut targets = attach::Targets { messages: &mut message_index, nodes: &node_index, variables: &variable_index };
    attach::comments(cx, &mut dbc, &mut targets, comments);
    attach::value_descriptions(cx, &mut dbc, &mut targets, value_descriptions);
    attach::value_types(cx, &mut dbc, &mut targets, value_types);
    attach::multiplex_values(cx, &mut dbc, &mut targets, multiplex_values);
    attach::transmitters(cx, &mut dbc, &mut targets, transmitters);
    attach::signal_groups(cx, &mut dbc, &mut targets, signal_groups);
    attributes::values(cx, &mut dbc, &definitions, &mut message_index, &node_index, &variable_index, attribute_values);
    attributes::relation_values(
        cx,
        &mut dbc,
        &definitions,
        &mut message_index,
        &node_index,
        &variable_index,
        relation_values,
    );

    checks::signal_layout(cx, &dbc.messages, &offsets);
    multiplexing::check(cx, &dbc.messages, &offsets);
    frame::resolve_message_timing_and_format(cx, &mut dbc, &offsets);
    dbc
}
