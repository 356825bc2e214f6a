//! The signals of the frame being decided, decoded on demand.
//!
//! Most checks read a few signals of a message (the ones whose range or
//! values can actually be wrong, a state variable, an alive counter), so
//! decoding every signal of every frame would waste most of the work. A
//! [`FrameSignals`] decodes a signal the first time a layer asks for it and
//! remembers it until the next frame. Multiplexed messages are decoded whole
//! on first use, since presence depends on the switches.
//!
//! Invariants: `values[i]` is meaningful only while bit `i` of `decoded` is
//! set (or `full` holds); `reset` forgets everything in O(signals / 64);
//! nothing here allocates after construction.

use super::verdict::DropReason;
use crate::codec::{Decoded, MessageCodec, SignalIndex};

/// Decoded signals of one frame.
#[derive(Clone, Debug)]
pub struct FrameSignals {
    values: Vec<Option<Decoded>>,
    decoded: Vec<u64>,
    full: bool,
}

impl FrameSignals {
    /// Room for messages of up to `max_signals` signals.
    pub fn new(max_signals: usize) -> Self {
        FrameSignals { values: vec![None; max_signals], decoded: vec![0; max_signals.div_ceil(64)], full: false }
    }

    /// Forgets the previous frame.
    #[inline]
    pub fn reset(&mut self) {
        for word in &mut self.decoded {
            *word = 0;
        }
        self.full = false;
    }

    /// Signal `index` of `data` (a frame of `codec`'s message): `None` when
    /// multiplexed out; an error when the payload is shorter than the DBC length.
    #[inline]
    pub fn get(
        &mut self,
        codec: &MessageCodec,
        index: SignalIndex,
        data: &[u8],
    ) -> Result<Option<Decoded>, DropReason> {
        let i = index.get();
        if self.full {
            return Ok(self.values.get(i).copied().flatten());
        }
        if codec.is_multiplexed() {
            self.all(codec, data)?;
            return Ok(self.values.get(i).copied().flatten());
        }
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.decoded.get(word).is_some_and(|w| w & bit != 0) {
            return Ok(self.values.get(i).copied().flatten());
        }
        let Some(signal) = codec.signal(index) else { return Ok(None) };
        let value = signal.decode(data).map_err(|_| DropReason::LengthMismatch)?;
        if let (Some(cell), Some(w)) = (self.values.get_mut(i), self.decoded.get_mut(word)) {
            *cell = Some(value);
            *w |= bit;
        }
        Ok(Some(value))
    }

    /// Every signal of the frame (for conditions on the frame's own signals).
    pub fn all(&mut self, codec: &MessageCodec, data: &[u8]) -> Result<&[Option<Decoded>], DropReason> {
        if !self.full {
            for cell in &mut self.values {
                *cell = None;
            }
            let values = &mut self.values;
            codec
                .decode(data, |index, value| {
                    if let Some(cell) = values.get_mut(index.get()) {
                        *cell = Some(value);
                    }
                })
                .map_err(|_| DropReason::LengthMismatch)?;
            self.full = true;
        }
        Ok(&self.values)
    }
}
