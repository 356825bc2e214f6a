//! Rule files as text, and turning TOML spans into diagnostics.
//!
//! A [`RuleSource`] keeps a rule file's name and bytes so that any byte span
//! the TOML parser reports becomes a [`Location`] with line, column and the
//! offending line. [`Diagnostics`] collects every problem of a compilation, so
//! `bulkhead check` reports them all at once instead of stopping at the first.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::Spanned;

use crate::diagnostic::{Diagnostic, Location, Severity};

/// One rule file.
#[derive(Clone, Debug)]
pub struct RuleSource {
    /// The name shown in diagnostics (the path as given).
    pub name: Arc<str>,
    /// The directory relative paths in the file are resolved against.
    pub dir: PathBuf,
    /// The file's text.
    pub text: String,
}

impl RuleSource {
    /// A source named `name` whose relative paths resolve against `dir`.
    pub fn new(name: &str, dir: &Path, text: String) -> Self {
        RuleSource { name: Arc::from(name), dir: dir.to_path_buf(), text }
    }

    /// The location of byte `offset`.
    pub fn location(&self, offset: usize) -> Location {
        Location::from_offset(&self.name, self.text.as_bytes(), offset)
    }

    /// The location of the start of `span`.
    pub fn span_location(&self, span: &Range<usize>) -> Location {
        self.location(span.start)
    }

    /// The location of byte `offset` inside the string value spanned by
    /// `value` (accounting for its opening quote or triple quote).
    pub fn inside_string(&self, value: &Spanned<String>, offset: usize) -> Location {
        let span = value.span();
        let raw = self.text.as_bytes().get(span.start..).unwrap_or(&[]);
        let opening = if raw.starts_with(b"\"\"\"") || raw.starts_with(b"'''") {
            3 + usize::from(raw.get(3) == Some(&b'\n'))
        } else {
            1
        };
        self.location(span.start + opening + offset)
    }
}

/// The problems found so far.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// An error at `span` of `source`.
    pub fn error(&mut self, source: &RuleSource, span: &Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        self.items.push(Diagnostic::error(source.span_location(span), message));
        self.items.last_mut().expect("just pushed")
    }

    /// A warning at `span` of `source`.
    pub fn warning(&mut self, source: &RuleSource, span: &Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        self.items.push(Diagnostic::warning(source.span_location(span), message));
        self.items.last_mut().expect("just pushed")
    }

    /// True when an error was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity == Severity::Error).count()
    }

    /// All diagnostics, sorted by file, line and column (stable for equal positions).
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (a.location.file.as_ref(), a.location.line, a.location.column).cmp(&(
                b.location.file.as_ref(),
                b.location.line,
                b.location.column,
            ))
        });
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_inside_strings() {
        let text = "when = \"speed < 3\"\nother = '''\nx > 1'''\n";
        let src = RuleSource::new("r.toml", Path::new("."), text.to_owned());
        let first = Spanned::new(7..18, "speed < 3".to_owned());
        let loc = src.inside_string(&first, 6);
        assert_eq!((loc.line, loc.column), (1, 15));
        let second = Spanned::new(27..37, "x > 1".to_owned());
        let loc = src.inside_string(&second, 2);
        assert_eq!((loc.line, loc.column), (3, 3));
    }
}
