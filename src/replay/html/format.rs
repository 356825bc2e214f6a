//! Numbers, ids and times as the page shows them.
//!
//! Invariants: every function is total (non-finite or out-of-range inputs give
//! a placeholder, never a panic) and deterministic (no locale, no clock).

use std::fmt::Write;

/// Shown for a value that cannot be displayed (NaN, infinite).
const UNKNOWN: &str = "?";
/// Epoch seconds of 2000-01-01 and 2100-01-01: timestamps between them are
/// taken for wall-clock times and also shown as dates.
const PLAUSIBLE_EPOCH: std::ops::Range<f64> = 946_684_800.0..4_102_444_800.0;

/// A count with thousands separators: `135,468`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `part` as a percentage of `whole` with two decimals (`0.00%` when `whole` is 0).
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.00%".to_owned();
    }
    format!("{:.2}%", 100.0 * part as f64 / whole as f64)
}

/// A CAN id in hex: `0x123`, or `0x18FEF100x` for a 29-bit id.
pub(crate) fn can_id(id: u32, extended: bool) -> String {
    if extended { format!("0x{id:08X}x") } else { format!("0x{id:03X}") }
}

/// A number for a `data-v` sort key: shortest exact form, 0 when not finite.
pub(crate) fn attr_number(v: f64) -> String {
    if v.is_finite() { v.to_string() } else { "0".to_owned() }
}

/// An absolute capture time in seconds, to the microsecond.
pub(crate) fn seconds(t: f64) -> String {
    if t.is_finite() { format!("{t:.6}") } else { UNKNOWN.to_owned() }
}

/// A time relative to the start of the capture: `+1.234 s`.
pub(crate) fn offset(t: f64) -> String {
    if t.is_finite() { format!("+{:.3} s", t.max(0.0)) } else { UNKNOWN.to_owned() }
}

/// A length of time for people: `850 ms`, `59.993 s`, `2 min 03 s`, `1 h 02 min`.
pub(crate) fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return UNKNOWN.to_owned();
    }
    if secs < 1.0 {
        let ms = secs * 1000.0;
        return if ms == ms.round() { format!("{ms:.0} ms") } else { format!("{ms:.1} ms") };
    }
    if secs < 120.0 {
        return format!("{secs:.3} s");
    }
    let whole = secs.round() as u64;
    if whole < 3600 {
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        format!("{} h {:02} min", whole / 3600, whole % 3600 / 60)
    }
}

/// A tick label on a time axis: `t` seconds after the start, on ticks `step`
/// apart over an axis `span` seconds long.
pub(crate) fn tick(t: f64, step: f64, span: f64) -> String {
    if !(t.is_finite() && step.is_finite() && step > 0.0) {
        return UNKNOWN.to_owned();
    }
    if step < 1.0 {
        // Enough decimals to tell ticks apart (the epsilon absorbs log10's rounding).
        let decimals = (-step.log10() - 1e-9).ceil().max(0.0) as usize;
        if span < 1.0 {
            let ms_decimals = decimals.saturating_sub(3);
            return format!("{:.ms_decimals$} ms", t * 1000.0);
        }
        return format!("{t:.decimals$} s");
    }
    if span < 60.0 {
        return format!("{t:.0} s");
    }
    let whole = t.round() as u64;
    if span < 3600.0 {
        format!("{}:{:02}", whole / 60, whole % 60)
    } else {
        format!("{}:{:02}:{:02}", whole / 3600, whole % 3600 / 60, whole % 60)
    }
}

/// The UTC date and time of `t` seconds since the Unix epoch, when `t` looks
/// like a wall-clock time (between 2000 and 2100): `2015-07-09 19:37:32.249 UTC`.
pub(crate) fn utc_date(t: f64) -> Option<String> {
    if !PLAUSIBLE_EPOCH.contains(&t) {
        return None;
    }
    let millis = (t * 1000.0).round() as i64;
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    let mut out = String::new();
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        ms_of_day % 1000
    );
    Some(out)
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(135_468), "135,468");
        assert_eq!(count(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn percentages_survive_an_empty_whole() {
        assert_eq!(percent(0, 0), "0.00%");
        assert_eq!(percent(98_800, 135_468), "72.93%");
        assert_eq!(percent(3, 3), "100.00%");
    }

    #[test]
    fn ids_show_their_width() {
        assert_eq!(can_id(0x7B, false), "0x07B");
        assert_eq!(can_id(0x18FE_F100, true), "0x18FEF100x");
    }

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(0.0), "0 ms");
        assert_eq!(duration(0.01), "10 ms");
        assert_eq!(duration(0.0125), "12.5 ms");
        assert_eq!(duration(59.993), "59.993 s");
        assert_eq!(duration(123.4), "2 min 03 s");
        assert_eq!(duration(3725.0), "1 h 02 min");
        assert_eq!(duration(f64::NAN), "?");
        assert_eq!(duration(-1.0), "?");
    }

    #[test]
    fn tick_labels_follow_the_step() {
        assert_eq!(tick(0.004, 0.002, 0.01), "4 ms");
        assert_eq!(tick(0.0005, 0.0005, 0.002), "0.5 ms");
        assert_eq!(tick(1.5, 0.5, 3.0), "1.5 s");
        assert_eq!(tick(20.0, 5.0, 40.0), "20 s");
        assert_eq!(tick(150.0, 30.0, 300.0), "2:30");
        assert_eq!(tick(3720.0, 600.0, 7200.0), "1:02:00");
        assert_eq!(tick(f64::NAN, 1.0, 1.0), "?");
        assert_eq!(tick(1.0, 0.0, 1.0), "?");
    }

    #[test]
    fn wall_clock_times_become_dates() {
        assert_eq!(utc_date(1_436_509_052.249_713).as_deref(), Some("2015-07-10 06:17:32.250 UTC"));
        assert_eq!(utc_date(951_782_400.0).as_deref(), Some("2000-02-29 00:00:00.000 UTC"));
        assert_eq!(utc_date(46_408.58), None, "seconds since boot are not dates");
        assert_eq!(utc_date(f64::INFINITY), None);
    }

    #[test]
    fn relative_and_absolute_seconds() {
        assert_eq!(offset(1.2345), "+1.234 s");
        assert_eq!(offset(-0.0001), "+0.000 s");
        assert_eq!(seconds(46_408.584_93), "46408.584930");
        assert_eq!(seconds(f64::NAN), "?");
    }
}
