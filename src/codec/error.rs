//! The three ways the codec can refuse: a layout that cannot be compiled
//! ([`LayoutError`], found once when a DBC is loaded), a payload that cannot be
//! decoded ([`DecodeError`], per frame) and values that cannot be encoded
//! ([`EncodeError`], per call).
//!
//! Errors name the signal they are about; names are shared (`Arc<str>`) so
//! building an error on a per-frame path does not allocate.

use std::sync::Arc;

use thiserror::Error;

use super::value::RawValue;
use crate::dbc::{ByteOrder, ValueType};

/// Why a message or signal of a DBC model cannot be compiled into a codec.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum LayoutError {
    /// A message is declared longer than the 64 bytes of a CAN FD frame.
    #[error("message is {size} bytes long, more than the 64 bytes of a CAN FD frame")]
    MessageTooLong {
        /// The declared length in bytes.
        size: u32,
    },
    /// A signal of zero bits carries nothing and cannot be placed.
    #[error("signal `{signal}` has 0 bits")]
    ZeroSize {
        /// The signal's name.
        signal: String,
    },
    /// The codec reads at most 64 bits into one value.
    #[error("signal `{signal}` has {size} bits, more than 64")]
    TooManyBits {
        /// The signal's name.
        signal: String,
        /// Its declared length in bits.
        size: u32,
    },
    /// A float32 signal must be exactly 32 bits and a float64 signal exactly 64.
    #[error("signal `{signal}` is {value_type:?} but has {size} bits (float32 needs 32, float64 needs 64)")]
    FloatSize {
        /// The signal's name.
        signal: String,
        /// Its value type.
        value_type: ValueType,
        /// Its declared length in bits.
        size: u32,
    },
    /// The start bit lies beyond the last bit of the message.
    #[error("signal `{signal}` starts at bit {start_bit}, outside the {message_size}-byte message")]
    StartOutsideMessage {
        /// The signal's name.
        signal: String,
        /// The start bit as written in the DBC.
        start_bit: u32,
        /// The message length in bytes.
        message_size: u32,
    },
    /// The signal starts inside the message but its last bit lies beyond its end
    /// (for Motorola signals: the sawtooth runs off the last byte).
    #[error(
        "signal `{signal}` ({start_bit}|{size}@{order}) runs past the end of the {message_size}-byte message",
        order = if *byte_order == ByteOrder::LittleEndian { "1" } else { "0" }
    )]
    EndsOutsideMessage {
        /// The signal's name.
        signal: String,
        /// The start bit as written in the DBC.
        start_bit: u32,
        /// Its length in bits.
        size: u32,
        /// Its byte order.
        byte_order: ByteOrder,
        /// The message length in bytes.
        message_size: u32,
    },
    /// A `mN` or `mNM` signal without `SG_MUL_VAL_` needs the message's `M` switch,
    /// and the message has none.
    #[error("signal `{signal}` is multiplexed but the message has no multiplexer switch (`M`)")]
    MissingMultiplexor {
        /// The multiplexed signal's name.
        signal: String,
    },
    /// A `mN` or `mNM` signal without `SG_MUL_VAL_` cannot tell which of several
    /// `M` switches it belongs to.
    #[error(
        "signal `{signal}` is multiplexed but the message has several `M` switches and no `SG_MUL_VAL_` says which"
    )]
    AmbiguousMultiplexor {
        /// The multiplexed signal's name.
        signal: String,
    },
    /// An `SG_MUL_VAL_` entry names a switch that is not a signal of the message.
    #[error("signal `{signal}` is multiplexed by `{switch}`, which is not a signal of the message")]
    UnknownSwitch {
        /// The multiplexed signal's name.
        signal: String,
        /// The switch name as given.
        switch: String,
    },
    /// An `SG_MUL_VAL_` entry names a switch that several signals of the message share.
    #[error("signal `{signal}` is multiplexed by `{switch}`, a name several signals of the message share")]
    AmbiguousSwitch {
        /// The multiplexed signal's name.
        signal: String,
        /// The switch name as given.
        switch: String,
    },
    /// A signal has `SG_MUL_VAL_` entries naming different switches; a signal has one switch.
    #[error("signal `{signal}` has `SG_MUL_VAL_` entries for two switches, `{first}` and `{second}`")]
    SeveralSwitches {
        /// The multiplexed signal's name.
        signal: String,
        /// The switch of the first entry.
        first: String,
        /// The other switch.
        second: String,
    },
    /// Switch values are compared as integers; a float signal cannot be a switch.
    #[error("signal `{signal}` is multiplexed by `{switch}`, a float signal")]
    FloatSwitch {
        /// The multiplexed signal's name.
        signal: String,
        /// The switch's name.
        switch: String,
    },
    /// An `SG_MUL_VAL_` range whose lower bound exceeds its upper bound.
    #[error("signal `{signal}` has the empty multiplexer range {low}-{high}")]
    InvertedRange {
        /// The multiplexed signal's name.
        signal: String,
        /// The lower bound as given.
        low: u64,
        /// The upper bound as given.
        high: u64,
    },
    /// An `SG_MUL_VAL_` entry with no range at all: the signal could never be present.
    #[error("signal `{signal}` has an `SG_MUL_VAL_` entry with no range")]
    NoRange {
        /// The multiplexed signal's name.
        signal: String,
    },
    /// The switches of a message depend on each other in a circle (a switch
    /// multiplexed, directly or not, by itself).
    #[error("signal `{signal}` is, through its switches, multiplexed by itself")]
    SwitchCycle {
        /// A signal on the circle.
        signal: String,
    },
    /// The codec keeps switch values in a fixed array; a message has at most this many switches.
    #[error("the message has {count} multiplexer switches, more than the {max} the codec supports")]
    TooManySwitches {
        /// How many signals act as a switch.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// Why a payload cannot be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The payload is shorter than the message's DBC length. Longer payloads
    /// decode (the extra bytes are ignored).
    #[error("payload of {len} bytes is shorter than the {expected} bytes the DBC declares")]
    TooShort {
        /// The payload length.
        len: usize,
        /// The DBC length of the message.
        expected: usize,
    },
}

/// Why values cannot be encoded into a payload.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum EncodeError {
    /// The output buffer is shorter than the message's DBC length.
    #[error("buffer of {len} bytes is shorter than the {expected} bytes the DBC declares")]
    BufferTooShort {
        /// The buffer length.
        len: usize,
        /// The DBC length of the message.
        expected: usize,
    },
    /// A signal index that is not one of the message's signals.
    #[error("signal index {index} is not a signal of the message ({count} signals)")]
    UnknownSignal {
        /// The index as given.
        index: usize,
        /// How many signals the message has.
        count: usize,
    },
    /// The same signal was given twice.
    #[error("signal `{signal}` was given more than once")]
    DuplicateSignal {
        /// The signal's name.
        signal: Arc<str>,
    },
    /// A float value for an integer signal, or an integer value for a float signal.
    #[error("signal `{signal}` is {expected:?}, it cannot hold the value {value}")]
    TypeMismatch {
        /// The signal's name.
        signal: Arc<str>,
        /// The signal's value type.
        expected: ValueType,
        /// The value as given.
        value: RawValue,
    },
    /// An integer raw value outside what the signal's bits can hold.
    #[error("raw value {value} does not fit in signal `{signal}` ({size} bits, {})", signedness(*signed))]
    RawOutOfRange {
        /// The signal's name.
        signal: Arc<str>,
        /// The value as given.
        value: RawValue,
        /// The signal's length in bits.
        size: u32,
        /// Whether the signal is two's complement signed.
        signed: bool,
    },
    /// A physical value whose raw value, `round((value - offset) / factor)`, the
    /// signal's bits cannot hold.
    #[error(
        "physical value {value} (raw {raw}) does not fit in signal `{signal}` ({size} bits, {})",
        signedness(*signed)
    )]
    PhysicalOutOfRange {
        /// The signal's name.
        signal: Arc<str>,
        /// The physical value as given.
        value: f64,
        /// The raw value it scales to, before the range check.
        raw: f64,
        /// The signal's length in bits.
        size: u32,
        /// Whether the signal is two's complement signed.
        signed: bool,
    },
    /// NaN or an infinity cannot be stored in an integer signal.
    #[error("signal `{signal}` is an integer signal, it cannot hold {value}")]
    NotFinite {
        /// The signal's name.
        signal: Arc<str>,
        /// The physical value as given.
        value: f64,
    },
    /// A signal with factor 0 always reads as its offset; no other physical value can be encoded.
    #[error("signal `{signal}` has factor 0 and always reads {offset}; {value} cannot be encoded")]
    ZeroFactor {
        /// The signal's name.
        signal: Arc<str>,
        /// The physical value as given.
        value: f64,
        /// The signal's offset, the only value it can hold.
        offset: f64,
    },
    /// A finite value too large for a float32 signal.
    #[error("value {value} overflows float32 signal `{signal}`")]
    Float32Overflow {
        /// The signal's name.
        signal: Arc<str>,
        /// The raw float value.
        value: f64,
    },
    /// A multiplexed signal was given but the value of its switch was not.
    #[error("signal `{signal}` is multiplexed by `{switch}`, whose value was not given")]
    MissingSwitch {
        /// The multiplexed signal's name.
        signal: Arc<str>,
        /// Its switch's name.
        switch: Arc<str>,
    },
    /// A multiplexed signal was given but the given switch value does not select it.
    #[error("signal `{signal}` is not present when switch `{switch}` holds {switch_value}")]
    NotSelected {
        /// The multiplexed signal's name.
        signal: Arc<str>,
        /// Its switch's name.
        switch: Arc<str>,
        /// The switch value that was given (as an unsigned raw value).
        switch_value: u64,
    },
    /// A multiplexed signal was given but its switch is itself multiplexed and
    /// not present for the given values (or holds a negative value).
    #[error("signal `{signal}` is multiplexed by `{switch}`, which is not present for the given values")]
    SwitchNotPresent {
        /// The multiplexed signal's name.
        signal: Arc<str>,
        /// Its switch's name.
        switch: Arc<str>,
    },
}

fn signedness(signed: bool) -> &'static str {
    if signed { "signed" } else { "unsigned" }
}
