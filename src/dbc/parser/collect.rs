//! The statements of a file gathered by kind, in file order, ready for the
//! resolution pass. Signals are attached to the `BO_` they follow here.
//!
//! Invariant: an `SG_` belongs to the `BO_` directly before it (other `SG_`
//! lines, blank lines and `//` comment lines may come between); an `SG_`
//! after any other statement is an error, since no message owns it.

use super::context::Ctx;
use super::statement::{
    Located, MessageKind, RawAttributeDefault, RawAttributeDefinition, RawAttributeValue, RawComment,
    RawMultiplexValues, RawRelationValue, RawSignalGroup, RawTransmitters, RawValueDescriptions, RawValueType,
    Statement,
};
use crate::dbc::model::{BitTiming, EnvironmentVariable, Signal, SignalType, ValueTable};
use crate::dbc::notes::Note;
use crate::frame::CanId;

/// A `BO_` with its signals.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CollectedMessage {
    /// The statement as written.
    pub raw: super::statement::RawMessage,
    /// Its identifier.
    pub id: CanId,
    /// Its signals, in file order.
    pub signals: Vec<Signal>,
    /// Offset of each signal's `SG_` keyword (same order as `signals`).
    pub signal_offsets: Vec<usize>,
}

/// Who owns the next `SG_`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum SignalOwner {
    /// No message: an `SG_` here is an error.
    #[default]
    Nobody,
    /// The message at this index.
    Message(usize),
    /// A message left out (pseudo-message or unusable id): its signals are dropped.
    LeftOut,
    /// A `BO_` that failed to parse: its signals are skipped without further errors.
    Broken,
}

/// Everything a file declares, by kind.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// `VERSION`
    pub version: Option<Located<String>>,
    /// `NS_`
    pub new_symbols: Vec<String>,
    /// `BS_`
    pub bit_timing: Option<BitTiming>,
    /// `BU_` names.
    pub nodes: Vec<Located<String>>,
    /// `VAL_TABLE_`
    pub value_tables: Vec<Located<ValueTable>>,
    /// `BO_` + `SG_`
    pub messages: Vec<CollectedMessage>,
    /// DBC ids of the messages left out (pseudo-message, unusable ids):
    /// references to them are dropped silently.
    pub left_out_ids: Vec<u32>,
    /// `EV_`
    pub environment_variables: Vec<Located<EnvironmentVariable>>,
    /// `SGTYPE_`
    pub signal_types: Vec<SignalType>,
    /// `SIG_GROUP_`
    pub signal_groups: Vec<Located<RawSignalGroup>>,
    /// `CM_`
    pub comments: Vec<Located<RawComment>>,
    /// `BA_DEF_`, `BA_DEF_REL_`
    pub attribute_definitions: Vec<Located<RawAttributeDefinition>>,
    /// `BA_DEF_DEF_`, `BA_DEF_DEF_REL_`
    pub attribute_defaults: Vec<Located<RawAttributeDefault>>,
    /// `BA_`
    pub attribute_values: Vec<Located<RawAttributeValue>>,
    /// `BA_REL_`
    pub relation_values: Vec<Located<RawRelationValue>>,
    /// `VAL_`
    pub value_descriptions: Vec<Located<RawValueDescriptions>>,
    /// `SIG_VALTYPE_`
    pub value_types: Vec<Located<RawValueType>>,
    /// `SG_MUL_VAL_`
    pub multiplex_values: Vec<Located<RawMultiplexValues>>,
    /// `BO_TX_BU_`
    pub transmitters: Vec<Located<RawTransmitters>>,
    /// The owner of the next `SG_`.
    owner: SignalOwner,
    /// Line counting state: (offset, 1-based line at that offset; 0 before the first count).
    line_cursor: (usize, u32),
}

impl Collected {
    fn owner(&self) -> SignalOwner {
        self.owner
    }

    fn set_owner(&mut self, owner: SignalOwner) {
        self.owner = owner;
    }

    /// The 1-based line of `offset` (offsets must not decrease between calls,
    /// which keeps line counting linear over the file).
    fn line_at(&mut self, cx: &Ctx<'_>, offset: usize) -> u32 {
        let (from, line) = self.line_cursor;
        // `line == 0` is the default state: nothing counted yet.
        let (from, line) = if offset < from || line == 0 { (0, 1) } else { (from, line) };
        let newlines = cx.source.get(from..offset).unwrap_or_default().iter().filter(|&&b| b == b'\n').count();
        let line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        self.line_cursor = (offset, line);
        line
    }

    /// Notes that the `BO_` at `offset` could not be parsed, so its `SG_` lines
    /// are skipped quietly.
    pub fn message_failed(&mut self) {
        self.set_owner(SignalOwner::Broken);
    }

    /// Notes that a statement other than `BO_` failed (its `SG_` lines, if any,
    /// still belong to the message before).
    pub fn statement_failed(&mut self, was_signal: bool) {
        if !was_signal {
            self.set_owner(SignalOwner::Nobody);
        }
    }

    /// Adds the signal whose `SG_` is at `at` to the message it follows.
    pub fn add_signal(&mut self, cx: &Ctx<'_>, at: usize, mut signal: Signal) {
        match self.owner() {
            SignalOwner::Message(index) => {
                signal.line = self.line_at(cx, at);
                if let Some(message) = self.messages.get_mut(index) {
                    message.signals.push(signal);
                    message.signal_offsets.push(at);
                }
            }
            SignalOwner::LeftOut | SignalOwner::Broken => {}
            SignalOwner::Nobody => cx.note(
                Note::error(at, format!("signal `{}` is outside any message", signal.name))
                    .with_label("this `SG_` does not follow a `BO_`")
                    .with_help("move the `SG_` line under its `BO_` line (only other `SG_` lines may come between)"),
            ),
        }
    }

    /// Adds one parsed statement (not `SG_`) that started at `offset`.
    pub fn add(&mut self, cx: &Ctx<'_>, offset: usize, statement: Statement) {
        self.set_owner(SignalOwner::Nobody);
        match statement {
            Statement::Version(v) => {
                if self.version.is_some() {
                    cx.note(Note::warning(offset, "second `VERSION`; it replaces the first"));
                }
                self.version = Some(Located::new(offset, v));
            }
            Statement::NewSymbols(symbols) => self.new_symbols.extend(symbols),
            Statement::BitTiming(timing) => self.bit_timing = timing.or(self.bit_timing),
            Statement::Nodes(nodes) => self.nodes.extend(nodes),
            Statement::ValueTable(t) => self.value_tables.push(t),
            Statement::Message(mut raw) => {
                raw.line = self.line_at(cx, offset);
                match raw.kind {
                    MessageKind::Frame(id) => {
                        self.messages.push(CollectedMessage {
                            raw,
                            id,
                            signals: Vec::new(),
                            signal_offsets: Vec::new(),
                        });
                        self.set_owner(SignalOwner::Message(self.messages.len() - 1));
                    }
                    MessageKind::Pseudo | MessageKind::Unusable => {
                        self.left_out_ids.push(raw.raw_id);
                        self.set_owner(SignalOwner::LeftOut);
                    }
                }
            }
            Statement::EnvironmentVariable(v) => self.environment_variables.push(*v),
            Statement::SignalType(t) => self.signal_types.push(*t),
            Statement::SignalGroup(g) => self.signal_groups.push(g),
            Statement::Comment(c) => self.comments.push(c),
            Statement::AttributeDefinition(d) => self.attribute_definitions.push(d),
            Statement::AttributeDefault(d) => self.attribute_defaults.push(d),
            Statement::AttributeValue(v) => self.attribute_values.push(*v),
            Statement::RelationValue(v) => self.relation_values.push(*v),
            Statement::ValueDescriptions(v) => self.value_descriptions.push(v),
            Statement::ValueType(v) => self.value_types.push(v),
            Statement::MultiplexValues(m) => self.multiplex_values.push(m),
            Statement::Transmitters(t) => self.transmitters.push(t),
            Statement::Skipped => {}
        }
    }
}
