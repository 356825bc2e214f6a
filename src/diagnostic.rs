//! Diagnostics that point into a source file, rendered the way rustc does.
//!
//! Every loader of text written by people (DBC files, rule files, log files)
//! reports problems as a [`Diagnostic`]: a severity, a message, and a
//! [`Location`] with the file name, the 1-based line and column and the text of
//! the offending line. Rendering never fails and never panics, whatever the
//! column or the line text (which may come from a file that is not UTF-8).
//!
//! ```text
//! error: expected `;` after the value descriptions
//!   --> dbc/car.dbc:12:41
//!    |
//! 12 | VAL_ 100 GEAR 0 "P" 1 "R" 2 "N" 3 "D"
//!    |                                         ^ here
//! ```

use std::fmt;
use std::sync::Arc;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Accepted, but a person should look at it.
    Warning,
    /// Refused: the input cannot be used as written.
    Error,
}

impl Severity {
    /// `warning` or `error`.
    pub const fn label(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A position in a named source: 1-based line and column (in characters of the
/// line as shown), plus the line's text for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file name as the user gave it (shared between all diagnostics of a file).
    pub file: Arc<str>,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column number.
    pub column: u32,
    /// The text of the line (without its line ending), lossily decoded.
    pub line_text: String,
}

impl Location {
    /// The location of byte offset `offset` in `source`, named `file`.
    ///
    /// Offsets past the end point just after the last character. Columns count
    /// characters of the lossily decoded line, so they match what an editor shows
    /// for UTF-8 and for single-byte encodings alike.
    pub fn from_offset(file: &Arc<str>, source: &[u8], offset: usize) -> Self {
        let offset = offset.min(source.len());
        let line_start = source[..offset].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let line_end = source[offset..].iter().position(|&b| b == b'\n').map_or(source.len(), |p| offset + p);
        let line_no = source[..line_start].iter().filter(|&&b| b == b'\n').count() + 1;
        let mut text = &source[line_start..line_end];
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        let before = &source[line_start..offset.min(line_start + text.len())];
        let column = decode_lossy(before).chars().count() + 1 + offset.saturating_sub(line_start + text.len());
        Location {
            file: Arc::clone(file),
            line: u32::try_from(line_no).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            line_text: decode_lossy(text),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Decodes text that may not be UTF-8: UTF-8 when valid, otherwise Windows-1252
/// (a superset of the printable Latin-1 range, the usual encoding of DBC files
/// written on Windows). Never fails.
pub fn decode_lossy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| cp1252_char(b)).collect(),
    }
}

/// The Unicode character of one Windows-1252 byte (undefined bytes map to the
/// C1 control with the same value, as Python's and WHATWG's decoders do).
pub fn cp1252_char(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{02C6}',
        '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}', '\u{90}', '\u{2018}',
        '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}',
        '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
    ];
    match byte {
        0x80..=0x9F => HIGH[(byte - 0x80) as usize],
        _ => char::from(byte),
    }
}

/// One problem found in an input, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or error.
    pub severity: Severity,
    /// What is wrong, in one sentence without a trailing period.
    pub message: String,
    /// Where it is.
    pub location: Location,
    /// A short label shown under the caret (for example "expected `;` here").
    pub label: Option<String>,
    /// A hint on what to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `location`.
    pub fn error(location: Location, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, message: message.into(), location, label: None, help: None }
    }

    /// A warning at `location`.
    pub fn warning(location: Location, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, message: message.into(), location, label: None, help: None }
    }

    /// Adds a label under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// The multi-line rustc-style rendering (no trailing newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = &self.location;
        let gutter = loc.line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(f, "{}: {}", self.severity.label(), self.message)?;
        writeln!(f, "{pad}--> {loc}")?;
        writeln!(f, "{pad} |")?;
        // Tabs are shown as single spaces so the caret lines up.
        let shown: String = loc.line_text.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
        writeln!(f, "{} | {}", loc.line, shown)?;
        let caret_pad = " ".repeat(loc.column.saturating_sub(1) as usize);
        write!(f, "{pad} | {caret_pad}^")?;
        if let Some(label) = &self.label {
            write!(f, " {label}")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> Arc<str> {
        Arc::from("car.dbc")
    }

    #[test]
    fn locates_line_and_column() {
        let src = b"VERSION \"\"\r\n\r\nBU_: A B\r\nBO_ 1 X: 8 A\n";
        let off = src.windows(3).position(|w| w == b"BO_").unwrap() + 4;
        let loc = Location::from_offset(&name(), src, off);
        assert_eq!((loc.line, loc.column), (4, 5));
        assert_eq!(loc.line_text, "BO_ 1 X: 8 A");
        let crlf = Location::from_offset(&name(), src, 2);
        assert_eq!((crlf.line, crlf.column, crlf.line_text.as_str()), (1, 3, "VERSION \"\""));
        let end = Location::from_offset(&name(), src, 10_000);
        assert_eq!(end.line, 5);
    }

    #[test]
    fn columns_count_characters_in_cp1252_lines() {
        let src = b"CM_ \"Temp \xB0C\" x";
        let loc = Location::from_offset(&name(), src, src.len() - 1);
        assert_eq!(loc.column, 15);
        assert_eq!(loc.line_text, "CM_ \"Temp \u{b0}C\" x");
    }

    #[test]
    fn renders_like_rustc() {
        let loc = Location::from_offset(&name(), b"BU_ A B\n", 4);
        let d = Diagnostic::error(loc, "expected `:` after `BU_`").with_label("here").with_help("write `BU_: A B`");
        let text = d.to_string();
        assert_eq!(
            text,
            "error: expected `:` after `BU_`\n --> car.dbc:1:5\n  |\n1 | BU_ A B\n  |     ^ here\n  = help: write `BU_: A B`"
        );
    }

    #[test]
    fn cp1252_decoding() {
        assert_eq!(decode_lossy(b"\x80 \xe9"), "\u{20ac} \u{e9}");
        assert_eq!(decode_lossy("é".as_bytes()), "é");
    }
}
