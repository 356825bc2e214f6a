//! The codecs of every message of one or more DBC files, looked up by CAN id.
//!
//! Standard ids index a direct 2048-entry array; extended ids are binary
//! searched in a sorted vector. Both lookups are allocation-free.
//!
//! Policy for ids defined more than once (across files, or within one file
//! despite the parser's check): the first definition wins, in the order the
//! DBCs were given and then the file's order; every later one is left out and
//! listed in [`CodecTable::duplicates`] for the caller to show. A message whose
//! layout is invalid still claims its id (a later definition is a duplicate of
//! it), but it has no codec: [`CodecTable::get`] returns `None` for it and
//! [`CodecTable::lookup`] says why.

use std::fmt;
use std::sync::Arc;

use crate::dbc::Dbc;
use crate::frame::{CanId, MAX_STANDARD_ID};

use super::error::LayoutError;
use super::message::MessageCodec;

/// Where a message comes from: the position of its DBC among those the table
/// was built from, and its position in that DBC's `messages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageKey {
    /// Index of the DBC in the order given to [`CodecTable::new`].
    pub dbc: usize,
    /// Index in `Dbc::messages`.
    pub message: usize,
}

/// A message left out of the table because its layout is invalid.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidMessage {
    /// Where it is defined.
    pub key: MessageKey,
    /// The DBC file's name.
    pub source: Arc<str>,
    /// Its id.
    pub id: CanId,
    /// Its name.
    pub name: String,
    /// The 1-based line of its `BO_`.
    pub line: u32,
    /// Why it cannot be decoded.
    pub error: LayoutError,
}

impl fmt::Display for InvalidMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: message `{}` ({}) cannot be decoded: {}",
            self.source, self.line, self.name, self.id, self.error
        )
    }
}

/// A message left out of the table because an earlier one has the same id.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicateMessage {
    /// The shared id.
    pub id: CanId,
    /// The definition that was kept.
    pub kept: MessageKey,
    /// The kept definition's DBC file and message name.
    pub kept_source: Arc<str>,
    /// The kept message's name.
    pub kept_name: String,
    /// The definition that was left out.
    pub ignored: MessageKey,
    /// The left-out definition's DBC file.
    pub ignored_source: Arc<str>,
    /// The left-out message's name.
    pub ignored_name: String,
    /// The 1-based line of the left-out `BO_`.
    pub ignored_line: u32,
}

impl fmt::Display for DuplicateMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: message `{}` ({}) ignored: the id is already defined by `{}` in {}",
            self.ignored_source, self.ignored_line, self.ignored_name, self.id, self.kept_name, self.kept_source
        )
    }
}

/// What the table knows about an id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lookup<'a> {
    /// A message with a valid codec.
    Message(MessageKey, &'a MessageCodec),
    /// A message whose layout is invalid.
    Invalid(&'a InvalidMessage),
    /// No DBC defines the id.
    Unknown,
}

/// A slot of the id index: nothing, a codec, or an invalid message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Empty,
    Codec(u32),
    Invalid(u32),
}

/// The codecs of all messages of some DBC files, by id.
#[derive(Clone, Debug)]
pub struct CodecTable {
    standard: Box<[Slot]>,
    /// Sorted by raw id.
    extended: Vec<(u32, Slot)>,
    codecs: Vec<(MessageKey, MessageCodec)>,
    invalid: Vec<InvalidMessage>,
    duplicates: Vec<DuplicateMessage>,
}

impl CodecTable {
    /// Compiles every message of `dbcs`, in order (see the module docs for
    /// duplicates and invalid layouts).
    pub fn new<'a>(dbcs: impl IntoIterator<Item = &'a Dbc>) -> Self {
        let mut table = CodecTable {
            standard: vec![Slot::Empty; MAX_STANDARD_ID as usize + 1].into_boxed_slice(),
            extended: Vec::new(),
            codecs: Vec::new(),
            invalid: Vec::new(),
            duplicates: Vec::new(),
        };
        // Who claimed each extended id first, while building (sorted at the end).
        let mut extended_claims: std::collections::HashMap<u32, (MessageKey, Arc<str>, String)> =
            std::collections::HashMap::new();
        let mut standard_claims: Vec<Option<(MessageKey, Arc<str>, String)>> = vec![None; MAX_STANDARD_ID as usize + 1];
        for (dbc_index, dbc) in dbcs.into_iter().enumerate() {
            for (message_index, message) in dbc.messages.iter().enumerate() {
                let key = MessageKey { dbc: dbc_index, message: message_index };
                let claim = if message.id.is_extended() {
                    extended_claims.get(&message.id.raw()).cloned()
                } else {
                    standard_claims.get(message.id.raw() as usize).cloned().flatten()
                };
                if let Some((kept, kept_source, kept_name)) = claim {
                    table.duplicates.push(DuplicateMessage {
                        id: message.id,
                        kept,
                        kept_source,
                        kept_name,
                        ignored: key,
                        ignored_source: dbc.source.clone(),
                        ignored_name: message.name.clone(),
                        ignored_line: message.line,
                    });
                    continue;
                }
                let claim = (key, dbc.source.clone(), message.name.clone());
                let slot = match MessageCodec::new(message) {
                    Ok(codec) => {
                        table.codecs.push((key, codec));
                        Slot::Codec(slot_index(table.codecs.len() - 1))
                    }
                    Err(error) => {
                        table.invalid.push(InvalidMessage {
                            key,
                            source: dbc.source.clone(),
                            id: message.id,
                            name: message.name.clone(),
                            line: message.line,
                            error,
                        });
                        Slot::Invalid(slot_index(table.invalid.len() - 1))
                    }
                };
                if message.id.is_extended() {
                    extended_claims.insert(message.id.raw(), claim);
                    table.extended.push((message.id.raw(), slot));
                } else {
                    if let Some(entry) = standard_claims.get_mut(message.id.raw() as usize) {
                        *entry = Some(claim);
                    }
                    if let Some(entry) = table.standard.get_mut(message.id.raw() as usize) {
                        *entry = slot;
                    }
                }
            }
        }
        table.extended.sort_unstable_by_key(|(id, _)| *id);
        table
    }

    /// The codec for `id` and where its message comes from; `None` for
    /// unknown ids and messages with an invalid layout.
    #[inline]
    pub fn get(&self, id: CanId) -> Option<(MessageKey, &MessageCodec)> {
        match self.slot(id) {
            Slot::Codec(index) => self.codecs.get(index as usize).map(|(key, codec)| (*key, codec)),
            Slot::Empty | Slot::Invalid(_) => None,
        }
    }

    /// Everything the table knows about `id`.
    pub fn lookup(&self, id: CanId) -> Lookup<'_> {
        match self.slot(id) {
            Slot::Codec(index) => {
                self.codecs.get(index as usize).map_or(Lookup::Unknown, |(key, codec)| Lookup::Message(*key, codec))
            }
            Slot::Invalid(index) => self.invalid.get(index as usize).map_or(Lookup::Unknown, Lookup::Invalid),
            Slot::Empty => Lookup::Unknown,
        }
    }

    #[inline]
    fn slot(&self, id: CanId) -> Slot {
        if id.is_extended() {
            match self.extended.binary_search_by_key(&id.raw(), |(raw, _)| *raw) {
                Ok(found) => self.extended.get(found).map_or(Slot::Empty, |(_, slot)| *slot),
                Err(_) => Slot::Empty,
            }
        } else {
            self.standard.get(id.raw() as usize).copied().unwrap_or(Slot::Empty)
        }
    }

    /// The messages with a valid codec, in the order they were added.
    pub fn codecs(&self) -> impl Iterator<Item = (MessageKey, &MessageCodec)> {
        self.codecs.iter().map(|(key, codec)| (*key, codec))
    }

    /// How many messages have a codec.
    pub fn len(&self) -> usize {
        self.codecs.len()
    }

    /// True when no message has a codec.
    pub fn is_empty(&self) -> bool {
        self.codecs.is_empty()
    }

    /// The messages left out because their layout is invalid, in the order met.
    pub fn invalid(&self) -> &[InvalidMessage] {
        &self.invalid
    }

    /// The messages left out because an earlier one has the same id, in the order met.
    pub fn duplicates(&self) -> &[DuplicateMessage] {
        &self.duplicates
    }
}

/// Table positions fit in `u32`: a table holds far fewer than 4 billion messages.
fn slot_index(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_support::{message, signal};
    use crate::dbc::ByteOrder::LittleEndian as Intel;
    use crate::dbc::{Message, ValueType};

    fn dbc(source: &str, messages: Vec<Message>) -> Dbc {
        Dbc { source: source.into(), messages, ..Dbc::default() }
    }

    fn simple(id: u32, name: &str) -> Message {
        message(id, name, 8, vec![signal("s", 0, 8, Intel, ValueType::Unsigned)])
    }

    #[test]
    fn lookups_standard_and_extended() {
        let a = dbc("a.dbc", vec![simple(0x100, "A100"), simple(0x7FF, "A7FF"), simple(0x18FF_0001, "AExt")]);
        let b = dbc("b.dbc", vec![simple(0x000, "B000"), simple(0x1234, "BExt")]);
        let table = CodecTable::new([&a, &b]);
        assert_eq!(table.len(), 5);
        let name = |id: CanId| table.get(id).map(|(_, c)| c.name().to_owned());
        assert_eq!(name(CanId::standard(0x100).unwrap()).as_deref(), Some("A100"));
        assert_eq!(name(CanId::standard(0x7FF).unwrap()).as_deref(), Some("A7FF"));
        assert_eq!(name(CanId::standard(0x000).unwrap()).as_deref(), Some("B000"));
        assert_eq!(name(CanId::extended(0x18FF_0001).unwrap()).as_deref(), Some("AExt"));
        assert_eq!(name(CanId::extended(0x1234).unwrap()).as_deref(), Some("BExt"));
        assert_eq!(name(CanId::standard(0x101).unwrap()), None);
        // The same number as a standard and as an extended id are different ids.
        assert_eq!(name(CanId::extended(0x100).unwrap()), None);
        assert_eq!(table.get(CanId::extended(0x1234).unwrap()).unwrap().0, MessageKey { dbc: 1, message: 1 });
        assert_eq!(table.lookup(CanId::standard(0x555).unwrap()), Lookup::Unknown);
    }

    #[test]
    fn first_definition_wins() {
        let a = dbc("a.dbc", vec![simple(0x100, "First"), simple(0x100, "SameFile")]);
        let b = dbc("b.dbc", vec![simple(0x100, "Second"), simple(0x1000, "Ext")]);
        let c = dbc("c.dbc", vec![simple(0x1000, "ExtAgain")]);
        let table = CodecTable::new([&a, &b, &c]);
        assert_eq!(table.get(CanId::standard(0x100).unwrap()).unwrap().1.name(), "First");
        assert_eq!(table.get(CanId::extended(0x1000).unwrap()).unwrap().1.name(), "Ext");
        let ignored: Vec<_> =
            table.duplicates().iter().map(|d| (d.ignored_name.as_str(), d.kept_name.as_str())).collect();
        assert_eq!(ignored, [("SameFile", "First"), ("Second", "First"), ("ExtAgain", "Ext")]);
        assert_eq!(
            table.duplicates()[1].to_string(),
            "b.dbc:0: message `Second` (0x100) ignored: the id is already defined by `First` in a.dbc"
        );
    }

    #[test]
    fn invalid_layouts_are_kept_out_with_their_error() {
        let bad = message(0x200, "Bad", 2, vec![signal("wide", 0, 24, Intel, ValueType::Unsigned)]);
        let a = dbc("a.dbc", vec![bad, simple(0x201, "Good")]);
        let b = dbc("b.dbc", vec![simple(0x200, "Later")]);
        let table = CodecTable::new([&a, &b]);
        let id = CanId::standard(0x200).unwrap();
        assert!(table.get(id).is_none());
        let Lookup::Invalid(invalid) = table.lookup(id) else { panic!("expected an invalid message") };
        assert_eq!(invalid.name, "Bad");
        assert!(matches!(invalid.error, LayoutError::EndsOutsideMessage { .. }));
        assert!(invalid.to_string().contains("runs past the end of the 2-byte message"), "{invalid}");
        assert_eq!(table.invalid().len(), 1);
        assert_eq!(table.duplicates().len(), 1);
        assert!(matches!(table.lookup(CanId::standard(0x201).unwrap()), Lookup::Message(_, c) if c.name() == "Good"));
    }
}
