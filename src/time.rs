//! Time as the engine sees it: a count of nanoseconds, passed in by the caller.
//!
//! The engine never reads a clock. A live shell passes a monotonic reading, a
//! replay passes the capture's own timestamps, a test passes whatever it likes.
//! [`Timestamp`] is an absolute point (nanoseconds since an epoch the source
//! chooses: Unix time for most logs, boot time for a live gateway) and
//! [`Duration`](std::time::Duration) the distance between two points.
//!
//! Invariant: arithmetic saturates; no operation here panics.

use std::fmt;
use std::time::Duration;

/// A point in time, in nanoseconds since the source's epoch.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch itself.
    pub const ZERO: Timestamp = Timestamp(0);

    /// A timestamp from nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        Timestamp(nanos)
    }

    /// A timestamp from microseconds (saturating).
    pub const fn from_micros(micros: u64) -> Self {
        Timestamp(micros.saturating_mul(1_000))
    }

    /// A timestamp from milliseconds (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis.saturating_mul(1_000_000))
    }

    /// A timestamp from whole seconds and nanoseconds (saturating).
    pub const fn from_secs_nanos(secs: u64, nanos: u32) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos as u64))
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch as a float (for reports and JSON).
    pub fn as_secs_f64(self) -> f64 {
        // Split so that whole seconds keep full precision in the sum.
        (self.0 / 1_000_000_000) as f64 + (self.0 % 1_000_000_000) as f64 / 1e9
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: Timestamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// This point moved forward by `d` (saturating).
    pub const fn saturating_add(self, d: Duration) -> Timestamp {
        let nanos = d.as_nanos();
        let nanos = if nanos > u64::MAX as u128 { u64::MAX } else { nanos as u64 };
        Timestamp(self.0.saturating_add(nanos))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Timestamp {
    /// Seconds with nine decimals: `46408.584930000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.0 / 1_000_000_000, self.0 % 1_000_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_and_saturation() {
        let t = Timestamp::from_secs_nanos(46408, 584_930_000);
        assert_eq!(t.as_secs_f64(), 46408.58493);
        assert_eq!(t.to_string(), "46408.584930000");
        assert_eq!(Timestamp::from_micros(1_500).as_nanos(), 1_500_000);
        assert_eq!(Timestamp::from_millis(u64::MAX).as_nanos(), u64::MAX);
        let later = t.saturating_add(Duration::from_millis(10));
        assert_eq!(later.saturating_since(t), Duration::from_millis(10));
        assert_eq!(t.saturating_since(later), Duration::ZERO);
        assert_eq!(Timestamp::from_nanos(u64::MAX).saturating_add(Duration::MAX).as_nanos(), u64::MAX);
    }
}
