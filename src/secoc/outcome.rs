//! What verifying one frame can end in: a [`Verified`] proof or a [`Rejection`].
//!
//! Design: the engine's forward path for secured ids takes a `&Verified` (or a
//! `Verified`), and the only way to get one is a successful verification by
//! this module (its constructor is private to `secoc`, its fields are private,
//! and it implements neither `Clone` nor `Default`). Forgetting to verify a
//! frame therefore does not compile, and the proof carries the very frame that
//! was checked, so a different frame cannot be forwarded under it. This is the
//! "proof type" habit of rustls.
//!
//! The rejections follow AUTOSAR's `SecOC_VerificationResultType` (see
//! [`Rejection::autosar_result`]) with the reasons spelled out, because a
//! firewall needs to tell a forgery ([`Rejection::MacFailure`]) from a replay of
//! an authentic frame ([`FreshnessFailure::Replay`]) in its events.

use std::fmt;

use thiserror::Error;

use super::layout::ByteRange;
use crate::frame::{CanId, Frame, FrameKind};

/// Proof that a frame passed SecOC verification: authentic under the right key
/// and strictly fresher than every frame accepted before for its id.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    frame: Frame,
    data_id: u16,
    freshness: u64,
    payload: ByteRange,
}

impl Verified {
    /// Only the verifiers of this module create proofs.
    pub(super) fn new(frame: Frame, data_id: u16, freshness: u64, payload: ByteRange) -> Verified {
        Verified { frame, data_id, freshness, payload }
    }

    /// The verified frame, exactly as received.
    pub const fn frame(&self) -> &Frame {
        &self.frame
    }

    /// The frame's CAN id.
    pub const fn id(&self) -> CanId {
        self.frame.id()
    }

    /// The SecOC DataId the frame was authenticated under.
    pub const fn data_id(&self) -> u16 {
        self.data_id
    }

    /// The full freshness value the frame was verified with (0 for profile 2).
    pub const fn freshness(&self) -> u64 {
        self.freshness
    }

    /// The authentic payload: the bytes the MAC covers (the frame may carry
    /// other, unauthenticated bytes outside it).
    pub fn authentic_payload(&self) -> &[u8] {
        self.frame.data().get(self.payload.offset()..self.payload.end()).unwrap_or(&[])
    }

    /// Gives up the proof for the frame.
    pub fn into_frame(self) -> Frame {
        self.frame
    }
}

/// Why a frame that passed the MAC check (or whose counters say it cannot be
/// current) is still not fresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FreshnessFailure {
    /// An authentic frame with the same freshness value as the latest accepted one: a replay.
    Replay,
    /// An authentic frame with a freshness value below the latest accepted one
    /// (an old frame replayed, or frames from before an unclean restart whose
    /// reserved mark they do not pass).
    TooOld,
    /// An authentic frame further ahead of the latest accepted value than the acceptance window allows.
    OutOfWindow,
    /// Profile 3: the frame's reset flag (or the counters it implies) does not
    /// match the trip and reset counters of the last synchronisation message,
    /// or a synchronisation message is not newer than the last one.
    CounterMismatch,
    /// The freshness value lies beyond the mark reserved in durable storage; the
    /// frame is refused until the pending reservation has been persisted.
    NotYetPersisted,
    /// The counter reached the largest value its length allows.
    CounterExhausted,
}

impl FreshnessFailure {
    /// A short name for reports and drop reasons.
    pub const fn name(self) -> &'static str {
        match self {
            FreshnessFailure::Replay => "replay",
            FreshnessFailure::TooOld => "too-old",
            FreshnessFailure::OutOfWindow => "out-of-window",
            FreshnessFailure::CounterMismatch => "counter-mismatch",
            FreshnessFailure::NotYetPersisted => "not-yet-persisted",
            FreshnessFailure::CounterExhausted => "counter-exhausted",
        }
    }
}

impl fmt::Display for FreshnessFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a frame of a secured id was not verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum Rejection {
    /// No SecOC receiver is configured for the frame's id.
    #[error("no SecOC receiver is configured for id {id}")]
    UnknownId {
        /// The frame's id.
        id: CanId,
    },
    /// Remote and error frames carry no authenticator.
    #[error("a {} frame carries no SecOC authenticator", kind.name())]
    NotDataFrame {
        /// The frame's kind.
        kind: FrameKind,
    },
    /// The frame is shorter than the secured layout.
    #[error("the frame has {got} bytes, the secured layout needs {expected}")]
    FrameTooShort {
        /// The layout's frame length.
        expected: usize,
        /// The frame's length.
        got: usize,
    },
    /// The frame is longer than the secured layout (bytes nobody authenticated).
    #[error("the frame has {got} bytes, the secured layout has {expected}")]
    FrameTooLong {
        /// The layout's frame length.
        expected: usize,
        /// The frame's length.
        got: usize,
    },
    /// No key is installed for the id.
    #[error("no key is installed for this id")]
    NoKey,
    /// Profile 3: no trip/reset synchronisation message has been accepted yet.
    #[error("no trip/reset counter synchronisation message has been received yet")]
    SyncMissing,
    /// The MAC does not match under any freshness value the receiver may accept: a forgery,
    /// a corrupted frame, a frame for another DataId or key, or a counter that drifted too far.
    #[error("the MAC does not match")]
    MacFailure,
    /// The frame is authentic (or its counters cannot be current) but not fresh.
    #[error("freshness failure: {0}")]
    FreshnessFailure(FreshnessFailure),
}

/// AUTOSAR's `SecOC_VerificationResultType` values a [`Rejection`] corresponds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AutosarResult {
    /// `SECOC_VERIFICATIONFAILURE`: the authenticator does not match.
    VerificationFailure,
    /// `SECOC_FRESHNESSFAILURE`: no acceptable freshness value.
    FreshnessFailure,
    /// `SECOC_AUTHENTICATIONBUILDFAILURE`: the authenticator could not be computed (no key).
    AuthenticationBuildFailure,
    /// `SECOC_NO_VERIFICATION`: the frame was discarded before any verification (malformed or unknown).
    NoVerification,
}

impl Rejection {
    /// The AUTOSAR verification result this rejection corresponds to.
    pub const fn autosar_result(&self) -> AutosarResult {
        match self {
            Rejection::MacFailure => AutosarResult::VerificationFailure,
            Rejection::FreshnessFailure(_) | Rejection::SyncMissing => AutosarResult::FreshnessFailure,
            Rejection::NoKey => AutosarResult::AuthenticationBuildFailure,
            Rejection::UnknownId { .. }
            | Rejection::NotDataFrame { .. }
            | Rejection::FrameTooShort { .. }
            | Rejection::FrameTooLong { .. } => AutosarResult::NoVerification,
        }
    }

    /// A short stable name for drop reasons and counters (`"mac"`, `"replay"`, ...).
    pub const fn name(&self) -> &'static str {
        match self {
            Rejection::UnknownId { .. } => "unknown-id",
            Rejection::NotDataFrame { .. } => "not-data-frame",
            Rejection::FrameTooShort { .. } => "frame-too-short",
            Rejection::FrameTooLong { .. } => "frame-too-long",
            Rejection::NoKey => "no-key",
            Rejection::SyncMissing => "sync-missing",
            Rejection::MacFailure => "mac",
            Rejection::FreshnessFailure(why) => why.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_exposes_the_authentic_payload_only() {
        let frame = Frame::classic(CanId::standard(0x10).unwrap(), &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        let range = crate::secoc::SecuredLayout::for_profile(crate::secoc::Profile::One, 9, 3).unwrap().payload();
        let proof = Verified::new(frame, 9, 77, range);
        assert_eq!(proof.authentic_payload(), &[1, 2, 3]);
        assert_eq!((proof.id(), proof.data_id(), proof.freshness()), (frame.id(), 9, 77));
        assert_eq!(proof.frame(), &frame);
        assert_eq!(proof.into_frame(), frame);
    }

    #[test]
    fn rejections_map_to_autosar_results_and_names() {
        let all = [
            (Rejection::MacFailure, AutosarResult::VerificationFailure, "mac"),
            (Rejection::FreshnessFailure(FreshnessFailure::Replay), AutosarResult::FreshnessFailure, "replay"),
            (Rejection::SyncMissing, AutosarResult::FreshnessFailure, "sync-missing"),
            (Rejection::NoKey, AutosarResult::AuthenticationBuildFailure, "no-key"),
            (Rejection::FrameTooShort { expected: 8, got: 2 }, AutosarResult::NoVerification, "frame-too-short"),
            (Rejection::NotDataFrame { kind: FrameKind::Remote }, AutosarResult::NoVerification, "not-data-frame"),
        ];
        for (rejection, result, name) in all {
            assert_eq!(rejection.autosar_result(), result);
            assert_eq!(rejection.name(), name);
            assert!(!rejection.to_string().is_empty());
        }
        assert_eq!(
            Rejection::FreshnessFailure(FreshnessFailure::OutOfWindow).to_string(),
            "freshness failure: out-of-window"
        );
    }
}
