//! The tokens of the DBC language, read from raw bytes: whitespace,
//! identifiers, keywords, numbers, quoted strings, punctuation and the `;`
//! that ends a statement.
//!
//! Conventions (every parser here follows them):
//! - a token parser skips the whitespace (spaces, tabs, CR, LF) *before* its
//!   token, never after, so an error points at the offending token itself;
//! - parsers that take a `what` argument fail with a committed
//!   [`nom::Err::Failure`] whose message is `what` ("expected the message id
//!   after `BO_`"); the others return a recoverable [`nom::Err::Error`] so
//!   callers can try something else;
//! - numbers: `12`, `-3.5`, `1e-3`, `1E+005` (as CANdb++ writes exponents) are
//!   plain; `.25`, `1.` and `+5` are read the obvious way with a warning;
//! - identifiers are ASCII (`[A-Za-z0-9_]`); quoted text is decoded with
//!   [`decode_lossy`] (UTF-8 when valid, else Windows-1252) after `\"` has been
//!   unescaped; no other escape exists in DBC files;
//! - nothing here allocates except the `String`s returned for names and text.

use std::borrow::Cow;

use nom::branch::alt;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char as byte_char, digit0, digit1, one_of};
use nom::combinator::{opt, recognize};
use nom::{IResult, Parser};

use super::context::Ctx;
use super::syntax_error::{SyntaxError, fail};
use crate::diagnostic::decode_lossy;

/// Parser input: the rest of the file.
pub(crate) type Input<'a> = &'a [u8];
/// What every parser of the grammar returns.
pub(crate) type PResult<'a, T> = IResult<Input<'a>, T, SyntaxError>;

/// Every keyword that can start a statement.
const KEYWORDS: &[&[u8]] = &[
    b"VERSION",
    b"NS_",
    b"NS_DESC_",
    b"BS_",
    b"BU_",
    b"BO_",
    b"SG_",
    b"EV_",
    b"CM_",
    b"BA_",
    b"BA_DEF_",
    b"BA_DEF_DEF_",
    b"BA_REL_",
    b"BA_DEF_REL_",
    b"BA_DEF_DEF_REL_",
    b"BA_SGTYPE_",
    b"BA_DEF_SGTYPE_",
    b"VAL_",
    b"VAL_TABLE_",
    b"CAT_",
    b"CAT_DEF_",
    b"FILTER",
    b"EV_DATA_",
    b"ENVVAR_DATA_",
    b"SGTYPE_",
    b"SGTYPE_VAL_",
    b"SIGTYPE_VALTYPE_",
    b"SIG_TYPE_REF_",
    b"SIG_GROUP_",
    b"SIG_VALTYPE_",
    b"SG_MUL_VAL_",
    b"BO_TX_BU_",
    b"BU_SG_REL_",
    b"BU_EV_REL_",
    b"BU_BO_REL_",
];

/// True for whitespace between tokens (LF included).
pub(crate) const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C)
}

/// True for whitespace that does not end a line.
pub(crate) const fn is_inline_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0B | 0x0C)
}

/// True for a byte of an identifier or keyword.
pub(crate) const fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// True when `word` is a DBC statement keyword.
pub(crate) fn is_keyword(word: &[u8]) -> bool {
    // Every keyword is upper case and most end with `_`: reject the usual
    // names (signals, nodes) without comparing against the whole list.
    match (word.first(), word.last()) {
        (Some(b'A'..=b'Z'), Some(b'_' | b'N' | b'R')) => KEYWORDS.contains(&word),
        _ => false,
    }
}

/// Skips whitespace, line ends included.
pub(crate) fn skip_space(i: Input<'_>) -> Input<'_> {
    let r: PResult<'_, Input<'_>> = take_while(is_space)(i);
    r.map_or(i, |(rest, _)| rest)
}

/// Skips spaces and tabs (and CR), stopping at a line feed.
pub(crate) fn skip_inline_space(i: Input<'_>) -> Input<'_> {
    let r: PResult<'_, Input<'_>> = take_while(is_inline_space)(i);
    r.map_or(i, |(rest, _)| rest)
}

/// Skips to the line feed ending the current line (not past it).
pub(crate) fn skip_to_line_end(i: Input<'_>) -> Input<'_> {
    let r: PResult<'_, Input<'_>> = take_while(|b| b != b'\n')(i);
    r.map_or(i, |(rest, _)| rest)
}

/// True when only spaces or tabs separate `rest` from the start of its line.
pub(crate) fn at_line_start(cx: &Ctx<'_>, rest: Input<'_>) -> bool {
    let offset = cx.offset(rest);
    let before = cx.source.get(..offset).unwrap_or_default();
    before.iter().rev().find(|&&b| !is_inline_space(b)).is_none_or(|&b| b == b'\n')
}

/// An identifier (after whitespace): `[A-Za-z0-9_]+`. Recoverable error if none.
pub(crate) fn ident(i: Input<'_>) -> PResult<'_, &[u8]> {
    take_while1(is_ident_byte)(skip_space(i))
}

/// The identifier that comes next, if any, without consuming it.
pub(crate) fn peek_ident(i: Input<'_>) -> Option<&[u8]> {
    ident(i).ok().map(|(_, word)| word)
}

/// The keyword that comes next, if the next token is one.
pub(crate) fn peek_keyword(i: Input<'_>) -> Option<&[u8]> {
    peek_ident(i).filter(|w| is_keyword(w))
}

/// `word` as an owned string (identifiers are ASCII, so this never loses anything).
pub(crate) fn ascii_string(word: &[u8]) -> String {
    match std::str::from_utf8(word) {
        Ok(s) => s.to_owned(),
        Err(_) => decode_lossy(word),
    }
}

/// A name (node, message, signal, ...), failing with `what` when there is none.
///
/// Names that start with a digit (`2017_5`) are accepted with a warning.
pub(crate) fn name<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, String> {
    let (rest, word) = name_bytes(cx, i, what)?;
    let offset = cx.offset(rest).saturating_sub(word.len());
    let text = cx.text_at(offset, word.len()).map_or_else(|| ascii_string(word), str::to_owned);
    Ok((rest, text))
}

/// Like [`name`] but borrowed.
pub(crate) fn name_bytes<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, &'a [u8]> {
    let start = skip_space(i);
    let (rest, word) = ident(start).map_err(|_| fail(start, what))?;
    if word.first().is_some_and(u8::is_ascii_digit) {
        if word.iter().all(u8::is_ascii_digit) {
            return Err(fail(start, what));
        }
        cx.warn(
            start,
            format!("name `{}` starts with a digit; DBC names start with a letter or `_`", ascii_string(word)),
        );
    }
    Ok((rest, word))
}

/// The punctuation byte `c` (after whitespace), failing with `what`.
pub(crate) fn symbol<'a>(i: Input<'a>, c: u8, what: &'static str) -> PResult<'a, ()> {
    let start = skip_space(i);
    match start.split_first() {
        Some((&b, rest)) if b == c => Ok((rest, ())),
        _ => Err(fail(start, what)),
    }
}

/// The punctuation byte `c` if it comes next (after whitespace).
pub(crate) fn opt_symbol(i: Input<'_>, c: u8) -> (Input<'_>, bool) {
    let start = skip_space(i);
    match start.split_first() {
        Some((&b, rest)) if b == c => (rest, true),
        _ => (i, false),
    }
}

/// True when the next token (after whitespace) is the byte `c`.
pub(crate) fn next_is(i: Input<'_>, c: u8) -> bool {
    skip_space(i).first() == Some(&c)
}

/// True when the next token starts like a number.
pub(crate) fn next_is_number(i: Input<'_>) -> bool {
    let start = skip_space(i);
    match start {
        [b'0'..=b'9', ..] => number_lexeme(start).is_ok(),
        [b'+' | b'-' | b'.', b'0'..=b'9' | b'.', ..] => number_lexeme(start).is_ok(),
        _ => false,
    }
}

/// The text of a number: `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`,
/// not directly followed by an identifier byte. Recoverable error if absent.
fn number_lexeme(i: Input<'_>) -> PResult<'_, &[u8]> {
    let (rest, text) = recognize((
        opt(one_of("+-")),
        alt((recognize((digit1, opt((byte_char('.'), digit0)))), recognize((byte_char('.'), digit1)))),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(i)?;
    match rest.first() {
        Some(&b) if is_ident_byte(b) || b == b'.' => Err(nom::Err::Error(SyntaxError::at(i, "expected a number"))),
        _ => Ok((rest, text)),
    }
}

/// Warns about the unusual but unambiguous ways real files write numbers.
fn check_number_style(cx: &Ctx<'_>, at: Input<'_>, text: &[u8]) {
    let unsigned = match text.split_first() {
        Some((b'+', rest)) => {
            cx.warn(at, format!("number `{}` is written with a leading `+`", ascii_string(text)));
            rest
        }
        Some((b'-', rest)) => rest,
        _ => text,
    };
    if unsigned.first() == Some(&b'.') {
        cx.warn(at, format!("number `{}` has no digit before its decimal point", ascii_string(text)));
    }
    let mantissa_end = unsigned.iter().position(|&b| b == b'e' || b == b'E').unwrap_or(unsigned.len());
    if unsigned.get(..mantissa_end).is_some_and(|m| m.last() == Some(&b'.')) {
        cx.warn(at, format!("number `{}` ends with a decimal point", ascii_string(text)));
    }
}

/// The value of a number lexeme (always valid: the lexeme grammar is a subset of Rust's).
fn lexeme_value(text: &[u8]) -> f64 {
    if text.len() <= 15 && text.iter().all(u8::is_ascii_digit) {
        return text.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0')) as f64;
    }
    std::str::from_utf8(text).ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN)
}

/// A number (integer or decimal, any sign), failing with `what`.
pub(crate) fn number<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, f64> {
    let start = skip_space(i);
    let (rest, text) = number_lexeme(start).map_err(|_| fail(start, what))?;
    check_number_style(cx, start, text);
    let value = lexeme_value(text);
    if !value.is_finite() {
        return Err(fail(start, "number is too large for a 64-bit float"));
    }
    Ok((rest, value))
}

/// An unsigned decimal integer, failing with `what` (and saying so when it overflows 64 bits).
pub(crate) fn unsigned<'a>(i: Input<'a>, what: &'static str) -> PResult<'a, u64> {
    let start = skip_space(i);
    let (rest, digits) = digit1::<_, SyntaxError>(start).map_err(|_| fail(start, what))?;
    if rest.first().is_some_and(|&b| is_ident_byte(b) || b == b'.') {
        return Err(fail(start, what));
    }
    let value = digits
        .iter()
        .try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))
        .ok_or_else(|| fail(start, "number does not fit in 64 bits"))?;
    Ok((rest, value))
}

/// An unsigned integer that must fit in 32 bits.
pub(crate) fn unsigned32<'a>(i: Input<'a>, what: &'static str) -> PResult<'a, u32> {
    let start = skip_space(i);
    let (rest, value) = unsigned(start, what)?;
    let value = u32::try_from(value).map_err(|_| fail(start, "number does not fit in 32 bits"))?;
    Ok((rest, value))
}

/// A number literal as written, for values whose type depends on a definition
/// (attribute values) or that are integers in most files (value description keys).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum NumberLiteral {
    /// Written as an integer that fits in `i64`.
    Int(i64),
    /// Written with a fraction or an exponent, or too large for `i64`.
    Float(f64),
}

impl NumberLiteral {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            NumberLiteral::Int(i) => i as f64,
            NumberLiteral::Float(f) => f,
        }
    }

    /// The value as an integer when it is one exactly.
    pub fn as_exact_i64(self) -> Option<i64> {
        match self {
            NumberLiteral::Int(i) => Some(i),
            NumberLiteral::Float(f)
                if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
            {
                Some(f as i64)
            }
            NumberLiteral::Float(_) => None,
        }
    }
}

/// A number literal, failing with `what`.
pub(crate) fn number_literal<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, NumberLiteral> {
    let start = skip_space(i);
    let (rest, text) = number_lexeme(start).map_err(|_| fail(start, what))?;
    check_number_style(cx, start, text);
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.iter().enumerate().all(|(k, &b)| b.is_ascii_digit() || (k == 0 && b == b'-'))
        && let Some(i) = std::str::from_utf8(digits).ok().and_then(|s| s.parse::<i64>().ok())
    {
        return Ok((rest, NumberLiteral::Int(i)));
    }
    let value = lexeme_value(text);
    if !value.is_finite() {
        return Err(fail(start, "number is too large for a 64-bit float"));
    }
    Ok((rest, NumberLiteral::Float(value)))
}

/// The bytes between the quotes of a string, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawText<'a> {
    /// The bytes between the quotes (escapes not yet removed).
    pub bytes: &'a [u8],
    /// True when the text contains `\"`.
    pub escaped: bool,
    /// Bytes of input left at the first byte of the text (to find its offset).
    pub rest_len: usize,
}

impl RawText<'_> {
    /// The text with `\"` unescaped and decoded (UTF-8, else Windows-1252).
    pub fn decode(&self, cx: &Ctx<'_>) -> String {
        if !self.escaped {
            let offset = cx.source.len().saturating_sub(self.rest_len);
            return cx.text_at(offset, self.bytes.len()).map_or_else(|| decode_lossy(self.bytes), str::to_owned);
        }
        let mut unescaped = Vec::with_capacity(self.bytes.len());
        let mut rest = self.bytes;
        while let Some((&b, tail)) = rest.split_first() {
            if b == b'\\' && tail.first() == Some(&b'"') {
                unescaped.push(b'"');
                rest = tail.get(1..).unwrap_or_default();
            } else {
                unescaped.push(b);
                rest = tail;
            }
        }
        decode_lossy(&unescaped)
    }
}

/// A quoted string (after whitespace), failing with `what` when the next token
/// is not a string, and pointing at the opening quote when it never closes.
pub(crate) fn raw_string<'a>(i: Input<'a>, what: &'static str) -> PResult<'a, RawText<'a>> {
    let start = skip_space(i);
    let Some((b'"', body)) = start.split_first() else {
        return Err(fail(start, what));
    };
    let mut escaped = false;
    let mut at = 0;
    loop {
        let Some(found) = body.get(at..).and_then(|tail| tail.iter().position(|&b| b == b'"' || b == b'\\')) else {
            return Err(SyntaxError::at(start, "unterminated string: this `\"` is never closed")
                .with_label("the string opened here")
                .with_help("end the text with `\"`; write `\\\"` for a quote inside it")
                .stopping()
                .failure());
        };
        let pos = at + found;
        match (body.get(pos), body.get(pos + 1)) {
            (Some(b'\\'), Some(b'"')) => {
                escaped = true;
                at = pos + 2;
            }
            (Some(b'\\'), _) => at = pos + 1,
            _ => {
                let text = body.get(..pos).unwrap_or_default();
                let rest = body.get(pos + 1..).unwrap_or_default();
                return Ok((rest, RawText { bytes: text, escaped, rest_len: body.len() }));
            }
        }
    }
}

/// A quoted string, decoded.
pub(crate) fn string<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, String> {
    let (rest, raw) = raw_string(i, what)?;
    Ok((rest, raw.decode(cx)))
}

/// What the parser found at `rest`, for the label under an error's caret.
pub(crate) fn describe_found(rest: &[u8]) -> Cow<'static, str> {
    match rest.first() {
        None => Cow::Borrowed("found end of file"),
        Some(b'\n') => Cow::Borrowed("found end of line"),
        Some(b'\r') if rest.get(1) == Some(&b'\n') => Cow::Borrowed("found end of line"),
        Some(b'"') => Cow::Borrowed("found a string"),
        Some(&b) if is_ident_byte(b) || b == b'-' || b == b'+' || b == b'.' => {
            let len = rest.iter().skip(1).take_while(|&&c| is_ident_byte(c) || c == b'.').count() + 1;
            let token = rest.get(..len.min(40)).unwrap_or_default();
            Cow::Owned(format!("found `{}`", decode_lossy(token)))
        }
        Some(&b) if b.is_ascii_graphic() => Cow::Owned(format!("found `{}`", char::from(b))),
        Some(&b) if b < 0x80 => Cow::Owned(format!("found the control character 0x{b:02X}")),
        Some(_) => {
            let len = rest.iter().take_while(|&&b| b >= 0x80).count().clamp(1, 4);
            Cow::Owned(format!("found `{}`", decode_lossy(rest.get(..len).unwrap_or_default())))
        }
    }
}

/// Consumes the `;` that ends statement `stmt`.
///
/// Tolerated with a warning: a missing `;` when the next statement starts on
/// a new line (or the file ends), repeated `;`, and text after the `;` on the
/// same line (ignored up to the line end). Another statement on the same line
/// is fine.
pub(crate) fn end_of_statement<'a>(cx: &Ctx<'_>, i: Input<'a>, stmt: &'static str) -> PResult<'a, ()> {
    let start = skip_space(i);
    let Some((b';', after)) = start.split_first() else {
        if start.is_empty() || (peek_keyword(start).is_some() && at_line_start(cx, start)) {
            cx.warn(i, format!("missing `;` at the end of `{stmt}`"));
            return Ok((start, ()));
        }
        return Err(SyntaxError::at(start, format!("expected `;` at the end of `{stmt}`")).failure());
    };
    let mut rest = skip_inline_space(after);
    while let Some((b';', more)) = rest.split_first() {
        cx.warn(rest, "extra `;` ignored");
        rest = skip_inline_space(more);
    }
    match rest.first() {
        None | Some(b'\n') => Ok((rest, ())),
        Some(b'/') if rest.get(1) == Some(&b'/') => Ok((rest, ())),
        Some(_) if peek_keyword(rest).is_some() => Ok((rest, ())),
        Some(_) => {
            cx.warn(rest, format!("text after the `;` of `{stmt}` is ignored"));
            Ok((skip_to_line_end(rest), ()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;

    fn with_cx<T>(src: &[u8], f: impl FnOnce(&Ctx<'_>) -> T) -> (T, Vec<(usize, String)>) {
        let sink = NoteSink::default();
        let cx = Ctx::new(src, &sink);
        let out = f(&cx);
        let notes = sink.into_inner();
        let (_, warnings) = notes.into_diagnostics(&std::sync::Arc::from("t"), src);
        (out, warnings.into_iter().map(|w| (w.location.column as usize, w.message)).collect())
    }

    #[test]
    fn numbers_in_all_real_world_forms() {
        for (text, value, warns) in [
            ("12", 12.0, 0),
            ("-3.5", -3.5, 0),
            ("1e-3", 0.001, 0),
            ("1E+05", 100000.0, 0),
            (".25", 0.25, 1),
            ("1.", 1.0, 1),
            ("+5", 5.0, 1),
            ("-.5", -0.5, 1),
        ] {
            let src = format!(" {text},");
            let (r, w) = with_cx(src.as_bytes(), |cx| {
                number(cx, src.as_bytes(), "expected a number").map(|(r, v)| (r.len(), v))
            });
            assert_eq!(r, Ok((1, value)), "{text}");
            assert_eq!(w.len(), warns, "{text}: {w:?}");
            if warns > 0 {
                assert_eq!(w[0].0, 2, "{text}");
            }
        }
    }

    #[test]
    fn number_refuses_identifiers_and_garbage() {
        for text in ["abc", "2017_5", "1.2.3", "e5", "-", ".", "1e"] {
            let (r, _) = with_cx(text.as_bytes(), |cx| number(cx, text.as_bytes(), "expected a number").is_err());
            assert!(r, "{text}");
        }
    }

    #[test]
    fn literals_keep_integers_exact() {
        let (r, _) = with_cx(b"9007199254740993", |cx| number_literal(cx, b"9007199254740993", "n").map(|(_, v)| v));
        assert_eq!(r, Ok(NumberLiteral::Int(9_007_199_254_740_993)));
        let (r, _) =
            with_cx(b"18446744073709551615", |cx| number_literal(cx, b"18446744073709551615", "n").map(|(_, v)| v));
        assert_eq!(r, Ok(NumberLiteral::Float(18446744073709551615.0)));
        assert_eq!(NumberLiteral::Float(3.0).as_exact_i64(), Some(3));
        assert_eq!(NumberLiteral::Float(3.5).as_exact_i64(), None);
    }

    #[test]
    fn unsigned_overflow_is_reported() {
        let e = unsigned(b"99999999999999999999", "expected an id").unwrap_err();
        let nom::Err::Failure(e) = e else { panic!("not a failure") };
        assert_eq!(e.message, "number does not fit in 64 bits");
        assert!(unsigned32(b"4294967296", "id").is_err());
        assert_eq!(unsigned32(b"4294967295 x", "id").map(|(_, v)| v), Ok(u32::MAX));
    }

    #[test]
    fn strings_with_escapes_newlines_and_cp1252() {
        for src in [&b"  \"a \\\"b\\\" \\n\nc\" ;"[..], b"  \"a \\\"b\\\" \\n\nc\" ;\xFF"] {
            let (text, _) = with_cx(src, |cx| string(cx, src, "s").map(|(rest, t)| (t, rest.len())));
            assert_eq!(text, Ok(("a \"b\" \\n\nc".to_owned(), src.len() - 16)));
        }
        let src = b"\"\xB0C\"";
        assert_eq!(with_cx(src, |cx| string(cx, src, "s").map(|(_, t)| t)).0.as_deref(), Ok("\u{b0}C"));
        let src = "x \"\u{b0}C\"".as_bytes();
        assert_eq!(with_cx(src, |cx| string(cx, &src[1..], "s").map(|(_, t)| t)).0.as_deref(), Ok("\u{b0}C"));
        assert_eq!(with_cx(b"\"\"", |cx| string(cx, b"\"\"", "s").map(|(_, t)| t)).0.as_deref(), Ok(""));
    }

    #[test]
    fn unterminated_string_points_at_its_opening_quote() {
        let src = b"CM_ \"abc\n def";
        let nom::Err::Failure(e) = raw_string(&src[3..], "s").unwrap_err() else { panic!() };
        assert_eq!(src.len() - e.rest_len, 4);
        assert!(e.message.starts_with("unterminated string"));
    }

    #[test]
    fn names_starting_with_digits_warn() {
        let (r, w) = with_cx(b" 2017_5:", |cx| name(cx, b" 2017_5:", "expected a name").map(|(_, n)| n));
        assert_eq!(r.as_deref(), Ok("2017_5"));
        assert_eq!(w, vec![(2, "name `2017_5` starts with a digit; DBC names start with a letter or `_`".into())]);
        let (r, _) = with_cx(b" 2017", |cx| name(cx, b" 2017", "expected a name").is_err());
        assert!(r);
    }

    #[test]
    fn statement_end_quirks() {
        let src = b"VAL_ 1 X 0 \"a\"\nVAL_ 2 Y;";
        let (r, w) = with_cx(src, |cx| end_of_statement(cx, &src[14..], "VAL_").map(|(r, _)| r.len()));
        assert_eq!(r, Ok(src.len() - 15));
        assert_eq!(w, vec![(15, "missing `;` at the end of `VAL_`".into())]);

        let src = b"CM_ \"x\";; junk\nBO_";
        let (r, w) = with_cx(src, |cx| end_of_statement(cx, &src[7..], "CM_").map(|(r, _)| r.len()));
        assert_eq!(r, Ok(4));
        assert_eq!(w.len(), 2);
        assert_eq!(w[1], (11, "text after the `;` of `CM_` is ignored".into()));

        let src = b"CM_ \"x\" BO_ 1";
        let (r, _) = with_cx(src, |cx| end_of_statement(cx, &src[7..], "CM_").is_err());
        assert!(r, "a keyword on the same line without `;` is an error");
    }

    #[test]
    fn describes_what_was_found() {
        assert_eq!(describe_found(b""), "found end of file");
        assert_eq!(describe_found(b"\r\nx"), "found end of line");
        assert_eq!(describe_found(b"abc def"), "found `abc`");
        assert_eq!(describe_found(b"; x"), "found `;`");
        assert_eq!(describe_found(b"\"x\""), "found a string");
        assert_eq!(describe_found(b"\rx"), "found the control character 0x0D");
        assert_eq!(describe_found("é".as_bytes()), "found `é`");
    }
}
