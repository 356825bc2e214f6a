//! Warnings and errors found while reading a DBC file, kept as byte offsets
//! until the end and then turned into [`Diagnostic`]s in one pass.
//!
//! Invariants:
//! - at most [`MAX_WARNINGS`] warnings and [`MAX_ERRORS`] errors are kept; the
//!   rest are counted and summed up in one last diagnostic, so a hostile file
//!   full of quirks cannot make the parser use memory or time out of
//!   proportion to its size;
//! - converting offsets to lines costs one pass over the file plus a binary
//!   search per diagnostic (never a scan from the start of the file per
//!   diagnostic), and a diagnostic shows at most [`MAX_SHOWN_LINE`] bytes of a
//!   very long line around its column.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Location, Severity};

/// Most warnings kept for one file.
pub const MAX_WARNINGS: usize = 1000;
/// Most errors kept for one file.
pub const MAX_ERRORS: usize = 20;
/// Longest line text (in bytes) a diagnostic shows; longer lines are cut around the column.
pub const MAX_SHOWN_LINE: usize = 480;

/// One warning or error at a byte offset of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Note {
    /// Byte offset in the file.
    pub offset: usize,
    /// Warning or error.
    pub severity: Severity,
    /// What is wrong.
    pub message: Cow<'static, str>,
    /// Text under the caret.
    pub label: Option<Cow<'static, str>>,
    /// What to do about it.
    pub help: Option<Cow<'static, str>>,
}

impl Note {
    /// A warning at `offset`.
    pub fn warning(offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        Note { offset, severity: Severity::Warning, message: message.into(), label: None, help: None }
    }

    /// An error at `offset`.
    pub fn error(offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        Note { offset, severity: Severity::Error, message: message.into(), label: None, help: None }
    }

    /// Adds a label under the caret.
    pub fn with_label(mut self, label: impl Into<Cow<'static, str>>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<Cow<'static, str>>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The notes of one file, with the caps applied.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    warnings: Vec<Note>,
    errors: Vec<Note>,
    dropped_warnings: usize,
    dropped_errors: usize,
}

impl Notes {
    /// Records a note (or counts it when its kind is over the cap).
    pub fn push(&mut self, note: Note) {
        match note.severity {
            Severity::Warning if self.warnings.len() < MAX_WARNINGS => self.warnings.push(note),
            Severity::Warning => self.dropped_warnings += 1,
            Severity::Error if self.errors.len() < MAX_ERRORS => self.errors.push(note),
            Severity::Error => self.dropped_errors += 1,
        }
    }

    /// True when at least one error was recorded.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// True when the error cap is reached (parsing should stop).
    pub fn errors_full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS
    }

    /// Turns the notes into diagnostics: `(errors, warnings)`, each in file order.
    pub fn into_diagnostics(self, file: &Arc<str>, source: &[u8]) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
        let Notes { mut warnings, mut errors, dropped_warnings, dropped_errors } = self;
        warnings.sort_by_key(|n| n.offset);
        errors.sort_by_key(|n| n.offset);
        if warnings.is_empty() && errors.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let mut lines = LineIndex::new(source);
        let mut convert = |notes: Vec<Note>, dropped: usize| {
            let last = notes.last().map_or(0, |n| n.offset);
            let mut out: Vec<Diagnostic> = notes.into_iter().map(|n| lines.diagnostic(file, source, n)).collect();
            if dropped > 0 {
                let kind = if out.first().is_some_and(Diagnostic::is_error) { "errors" } else { "warnings" };
                let mut summary = lines.diagnostic(file, source, Note::warning(last, ""));
                summary.severity = out.first().map_or(Severity::Warning, |d| d.severity);
                summary.message = format!("{dropped} more {kind} not shown");
                out.push(summary);
            }
            out
        };
        let errors = convert(errors, dropped_errors);
        let warnings = convert(warnings, dropped_warnings);
        (errors, warnings)
    }
}

/// Shared, interior-mutable notes, so that parsers combined with nom can all
/// record warnings through a shared reference.
#[derive(Debug, Default)]
pub(crate) struct NoteSink {
    notes: RefCell<Notes>,
}

impl NoteSink {
    /// Records a note.
    pub fn push(&self, note: Note) {
        self.notes.borrow_mut().push(note);
    }

    /// True when at least one error was recorded.
    pub fn has_errors(&self) -> bool {
        self.notes.borrow().has_errors()
    }

    /// True when the error cap is reached.
    pub fn errors_full(&self) -> bool {
        self.notes.borrow().errors_full()
    }

    /// The collected notes.
    pub fn into_inner(self) -> Notes {
        self.notes.into_inner()
    }
}

/// Where each line starts, to turn offsets into line numbers by binary search.
struct LineIndex {
    starts: Vec<usize>,
    /// Column counting state on the last long line seen, so that many
    /// diagnostics on one huge line cost one pass over it, not one each.
    long_line: Option<LongLineCursor>,
}

/// Characters counted so far on one long line.
struct LongLineCursor {
    line_index: usize,
    utf8: bool,
    byte: usize,
    chars: usize,
}

impl LineIndex {
    fn new(source: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(source.iter().enumerate().filter(|&(_, &b)| b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts, long_line: None }
    }

    /// Characters of `line[..to]` as the lossy decoding of the whole line counts them.
    fn chars_before(&mut self, line_index: usize, line: &[u8], to: usize) -> usize {
        let cursor = match self.long_line.take() {
            Some(c) if c.line_index == line_index && c.byte <= to => c,
            _ => LongLineCursor { line_index, utf8: std::str::from_utf8(line).is_ok(), byte: 0, chars: 0 },
        };
        let span = line.get(cursor.byte..to).unwrap_or_default();
        let added = if cursor.utf8 { span.iter().filter(|&&b| !(0x80..0xC0).contains(&b)).count() } else { span.len() };
        let chars = cursor.chars + added;
        self.long_line = Some(LongLineCursor { byte: to, chars, ..cursor });
        chars
    }

    /// The 0-based line index and the byte range of that line (without its `\n`).
    fn line_of(&self, source: &[u8], offset: usize) -> (usize, usize, usize) {
        let index = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts.get(index).copied().unwrap_or(0);
        let end = self.starts.get(index + 1).map_or(source.len(), |&next| next - 1);
        (index, start, end)
    }

    fn location(&mut self, file: &Arc<str>, source: &[u8], offset: usize) -> Location {
        let offset = offset.min(source.len());
        let (index, start, end) = self.line_of(source, offset);
        let line = source.get(start..end).unwrap_or_default();
        let within = offset - start;
        let mut location = if line.len() <= MAX_SHOWN_LINE {
            Location::from_offset(file, line, within)
        } else {
            // Show a window around the column; the column still counts from the line start.
            let from = char_boundary(line, within.saturating_sub(MAX_SHOWN_LINE / 2));
            let to = char_boundary(line, (from + MAX_SHOWN_LINE).min(line.len()));
            let window = line.get(from..to).unwrap_or_default();
            let mut loc = Location::from_offset(file, window, within - from);
            let before = self.chars_before(index, line, from);
            loc.column = loc.column.saturating_add(u32::try_from(before).unwrap_or(u32::MAX));
            loc
        };
        location.line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        location
    }

    fn diagnostic(&mut self, file: &Arc<str>, source: &[u8], note: Note) -> Diagnostic {
        let location = self.location(file, source, note.offset);
        Diagnostic {
            severity: note.severity,
            message: note.message.into_owned(),
            location,
            label: note.label.map(Cow::into_owned),
            help: note.help.map(Cow::into_owned),
        }
    }
}

/// `at` moved back to the start of a UTF-8 character (no-op for other bytes).
fn char_boundary(line: &[u8], mut at: usize) -> usize {
    while at > 0 && at < line.len() && line.get(at).is_some_and(|&b| (0x80..0xC0).contains(&b)) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Arc<str> {
        Arc::from("t.dbc")
    }

    #[test]
    fn converts_offsets_to_lines_and_columns() {
        let src = b"VERSION \"\"\r\nBU_: A\nBO_ 1 X: 8 A\n";
        let mut notes = Notes::default();
        notes.push(Note::warning(src.len() - 5, "w"));
        notes.push(Note::error(13, "e"));
        let (errors, warnings) = notes.into_diagnostics(&file(), src);
        assert_eq!((errors[0].location.line, errors[0].location.column), (2, 2));
        assert_eq!(errors[0].location.line_text, "BU_: A");
        assert_eq!((warnings[0].location.line, warnings[0].location.column), (3, 9));
    }

    #[test]
    fn caps_warnings_and_summarises() {
        let mut notes = Notes::default();
        for i in 0..MAX_WARNINGS + 5 {
            notes.push(Note::warning(i % 3, "w"));
        }
        let (errors, warnings) = notes.into_diagnostics(&file(), b"abc");
        assert!(errors.is_empty());
        assert_eq!(warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(warnings.last().map(|d| d.message.as_str()), Some("5 more warnings not shown"));
    }

    #[test]
    fn long_lines_are_cut_but_columns_stay_true() {
        let mut src = vec![b'x'; 5000];
        src.extend_from_slice(b"\n");
        let mut notes = Notes::default();
        notes.push(Note::warning(4000, "w"));
        let (_, warnings) = notes.into_diagnostics(&file(), &src);
        assert_eq!(warnings[0].location.column, 4001);
        assert!(warnings[0].location.line_text.len() <= MAX_SHOWN_LINE);
    }

    #[test]
    fn offset_at_end_of_file() {
        let mut notes = Notes::default();
        notes.push(Note::error(99, "e"));
        let (errors, _) = notes.into_diagnostics(&file(), b"ab\ncd");
        assert_eq!((errors[0].location.line, errors[0].location.column), (2, 3));
    }
}
