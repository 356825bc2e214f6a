//! What a [`SecOcManager`](super::SecOcManager) is built from, and why building can fail.

use thiserror::Error;

use super::key::SecOcKey;
use super::profile::SecOcProfile;
use super::store::CounterKey;
use super::trip_reset::TripResetLayout;
use crate::frame::{CanId, FdFlags};

/// Default number of freshness values reserved ahead in durable storage per counter.
pub const DEFAULT_RESERVE_BLOCK: u64 = 4096;

/// A secured id the gateway receives and verifies.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// The CAN id the frames arrive with.
    pub id: CanId,
    /// Layout, freshness scheme and acceptance window.
    pub profile: SecOcProfile,
    /// The verification key (none yet: frames are rejected with `NoKey`).
    pub key: Option<SecOcKey>,
}

/// A secured id the gateway sends (its own frames, or re-authenticated ones).
#[derive(Clone, Debug)]
pub struct SenderConfig {
    /// The CAN id of the frames sent.
    pub id: CanId,
    /// Layout and freshness scheme.
    pub profile: SecOcProfile,
    /// The authentication key (none yet: sending fails with `NoKey`).
    pub key: Option<SecOcKey>,
    /// Send CAN FD frames with these flags; `None` sends classic CAN frames
    /// (layouts up to 8 bytes only).
    pub fd: Option<FdFlags>,
}

/// A profile 3 synchronisation message the gateway receives.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// The CAN id of the synchronisation frames.
    pub id: CanId,
    /// The counter structure of the group (its sync DataId is the message's DataId).
    pub counters: TripResetLayout,
    /// Bits of MAC in the synchronisation frame.
    pub mac_bits: u32,
    /// The verification key.
    pub key: Option<SecOcKey>,
}

/// Everything a [`SecOcManager`](super::SecOcManager) manages.
#[derive(Clone, Debug)]
pub struct ManagerConfig {
    /// Received secured ids.
    pub receivers: Vec<ReceiverConfig>,
    /// Sent secured ids.
    pub senders: Vec<SenderConfig>,
    /// Received synchronisation messages (profile 3).
    pub syncs: Vec<SyncConfig>,
    /// Freshness values reserved ahead in durable storage per single counter:
    /// a write every `block / 2` values per id; after an unclean restart a
    /// receiver refuses up to `block` values of an id. Senders use at most
    /// `2^truncated_bits - 1` (255 for profile 1), the most they may skip after
    /// an unclean restart for receivers to follow. Profile 3 counters reserve
    /// whole reset cycles instead.
    pub reserve_block: u64,
}

impl Default for ManagerConfig {
    fn default() -> ManagerConfig {
        ManagerConfig {
            receivers: Vec::new(),
            senders: Vec::new(),
            syncs: Vec::new(),
            reserve_block: DEFAULT_RESERVE_BLOCK,
        }
    }
}

/// Where a key goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySlot {
    /// The key verifying frames (data or synchronisation) received with this id.
    Receive(CanId),
    /// The key authenticating frames sent with this id.
    Send(CanId),
}

/// Why a [`ManagerConfig`] (with the stored snapshot) cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// Two receivers (data or synchronisation) share a CAN id.
    #[error("CAN id {id} is configured twice for receiving")]
    DuplicateReceiveId {
        /// The id.
        id: CanId,
    },
    /// Two senders share a CAN id.
    #[error("CAN id {id} is configured twice for sending")]
    DuplicateSendId {
        /// The id.
        id: CanId,
    },
    /// Two counters would be stored under the same key (a DataId used twice in one direction).
    #[error("two secured ids share the counter `{key}` (DataIds must be unique per direction)")]
    DuplicateCounter {
        /// The shared key.
        key: CounterKey,
    },
    /// A profile 3 id refers to a synchronisation message that is not configured.
    #[error("id {id} uses trip/reset counters of sync DataId 0x{sync_data_id:04X}, which has no SyncConfig")]
    MissingSyncGroup {
        /// The profile 3 id.
        id: CanId,
        /// The sync DataId it refers to.
        sync_data_id: u16,
    },
    /// A profile 3 id's counter lengths differ from its synchronisation message's.
    #[error("id {id} and its sync message 0x{sync_data_id:04X} disagree on trip/reset counter lengths")]
    SyncCountersMismatch {
        /// The profile 3 id.
        id: CanId,
        /// The sync DataId.
        sync_data_id: u16,
    },
    /// A synchronisation message layout cannot be built.
    #[error("sync message {id}: {source}")]
    SyncLayout {
        /// The sync message's id.
        id: CanId,
        /// Why.
        source: super::layout::LayoutError,
    },
    /// A layout longer than 8 bytes cannot be sent as classic CAN.
    #[error("id {id} has a {frame_len}-byte layout and must be sent as CAN FD")]
    SenderNeedsFd {
        /// The sender's id.
        id: CanId,
        /// Its frame length.
        frame_len: usize,
    },
    /// Too many verify attempts per frame.
    #[error("id {id} asks for {attempts} verify attempts, at most {max} are allowed")]
    TooManyAttempts {
        /// The receiver's id.
        id: CanId,
        /// Attempts asked for.
        attempts: u8,
        /// The limit.
        max: u8,
    },
    /// The reservation block must leave room for the acceptance window, or
    /// frames inside the window would wait for storage.
    #[error(
        "reserve block {block} is too small for id {id}: half a block must cover its acceptance window \
         ({span} freshness values)"
    )]
    ReserveBlockTooSmall {
        /// The block.
        block: u64,
        /// The receiver whose window does not fit.
        id: CanId,
        /// Freshness values its window spans.
        span: u64,
    },
    /// A stored mark is larger than the counter can hold (the layout shrank since it was written).
    #[error("stored mark {mark} of `{key}` does not fit in its {bits}-bit freshness value")]
    StoredMarkTooLarge {
        /// The counter.
        key: CounterKey,
        /// The stored mark.
        mark: u64,
        /// The counter's length.
        bits: u32,
    },
    /// No receiver or sender has this id.
    #[error("no SecOC {direction} is configured for id {id}")]
    UnknownId {
        /// The id.
        id: CanId,
        /// `receiver` or `sender`.
        direction: &'static str,
    },
}
