//! The error type every nom parser of the DBC grammar returns.
//!
//! A [`SyntaxError`] records *where* parsing stopped (as the length of the
//! input left, which the caller turns into a byte offset of the file) and *what*
//! was expected there, in words a person understands ("expected `:` after the
//! message name in `BO_`"). Statement parsers commit as soon as their keyword
//! has matched, so their errors are [`nom::Err::Failure`]: the first mismatch
//! inside a statement is the error reported, never a vague "no alternative".

use std::borrow::Cow;

use nom::error::{ErrorKind, ParseError};

use super::lexical::Input;

/// Why and where a parser stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Bytes of input left at the failure point (offset = file length - this).
    pub rest_len: usize,
    /// What was expected, as a full sentence without a trailing period.
    pub message: Cow<'static, str>,
    /// The text under the caret; when `None` the caller describes what was found.
    pub label: Option<Cow<'static, str>>,
    /// A hint on how to fix it.
    pub help: Option<Cow<'static, str>>,
    /// True when nothing after this point can be trusted (an unterminated
    /// string swallows the rest of the file), so parsing must not resume.
    pub stops_parsing: bool,
}

impl SyntaxError {
    /// An error at the start of `rest`.
    pub fn at(rest: Input<'_>, message: impl Into<Cow<'static, str>>) -> Self {
        SyntaxError { rest_len: rest.len(), message: message.into(), label: None, help: None, stops_parsing: false }
    }

    /// Sets the label under the caret.
    pub fn with_label(mut self, label: impl Into<Cow<'static, str>>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the hint.
    pub fn with_help(mut self, help: impl Into<Cow<'static, str>>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Marks the error as one after which parsing cannot resume.
    pub fn stopping(mut self) -> Self {
        self.stops_parsing = true;
        self
    }

    /// This error as a committed nom failure.
    pub fn failure(self) -> nom::Err<SyntaxError> {
        nom::Err::Failure(self)
    }
}

impl ParseError<Input<'_>> for SyntaxError {
    /// Recoverable errors of nom's primitives happen all the time (every
    /// `opt` that does not match), so this must not allocate.
    fn from_error_kind(input: Input<'_>, kind: ErrorKind) -> Self {
        let _ = kind;
        SyntaxError::at(input, "unexpected input")
    }

    fn append(_input: Input<'_>, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// A committed failure at the start of `rest` saying `message`.
pub(crate) fn fail(rest: Input<'_>, message: impl Into<Cow<'static, str>>) -> nom::Err<SyntaxError> {
    SyntaxError::at(rest, message).failure()
}
