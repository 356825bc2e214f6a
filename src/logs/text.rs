//! Shared pieces of the text readers: a line reader that reuses one buffer,
//! whitespace tokens that remember their column, and exact number parsing
//! (hexadecimal bytes and ids, decimal fractions to integer nanoseconds).
//!
//! Invariants:
//! - [`LineReader`] never holds more than [`MAX_LINE`] bytes of one line: a
//!   longer line is reported once as an error and skipped up to its end;
//! - lines come out without their terminator (`\n`, `\r\n`), numbered from 1;
//! - after an I/O error the reader reports it once and then reports the end;
//! - number parsing never goes through floating point and never overflows
//!   silently: a value that does not fit is `None`.

use std::io::BufRead;
use std::sync::Arc;

use crate::frame::FrameError;
use crate::logs::LogError;

/// The longest line a text reader accepts (a CAN FD line of an ASC file, the
/// longest of all formats, is under 1 KiB).
pub const MAX_LINE: usize = 64 * 1024;

/// Why a negative timestamp is refused (a [`Timestamp`](crate::time::Timestamp)
/// counts from zero up).
pub const NEGATIVE_TIME: &str =
    "negative timestamp (the logger's clock went below zero): a time before the epoch cannot be represented";

/// The longest interface or channel name accepted (SocketCAN names have at
/// most 15 bytes; the bound keeps a hostile file from filling the bus table
/// with huge names).
pub const MAX_BUS_NAME: usize = 64;

/// Interns the bus name `name` (which starts at byte `offset` of the line),
/// refusing names longer than [`MAX_BUS_NAME`].
pub fn intern_bus(buses: &mut crate::logs::Buses, name: &[u8], offset: usize) -> Result<crate::logs::BusId, LineError> {
    if name.len() > MAX_BUS_NAME {
        return Err(LineError::malformed(offset, format!("bus name longer than {MAX_BUS_NAME} bytes")));
    }
    Ok(buses.intern(name))
}

/// Value of an ASCII hex digit, or `0xFF`.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// The value of one hex digit.
#[inline]
pub fn hex_digit(byte: u8) -> Option<u8> {
    let v = HEX_VALUE[byte as usize];
    (v != 0xFF).then_some(v)
}

/// The byte written as exactly two hex digits.
#[inline]
pub fn hex_byte(text: &[u8]) -> Option<u8> {
    match text {
        [hi, lo] => Some(hex_digit(*hi)? << 4 | hex_digit(*lo)?),
        _ => None,
    }
}

/// A number of 1 to 8 hex digits.
pub fn hex_u32(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 8 {
        return None;
    }
    text.iter().try_fold(0u32, |acc, &b| Some(acc << 4 | u32::from(hex_digit(b)?)))
}

/// A decimal number of at most 19 digits (so it fits a `u64`).
pub fn dec_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 19 {
        return None;
    }
    text.iter().try_fold(0u64, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0')))
}

/// A decimal number that fits a `u32`.
pub fn dec_u32(text: &[u8]) -> Option<u32> {
    dec_u64(text).and_then(|v| u32::try_from(v).ok())
}

/// Powers of ten that fit a `u64`.
const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// A non-negative decimal `int[.frac]` in units of `10^-scale`, exactly:
/// `parse_scaled(b"1.5", 9, b'.')` is `1_500_000_000`. The decimal separator
/// is `separator` (`.` almost everywhere, `,` in some Windows tools).
///
/// Fraction digits beyond `scale` are accepted only when they are zeros, so
/// nothing is ever rounded. `None` for anything else, including overflow.
pub fn parse_scaled(text: &[u8], scale: u32, separator: u8) -> Option<u64> {
    let scale_pow = *POW10.get(scale as usize)?;
    let mut whole = 0u64;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        whole = whole.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut fraction = 0u64;
    let mut digits = 0u32;
    if let Some(&b) = text.get(i) {
        if b != separator || i + 1 == text.len() {
            return None;
        }
        for &b in text.get(i + 1..).unwrap_or_default() {
            if !b.is_ascii_digit() {
                return None;
            }
            if digits < scale {
                fraction = fraction * 10 + u64::from(b - b'0');
                digits += 1;
            } else if b != b'0' {
                return None;
            }
        }
    }
    let fraction = fraction * POW10.get((scale - digits) as usize)?;
    whole.checked_mul(scale_pow)?.checked_add(fraction)
}

/// Nanoseconds since 1970-01-01T00:00:00 UTC of a civil date and time, or
/// `None` when a field is out of range or the date is before 1970.
pub fn unix_nanos(year: u64, month: u64, day: u64, hour: u64, minute: u64, second: u64, nanos: u64) -> Option<u64> {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1970..=9999).contains(&year) || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), shifted so March is month 0.
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Why a line was refused, before the file and line number are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The text does not have the expected form; says what was expected.
    Malformed(String),
    /// The text is well formed but the frame it describes is invalid.
    Frame(FrameError),
}

/// A refused line: what is wrong and at which byte of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// Byte offset in the line the error points at.
    pub offset: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl LineError {
    /// A form error at byte `offset`.
    pub fn malformed(offset: usize, message: impl Into<String>) -> Self {
        LineError { offset, problem: Problem::Malformed(message.into()) }
    }

    /// An invalid-frame error at byte `offset`.
    pub fn frame(offset: usize, error: FrameError) -> Self {
        LineError { offset, problem: Problem::Frame(error) }
    }

    /// The full error for line `line_no` of `file`, whose text is `line`.
    pub fn into_log_error(self, file: &Arc<str>, line_no: u64, line: &[u8]) -> LogError {
        match self.problem {
            Problem::Malformed(message) => LogError::malformed(file, line_no, line, self.offset, message),
            Problem::Frame(source) => LogError::invalid_frame(file, line_no, line, self.offset, source),
        }
    }
}

/// `text` shown in a message: lossily decoded, cut at 40 characters.
pub fn shown(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}...", text.get(..cut).unwrap_or_default()),
        None => text.into_owned(),
    }
}

/// One whitespace-separated token of a line and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token's bytes.
    pub text: &'a [u8],
    /// Byte offset of its first byte in the line.
    pub start: usize,
}

impl Token<'_> {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Case-insensitive comparison with an ASCII word.
    pub fn is(&self, word: &str) -> bool {
        self.text.eq_ignore_ascii_case(word.as_bytes())
    }
}

/// The tokens of `line` separated by spaces and tabs.
pub fn tokens(line: &[u8]) -> Tokens<'_> {
    Tokens { line, pos: 0 }
}

/// The tokens of `line` from byte `pos` on.
pub fn tokens_from(line: &[u8], pos: usize) -> Tokens<'_> {
    Tokens { line, pos }
}

/// Iterator over the whitespace-separated tokens of a line.
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let line = self.line;
        while line.get(self.pos).is_some_and(|b| is_space(*b)) {
            self.pos += 1;
        }
        let start = self.pos;
        while line.get(self.pos).is_some_and(|b| !is_space(*b)) {
            self.pos += 1;
        }
        let text = line.get(start..self.pos)?;
        (!text.is_empty()).then_some(Token { text, start })
    }
}

/// Space or tab.
#[inline]
pub fn is_space(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// Reads a text input line by line into one reused buffer.
pub struct LineReader {
    input: Box<dyn BufRead + Send>,
    file: Arc<str>,
    buf: Vec<u8>,
    line_no: u64,
    finished: bool,
    terminator: u8,
}

impl LineReader {
    /// A reader of `input`, named `file` in errors, with lines ending in `\n`.
    pub fn new(input: Box<dyn BufRead + Send>, file: Arc<str>) -> Self {
        Self::with_terminator(input, file, b'\n')
    }

    /// A reader whose lines end in `terminator` (`\r` for formats written
    /// with old Mac line ends). A `\r` before a `\n` terminator and a `\n`
    /// after a `\r` terminator are dropped, so CRLF files read the same.
    pub fn with_terminator(input: Box<dyn BufRead + Send>, file: Arc<str>, terminator: u8) -> Self {
        LineReader { input, file, buf: Vec::with_capacity(256), line_no: 0, finished: false, terminator }
    }

    /// The next line without its terminator and its 1-based number, `None`
    /// at the end of the input.
    ///
    /// An over-long line is an error (and is skipped); an I/O error is
    /// reported once, after which the reader is at its end.
    pub fn next_line(&mut self) -> Option<Result<(u64, &[u8]), LogError>> {
        if self.finished {
            return None;
        }
        self.buf.clear();
        let mut too_long = false;
        let mut saw_any = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    self.finished = true;
                    return Some(Err(LogError::Io { file: Arc::clone(&self.file), source }));
                }
            };
            if available.is_empty() {
                self.finished = true;
                if !saw_any {
                    return None;
                }
                break;
            }
            saw_any = true;
            let (chunk, consumed, done) = match find_byte(available, self.terminator) {
                Some(i) => (available.get(..i).unwrap_or_default(), i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > MAX_LINE {
                    too_long = true;
                    let room = MAX_LINE - self.buf.len();
                    self.buf.extend_from_slice(chunk.get(..room).unwrap_or_default());
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.input.consume(consumed);
            if done {
                break;
            }
        }
        self.line_no += 1;
        if too_long {
            let shown = self.buf.get(..120).unwrap_or(&self.buf);
            return Some(Err(LogError::malformed(
                &self.file,
                self.line_no,
                shown,
                shown.len(),
                format!("line longer than {MAX_LINE} bytes (not a capture this reader knows)"),
            )));
        }
        if self.terminator == b'\n' && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if self.terminator == b'\r' && self.buf.first() == Some(&b'\n') {
            self.buf.remove(0);
        }
        Some(Ok((self.line_no, &self.buf)))
    }
}

/// Position of the first `needle`, eight bytes at a time.
#[inline]
fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let repeated: u64 = ONES * u64::from(needle);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ repeated;
        if (x.wrapping_sub(ONES) & !x & HIGHS) != 0 {
            return chunk.iter().position(|&b| b == needle).map(|i| offset + i);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| b == needle).map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn hex_and_decimal() {
        assert_eq!(hex_byte(b"aF"), Some(0xAF));
        assert_eq!(hex_byte(b"G0"), None);
        assert_eq!(hex_byte(b"0"), None);
        assert_eq!(hex_u32(b"1FFFFFFF"), Some(0x1FFF_FFFF));
        assert_eq!(hex_u32(b"123456789"), None);
        assert_eq!(dec_u64(b"18446744073709551615"), None, "20 digits are refused");
        assert_eq!(dec_u64(b"9999999999999999999"), Some(9_999_999_999_999_999_999));
        assert_eq!(dec_u32(b"4294967296"), None);
    }

    #[test]
    fn scaled_decimals_are_exact() {
        assert_eq!(parse_scaled(b"1436509052.249713", 9, b'.'), Some(1_436_509_052_249_713_000));
        assert_eq!(parse_scaled(b"2.5010", 9, b'.'), Some(2_501_000_000));
        assert_eq!(parse_scaled(b"17535.4", 6, b'.'), Some(17_535_400_000));
        assert_eq!(parse_scaled(b"46,016", 9, b','), Some(46_016_000_000));
        assert_eq!(parse_scaled(b"7", 9, b'.'), Some(7_000_000_000));
        assert_eq!(parse_scaled(b"0.1234567891", 9, b'.'), None, "sub-nanosecond digits");
        assert_eq!(parse_scaled(b"0.1234567890", 9, b'.'), Some(123_456_789));
        assert_eq!(parse_scaled(b"1.", 9, b'.'), None);
        assert_eq!(parse_scaled(b".5", 9, b'.'), None);
        assert_eq!(parse_scaled(b"1.2.3", 9, b'.'), None);
        assert_eq!(parse_scaled(b"99999999999", 9, b'.'), None, "overflows u64 nanoseconds");
    }

    #[test]
    fn civil_time() {
        assert_eq!(unix_nanos(1970, 1, 1, 0, 0, 0, 0), Some(0));
        // 2020-12-19 12:04:45 UTC, checked with `date -u -d @1608379485`.
        assert_eq!(unix_nanos(2020, 12, 19, 12, 4, 45, 485_261_000), Some(1_608_379_485_485_261_000));
        assert_eq!(unix_nanos(2024, 2, 29, 0, 0, 0, 0), Some(1_709_164_800_000_000_000));
        assert_eq!(unix_nanos(2023, 2, 29, 0, 0, 0, 0), None);
        assert_eq!(unix_nanos(1969, 12, 31, 0, 0, 0, 0), None);
        assert_eq!(unix_nanos(2020, 13, 1, 0, 0, 0, 0), None);
    }

    #[test]
    fn tokens_keep_their_columns() {
        let toks: Vec<_> = tokens(b"  ab\tc  d ").map(|t| (t.text, t.start)).collect();
        assert_eq!(toks, [(&b"ab"[..], 2), (&b"c"[..], 5), (&b"d"[..], 8)]);
        let mut it = tokens_from(b"x   rest of it", 1);
        assert_eq!(it.next().map(|t| t.start), Some(4));
    }

    #[test]
    fn lines_reuse_a_buffer_and_strip_terminators() {
        let input = Cursor::new(b"one\r\ntwo\n\nthree".to_vec());
        let mut lines = LineReader::new(Box::new(input), Arc::from("t"));
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line() {
            let (no, text) = line.unwrap();
            seen.push((no, text.to_vec()));
        }
        assert_eq!(seen, [(1, b"one".to_vec()), (2, b"two".to_vec()), (3, b"".to_vec()), (4, b"three".to_vec())]);
    }

    #[test]
    fn over_long_lines_are_one_error() {
        let mut text = vec![b'a'; MAX_LINE + 10];
        text.extend_from_slice(b"\nok\n");
        let mut lines = LineReader::new(Box::new(Cursor::new(text)), Arc::from("t"));
        assert!(matches!(lines.next_line(), Some(Err(LogError::Malformed { .. }))));
        assert_eq!(lines.next_line().unwrap().unwrap(), (2, &b"ok"[..]));
        assert!(lines.next_line().is_none());
    }

    #[test]
    fn newline_search_matches_naive() {
        for len in 0..40 {
            for pos in 0..len {
                let mut v = vec![b'x'; len];
                v[pos] = b'\n';
                assert_eq!(find_byte(&v, b'\n'), Some(pos));
                v[pos] = b'\r';
                assert_eq!(find_byte(&v, b'\r'), Some(pos));
            }
            assert_eq!(find_byte(&vec![b'y'; len], b'\n'), None);
        }
    }
}
