//! HTML escaping of untrusted text.
//!
//! Everything the report carries as text (rule, port, route, bus and message
//! names, event details, mode causes) comes from capture files, DBC files and
//! rule files, so it is escaped before it reaches the page, in element content
//! and in attribute values alike. Invariant: the output of [`Esc`] never
//! contains `<`, `>`, `&` (except as the start of an entity), `"` or `'`, nor
//! a control character other than tab and newline.

use std::fmt;

/// Text written HTML-escaped by its `Display` implementation, safe in element
/// content and in quoted attribute values.
pub(crate) struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let mut clean_from = 0;
        for (at, c) in text.char_indices() {
            let replacement = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                '\t' | '\n' => continue,
                c if c.is_control() => "\u{FFFD}",
                _ => continue,
            };
            f.write_str(text.get(clean_from..at).unwrap_or_default())?;
            f.write_str(replacement)?;
            clean_from = at + c.len_utf8();
        }
        f.write_str(text.get(clean_from..).unwrap_or_default())
    }
}

/// `text` cut to at most `max_chars` characters, with `…` marking a cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => text.into(),
        Some(_) => {
            let keep: String = text.chars().take(max_chars.saturating_sub(1)).collect();
            format!("{keep}…").into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        let out = Esc("<script>alert('x' & \"y\")</script>").to_string();
        assert_eq!(out, "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;");
    }

    #[test]
    fn plain_and_unicode_text_is_unchanged() {
        assert_eq!(Esc("VCU_Speed Grüße 速度").to_string(), "VCU_Speed Grüße 速度");
        assert_eq!(Esc("").to_string(), "");
    }

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(Esc("a\u{0}b\u{1b}[31mc\td\ne").to_string(), "a\u{FFFD}b\u{FFFD}[31mc\td\ne");
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("VCU_Speed", 20), "VCU_Speed");
        assert_eq!(truncate("Grüße aus Köln", 6), "Grüße…");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
    }
}
