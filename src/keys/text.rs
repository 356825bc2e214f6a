//! Line handling shared by the key file and revocation list parsers: the
//! significant lines of a text file with their byte offsets, the format header,
//! and locations whose line text can be masked.
//!
//! Invariants: offsets always point into the source (so locations are exact);
//! blank lines and lines starting with `#` are skipped; a trailing `\r` is
//! dropped so that files edited on Windows read the same.

use std::sync::Arc;

use crate::diagnostic::Location;

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

    /// The location of byte `offset`, masked as configured.
    pub(crate) fn location(&self, offset: usize) -> Location {
        let mut location = Location::from_offset(&self.file, self.source, offset);
        if self.masking == Masking::Secret {
            location.line_text = mask_line(&location.line_text);
        }
        location
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

/// Hides values: keeps the text up to the first `=` and masks the rest.
fn mask_line(text: &str) -> String {
    let star = |c: char| if c.is_whitespace() { c } else { '*' };
    match text.find('=') {
        Some(eq) => {
            let (head, tail) = text.split_at(eq + 1);
            head.chars().chain(tail.chars().map(star)).collect()
        }
        None if text.trim_start().starts_with("bulkhead-") => text.to_owned(),
        None => text.chars().map(star).collect(),
    }
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
        assert_eq!(mask_line("secret = 00ff aa"), "secret = **** **");
        assert_eq!(mask_line("00112233"), "********");
        assert_eq!(mask_line("bulkhead-key v9"), "bulkhead-key v9");
    }
}
