//! One signal, compiled: its bit layout, value type, scaling and value
//! descriptions, ready to read from or write into a payload.
//!
//! Invariants: the layout is valid for the message length the codec was built
//! for (every bit inside it); a float32 signal has 32 bits and a float64 signal
//! 64; descriptions are sorted by raw value, one per value (the first one the
//! DBC gives wins). Reading checks the payload length once and then cannot fail.

use std::sync::Arc;

use crate::dbc::{ByteOrder, Signal, ValueType};

use super::bits::BitLayout;
use super::error::{DecodeError, EncodeError, LayoutError};
use super::value::{Decoded, RawValue};

/// A signal compiled for fast reads and checked writes.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalCodec {
    name: Arc<str>,
    layout: BitLayout,
    start_bit: u32,
    byte_order: ByteOrder,
    value_type: ValueType,
    factor: f64,
    offset: f64,
    message_size: usize,
    descriptions: Box<[(i64, Box<str>)]>,
}

impl SignalCodec {
    /// Compiles `signal` for a message of `message_size` bytes.
    pub fn new(signal: &Signal, message_size: u32) -> Result<Self, LayoutError> {
        let layout = BitLayout::new(&signal.name, signal.start_bit, signal.size, signal.byte_order, message_size)?;
        let float_size = match signal.value_type {
            ValueType::Float32 => Some(32),
            ValueType::Float64 => Some(64),
            ValueType::Unsigned | ValueType::Signed => None,
        };
        if float_size.is_some_and(|bits| bits != signal.size) {
            return Err(LayoutError::FloatSize {
                signal: signal.name.clone(),
                value_type: signal.value_type,
                size: signal.size,
            });
        }
        let mut descriptions: Vec<(i64, Box<str>)> =
            signal.value_descriptions.iter().map(|d| (d.value, d.description.as_str().into())).collect();
        // Stable sort, then keep the first description of each value (as `Signal::describe` does).
        descriptions.sort_by_key(|(value, _)| *value);
        descriptions.dedup_by_key(|(value, _)| *value);
        Ok(SignalCodec {
            name: signal.name.as_str().into(),
            layout,
            start_bit: signal.start_bit,
            byte_order: signal.byte_order,
            value_type: signal.value_type,
            factor: signal.factor,
            offset: signal.offset,
            message_size: message_size as usize,
            descriptions: descriptions.into_boxed_slice(),
        })
    }

    /// The signal's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The start bit as written in the DBC.
    pub fn start_bit(&self) -> u32 {
        self.start_bit
    }

    /// The length in bits (1..=64).
    pub fn size(&self) -> u32 {
        self.layout.size()
    }

    /// Intel or Motorola.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Unsigned, signed or float.
    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    /// physical = raw * factor + offset.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// physical = raw * factor + offset.
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// The DBC length of the message the signal was compiled for; shorter
    /// payloads are refused.
    pub fn message_size(&self) -> usize {
        self.message_size
    }

    /// The first and last byte the signal's bits touch (inclusive).
    pub fn byte_span(&self) -> (usize, usize) {
        self.layout.byte_span()
    }

    /// The raw value of the signal in `data` (a payload at least as long as
    /// the message; extra bytes are ignored). Ignores multiplexing: see
    /// [`MessageCodec::is_present`](super::MessageCodec::is_present).
    #[inline]
    pub fn raw(&self, data: &[u8]) -> Result<RawValue, DecodeError> {
        self.check_len(data.len())?;
        Ok(self.raw_unchecked(data))
    }

    /// The physical value of the signal in `data` (see [`SignalCodec::raw`]).
    #[inline]
    pub fn physical(&self, data: &[u8]) -> Result<f64, DecodeError> {
        self.check_len(data.len())?;
        Ok(self.to_physical(self.raw_unchecked(data)))
    }

    /// The raw and physical values of the signal in `data` (see [`SignalCodec::raw`]).
    #[inline]
    pub fn decode(&self, data: &[u8]) -> Result<Decoded, DecodeError> {
        self.check_len(data.len())?;
        Ok(self.decode_unchecked(data))
    }

    #[inline]
    fn check_len(&self, len: usize) -> Result<(), DecodeError> {
        if len < self.message_size { Err(DecodeError::TooShort { len, expected: self.message_size }) } else { Ok(()) }
    }

    /// Decodes without the length check; bytes missing from `data` read as zero.
    #[inline]
    pub(crate) fn decode_unchecked(&self, data: &[u8]) -> Decoded {
        let raw = self.raw_unchecked(data);
        Decoded { raw, physical: self.to_physical(raw) }
    }

    /// Reads the raw value without the length check; bytes missing from `data` read as zero.
    #[inline]
    pub(crate) fn raw_unchecked(&self, data: &[u8]) -> RawValue {
        let bits = self.layout.extract(data);
        match self.value_type {
            ValueType::Unsigned => RawValue::Unsigned(bits),
            ValueType::Signed => {
                let unused = 64 - self.layout.size();
                RawValue::Signed(((bits << unused) as i64) >> unused)
            }
            ValueType::Float32 => RawValue::Float(f32_bits_to_f64(bits as u32)),
            ValueType::Float64 => RawValue::Float(f64::from_bits(bits)),
        }
    }

    /// Scales a raw value: `raw * factor + offset`.
    #[inline]
    pub fn to_physical(&self, raw: RawValue) -> f64 {
        raw.as_f64() * self.factor + self.offset
    }

    /// The raw value a physical value is stored as: `round((physical - offset) / factor)`
    /// for integer signals (an error when the signal's bits cannot hold it),
    /// `(physical - offset) / factor` for float signals. With factor 0 only the
    /// offset itself can be encoded (as raw 0).
    pub fn to_raw(&self, physical: f64) -> Result<RawValue, EncodeError> {
        let is_float = matches!(self.value_type, ValueType::Float32 | ValueType::Float64);
        if !is_float && !physical.is_finite() {
            return Err(EncodeError::NotFinite { signal: self.name.clone(), value: physical });
        }
        let unscaled = if self.factor == 0.0 {
            if physical != self.offset {
                return Err(EncodeError::ZeroFactor {
                    signal: self.name.clone(),
                    value: physical,
                    offset: self.offset,
                });
            }
            0.0
        } else {
            (physical - self.offset) / self.factor
        };
        if is_float {
            return Ok(RawValue::Float(unscaled));
        }
        let raw = unscaled.round();
        let size = self.layout.size();
        let signed = self.value_type == ValueType::Signed;
        // Powers of two up to 2^64 are exact in f64, and so are the comparisons.
        let limit = 2f64.powi(size as i32 - i32::from(signed));
        let low = if signed { -limit } else { 0.0 };
        if !(raw >= low && raw < limit) {
            return Err(EncodeError::PhysicalOutOfRange {
                signal: self.name.clone(),
                value: physical,
                raw,
                size,
                signed,
            });
        }
        // In range and integral, so the casts are exact.
        Ok(if signed { RawValue::Signed(raw as i64) } else { RawValue::Unsigned(raw as u64) })
    }

    /// The text the DBC gives for a raw value (`VAL_`), if any. Float raw
    /// values match when they are integral.
    pub fn description(&self, raw: RawValue) -> Option<&str> {
        let key = raw.as_i64()?;
        let found = self.descriptions.binary_search_by_key(&key, |(value, _)| *value).ok()?;
        self.descriptions.get(found).map(|(_, text)| &**text)
    }

    /// The value descriptions, sorted by raw value.
    pub fn descriptions(&self) -> impl Iterator<Item = (i64, &str)> {
        self.descriptions.iter().map(|(value, text)| (*value, &**text))
    }

    /// Writes a raw value into the signal's bits of `buf` (at least the message
    /// length), leaving every other bit untouched. Ignores multiplexing: see
    /// [`MessageCodec::encode_raw`](super::MessageCodec::encode_raw).
    pub fn encode_raw(&self, value: RawValue, buf: &mut [u8]) -> Result<(), EncodeError> {
        if buf.len() < self.message_size {
            return Err(EncodeError::BufferTooShort { len: buf.len(), expected: self.message_size });
        }
        let bits = self.raw_bits(value)?;
        self.layout.insert(buf, bits);
        Ok(())
    }

    /// Writes a physical value (see [`SignalCodec::to_raw`] and [`SignalCodec::encode_raw`]).
    pub fn encode_physical(&self, value: f64, buf: &mut [u8]) -> Result<(), EncodeError> {
        let raw = self.to_raw(value)?;
        self.encode_raw(raw, buf)
    }

    /// Writes bits already checked by [`SignalCodec::raw_bits`].
    pub(crate) fn insert_bits(&self, buf: &mut [u8], bits: u64) {
        self.layout.insert(buf, bits);
    }

    /// The bits that store `value`, or why they cannot. Integers of either
    /// variant are accepted by integer signals when the value fits; only floats
    /// go into float signals.
    pub(crate) fn raw_bits(&self, value: RawValue) -> Result<u64, EncodeError> {
        let size = self.layout.size();
        let out_of_range = || EncodeError::RawOutOfRange {
            signal: self.name.clone(),
            value,
            size,
            signed: self.value_type == ValueType::Signed,
        };
        let mismatch = || EncodeError::TypeMismatch { signal: self.name.clone(), expected: self.value_type, value };
        let unsigned_max = u64::MAX >> (64 - size);
        match (self.value_type, value) {
            (ValueType::Unsigned, RawValue::Unsigned(u)) => (u <= unsigned_max).then_some(u).ok_or_else(out_of_range),
            (ValueType::Unsigned, RawValue::Signed(i)) => {
                u64::try_from(i).ok().filter(|u| *u <= unsigned_max).ok_or_else(out_of_range)
            }
            (ValueType::Signed, RawValue::Unsigned(u)) => {
                (u <= unsigned_max >> 1).then_some(u).ok_or_else(out_of_range)
            }
            (ValueType::Signed, RawValue::Signed(i)) => {
                let max = (unsigned_max >> 1) as i64;
                let min = -max - 1;
                (min <= i && i <= max).then_some(i as u64 & unsigned_max).ok_or_else(out_of_range)
            }
            (ValueType::Float32, RawValue::Float(f)) => match f64_to_f32_bits(f) {
                Some(bits) => Ok(u64::from(bits)),
                None => Err(EncodeError::Float32Overflow { signal: self.name.clone(), value: f }),
            },
            (ValueType::Float64, RawValue::Float(f)) => Ok(f.to_bits()),
            (ValueType::Unsigned | ValueType::Signed, RawValue::Float(_))
            | (ValueType::Float32 | ValueType::Float64, RawValue::Unsigned(_) | RawValue::Signed(_)) => Err(mismatch()),
        }
    }

    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }
}

const F32_EXPONENT: u32 = 0x7F80_0000;
const F32_MANTISSA: u32 = 0x007F_FFFF;
const F32_QUIET: u32 = 0x0040_0000;
const F64_EXPONENT: u64 = 0x7FF0_0000_0000_0000;
/// Mantissa bits an f64 has beyond an f32's 23.
const MANTISSA_GAP: u32 = 52 - 23;

/// Widens float32 bits exactly, NaN payloads included (a plain `as` cast may
/// quieten a signalling NaN, and then re-encoding would change the bits).
fn f32_bits_to_f64(bits: u32) -> f64 {
    let value = f32::from_bits(bits);
    if value.is_nan() {
        let sign = u64::from(bits >> 31) << 63;
        f64::from_bits(sign | F64_EXPONENT | u64::from(bits & F32_MANTISSA) << MANTISSA_GAP)
    } else {
        f64::from(value)
    }
}

/// Narrows to float32 bits (rounding to nearest), the inverse of
/// [`f32_bits_to_f64`] on the values it produces; `None` when a finite value
/// overflows float32.
fn f64_to_f32_bits(value: f64) -> Option<u32> {
    if value.is_nan() {
        let bits = value.to_bits();
        let sign = ((bits >> 63) as u32) << 31;
        let mantissa = (bits >> MANTISSA_GAP) as u32 & F32_MANTISSA;
        // A NaN whose payload lived only in the dropped low bits stays a NaN.
        let mantissa = if mantissa == 0 { F32_QUIET } else { mantissa };
        return Some(sign | F32_EXPONENT | mantissa);
    }
    let narrowed = value as f32;
    if narrowed.is_infinite() && value.is_finite() { None } else { Some(narrowed.to_bits()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_support::{SignalExt, signal};
    use ByteOrder::{BigEndian as Motorola, LittleEndian as Intel};

    fn codec(s: Signal, message_size: u32) -> SignalCodec {
        SignalCodec::new(&s, message_size).expect("valid signal")
    }

    #[test]
    fn unsigned_with_factor_and_offset() {
        // Intel 12 bits from bit 4: the high nibble of byte 0 is the low nibble of the value.
        let s = codec(signal("Speed", 4, 12, Intel, ValueType::Unsigned).scaled(0.5, -10.0), 2);
        let data = [0xC5, 0xAB];
        assert_eq!(s.raw(&data), Ok(RawValue::Unsigned(0xABC)));
        assert_eq!(s.physical(&data), Ok(0xABC as f64 * 0.5 - 10.0));
        assert_eq!(s.to_raw(0xABC as f64 * 0.5 - 10.0), Ok(RawValue::Unsigned(0xABC)));
    }

    #[test]
    fn signed_negative_both_orders() {
        // -2 in 10 bits is 0x3FE.
        let intel = codec(signal("a", 3, 10, Intel, ValueType::Signed), 2);
        let mut buf = [0u8; 2];
        intel.encode_raw(RawValue::Signed(-2), &mut buf).unwrap();
        // Value bits 0..4 (11110) go to bits 3..7 of byte 0, bits 5..9 (11111) to bits 0..4 of byte 1.
        assert_eq!(buf, [0xF0, 0x1F]);
        assert_eq!(intel.raw(&buf), Ok(RawValue::Signed(-2)));
        // Motorola 7|16: byte 0 is the high byte.
        let motorola = codec(signal("b", 7, 16, Motorola, ValueType::Signed), 2);
        assert_eq!(motorola.raw(&[0xFF, 0x38]), Ok(RawValue::Signed(-200)));
        assert_eq!(motorola.raw(&[0x80, 0x00]), Ok(RawValue::Signed(i64::from(i16::MIN))));
        // 1-bit signed: the only bit is the sign.
        let bit = codec(signal("c", 0, 1, Intel, ValueType::Signed), 1);
        assert_eq!(bit.raw(&[1]), Ok(RawValue::Signed(-1)));
    }

    #[test]
    fn floats() {
        let f32s = codec(signal("f", 0, 32, Intel, ValueType::Float32), 4);
        assert_eq!(f32s.raw(&1.5f32.to_le_bytes()), Ok(RawValue::Float(1.5)));
        let f64s = codec(signal("d", 7, 64, Motorola, ValueType::Float64).scaled(2.0, 1.0), 8);
        assert_eq!(f64s.physical(&(-0.25f64).to_be_bytes()), Ok(0.5));
        let mut buf = [0u8; 8];
        f64s.encode_physical(0.5, &mut buf).unwrap();
        assert_eq!(buf, (-0.25f64).to_be_bytes());
        assert_eq!(
            f32s.raw_bits(RawValue::Float(1e300)),
            Err(EncodeError::Float32Overflow { signal: "f".into(), value: 1e300 })
        );
        // A signalling NaN survives decode and re-encode bit for bit.
        let snan = 0x7F80_0001u32;
        let raw = f32s.raw(&snan.to_le_bytes()).unwrap();
        assert!(matches!(raw, RawValue::Float(f) if f.is_nan()));
        assert_eq!(f32s.raw_bits(raw), Ok(u64::from(snan)));
        assert!(matches!(
            SignalCodec::new(&signal("g", 0, 16, Intel, ValueType::Float32), 8),
            Err(LayoutError::FloatSize { size: 16, .. })
        ));
    }

    #[test]
    fn range_checks_on_encode() {
        let u8s = codec(signal("u", 0, 8, Intel, ValueType::Unsigned), 1);
        let i8s = codec(signal("i", 0, 8, Intel, ValueType::Signed), 1);
        assert!(u8s.raw_bits(RawValue::Unsigned(255)).is_ok());
        assert!(matches!(u8s.raw_bits(RawValue::Unsigned(256)), Err(EncodeError::RawOutOfRange { .. })));
        assert!(matches!(u8s.raw_bits(RawValue::Signed(-1)), Err(EncodeError::RawOutOfRange { .. })));
        assert_eq!(i8s.raw_bits(RawValue::Signed(-128)), Ok(0x80));
        assert!(matches!(i8s.raw_bits(RawValue::Signed(128)), Err(EncodeError::RawOutOfRange { .. })));
        assert!(matches!(i8s.raw_bits(RawValue::Unsigned(128)), Err(EncodeError::RawOutOfRange { .. })));
        assert!(matches!(i8s.raw_bits(RawValue::Float(1.0)), Err(EncodeError::TypeMismatch { .. })));
        assert!(matches!(u8s.to_raw(f64::NAN), Err(EncodeError::NotFinite { .. })));
        assert!(matches!(u8s.to_raw(255.6), Err(EncodeError::PhysicalOutOfRange { .. })));
        assert_eq!(u8s.to_raw(254.6), Ok(RawValue::Unsigned(255)));
        assert_eq!(i8s.to_raw(-127.9), Ok(RawValue::Signed(-128)));
        let u64s = codec(signal("w", 0, 64, Intel, ValueType::Unsigned), 8);
        assert!(matches!(u64s.to_raw(2f64.powi(64)), Err(EncodeError::PhysicalOutOfRange { .. })));
        assert_eq!(u64s.to_raw(2f64.powi(63)), Ok(RawValue::Unsigned(1 << 63)));
        let i64s = codec(signal("v", 0, 64, Intel, ValueType::Signed), 8);
        assert_eq!(i64s.to_raw(-(2f64.powi(63))), Ok(RawValue::Signed(i64::MIN)));
        assert!(matches!(i64s.to_raw(2f64.powi(63)), Err(EncodeError::PhysicalOutOfRange { .. })));
        let zero = codec(signal("z", 0, 8, Intel, ValueType::Unsigned).scaled(0.0, 3.0), 1);
        assert_eq!(zero.to_raw(3.0), Ok(RawValue::Unsigned(0)));
        assert!(matches!(zero.to_raw(4.0), Err(EncodeError::ZeroFactor { .. })));
        assert_eq!(zero.physical(&[0xAB]), Ok(3.0));
    }

    #[test]
    fn too_short_is_an_error_and_longer_is_fine() {
        let s = codec(signal("s", 56, 8, Intel, ValueType::Unsigned), 8);
        assert_eq!(s.raw(&[0; 7]), Err(DecodeError::TooShort { len: 7, expected: 8 }));
        let mut long = [0u8; 12];
        long[7] = 0x42;
        long[8] = 0xFF;
        assert_eq!(s.raw(&long), Ok(RawValue::Unsigned(0x42)));
        assert!(matches!(s.encode_raw(RawValue::Unsigned(1), &mut [0; 7]), Err(EncodeError::BufferTooShort { .. })));
    }

    #[test]
    fn descriptions_first_wins() {
        let mut s = signal("gear", 0, 4, Intel, ValueType::Unsigned);
        for (value, text) in [(3, "D"), (0, "P"), (3, "dup"), (-1, "neg")] {
            s.value_descriptions.push(crate::dbc::ValueDescription { value, description: text.into() });
        }
        let s = codec(s, 1);
        assert_eq!(s.description(RawValue::Unsigned(3)), Some("D"));
        assert_eq!(s.description(RawValue::Unsigned(0)), Some("P"));
        assert_eq!(s.description(RawValue::Signed(-1)), Some("neg"));
        assert_eq!(s.description(RawValue::Float(3.0)), Some("D"));
        assert_eq!(s.description(RawValue::Unsigned(4)), None);
        assert_eq!(s.descriptions().count(), 3);
    }
}
