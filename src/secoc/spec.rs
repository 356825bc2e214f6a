//! A secured id as rule files write it, and its translation into a checked
//! [`SecOcProfile`] with errors that name the offending field.
//!
//! ```toml
//! profile = "1"            # "1" | "2" | "3" | "custom" (1, 2, 3 also as integers)
//! data_id = 0x140
//! payload = "0..4"         # authentic payload bytes, start..end
//! # optional; profiles 1-3 fix the sizes, "custom" needs mac_bits and freshness_bits:
//! freshness_bits = 8       # truncated freshness value in the frame
//! freshness_value_bits = 64
//! mac_bits = 24
//! freshness_at = 32        # bit positions (0 = MSB of byte 0); default: packed after the payload
//! mac_at = 40
//! frame_len = 8            # default: the smallest CAN (FD) length that holds the fields
//! max_increment = 512      # acceptance window
//! attempts = 1
//! # profile 3 only:
//! sync_data_id = 0x10
//! trip_counter_bits = 16
//! reset_counter_bits = 20
//! reset_flag_bits = 2
//! ```
//!
//! Unknown keys are refused (`deny_unknown_fields`), so a typo is an error and
//! not a silently ignored setting. The rule compiler maps a [`SpecError`]'s
//! [`field`](SpecError::field) to the key's line and column.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use thiserror::Error;

use super::layout::{Field, LayoutError, LayoutParams, Profile, SecuredLayout, smallest_frame_len};
use super::profile::{Acceptance, MAX_ATTEMPTS, SecOcProfile};
use super::trip_reset::{JASPAR_RESET_BITS, JASPAR_RESET_FLAG_BITS, JASPAR_TRIP_BITS, TripResetLayout};
use crate::frame::FD_MAX_LEN;

/// One secured id as written in a rule file (see the module docs for the keys).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    /// `"1"`, `"2"`, `"3"` or `"custom"`.
    pub profile: Profile,
    /// The SecOC DataId (0..=0xFFFF).
    pub data_id: i64,
    /// The authentic payload bytes, `"start..end"`.
    pub payload: String,
    /// Truncated freshness value bits.
    pub freshness_bits: Option<i64>,
    /// Full freshness value bits.
    pub freshness_value_bits: Option<i64>,
    /// Truncated MAC bits.
    pub mac_bits: Option<i64>,
    /// First bit of the truncated freshness value.
    pub freshness_at: Option<i64>,
    /// First bit of the truncated MAC.
    pub mac_at: Option<i64>,
    /// Frame length in bytes.
    pub frame_len: Option<i64>,
    /// Largest accepted freshness increase.
    pub max_increment: Option<i64>,
    /// Extra verify attempts.
    pub attempts: Option<i64>,
    /// Profile 3: DataId of the synchronisation message.
    pub sync_data_id: Option<i64>,
    /// Profile 3: trip counter bits.
    pub trip_counter_bits: Option<i64>,
    /// Profile 3: reset counter bits.
    pub reset_counter_bits: Option<i64>,
    /// Profile 3: reset flag bits.
    pub reset_flag_bits: Option<i64>,
}

/// What is wrong with a [`LayoutSpec`], naming the field.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SpecError {
    /// A number lies outside what the field allows.
    #[error("`{field}` = {value} is out of range ({min}..={max})")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: i64,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// `payload` is not `"start..end"` with `start <= end <= 64`.
    #[error("`payload` = \"{text}\" is not a byte range like \"0..8\" (start <= end <= 64)")]
    BadPayloadRange {
        /// The text given.
        text: String,
    },
    /// The profile needs this field.
    #[error("`{field}` is required for profile \"{profile}\"")]
    Missing {
        /// The field.
        field: &'static str,
        /// The profile's name.
        profile: &'static str,
    },
    /// The profile fixes this field to another value.
    #[error("profile \"{profile}\" fixes `{field}` at {fixed}, got {given}")]
    FixedByProfile {
        /// The field.
        field: &'static str,
        /// The profile's name.
        profile: &'static str,
        /// The profile's value.
        fixed: i64,
        /// The value given.
        given: i64,
    },
    /// A profile 3 field given for another profile.
    #[error("`{field}` applies to profile \"3\" only, not \"{profile}\"")]
    NotForProfile {
        /// The field.
        field: &'static str,
        /// The profile's name.
        profile: &'static str,
    },
    /// The fields are each fine but do not make a valid layout together.
    #[error("`{field}`: {source}")]
    Layout {
        /// The field to change.
        field: &'static str,
        /// The layout check that failed.
        source: LayoutError,
    },
}

impl SpecError {
    /// The name of the field the error is about.
    pub const fn field(&self) -> &'static str {
        match self {
            SpecError::OutOfRange { field, .. }
            | SpecError::Missing { field, .. }
            | SpecError::FixedByProfile { field, .. }
            | SpecError::NotForProfile { field, .. }
            | SpecError::Layout { field, .. } => field,
            SpecError::BadPayloadRange { .. } => "payload",
        }
    }
}

/// `value` of `field` if within `min..=max`.
fn ranged(field: &'static str, value: i64, min: i64, max: i64) -> Result<i64, SpecError> {
    if (min..=max).contains(&value) { Ok(value) } else { Err(SpecError::OutOfRange { field, value, min, max }) }
}

/// An optional field within `min..=max`, as `usize`/`u32`-friendly `u64`.
fn optional(field: &'static str, value: Option<i64>, min: i64, max: i64) -> Result<Option<u64>, SpecError> {
    value.map(|v| ranged(field, v, min, max).map(|v| v.unsigned_abs())).transpose()
}

/// The value a profile fixes, checked against the one given.
fn fixed(field: &'static str, profile: Profile, given: Option<i64>, value: u32) -> Result<u32, SpecError> {
    match given {
        Some(given) if given != i64::from(value) => {
            Err(SpecError::FixedByProfile { field, profile: profile.name(), fixed: i64::from(value), given })
        }
        _ => Ok(value),
    }
}

fn payload_range(text: &str) -> Result<(usize, usize), SpecError> {
    let bad = || SpecError::BadPayloadRange { text: text.chars().take(40).collect() };
    let (start, end) = text.trim().split_once("..").ok_or_else(bad)?;
    let start: usize = start.trim().parse().map_err(|_| bad())?;
    let end: usize = end.trim().parse().map_err(|_| bad())?;
    if start > end || end > FD_MAX_LEN {
        return Err(bad());
    }
    Ok((start, end))
}

/// Which spec field to blame for a layout error.
fn layout_field(error: &LayoutError) -> &'static str {
    let position = |field: Field| match field {
        Field::AuthenticPayload => "payload",
        Field::Freshness => "freshness_at",
        Field::Mac => "mac_at",
    };
    match error {
        LayoutError::FrameLength { .. } => "frame_len",
        LayoutError::MacEmpty | LayoutError::MacTooLong { .. } => "mac_bits",
        LayoutError::FreshnessValueTooLong { .. }
        | LayoutError::SchemeNeedsFreshness
        | LayoutError::SchemeHasNoFreshness { .. }
        | LayoutError::CountersDoNotMatchLayout => "freshness_value_bits",
        LayoutError::TruncatedFreshnessTooLong { .. } | LayoutError::MessageCounterTooShort { .. } => "freshness_bits",
        LayoutError::OutsideFrame { field, .. } => position(*field),
        LayoutError::Overlap { second, .. } => position(*second),
        LayoutError::CountersTooLong { .. } => "trip_counter_bits",
        LayoutError::CounterEmpty { trip, .. } => {
            if *trip == 0 {
                "trip_counter_bits"
            } else {
                "reset_counter_bits"
            }
        }
        LayoutError::ResetFlagDoesNotFit { .. } => "reset_flag_bits",
    }
}

fn layout_error(error: LayoutError) -> SpecError {
    SpecError::Layout { field: layout_field(&error), source: error }
}

impl LayoutSpec {
    /// Checks every field and builds the profile.
    pub fn build(&self) -> Result<SecOcProfile, SpecError> {
        let profile = self.profile;
        let name = profile.name();
        let data_id = u16::try_from(ranged("data_id", self.data_id, 0, 0xFFFF)?).unwrap_or(u16::MAX);
        let (payload_start, payload_end) = payload_range(&self.payload)?;
        let bits = |field, value: Option<i64>, max| -> Result<Option<u32>, SpecError> {
            Ok(optional(field, value, 0, max)?.map(|v| u32::try_from(v).unwrap_or(u32::MAX)))
        };
        let given_freshness = bits("freshness_bits", self.freshness_bits, 64)?;
        let given_value = bits("freshness_value_bits", self.freshness_value_bits, 64)?;
        let given_mac = bits("mac_bits", self.mac_bits, 128)?;
        let (freshness_bits, freshness_value_bits, mac_bits) = if profile == Profile::Custom {
            let missing = |field| SpecError::Missing { field, profile: name };
            let freshness = given_freshness.ok_or_else(|| missing("freshness_bits"))?;
            let mac = given_mac.ok_or_else(|| missing("mac_bits"))?;
            let value = given_value.unwrap_or(if freshness > 0 { 64 } else { 0 });
            (freshness, value, mac)
        } else {
            let sizes = profile.sizes();
            (
                fixed("freshness_bits", profile, self.freshness_bits, sizes.freshness_bits)?,
                fixed("freshness_value_bits", profile, self.freshness_value_bits, sizes.freshness_value_bits)?,
                fixed("mac_bits", profile, self.mac_bits, sizes.mac_bits)?,
            )
        };
        let frame_bits = (FD_MAX_LEN * 8) as i64;
        let freshness_at = optional("freshness_at", self.freshness_at, 0, frame_bits)?
            .map_or(payload_end * 8, |v| usize::try_from(v).unwrap_or(usize::MAX));
        let mac_at = optional("mac_at", self.mac_at, 0, frame_bits)?
            .map_or(freshness_at + freshness_bits as usize, |v| usize::try_from(v).unwrap_or(usize::MAX));
        let end_bits = (payload_end * 8).max(freshness_at + freshness_bits as usize).max(mac_at + mac_bits as usize);
        let frame_len = optional("frame_len", self.frame_len, 0, FD_MAX_LEN as i64)?
            .map_or(smallest_frame_len(end_bits.div_ceil(8)), |v| usize::try_from(v).unwrap_or(usize::MAX));
        let layout = SecuredLayout::new(LayoutParams {
            data_id,
            frame_len,
            payload_offset: payload_start,
            payload_len: payload_end - payload_start,
            freshness_bits,
            freshness_at,
            freshness_value_bits,
            mac_bits,
            mac_at,
        })
        .map_err(layout_error)?;

        let built = if profile == Profile::Three {
            let sync = self.sync_data_id.ok_or(SpecError::Missing { field: "sync_data_id", profile: name })?;
            let sync = u16::try_from(ranged("sync_data_id", sync, 0, 0xFFFF)?).unwrap_or(u16::MAX);
            let counter = |field, value: Option<i64>, default: u32| -> Result<u32, SpecError> {
                Ok(optional(field, value, 0, 64)?.map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX)))
            };
            let trip = counter("trip_counter_bits", self.trip_counter_bits, JASPAR_TRIP_BITS)?;
            let reset = counter("reset_counter_bits", self.reset_counter_bits, JASPAR_RESET_BITS)?;
            let flag = counter("reset_flag_bits", self.reset_flag_bits, JASPAR_RESET_FLAG_BITS)?;
            let counters = TripResetLayout::new(sync, trip, reset, flag, &layout).map_err(layout_error)?;
            SecOcProfile::trip_reset(layout, counters)
        } else {
            let profile3_only = [
                ("sync_data_id", self.sync_data_id),
                ("trip_counter_bits", self.trip_counter_bits),
                ("reset_counter_bits", self.reset_counter_bits),
                ("reset_flag_bits", self.reset_flag_bits),
            ];
            if let Some((field, _)) = profile3_only.iter().find(|(_, value)| value.is_some()) {
                return Err(SpecError::NotForProfile { field, profile: name });
            }
            if freshness_value_bits == 0 {
                SecOcProfile::without_freshness(layout)
            } else {
                SecOcProfile::counter(layout)
            }
        }
        .map_err(layout_error)?;

        let defaults = Acceptance::default();
        let max_increment =
            optional("max_increment", self.max_increment, 0, i64::MAX)?.unwrap_or(defaults.max_increment);
        let attempts = optional("attempts", self.attempts, 0, i64::from(MAX_ATTEMPTS))?
            .map_or(defaults.attempts, |v| u8::try_from(v).unwrap_or(MAX_ATTEMPTS));
        Ok(built.with_acceptance(Acceptance { max_increment, attempts }))
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Profile, D::Error> {
        struct ProfileVisitor;

        impl Visitor<'_> for ProfileVisitor {
            type Value = Profile;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SecOC profile: \"1\", \"2\", \"3\" or \"custom\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Profile, E> {
                match text {
                    "1" => Ok(Profile::One),
                    "2" => Ok(Profile::Two),
                    "3" => Ok(Profile::Three),
                    "custom" => Ok(Profile::Custom),
                    _ => Err(E::invalid_value(de::Unexpected::Str(text), &self)),
                }
            }

            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Profile, E> {
                match number {
                    1 => Ok(Profile::One),
                    2 => Ok(Profile::Two),
                    3 => Ok(Profile::Three),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(number), &self)),
                }
            }

            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Profile, E> {
                self.visit_i64(i64::try_from(number).unwrap_or(i64::MAX))
            }
        }

        deserializer.deserialize_any(ProfileVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::FreshnessScheme;

    fn spec(profile: Profile, payload: &str) -> LayoutSpec {
        LayoutSpec {
            profile,
            data_id: 0x140,
            payload: payload.to_owned(),
            freshness_bits: None,
            freshness_value_bits: None,
            mac_bits: None,
            freshness_at: None,
            mac_at: None,
            frame_len: None,
            max_increment: None,
            attempts: None,
            sync_data_id: None,
            trip_counter_bits: None,
            reset_counter_bits: None,
            reset_flag_bits: None,
        }
    }

    #[test]
    fn profile_one_with_the_defaults_packs_like_autosar() {
        let profile = spec(Profile::One, "0..8").build().unwrap();
        let layout = profile.layout();
        assert_eq!((layout.freshness().position(), layout.mac().position(), layout.frame_len()), (64, 72, 12));
        assert_eq!(profile.scheme(), &FreshnessScheme::Counter);
    }

    #[test]
    fn explicit_positions_and_acceptance() {
        let mut s = spec(Profile::Custom, "0..16");
        s.freshness_bits = Some(16);
        s.mac_bits = Some(64);
        s.mac_at = Some(160);
        s.frame_len = Some(32);
        s.max_increment = Some(7);
        s.attempts = Some(0);
        let profile = s.build().unwrap();
        assert_eq!((profile.layout().freshness().position(), profile.layout().mac().position()), (128, 160));
        assert_eq!(profile.layout().frame_len(), 32);
        assert_eq!(profile.acceptance(), Acceptance { max_increment: 7, attempts: 0 });
    }

    #[test]
    fn errors_name_the_field() {
        let cases: Vec<(LayoutSpec, &str)> = vec![
            (LayoutSpec { data_id: 0x1_0000, ..spec(Profile::One, "0..4") }, "data_id"),
            (spec(Profile::One, "4..2"), "payload"),
            (spec(Profile::One, "zero..4"), "payload"),
            (LayoutSpec { mac_bits: Some(32), ..spec(Profile::One, "0..4") }, "mac_bits"),
            (LayoutSpec { freshness_bits: Some(4), ..spec(Profile::Two, "0..4") }, "freshness_bits"),
            (spec(Profile::Custom, "0..4"), "freshness_bits"),
            (LayoutSpec { freshness_bits: Some(8), ..spec(Profile::Custom, "0..4") }, "mac_bits"),
            (LayoutSpec { mac_at: Some(20), ..spec(Profile::One, "0..4") }, "mac_at"),
            (LayoutSpec { freshness_at: Some(0), ..spec(Profile::One, "0..4") }, "freshness_at"),
            (LayoutSpec { frame_len: Some(10), ..spec(Profile::One, "0..4") }, "frame_len"),
            (LayoutSpec { frame_len: Some(4), ..spec(Profile::One, "0..4") }, "freshness_at"),
            (spec(Profile::Three, "0..4"), "sync_data_id"),
            (LayoutSpec { sync_data_id: Some(1), ..spec(Profile::One, "0..4") }, "sync_data_id"),
            (
                LayoutSpec { sync_data_id: Some(1), reset_flag_bits: Some(4), ..spec(Profile::Three, "0..4") },
                "reset_flag_bits",
            ),
            (
                LayoutSpec { sync_data_id: Some(1), trip_counter_bits: Some(50), ..spec(Profile::Three, "0..4") },
                "trip_counter_bits",
            ),
            (LayoutSpec { attempts: Some(17), ..spec(Profile::One, "0..4") }, "attempts"),
            (LayoutSpec { max_increment: Some(-1), ..spec(Profile::One, "0..4") }, "max_increment"),
            (
                LayoutSpec {
                    freshness_bits: Some(8),
                    mac_bits: Some(24),
                    freshness_value_bits: Some(65),
                    ..spec(Profile::Custom, "0..4")
                },
                "freshness_value_bits",
            ),
        ];
        for (spec, field) in cases {
            let error = spec.build().unwrap_err();
            assert_eq!(error.field(), field, "{error}");
            assert!(error.to_string().contains(field), "{error}");
        }
    }

    #[test]
    fn profile_three_counters() {
        let mut s = spec(Profile::Three, "0..4");
        s.sync_data_id = Some(0x10);
        let profile = s.build().unwrap();
        let FreshnessScheme::TripReset(counters) = profile.scheme() else { panic!("profile 3") };
        assert_eq!((counters.trip_bits(), counters.reset_bits(), counters.sync_data_id()), (16, 20, 0x10));
    }
}
