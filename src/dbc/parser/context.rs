//! What every statement parser can see besides its input: the whole file (to
//! turn the input left into an offset) and the sink for warnings.
//!
//! Invariant: every `Input` handed to a parser is a suffix of `source`, so
//! `source.len() - rest.len()` is the offset of `rest` in the file.

use std::borrow::Cow;

use super::lexical::Input;
use crate::dbc::notes::{Note, NoteSink};

/// The parsing context: the file and where warnings go.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The whole file.
    pub source: &'a [u8],
    /// The whole file as text when it is valid UTF-8 (checked once), so that
    /// names and strings are sliced from it without validating each again.
    text: Option<&'a str>,
    /// Where warnings (and errors) are recorded.
    pub notes: &'a NoteSink,
}

impl<'a> Ctx<'a> {
    /// A context over `source`.
    pub fn new(source: &'a [u8], notes: &'a NoteSink) -> Self {
        Ctx { source, text: std::str::from_utf8(source).ok(), notes }
    }

    /// The `len` bytes at `offset` as text, when the file is UTF-8 and the
    /// range falls on character boundaries.
    pub fn text_at(&self, offset: usize, len: usize) -> Option<&'a str> {
        self.text?.get(offset..offset.checked_add(len)?)
    }

    /// The byte offset of `rest` in the file.
    pub fn offset(&self, rest: Input<'_>) -> usize {
        self.source.len().saturating_sub(rest.len())
    }

    /// Records a warning at the start of `rest`.
    pub fn warn(&self, rest: Input<'_>, message: impl Into<Cow<'static, str>>) {
        self.notes.push(Note::warning(self.offset(rest), message));
    }

    /// Records a prepared note.
    pub fn note(&self, note: Note) {
        self.notes.push(note);
    }
}
