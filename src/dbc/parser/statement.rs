//! What the statement parsers produce: one [`Statement`] per DBC statement,
//! with the byte offsets later diagnostics point at.
//!
//! These are the file's statements as written, before the resolution pass
//! ([`crate::dbc::resolve`]) attaches comments, attributes, value descriptions,
//! value types, multiplexing ranges and extra transmitters to their objects.
//! Object references are kept as written (message ids as the raw DBC number,
//! names as strings) so that resolution can say exactly which reference dangles.

use crate::dbc::model::{
    AttributeKind, AttributeScope, BitTiming, EnvironmentVariable, SignalType, ValueDescription, ValueTable,
};
use crate::frame::CanId;

/// A value with the byte offset of the token it was read from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Located<T> {
    /// Byte offset in the file.
    pub offset: usize,
    /// The value.
    pub item: T,
}

impl<T> Located<T> {
    /// `item` read at `offset`.
    pub fn new(offset: usize, item: T) -> Self {
        Located { offset, item }
    }
}

/// A message id as written in a reference (`CM_ BO_ 123 ...`), with its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MessageRef {
    /// The DBC id as written (bit 31 = extended).
    pub raw: u32,
    /// Byte offset of the id token.
    pub offset: usize,
}

/// What a `BO_` id turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// A frame on the bus with this id.
    Frame(CanId),
    /// `VECTOR__INDEPENDENT_SIG_MSG`: a container for signals sent in no frame.
    Pseudo,
    /// An id no CAN frame can have (warned about; the message is left out).
    Unusable,
}

/// A `BO_` statement (its `SG_` lines are separate statements).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawMessage {
    /// The id as written.
    pub raw_id: u32,
    /// What the id means.
    pub kind: MessageKind,
    /// The message name.
    pub name: String,
    /// Declared size in bytes.
    pub size: u32,
    /// The transmitter as written (`Vector__XXX` when absent).
    pub transmitter: String,
    /// 1-based line of the `BO_`.
    pub line: u32,
    /// Offset of the `BO_` keyword.
    pub offset: usize,
    /// Offset of the id token.
    pub id_offset: usize,
    /// Offset of the size token.
    pub size_offset: usize,
}

/// An object an attribute or a comment can be attached to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ObjectRef {
    /// The network (no object keyword).
    Network,
    /// `BU_ name`
    Node(Located<String>),
    /// `BO_ id`
    Message(MessageRef),
    /// `SG_ id name`
    Signal(MessageRef, Located<String>),
    /// `EV_ name`
    EnvironmentVariable(Located<String>),
}

/// `BA_DEF_` / `BA_DEF_REL_`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawAttributeDefinition {
    /// What it applies to.
    pub scope: AttributeScope,
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: AttributeKind,
}

/// A literal value of an attribute as written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RawValue {
    /// A number.
    Number(super::lexical::NumberLiteral),
    /// A quoted string.
    Text(String),
}

/// `BA_DEF_DEF_` / `BA_DEF_DEF_REL_`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawAttributeDefault {
    /// True for `BA_DEF_DEF_REL_`.
    pub relation: bool,
    /// The attribute's name.
    pub name: String,
    /// The default as written.
    pub value: Located<RawValue>,
}

/// `BA_`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawAttributeValue {
    /// The attribute's name.
    pub name: Located<String>,
    /// The object it is set on.
    pub target: ObjectRef,
    /// The value as written.
    pub value: Located<RawValue>,
}

/// `BA_REL_`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawRelationValue {
    /// The attribute's name.
    pub name: Located<String>,
    /// `NodeMessage`, `NodeSignal` or `NodeEnvironmentVariable`.
    pub scope: AttributeScope,
    /// The node.
    pub node: Located<String>,
    /// The message (node-message and node-signal relations).
    pub message: Option<MessageRef>,
    /// The signal or environment variable.
    pub object: Option<Located<String>>,
    /// The value as written.
    pub value: Located<RawValue>,
}

/// `VAL_`: for a signal or for an environment variable.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ValueTarget {
    /// `VAL_ id signal ...`
    Signal(MessageRef, Located<String>),
    /// `VAL_ name ...`
    EnvironmentVariable(Located<String>),
}

/// `VAL_` statement.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawValueDescriptions {
    /// What the descriptions are for.
    pub target: ValueTarget,
    /// The descriptions in file order.
    pub values: Vec<ValueDescription>,
}

/// `SIG_VALTYPE_ id signal : n ;`
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawValueType {
    /// The message.
    pub message: MessageRef,
    /// The signal.
    pub signal: Located<String>,
    /// 0 integer, 1 float, 2 double (as written).
    pub kind: Located<u64>,
}

/// `SG_MUL_VAL_ id signal switch a-b, c-d ;`
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawMultiplexValues {
    /// The message.
    pub message: MessageRef,
    /// The multiplexed signal.
    pub signal: Located<String>,
    /// Its switch.
    pub switch: Located<String>,
    /// Inclusive ranges of switch values.
    pub ranges: Vec<(u64, u64)>,
}

/// `BO_TX_BU_ id : a, b ;`
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawTransmitters {
    /// The message.
    pub message: MessageRef,
    /// The transmitting nodes.
    pub nodes: Vec<String>,
}

/// `SIG_GROUP_ id name repetitions : signals ;`
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawSignalGroup {
    /// The message.
    pub message: MessageRef,
    /// The group's name.
    pub name: String,
    /// Repetitions.
    pub repetitions: u32,
    /// Member signals.
    pub signals: Vec<String>,
}

/// A comment (`CM_`) and what it is about.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawComment {
    /// The commented object.
    pub target: ObjectRef,
    /// The text.
    pub text: String,
}

/// One statement of a DBC file (`SG_` lines go straight to their message,
/// see [`super::collect::Collected::add_signal`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Statement {
    /// `VERSION "..."`
    Version(String),
    /// `NS_ :` and its symbols.
    NewSymbols(Vec<String>),
    /// `BS_:` with or without values.
    BitTiming(Option<BitTiming>),
    /// `BU_:` and its node names.
    Nodes(Vec<Located<String>>),
    /// `VAL_TABLE_`
    ValueTable(Located<ValueTable>),
    /// `BO_`
    Message(RawMessage),
    /// `EV_`
    EnvironmentVariable(Box<Located<EnvironmentVariable>>),
    /// `SGTYPE_`
    SignalType(Box<SignalType>),
    /// `SIG_GROUP_`
    SignalGroup(Located<RawSignalGroup>),
    /// `CM_`
    Comment(Located<RawComment>),
    /// `BA_DEF_` or `BA_DEF_REL_`
    AttributeDefinition(Located<RawAttributeDefinition>),
    /// `BA_DEF_DEF_` or `BA_DEF_DEF_REL_`
    AttributeDefault(Located<RawAttributeDefault>),
    /// `BA_`
    AttributeValue(Box<Located<RawAttributeValue>>),
    /// `BA_REL_`
    RelationValue(Box<Located<RawRelationValue>>),
    /// `VAL_`
    ValueDescriptions(Located<RawValueDescriptions>),
    /// `SIG_VALTYPE_`
    ValueType(Located<RawValueType>),
    /// `SG_MUL_VAL_`
    MultiplexValues(Located<RawMultiplexValues>),
    /// `BO_TX_BU_`
    Transmitters(Located<RawTransmitters>),
    /// A statement the model has no place for, checked and dropped
    /// (`ENVVAR_DATA_`, `SIG_TYPE_REF_`, `CAT_DEF_`, `CAT_`, `FILTER`, ...).
    Skipped,
}
