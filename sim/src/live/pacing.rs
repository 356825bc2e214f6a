//! Real time from virtual time: each frame leaves when its scenario time,
//! divided by the speed, has passed since the start.
//!
//! [`Pacer`] maps a frame's virtual [`Timestamp`] to a wall-clock deadline
//! ([`Pacer::deadline`], a pure function) and [`play`] hands the frames of a
//! [`Traffic`](crate::traffic::Traffic) to a sink one by one, sleeping until each
//! deadline. A frame is never sent before its deadline, and frames are never
//! skipped or reordered, because the gateway's verdicts depend on their order.
//!
//! When the machine stalls the simulator (another process, a busy host: in
//! User-Mode Linux, stalls of tens of milliseconds happen), the frames due
//! meanwhile would all leave at once when it wakes up: a burst the gateway
//! rightly takes for injection (`too-fast`). So beyond [`SLIP`] of delay the
//! pacer *slips*: the rest of the scenario is shifted by the delay, the way a
//! whole car would pause, and frames keep their spacing. A stall then shows as
//! a gap on every bus (a message silent for longer than its cycle) instead of
//! a burst. Slips are counted and summed ([`Lateness`]).
//!
//! Frames that are already due when one leaves may go with it, as one batch,
//! when the caller says they belong together (a flooding head unit packs its
//! frames into datagrams; see `coalesce` in [`play`]): order is kept, and a
//! sender that cannot send as many datagrams per second as the scenario asks
//! still sends all the frames, in time.

use std::time::{Duration, Instant};

use bulkhead::time::Timestamp;

use crate::traffic::SimFrame;

/// Frames later than this count as late in the summary.
pub const LATE: Duration = Duration::from_millis(10);

/// Beyond this delay the schedule slips instead of catching up with a burst.
/// Cyclic messages of 10 ms tolerate a few frames close together (the
/// gateway's cycle bucket holds 4); 5 ms keeps a burst to one extra frame.
pub const SLIP: Duration = Duration::from_millis(5);

/// Maps virtual time to wall-clock deadlines.
#[derive(Clone, Copy, Debug)]
pub struct Pacer {
    virtual_start: Timestamp,
    wall_start: Instant,
    speed: f64,
}

impl Pacer {
    /// Virtual time `virtual_start` happens at `wall_start`; virtual time runs
    /// `speed` times as fast as the wall clock (`speed` > 0; 2 is twice as fast).
    pub fn new(virtual_start: Timestamp, wall_start: Instant, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        Pacer { virtual_start, wall_start, speed }
    }

    /// When a frame of virtual time `t` is due (times before the start are due at once).
    pub fn deadline(&self, t: Timestamp) -> Instant {
        let elapsed = t.saturating_since(self.virtual_start);
        self.wall_start + elapsed.div_f64(self.speed)
    }

    /// Shifts every later deadline by `delay`.
    pub fn slip(&mut self, delay: Duration) {
        self.wall_start += delay;
    }

    /// The wall-clock duration `virtual` lasts at this speed.
    pub fn wall_duration(&self, virtual_duration: Duration) -> Duration {
        virtual_duration.div_f64(self.speed)
    }

    /// Sleeps until `deadline` (returns at once when it has passed) and
    /// returns the time it returned.
    pub fn wait_until(&self, deadline: Instant) -> Instant {
        loop {
            let now = Instant::now();
            match deadline.checked_duration_since(now) {
                Some(left) if !left.is_zero() => std::thread::sleep(left),
                _ => return now,
            }
        }
    }
}

/// How late frames left, over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lateness {
    /// Frames sent.
    pub frames: u64,
    /// Frames sent more than [`LATE`] after their deadline.
    pub late: u64,
    /// The largest delay behind a deadline.
    pub max: Duration,
    /// The sum of the delays, for the mean.
    pub total: Duration,
    /// How many times the schedule slipped.
    pub slips: u64,
    /// By how much in all: the run took this much longer than the scenario.
    pub slipped: Duration,
}

impl Lateness {
    /// Records a frame sent at `sent` for `deadline`.
    pub fn record(&mut self, deadline: Instant, sent: Instant) {
        let behind = sent.saturating_duration_since(deadline);
        self.frames += 1;
        self.total += behind;
        self.max = self.max.max(behind);
        if behind > LATE {
            self.late += 1;
        }
    }

    /// The mean delay behind the deadlines.
    pub fn mean(&self) -> Duration {
        if self.frames == 0 { Duration::ZERO } else { self.total.div_f64(self.frames as f64) }
    }
}

/// What the sink says after a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop the run (an error, or the caller was asked to stop).
    Stop,
}

/// The most frames one batch holds.
pub const MAX_BATCH: usize = 64;

/// Plays `frames` in real time: waits for each frame's deadline, then gives
/// it to `sink` with the time it left, together with the frames that follow
/// it, are due too and that `coalesce(batch so far, next)` accepts (at most
/// [`MAX_BATCH`]); slips the schedule after a stall longer than [`SLIP`].
/// Returns the lateness.
pub fn play(
    frames: impl IntoIterator<Item = SimFrame>,
    pacer: &mut Pacer,
    coalesce: impl Fn(&[SimFrame], &SimFrame) -> bool,
    mut sink: impl FnMut(&[SimFrame], Instant) -> Flow,
) -> Lateness {
    let mut lateness = Lateness::default();
    let mut frames = frames.into_iter().peekable();
    let mut batch: Vec<SimFrame> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = frames.next() {
        let deadline = pacer.deadline(first.time);
        let sent = pacer.wait_until(deadline);
        lateness.record(deadline, sent);
        batch.clear();
        batch.push(first);
        while batch.len() < MAX_BATCH {
            let Some(next) = frames.peek() else { break };
            let due = pacer.deadline(next.time);
            if due > sent || !coalesce(&batch, next) {
                break;
            }
            lateness.record(due, sent);
            batch.extend(frames.next());
        }
        let behind = sent.saturating_duration_since(deadline);
        if behind > SLIP {
            pacer.slip(behind);
            lateness.slips += 1;
            lateness.slipped += behind;
        }
        if sink(&batch, sent) == Flow::Stop {
            break;
        }
    }
    lateness
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::Label;
    use bulkhead::frame::{CanId, Frame};
    use bulkhead::rules::PortId;

    fn frame_at(millis: u64) -> SimFrame {
        SimFrame {
            time: Timestamp::from_millis(1_000 + millis),
            port: PortId(0),
            frame: Frame::classic(CanId::standard(0x100).expect("id"), &[]).expect("frame"),
            label: Label::Genuine,
            device: None,
        }
    }

    #[test]
    fn deadlines_scale_with_the_speed() {
        let wall = Instant::now();
        let pacer = Pacer::new(Timestamp::from_millis(1_000), wall, 4.0);
        assert_eq!(pacer.deadline(Timestamp::from_millis(1_000)), wall);
        assert_eq!(pacer.deadline(Timestamp::from_millis(3_000)), wall + Duration::from_millis(500));
        assert_eq!(pacer.deadline(Timestamp::from_millis(10)), wall, "before the start: at once");
        assert_eq!(pacer.wall_duration(Duration::from_secs(2)), Duration::from_millis(500));
        let nonsense = Pacer::new(Timestamp::from_millis(0), wall, -1.0);
        assert_eq!(nonsense.deadline(Timestamp::from_millis(20)), wall + Duration::from_millis(20));
    }

    #[test]
    fn frames_leave_in_order_never_early_and_all_of_them() {
        // 200 ms of virtual time at twice the speed: 100 ms of wall clock.
        let frames: Vec<SimFrame> = (0..=40).map(|i| frame_at(i * 5)).collect();
        let start = Instant::now();
        let mut pacer = Pacer::new(Timestamp::from_millis(1_000), start, 2.0);
        let mut seen = Vec::new();
        let lateness = play(
            frames.clone(),
            &mut pacer,
            |_, _| false,
            |batch, sent| {
                seen.extend(batch.iter().map(|f| (*f, sent)));
                Flow::Continue
            },
        );
        assert_eq!(seen.len(), frames.len());
        assert_eq!(lateness.frames, frames.len() as u64);
        assert!(seen.iter().zip(&frames).all(|((a, _), b)| a == b), "same frames, same order");
        assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "send times never go back");
        // Slips only move deadlines later, so each frame's final deadline bounds it from below.
        for (f, sent) in &seen {
            assert!(*sent >= pacer.deadline(f.time) - lateness.slipped, "a frame left before its deadline");
            assert!(
                *sent
                    >= start
                        + Duration::from_nanos(
                            f.time.saturating_since(Timestamp::from_millis(1_000)).as_nanos() as u64 / 2
                        )
            );
        }
        // Never early, so the run lasts at least the scaled scenario.
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert!(lateness.max >= lateness.mean());
    }

    #[test]
    fn the_sink_can_stop_the_run() {
        let frames: Vec<SimFrame> = (0..10).map(frame_at).collect();
        let mut pacer = Pacer::new(Timestamp::from_millis(1_000), Instant::now(), 1000.0);
        let mut n = 0;
        play(
            frames,
            &mut pacer,
            |_, _| false,
            |_, _| {
                n += 1;
                if n == 3 { Flow::Stop } else { Flow::Continue }
            },
        );
        assert_eq!(n, 3);
    }

    #[test]
    fn a_stall_slips_the_schedule_instead_of_bursting() {
        // Ten frames 20 ms apart; the sink stalls 60 ms at the third.
        let frames: Vec<SimFrame> = (0..10).map(|i| frame_at(i * 20)).collect();
        let mut pacer = Pacer::new(Timestamp::from_millis(1_000), Instant::now(), 1.0);
        let mut sent = Vec::new();
        let lateness = play(
            frames,
            &mut pacer,
            |_, _| false,
            |_, at| {
                sent.push(at);
                if sent.len() == 3 {
                    std::thread::sleep(Duration::from_millis(60));
                }
                Flow::Continue
            },
        );
        assert!(lateness.slips >= 1 && lateness.slipped >= Duration::from_millis(35), "{lateness:?}");
        // After the stall the frames keep (at least) their spacing: no burst.
        for pair in sent[3..].windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(15), "{:?}", pair[1] - pair[0]);
        }
    }

    #[test]
    fn due_frames_that_belong_together_leave_as_one_batch_in_order() {
        // 200 frames at one instant: the first is due, the rest due with it.
        let mut frames: Vec<SimFrame> = (0..200).map(|_| frame_at(0)).collect();
        for (i, f) in frames.iter_mut().enumerate() {
            f.label = if i == 100 { Label::Request } else { Label::Genuine };
        }
        let mut pacer = Pacer::new(Timestamp::from_millis(1_000), Instant::now(), 1.0);
        let mut batches = Vec::new();
        let same_label = |batch: &[SimFrame], next: &SimFrame| batch[0].label == next.label;
        let lateness = play(frames.clone(), &mut pacer, same_label, |batch, _| {
            batches.push(batch.to_vec());
            Flow::Continue
        });
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [64, 36, 1, 64, 35], "at most MAX_BATCH, split where the label changes");
        assert_eq!(batches.concat(), frames, "every frame, in order");
        assert_eq!(lateness.frames, 200);
        // Frames not yet due never join a batch.
        let spaced: Vec<SimFrame> = (0..5).map(|i| frame_at(i * 20)).collect();
        let mut pacer = Pacer::new(Timestamp::from_millis(1_000), Instant::now(), 1.0);
        let mut sizes = Vec::new();
        play(
            spaced,
            &mut pacer,
            |_, _| true,
            |batch, _| {
                sizes.push(batch.len());
                Flow::Continue
            },
        );
        assert_eq!(sizes, [1, 1, 1, 1, 1]);
    }

    #[test]
    fn lateness_counts_only_what_is_behind() {
        let t = Instant::now();
        let mut l = Lateness::default();
        l.record(t, t);
        l.record(t + Duration::from_millis(5), t);
        l.record(t, t + Duration::from_millis(30));
        assert_eq!(l.frames, 3);
        assert_eq!(l.late, 1);
        assert_eq!(l.max, Duration::from_millis(30));
        assert_eq!(l.mean(), Duration::from_millis(10));
    }
}
