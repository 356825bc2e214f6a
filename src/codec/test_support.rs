//! Terse builders of DBC model values for the codec's unit tests.

use crate::dbc::{ByteOrder, ExtendedMultiplexing, FrameFormat, Message, Multiplexing, Signal, ValueType};
use crate::frame::CanId;

/// A plain signal with factor 1, offset 0 and nothing else.
pub(crate) fn signal(name: &str, start_bit: u32, size: u32, byte_order: ByteOrder, value_type: ValueType) -> Signal {
    Signal::new(name, start_bit, size, byte_order, value_type)
}

/// Chained modifiers for [`signal`].
pub(crate) trait SignalExt {
    /// Sets factor and offset.
    fn scaled(self, factor: f64, offset: f64) -> Signal;
    /// Sets the simple multiplexing role.
    fn mux(self, multiplexing: Multiplexing) -> Signal;
    /// Adds an `SG_MUL_VAL_` entry.
    fn mul_val(self, switch: &str, ranges: &[(u64, u64)]) -> Signal;
}

impl SignalExt for Signal {
    fn scaled(mut self, factor: f64, offset: f64) -> Signal {
        self.factor = factor;
        self.offset = offset;
        self
    }

    fn mux(mut self, multiplexing: Multiplexing) -> Signal {
        self.multiplexing = multiplexing;
        self
    }

    fn mul_val(mut self, switch: &str, ranges: &[(u64, u64)]) -> Signal {
        self.extended_multiplexing.push(ExtendedMultiplexing { switch: switch.to_owned(), ranges: ranges.to_vec() });
        self
    }
}

/// A message with a standard id (extended when `id` does not fit in 11 bits).
pub(crate) fn message(id: u32, name: &str, size: u32, signals: Vec<Signal>) -> Message {
    let id = CanId::new(id, id > 0x7FF).expect("test ids fit in 29 bits");
    Message {
        id,
        name: name.to_owned(),
        size,
        transmitter: "Vector__XXX".to_owned(),
        extra_transmitters: Vec::new(),
        signals,
        comment: None,
        attributes: Vec::new(),
        format: if id.is_extended() { FrameFormat::ExtendedCan } else { FrameFormat::StandardCan },
        cycle_time_ms: None,
        line: 0,
    }
}
