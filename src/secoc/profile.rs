//! Everything that describes one secured id: its layout, how its freshness
//! value is managed, and how far a receiver may let it jump.
//!
//! A [`SecOcProfile`] is consistent by construction: a layout without a
//! freshness value goes only with [`FreshnessScheme::None`], a layout with one
//! with a counter scheme, and a [`TripResetLayout`] always matches the layout
//! it was built from.

use super::layout::{LayoutError, Profile, SecuredLayout};
use super::trip_reset::TripResetLayout;

/// How the full freshness value of an id is produced and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FreshnessScheme {
    /// No freshness value (profile 2): the MAC alone is checked; a replayed
    /// frame is accepted again.
    None,
    /// One counter per id, incremented by the sender for every frame (profile 1,
    /// custom CAN FD layouts).
    Counter,
    /// Profile 3: trip, reset and message counters kept in step by synchronisation messages.
    TripReset(TripResetLayout),
}

/// How far ahead of the latest accepted value a receiver accepts, and how many
/// extra freshness candidates it tries when the first one's MAC fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Acceptance {
    /// The largest accepted increase of the freshness value over the latest
    /// accepted one (for profile 3: of the message counter within one reset cycle).
    pub max_increment: u64,
    /// Extra candidates after the first, each one more wrap of the truncated
    /// counter (AUTOSAR's verify attempts): with an 8-bit truncated value and
    /// 1 attempt, up to 511 lost frames are bridged.
    pub attempts: u8,
}

/// The most extra candidates a receiver may be configured to try per frame
/// (each costs one AES-CMAC on every forged frame).
pub const MAX_ATTEMPTS: u8 = 16;

impl Default for Acceptance {
    /// One extra attempt and a window of 512 values.
    fn default() -> Acceptance {
        Acceptance { max_increment: 512, attempts: 1 }
    }
}

/// One secured id: layout, freshness scheme and acceptance window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SecOcProfile {
    layout: SecuredLayout,
    scheme: FreshnessScheme,
    acceptance: Acceptance,
}

impl SecOcProfile {
    /// Profile 1: 24-bit MAC, 8 bits of a 64-bit counter, packed after `payload_len` payload bytes.
    pub fn profile1(data_id: u16, payload_len: usize) -> Result<SecOcProfile, LayoutError> {
        SecOcProfile::counter(SecuredLayout::for_profile(Profile::One, data_id, payload_len)?)
    }

    /// Profile 2: 24-bit MAC, no freshness value.
    pub fn profile2(data_id: u16, payload_len: usize) -> Result<SecOcProfile, LayoutError> {
        SecOcProfile::without_freshness(SecuredLayout::for_profile(Profile::Two, data_id, payload_len)?)
    }

    /// Profile 3 with the default counter lengths ([`TripResetLayout::jaspar`]),
    /// driven by the synchronisation message with DataId `sync_data_id`.
    pub fn profile3(data_id: u16, payload_len: usize, sync_data_id: u16) -> Result<SecOcProfile, LayoutError> {
        let layout = SecuredLayout::for_profile(Profile::Three, data_id, payload_len)?;
        SecOcProfile::trip_reset(layout, TripResetLayout::jaspar(sync_data_id, &layout)?)
    }

    /// A layout with a single freshness counter.
    pub fn counter(layout: SecuredLayout) -> Result<SecOcProfile, LayoutError> {
        if layout.freshness_value_bits() == 0 {
            return Err(LayoutError::SchemeNeedsFreshness);
        }
        Ok(SecOcProfile { layout, scheme: FreshnessScheme::Counter, acceptance: Acceptance::default() })
    }

    /// A layout without freshness value (MAC only).
    pub fn without_freshness(layout: SecuredLayout) -> Result<SecOcProfile, LayoutError> {
        if layout.freshness_value_bits() != 0 {
            return Err(LayoutError::SchemeHasNoFreshness { bits: layout.freshness_value_bits() });
        }
        Ok(SecOcProfile { layout, scheme: FreshnessScheme::None, acceptance: Acceptance::default() })
    }

    /// A layout whose freshness value is made of trip, reset and message counters.
    pub fn trip_reset(layout: SecuredLayout, counters: TripResetLayout) -> Result<SecOcProfile, LayoutError> {
        let rebuilt = TripResetLayout::new(
            counters.sync_data_id(),
            counters.trip_bits(),
            counters.reset_bits(),
            counters.reset_flag_bits(),
            &layout,
        )?;
        if rebuilt != counters {
            return Err(LayoutError::CountersDoNotMatchLayout);
        }
        Ok(SecOcProfile { layout, scheme: FreshnessScheme::TripReset(counters), acceptance: Acceptance::default() })
    }

    /// The same profile with another acceptance window.
    pub const fn with_acceptance(mut self, acceptance: Acceptance) -> SecOcProfile {
        self.acceptance = acceptance;
        self
    }

    /// The layout.
    pub const fn layout(&self) -> &SecuredLayout {
        &self.layout
    }

    /// The freshness scheme.
    pub const fn scheme(&self) -> &FreshnessScheme {
        &self.scheme
    }

    /// The acceptance window.
    pub const fn acceptance(&self) -> Acceptance {
        self.acceptance
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::LayoutParams;

    #[test]
    fn presets() {
        let one = SecOcProfile::profile1(0x140, 4).unwrap();
        assert_eq!(one.scheme(), &FreshnessScheme::Counter);
        assert_eq!(one.layout().frame_len(), 8);
        assert_eq!(one.acceptance(), Acceptance::default());
        let two = SecOcProfile::profile2(0x140, 5).unwrap();
        assert_eq!(two.scheme(), &FreshnessScheme::None);
        let three = SecOcProfile::profile3(0x140, 4, 0x10).unwrap();
        let FreshnessScheme::TripReset(counters) = three.scheme() else { panic!("profile 3 has trip/reset counters") };
        assert_eq!(counters.sync_data_id(), 0x10);
        let narrow = one.with_acceptance(Acceptance { max_increment: 3, attempts: 0 });
        assert_eq!(narrow.acceptance().max_increment, 3);
    }

    #[test]
    fn scheme_and_layout_must_agree() {
        let two = SecuredLayout::for_profile(Profile::Two, 1, 5).unwrap();
        assert_eq!(SecOcProfile::counter(two), Err(LayoutError::SchemeNeedsFreshness));
        let one = SecuredLayout::for_profile(Profile::One, 1, 4).unwrap();
        assert_eq!(SecOcProfile::without_freshness(one), Err(LayoutError::SchemeHasNoFreshness { bits: 64 }));
        let three = SecuredLayout::for_profile(Profile::Three, 1, 4).unwrap();
        let counters = TripResetLayout::jaspar(9, &three).unwrap();
        let other = SecuredLayout::new(LayoutParams::packed(1, 4, 4, 60, 28)).unwrap();
        assert_eq!(SecOcProfile::trip_reset(other, counters), Err(LayoutError::CountersDoNotMatchLayout));
        assert!(SecOcProfile::trip_reset(three, counters).is_ok());
    }
}
