//! One message, compiled: all its signals plus its multiplexing, decoded and
//! encoded as a whole.
//!
//! Invariants: every signal's layout is valid for the message's DBC length
//! (at most 64 bytes); the multiplexing plan is acyclic with at most
//! [`MAX_SWITCHES`](super::MAX_SWITCHES) switches. Hence decoding a payload at
//! least as long as the message never fails and never panics, and allocates
//! nothing; a shorter payload is [`DecodeError::TooShort`] for that frame.

use std::sync::Arc;

use crate::dbc::Message;
use crate::frame::CanId;

use super::error::{DecodeError, EncodeError, LayoutError};
use super::mux::{MuxPlan, Presence, SwitchValues};
use super::signal::SignalCodec;
use super::value::{Decoded, RawValue, SignalIndex};

/// A message compiled for decoding and encoding.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageCodec {
    id: CanId,
    name: Arc<str>,
    size: usize,
    signals: Box<[SignalCodec]>,
    mux: MuxPlan,
}

impl MessageCodec {
    /// Compiles every signal of `message` and its multiplexing. Fails on the
    /// first signal whose layout is invalid (see [`LayoutError`]).
    pub fn new(message: &Message) -> Result<Self, LayoutError> {
        if message.size > super::bits::MAX_MESSAGE_SIZE {
            return Err(LayoutError::MessageTooLong { size: message.size });
        }
        let signals = message
            .signals
            .iter()
            .map(|signal| SignalCodec::new(signal, message.size))
            .collect::<Result<Box<[_]>, _>>()?;
        let mux = MuxPlan::new(message)?;
        Ok(MessageCodec {
            id: message.id,
            name: message.name.as_str().into(),
            size: message.size as usize,
            signals,
            mux,
        })
    }

    /// The message's identifier.
    pub fn id(&self) -> CanId {
        self.id
    }

    /// The message's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DBC length in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The signals, in the DBC's order (index them with [`SignalIndex`]).
    pub fn signals(&self) -> &[SignalCodec] {
        &self.signals
    }

    /// The signal at `index`.
    pub fn signal(&self, index: SignalIndex) -> Option<&SignalCodec> {
        self.signals.get(index.get())
    }

    /// The index of the signal called `name`.
    pub fn signal_index(&self, name: &str) -> Option<SignalIndex> {
        self.signals.iter().position(|s| s.name() == name).map(SignalIndex::new)
    }

    /// True when some signal is present only for some switch values.
    pub fn is_multiplexed(&self) -> bool {
        !self.mux.switches.is_empty()
    }

    /// The switch that selects signal `index` and the inclusive ranges of its
    /// values that do; `None` for signals that are always present.
    pub fn selector(&self, index: SignalIndex) -> Option<(SignalIndex, &[(u64, u64)])> {
        match self.mux.presence.get(index.get())? {
            Presence::Always => None,
            Presence::When { slot, ranges } => {
                let switch = self.mux.switches.get(usize::from(*slot))?;
                Some((SignalIndex::new(*switch), ranges))
            }
        }
    }

    /// Decodes `data` and calls `out` once per signal present in it, in the
    /// DBC's order: plain signals always, multiplexed signals when their switch
    /// is present and selects them. Allocates nothing. Bytes beyond the DBC
    /// length are ignored; a shorter payload is [`DecodeError::TooShort`] (and
    /// `out` is not called).
    #[inline]
    pub fn decode(&self, data: &[u8], mut out: impl FnMut(SignalIndex, Decoded)) -> Result<(), DecodeError> {
        self.check_len(data.len())?;
        // Short messages: pad once, so every signal reads a full 8-byte window.
        let mut padded = [0u8; 8];
        let data = if data.len() < padded.len() {
            for (slot, byte) in padded.iter_mut().zip(data) {
                *slot = *byte;
            }
            &padded[..]
        } else {
            data
        };
        if self.mux.switches.is_empty() {
            for (index, signal) in self.signals.iter().enumerate() {
                out(SignalIndex::new(index), signal.decode_unchecked(data));
            }
        } else {
            let mut switches = SwitchValues::new();
            self.evaluate_switches(data, &mut switches);
            for (index, (signal, presence)) in self.signals.iter().zip(&self.mux.presence).enumerate() {
                if presence.holds(&switches) {
                    out(SignalIndex::new(index), signal.decode_unchecked(data));
                }
            }
        }
        Ok(())
    }

    /// Decodes `data` into a new vector of the present signals (for tools;
    /// the per-frame path is [`MessageCodec::decode`]).
    pub fn decode_to_vec(&self, data: &[u8]) -> Result<Vec<(SignalIndex, Decoded)>, DecodeError> {
        let mut decoded = Vec::with_capacity(self.signals.len());
        self.decode(data, |index, value| decoded.push((index, value)))?;
        Ok(decoded)
    }

    /// True when signal `index` is present in `data` (always for plain
    /// signals; `false` for an index that is not a signal of the message).
    pub fn is_present(&self, index: SignalIndex, data: &[u8]) -> Result<bool, DecodeError> {
        self.check_len(data.len())?;
        Ok(match self.mux.presence.get(index.get()) {
            None => false,
            Some(Presence::Always) => true,
            Some(presence) => {
                let mut switches = SwitchValues::new();
                self.evaluate_switches(data, &mut switches);
                presence.holds(&switches)
            }
        })
    }

    fn check_len(&self, len: usize) -> Result<(), DecodeError> {
        if len < self.size { Err(DecodeError::TooShort { len, expected: self.size }) } else { Ok(()) }
    }

    /// Evaluates the switches in dependency order (in place: the state is
    /// too big to return by value on the per-frame path).
    #[inline]
    fn evaluate_switches(&self, data: &[u8], values: &mut SwitchValues) {
        for (slot, &index) in self.mux.switches.iter().enumerate() {
            if let (Some(signal), Some(presence)) = (self.signals.get(index), self.mux.presence.get(index))
                && presence.holds(values)
            {
                values.set(slot, signal.raw_unchecked(data).as_switch_value());
            }
        }
    }

    /// Writes raw values into `buf` (at least the message length), touching
    /// only the bits of the signals given. Every value is checked before
    /// anything is written, so on error `buf` is unchanged. A multiplexed
    /// signal may be given only together with the value of its switch, and
    /// only when that value (and the switch's own switches, up the chain)
    /// selects it.
    pub fn encode_raw(&self, values: &[(SignalIndex, RawValue)], buf: &mut [u8]) -> Result<(), EncodeError> {
        self.encode_values(values, buf)
    }

    /// Writes physical values into `buf`, each converted with
    /// [`SignalCodec::to_raw`]; otherwise as [`MessageCodec::encode_raw`].
    pub fn encode_physical(&self, values: &[(SignalIndex, f64)], buf: &mut [u8]) -> Result<(), EncodeError> {
        self.encode_values(values, buf)
    }

    fn encode_values<V: EncodeValue>(&self, values: &[(SignalIndex, V)], buf: &mut [u8]) -> Result<(), EncodeError> {
        if buf.len() < self.size {
            return Err(EncodeError::BufferTooShort { len: buf.len(), expected: self.size });
        }
        // Resolve every index and reject duplicates.
        for (position, (index, _)) in values.iter().enumerate() {
            let signal = self.given_signal(*index)?;
            if values.iter().take(position).any(|(earlier, _)| earlier == index) {
                return Err(EncodeError::DuplicateSignal { signal: signal.shared_name().clone() });
            }
        }
        // The switch values given, in dependency order.
        let mut switches = SwitchValues::new();
        for (slot, &switch) in self.mux.switches.iter().enumerate() {
            let Some((_, value)) = values.iter().find(|(index, _)| index.get() == switch) else { continue };
            let signal = self.given_signal(SignalIndex::new(switch))?;
            let holds = self.mux.presence.get(switch).is_some_and(|p| p.holds(&switches));
            if holds {
                switches.set(slot, value.to_raw(signal)?.as_switch_value());
            }
        }
        // Check every value, then write them all.
        for (index, value) in values {
            let signal = self.given_signal(*index)?;
            signal.raw_bits(value.to_raw(signal)?)?;
            self.check_selected(*index, signal, values, &switches)?;
        }
        for (index, value) in values {
            let signal = self.given_signal(*index)?;
            let bits = signal.raw_bits(value.to_raw(signal)?)?;
            signal.insert_bits(buf, bits);
        }
        Ok(())
    }

    fn given_signal(&self, index: SignalIndex) -> Result<&SignalCodec, EncodeError> {
        self.signal(index).ok_or(EncodeError::UnknownSignal { index: index.get(), count: self.signals.len() })
    }

    /// Checks that signal `index` is present for the switch values given.
    fn check_selected<V>(
        &self,
        index: SignalIndex,
        signal: &SignalCodec,
        values: &[(SignalIndex, V)],
        switches: &SwitchValues,
    ) -> Result<(), EncodeError> {
        let Some(Presence::When { slot, ranges }) = self.mux.presence.get(index.get()) else { return Ok(()) };
        let Some(&switch) = self.mux.switches.get(usize::from(*slot)) else { return Ok(()) };
        let switch_name = self.signals.get(switch).map(|s| s.shared_name().clone()).unwrap_or_default();
        if !values.iter().any(|(given, _)| given.get() == switch) {
            return Err(EncodeError::MissingSwitch { signal: signal.shared_name().clone(), switch: switch_name });
        }
        match switches.get(*slot) {
            None => Err(EncodeError::SwitchNotPresent { signal: signal.shared_name().clone(), switch: switch_name }),
            Some(value) if ranges.iter().any(|&(low, high)| low <= value && value <= high) => Ok(()),
            Some(value) => Err(EncodeError::NotSelected {
                signal: signal.shared_name().clone(),
                switch: switch_name,
                switch_value: value,
            }),
        }
    }
}

/// A value [`MessageCodec`] can encode: raw values as they are, physical
/// values scaled first.
trait EncodeValue: Copy {
    fn to_raw(self, signal: &SignalCodec) -> Result<RawValue, EncodeError>;
}

impl EncodeValue for RawValue {
    fn to_raw(self, _signal: &SignalCodec) -> Result<RawValue, EncodeError> {
        Ok(self)
    }
}

impl EncodeValue for f64 {
    fn to_raw(self, signal: &SignalCodec) -> Result<RawValue, EncodeError> {
        signal.to_raw(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_support::{SignalExt, message, signal};
    use crate::dbc::ByteOrder::{BigEndian as Motorola, LittleEndian as Intel};
    use crate::dbc::{Multiplexing, Signal, ValueType};

    fn u8_at(name: &str, byte: u32) -> Signal {
        signal(name, byte * 8, 8, Intel, ValueType::Unsigned)
    }

    fn decoded_names(codec: &MessageCodec, data: &[u8]) -> Vec<(String, f64)> {
        codec
            .decode_to_vec(data)
            .unwrap()
            .into_iter()
            .map(|(i, d)| (codec.signal(i).unwrap().name().to_owned(), d.physical))
            .collect()
    }

    fn names(codec: &MessageCodec, data: &[u8]) -> Vec<String> {
        decoded_names(codec, data).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn plain_message_mixed_orders() {
        let m = message(
            0x123,
            "Mixed",
            8,
            vec![
                signal("counter", 0, 4, Intel, ValueType::Unsigned),
                signal("speed", 23, 16, Motorola, ValueType::Unsigned).scaled(0.01, 0.0),
                signal("torque", 36, 12, Intel, ValueType::Signed).scaled(0.5, -100.0),
                signal("flag", 63, 1, Intel, ValueType::Unsigned),
            ],
        );
        let codec = MessageCodec::new(&m).unwrap();
        // counter = 0xA; speed bytes 2..3 big-endian = 0x1234; torque bits 36..47 = 0xFFE (-2); flag = 1.
        let data = [0x0A, 0x00, 0x12, 0x34, 0xE0, 0xFF, 0x00, 0x80];
        assert_eq!(
            decoded_names(&codec, &data),
            vec![
                ("counter".to_owned(), 10.0),
                ("speed".to_owned(), 0x1234 as f64 * 0.01),
                ("torque".to_owned(), -101.0),
                ("flag".to_owned(), 1.0),
            ]
        );
        let mut buf = [0u8; 8];
        let values: Vec<_> = codec.decode_to_vec(&data).unwrap().into_iter().map(|(i, d)| (i, d.raw)).collect();
        codec.encode_raw(&values, &mut buf).unwrap();
        assert_eq!(buf, data);
        let mut buf = [0u8; 8];
        codec
            .encode_physical(
                &[
                    (SignalIndex::new(0), 10.0),
                    (SignalIndex::new(1), 46.6),
                    (SignalIndex::new(2), -101.0),
                    (SignalIndex::new(3), 1.0),
                ],
                &mut buf,
            )
            .unwrap();
        assert_eq!(buf, data);
    }

    #[test]
    fn too_short_and_longer_payloads() {
        let codec = MessageCodec::new(&message(1, "m", 3, vec![u8_at("a", 2)])).unwrap();
        let mut calls = 0;
        assert_eq!(codec.decode(&[1, 2], |_, _| calls += 1), Err(DecodeError::TooShort { len: 2, expected: 3 }));
        assert_eq!(calls, 0);
        assert_eq!(decoded_names(&codec, &[1, 2, 3]), vec![("a".to_owned(), 3.0)]);
        assert_eq!(decoded_names(&codec, &[1, 2, 3, 4, 5, 6, 7, 8, 9]), vec![("a".to_owned(), 3.0)]);
        let empty = MessageCodec::new(&message(2, "e", 0, vec![])).unwrap();
        assert_eq!(empty.decode_to_vec(&[]), Ok(vec![]));
    }

    #[test]
    fn simple_multiplexing() {
        let m = message(
            0x200,
            "Mux",
            8,
            vec![
                u8_at("sw", 0).mux(Multiplexing::Multiplexor),
                u8_at("always", 1),
                u8_at("when1", 2).mux(Multiplexing::Multiplexed(1)),
                u8_at("when2", 2).mux(Multiplexing::Multiplexed(2)),
            ],
        );
        let codec = MessageCodec::new(&m).unwrap();
        assert_eq!(names(&codec, &[1, 0, 0, 0, 0, 0, 0, 0]), ["sw", "always", "when1"]);
        assert_eq!(names(&codec, &[2, 0, 0, 0, 0, 0, 0, 0]), ["sw", "always", "when2"]);
        assert_eq!(names(&codec, &[3, 0, 0, 0, 0, 0, 0, 0]), ["sw", "always"]);
        assert_eq!(codec.is_present(SignalIndex::new(2), &[1; 8]), Ok(true));
        assert_eq!(codec.is_present(SignalIndex::new(3), &[1; 8]), Ok(false));
        assert_eq!(codec.selector(SignalIndex::new(3)), Some((SignalIndex::new(0), &[(2, 2)][..])));
        assert_eq!(codec.selector(SignalIndex::new(1)), None);
    }

    /// The cascaded message of cantools' `issue_184_extended_mux_cascaded.dbc`,
    /// with one more level and a range.
    fn cascade() -> MessageCodec {
        let i8_at = |name: &str, byte: u32| signal(name, byte * 8, 8, Intel, ValueType::Signed);
        MessageCodec::new(&message(
            0x1_0001,
            "ext_MUX_cascaded",
            8,
            vec![
                i8_at("muxed_B_1", 3).mux(Multiplexing::Multiplexed(1)).mul_val("muxed_A_2_MUX_B", &[(1, 1)]),
                i8_at("muxed_B_0", 2).mux(Multiplexing::Multiplexed(0)).mul_val("muxed_A_2_MUX_B", &[(0, 0)]),
                i8_at("muxed_A_2_MUX_B", 1).mux(Multiplexing::MultiplexedMultiplexor(2)).mul_val("MUX_A", &[(2, 2)]),
                i8_at("muxed_A_1", 1).mux(Multiplexing::Multiplexed(1)).mul_val("MUX_A", &[(1, 1)]),
                i8_at("MUX_A", 0).mux(Multiplexing::Multiplexor),
                u8_at("deep", 4).mul_val("muxed_B_0", &[(10, 20), (30, 30)]),
            ],
        ))
        .unwrap()
    }

    #[test]
    fn extended_multiplexing_chains() {
        let codec = cascade();
        assert_eq!(names(&codec, &[1, 5, 0, 0, 0, 0, 0, 0]), ["muxed_A_1", "MUX_A"]);
        assert_eq!(names(&codec, &[2, 1, 0, 7, 0, 0, 0, 0]), ["muxed_B_1", "muxed_A_2_MUX_B", "MUX_A"]);
        assert_eq!(names(&codec, &[2, 0, 15, 0, 0, 0, 0, 0]), ["muxed_B_0", "muxed_A_2_MUX_B", "MUX_A", "deep"]);
        assert_eq!(names(&codec, &[2, 0, 30, 0, 0, 0, 0, 0]), ["muxed_B_0", "muxed_A_2_MUX_B", "MUX_A", "deep"]);
        assert_eq!(names(&codec, &[2, 0, 21, 0, 0, 0, 0, 0]), ["muxed_B_0", "muxed_A_2_MUX_B", "MUX_A"]);
        // muxed_A_2_MUX_B is absent when MUX_A = 1, so byte 1 = 0 must not select muxed_B_0.
        assert_eq!(names(&codec, &[1, 0, 15, 0, 0, 0, 0, 0]), ["muxed_A_1", "MUX_A"]);
        // A negative switch value selects nothing.
        assert_eq!(names(&codec, &[2, 0xFF, 15, 0, 0, 0, 0, 0]), ["muxed_A_2_MUX_B", "MUX_A"]);
        assert_eq!(names(&codec, &[0xFE, 0, 15, 0, 0, 0, 0, 0]), ["MUX_A"]);
    }

    #[test]
    fn encoding_respects_multiplexing() {
        let codec = cascade();
        let idx = |name| codec.signal_index(name).unwrap();
        let mut buf = [0xAAu8; 8];
        codec
            .encode_raw(
                &[
                    (idx("deep"), RawValue::Unsigned(12)),
                    (idx("MUX_A"), RawValue::Signed(2)),
                    (idx("muxed_A_2_MUX_B"), RawValue::Unsigned(0)),
                    (idx("muxed_B_0"), RawValue::Signed(12)),
                ],
                &mut buf,
            )
            .unwrap();
        assert_eq!(buf, [2, 0, 12, 0xAA, 12, 0xAA, 0xAA, 0xAA]);

        let before = buf;
        let err = codec
            .encode_raw(&[(idx("MUX_A"), RawValue::Signed(1)), (idx("muxed_B_0"), RawValue::Signed(1))], &mut buf)
            .unwrap_err();
        assert!(matches!(err, EncodeError::MissingSwitch { ref switch, .. } if &**switch == "muxed_A_2_MUX_B"));
        let err = codec
            .encode_raw(
                &[
                    (idx("MUX_A"), RawValue::Signed(1)),
                    (idx("muxed_A_2_MUX_B"), RawValue::Signed(0)),
                    (idx("muxed_B_0"), RawValue::Signed(1)),
                ],
                &mut buf,
            )
            .unwrap_err();
        assert!(matches!(err, EncodeError::NotSelected { switch_value: 1, .. }), "{err}");
        let err = codec
            .encode_raw(&[(idx("MUX_A"), RawValue::Signed(3)), (idx("muxed_A_1"), RawValue::Signed(1))], &mut buf)
            .unwrap_err();
        assert!(matches!(err, EncodeError::NotSelected { switch_value: 3, .. }));
        let err = codec
            .encode_raw(&[(idx("MUX_A"), RawValue::Signed(1)), (idx("MUX_A"), RawValue::Signed(1))], &mut buf)
            .unwrap_err();
        assert!(matches!(err, EncodeError::DuplicateSignal { .. }));
        let err = codec.encode_raw(&[(SignalIndex::new(99), RawValue::Signed(1))], &mut buf).unwrap_err();
        assert_eq!(err, EncodeError::UnknownSignal { index: 99, count: 6 });
        let err = codec.encode_raw(&[(idx("MUX_A"), RawValue::Signed(200))], &mut buf).unwrap_err();
        assert!(matches!(err, EncodeError::RawOutOfRange { .. }));
        assert_eq!(buf, before, "a failed encode writes nothing");
        assert!(matches!(codec.encode_raw(&[], &mut [0; 7]), Err(EncodeError::BufferTooShort { len: 7, expected: 8 })));
        // Physical values go through the same checks.
        let err = codec.encode_physical(&[(idx("muxed_A_1"), 1.0)], &mut buf).unwrap_err();
        assert!(matches!(err, EncodeError::MissingSwitch { .. }));
        codec.encode_physical(&[(idx("MUX_A"), 1.0), (idx("muxed_A_1"), -3.0)], &mut buf).unwrap();
        assert_eq!(buf, [1, 0xFD, 12, 0xAA, 12, 0xAA, 0xAA, 0xAA]);
    }

    #[test]
    fn invalid_layouts_are_errors() {
        let bad = message(1, "m", 8, vec![u8_at("ok", 0), signal("off", 60, 8, Intel, ValueType::Unsigned)]);
        assert!(
            matches!(MessageCodec::new(&bad), Err(LayoutError::EndsOutsideMessage { ref signal, .. }) if signal == "off")
        );
        let long = message(1, "m", 65, vec![]);
        assert_eq!(MessageCodec::new(&long), Err(LayoutError::MessageTooLong { size: 65 }));
    }
}
