//! Why a received datagram was dropped, and the counters of those drops.
//!
//! A [`DropReason`] is for counting and local logs only: the receiver never
//! answers a datagram, so nothing here can become an oracle for the sender.
//! The reasons are listed in the order the receiver checks them.
//!
//! Invariant: [`DropReason::ALL`] lists every reason once, and
//! [`DropReason::index`] is its position there, so counters are a plain array.

use std::fmt;

use thiserror::Error;

use super::window::ReplayError;
use super::wire::HeaderError;

/// Why the receiver dropped a datagram (silently: nothing is sent back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum DropReason {
    /// Larger than [`MAX_DATAGRAM_LEN`](super::wire::MAX_DATAGRAM_LEN).
    #[error("datagram too large")]
    TooLarge,
    /// Shorter than [`MIN_DATAGRAM_LEN`](super::wire::MIN_DATAGRAM_LEN) (header, one empty record, tag).
    #[error("datagram too short")]
    TooShort,
    /// The first four bytes are not `BHLK`.
    #[error("bad magic")]
    BadMagic,
    /// The version byte is not 1.
    #[error("unsupported protocol version")]
    UnsupportedVersion,
    /// The suite byte names no known suite.
    #[error("unknown cipher suite")]
    UnknownSuite,
    /// No key has the header's key id.
    #[error("unknown key id")]
    UnknownKeyId,
    /// The key id names a revoked key.
    #[error("revoked key")]
    RevokedKey,
    /// The header's suite is not the one the key is bound to.
    #[error("suite does not match the key")]
    SuiteMismatch,
    /// The packet number was already accepted (inside the replay window).
    #[error("replayed packet number")]
    Replayed,
    /// The packet number is below the replay window.
    #[error("packet number below the replay window")]
    TooOld,
    /// The tag does not verify: forged, corrupted, or sealed with another key.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// Authentic, but the decrypted body is not a valid list of frame records.
    /// The packet number is consumed all the same.
    #[error("malformed body")]
    MalformedBody,
}

impl DropReason {
    /// Every reason, in the order the receiver checks them.
    pub const ALL: [DropReason; 12] = [
        DropReason::TooLarge,
        DropReason::TooShort,
        DropReason::BadMagic,
        DropReason::UnsupportedVersion,
        DropReason::UnknownSuite,
        DropReason::UnknownKeyId,
        DropReason::RevokedKey,
        DropReason::SuiteMismatch,
        DropReason::Replayed,
        DropReason::TooOld,
        DropReason::AuthenticationFailed,
        DropReason::MalformedBody,
    ];

    /// The reason's position in [`DropReason::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// A stable snake_case name for metrics and JSON (also used in `docs/link.md`).
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::TooLarge => "too_large",
            DropReason::TooShort => "too_short",
            DropReason::BadMagic => "bad_magic",
            DropReason::UnsupportedVersion => "unsupported_version",
            DropReason::UnknownSuite => "unknown_suite",
            DropReason::UnknownKeyId => "unknown_key_id",
            DropReason::RevokedKey => "revoked_key",
            DropReason::SuiteMismatch => "suite_mismatch",
            DropReason::Replayed => "replayed",
            DropReason::TooOld => "too_old",
            DropReason::AuthenticationFailed => "authentication_failed",
            DropReason::MalformedBody => "malformed_body",
        }
    }
}

impl From<HeaderError> for DropReason {
    fn from(error: HeaderError) -> Self {
        match error {
            HeaderError::TooLarge { .. } => DropReason::TooLarge,
            HeaderError::TooShort { .. } => DropReason::TooShort,
            HeaderError::BadMagic => DropReason::BadMagic,
            HeaderError::UnsupportedVersion { .. } => DropReason::UnsupportedVersion,
            HeaderError::UnknownSuite { .. } => DropReason::UnknownSuite,
        }
    }
}

impl From<ReplayError> for DropReason {
    fn from(error: ReplayError) -> Self {
        match error {
            ReplayError::Replayed { .. } => DropReason::Replayed,
            ReplayError::TooOld { .. } => DropReason::TooOld,
        }
    }
}

/// What a receiver has accepted and dropped since it was created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    /// Datagrams accepted.
    pub accepted_datagrams: u64,
    /// Frames in the accepted datagrams.
    pub accepted_frames: u64,
    dropped: [u64; DropReason::ALL.len()],
}

impl LinkCounters {
    /// Datagrams dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped.get(reason.index()).copied().unwrap_or(0)
    }

    /// Datagrams dropped for any reason.
    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }

    /// Every reason with its count (zeros included), in [`DropReason::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL.into_iter().zip(self.dropped.iter().copied())
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        if let Some(count) = self.dropped.get_mut(reason.index()) {
            *count = count.saturating_add(1);
        }
    }

    pub(crate) fn count_accept(&mut self, frames: usize) {
        self.accepted_datagrams = self.accepted_datagrams.saturating_add(1);
        self.accepted_frames = self.accepted_frames.saturating_add(frames as u64);
    }
}

impl fmt::Display for LinkCounters {
    /// One line: `accepted 3 (7 frames); dropped: replayed 2, authentication_failed 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "accepted {} ({} frames); dropped:", self.accepted_datagrams, self.accepted_frames)?;
        let mut any = false;
        for (reason, count) in self.iter().filter(|&(_, count)| count > 0) {
            write!(f, "{} {} {count}", if any { "," } else { "" }, reason.name())?;
            any = true;
        }
        if !any {
            f.write_str(" none")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_indexed_in_order() {
        for (position, reason) in DropReason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), position);
        }
    }

    #[test]
    fn counters_count_and_print() {
        let mut counters = LinkCounters::default();
        assert_eq!(counters.to_string(), "accepted 0 (0 frames); dropped: none");
        counters.count_accept(3);
        counters.count_drop(DropReason::Replayed);
        counters.count_drop(DropReason::Replayed);
        counters.count_drop(DropReason::TooLarge);
        assert_eq!(counters.dropped(DropReason::Replayed), 2);
        assert_eq!(counters.total_dropped(), 3);
        assert_eq!(counters.to_string(), "accepted 1 (3 frames); dropped: too_large 1, replayed 2");
    }
}
