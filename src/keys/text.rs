//! Line handling shared by the key file and revocation list parsers: the
//! significant lines of a text file with their byte offsets, the format header,
//! and locations whose line text can be masked.
//!
//! Invariants: offsets always point into the source (so locations are exact);
//! blank lines and lines starting with `#` are skipped; a trailing `\r` is
//! dropped so that files edited on Windows read the same.

use std::sync::Arc;

use crate::diagnostic::{Location, cp1252_char};

use super::error::{KeyError, KeyFileProblem};

/// One line that is neither blank nor a comment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SignificantLine<'a> {
    /// 1-based line number.
    pub number: u32,
    /// Byte offset of `text` in the source.
    pub offset: usize,
    /// The line without leading and trailing white space.
    pub text: &'a str,
}

/// The significant lines of `text`, in order.
pub(crate) fn significant_lines(text: &str) -> impl Iterator<Item = SignificantLine<'_>> {
    let mut line_start = 0usize;
    text.split('\n').enumerate().filter_map(move |(index, raw)| {
        let start = line_start;
        line_start += raw.len() + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let lead = raw.len() - raw.trim_start().len();
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        Some(SignificantLine {
            number: u32::try_from(index + 1).unwrap_or(u32::MAX),
            offset: start + lead,
            text: trimmed,
        })
    })
}

/// Whether line texts shown in errors must hide values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Masking {
    /// Show the line as it is (revocation lists hold nothing secret).
    Plain,
    /// Replace everything after the first `=` (or the whole line when it has
    /// none and is not a header) by `*`, one per character.
    Secret,
}

/// Builds located errors for one source.
pub(crate) struct Locator<'a> {
    file: Arc<str>,
    source: &'a [u8],
    masking: Masking,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(file: &str, source: &'a [u8], masking: Masking) -> Self {
        Locator { file: Arc::from(file), source, masking }
    }

    /// The location of byte `offset`, masked as configured. When masking,
    /// the unmasked line is never copied (it may hold a secret).
    pub(crate) fn location(&self, offset: usize) -> Location {
        match self.masking {
            Masking::Plain => Location::from_offset(&self.file, self.source, offset),
            Masking::Secret => masked_location(&self.file, self.source, offset),
        }
    }

    /// A parse error at byte `offset`.
    pub(crate) fn error(&self, offset: usize, problem: KeyFileProblem) -> KeyError {
        KeyError::Parse { location: self.location(offset), problem }
    }

    /// A parse error at the end of the source.
    pub(crate) fn error_at_end(&self, problem: KeyFileProblem) -> KeyError {
        self.error(self.source.len(), problem)
    }
}

/// Like [`Location::from_offset`] (same line, column and decoding rules), but
/// the line text is built masked: the text up to the first `=` is kept and
/// every other non-blank character becomes `*`; a line without `=` is masked
/// whole unless it is a format header (`bulkhead-...`).
fn masked_location(file: &Arc<str>, source: &[u8], offset: usize) -> Location {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or_default();
    let after = source.get(offset..).unwrap_or_default();
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let line_end = after.iter().position(|&b| b == b'\n').map_or(source.len(), |p| offset + p);
    let line_number = source.get(..line_start).unwrap_or_default().iter().filter(|&&b| b == b'\n').count() + 1;
    let mut line = source.get(line_start..line_end).unwrap_or_default();
    if line.last() == Some(&b'\r') {
        line = line.get(..line.len() - 1).unwrap_or_default();
    }
    let prefix_end = offset.min(line_start + line.len());
    let prefix = source.get(line_start..prefix_end).unwrap_or_default();
    let column = char_count(prefix) + 1 + offset.saturating_sub(line_start + line.len());
    Location {
        file: Arc::clone(file),
        line: u32::try_from(line_number).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        line_text: mask_line(line),
    }
}

/// Characters in `bytes` as shown: UTF-8 characters, or one per byte when the
/// bytes are not UTF-8 (Windows-1252), like [`crate::diagnostic::decode_lossy`].
fn char_count(bytes: &[u8]) -> usize {
    std::str::from_utf8(bytes).map_or(bytes.len(), |text| text.chars().count())
}

/// The masked text of one line (see [`masked_location`]).
fn mask_line(line: &[u8]) -> String {
    let chars: Box<dyn Iterator<Item = char>> = match std::str::from_utf8(line) {
        Ok(text) => Box::new(text.chars()),
        Err(_) => Box::new(line.iter().map(|&b| cp1252_char(b))),
    };
    let has_equals = line.contains(&b'=');
    let is_header = line.trim_ascii_start().starts_with(b"bulkhead-") && !has_equals;
    let mut seen_equals = false;
    chars
        .map(|c| {
            let keep = is_header || c.is_whitespace() || (has_equals && !seen_equals);
            if c == '=' {
                seen_equals = true;
            }
            if keep { c } else { '*' }
        })
        .collect()
}

/// Checks that `line` is the header `magic version`; `expected` is the whole
/// header, for messages.
pub(crate) fn check_header(
    locator: &Locator<'_>,
    line: Option<SignificantLine<'_>>,
    magic: &str,
    version: &'static str,
    expected: &'static str,
) -> Result<(), KeyError> {
    let Some(line) = line else {
        return Err(locator.error(0, KeyFileProblem::MissingHeader { expected }));
    };
    let rest = line.text.strip_prefix(magic).filter(|rest| rest.starts_with([' ', '\t']));
    match rest.map(str::trim) {
        Some(found) if found == version => Ok(()),
        Some(found) => Err(locator.error(
            line.offset,
            KeyFileProblem::UnsupportedVersion { found: found.chars().take(16).collect(), supported: version },
        )),
        None => Err(locator.error(line.offset, KeyFileProblem::MissingHeader { expected })),
    }
}

/// Checks the size limit and UTF-8 of a source.
pub(crate) fn checked_text<'a>(locator: &Locator<'_>, source: &'a [u8], limit: u64) -> Result<&'a str, KeyError> {
    let size = u64::try_from(source.len()).unwrap_or(u64::MAX);
    if size > limit {
        return Err(locator.error(0, KeyFileProblem::TooLarge { size, limit }));
    }
    std::str::from_utf8(source).map_err(|e| locator.error(e.valid_up_to(), KeyFileProblem::NotUtf8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_comments_and_keep_offsets() {
        let text = "# comment\r\n\n  a = 1\r\n\tb\n";
        let lines: Vec<_> = significant_lines(text).map(|l| (l.number, l.offset, l.text)).collect();
        assert_eq!(lines, vec![(3, 14, "a = 1"), (4, 22, "b")]);
        assert_eq!(text.get(14..19), Some("a = 1"));
    }

    #[test]
    fn masking_hides_values_not_field_names() {
        assert_eq!(mask_line(b"secret = 00ff aa"), "secret = **** **");
        assert_eq!(mask_line(b"secret=a=b"), "secret=***");
        assert_eq!(mask_line(b"00112233"), "********");
        assert_eq!(mask_line(b"bulkhead-key v9"), "bulkhead-key v9");
        assert_eq!(mask_line(b"name = \xe9t\xe9"), "name = ***");
    }

    #[test]
    fn masked_locations_agree_with_plain_ones() {
        let file: Arc<str> = Arc::from("k");
        let source = "bulkhead-key v1\r\ntype = link\r\nsecret = 0011\n\nname = h\u{e9}ad\n".as_bytes();
        for offset in 0..=source.len() + 3 {
            let plain = Location::from_offset(&file, source, offset);
            let masked = masked_location(&file, source, offset);
            assert_eq!((masked.line, masked.column), (plain.line, plain.column), "offset {offset}");
            assert_eq!(masked.line_text.chars().count(), plain.line_text.chars().count(), "offset {offset}");
        }
        let masked = masked_location(&file, b"x\nsecret = 0\xff11\n", 12);
        assert_eq!((masked.line, masked.column, masked.line_text.as_str()), (2, 11, "secret = ****"));
    }
}
