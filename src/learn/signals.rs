//! Signal values: what each signal of a DBC message did in the capture, and
//! the range to propose for it.
//!
//! [`SignalStats`] keeps, per signal, the smallest and largest physical value,
//! the first few distinct raw values (up to [`DISTINCT_CAP`], then only "more"),
//! and how often the value broke the DBC's own rules as the engine applies
//! them (outside the DBC `[min|max]`, or an integer that no value description
//! names). [`widen`] turns the observed extremes into the proposed `min`/`max`:
//! the span grows by a share of itself (at least a few raw steps) on each
//! side, is rounded outward to the precision of the signal's factor, and is
//! clamped to what the signal's bits can hold (and to the DBC range when that
//! stays in force). A side that reaches the limit is left out: it would check
//! nothing.
//!
//! Invariant: memory per signal is fixed (the distinct set is capped).

use crate::codec::{Decoded, RawValue, SignalCodec};
use crate::dbc::ValueType;
use crate::rules::bound_slack;

/// Distinct raw values remembered per signal; past this, only "more".
pub const DISTINCT_CAP: usize = 16;

/// How much room the proposed ranges leave around what was seen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RangeMargins {
    /// Each side grows by this share of the observed span...
    pub span_share: f64,
    /// ... and by at least this many raw steps (`|factor|`).
    pub raw_steps: f64,
    /// `allow` lists are proposed for signals with value descriptions that
    /// took at most this many distinct values (0: never).
    pub allow_max_values: usize,
}

impl Default for RangeMargins {
    fn default() -> Self {
        RangeMargins { span_share: 1.0, raw_steps: 4.0, allow_max_values: 8 }
    }
}

/// The DBC's own constraints on a signal, as the rule compiler applies them.
#[derive(Clone, Debug, PartialEq)]
pub struct DbcConstraints {
    /// The DBC `[min|max]` when meaningful (checked with the compiler's
    /// [`bound_slack`] for the signal's `factor`).
    pub range: Option<(f64, f64)>,
    /// The signal's factor.
    pub factor: f64,
    /// The described raw values, sorted (`None` when the enum check does not apply).
    pub described: Option<Vec<i64>>,
}

/// What one signal did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignalStats {
    /// Frames in which the signal was present.
    pub present: u64,
    /// Smallest physical value (NaN never counts).
    pub min: Option<f64>,
    /// Largest physical value.
    pub max: Option<f64>,
    /// Frames holding NaN (a float signal).
    pub nan: u64,
    /// Distinct raw integer values, sorted, up to [`DISTINCT_CAP`].
    pub distinct: Vec<i64>,
    /// True when more than [`DISTINCT_CAP`] distinct values (or a non-integral raw) were seen.
    pub many_values: bool,
    /// Frames outside the DBC range, with the first such value.
    pub out_of_dbc_range: (u64, Option<f64>),
    /// Frames holding an undescribed value, with the first such raw value.
    pub undescribed: (u64, Option<i64>),
}

impl SignalStats {
    /// Records one decoded value against the DBC's constraints.
    pub fn observe(&mut self, value: Decoded, dbc: &DbcConstraints) {
        self.present += 1;
        let v = value.physical;
        if v.is_nan() {
            self.nan += 1;
        } else {
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
        if let Some((lo, hi)) = dbc.range
            && (v.is_nan() || v < lo - bound_slack(dbc.factor, lo) || v > hi + bound_slack(dbc.factor, hi))
        {
            self.out_of_dbc_range.0 += 1;
            self.out_of_dbc_range.1.get_or_insert(v);
        }
        let raw = value.raw.as_i64();
        if let Some(described) = &dbc.described
            && raw.is_none_or(|r| described.binary_search(&r).is_err())
        {
            self.undescribed.0 += 1;
            if let Some(r) = raw {
                self.undescribed.1.get_or_insert(r);
            }
        }
        match raw {
            Some(r) if !self.many_values => {
                if let Err(at) = self.distinct.binary_search(&r) {
                    if self.distinct.len() == DISTINCT_CAP {
                        self.many_values = true;
                        self.distinct.clear();
                    } else {
                        self.distinct.insert(at, r);
                    }
                }
            }
            Some(_) => {}
            None => {
                self.many_values = true;
                self.distinct.clear();
            }
        }
    }
}

impl SignalStats {
    /// Adds what `other` saw (the same signal in another message of the same layout).
    pub fn merge(&mut self, other: &SignalStats) {
        self.present += other.present;
        self.nan += other.nan;
        self.min = match (self.min, other.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, other.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.many_values |= other.many_values;
        if !self.many_values {
            for v in &other.distinct {
                if let Err(at) = self.distinct.binary_search(v) {
                    self.distinct.insert(at, *v);
                }
            }
            if self.distinct.len() > DISTINCT_CAP {
                self.many_values = true;
            }
        }
        if self.many_values {
            self.distinct.clear();
        }
        self.out_of_dbc_range.0 += other.out_of_dbc_range.0;
        self.out_of_dbc_range.1 = self.out_of_dbc_range.1.or(other.out_of_dbc_range.1);
        self.undescribed.0 += other.undescribed.0;
        self.undescribed.1 = self.undescribed.1.or(other.undescribed.1);
    }
}

/// A proposed range; a side that would check nothing is `None`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProposedRange {
    /// Smallest allowed physical value.
    pub min: Option<f64>,
    /// Largest allowed physical value.
    pub max: Option<f64>,
}

/// The physical values the signal's bits can hold (for floats: all finite values).
pub fn representable(signal: &SignalCodec) -> (f64, f64) {
    let bits = signal.size() as i32;
    let (raw_lo, raw_hi) = match signal.value_type() {
        ValueType::Unsigned => (0.0, 2f64.powi(bits) - 1.0),
        ValueType::Signed => (-(2f64.powi(bits - 1)), 2f64.powi(bits - 1) - 1.0),
        ValueType::Float32 | ValueType::Float64 => return (f64::MIN, f64::MAX),
    };
    let a = signal.to_physical(RawValue::Signed(0)) + raw_lo * signal.factor();
    let b = signal.to_physical(RawValue::Signed(0)) + raw_hi * signal.factor();
    (a.min(b), a.max(b))
}

/// Decimal places of `factor` (as written in shortest form), at most 9.
fn decimals(factor: f64) -> i32 {
    let text = format!("{}", factor.abs());
    text.split_once('.').map_or(0, |(_, frac)| frac.len().min(9) as i32)
}

/// `round` applied to `scaled`, except that a value within floating-point
/// noise of an integer is that integer (so 503.99999999999994 stays 504).
fn outward(scaled: f64, round: fn(f64) -> f64) -> f64 {
    let nearest = scaled.round();
    if (scaled - nearest).abs() < 1e-6 { nearest } else { round(scaled) }
}

/// Widens `[min, max]` of `signal` as [`RangeMargins`] say, within `bounds`
/// (the representable range, intersected with the DBC range when it applies).
pub fn widen(signal: &SignalCodec, min: f64, max: f64, bounds: (f64, f64), m: &RangeMargins) -> ProposedRange {
    let factor = signal.factor().abs();
    let is_float = matches!(signal.value_type(), ValueType::Float32 | ValueType::Float64);
    let step = if is_float { (min.abs().max(max.abs()) * 0.01).max(1e-6) } else { factor };
    let margin = ((max - min) * m.span_share).max(m.raw_steps * step);
    let (mut lo, mut hi) = (min - margin, max + margin);
    if !is_float && factor > 0.0 {
        let scale = 10f64.powi(decimals(factor));
        lo = outward(lo * scale, f64::floor) / scale;
        hi = outward(hi * scale, f64::ceil) / scale;
    }
    ProposedRange {
        min: (lo.is_finite() && lo > bounds.0).then_some(lo),
        max: (hi.is_finite() && hi < bounds.1).then_some(hi),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::{ByteOrder, Signal};

    fn signal(size: u32, value_type: ValueType, factor: f64, offset: f64) -> SignalCodec {
        let s = Signal { factor, offset, line: 1, ..Signal::new("S", 0, size, ByteOrder::LittleEndian, value_type) };
        SignalCodec::new(&s, 8).unwrap()
    }

    /// Margins of a tenth of the span, to see the arithmetic.
    fn tenth() -> RangeMargins {
        RangeMargins { span_share: 0.1, ..RangeMargins::default() }
    }

    fn decoded(raw: i64, factor: f64) -> Decoded {
        Decoded { raw: RawValue::Signed(raw), physical: raw as f64 * factor }
    }

    #[test]
    fn widening_by_share_and_steps_rounded_outward_and_clamped() {
        let s = signal(16, ValueType::Signed, 0.01, 0.0);
        let r = widen(&s, -1.0, 9.0, representable(&s), &tenth());
        assert_eq!((r.min, r.max), (Some(-2.0), Some(10.0)));
        // A constant still gets a few raw steps of room.
        let r = widen(&s, 5.0, 5.0, representable(&s), &tenth());
        assert_eq!((r.min, r.max), (Some(4.96), Some(5.04)));
        // Near the end of what 8 unsigned bits hold, the side is left out.
        let s = signal(8, ValueType::Unsigned, 1.0, 0.0);
        assert_eq!(representable(&s), (0.0, 255.0));
        let r = widen(&s, 0.0, 240.0, representable(&s), &tenth());
        assert_eq!((r.min, r.max), (None, None));
        let r = widen(&s, 100.0, 120.0, (0.0, 110.0), &tenth());
        assert_eq!((r.min, r.max), (Some(96.0), None), "clamped to the DBC range");
    }

    #[test]
    fn representable_ranges_with_offset_and_negative_factor() {
        let s = signal(4, ValueType::Unsigned, -2.0, 10.0);
        assert_eq!(representable(&s), (-20.0, 10.0));
        let s = signal(8, ValueType::Signed, 0.5, 1.0);
        assert_eq!(representable(&s), (-63.0, 64.5));
        let s = signal(32, ValueType::Float32, 1.0, 0.0);
        assert_eq!(representable(&s), (f64::MIN, f64::MAX));
    }

    #[test]
    fn stats_track_extremes_distinct_values_and_dbc_violations() {
        let dbc = DbcConstraints { range: Some((0.0, 10.0)), factor: 1.0, described: Some(vec![0, 1, 2]) };
        let mut st = SignalStats::default();
        for raw in [1, 2, 1, 12, 0] {
            st.observe(decoded(raw, 1.0), &dbc);
        }
        assert_eq!((st.min, st.max, st.present), (Some(0.0), Some(12.0), 5));
        assert_eq!(st.distinct, [0, 1, 2, 12]);
        assert_eq!(st.out_of_dbc_range, (1, Some(12.0)));
        assert_eq!(st.undescribed, (1, Some(12)));
        for raw in 100..120 {
            st.observe(decoded(raw, 1.0), &DbcConstraints { range: None, factor: 1.0, described: None });
        }
        assert!(st.many_values && st.distinct.is_empty());
        let mut st = SignalStats::default();
        st.observe(Decoded { raw: RawValue::Float(f64::NAN), physical: f64::NAN }, &dbc);
        assert_eq!((st.nan, st.min, st.out_of_dbc_range.0), (1, None, 1));
        assert!(st.many_values);
        // A value on a decimal bound is in range, as in the engine.
        let dbc = DbcConstraints { range: Some((-0.7, 0.7)), factor: 0.1, described: None };
        let mut st = SignalStats::default();
        st.observe(decoded(-7, 0.1), &dbc);
        assert_eq!(st.out_of_dbc_range.0, 0);
        st.observe(decoded(-8, 0.1), &dbc);
        assert_eq!(st.out_of_dbc_range.0, 1);
    }

    #[test]
    fn merging_pools_extremes_values_and_violations() {
        let none = DbcConstraints { range: Some((0.0, 100.0)), factor: 1.0, described: None };
        let (mut a, mut b) = (SignalStats::default(), SignalStats::default());
        for raw in [5, 6, 7] {
            a.observe(decoded(raw, 1.0), &none);
        }
        for raw in [1, 7, 150] {
            b.observe(decoded(raw, 1.0), &none);
        }
        a.merge(&b);
        assert_eq!((a.present, a.min, a.max), (6, Some(1.0), Some(150.0)));
        assert_eq!(a.distinct, [1, 5, 6, 7, 150]);
        assert_eq!(a.out_of_dbc_range, (1, Some(150.0)));
        let mut many = SignalStats::default();
        for raw in 0..20 {
            many.observe(decoded(raw, 1.0), &none);
        }
        a.merge(&many);
        assert!(a.many_values && a.distinct.is_empty());
        a.merge(&SignalStats::default());
        assert_eq!(a.min, Some(0.0));
    }
}
