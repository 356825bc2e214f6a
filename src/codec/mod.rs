//! The signal codec: DBC signals read from and written into CAN payloads.
//!
//! A [`MessageCodec`] is compiled once from a [`Message`](crate::dbc::Message)
//! of the DBC model: every signal's bit layout is reduced to an 8-byte window
//! read plus a shift and a mask ([`SignalCodec`]), and the multiplexing to a
//! list of switches in dependency order. Decoding a frame is then a few
//! instructions per signal, with no allocation: [`MessageCodec::decode`]
//! calls a visitor with each signal present in the frame, and
//! [`SignalCodec::raw`] / [`SignalCodec::physical`] read one signal for the
//! engine's checks. Encoding ([`MessageCodec::encode_raw`],
//! [`MessageCodec::encode_physical`]) checks every value against the signal's
//! bits and the multiplexing before writing only the bits of the signals given.
//! A [`CodecTable`] holds the codecs of one or more DBC files by CAN id.
//!
//! Invariants: compiling is the only place a model is checked; a compiled codec
//! never panics on any payload, and a payload shorter than the DBC length is a
//! [`DecodeError::TooShort`] for that frame only (longer payloads decode, the
//! extra bytes ignored). Physical values are `raw * factor + offset` (factor 0
//! reads as the offset).
//!
//! Files: `bits` (bit positions), `signal`, `mux` (multiplexing), `message`,
//! `table`, `value` (raw and decoded values), `error`.

mod bits;
mod error;
mod message;
mod mux;
mod signal;
mod table;
#[cfg(test)]
mod test_support;
mod value;

pub use bits::MAX_MESSAGE_SIZE;
pub use error::{DecodeError, EncodeError, LayoutError};
pub use message::MessageCodec;
pub use mux::MAX_SWITCHES;
pub use signal::SignalCodec;
pub use table::{CodecTable, DuplicateMessage, InvalidMessage, Lookup, MessageKey};
pub use value::{Decoded, RawValue, SignalIndex};
