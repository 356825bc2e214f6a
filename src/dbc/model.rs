//! The in-memory form of a DBC file: what the parser produces and what the
//! codec, the rule compiler and the reports read.
//!
//! Invariants (established by the parser, relied on by every reader):
//! - `Dbc::messages` keeps the file's order; no two messages share a [`CanId`]
//!   (a duplicate is an error of the parser);
//! - a signal has `1..=64` bits, a float32 signal exactly 32 and a float64
//!   signal exactly 64;
//! - a signal's bits may run past the message's declared `size`: real files
//!   have such signals (opendbc `vw_pq.dbc`, `mazda_3_2019.dbc`,
//!   `FORD_CADS_64.dbc`, dbcc `ex1.dbc`), so the parser keeps them with a
//!   warning instead of refusing the file. Readers must never read or write a
//!   bit past the payload they have: such a signal is absent from any frame
//!   too short to hold it (decoding reports it missing, encoding refuses it);
//! - `messages` holds only frames: the pseudo-message
//!   `VECTOR__INDEPENDENT_SIG_MSG` (id `0xC0000000`, signals sent in no frame)
//!   and messages whose id no CAN frame can carry are left out, with a warning;
//! - `factor` is finite and non-zero is *not* promised: DBC files in the wild use
//!   factor 0; the codec treats it as "physical = offset";
//! - names are the file's identifiers (ASCII); free text (comments, units,
//!   value descriptions) is decoded from UTF-8 or, failing that, Windows-1252;
//! - attribute values have been checked against their `BA_DEF_` where one exists.
//!
//! Attribute defaults (`BA_DEF_DEF_`) are resolved on demand by
//! [`Dbc::message_attribute`] and friends, and the two attributes later layers
//! need all the time are resolved once into [`Message::cycle_time_ms`] and
//! [`Message::format`].

use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::frame::CanId;

/// A parsed DBC file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dbc {
    /// The name the file was loaded under (used in diagnostics).
    pub source: Arc<str>,
    /// The `VERSION` string (empty if absent).
    pub version: String,
    /// The `NS_` symbol list, as written.
    pub new_symbols: Vec<String>,
    /// The `BS_` bit timing, if one was given with values.
    pub bit_timing: Option<BitTiming>,
    /// The nodes (`BU_`), in file order.
    pub nodes: Vec<Node>,
    /// Named value tables (`VAL_TABLE_`).
    pub value_tables: Vec<ValueTable>,
    /// The messages (`BO_`), in file order, ids unique.
    pub messages: Vec<Message>,
    /// Environment variables (`EV_`).
    pub environment_variables: Vec<EnvironmentVariable>,
    /// Signal types (`SGTYPE_`).
    pub signal_types: Vec<SignalType>,
    /// Signal groups (`SIG_GROUP_`).
    pub signal_groups: Vec<SignalGroup>,
    /// Attribute definitions (`BA_DEF_`, `BA_DEF_REL_`), with their defaults (`BA_DEF_DEF_`, `BA_DEF_DEF_REL_`).
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// Network-level attribute values (`BA_ "name" value;`).
    pub attributes: Vec<Attribute>,
    /// Relation attribute values (`BA_REL_`).
    pub relation_attributes: Vec<RelationAttribute>,
    /// Network comments (`CM_ "..."`), in file order.
    pub comments: Vec<String>,
    /// Everything the parser accepted but a person should know about.
    pub warnings: Vec<Diagnostic>,
}

/// `BS_: baudrate : BTR1 , BTR2 ;`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BitTiming {
    /// Baud rate (obsolete, usually 0).
    pub baudrate: u64,
    /// Bit timing register 1.
    pub btr1: u64,
    /// Bit timing register 2.
    pub btr2: u64,
}

/// A node (`BU_`): an ECU on the network.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// The node's name.
    pub name: String,
    /// Its comment (`CM_ BU_`).
    pub comment: Option<String>,
    /// Its attribute values (`BA_ "x" BU_ name v;`).
    pub attributes: Vec<Attribute>,
}

/// A named value table (`VAL_TABLE_ name 0 "Off" 1 "On";`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValueTable {
    /// The table's name.
    pub name: String,
    /// Raw value to description, in file order.
    pub values: Vec<ValueDescription>,
}

/// One raw value and its text.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueDescription {
    /// The raw (unscaled) value; may be negative.
    pub value: i64,
    /// Its description.
    pub description: String,
}

/// How the frame of a message goes on the wire (`VFrameFormat`, or derived
/// from the id and the length when the file does not say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameFormat {
    /// Classic CAN, 11-bit id.
    StandardCan,
    /// Classic CAN, 29-bit id.
    ExtendedCan,
    /// CAN FD, 11-bit id.
    StandardCanFd,
    /// CAN FD, 29-bit id.
    ExtendedCanFd,
    /// J1939 parameter group (29-bit id, classic CAN).
    J1939,
}

impl FrameFormat {
    /// True for the CAN FD formats.
    pub const fn is_fd(self) -> bool {
        matches!(self, FrameFormat::StandardCanFd | FrameFormat::ExtendedCanFd)
    }
}

/// A message (`BO_`).
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The identifier (extended when bit 31 of the DBC id was set, or when the
    /// id did not fit in 11 bits, which the parser reports as a warning).
    pub id: CanId,
    /// The message name.
    pub name: String,
    /// The declared length in bytes (0..=64).
    pub size: u32,
    /// The transmitting node (`Vector__XXX` when none).
    pub transmitter: String,
    /// Further transmitters (`BO_TX_BU_`).
    pub extra_transmitters: Vec<String>,
    /// The signals, in file order.
    pub signals: Vec<Signal>,
    /// Its comment (`CM_ BO_`).
    pub comment: Option<String>,
    /// Its attribute values (`BA_ "x" BO_ id v;`).
    pub attributes: Vec<Attribute>,
    /// Frame format, resolved from `VFrameFormat`, the id and the length.
    pub format: FrameFormat,
    /// Cycle time in milliseconds from `GenMsgCycleTime` (or its default),
    /// `None` when absent or 0.
    pub cycle_time_ms: Option<u32>,
    /// The 1-based line of the `BO_` in the file.
    pub line: u32,
}

impl Message {
    /// The signal called `name`.
    pub fn signal(&self, name: &str) -> Option<&Signal> {
        self.signals.iter().find(|s| s.name == name)
    }

    /// The simple multiplexer switch (the signal marked `M`), if any.
    pub fn multiplexor(&self) -> Option<&Signal> {
        self.signals.iter().find(|s| matches!(s.multiplexing, Multiplexing::Multiplexor))
    }
}

/// Byte order of a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Intel (`@1`): the start bit is the least significant bit.
    LittleEndian,
    /// Motorola (`@0`): the start bit is the most significant bit, in the DBC's
    /// "sawtooth" numbering (bit 7 of byte 0 is bit 7, bit 0 of byte 1 is bit 8).
    BigEndian,
}

/// How the raw bits of a signal are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// Unsigned integer (`+`).
    Unsigned,
    /// Two's complement signed integer (`-`).
    Signed,
    /// IEEE 754 single precision (`SIG_VALTYPE_ ... 1`), exactly 32 bits.
    Float32,
    /// IEEE 754 double precision (`SIG_VALTYPE_ ... 2`), exactly 64 bits.
    Float64,
}

/// A signal's role in multiplexing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Multiplexing {
    /// Always present.
    Plain,
    /// `M`: the multiplexer switch of the message.
    Multiplexor,
    /// `mN`: present when the switch holds `N`.
    Multiplexed(u64),
    /// `mNM`: present when its switch holds `N`, and itself a switch for others
    /// (extended multiplexing).
    MultiplexedMultiplexor(u64),
}

/// One `SG_MUL_VAL_` entry: the signal is present when `switch` holds a value in
/// one of `ranges` (inclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedMultiplexing {
    /// The name of the switch signal in the same message.
    pub switch: String,
    /// Inclusive ranges of switch values.
    pub ranges: Vec<(u64, u64)>,
}

/// A signal (`SG_`).
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// The signal name.
    pub name: String,
    /// The start bit as written in the file (see [`ByteOrder`]).
    pub start_bit: u32,
    /// Length in bits (1..=64).
    pub size: u32,
    /// Intel or Motorola.
    pub byte_order: ByteOrder,
    /// Unsigned, signed or float.
    pub value_type: ValueType,
    /// physical = raw * factor + offset.
    pub factor: f64,
    /// physical = raw * factor + offset.
    pub offset: f64,
    /// Minimum physical value as declared (`[min|max]`).
    pub min: f64,
    /// Maximum physical value as declared; `min == max == 0` conventionally
    /// means "no range given".
    pub max: f64,
    /// The unit text.
    pub unit: String,
    /// Receiving nodes.
    pub receivers: Vec<String>,
    /// Simple multiplexing role.
    pub multiplexing: Multiplexing,
    /// Extended multiplexing conditions (`SG_MUL_VAL_`); when non-empty they
    /// replace the simple `mN` condition (whatever `multiplexing` says: files
    /// written by cantools mark cascaded switches `M` and give their condition here).
    pub extended_multiplexing: Vec<ExtendedMultiplexing>,
    /// Value descriptions (`VAL_`), raw value to text.
    pub value_descriptions: Vec<ValueDescription>,
    /// Its comment (`CM_ SG_`).
    pub comment: Option<String>,
    /// Its attribute values (`BA_ "x" SG_ id name v;`).
    pub attributes: Vec<Attribute>,
    /// The 1-based line of the `SG_` in the file.
    pub line: u32,
}

impl Signal {
    /// A signal with factor 1, offset 0, no range, unit, receivers,
    /// multiplexing, value descriptions, comment or attributes (for code that
    /// builds models: tests, tools, generated rules).
    pub fn new(name: &str, start_bit: u32, size: u32, byte_order: ByteOrder, value_type: ValueType) -> Self {
        Signal {
            name: name.to_owned(),
            start_bit,
            size,
            byte_order,
            value_type,
            factor: 1.0,
            offset: 0.0,
            min: 0.0,
            max: 0.0,
            unit: String::new(),
            receivers: Vec::new(),
            multiplexing: Multiplexing::Plain,
            extended_multiplexing: Vec::new(),
            value_descriptions: Vec::new(),
            comment: None,
            attributes: Vec::new(),
            line: 0,
        }
    }

    /// True when the declared range is meaningful (not the `[0|0]` convention).
    pub fn has_range(&self) -> bool {
        !(self.min == 0.0 && self.max == 0.0)
    }

    /// The description of raw value `raw`, if the signal has one.
    pub fn describe(&self, raw: i64) -> Option<&str> {
        self.value_descriptions.iter().find(|v| v.value == raw).map(|v| v.description.as_str())
    }
}

/// An environment variable (`EV_`).
#[derive(Clone, Debug, PartialEq)]
pub struct EnvironmentVariable {
    /// Its name.
    pub name: String,
    /// 0 integer, 1 float, 2 string (as written).
    pub var_type: u32,
    /// Minimum value.
    pub min: f64,
    /// Maximum value.
    pub max: f64,
    /// Unit text.
    pub unit: String,
    /// Initial value.
    pub initial: f64,
    /// Its id.
    pub id: u64,
    /// The access type token as written (`DUMMY_NODE_VECTOR0`, ...).
    pub access_type: String,
    /// Nodes with access.
    pub access_nodes: Vec<String>,
    /// Its comment (`CM_ EV_`).
    pub comment: Option<String>,
    /// Value descriptions (`VAL_ name ...;`).
    pub value_descriptions: Vec<ValueDescription>,
    /// Its attribute values.
    pub attributes: Vec<Attribute>,
}

/// A signal type (`SGTYPE_`), rarely used, kept for completeness.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalType {
    /// Its name.
    pub name: String,
    /// Length in bits.
    pub size: u32,
    /// Intel or Motorola.
    pub byte_order: ByteOrder,
    /// Signed or unsigned.
    pub value_type: ValueType,
    /// Factor.
    pub factor: f64,
    /// Offset.
    pub offset: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    /// Unit.
    pub unit: String,
    /// Default value.
    pub default: f64,
    /// Name of its value table.
    pub value_table: String,
}

/// A signal group (`SIG_GROUP_ id name repetitions : signals ;`).
#[derive(Clone, Debug, PartialEq)]
pub struct SignalGroup {
    /// The message it belongs to.
    pub message_id: CanId,
    /// Its name.
    pub name: String,
    /// Repetitions.
    pub repetitions: u32,
    /// Member signal names.
    pub signals: Vec<String>,
}

/// The object kind an attribute applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttributeScope {
    /// The network (no object keyword).
    Network,
    /// `BU_`
    Node,
    /// `BO_`
    Message,
    /// `SG_`
    Signal,
    /// `EV_`
    EnvironmentVariable,
    /// `BU_EV_REL_`
    NodeEnvironmentVariable,
    /// `BU_BO_REL_`
    NodeMessage,
    /// `BU_SG_REL_`
    NodeSignal,
}

/// The value type of an attribute definition.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeKind {
    /// `INT min max`
    Int {
        /// Minimum.
        min: i64,
        /// Maximum.
        max: i64,
    },
    /// `HEX min max`
    Hex {
        /// Minimum.
        min: i64,
        /// Maximum.
        max: i64,
    },
    /// `FLOAT min max`
    Float {
        /// Minimum.
        min: f64,
        /// Maximum.
        max: f64,
    },
    /// `STRING`
    String,
    /// `ENUM "a","b",...`
    Enum(Vec<String>),
}

/// An attribute value as written.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// An integer (INT, HEX, or an ENUM index).
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (STRING, or an ENUM given by its label).
    Str(String),
}

impl AttributeValue {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttributeValue::Int(i) => Some(*i as f64),
            AttributeValue::Float(f) => Some(*f),
            AttributeValue::Str(s) => s.trim().parse().ok(),
        }
    }
}

/// An attribute definition with its default.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeDefinition {
    /// What it applies to.
    pub scope: AttributeScope,
    /// Its name.
    pub name: String,
    /// Its value type.
    pub kind: AttributeKind,
    /// Its default (`BA_DEF_DEF_`), if given.
    pub default: Option<AttributeValue>,
}

impl AttributeDefinition {
    /// For an ENUM attribute, the label of an integer value; otherwise `None`.
    pub fn enum_label(&self, value: &AttributeValue) -> Option<&str> {
        match (&self.kind, value) {
            (AttributeKind::Enum(labels), AttributeValue::Int(i)) => {
                usize::try_from(*i).ok().and_then(|i| labels.get(i)).map(String::as_str)
            }
            (AttributeKind::Enum(labels), AttributeValue::Str(s)) => {
                labels.iter().find(|l| *l == s).map(String::as_str)
            }
            _ => None,
        }
    }
}

/// An attribute value on an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// The attribute's name.
    pub name: String,
    /// Its value.
    pub value: AttributeValue,
}

/// A relation attribute value (`BA_REL_`).
#[derive(Clone, Debug, PartialEq)]
pub struct RelationAttribute {
    /// The attribute's name.
    pub name: String,
    /// The relation kind (`NodeMessage`, `NodeSignal` or `NodeEnvironmentVariable`).
    pub scope: AttributeScope,
    /// The node.
    pub node: String,
    /// The message id (for node-message and node-signal relations).
    pub message_id: Option<CanId>,
    /// The signal or environment variable name, when the relation has one.
    pub object: Option<String>,
    /// The value.
    pub value: AttributeValue,
}

impl Dbc {
    /// The message with identifier `id`.
    pub fn message_by_id(&self, id: CanId) -> Option<&Message> {
        self.messages.iter().find(|m| m.id == id)
    }

    /// The message called `name`.
    pub fn message_by_name(&self, name: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.name == name)
    }

    /// The definition of attribute `name` for `scope`.
    pub fn attribute_definition(&self, scope: AttributeScope, name: &str) -> Option<&AttributeDefinition> {
        self.attribute_definitions.iter().find(|d| d.scope == scope && d.name == name)
    }

    /// A message attribute, falling back to the definition's default.
    pub fn message_attribute<'a>(&'a self, message: &'a Message, name: &str) -> Option<&'a AttributeValue> {
        find_attribute(&message.attributes, name)
            .or_else(|| self.attribute_definition(AttributeScope::Message, name)?.default.as_ref())
    }

    /// A signal attribute, falling back to the definition's default.
    pub fn signal_attribute<'a>(&'a self, signal: &'a Signal, name: &str) -> Option<&'a AttributeValue> {
        find_attribute(&signal.attributes, name)
            .or_else(|| self.attribute_definition(AttributeScope::Signal, name)?.default.as_ref())
    }

    /// A node attribute, falling back to the definition's default.
    pub fn node_attribute<'a>(&'a self, node: &'a Node, name: &str) -> Option<&'a AttributeValue> {
        find_attribute(&node.attributes, name)
            .or_else(|| self.attribute_definition(AttributeScope::Node, name)?.default.as_ref())
    }

    /// A network attribute, falling back to the definition's default.
    pub fn network_attribute(&self, name: &str) -> Option<&AttributeValue> {
        find_attribute(&self.attributes, name)
            .or_else(|| self.attribute_definition(AttributeScope::Network, name)?.default.as_ref())
    }

    /// The number of signals over all messages.
    pub fn signal_count(&self) -> usize {
        self.messages.iter().map(|m| m.signals.len()).sum()
    }
}

fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a AttributeValue> {
    attributes.iter().find(|a| a.name == name).map(|a| &a.value)
}
