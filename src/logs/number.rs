//! Exact number parsing for the text readers: hexadecimal bytes and ids,
//! decimal integers, decimal fractions scaled to integer units, and civil
//! (UTC) dates to Unix nanoseconds.
//!
//! Invariants: nothing goes through floating point; a value that does not fit
//! (or is not exactly representable in the requested unit) is `None`, never
//! rounded or wrapped.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
