//! Signal values as the codec hands them out: the raw value read from the bits
//! ([`RawValue`]), the scaled physical value, and the two together ([`Decoded`]).
//!
//! Invariant: a `RawValue` decoded from a signal has the variant of the
//! signal's value type (`Unsigned` for `+`, `Signed` for `-`, `Float` for
//! float32/float64), and an integer raw value fits in the signal's bits.

use std::fmt;

/// The value held by a signal's bits, before scaling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RawValue {
    /// An unsigned integer signal (`+`).
    Unsigned(u64),
    /// A two's complement signed integer signal (`-`), sign-extended.
    Signed(i64),
    /// An IEEE 754 float signal (float32 values are widened exactly).
    Float(f64),
}

impl RawValue {
    /// The value as an `f64` (large integers round to the nearest `f64`).
    pub fn as_f64(self) -> f64 {
        match self {
            RawValue::Unsigned(u) => u as f64,
            RawValue::Signed(i) => i as f64,
            RawValue::Float(f) => f,
        }
    }

    /// The value as an `i64` when it is an integer in range (floats only when
    /// integral), the key of value descriptions (`VAL_`).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            RawValue::Unsigned(u) => i64::try_from(u).ok(),
            RawValue::Signed(i) => Some(i),
            RawValue::Float(f) => {
                // i64::MIN is -2^63 exactly; i64::MAX + 1 = 2^63 is the first value out of range.
                if f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
                    Some(f as i64)
                } else {
                    None
                }
            }
        }
    }

    /// The value as a multiplexer switch value: non-negative integers only.
    pub(crate) fn as_switch_value(self) -> Option<u64> {
        match self {
            RawValue::Unsigned(u) => Some(u),
            RawValue::Signed(i) => u64::try_from(i).ok(),
            RawValue::Float(_) => None,
        }
    }
}

impl fmt::Display for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawValue::Unsigned(u) => write!(f, "{u}"),
            RawValue::Signed(i) => write!(f, "{i}"),
            RawValue::Float(x) => write!(f, "{x}"),
        }
    }
}

/// One decoded signal: its raw value and its physical value
/// (`raw * factor + offset`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decoded {
    /// The value of the signal's bits.
    pub raw: RawValue,
    /// The scaled value.
    pub physical: f64,
}

/// The position of a signal in its message (the index into `Message::signals`,
/// which keeps the file's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalIndex(usize);

impl SignalIndex {
    /// The signal at position `index` of the message's signals.
    pub const fn new(index: usize) -> Self {
        SignalIndex(index)
    }

    /// The position in the message's signals.
    pub const fn get(self) -> usize {
        self.0
    }
}

impl fmt::Display for SignalIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_views() {
        assert_eq!(RawValue::Unsigned(u64::MAX).as_i64(), None);
        assert_eq!(RawValue::Unsigned(5).as_i64(), Some(5));
        assert_eq!(RawValue::Signed(-5).as_i64(), Some(-5));
        assert_eq!(RawValue::Float(3.0).as_i64(), Some(3));
        assert_eq!(RawValue::Float(3.5).as_i64(), None);
        assert_eq!(RawValue::Float(f64::NAN).as_i64(), None);
        assert_eq!(RawValue::Float(9.3e18).as_i64(), None);
        assert_eq!(RawValue::Float(-9_223_372_036_854_775_808.0).as_i64(), Some(i64::MIN));
        assert_eq!(RawValue::Signed(-1).as_switch_value(), None);
        assert_eq!(RawValue::Signed(7).as_switch_value(), Some(7));
        assert_eq!(RawValue::Float(1.0).as_switch_value(), None);
    }

    #[test]
    fn displays_plainly() {
        assert_eq!(RawValue::Unsigned(255).to_string(), "255");
        assert_eq!(RawValue::Signed(-3).to_string(), "-3");
        assert_eq!(RawValue::Float(1.5).to_string(), "1.5");
        assert_eq!(RawValue::Unsigned(1).as_f64(), 1.0);
        assert_eq!(SignalIndex::new(3).to_string(), "#3");
    }
}
