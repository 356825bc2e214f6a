//! The content layer: alive counters and checksums of a message, and the
//! per-route signal constraints (ranges, allowed values, largest change).
//! Also builds the gateway's own status frame, the one frame the engine
//! writes rather than checks.
//!
//! Invariant: nothing here allocates or panics, whatever the frame holds.

use super::behaviour::SlotState;
use super::modes::Mode;
use super::signals::FrameSignals;
use super::verdict::DropReason;
use crate::codec::{MessageCodec, RawValue};
use crate::e2e::{CounterStep, counter_step};
use crate::frame::{FdFlags, Frame};
use crate::rules::{Route, Slot, StatusFrame};
use crate::time::Timestamp;

/// Checks the checksum and alive counter of a known message and advances
/// the counter state when it passes.
pub fn check_integrity(def: &Slot, state: &mut SlotState, now: Timestamp, frame: &Frame) -> Result<(), DropReason> {
    if def.checksum.is_none() && def.counter.is_none() {
        return Ok(());
    }
    let Some(codec) = &def.codec else { return Ok(()) };
    let data = frame.data();
    if data.len() < codec.size() {
        return Err(DropReason::LengthMismatch);
    }
    if let Some(cs) = def.checksum
        && !cs.verify(frame.id(), data)
    {
        return Err(DropReason::Checksum);
    }
    if let Some(counter) = def.counter {
        let Some(Ok(RawValue::Unsigned(value))) = codec.signal(counter.signal).map(|s| s.raw(data)) else {
            return Err(DropReason::Counter);
        };
        if let Some((previous, at)) = state.counter {
            let resynced = now.saturating_since(at) > counter.resync;
            if !resynced && counter_step(previous, value, counter.bits, counter.max_step) != CounterStep::Advanced {
                return Err(DropReason::Counter);
            }
        }
        state.counter = Some((value, now));
    }
    Ok(())
}

/// Checks a frame's signals against a route's constraints (decoding only
/// the signals a check reads).
pub fn check_signals(
    route: &Route,
    codec: &MessageCodec,
    data: &[u8],
    signals: &mut FrameSignals,
    steps: &mut [Option<f64>],
) -> Result<(), DropReason> {
    for (switch, ranges) in &route.multiplexers {
        let Some(value) = signals.get(codec, *switch, data)? else { continue };
        let selects = match value.raw {
            RawValue::Unsigned(v) => ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&v)),
            RawValue::Signed(v) => {
                u64::try_from(v).is_ok_and(|v| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&v)))
            }
            RawValue::Float(_) => true,
        };
        if !selects {
            return Err(DropReason::InvalidMultiplexer);
        }
    }
    for check in &route.signal_checks {
        let Some(value) = signals.get(codec, check.signal, data)? else { continue };
        let v = value.physical;
        // NaN (a float signal holding one) is outside every range.
        let outside = v.is_nan() || check.min.is_some_and(|min| v < min) || check.max.is_some_and(|max| v > max);
        if outside {
            return Err(DropReason::SignalOutOfRange);
        }
        if let Some(allowed) = &check.allowed {
            let ok = value.raw.as_i64().is_some_and(|raw| allowed.binary_search(&raw).is_ok());
            if !ok {
                return Err(DropReason::SignalNotAllowed);
            }
        }
    }
    // Steps last, and only once every constraint passed, so a refused frame
    // never becomes the reference for the next one.
    for check in &route.signal_checks {
        let Some((max_step, cell)) = check.max_step else { continue };
        let Some(value) = signals.get(codec, check.signal, data)? else { continue };
        let Some(previous) = steps.get(cell).copied().flatten() else { continue };
        let step = (value.physical - previous).abs();
        if step.is_nan() || step > max_step {
            return Err(DropReason::SignalStep);
        }
    }
    for check in &route.signal_checks {
        if let Some((_, cell)) = check.max_step
            && let Some(value) = signals.get(codec, check.signal, data)?
            && let Some(slot) = steps.get_mut(cell)
        {
            *slot = Some(value.physical);
        }
    }
    Ok(())
}

/// The status frame announcing `mode`, or `None` if the DBC layout cannot
/// hold the values (which the compiler has ruled out for the mode signal).
pub fn status_frame(status: &StatusFrame, mode: Mode, cause: u64, dropped: u64, counter: u64) -> Option<Frame> {
    let codec = &status.codec;
    let mut data = [0u8; 64];
    let buf = data.get_mut(..codec.size())?;
    let put = |buf: &mut [u8], signal: Option<crate::codec::SignalIndex>, value: u64| {
        let Some(sig) = signal.and_then(|s| codec.signal(s)) else { return };
        let max = if sig.size() >= 64 { u64::MAX } else { (1u64 << sig.size()) - 1 };
        let _ = sig.encode_raw(RawValue::Unsigned(value.min(max)), buf);
    };
    put(buf, Some(status.mode_signal), u64::from(mode.code()));
    put(buf, status.cause_signal, cause);
    put(buf, status.drops_signal, dropped);
    if let Some(sig) = status.counter_signal.and_then(|s| codec.signal(s)) {
        let modulus = if sig.size() >= 64 { u64::MAX } else { 1u64 << sig.size() };
        put(buf, status.counter_signal, counter % modulus);
    }
    if let Some(cs) = status.checksum
        && let Some(value) = cs.compute(codec.id(), buf)
        && let Some(b) = buf.get_mut(cs.byte)
    {
        *b = value;
    }
    let frame = if codec.size() > 8 {
        Frame::fd(codec.id(), buf, FdFlags { brs: true, esi: false })
    } else {
        Frame::classic(codec.id(), buf)
    };
    frame.ok()
}
