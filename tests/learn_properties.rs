//! Properties of the detectors `learn` is built from, on random inputs:
//! - the minimal burst found by the cycle meter is exactly what the engine's
//!   own token bucket needs: with it no frame is refused, with half a token
//!   less one is;
//! - a counter that only ever loses a few frames is found, with a `max_step`
//!   that covers every loss; one that repeats a value once is not;
//! - a checksum planted at any byte with any algorithm is found;
//! - a proposed range holds every observed value and stays within bounds;
//! - numbers written into the rule file read back exactly.

use bulkhead::codec::{SignalCodec, SignalIndex};
use bulkhead::dbc::{ByteOrder, Signal, ValueType};
use bulkhead::e2e::ChecksumAlgorithm;
use bulkhead::engine::bucket::{Bucket, RateSpec};
use bulkhead::frame::CanId;
use bulkhead::learn::checksum::ChecksumDetector;
use bulkhead::learn::counter::{CounterDetector, CounterMargins};
use bulkhead::learn::cycle::BurstMeter;
use bulkhead::learn::signals::{RangeMargins, representable, widen};
use bulkhead::learn::toml_text::number;
use bulkhead::time::Timestamp;
use proptest::prelude::*;

/// Arrival times from gaps in microseconds (zero gaps are clumps).
fn arrivals(gaps: &[u32]) -> Vec<Timestamp> {
    let mut t = 1_000_000_000u64;
    gaps.iter()
        .map(|g| {
            t += u64::from(*g) * 1000;
            Timestamp::from_nanos(t)
        })
        .collect()
}

/// True when the engine's bucket with `burst` takes a token for every frame.
fn engine_accepts_all(times: &[Timestamp], per_second: f64, burst: f64) -> bool {
    let spec = RateSpec { per_second, burst };
    let mut bucket = Bucket::full(spec);
    times.iter().all(|t| bucket.try_take(spec, *t))
}

fn signal(size: u32, value_type: ValueType, factor: f64, offset: f64) -> SignalCodec {
    let s = Signal { factor, offset, line: 1, ..Signal::new("S", 0, size, ByteOrder::LittleEndian, value_type) };
    SignalCodec::new(&s, 8).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_minimal_burst_is_exactly_what_the_engine_bucket_needs(
        gaps in prop::collection::vec(prop_oneof![Just(0u32), 0u32..40_000], 1..400),
        period_ms in 2.0f64..50.0,
        tolerance in prop_oneof![Just(0.25f64), Just(0.5)],
    ) {
        let times = arrivals(&gaps);
        let rate = bulkhead::learn::cycle::rate_per_second(period_ms, tolerance);
        let mut meter = BurstMeter::new(rate);
        for t in &times {
            meter.observe(*t);
        }
        let minimal = meter.minimal_burst();
        prop_assert!(minimal >= 1.0);
        prop_assert!(engine_accepts_all(&times, rate, minimal + 1e-9), "burst {minimal} refused a frame");
        if minimal - 0.5 >= 1.0 {
            prop_assert!(!engine_accepts_all(&times, rate, minimal - 0.5), "burst {} was enough", minimal - 0.5);
        }
    }

    #[test]
    fn a_counter_with_lost_frames_is_found_with_a_covering_max_step(
        bits in 3u32..=8,
        start in 0u64..256,
        losses in prop::collection::vec((0usize..1000, 1u64..3), 0..4),
    ) {
        // Up to three losses in 999 pairs: above the 99.5% the detector asks for.
        let modulus = 1u64 << bits;
        let mut steps = vec![1u64; 1000];
        for (at, extra) in &losses {
            steps[*at] += extra;
        }
        let mut d = CounterDetector::new(SignalIndex::new(0), bits, "X");
        let mut value = start % modulus;
        for (i, step) in steps.iter().enumerate() {
            d.observe(value, Timestamp::from_millis(i as u64 * 10));
            value = (value + step) % modulus;
        }
        let rule = d.decide(&CounterMargins::default()).unwrap();
        let largest = steps[..999].iter().copied().max().unwrap();
        prop_assert_eq!((rule.step, rule.max_step), (1, largest));
    }

    #[test]
    fn a_counter_that_repeats_once_is_refused(bits in 3u32..=8, at in 1usize..299) {
        let modulus = 1u64 << bits;
        let mut d = CounterDetector::new(SignalIndex::new(0), bits, "X");
        let mut value = 0;
        for i in 0..300usize {
            d.observe(value, Timestamp::from_millis(i as u64 * 10));
            if i != at {
                value = (value + 1) % modulus;
            }
        }
        prop_assert!(d.decide(&CounterMargins::default()).is_err());
    }

    #[test]
    fn a_planted_checksum_is_found(
        seed in any::<u64>(),
        byte in 0usize..8,
        algorithm in prop::sample::select(ChecksumAlgorithm::ALL.to_vec()),
        raw_id in 0u32..0x800,
    ) {
        let id = CanId::standard(raw_id).unwrap();
        let mut d = ChecksumDetector::new(id, Some(8));
        let mut x = seed | 1;
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut p = x.to_le_bytes();
            p[byte] = algorithm.compute(id, &p, byte);
            d.observe(&p);
        }
        // Where two algorithms agree on every frame (sum8-id with an id whose
        // two low bytes add up to 256 is sum8), the planted one is among them.
        let found = d.matches();
        let planted = |m: &bulkhead::learn::checksum::ChecksumMatch| {
            m.algorithm == algorithm || bulkhead::learn::checksum::names(m.also).contains(&algorithm.name())
        };
        prop_assert!(found.iter().any(|m| m.byte == byte && planted(m)), "{:?}", found);
    }

    #[test]
    fn a_proposed_range_holds_what_was_seen_and_stays_in_bounds(
        size in 2u32..=32,
        signed in any::<bool>(),
        factor in prop_oneof![Just(1.0f64), Just(0.1), Just(0.01), Just(-0.5), Just(0.03125), Just(25.0)],
        offset in prop_oneof![Just(0.0f64), Just(-40.0), Just(0.5)],
        a in 0.0f64..1.0,
        b in 0.0f64..1.0,
        share in prop_oneof![Just(0.1f64), Just(1.0)],
    ) {
        let s = signal(size, if signed { ValueType::Signed } else { ValueType::Unsigned }, factor, offset);
        let (rep_lo, rep_hi) = representable(&s);
        let (raw_lo, raw_hi) = if signed {
            (-(2f64.powi(size as i32 - 1)), 2f64.powi(size as i32 - 1) - 1.0)
        } else {
            (0.0, 2f64.powi(size as i32) - 1.0)
        };
        let pick = |u: f64| (raw_lo + (u * (raw_hi - raw_lo)).floor()) * factor + offset;
        let (lo, hi) = (pick(a.min(b)).min(pick(a.max(b))), pick(a.min(b)).max(pick(a.max(b))));
        let m = RangeMargins { span_share: share, ..RangeMargins::default() };
        let r = widen(&s, lo, hi, (rep_lo, rep_hi), &m);
        let step = factor.abs();
        if let Some(min) = r.min {
            prop_assert!(min <= lo - 3.9 * step && min > rep_lo, "min {min} for {lo}");
        }
        if let Some(max) = r.max {
            prop_assert!(max >= hi + 3.9 * step && max < rep_hi, "max {max} for {hi}");
        }
    }

    #[test]
    fn numbers_read_back_exactly(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
        #[derive(serde::Deserialize)]
        struct N { n: f64 }
        let text = format!("n = {}", number(v));
        let back: N = toml::from_str(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back.n.to_bits(), if v == 0.0 { 0.0f64.to_bits() } else { v.to_bits() });
    }
}

#[test]
fn clumps_need_a_burst_of_their_size() {
    // Four frames at once on top of a steady 10 ms cycle at 20 ms * 0.5 tolerance.
    let mut gaps = vec![10_000u32; 50];
    gaps.extend([0, 0, 0]);
    gaps.extend(vec![10_000u32; 50]);
    let times = arrivals(&gaps);
    let rate = bulkhead::learn::cycle::rate_per_second(10.0, 0.5);
    let mut meter = BurstMeter::new(rate);
    times.iter().for_each(|t| meter.observe(*t));
    assert_eq!(meter.minimal_burst(), 4.0);
    assert!(engine_accepts_all(&times, rate, 4.0));
    assert!(!engine_accepts_all(&times, rate, 3.5));
}
