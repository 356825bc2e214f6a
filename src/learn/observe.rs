//! Everything learned about one (bus, id) in the first pass over a capture:
//! frame kinds and lengths, arrival times, and (for ids a DBC defines) every
//! signal's values, the alive-counter candidates and the checksum candidates.
//!
//! Invariants: memory per id is bounded whatever the capture's length (every
//! part is either fixed-size or capped: see [`super::intervals`],
//! [`super::signals`], [`super::counter`], [`super::checksum`]); observing a
//! frame allocates nothing (the decode scratch is sized once per id); times
//! are the engine's (the running maximum of the capture's timestamps).

use std::sync::Arc;

use super::checksum::ChecksumDetector;
use super::counter::CounterDetector;
use super::intervals::Intervals;
use super::signals::{DbcConstraints, SignalStats};
use crate::codec::{Decoded, MessageCodec, RawValue, SignalIndex};
use crate::dbc::{Signal, ValueType};
use crate::frame::{CanId, Frame};
use crate::time::Timestamp;

/// Counter candidates are at most this wide.
const MAX_COUNTER_BITS: u32 = 16;

/// What the capture showed of one (bus, id).
#[derive(Clone, Debug)]
pub struct IdStats {
    /// Index of the bus in the capture's bus list.
    pub bus: usize,
    /// The id.
    pub id: CanId,
    /// Frames seen (data and remote).
    pub frames: u64,
    /// First frame's time.
    pub first: Timestamp,
    /// Last frame's time.
    pub last: Timestamp,
    /// Bit `n` set: a frame of `n` bytes was seen (remote frames: the requested length).
    pub lengths: u128,
    /// CAN FD frames among them.
    pub fd_frames: u64,
    /// Remote frames among them.
    pub remote_frames: u64,
    /// Intervals between consecutive frames.
    pub intervals: Intervals,
    /// Checksum candidates over the payload.
    pub checksum: ChecksumDetector,
    /// Content, for ids a DBC of the bus defines.
    pub message: Option<MessageStats>,
}

/// What the frames of a DBC message held.
#[derive(Clone, Debug)]
pub struct MessageStats {
    /// The message.
    pub codec: Arc<MessageCodec>,
    /// The DBC's constraints per signal, as the rule compiler applies them by default.
    pub constraints: Vec<DbcConstraints>,
    /// Per signal.
    pub signals: Vec<SignalStats>,
    /// Alive-counter candidates.
    pub counters: Vec<CounterDetector>,
    /// Frames shorter than the DBC length (they cannot be decoded).
    pub too_short: u64,
    /// Multiplexer switches, the values that are defined for them, and how
    /// often (with a first example) a frame held another value.
    pub switches: Vec<SwitchStats>,
    scratch: Vec<Option<Decoded>>,
}

/// One multiplexer switch.
#[derive(Clone, Debug, PartialEq)]
pub struct SwitchStats {
    /// The switch signal.
    pub signal: SignalIndex,
    /// Values that select a signal or that the DBC describes (inclusive ranges).
    pub defined: Vec<(u64, u64)>,
    /// Frames holding a value outside `defined`, with the first such value.
    pub invalid: (u64, Option<u64>),
}

impl IdStats {
    /// Fresh statistics for `id` on bus `bus`, first seen at `now`; `message`
    /// is the DBC message with its model signals when a DBC of the bus defines the id.
    pub fn new(bus: usize, id: CanId, now: Timestamp, message: Option<(Arc<MessageCodec>, &[Signal])>) -> Self {
        let covered = message.as_ref().map(|(codec, _)| codec.size());
        IdStats {
            bus,
            id,
            frames: 0,
            first: now,
            last: now,
            lengths: 0,
            fd_frames: 0,
            remote_frames: 0,
            intervals: Intervals::default(),
            checksum: ChecksumDetector::new(id, covered),
            message: message.map(|(codec, model)| MessageStats::new(codec, model)),
        }
    }

    /// One frame of the id at `now` (the engine's time).
    pub fn observe(&mut self, now: Timestamp, frame: &Frame) {
        if self.frames > 0 {
            self.intervals.record(now.saturating_since(self.last));
        }
        self.frames += 1;
        self.last = now;
        self.lengths |= 1u128 << frame.len().min(127);
        if frame.is_fd() {
            self.fd_frames += 1;
        }
        if frame.is_remote() {
            self.remote_frames += 1;
            return;
        }
        self.checksum.observe(frame.data());
        if let Some(m) = &mut self.message {
            m.observe(now, frame.data());
        }
    }

    /// The lengths seen, ascending.
    pub fn lengths(&self) -> Vec<u8> {
        (0..=64u8).filter(|n| self.lengths & (1u128 << n) != 0).collect()
    }
}

impl MessageStats {
    fn new(codec: Arc<MessageCodec>, model: &[Signal]) -> Self {
        let constraints = codec
            .signals()
            .iter()
            .enumerate()
            .map(|(i, signal)| {
                let dbc = model.get(i).filter(|m| m.name == signal.name());
                let is_float = matches!(signal.value_type(), ValueType::Float32 | ValueType::Float64);
                let mut described: Vec<i64> = signal.descriptions().map(|(v, _)| v).collect();
                described.sort_unstable();
                described.dedup();
                DbcConstraints {
                    range: dbc.filter(|d| d.has_range() && d.min <= d.max).map(|d| (d.min, d.max)),
                    factor: signal.factor(),
                    described: (!described.is_empty() && !is_float).then_some(described),
                }
            })
            .collect();
        let counters = codec
            .signals()
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                s.value_type() == ValueType::Unsigned
                    && (2..=MAX_COUNTER_BITS).contains(&s.size())
                    && codec.selector(SignalIndex::new(*i)).is_none()
                    && !is_switch(&codec, SignalIndex::new(*i))
            })
            .map(|(i, s)| CounterDetector::new(SignalIndex::new(i), s.size(), s.name()))
            .collect();
        let switches = switches(&codec);
        let n = codec.signals().len();
        MessageStats {
            codec,
            constraints,
            signals: vec![SignalStats::default(); n],
            counters,
            too_short: 0,
            switches,
            scratch: vec![None; n],
        }
    }

    /// A key equal for messages of identical layout: same length, and the same
    /// signals (names, bits, scaling, multiplexing, DBC range and value
    /// descriptions) in the same order. Such messages carry the same
    /// quantities in different slots (a radar's track 0 to 15).
    pub fn layout_key(&self) -> String {
        let codec = &self.codec;
        let signals: Vec<String> = codec
            .signals()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}:{}:{}:{:?}:{:?}:{:?}:{:?}:{:?}:{:?}",
                    s.name(),
                    s.start_bit(),
                    s.size(),
                    s.byte_order(),
                    s.value_type(),
                    s.factor().to_bits(),
                    s.offset().to_bits(),
                    codec.selector(SignalIndex::new(i)),
                    self.constraints.get(i),
                )
            })
            .collect();
        format!("{}|{}", codec.size(), signals.join("|"))
    }

    fn observe(&mut self, now: Timestamp, data: &[u8]) {
        if data.len() < self.codec.size() {
            self.too_short += 1;
            return;
        }
        for cell in &mut self.scratch {
            *cell = None;
        }
        let (signals, constraints, scratch) = (&mut self.signals, &self.constraints, &mut self.scratch);
        let decoded = self.codec.decode(data, |index, value| {
            if let (Some(stats), Some(dbc)) = (signals.get_mut(index.get()), constraints.get(index.get())) {
                stats.observe(value, dbc);
            }
            if let Some(cell) = scratch.get_mut(index.get()) {
                *cell = Some(value);
            }
        });
        if decoded.is_err() {
            self.too_short += 1;
            return;
        }
        for switch in &mut self.switches {
            let Some(Some(value)) = self.scratch.get(switch.signal.get()) else { continue };
            let ok = match value.raw {
                RawValue::Unsigned(v) => switch.defined.iter().any(|&(lo, hi)| (lo..=hi).contains(&v)),
                RawValue::Signed(v) => {
                    u64::try_from(v).is_ok_and(|v| switch.defined.iter().any(|&(lo, hi)| (lo..=hi).contains(&v)))
                }
                RawValue::Float(_) => true,
            };
            if !ok {
                switch.invalid.0 += 1;
                switch.invalid.1.get_or_insert(value.raw.as_i64().and_then(|v| u64::try_from(v).ok()).unwrap_or(0));
            }
        }
        for counter in &mut self.counters {
            if let Some(Some(Decoded { raw: RawValue::Unsigned(v), .. })) = self.scratch.get(counter.signal.get()) {
                counter.observe(*v, now);
            }
        }
    }
}

fn is_switch(codec: &MessageCodec, signal: SignalIndex) -> bool {
    (0..codec.signals().len()).any(|i| codec.selector(SignalIndex::new(i)).is_some_and(|(s, _)| s == signal))
}

/// Each switch of a multiplexed message with the values the engine accepts
/// for it when `enums` is on: those that select a signal and those its value
/// descriptions name (the rule compiler's `invalid-multiplexer` check).
fn switches(codec: &MessageCodec) -> Vec<SwitchStats> {
    let mut out: Vec<SwitchStats> = Vec::new();
    for i in 0..codec.signals().len() {
        let Some((switch, ranges)) = codec.selector(SignalIndex::new(i)) else { continue };
        match out.iter_mut().find(|s| s.signal == switch) {
            Some(s) => s.defined.extend_from_slice(ranges),
            None => out.push(SwitchStats { signal: switch, defined: ranges.to_vec(), invalid: (0, None) }),
        }
    }
    for s in &mut out {
        if let Some(signal) = codec.signal(s.signal) {
            s.defined.extend(signal.descriptions().filter_map(|(v, _)| u64::try_from(v).ok()).map(|v| (v, v)));
        }
        s.defined.sort_unstable();
        s.defined.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc;
    use crate::e2e::ChecksumAlgorithm;

    const DBC: &str = r#"VERSION ""
BO_ 608 STEER: 8 EPS
 SG_ TORQUE : 7|16@0- (1,0) [-500|500] "" XXX
 SG_ MODE : 16|2@1+ (1,0) [0|3] "" XXX
 SG_ COUNTER : 52|4@1+ (1,0) [0|15] "" XXX
 SG_ CHECKSUM : 63|8@0+ (1,0) [0|255] "" XXX
VAL_ 608 MODE 0 "OFF" 1 "ON" ;
"#;

    fn stats() -> IdStats {
        let dbc = dbc::parse("t.dbc", DBC.as_bytes()).unwrap();
        let message = &dbc.messages[0];
        let codec = Arc::new(MessageCodec::new(message).unwrap());
        IdStats::new(0, message.id, Timestamp::ZERO, Some((codec, &message.signals)))
    }

    fn frame(torque: i16, mode: u8, counter: u8) -> Frame {
        let id = CanId::standard(608).unwrap();
        let [hi, lo] = torque.to_be_bytes();
        let mut data = [hi, lo, mode, 0, 0, 0, counter << 4, 0];
        data[7] = ChecksumAlgorithm::Toyota.compute(id, &data, 7);
        Frame::classic(id, &data).unwrap()
    }

    #[test]
    fn one_pass_gathers_timing_values_counter_and_checksum() {
        let mut st = stats();
        for i in 0..200u64 {
            let torque = (i as i16 % 50) * 7 - 100;
            st.observe(Timestamp::from_millis(i * 10), &frame(torque, if i == 100 { 2 } else { 1 }, (i % 16) as u8));
        }
        assert_eq!((st.frames, st.lengths(), st.intervals.count()), (200, vec![8], 199));
        let m = st.message.as_ref().unwrap();
        assert_eq!((m.signals[0].min, m.signals[0].max), (Some(-100.0), Some(243.0)));
        assert_eq!(m.signals[1].undescribed, (1, Some(2)), "MODE 2 has no description");
        assert_eq!(m.signals[1].distinct, [1, 2]);
        let counters: Vec<_> = m.counters.iter().filter_map(|c| c.decide(&Default::default()).ok()).collect();
        assert_eq!(counters.len(), 1);
        assert_eq!(m.codec.signal(counters[0].signal).unwrap().name(), "COUNTER");
        let found = st.checksum.matches();
        assert_eq!(found.iter().map(|c| (c.byte, c.algorithm)).collect::<Vec<_>>(), [(7, ChecksumAlgorithm::Toyota)]);
    }

    #[test]
    fn short_and_remote_frames_are_counted_not_decoded() {
        let mut st = stats();
        let id = CanId::standard(608).unwrap();
        st.observe(Timestamp::ZERO, &Frame::classic(id, &[1, 2, 3]).unwrap());
        st.observe(Timestamp::from_millis(5), &Frame::remote(id, 8).unwrap());
        assert_eq!((st.frames, st.remote_frames, st.lengths()), (2, 1, vec![3, 8]));
        assert_eq!(st.message.as_ref().unwrap().too_short, 1);
        assert_eq!(st.message.as_ref().unwrap().signals[0].present, 0);
    }
}
